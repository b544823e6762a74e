//! Signed webhooks: adding an endpoint (its URL guarded, its secret made and shown
//! once), and the worker that sends the outbox's due messages — many at once, a few per
//! endpoint, so one slow endpoint does not hold the others' — and records each attempt.

pub mod guard;
mod queue;
pub mod send;

use crate::db;
use crate::db::webhooks::{Attempt, Outcome};
use crate::error::AppError;
use crate::model::webhook::{NewWebhook, WebhookEvent, check_new_endpoint};
use crate::server::state::AppState;
use base64::Engine;
use queue::{Ended, IN_FLIGHT, PER_ENDPOINT, Queue, ROUNDS};
use std::time::Duration;
use tokio::task::JoinSet;

/// Messages waiting in the [`Queue`] (taken, not yet sent) at most, in all: room for an
/// endpoint's rounds stalled behind a delivery that hangs, beside the others' rounds.
const QUEUED: usize = 4 * IN_FLIGHT;

/// More are taken when fewer than this wait (about one round of an endpoint); or, when
/// more wait but fewer could be sent now (the rest are an endpoint's with all its
/// deliveries in flight, perhaps hanging), on a wake or every [`POLL`], as when idle:
/// one endpoint does not hold up the others'.
const LOW_WATER: usize = PER_ENDPOINT;

/// Attempts are recorded when the last turn is this old, or as soon as [`RECORD_BATCH`]
/// have ended.
const TURN_EVERY: Duration = Duration::from_millis(100);

/// The least time from the end of one turn to the start of the next: the worker leaves
/// the database to users' requests in between. At full speed a burst's turns ran back
/// to back and users' saves took two to three times as long while it lasted. With this
/// pause and [`ROUNDS`] of eight, one endpoint still gets over 1,300 deliveries a second
/// and a save's p95 is as when nothing is sent (docs/performance.md).
const TURN_GAP: Duration = Duration::from_millis(40);

/// A turn is due once this many attempts have ended (an endpoint's rounds taken at once).
const RECORD_BATCH: usize = PER_ENDPOINT * ROUNDS;

/// A taken message is due again this long after it was taken if its attempt was never
/// recorded (the server died): room for a wait here and an attempt. One that has waited
/// longer is not sent but given back (see [`Queue::next_to_send`]).
const LEASE: i64 = 2 * send::TIMEOUT.as_secs() as i64;

/// How long the worker waits for more attempts to finish before looking at its queue.
const GATHER: Duration = Duration::from_millis(10);

/// How often an idle worker looks for due messages (retries come due, other servers'
/// messages): this server's writes wake it at once.
const POLL: Duration = Duration::from_millis(500);

/// After a wake, an idle worker looks every [`TURN_GAP`] for this long before going back
/// to [`POLL`]: it is woken from the writing transaction, which may commit a little
/// later.
const LOOK_AGAIN_FOR: Duration = Duration::from_millis(200);

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
async fn deliver(client: reqwest::Client, allow_private: bool, due: db::webhooks::Due) -> Ended {
    use futures::FutureExt;
    let started = tokio::time::Instant::now();
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
    let attempt = Attempt {
        workspace_id: due.workspace_id,
        id: due.id,
        endpoint_id: due.endpoint_id,
        at: now,
        outcome,
    };
    Ended {
        attempt,
        took: started.elapsed(),
    }
}

/// When this server's writes last woke the worker.
#[derive(Default)]
struct Wake {
    /// Not yet answered by a turn.
    pending: bool,
    at: Option<tokio::time::Instant>,
}

impl Wake {
    fn woken(&mut self) {
        self.pending = true;
        self.at = Some(tokio::time::Instant::now());
    }

    /// How long an idle worker waits to look for due messages: shortly after a wake,
    /// as the messages' transaction may not have committed yet.
    fn look_in(&self) -> Duration {
        match self.at {
            Some(at) if at.elapsed() < LOOK_AGAIN_FOR => TURN_GAP,
            _ => POLL,
        }
    }
}

