//! Slows down guessing passwords: failed sign-ins per client address and per account.
//!
//! Each attempt is counted as a failure *before* its password is checked (and forgiven
//! if it succeeds), so attempts sent at once cannot all slip past the check while the
//! first ones are still hashing. The first few failures are free; after that each attempt
//! must wait twice as long as the one before (1 s, 2 s, 4 s, … up to 5 min). An account
//! allows more failures than an address, so that a stranger guessing at someone's email
//! does not lock them out for long.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Failures allowed from one address before waiting starts.
const FREE_PER_ADDRESS: u32 = 5;
/// Failures allowed for one account before waiting starts.
const FREE_PER_ACCOUNT: u32 = 10;
/// Failures older than this are forgotten.
const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(5 * 60);
/// Above this many tracked keys, stale entries are swept.
const SWEEP_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
}

impl Failures {
    /// How long the next attempt must still wait, if at all.
    fn wait(&self, free: u32, now: Instant) -> Option<Duration> {
        if now.duration_since(self.last) > WINDOW || self.count < free {
            return None;
        }
        let doublings = (self.count - free).min(16);
        let ready_at = self.last + Duration::from_secs(1u64 << doublings).min(MAX_WAIT);
        (ready_at > now).then(|| ready_at - now)
    }
}

/// Which limit a refused attempt ran into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limited {
    /// Too many failures from the client's address.
    Address(Duration),
    /// Too many failures for the account.
    Account(Duration),
}

impl Limited {
    /// "Try again in 4 seconds." for the wait, rounded up to whole seconds.
    pub fn message(self) -> String {
        let (what, wait) = match self {
            Limited::Address(wait) => ("from your address", wait),
            Limited::Account(wait) => ("for this account", wait),
        };
        let secs = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        let unit = if secs == 1 { "second" } else { "seconds" };
        format!("Too many failed sign-ins {what}. Try again in {secs} {unit}.")
    }
}

#[derive(Debug, Default)]
struct Counts {
    by_address: HashMap<IpAddr, Failures>,
    by_account: HashMap<String, Failures>,
}

/// Failed sign-in attempts per client address and per account, in memory.
#[derive(Debug, Default)]
pub struct LoginThrottle {
    counts: Mutex<Counts>,
}

fn count_failure<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Failures>, key: K, now: Instant) {
    if map.len() >= SWEEP_AT {
        map.retain(|_, f| now.duration_since(f.last) <= WINDOW);
    }
    let entry = map.entry(key).or_insert(Failures {
        count: 0,
        last: now,
    });
    if now.duration_since(entry.last) > WINDOW {
        entry.count = 0;
    }
    entry.count += 1;
    entry.last = now;
}

impl LoginThrottle {
    /// Takes an attempt for `account` (its email, lower case) from `ip`: refused with how
    /// long to wait, or counted as a failure until [`LoginThrottle::succeeded`] says
    /// otherwise. Check and count happen under one lock, so concurrent attempts are
    /// counted one after another.
    pub fn reserve(&self, ip: IpAddr, account: &str, now: Instant) -> Result<(), Limited> {
        let ip = address_key(ip);
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(wait) = counts
            .by_address
            .get(&ip)
            .and_then(|f| f.wait(FREE_PER_ADDRESS, now))
        {
            return Err(Limited::Address(wait));
        }
        if let Some(wait) = counts
            .by_account
            .get(account)
            .and_then(|f| f.wait(FREE_PER_ACCOUNT, now))
        {
            return Err(Limited::Account(wait));
        }
        count_failure(&mut counts.by_address, ip, now);
        count_failure(&mut counts.by_account, account.to_string(), now);
        Ok(())
    }

    /// Forgets the failures of `ip` and `account` after a successful sign-in.
    pub fn succeeded(&self, ip: IpAddr, account: &str) {
        let ip = address_key(ip);
        let mut counts = self.counts.lock().unwrap_or_else(|p| p.into_inner());
        counts.by_address.remove(&ip);
        counts.by_account.remove(account);
    }
}

