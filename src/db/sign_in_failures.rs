//! Failed sign-ins counted per key (a client address or an account), in the database
//! so that every app server counts the same attempts. What the counts allow is the
//! throttle's business (`server::throttle`); this module keeps them.

use super::{Db, on};
use crate::error::AppError;

/// The failures counted for a key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Failures {
    pub count: u32,
    /// Unix time of the last one, in milliseconds.
    pub last_ms: i64,
}

/// Runs `decide` on the failures of both keys while no other attempt can change them
/// (SQLite's one writer; row locks on PostgreSQL, taken in key order so that two
/// attempts cannot wait on each other), and stores the counts it returns; its error is
/// handed back and nothing is stored. Attempts at once are thus decided one after
/// another, each seeing the ones before.
///
/// `decide` first sees the counts as a plain read: an attempt it refuses then never
/// opens a write transaction, so a flood of refused attempts cannot queue up for the
/// one writer (SQLite) or the row locks (PostgreSQL) ahead of real work.
///
/// Returns the counts that were replaced (for the caller to take its attempt back).
pub async fn update<E>(
    db: &Db,
    keys: [&str; 2],
    decide: impl Fn([Failures; 2]) -> Result<[Failures; 2], E>,
) -> Result<Result<[Failures; 2], E>, AppError> {
    let read = "SELECT key, count, last_at FROM sign_in_failures WHERE key IN ($1, $2)";
    let rows: Vec<(String, i64, i64)> = on!(db, pool => {
        sqlx::query_as(read).bind(keys[0]).bind(keys[1]).fetch_all(pool).await?
    });
    if let Err(e) = decide(of_rows(&rows, keys)) {
        return Ok(Err(e));
    }
    let mut sorted = keys;
    sorted.sort_unstable();
    let mut tx = db.begin_write().await?;
    // Rows to lock: a key never seen gets one, counting nothing.
    let ensure = "INSERT INTO sign_in_failures (key, count, last_at) VALUES ($1, 0, 0), ($2, 0, 0)
                  ON CONFLICT (key) DO NOTHING";
    let lock = match tx.conn() {
        super::Backend::Postgres(_) => " ORDER BY key FOR UPDATE",
        super::Backend::Sqlite(_) => "",
    };
    let locked = format!("{read}{lock}");
    let rows: Vec<(String, i64, i64)> = on!(tx.conn(), conn => {
        sqlx::query(ensure).bind(sorted[0]).bind(sorted[1]).execute(&mut *conn).await?;
        sqlx::query_as(&locked).bind(sorted[0]).bind(sorted[1]).fetch_all(&mut *conn).await?
    });
    let before = of_rows(&rows, keys);
    let counts = match decide(before) {
        Ok(counts) => counts,
        // Dropped, the transaction rolls back: the rows it made are not kept.
        Err(e) => return Ok(Err(e)),
    };
    let store = "UPDATE sign_in_failures SET count = $2, last_at = $3 WHERE key = $1";
    on!(tx.conn(), conn => {
        for (key, failures) in keys.iter().zip(counts) {
            sqlx::query(store)
                .bind(*key)
                .bind(i64::from(failures.count))
                .bind(failures.last_ms)
                .execute(&mut *conn)
                .await?;
        }
    });
    tx.commit().await?;
    Ok(Ok(before))
}

/// The failures of `keys` among `rows` (key, count, last_at); a key without a row has none.
fn of_rows(rows: &[(String, i64, i64)], keys: [&str; 2]) -> [Failures; 2] {
    keys.map(|key| {
        rows.iter()
            .find(|(k, _, _)| k == key)
            .map(|(_, count, last_ms)| Failures {
                count: u32::try_from(*count).unwrap_or(u32::MAX),
                last_ms: *last_ms,
            })
            .unwrap_or_default()
    })
}

/// A sign-in counted at `at` succeeded: forgets the failures of `account` (its owner
/// proved the password) and takes back only this attempt from `address` (its count, and
/// its time unless another attempt came since: then the last failure was `last_before`),
/// so that signing in to an account one owns neither wipes out the failures the same
/// address ran up guessing at others nor makes them wait longer.
pub async fn succeeded(
    db: &Db,
    address: &str,
    account: &str,
    at: i64,
    last_before: i64,
) -> Result<(), AppError> {
    let forget = "DELETE FROM sign_in_failures WHERE key = $1";
    let forgive = "UPDATE sign_in_failures
                   SET count = count - 1, last_at = CASE WHEN last_at = $2 THEN $3 ELSE last_at END
                   WHERE key = $1 AND count > 0";
    on!(db, pool => {
        sqlx::query(forget).bind(account).execute(pool).await?;
        sqlx::query(forgive).bind(address).bind(at).bind(last_before).execute(pool).await?;
    });
    Ok(())
}

/// Deletes the counts whose last failure is before `cutoff_ms`; returns how many.
pub async fn purge(db: &Db, cutoff_ms: i64) -> Result<u64, AppError> {
    let sql = "DELETE FROM sign_in_failures WHERE last_at < $1";
    Ok(on!(db, pool => sqlx::query(sql).bind(cutoff_ms).execute(pool).await?.rows_affected()))
}