/// Starts the delivery worker. Once the server drains it takes nothing more, gives back
/// what it took but has not started, records the deliveries in flight as they end, and
/// stops.
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = send::client(state.config.webhook_allow_private);
        let allow = state.config.webhook_allow_private;
        let mut in_flight: JoinSet<Ended> = JoinSet::new();
        let mut queue = Queue::default();
        // Attempts ended and not yet recorded; those just ended.
        let mut done: Vec<Attempt> = Vec::new();
        let mut fresh: Vec<Ended> = Vec::new();
        let mut last_turn = tokio::time::Instant::now();
        let mut last_take = last_turn;
        let mut written = db::webhooks::written();
        let mut wake = Wake::default();
        loop {
            let draining = state.drain.is_cancelled();
            // Messages that will not be sent here are given back, due again at once for
            // any server rather than when their lease ends.
            let back = if draining {
                queue.take_all()
            } else {
                queue.take_expired(db::now())
            };
            if let Err(e) = db::webhooks::release(&state.db, &back).await {
                tracing::error!(error = %e, "webhook outbox");
            }
            // One transaction records what finished and takes more: when few wait (or few
            // could be sent now), when a batch of attempts is done, or every so often.
            let stalled =
                queue.sendable() < LOW_WATER && (wake.pending || last_take.elapsed() >= POLL);
            let take = !draining && queue.len() < QUEUED && (queue.len() < LOW_WATER || stalled);
            let record = done.len() >= RECORD_BATCH
                || last_turn.elapsed() >= TURN_EVERY
                || (in_flight.is_empty() && queue.is_empty());
            let wanted = take || (record && !done.is_empty());
            let paced_until = last_turn + TURN_GAP;
            let ready = draining || tokio::time::Instant::now() >= paced_until;
            if wanted && ready {
                let now = db::now();
                let want = db::webhooks::Want {
                    now,
                    lease_until: now + LEASE,
                    limit: if take {
                        (QUEUED - queue.len()) as i64
                    } else {
                        0
                    },
                    per_endpoint: (PER_ENDPOINT * ROUNDS) as i64,
                    // (Asked only when taking: the slow endpoints' turns move on.)
                    held: if take { queue.held() } else { Vec::new() },
                    // A wake is answered only by a turn that takes.
                    woken: take && std::mem::take(&mut wake.pending),
                };
                match db::webhooks::turn(&state.db, &done, &want).await {
                    Ok(due) => {
                        queue.extend(due, want.lease_until);
                        done.clear();
                    }
                    // The transaction was rolled back: the attempts are recorded at the
                    // next turn (or, if the server stops first, due again when their
                    // lease ends).
                    Err(e) => {
                        wake.pending |= want.woken;
                        tracing::error!(error = %e, "webhook outbox");
                    }
                }
                last_turn = tokio::time::Instant::now();
                if take {
                    last_take = last_turn;
                }
            }
            while let Some(due) = queue.next_to_send(db::now()) {
                in_flight.spawn(deliver(client.clone(), allow, due));
            }
            if in_flight.is_empty() {
                if draining {
                    break;
                }
                if wanted && !ready {
                    tokio::time::sleep_until(paced_until).await;
                    continue;
                }
                tokio::select! {
                    () = tokio::time::sleep(wake.look_in()) => {}
                    Ok(()) = written.changed() => wake.woken(),
                    () = state.drain.cancelled() => {}
                }
                continue;
            }
            // Wait for what finishes: at least one (or none within the poll, to look for
            // other endpoints' due messages meanwhile), and all others done by then.
            tokio::select! {
                Some(Ok(ended)) = in_flight.join_next() => fresh.push(ended),
                () = tokio::time::sleep_until(paced_until), if wanted && !ready => {}
                Ok(()) = written.changed() => wake.woken(),
                () = state.drain.cancelled(), if !draining => {}
                () = tokio::time::sleep(POLL) => {}
            }
            // Then what finishes within a few milliseconds.
            let gather = tokio::time::Instant::now() + GATHER;
            while !in_flight.is_empty() {
                match tokio::time::timeout_at(gather, in_flight.join_next()).await {
                    Ok(Some(Ok(ended))) => fresh.push(ended),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            for ended in fresh.drain(..) {
                queue.finished(&ended);
                done.push(ended.attempt);
            }
        }
    })
}
