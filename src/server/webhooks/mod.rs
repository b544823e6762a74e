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
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::task::JoinSet;

/// Deliveries in flight at once, in all.
const IN_FLIGHT: usize = 64;

/// Deliveries in flight at once to one endpoint.
const PER_ENDPOINT: usize = 8;

/// An endpoint's messages are taken from the outbox up to this many rounds of
/// [`PER_ENDPOINT`] at once and wait here for their turn: fewer, larger turns of the
/// worker's transaction, which a burst would otherwise run hundreds of times a second
/// beside users' saves.
const ROUNDS: usize = 8;

/// Messages waiting here (taken, not yet sent) at most, in all.
const QUEUED: usize = 2 * IN_FLIGHT;

/// More are taken when fewer than this wait (about one round of an endpoint)...
const LOW_WATER: usize = PER_ENDPOINT;

/// ... or when the last turn is this old; attempts are recorded then too, or as soon as
/// [`RECORD_BATCH`] have ended.
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
/// recorded (the server died): room for a round's wait here and an attempt. One that has
/// waited longer is not sent (see [`Queue::next_to_send`]): the outbox gives it out again.
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

/// Starts the delivery worker. Once the server drains it takes nothing more, gives back
/// what it took but has not started, records the deliveries in flight as they end, and
/// stops.
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = send::client(state.config.webhook_allow_private);
        let allow = state.config.webhook_allow_private;
        let mut in_flight: JoinSet<Attempt> = JoinSet::new();
        let mut queue = Queue::default();
        // Attempts ended and not yet recorded; those just ended.
        let mut done: Vec<Attempt> = Vec::new();
        let mut fresh: Vec<Attempt> = Vec::new();
        let mut last_turn = tokio::time::Instant::now();
        let mut written = db::webhooks::written();
        let mut woken = false;
        let mut last_woken: Option<tokio::time::Instant> = None;
        loop {
            let draining = state.drain.is_cancelled();
            if draining && !queue.is_empty() {
                let back = queue.take_all();
                // Unreleased, they are due again when their lease ends.
                if let Err(e) = db::webhooks::release(&state.db, &back).await {
                    tracing::error!(error = %e, "webhook outbox");
                }
            }
            // One transaction records what finished and takes more: when the queue runs
            // low, when a batch of attempts is done, or every so often.
            let take = !draining && queue.len() < LOW_WATER;
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
                    busy: queue.held(),
                    woken: std::mem::take(&mut woken),
                };
                match db::webhooks::turn(&state.db, &done, &want).await {
                    Ok(due) => {
                        queue.extend(due, want.lease_until);
                        done.clear();
                    }
                    // The transaction was rolled back: the attempts are recorded at the
                    // next turn (or, if the server stops first, due again when their
                    // lease ends).
                    Err(e) => tracing::error!(error = %e, "webhook outbox"),
                }
                last_turn = tokio::time::Instant::now();
            }
            while in_flight.len() < IN_FLIGHT
                && let Some(due) = queue.next_to_send(db::now())
            {
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
                // Just woken, the messages' transaction may not have committed yet.
                let look = match last_woken {
                    Some(at) if at.elapsed() < LOOK_AGAIN_FOR => TURN_GAP,
                    _ => POLL,
                };
                tokio::select! {
                    () = tokio::time::sleep(look) => {}
                    Ok(()) = written.changed() => {
                        woken = true;
                        last_woken = Some(tokio::time::Instant::now());
                    }
                    () = state.drain.cancelled() => {}
                }
                continue;
            }
            // Wait for what finishes: at least one (or none within the poll, to look for
            // other endpoints' due messages meanwhile), and all others done by then.
            tokio::select! {
                Some(Ok(attempt)) = in_flight.join_next() => fresh.push(attempt),
                () = tokio::time::sleep_until(paced_until), if wanted && !ready => {}
                Ok(()) = written.changed() => {
                    woken = true;
                    last_woken = Some(tokio::time::Instant::now());
                }
                () = tokio::time::sleep(POLL) => {}
            }
            // Then what finishes within a few milliseconds.
            let gather = tokio::time::Instant::now() + GATHER;
            while !in_flight.is_empty() {
                match tokio::time::timeout_at(gather, in_flight.join_next()).await {
                    Ok(Some(Ok(attempt))) => fresh.push(attempt),
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
            for attempt in fresh.drain(..) {
                queue.finished(&attempt);
                done.push(attempt);
            }
        }
    })
}

