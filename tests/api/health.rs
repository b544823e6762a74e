//! The probes an orchestrator asks: `/livez` and `/readyz`, without a session.

use crate::common::{app_with_uploads, send};
use axum::body::Body;
use contacts::db::Db;
use http::{Request, StatusCode};

contacts::db_tests!(the_probes_answer_without_a_session_and_readiness_says_what_is_missing,);

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
