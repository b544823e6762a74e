//! Prometheus metrics: `GET /metrics` on a listen address of its own
//! (`CONTACTS_METRICS_ADDR`), never on the public router, since what a server is doing is
//! for its operators only. Requests are counted by route and status with latency
//! histograms; imports queued and running, rows imported, database connections in use
//! and sign-in refusals are there too. Without the setting nothing is recorded (the
//! `metrics` macros go to no recorder).

use crate::db;
use crate::server::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Instant;

/// Request latency buckets, in seconds: pages answer in milliseconds, uploads in minutes.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0,
];

/// The process's recorder (one per process: the `metrics` macros write to a global).
pub fn handle() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("http_request_duration_seconds".into()),
                &LATENCY_BUCKETS,
            )
            .expect("latency buckets are not empty")
            .install_recorder()
            .expect("the metrics recorder is installed once")
    })
}

/// Counts a request and times it, by method, route (the route's pattern, so ids do not
/// make a series each; `unmatched` for static files and unknown paths) and status.
pub async fn track(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or("unmatched", |path| path.as_str())
        .to_owned();
    let response = next.run(request).await;
    let status = response.status().as_u16().to_string();
    let labels = [
        ("method", method.to_owned()),
        ("route", route),
        ("status", status),
    ];
    metrics::counter!("http_requests_total", &labels).increment(1);
    metrics::histogram!("http_request_duration_seconds", &labels[..2])
        .record(started.elapsed().as_secs_f64());
    response
}

/// A request method as a label: the standard ones by name, anything else `other`. A
/// client may send any token as its method, and each would otherwise be a series of its
/// own kept for the life of the process.
fn method_label(method: &http::Method) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

/// Rows an import committed.
pub fn rows_imported(rows: u64) {
    metrics::counter!("contacts_import_rows_total").increment(rows);
}

/// A sign-in refused by the throttle, by the limit it ran into (`address`, `account`).
pub fn sign_in_refused(limit: &'static str) {
    metrics::counter!("contacts_sign_in_refusals_total", "limit" => limit).increment(1);
}

/// The metrics listener's router: `GET /metrics` and nothing else.
pub fn router(state: AppState) -> axum::Router {
    axum::Router::new()
        .route("/metrics", get(render))
        .with_state(state)
}

/// The text format, with the gauges read now: the install's imports queued and
/// running (from the database, so every server reports the same) and this server's
/// database connections.
async fn render(State(state): State<AppState>) -> Response {
    // One scrape at a time: the gauges are the process's, set and rendered together.
    static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    let _turn = ONE_AT_A_TIME.lock().await;
    let handle = handle();
    // On an error (logged by AppError) the other metrics are still worth answering with.
    if let Ok((queued, running)) = db::imports::queue_counts(&state.db).await {
        metrics::gauge!("contacts_imports", "status" => "queued").set(queued as f64);
        metrics::gauge!("contacts_imports", "status" => "running").set(running as f64);
    }
    let (size, idle) = state.db.connections();
    let in_use = (size as usize).saturating_sub(idle);
    metrics::gauge!("db_pool_connections", "state" => "in_use").set(in_use as f64);
    metrics::gauge!("db_pool_connections", "state" => "idle").set(idle as f64);
    handle.run_upkeep();
    (
        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::method_label;
    use http::Method;

    #[test]
    fn a_made_up_method_does_not_make_a_series_of_its_own() {
        assert_eq!(method_label(&Method::PATCH), "PATCH");
        let made_up = Method::from_bytes(b"X-RANDOM-7f3a").unwrap();
        assert_eq!(method_label(&made_up), "other");
        // Methods are case-sensitive: "get" is not GET.
        assert_eq!(method_label(&Method::from_bytes(b"get").unwrap()), "other");
    }
}
