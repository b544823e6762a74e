//! This server among the others on its database: it says every few seconds that it is
//! alive, and shares the install's per-key limits out by the number alive (see
//! [`crate::db::app_servers`]). A stopping server leaves at once, so the others take
//! its share at their next beat.

use crate::db;
use crate::error::AppError;
use crate::server::state::AppState;
use std::time::Duration;

/// How often a server says it is alive (well within [`db::app_servers::GONE_AFTER`]).
pub const BEAT: Duration = Duration::from_secs(5);

/// One beat of server `id`: it is alive, and its share of the limits follows the count.
pub async fn beat(state: &AppState, id: &str) -> Result<(), AppError> {
    let alive = db::app_servers::heartbeat(&state.db, id).await?;
    state.api_rate.share(alive);
    Ok(())
}

/// Beats until the server drains, then leaves.
pub fn spawn(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let id = format!("{:016x}", rand::random::<u64>());
        let mut every = tokio::time::interval(BEAT);
        loop {
            tokio::select! {
                _ = every.tick() => {}
                () = state.drain.cancelled() => break,
            }
            // Logged by AppError; the share stays as it was until the next beat.
            let _ = beat(&state, &id).await;
        }
        let _ = db::app_servers::leave(&state.db, &id).await;
    })
}
