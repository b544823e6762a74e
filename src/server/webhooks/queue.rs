//! The worker's queue: messages taken from the outbox, waiting by endpoint to be sent,
//! and each endpoint's deliveries in flight, so one slow endpoint does not hold up the
//! others'.

use super::send;
use crate::db::webhooks::{Attempt, Due, Outcome};
use std::collections::{HashMap, VecDeque};
use std::time::Duration;
use tokio::time::Instant;

/// Deliveries in flight at once, in all ...
pub const IN_FLIGHT: usize = 64;

/// ... of which slow endpoints (see [`SLOW`]) have at most this many together: endpoints
/// that hang cannot take every delivery slot from those that answer.
const SLOW_IN_FLIGHT: usize = IN_FLIGHT / 2;

/// Deliveries in flight at once to one endpoint.
pub const PER_ENDPOINT: usize = 8;

/// An endpoint's messages are taken from the outbox up to this many rounds of
/// [`PER_ENDPOINT`] at once and wait in the [`Queue`] for their turn: fewer, larger
/// turns of the worker's transaction, which a burst would otherwise run hundreds of
/// times a second beside users' saves.
pub const ROUNDS: usize = 8;

/// An endpoint is slow when its last attempt failed or took longer than this, or one of
/// its deliveries has been in flight this long: it gets one round taken at a time, not
/// [`ROUNDS`], and only while the slow endpoints' share of deliveries has room, so none
/// of its messages waits long in the [`Queue`] (and past its lease).
const SLOW: Duration = Duration::from_secs(1);

/// An endpoint is no longer held slow after this long without an attempt ending.
const SLOW_FOR: Duration = Duration::from_secs(15 * 60);

/// A message is sent only if its lease ends at least this long after the attempt could
/// (seconds): room to record the attempt before another server may take it again.
const LEASE_MARGIN: i64 = 2;

/// An attempt that ended, and how long it took.
pub struct Ended {
    pub attempt: Attempt,
    pub took: Duration,
}

/// Messages taken from the outbox, waiting by endpoint to be sent (endpoints served in
/// turn), and the endpoints' deliveries in flight (at most [`PER_ENDPOINT`] each).
#[derive(Default)]
pub struct Queue {
    waiting: HashMap<i64, VecDeque<Waiting>>,
    /// Endpoints with messages waiting, in the order they are served.
    turns: VecDeque<i64>,
    /// Each endpoint's deliveries in flight (by workspace and message) with when they
    /// started.
    sending: HashMap<i64, HashMap<(i64, i64), Instant>>,
    len: usize,
    /// Endpoints whose last attempt failed or was slow, with when it ended.
    slow: HashMap<i64, Instant>,
    /// The slow endpoint offered a round last: the next offer starts after it (slow
    /// endpoints take turns).
    slow_offered: i64,
    /// Taken but not to be sent: their lease would end before an attempt could.
    expired: Vec<(Due, i64)>,
}

/// A message taken, and the end of its lease (when the outbox makes it due again).
struct Waiting {
    due: Due,
    lease_until: i64,
}

impl Waiting {
    /// Whether an attempt started at `now` (seconds) would end well inside the lease.
    fn in_time(&self, now: i64) -> bool {
        self.lease_until > now + send::TIMEOUT.as_secs() as i64 + LEASE_MARGIN
    }
}

impl Queue {
    /// Messages waiting, in all.
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn sending(&self, endpoint: i64) -> usize {
        self.sending.get(&endpoint).map_or(0, HashMap::len)
    }

    fn waiting(&self, endpoint: i64) -> usize {
        self.waiting.get(&endpoint).map_or(0, VecDeque::len)
    }

    /// See [`SLOW`].
    fn is_slow(&self, endpoint: i64, now: Instant) -> bool {
        let started = self
            .sending
            .get(&endpoint)
            .into_iter()
            .flat_map(HashMap::values);
        self.slow.contains_key(&endpoint)
            || started.into_iter().any(|t| now.duration_since(*t) >= SLOW)
    }

    /// Deliveries in flight, of every endpoint or of the slow ones.
    fn in_flight(&self, slow_only: bool, now: Instant) -> usize {
        let counted = |id: i64| !slow_only || self.is_slow(id, now);
        self.sending
            .iter()
            .filter(|(id, _)| counted(**id))
            .map(|(_, started)| started.len())
            .sum()
    }

    /// Whether a message of `endpoint` could be sent now: it has a delivery free, and
    /// if it is slow, so has the slow endpoints' share.
    fn can_send(&self, endpoint: i64, slow_full: bool, now: Instant) -> bool {
        self.sending(endpoint) < PER_ENDPOINT && !(slow_full && self.is_slow(endpoint, now))
    }

