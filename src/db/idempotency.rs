//! The first response to each POST with an `Idempotency-Key`, kept for its retries (the
//! IETF httpapi draft): per API key, 24 hours, with a fingerprint of the request.

use super::{Db, on};
use crate::error::AppError;

/// How long a response is kept for its retries, in seconds.
pub const RETENTION_SECS: i64 = 24 * 3600;

/// A first request that died without answering (its server stopped) no longer holds its
/// key after this long, in seconds: a retry runs it again. (A request whose client went
/// away lets go at once; an upload of the largest file takes well under this.)
pub const ABANDONED_SECS: i64 = 30 * 60;

/// What a key already has.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Earlier {
    /// Nothing: this request is the first, and now holds the key.
    None,
    /// The first request with the key is still running.
    Running,
    /// The first request's response.
    Done(Stored),
}

/// A stored response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// SHA-256 of the first request's method, path and body.
    pub fingerprint: Vec<u8>,
    /// Its status.
    pub status: u16,
    /// The headers a client needs, `[[name, value], …]` as JSON.
    pub headers: String,
    /// Its body.
    pub body: Vec<u8>,
}

/// Takes the key for a request, or says what holds it. Keys older than a day are taken
/// anew, as are keys whose first request was abandoned.
pub async fn begin(
    db: &Db,
    workspace_id: i64,
    api_key_id: i64,
    key: &str,
    now: i64,
) -> Result<Earlier, AppError> {
    let stale = "DELETE FROM idempotent_requests
                 WHERE workspace_id = $1 AND api_key_id = $2 AND idempotency_key = $3
                   AND (created_at <= $4 OR (status IS NULL AND created_at <= $5))";
    let insert = "INSERT INTO idempotent_requests
                      (workspace_id, api_key_id, idempotency_key, created_at)
                  VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
    let select = "SELECT fingerprint, status, headers, body FROM idempotent_requests
                  WHERE workspace_id = $1 AND api_key_id = $2 AND idempotency_key = $3";
    type Row = (
        Option<Vec<u8>>,
        Option<i64>,
        Option<String>,
        Option<Vec<u8>>,
    );
    let (inserted, row) = on!(db, pool => {
        sqlx::query(stale)
            .bind(workspace_id)
            .bind(api_key_id)
            .bind(key)
            .bind(now - RETENTION_SECS)
            .bind(now - ABANDONED_SECS)
            .execute(pool)
            .await?;
        let inserted = sqlx::query(insert)
            .bind(workspace_id)
            .bind(api_key_id)
            .bind(key)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected();
        let row: Option<Row> = if inserted == 0 {
            sqlx::query_as(select)
                .bind(workspace_id)
                .bind(api_key_id)
                .bind(key)
                .fetch_optional(pool)
                .await?
        } else {
            None
        };
        (inserted, row)
    });
    if inserted == 1 {
        return Ok(Earlier::None);
    }
    Ok(match row {
        Some((Some(fingerprint), Some(status), headers, body)) => Earlier::Done(Stored {
            fingerprint,
            status: u16::try_from(status).unwrap_or(500),
            headers: headers.unwrap_or_else(|| "[]".into()),
            body: body.unwrap_or_default(),
        }),
        // Deleted between the insert and the select: as if still running; the client
        // retries.
        _ => Earlier::Running,
    })
}

/// Stores the first request's response for its retries.
pub async fn finish(
    db: &Db,
    workspace_id: i64,
    api_key_id: i64,
    key: &str,
    stored: &Stored,
) -> Result<(), AppError> {
    let sql =
        "UPDATE idempotent_requests SET fingerprint = $4, status = $5, headers = $6, body = $7
               WHERE workspace_id = $1 AND api_key_id = $2 AND idempotency_key = $3";
    on!(db, pool => {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(api_key_id)
            .bind(key)
            .bind(&stored.fingerprint)
            .bind(i64::from(stored.status))
            .bind(&stored.headers)
            .bind(&stored.body)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Lets go of a key whose first request left nothing to replay (it failed on the
/// server, or did not read its whole body): a retry runs it again.
pub async fn release(
    db: &Db,
    workspace_id: i64,
    api_key_id: i64,
    key: &str,
) -> Result<(), AppError> {
    let sql = "DELETE FROM idempotent_requests
               WHERE workspace_id = $1 AND api_key_id = $2 AND idempotency_key = $3
                 AND status IS NULL";
    on!(db, pool => {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(api_key_id)
            .bind(key)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}

/// Forgets responses older than a day; returns how many.
pub async fn purge(db: &Db, now: i64) -> Result<u64, AppError> {
    let sql = "DELETE FROM idempotent_requests WHERE created_at <= $1";
    Ok(on!(db, pool => {
        sqlx::query(sql)
            .bind(now - RETENTION_SECS)
            .execute(pool)
            .await?
            .rows_affected()
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{api_keys, workspaces};
    use crate::model::Role;

    crate::db_tests!(a_key_is_held_then_replayed_then_forgotten);

    async fn a_key_is_held_then_replayed_then_forgotten(db: Db) {
        let ws = workspaces::create(&db, "A", "SG").await.unwrap();
        let key = api_keys::create(
            &db,
            &api_keys::NewKey {
                workspace_id: ws,
                name: "Shop",
                role: Role::Editor,
                prefix: "ck_x",
                secret_hash: b"h",
                created_by: None,
            },
        )
        .await
        .unwrap();
        assert_eq!(begin(&db, ws, key, "k1", 100).await.unwrap(), Earlier::None);
        assert_eq!(
            begin(&db, ws, key, "k1", 101).await.unwrap(),
            Earlier::Running
        );
        let stored = Stored {
            fingerprint: vec![1, 2],
            status: 201,
            headers: "[]".into(),
            body: b"{}".to_vec(),
        };
        finish(&db, ws, key, "k1", &stored).await.unwrap();
        assert_eq!(
            begin(&db, ws, key, "k1", 102).await.unwrap(),
            Earlier::Done(stored)
        );
        // A day later the key is free again.
        assert_eq!(
            begin(&db, ws, key, "k1", 100 + RETENTION_SECS)
                .await
                .unwrap(),
            Earlier::None
        );
        // A first request that never answered lets go after a while.
        assert_eq!(begin(&db, ws, key, "k2", 100).await.unwrap(), Earlier::None);
        assert_eq!(
            begin(&db, ws, key, "k2", 100 + ABANDONED_SECS)
                .await
                .unwrap(),
            Earlier::None
        );
        release(&db, ws, key, "k2").await.unwrap();
        assert_eq!(purge(&db, 100 + 2 * RETENTION_SECS).await.unwrap(), 1);
    }
}
