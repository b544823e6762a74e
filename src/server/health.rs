//! Probes for an orchestrator or a load balancer, answered without a session and cheaply:
//! `/livez` (the process answers) and `/readyz` (it can serve: the database answers with
//! this binary's migrations applied, the data folder uploads are written to is there, and
//! the server is not draining after a SIGTERM). `/healthz` is `/livez` by its older name.

use crate::server::state::AppState;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// The probes' paths: no session is asked for, and no page redirect applies.
pub const PROBES: [&str; 3] = ["/healthz", "/livez", "/readyz"];

/// The process answers.
pub async fn livez() -> &'static str {
    "ok"
}

/// 200 `ready`, or 503 with what is missing, in a few words (never an error's text).
pub async fn readyz(State(state): State<AppState>) -> Response {
    match not_ready(&state).await {
        None => (StatusCode::OK, "ready").into_response(),
        Some(why) => (StatusCode::SERVICE_UNAVAILABLE, why).into_response(),
    }
}

async fn not_ready(state: &AppState) -> Option<&'static str> {
    if state.drain.is_cancelled() {
        return Some("draining");
    }
    match state.db.schema_is_current().await {
        Ok(true) => {}
        Ok(false) => return Some("database migrations pending"),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the database did not answer");
            return Some("database unreachable");
        }
    }
    if !state.config.uploads.reachable().await {
        return Some("upload store unreachable");
    }
    None
}