    /// Messages waiting that could be sent now.
    pub fn sendable(&self) -> usize {
        let now = Instant::now();
        let slow_full = self.in_flight(true, now) >= SLOW_IN_FLIGHT;
        self.waiting
            .iter()
            .filter(|(endpoint, _)| self.can_send(**endpoint, slow_full, now))
            .map(|(_, waiting)| waiting.len())
            .sum()
    }

    pub fn extend(&mut self, due: Vec<Due>, lease_until: i64) {
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

    /// What each endpoint counts as holding: the outbox takes no more for it than
    /// [`ROUNDS`] × [`PER_ENDPOINT`] less this. A fast endpoint holds its messages here,
    /// waiting or being sent. A slow one is offered at most a round, and only while the
    /// slow endpoints' share of deliveries has room (slow endpoints take turns at it);
    /// otherwise it counts as full.
    pub fn held(&mut self) -> Vec<(i64, i64)> {
        let now = Instant::now();
        let full = ROUNDS * PER_ENDPOINT;
        let mut endpoints: Vec<i64> = self
            .waiting
            .keys()
            .chain(self.sending.keys())
            .copied()
            .collect();
        endpoints.extend(self.slow.keys().copied());
        endpoints.sort_unstable();
        endpoints.dedup();
        let (mut slow, fast): (Vec<i64>, Vec<i64>) =
            endpoints.into_iter().partition(|id| self.is_slow(*id, now));
        let own = |id: i64| self.waiting(id) + self.sending(id);
        let mut held: Vec<(i64, i64)> = fast.iter().map(|id| (*id, own(*id) as i64)).collect();
        let slow_held: usize = slow.iter().map(|id| own(*id)).sum();
        let mut room = SLOW_IN_FLIGHT.saturating_sub(slow_held);
        // In id order (as sorted above), from the one after the last offered a round.
        let mut last = self.slow_offered;
        let after = slow.partition_point(|id| *id <= last);
        slow.rotate_left(after);
        for id in slow {
            let offer = PER_ENDPOINT.saturating_sub(own(id)).min(room);
            room -= offer;
            if offer > 0 {
                last = id;
            }
            held.push((id, (full - offer) as i64));
        }
        self.slow_offered = last;
        held
    }

    /// The next message to send at `now` (seconds), while fewer than [`IN_FLIGHT`] are:
    /// from the next endpoint in turn that can send. A message whose lease would end
    /// before its attempt could is not sent but set aside to give back (see
    /// [`Queue::take_expired`]), so none goes twice.
    pub fn next_to_send(&mut self, now: i64) -> Option<Due> {
        let clock = Instant::now();
        if self.in_flight(false, clock) >= IN_FLIGHT {
            return None;
        }
        let slow_full = self.in_flight(true, clock) >= SLOW_IN_FLIGHT;
        for _ in 0..self.turns.len() {
            let endpoint = self.turns.pop_front()?;
            let free = self.can_send(endpoint, slow_full, clock);
            let Some(waiting) = self.waiting.get_mut(&endpoint) else {
                continue;
            };
            let mut next = None;
            if free {
                while let Some(w) = waiting.pop_front() {
                    self.len -= 1;
                    if w.in_time(now) {
                        next = Some(w.due);
                        break;
                    }
                    self.expired.push((w.due, w.lease_until));
                }
            }
            if waiting.is_empty() {
                self.waiting.remove(&endpoint);
            } else {
                self.turns.push_back(endpoint);
            }
            if let Some(due) = next {
                let key = (due.workspace_id, due.id);
                self.sending.entry(endpoint).or_default().insert(key, clock);
                return Some(due);
            }
        }
        None
    }

    /// An attempt ended: a failed or slow one makes its endpoint slow, a quick delivery
    /// makes it fast again. After a 410 the endpoint's waiting messages are dropped: the
    /// attempt's record gives them up.
    pub fn finished(&mut self, ended: &Ended) {
        let endpoint = ended.attempt.endpoint_id;
        if let Some(started) = self.sending.get_mut(&endpoint) {
            started.remove(&(ended.attempt.workspace_id, ended.attempt.id));
            if started.is_empty() {
                self.sending.remove(&endpoint);
            }
        }
        let now = Instant::now();
        self.slow.retain(|_, at| now.duration_since(*at) < SLOW_FOR);
        match ended.attempt.outcome {
            Outcome::Delivered { .. } if ended.took < SLOW => {
                self.slow.remove(&endpoint);
            }
            Outcome::Gone => {
                self.slow.remove(&endpoint);
                if let Some(dropped) = self.waiting.remove(&endpoint) {
                    self.len -= dropped.len();
                    self.turns.retain(|id| *id != endpoint);
                }
            }
            _ => {
                self.slow.insert(endpoint, now);
            }
        }
    }

    /// The messages whose lease would end before an attempt at `now` (seconds) could,
    /// with their leases' ends: those [`Queue::next_to_send`] set aside, and those
    /// waiting behind an endpoint that cannot send.
    pub fn take_expired(&mut self, now: i64) -> Vec<(Due, i64)> {
        for waiting in self.waiting.values_mut() {
            // An endpoint's messages wait in the order they were taken, so by lease.
            while waiting.front().is_some_and(|w| !w.in_time(now)) {
                let w = waiting.pop_front().expect("a front");
                self.len -= 1;
                self.expired.push((w.due, w.lease_until));
            }
        }
        self.waiting.retain(|_, waiting| !waiting.is_empty());
        let waiting = &self.waiting;
        self.turns.retain(|id| waiting.contains_key(id));
        std::mem::take(&mut self.expired)
    }

    /// Every message waiting or set aside, with its lease's end, taken out (to give back
    /// when the server drains).
    pub fn take_all(&mut self) -> Vec<(Due, i64)> {
        self.len = 0;
        self.turns.clear();
        let waiting = self.waiting.drain().flat_map(|(_, q)| q);
        let mut all: Vec<_> = waiting.map(|w| (w.due, w.lease_until)).collect();
        all.append(&mut self.expired);
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A lease that ends 30 s after the time 0 the tests send at.
    const LEASE: i64 = 30;

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

    fn ended(endpoint_id: i64, id: i64, outcome: Outcome, took: Duration) -> Ended {
        let attempt = Attempt {
            workspace_id: 1,
            id,
            endpoint_id,
            at: 0,
            outcome,
        };
        Ended { attempt, took }
    }

    const QUICK: Duration = Duration::from_millis(5);

    fn timed_out() -> Outcome {
        Outcome::Retry {
            at: 5,
            status: None,
            error: Some("timed out".into()),
        }
    }

    /// Endpoints each made slow by an attempt that timed out.
    fn slow_endpoints(queue: &mut Queue, endpoints: std::ops::RangeInclusive<i64>) {
        for endpoint in endpoints {
            queue.extend(vec![due(0, endpoint)], LEASE);
            queue.next_to_send(0).unwrap();
            queue.finished(&ended(endpoint, 0, timed_out(), send::TIMEOUT));
        }
    }

    fn held_by(queue: &mut Queue, endpoint: i64) -> i64 {
        let held = queue.held().into_iter().find(|(id, _)| *id == endpoint);
        held.map_or(0, |(_, n)| n)
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
        assert_eq!(held_by(&mut queue, 7), 20);
        assert_eq!(held_by(&mut queue, 8), 1);
        // Endpoint 7's twelve cannot go now: more may be taken for others.
        assert_eq!(queue.sendable(), 0);
        // One ends: the next of endpoint 7 may go.
        queue.finished(&ended(7, 0, Outcome::Delivered { status: 200 }, QUICK));
        assert_eq!(queue.sendable(), 12);
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
        queue.finished(&ended(7, 0, Outcome::Gone, QUICK));
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
        // Taken with a lease that ends before an attempt could: set aside, given back.
        queue.extend(vec![due(5, 10), due(6, 10)], 100);
        let late = 100 - send::TIMEOUT.as_secs() as i64;
        assert!(queue.next_to_send(late).is_none());
        assert!(queue.is_empty());
        let back: Vec<(i64, i64)> = queue
            .take_expired(late)
            .into_iter()
            .map(|(d, lease)| (d.id, lease))
            .collect();
        assert_eq!(back, [(5, 100), (6, 100)]);
        assert!(queue.take_expired(late).is_empty());
    }

    #[test]
    fn messages_behind_an_endpoint_that_cannot_send_are_given_back_when_their_lease_runs_short() {
        let mut queue = Queue::default();
        let round = (0..PER_ENDPOINT as i64 + 2).map(|i| due(i, 7)).collect();
        queue.extend(round, 100);
        while queue.next_to_send(0).is_some() {}
        assert_eq!(queue.len(), 2);
        assert!(queue.take_expired(0).is_empty());
        let back: Vec<i64> = queue
            .take_expired(90)
            .into_iter()
            .map(|(d, _)| d.id)
            .collect();
        assert_eq!(back, [8, 9]);
        assert!(queue.is_empty());
        assert!(queue.next_to_send(90).is_none());
    }

    #[test]
    fn no_more_than_in_flight_in_all_and_slow_endpoints_have_half() {
        let mut queue = Queue::default();
        // Six slow endpoints, each with a round waiting.
        slow_endpoints(&mut queue, 1..=6);
        let rounds = (1..=6).flat_map(|e| (1..=PER_ENDPOINT as i64).map(move |i| due(i, e)));
        queue.extend(rounds.collect(), LEASE);
        let sent = std::iter::from_fn(|| queue.next_to_send(0)).count();
        assert_eq!(sent, SLOW_IN_FLIGHT);
        // The sixteen left cannot go now, and the slow endpoints are offered no more.
        assert_eq!(queue.len(), 16);
        assert_eq!(queue.sendable(), 0);
        let full = (ROUNDS * PER_ENDPOINT) as i64;
        assert!(queue.held().iter().all(|(_, n)| *n == full));
        // Endpoints that answer have the rest, up to the limit in all.
        let fast = (0..IN_FLIGHT as i64).map(|i| due(i, 100 + i % 8)).collect();
        queue.extend(fast, LEASE);
        assert_eq!(queue.sendable(), IN_FLIGHT);
        let sent = std::iter::from_fn(|| queue.next_to_send(0)).count();
        assert_eq!(sent, IN_FLIGHT - SLOW_IN_FLIGHT);
        assert_eq!(queue.in_flight(false, Instant::now()), IN_FLIGHT);
        assert!(queue.next_to_send(0).is_none());
    }

    #[test]
    fn slow_endpoints_take_turns_at_their_share() {
        let mut queue = Queue::default();
        slow_endpoints(&mut queue, 1..=10);
        let offered = |queue: &mut Queue| -> Vec<i64> {
            let round = ((ROUNDS - 1) * PER_ENDPOINT) as i64;
            let held = queue.held();
            let mut ids: Vec<i64> = held
                .iter()
                .filter(|(_, n)| *n == round)
                .map(|h| h.0)
                .collect();
            ids.sort_unstable();
            ids
        };
        // A round each for four of them (32), then the next four, and so on round.
        assert_eq!(offered(&mut queue), [1, 2, 3, 4]);
        assert_eq!(offered(&mut queue), [5, 6, 7, 8]);
        assert_eq!(offered(&mut queue), [1, 2, 9, 10]);
    }

    #[test]
    fn an_endpoint_whose_deliveries_hang_is_slow_before_any_ends() {
        let mut queue = Queue::default();
        let round = (0..PER_ENDPOINT as i64).map(|i| due(i, 7)).collect();
        queue.extend(round, LEASE);
        while queue.next_to_send(0).is_some() {}
        assert_eq!(held_by(&mut queue, 7), PER_ENDPOINT as i64);
        for started in queue.sending.get_mut(&7).unwrap().values_mut() {
            *started -= SLOW;
        }
        // Full: eight in flight, and only a round for a slow endpoint.
        assert_eq!(held_by(&mut queue, 7), (ROUNDS * PER_ENDPOINT) as i64);
        assert_eq!(queue.in_flight(true, Instant::now()), PER_ENDPOINT);
        // One ends quickly: the seven still hanging keep it slow.
        let delivered = Outcome::Delivered { status: 200 };
        queue.finished(&ended(7, 7, delivered, QUICK));
        assert_eq!(queue.in_flight(true, Instant::now()), PER_ENDPOINT - 1);
    }

    #[test]
    fn a_failed_or_slow_attempt_leaves_its_endpoint_one_round_until_a_quick_delivery() {
        let mut queue = Queue::default();
        let others = (ROUNDS - 1) * PER_ENDPOINT;
        queue.extend(vec![due(1, 7), due(2, 7), due(3, 7)], LEASE);
        for _ in 0..3 {
            queue.next_to_send(0).unwrap();
        }
        queue.finished(&ended(7, 1, timed_out(), send::TIMEOUT));
        assert_eq!(held_by(&mut queue, 7), (2 + others) as i64);
        // Delivered, but slowly: still slow.
        let delivered = Outcome::Delivered { status: 200 };
        queue.finished(&ended(7, 2, delivered.clone(), SLOW));
        assert_eq!(held_by(&mut queue, 7), (1 + others) as i64);
        // Quickly: all its rounds again.
        queue.finished(&ended(7, 3, delivered, QUICK));
        assert_eq!(held_by(&mut queue, 7), 0);
    }
}