/// The part of an address that one client controls: an IPv6 address by its /64 (a
/// customer network gets at least that many, so counting each address would give one
/// attacker 2^64 counters), an IPv4 address (or one mapped into IPv6) whole.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(network.into())
            }
        },
    }
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
        for _ in 0..FREE_PER_ADDRESS {
            assert_eq!(throttle.reserve(IP, "ann@a.test", t0), Ok(()));
        }
        assert_eq!(
            throttle.reserve(IP, "ann@a.test", t0),
            Err(Limited::Address(Duration::from_secs(1)))
        );
        let later = t0 + Duration::from_secs(1);
        assert_eq!(throttle.reserve(IP, "ann@a.test", later), Ok(()));
        assert_eq!(
            throttle.reserve(IP, "ann@a.test", later),
            Err(Limited::Address(Duration::from_secs(2)))
        );
        assert_eq!(throttle.reserve(OTHER, "bob@a.test", t0), Ok(()));
    }

    #[test]
    fn attempts_at_once_are_counted_before_any_is_checked() {
        let throttle = std::sync::Arc::new(LoginThrottle::default());
        let t0 = Instant::now();
        let refused = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..40)
                .map(|_| {
                    let throttle = throttle.clone();
                    scope.spawn(move || throttle.reserve(IP, "ann@a.test", t0).is_err())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap())
                .filter(|refused| *refused)
                .count()
        });
        assert_eq!(refused, 40 - FREE_PER_ADDRESS as usize);
    }

    #[test]
    fn one_account_from_many_addresses_is_limited_too() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for i in 0..FREE_PER_ACCOUNT {
            let ip = IpAddr::V4(Ipv4Addr::new(198, 51, 100, i as u8));
            assert_eq!(throttle.reserve(ip, "ann@a.test", t0), Ok(()));
        }
        assert!(matches!(
            throttle.reserve(OTHER, "ann@a.test", t0),
            Err(Limited::Account(_))
        ));
        assert_eq!(throttle.reserve(OTHER, "bob@a.test", t0), Ok(()));
    }

    #[test]
    fn success_and_time_clear_the_record() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for _ in 0..FREE_PER_ADDRESS {
            throttle.reserve(IP, "ann@a.test", t0).unwrap();
        }
        assert!(throttle.reserve(IP, "ann@a.test", t0).is_err());
        throttle.succeeded(IP, "ann@a.test");
        assert_eq!(throttle.reserve(IP, "ann@a.test", t0), Ok(()));

        for _ in 0..FREE_PER_ADDRESS {
            throttle.reserve(OTHER, "bob@a.test", t0).unwrap();
        }
        let much_later = t0 + WINDOW + Duration::from_secs(1);
        assert_eq!(throttle.reserve(OTHER, "bob@a.test", much_later), Ok(()));
    }

    #[test]
    fn waits_are_capped_and_said_plainly() {
        let failures = Failures {
            count: 100,
            last: Instant::now(),
        };
        assert_eq!(failures.wait(5, failures.last), Some(MAX_WAIT));
        assert_eq!(
            Limited::Address(Duration::from_millis(1500)).message(),
            "Too many failed sign-ins from your address. Try again in 2 seconds."
        );
        assert_eq!(
            Limited::Account(Duration::from_secs(1)).message(),
            "Too many failed sign-ins for this account. Try again in 1 second."
        );
    }

    #[test]
    fn one_ipv6_network_shares_a_counter() {
        let throttle = LoginThrottle::default();
        let t0 = Instant::now();
        for i in 0..FREE_PER_ADDRESS {
            let ip: IpAddr = format!("2001:db8:1:2::{:x}", i + 1).parse().unwrap();
            assert_eq!(throttle.reserve(ip, &format!("u{i}@a.test"), t0), Ok(()));
        }
        let same_network: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        assert!(matches!(
            throttle.reserve(same_network, "x@a.test", t0),
            Err(Limited::Address(_))
        ));
        let next_network: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(throttle.reserve(next_network, "x@a.test", t0), Ok(()));
        // An IPv4 address counts the same whether it arrives mapped into IPv6 or not.
        assert_eq!(
            address_key("::ffff:192.0.2.1".parse().unwrap()),
            address_key(IP)
        );
    }
}
