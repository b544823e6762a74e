//! Slows down guessing passwords: failed sign-ins per client address and per account,
//! counted in the database (`db::sign_in_failures`), so the limits hold however many
//! app servers an attacker spreads the guesses over.
//!
//! Each attempt is counted as a failure *before* its password is checked (and forgiven
//! if it succeeds), so attempts sent at once cannot all slip past the check while the
//! first ones are still hashing. The first few failures are free; after that each attempt
//! must wait twice as long as the one before (1 s, 2 s, 4 s, … up to 5 min). An account
//! allows more failures than an address, so that a stranger guessing at someone's email
//! does not lock them out for long.

use crate::db::{self, Db, sign_in_failures::Failures};
use crate::error::AppError;
use std::net::IpAddr;
use std::time::Duration;

/// Failures allowed from one address before waiting starts. An address is often shared
/// (an office behind one NAT), and a success there forgives only its own attempt.
pub const FREE_PER_ADDRESS: u32 = 10;
/// Failures allowed for one account before waiting starts.
pub const FREE_PER_ACCOUNT: u32 = 20;
/// Failures older than this are forgotten.
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest wait.
const MAX_WAIT: Duration = Duration::from_secs(5 * 60);

/// How long the next attempt after `failures` must still wait at `now` (milliseconds),
/// if at all.
fn wait(failures: Failures, free: u32, now: i64) -> Option<Duration> {
    let since = now.saturating_sub(failures.last_ms);
    if since > WINDOW.as_millis() as i64 || failures.count < free {
        return None;
    }
    let doublings = (failures.count - free).min(16);
    let wait = Duration::from_secs(1u64 << doublings).min(MAX_WAIT);
    let left = wait.as_millis() as i64 - since;
    (left > 0).then(|| Duration::from_millis(left as u64))
}

/// `failures` with one more at `now`: a count past the window starts again.
fn counted(failures: Failures, now: i64) -> Failures {
    let stale = now.saturating_sub(failures.last_ms) > WINDOW.as_millis() as i64;
    Failures {
        count: if stale {
            1
        } else {
            failures.count.saturating_add(1)
        },
        last_ms: now,
    }
}

/// The counts of an address and an account after an attempt at `now`, or the limit it
/// ran into.
fn next([address, account]: [Failures; 2], now: i64) -> Result<[Failures; 2], Limited> {
    if let Some(wait) = wait(address, FREE_PER_ADDRESS, now) {
        return Err(Limited::Address(wait));
    }
    if let Some(wait) = wait(account, FREE_PER_ACCOUNT, now) {
        return Err(Limited::Account(wait));
    }
    Ok([counted(address, now), counted(account, now)])
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

/// The database keys of an address and an account (its email, lower case). The email
/// is kept as its SHA-256: a key of fixed size however long the typed text, and no
/// address of a stranger's guess in the table.
fn keys(ip: IpAddr, account: &str) -> [String; 2] {
    use sha2::{Digest, Sha256};
    let account = crate::server::session::hex(&Sha256::digest(account.as_bytes()));
    [format!("a:{}", address_key(ip)), format!("u:{account}")]
}

/// An attempt [`reserve`] counted, for [`succeeded`] to forgive.
#[must_use]
pub struct Attempt {
    keys: [String; 2],
    /// The address's failures before this attempt, and when it was counted.
    address_before: Failures,
    at: i64,
}

/// Takes an attempt for `account` (its email, lower case) from `ip`: refused (429,
/// saying how long to wait), or counted as a failure until [`succeeded`] says
/// otherwise.
pub async fn reserve(db: &Db, ip: IpAddr, account: &str) -> Result<Attempt, AppError> {
    let keys = keys(ip, account);
    let at = now_ms();
    let [address_before, _] =
        db::sign_in_failures::update(db, [&keys[0], &keys[1]], |counts| next(counts, at))
            .await?
            .map_err(|limited| {
                crate::server::metrics::sign_in_refused(match limited {
                    Limited::Address(_) => "address",
                    Limited::Account(_) => "account",
                });
                AppError::TooManyRequests(limited.message())
            })?;
    Ok(Attempt {
        keys,
        address_before,
        at,
    })
}

/// Forgives a successful sign-in: the account's failures, and this attempt from its
/// address (whose count and last failure are as before it, unless another came since).
pub async fn succeeded(db: &Db, attempt: Attempt) -> Result<(), AppError> {
    let [address, account] = &attempt.keys;
    let before = attempt.address_before.last_ms;
    db::sign_in_failures::succeeded(db, address, account, attempt.at, before).await
}

/// Deletes the counts past the window; returns how many.
pub async fn purge(db: &Db) -> Result<u64, AppError> {
    db::sign_in_failures::purge(db, now_ms() - WINDOW.as_millis() as i64).await
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
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
    const T0: i64 = 1_800_000_000_000;

    /// `n` attempts at `now`, each seeing the counts the one before left.
    fn attempts(counts: &mut [Failures; 2], n: u32, now: i64) -> Vec<Result<(), Limited>> {
        (0..n)
            .map(|_| next(*counts, now).map(|c| *counts = c))
            .collect()
    }

    #[test]
    fn the_first_failures_are_free_then_waits_double() {
        let mut counts = [Failures::default(); 2];
        let free = attempts(&mut counts, FREE_PER_ADDRESS, T0);
        assert!(free.iter().all(Result::is_ok));
        assert_eq!(
            next(counts, T0),
            Err(Limited::Address(Duration::from_secs(1)))
        );
        let later = T0 + 1000;
        assert_eq!(attempts(&mut counts, 1, later), vec![Ok(())]);
        assert_eq!(
            next(counts, later),
            Err(Limited::Address(Duration::from_secs(2)))
        );
        assert_eq!(
            next(counts, later + 500),
            Err(Limited::Address(Duration::from_millis(1500)))
        );
    }

    #[test]
    fn an_account_allows_more_failures_than_an_address() {
        // Each attempt from a new address: only the account's count grows.
        let mut account = Failures::default();
        for _ in 0..FREE_PER_ACCOUNT {
            let [_, a] = next([Failures::default(), account], T0).unwrap();
            account = a;
        }
        assert!(matches!(
            next([Failures::default(), account], T0),
            Err(Limited::Account(_))
        ));
    }

    #[test]
    fn time_clears_the_record() {
        let mut counts = [Failures::default(); 2];
        attempts(&mut counts, FREE_PER_ADDRESS, T0);
        assert!(next(counts, T0).is_err());
        let much_later = T0 + WINDOW.as_millis() as i64 + 1;
        let after = next(counts, much_later).unwrap();
        assert_eq!(after[0].count, 1, "a stale count starts again");
    }

    #[test]
    fn waits_are_capped_and_said_plainly() {
        let failures = Failures {
            count: 100,
            last_ms: T0,
        };
        assert_eq!(wait(failures, 5, T0), Some(MAX_WAIT));
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
    fn one_ipv6_network_shares_a_key() {
        let a: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_network: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let next_network: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(keys(a, "x")[0], keys(same_network, "y")[0]);
        assert_ne!(keys(a, "x")[0], keys(next_network, "x")[0]);
        let long = "x".repeat(100_000);
        assert_eq!(
            keys(a, &long)[1].len(),
            2 + 64,
            "an account key has a fixed size"
        );
        // An IPv4 address counts the same whether it arrives mapped into IPv6 or not.
        assert_eq!(
            address_key("::ffff:192.0.2.1".parse().unwrap()),
            address_key(IP)
        );
    }
}
