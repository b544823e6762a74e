//! API keys: made by admins (or the operator's command), looked up by the hash of their
//! secret on every API request, revoked at once.

use super::{Db, on};
use crate::error::AppError;
use crate::model::Role;
use crate::model::api_key::ApiKeySummary;

/// A key to store: everything but its secret, of which only the hash is kept.
#[derive(Clone, Copy, Debug)]
pub struct NewKey<'a> {
    /// Its workspace.
    pub workspace_id: i64,
    /// Its name.
    pub name: &'a str,
    /// Editor or viewer.
    pub role: Role,
    /// The first characters of the secret.
    pub prefix: &'a str,
    /// SHA-256 of the secret.
    pub secret_hash: &'a [u8],
    /// The admin who made it (none from the command line).
    pub created_by: Option<i64>,
}

/// Stores a new key; returns its id.
pub async fn create(db: &Db, key: &NewKey<'_>) -> Result<i64, AppError> {
    let sql = "INSERT INTO api_keys (workspace_id, name, role, prefix, secret_hash, created_by,
                   created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    Ok(on!(db, pool => {
        sqlx::query_scalar(sql)
            .bind(key.workspace_id)
            .bind(key.name)
            .bind(key.role.as_str())
            .bind(key.prefix)
            .bind(key.secret_hash)
            .bind(key.created_by)
            .bind(super::now())
            .fetch_one(pool)
            .await?
    }))
}

#[derive(sqlx::FromRow)]
struct KeyRow {
    id: i64,
    name: String,
    role: String,
    prefix: String,
    created_at: i64,
    created_by: Option<String>,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

fn role_of(text: &str) -> Result<Role, AppError> {
    text.parse()
        .map_err(|e| AppError::internal("bad role in api_keys", format!("{e:?}")))
}

/// The workspace's keys, newest first, revoked ones included.
pub async fn list(db: &Db, workspace_id: i64) -> Result<Vec<ApiKeySummary>, AppError> {
    let sql = "SELECT k.id, k.name, k.role, k.prefix, k.created_at, u.email AS created_by,
                      k.last_used_at, k.revoked_at
               FROM api_keys k
               LEFT JOIN users u ON u.workspace_id = k.workspace_id AND u.id = k.created_by
               WHERE k.workspace_id = $1 ORDER BY k.id DESC";
    let rows: Vec<KeyRow> =
        on!(db, pool => sqlx::query_as(sql).bind(workspace_id).fetch_all(pool).await?);
    rows.into_iter()
        .map(|r| {
            Ok(ApiKeySummary {
                role: role_of(&r.role)?,
                id: r.id,
                name: r.name,
                prefix: r.prefix,
                created_at: r.created_at,
                created_by: r.created_by.unwrap_or_default(),
                last_used_at: r.last_used_at,
                revoked_at: r.revoked_at,
            })
        })
        .collect()
}

/// Revokes a key of the workspace: every request with it is refused from now on.
pub async fn revoke(db: &Db, workspace_id: i64, id: i64) -> Result<(), AppError> {
    let sql = "UPDATE api_keys SET revoked_at = $3
               WHERE workspace_id = $1 AND id = $2 AND revoked_at IS NULL";
    let done = on!(db, pool => {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(id)
            .bind(super::now())
            .execute(pool)
            .await?
            .rows_affected()
    });
    if done == 0 {
        return Err(AppError::NotFound(
            "That key does not exist or was revoked already.".into(),
        ));
    }
    Ok(())
}

/// The key a request names, if it exists and is not revoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyOwner {
    /// The key's id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// Its name.
    pub name: String,
    /// What it may do.
    pub role: Role,
    /// Its workspace's default country.
    pub default_country: String,
    /// Last used (seconds), to record use at most once a minute.
    pub last_used_at: Option<i64>,
}

/// The unrevoked key whose secret hashes to `secret_hash`.
pub async fn by_secret(db: &Db, secret_hash: &[u8]) -> Result<Option<KeyOwner>, AppError> {
    let sql = "SELECT k.id, k.workspace_id, k.name, k.role, w.default_country, k.last_used_at
               FROM api_keys k JOIN workspaces w ON w.id = k.workspace_id
               WHERE k.secret_hash = $1 AND k.revoked_at IS NULL";
    type Row = (i64, i64, String, String, String, Option<i64>);
    let row: Option<Row> = on!(db, pool => {
        sqlx::query_as(sql).bind(secret_hash).fetch_optional(pool).await?
    });
    row.map(
        |(id, workspace_id, name, role, default_country, last_used_at)| {
            Ok(KeyOwner {
                role: role_of(&role)?,
                id,
                workspace_id,
                name,
                default_country,
                last_used_at,
            })
        },
    )
    .transpose()
}

/// Notes that a key was used now.
pub async fn touch(db: &Db, workspace_id: i64, id: i64, now: i64) -> Result<(), AppError> {
    let sql = "UPDATE api_keys SET last_used_at = $3 WHERE workspace_id = $1 AND id = $2";
    on!(db, pool => {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(id)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::workspaces;

    crate::db_tests!(keys_are_found_by_their_hash_until_revoked);

    async fn keys_are_found_by_their_hash_until_revoked(db: Db) {
        let ws = workspaces::create(&db, "A", "SG").await.unwrap();
        let other = workspaces::create(&db, "B", "SG").await.unwrap();
        let key = NewKey {
            workspace_id: ws,
            name: "Shop",
            role: Role::Editor,
            prefix: "ck_abc",
            secret_hash: b"hash-1",
            created_by: None,
        };
        let id = create(&db, &key).await.unwrap();
        let found = by_secret(&db, b"hash-1").await.unwrap().unwrap();
        assert_eq!(
            (found.id, found.workspace_id, found.role),
            (id, ws, Role::Editor)
        );
        assert_eq!(by_secret(&db, b"hash-2").await.unwrap(), None);
        touch(&db, ws, id, 1_000).await.unwrap();
        assert_eq!(list(&db, ws).await.unwrap()[0].last_used_at, Some(1_000));
        assert!(list(&db, other).await.unwrap().is_empty());
        assert!(matches!(
            revoke(&db, other, id).await,
            Err(AppError::NotFound(_))
        ));
        revoke(&db, ws, id).await.unwrap();
        assert_eq!(by_secret(&db, b"hash-1").await.unwrap(), None);
        assert!(list(&db, ws).await.unwrap()[0].revoked_at.is_some());
        assert!(revoke(&db, ws, id).await.is_err(), "revoked once");
    }
}
