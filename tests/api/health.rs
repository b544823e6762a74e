//! The probes an orchestrator asks (`/livez` and `/readyz`, without a session) and the
//! metrics its Prometheus scrapes (`/metrics`, on a listener of its own).

use crate::common::{app_with_uploads, send};
use axum::body::Body;
use contacts::db::Db;
use http::{Request, StatusCode};

contacts::db_tests!(
    the_probes_answer_without_a_session_and_readiness_says_what_is_missing,
    metrics_are_served_on_their_own_router_only
);

async fn probe(app: &axum::Router, path: &str) -> (StatusCode, String) {
    let request = Request::get(path).body(Body::empty()).unwrap();
    let reply = send(app, request).await;
    (reply.status, reply.body)
}

async fn the_probes_answer_without_a_session_and_readiness_says_what_is_missing(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    std::fs::create_dir_all(&state.config.data_dir).unwrap();
    // Before any workspace exists too: no redirect to the set-up page.
    for path in ["/livez", "/healthz"] {
        assert_eq!(
            probe(&app, path).await,
            (StatusCode::OK, "ok".into()),
            "{path}"
        );
    }
    assert_eq!(
        probe(&app, "/readyz").await,
        (StatusCode::OK, "ready".into())
    );

    // A migration of this binary not applied (or one of a newer release): not ready.
    let newest = "SELECT MAX(version) FROM _sqlx_migrations";
    let version: i64 =
        contacts::on!(&db, pool => sqlx::query_scalar(newest).fetch_one(pool).await).unwrap();
    let hide = "UPDATE _sqlx_migrations SET version = -version WHERE version = $1";
    contacts::on!(&db, pool => sqlx::query(hide).bind(version).execute(pool).await.map(drop))
        .unwrap();
    assert_eq!(
        probe(&app, "/readyz").await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "database migrations pending".into()
        )
    );
    let restore = "UPDATE _sqlx_migrations SET version = -version WHERE version = $1";
    contacts::on!(&db, pool => sqlx::query(restore).bind(-version).execute(pool).await.map(drop))
        .unwrap();
    assert_eq!(probe(&app, "/readyz").await.0, StatusCode::OK);

    // The data folder gone: not ready.
    std::fs::remove_dir_all(&state.config.data_dir).unwrap();
    assert_eq!(
        probe(&app, "/readyz").await,
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "upload store unreachable".into()
        )
    );
    std::fs::create_dir_all(&state.config.data_dir).unwrap();

    // Draining (after a SIGTERM): not ready at once, though still alive.
    state.drain.cancel();
    assert_eq!(
        probe(&app, "/readyz").await,
        (StatusCode::SERVICE_UNAVAILABLE, "draining".into())
    );
    assert_eq!(probe(&app, "/livez").await.0, StatusCode::OK);
}

/// Requests by route and status with latencies, sign-in refusals, rows imported and the
/// gauges, in the Prometheus text format, from the metrics router; the public router
/// has no `/metrics`. (The recorder is the process's: counts include other tests'.)
async fn metrics_are_served_on_their_own_router_only(db: Db) {
    contacts::server::metrics::handle();
    let (app, state) = app_with_uploads(db.clone(), 1);
    let cookie = crate::common::set_up(&app, "boss@acme.test").await;
    let (status, body) = probe(&app, "/metrics").await;
    assert_ne!(status, StatusCode::OK);
    assert!(!body.contains("http_requests_total"));
    probe(&app, "/livez").await;
    for _ in 0..contacts::server::throttle::FREE_PER_ADDRESS + 2 {
        crate::common::call(
            &app,
            "sign_in",
            &[("email", "boss@acme.test"), ("password", "a wrong guess")],
            None,
        )
        .await;
    }
    let file = "First Name,Last Name,Mobile\r\nAnn,Lee,+65 8123 4567\r\n";
    let options = crate::imports::options(None, false);
    let reply = crate::imports::upload(&app, &cookie, &options, "a.csv", file.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let scrape = || async {
        let metrics = contacts::server::metrics::router(state.clone());
        probe(&metrics, "/metrics").await
    };
    let (status, text) = scrape().await;
    assert_eq!(status, StatusCode::OK);
    let has = |text: &str, parts: &[&str]| {
        text.lines()
            .any(|line| parts.iter().all(|part| line.contains(part)))
    };
    let livez = [
        "http_requests_total{",
        "method=\"GET\"",
        "route=\"/livez\"",
        "status=\"200\"",
    ];
    assert!(has(&text, &livez), "{text}");
    let latency = [
        "http_request_duration_seconds_bucket{",
        "route=\"/livez\"",
        "le=\"0.005\"",
    ];
    assert!(has(&text, &latency), "{text}");
    assert!(
        has(&text, &["http_requests_total{", "route=\"unmatched\""]),
        "{text}"
    );
    let refused = ["contacts_sign_in_refusals_total{", "limit=\"address\""];
    assert!(has(&text, &refused), "{text}");
    assert!(
        has(&text, &["contacts_imports{", "status=\"queued\"", "} 1"]),
        "{text}"
    );
    assert!(
        has(&text, &["db_pool_connections{", "state=\"idle\""]),
        "{text}"
    );

    assert_eq!(
        contacts::server::importer::run_queued(&state)
            .await
            .unwrap(),
        1
    );
    let (_, text) = scrape().await;
    assert!(
        has(&text, &["contacts_imports{", "status=\"queued\"", "} 0"]),
        "{text}"
    );
    assert!(has(&text, &["contacts_import_rows_total "]), "{text}");
}