/// Messages taken from the outbox, waiting by endpoint to be sent (endpoints served in
/// turn), and the endpoints' deliveries in flight (at most [`PER_ENDPOINT`] each).
#[derive(Default)]
struct Queue {
    waiting: HashMap<i64, VecDeque<Waiting>>,
    /// Endpoints with messages waiting, in the order they are served.
    turns: VecDeque<i64>,
    sending: HashMap<i64, usize>,
    len: usize,
}

/// A message taken, and the end of its lease (when the outbox makes it due again).
struct Waiting {
    due: db::webhooks::Due,
    lease_until: i64,
}

impl Queue {
    /// Messages waiting, in all.
    fn len(&self) -> usize {
        self.len
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn extend(&mut self, due: Vec<db::webhooks::Due>, lease_until: i64) {
        self.len += due.len();
        for due in due {
            let endpoint = due.endpoint_id;
            let waiting = self.waiting.entry(endpoint).or_default();
            if waiting.is_empty() {
                self.turns.push_back(endpoint);
            }
            waiting.push_back(Waiting { due, lease_until });
        }
    }

    /// Each endpoint named once for each of its messages held here (waiting or being
    /// sent): the outbox takes no more for it than [`ROUNDS`] × [`PER_ENDPOINT`] less these.
    fn held(&self) -> Vec<i64> {
        let waiting = self.waiting.iter().map(|(id, q)| (*id, q.len()));
        let sending = self.sending.iter().map(|(id, n)| (*id, *n));
        waiting
            .chain(sending)
            .flat_map(|(id, n)| std::iter::repeat_n(id, n))
            .collect()
    }

    /// The next message to send at `now`: from the next endpoint in turn with a delivery
    /// free. A message whose lease would end before its attempt could is not sent (the
    /// outbox makes it due again then, for this server or another), so none goes twice.
    fn next_to_send(&mut self, now: i64) -> Option<db::webhooks::Due> {
        for _ in 0..self.turns.len() {
            let endpoint = self.turns.pop_front()?;
            let busy = self.sending.get(&endpoint).copied().unwrap_or(0) >= PER_ENDPOINT;
            let waiting = self.waiting.get_mut(&endpoint)?;
            let mut next = None;
            if !busy {
                while let Some(w) = waiting.pop_front() {
                    self.len -= 1;
                    if w.lease_until > now + send::TIMEOUT.as_secs() as i64 {
                        next = Some(w.due);
                        break;
                    }
                }
            }
            if waiting.is_empty() {
                self.waiting.remove(&endpoint);
            } else {
                self.turns.push_back(endpoint);
            }
            if let Some(due) = next {
                *self.sending.entry(endpoint).or_default() += 1;
                return Some(due);
            }
        }
        None
    }

    /// An attempt ended. After a 410 the endpoint's waiting messages are dropped: the
    /// attempt's record gives them up.
    fn finished(&mut self, attempt: &Attempt) {
        let endpoint = attempt.endpoint_id;
        if let Some(n) = self.sending.get_mut(&endpoint) {
            *n -= 1;
            if *n == 0 {
                self.sending.remove(&endpoint);
            }
        }
        if attempt.outcome == Outcome::Gone
            && let Some(dropped) = self.waiting.remove(&endpoint)
        {
            self.len -= dropped.len();
            self.turns.retain(|id| *id != endpoint);
        }
    }

    /// Every waiting message with its lease's end, taken out (to give back when the
    /// server drains).
    fn take_all(&mut self) -> Vec<(db::webhooks::Due, i64)> {
        self.len = 0;
        self.turns.clear();
        self.waiting
            .drain()
            .flat_map(|(_, q)| q)
            .map(|w| (w.due, w.lease_until))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use db::webhooks::Due;

    fn due(id: i64, endpoint_id: i64) -> Due {
        Due {
            id,
            workspace_id: 1,
            endpoint_id,
            event_type: "contact.created".into(),
            data: "{}".into(),
            created_at: 0,
            attempts: 0,
            url: "https://example.com/hook".into(),
            secret: "whsec_x".into(),
        }
    }

    fn ended(endpoint_id: i64, outcome: Outcome) -> Attempt {
        Attempt {
            workspace_id: 1,
            id: 0,
            endpoint_id,
            at: 0,
            outcome,
        }
    }

    #[test]
    fn an_endpoint_gets_a_round_at_a_time_and_its_queue_counts_against_what_is_taken() {
        let mut queue = Queue::default();
        queue.extend(
            (0..20).map(|i| due(i, 7)).chain([due(100, 8)]).collect(),
            LEASE,
        );
        assert_eq!(queue.len(), 21);
        let mut sent = Vec::new();
        while let Some(due) = queue.next_to_send(0) {
            sent.push((due.endpoint_id, due.id));
        }
        // Eight to endpoint 7, in order, and endpoint 8's one: the rest wait.
        assert_eq!(sent.iter().filter(|(e, _)| *e == 7).count(), PER_ENDPOINT);
        assert!(sent.contains(&(8, 100)));
        let order: Vec<i64> = sent.iter().filter(|(e, _)| *e == 7).map(|s| s.1).collect();
        assert_eq!(order, (0..8).collect::<Vec<_>>());
        assert_eq!(queue.len(), 12);
        // Held: 12 waiting and 8 sending for 7, 1 sending for 8.
        let held = queue.held();
        assert_eq!(held.iter().filter(|e| **e == 7).count(), 20);
        assert_eq!(held.iter().filter(|e| **e == 8).count(), 1);
        // One ends: the next of endpoint 7 may go.
        queue.finished(&ended(7, Outcome::Delivered { status: 200 }));
        assert_eq!(queue.next_to_send(0).map(|d| d.id), Some(8));
        assert!(queue.next_to_send(0).is_none());
    }

    #[test]
    fn a_410_drops_what_waits_for_that_endpoint_and_draining_gives_back_the_rest() {
        let mut queue = Queue::default();
        queue.extend(
            (0..12).map(|i| due(i, 7)).chain([due(100, 8)]).collect(),
            LEASE,
        );
        while queue.next_to_send(0).is_some() {}
        assert_eq!(queue.len(), 4);
        queue.finished(&ended(7, Outcome::Gone));
        assert_eq!(queue.len(), 0);
        queue.extend(vec![due(200, 8), due(201, 9)], LEASE);
        let mut back: Vec<i64> = queue.take_all().into_iter().map(|(d, _)| d.id).collect();
        back.sort_unstable();
        assert_eq!(back, [200, 201]);
        assert!(queue.is_empty());
    }

    #[test]
    fn endpoints_are_served_in_turn_and_a_message_near_its_lease_end_is_not_sent() {
        let mut queue = Queue::default();
        queue.extend(vec![due(1, 7), due(2, 7), due(3, 8), due(4, 9)], LEASE);
        let order: Vec<i64> = std::iter::from_fn(|| queue.next_to_send(0))
            .map(|d| d.endpoint_id)
            .collect();
        assert_eq!(order, [7, 8, 9, 7]);
        // Taken with a lease that ends before an attempt could: left for the outbox.
        queue.extend(vec![due(5, 10)], 100);
        let late = 100 - send::TIMEOUT.as_secs() as i64;
        assert!(queue.next_to_send(late).is_none());
        assert!(queue.is_empty());
    }
}
