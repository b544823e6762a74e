//! Requests per API key: a generic cell rate (GCRA, the `governor` crate) of
//! `CONTACTS_API_RATE_LIMIT` per second with bursts of as many again; a request over it
//! gets 429 and `Retry-After`.

use super::error::ApiError;
use crate::server::auth::KeyCaller;
use crate::server::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;

/// The rate of each key.
pub struct KeyRates {
    limiter: DefaultKeyedRateLimiter<i64>,
    clock: DefaultClock,
}

impl std::fmt::Debug for KeyRates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyRates")
    }
}

impl KeyRates {
    /// `per_second` requests a second per key, with bursts of as many.
    pub fn new(per_second: u32) -> Self {
        let rate = NonZeroU32::new(per_second.max(1)).unwrap_or(NonZeroU32::MIN);
        KeyRates {
            limiter: RateLimiter::keyed(Quota::per_second(rate).allow_burst(rate)),
            clock: DefaultClock::default(),
        }
    }

    /// Counts a request of key `id`: allowed, or how many seconds to wait.
    pub fn check(&self, id: i64) -> Result<(), u64> {
        self.limiter.check_key(&id).map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }
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
}
