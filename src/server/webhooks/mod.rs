//! Signed webhooks: adding an endpoint (its URL guarded, its secret made and shown
//! once), and the worker that sends the outbox's due messages — many at once, a few per
//! endpoint, so one slow endpoint does not hold the others' — and records each attempt.

pub mod guard;
pub mod send;

use crate::db;
use crate::db::webhooks::{Attempt, Outcome};
use crate::error::AppError;
use crate::model::webhook::{NewWebhook, WebhookEvent, check_new_endpoint};
use crate::server::state::AppState;
use base64::Engine;
use std::collections::HashMap;
use std::time::Duration;
use tokio::task::JoinSet;

/// Deliveries in flight at once, in all.
const IN_FLIGHT: usize = 64;

/// Deliveries in flight at once to one endpoint.
const PER_ENDPOINT: usize = 8;

/// A taken message is due again this long after it was taken if its attempt was never
/// recorded (the server died): longer than an attempt can take.
const LEASE: i64 = 2 * send::TIMEOUT.as_secs() as i64;

/// How long the worker waits for more attempts to finish before recording a batch.
const GATHER: Duration = Duration::from_millis(10);

/// How often an idle worker looks for due messages.
const POLL: Duration = Duration::from_millis(500);

/// Adds an endpoint to the workspace: its URL checked (form, length, not inside the
/// network unless `CONTACTS_WEBHOOK_ALLOW_PRIVATE`), its events, and a new secret.
pub async fn create(
    state: &AppState,
    workspace_id: i64,
    url: &str,
    events: &[WebhookEvent],
) -> Result<NewWebhook, AppError> {
    let (url, events) = check_new_endpoint(url, events)?;
    guard::check_url(&url, state.config.webhook_allow_private).await?;
    let secret = format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(rand::random::<[u8; 32]>())
    );
    let endpoint = db::webhooks::create(&state.db, workspace_id, &url, &events, &secret).await?;
    tracing::info!(
        workspace = workspace_id,
        endpoint = endpoint.id,
        "webhook endpoint added"
    );
    Ok(NewWebhook { endpoint, secret })
}

/// One attempt, as a task; a panic in it is a failed attempt (retried), not a lost one.
async fn deliver(client: reqwest::Client, allow_private: bool, due: db::webhooks::Due) -> Attempt {
    use futures::FutureExt;
    let now = db::now();
    let attempt = std::panic::AssertUnwindSafe(send::attempt(&client, allow_private, &due, now));
    let outcome = attempt.catch_unwind().await.unwrap_or_else(|_| {
        tracing::error!(endpoint = due.endpoint_id, "webhook attempt panicked");
        let error = Some("internal error".to_string());
        match send::next_attempt(due.attempts + 1, due.created_at, now, None) {
            Some(at) => Outcome::Retry {
                at,
                status: None,
                error,
            },
            None => Outcome::Failed {
                status: None,
                error,
            },
        }
    });
    Attempt {
        workspace_id: due.workspace_id,
        id: due.id,
        endpoint_id: due.endpoint_id,
        at: now,
        outcome,
    }
}

/// Starts the delivery worker. Once the server drains it takes nothing more, records
/// the deliveries in flight as they end, and stops.
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = send::client(state.config.webhook_allow_private);
        let mut in_flight: JoinSet<Attempt> = JoinSet::new();
        let mut per_endpoint: HashMap<i64, usize> = HashMap::new();
        let mut done: Vec<Attempt> = Vec::new();
        loop {
            // One transaction records what finished and takes what the free slots allow.
            let now = db::now();
            let draining = state.drain.is_cancelled();
            let want = db::webhooks::Want {
                now,
                lease_until: now + LEASE,
                limit: if draining {
                    0
                } else {
                    (IN_FLIGHT - in_flight.len()) as i64
                },
                per_endpoint: PER_ENDPOINT as i64,
                busy: per_endpoint
                    .iter()
                    .flat_map(|(id, n)| std::iter::repeat_n(*id, *n))
                    .collect(),
            };
            match db::webhooks::turn(&state.db, &done, &want).await {
                Ok(due) => {
                    for due in due {
                        *per_endpoint.entry(due.endpoint_id).or_default() += 1;
                        let allow = state.config.webhook_allow_private;
                        in_flight.spawn(deliver(client.clone(), allow, due));
                    }
                }
                // Unrecorded attempts are due again when their lease ends.
                Err(e) => tracing::error!(error = %e, "webhook outbox"),
            }
            done.clear();
            if in_flight.is_empty() {
                if draining {
                    break;
                }
                tokio::select! {
                    () = tokio::time::sleep(POLL) => {}
                    () = state.drain.cancelled() => {}
                }
                continue;
            }
            // Wait for what finishes: at least one (or none within the poll, to look for
            // other endpoints' due messages meanwhile), and all others done by then.
            tokio::select! {
                Some(Ok(attempt)) = in_flight.join_next() => done.push(attempt),
                () = tokio::time::sleep(POLL) => {}
            }
            // Then what finishes within a few milliseconds: one transaction records a
            // batch rather than each attempt its own.
            let gather = tokio::time::Instant::now() + GATHER;
            while done.len() < IN_FLIGHT && !in_flight.is_empty() {
                match tokio::time::timeout_at(gather, in_flight.join_next()).await {
                    Ok(Some(Ok(attempt))) => done.push(attempt),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            for attempt in &done {
                if let Some(n) = per_endpoint.get_mut(&attempt.endpoint_id) {
                    *n -= 1;
                    if *n == 0 {
                        per_endpoint.remove(&attempt.endpoint_id);
                    }
                }
            }
        }
    })
}
