//! Slows down repeated failed sign-ins from one address.
//!
//! The first few failures are free; after that each attempt must wait twice as long as
//! the one before (1 s, 2 s, 4 s, … up to 5 min). A success clears the address.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed before waiting starts.
const FREE_FAILURES: u32 = 5;
/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(5 * 60);
/// Above this many tracked addresses, stale entries are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

/// Failed sign-in attempts per client address, in memory.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    failures: Mutex<HashMap<IpAddr, Failures>>,
}

impl LoginThrottle {
    /// How long `ip` must still wait before its next attempt, if at all.
    pub fn wait_before_attempt(&self, ip: IpAddr, now: Instant) -> Option<Duration> {
        let failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let entry = failures.get(&ip)?;
        if now.duration_since(entry.last) > WINDOW || entry.count < FREE_FAILURES {
            return None;
        }
        let wait = delay_after(entry.count);
        let ready_at = entry.last + wait;
        (ready_at > now).then(|| ready_at - now)
    }

    /// Records a failed attempt from `ip`.
    pub fn record_failure(&self, ip: IpAddr, now: Instant) {
        let mut failures = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        if failures.len() >= SWEEP_AT {
            failures.retain(|_, f| now.duration_since(f.last) <= WINDOW);
        }
        let entry = failures.entry(ip).or_insert(Failures {
            count: 0,
            last: now,
        });
        if now.duration_since(entry.last) > WINDOW {
            entry.count = 0;
        }
        entry.count += 1;
        entry.last = now;
    }

    /// Forgets the failures of `ip` after a successful sign-in.
    pub fn record_success(&self, ip: IpAddr) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&ip);
    }
}

fn delay_after(count: u32) -> Duration {
    let doublings = count.saturating_sub(FREE_FAILURES).min(16);
    Duration::from_secs(1u64 << doublings).min(MAX_WAIT)
}

/// "Try again in 4 seconds." for a wait, rounded up to whole seconds.
pub fn wait_message(wait: Duration) -> String {
    let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    let unit = if secs == 1 { "second" } else { "seconds" };
    format!("Too many failed sign-ins from your address. Try again in {secs} {unit}.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::Ipv4Addr;

    const IP: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1));
    const OTHER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn the_first_failures_are_free_then_waits_double() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..4 {
            throttle.record_failure(IP, t0);
            assert_eq!(throttle.wait_before_attempt(IP, t0), None);
        }
        throttle.record_failure(IP, t0);
        assert_eq!(
            throttle.wait_before_attempt(IP, t0),
            Some(Duration::from_secs(1))
        );
        throttle.record_failure(IP, t0);
        assert_eq!(
            throttle.wait_before_attempt(IP, t0),
            Some(Duration::from_secs(2))
        );
        let later = t0 + Duration::from_secs(2);
        assert_eq!(throttle.wait_before_attempt(IP, later), None);
        assert_eq!(throttle.wait_before_attempt(OTHER, t0), None);
    }

    #[test]
    fn success_and_time_clear_the_record() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..8 {
            throttle.record_failure(IP, t0);
        }
        assert!(throttle.wait_before_attempt(IP, t0).is_some());
        throttle.record_success(IP);
        assert_eq!(throttle.wait_before_attempt(IP, t0), None);

        for _ in 0..8 {
            throttle.record_failure(OTHER, t0);
        }
        let much_later = t0 + WINDOW + Duration::from_secs(1);
        assert_eq!(throttle.wait_before_attempt(OTHER, much_later), None);
    }

    #[test]
    fn waits_are_capped() {
        assert_eq!(delay_after(100), MAX_WAIT);
        assert_eq!(
            wait_message(Duration::from_millis(1500)),
            "Too many failed sign-ins from your address. Try again in 2 seconds."
        );
    }
}
