//! Requests per API key: a generic cell rate (GCRA, the `governor` crate) of
//! `CONTACTS_API_RATE_LIMIT` per second with bursts of as many again; a request over it
//! gets 429 and `Retry-After`. With several app servers on one database, each allows
//! its share (the limit divided by the servers alive, see [`crate::db::app_servers`]),
//! so a key gets no more from all of them together than the limit.

use super::error::ApiError;
use crate::server::auth::KeyCaller;
use crate::server::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;
use std::sync::{Arc, PoisonError, RwLock};

/// The rate of each key on this server.
pub struct KeyRates {
    /// The install's limit per key, per second.
    limit: u32,
    /// The servers sharing it, and this server's limiter for its share.
    share: RwLock<(u32, Arc<DefaultKeyedRateLimiter<i64>>)>,
    clock: DefaultClock,
}

impl std::fmt::Debug for KeyRates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRates")
    }
}

impl KeyRates {
    /// `per_second` requests a second per key, with bursts of as many, on one server.
    pub fn new(per_second: u32) -> Self {
        let limit = per_second.max(1);
        KeyRates {
            limit,
            share: RwLock::new((1, Arc::new(limiter(limit)))),
            clock: DefaultClock::default(),
        }
    }

    /// Shares the limit out among `servers` alive (each allows its part, at least one
    /// request a second). A new share starts each key afresh.
    pub fn share(&self, servers: u32) {
        let servers = servers.max(1);
        let mut share = self.share.write().unwrap_or_else(PoisonError::into_inner);
        if share.0 != servers {
            *share = (servers, Arc::new(limiter(self.limit / servers)));
        }
    }

    /// Counts a request of key `id`: allowed, or how many seconds to wait.
    pub fn check(&self, id: i64) -> Result<(), u64> {
        let limiter = self
            .share
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .1
            .clone();
        limiter.check_key(&id).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
}

/// `per_second` a second per key, with bursts of as many (at least one).
fn limiter(per_second: u32) -> DefaultKeyedRateLimiter<i64> {
    let rate = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_second(rate).allow_burst(rate))
}

/// Refuses a key's request over its rate with 429 (requests without a valid key are
/// left to the handler, which refuses them with 401).
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if let Some(KeyCaller(key)) = request.extensions().get::<KeyCaller>()
        && let Err(wait) = state.api_rate.check(key.id)
    {
        return ApiError::rate_limited(wait.max(1)).into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_burst_then_waits_and_others_are_not_slowed() {
        let rates = KeyRates::new(3);
        for _ in 0..3 {
            assert_eq!(rates.check(1), Ok(()));
        }
        assert!(matches!(rates.check(1), Err(wait) if wait >= 1));
        assert_eq!(rates.check(2), Ok(()));
    }

    #[test]
    fn a_share_is_the_limit_divided_by_the_servers() {
        let rates = KeyRates::new(4);
        rates.share(2);
        for _ in 0..2 {
            assert_eq!(rates.check(1), Ok(()));
        }
        assert!(
            rates.check(1).is_err(),
            "two of four on each of two servers"
        );
        rates.share(1);
        for _ in 0..4 {
            assert_eq!(rates.check(1), Ok(()));
        }
        rates.share(9);
        assert_eq!(rates.check(1), Ok(()), "at least one a second");
    }
}
