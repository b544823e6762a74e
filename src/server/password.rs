//! Password hashing with argon2id, off the async runtime and a few at a time.
//!
//! Each hash takes a core for tens of milliseconds and 19 MiB of memory (OWASP's
//! parameters), so at most one runs per core; the rest wait their turn, and a request
//! that waits too long is told the server is busy instead of piling up memory.

use crate::error::AppError;
use crate::model::account::MAX_PASSWORD_LEN;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::sync::Semaphore;

/// How long a request waits for a free hashing slot before it is refused.
const SLOT_WAIT: Duration = Duration::from_secs(10);

/// One slot per core.
fn slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        Semaphore::new(std::thread::available_parallelism().map_or(2, std::num::NonZero::get))
    })
}

/// Runs `work` on a blocking thread once a hashing slot is free.
async fn in_a_slot<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, AppError> + Send + 'static,
) -> Result<T, AppError> {
    let _slot = tokio::time::timeout(SLOT_WAIT, slots().acquire())
        .await
        .map_err(|_| {
            tracing::warn!("password hashing is saturated; a request was turned away");
            AppError::Unavailable(
                "Many people are signing in right now. Please try again in a moment.".into(),
            )
        })?
        .map_err(|e| AppError::internal("password hashing slots", e))?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::internal("password hashing task failed", e))?
}

/// Hashes a password into an argon2id PHC string (OWASP's recommended default parameters).
pub async fn hash_password(password: String) -> Result<String, AppError> {
    in_a_slot(move || hash_now(&password)).await
}

fn hash_now(password: &str) -> Result<String, AppError> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AppError::internal("password hashing failed", e))
}

/// Checks a password against a stored hash. With no hash (unknown email) it checks a
/// dummy one, so an unknown email takes as long as a wrong password. A password longer
/// than any the app accepts is wrong without being hashed.
pub async fn verify_password(password: String, stored: Option<String>) -> Result<bool, AppError> {
    if password.chars().count() > MAX_PASSWORD_LEN {
        return Ok(false);
    }
    in_a_slot(move || {
        let dummy;
        let (hash, known) = match &stored {
            Some(hash) => (hash.as_str(), true),
            None => {
                dummy = dummy_hash();
                (dummy, false)
            }
        };
        let parsed = PasswordHash::new(hash)
            .map_err(|e| AppError::internal("stored password hash is malformed", e))?;
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        Ok(known && matches)
    })
    .await
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_now("not anybody's password").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_accepts_its_password_only() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(
            verify_password("correct horse battery".into(), Some(hash.clone()))
                .await
                .unwrap()
        );
        assert!(
            !verify_password("wrong horse battery".into(), Some(hash))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn an_overlong_password_never_matches() {
        let long = "x".repeat(MAX_PASSWORD_LEN + 1);
        let hash = hash_password(long.clone()).await.unwrap();
        assert!(!verify_password(long, Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn hashes_wait_for_a_free_slot() {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let started = std::time::Instant::now();
        let all = (0..cores * 3).map(|i| hash_password(format!("password number {i}")));
        let hashes = futures::future::join_all(all).await;
        assert!(hashes.iter().all(Result::is_ok));
        assert_eq!(
            slots().available_permits(),
            cores,
            "every slot is given back"
        );
        assert!(started.elapsed() < SLOT_WAIT);
    }

    #[tokio::test]
    async fn an_unknown_user_never_matches() {
        assert!(
            !verify_password("not anybody's password".into(), None)
                .await
                .unwrap()
        );
    }
}
