//! Sign-in sessions, stored so that a restart keeps users signed in.

use super::{Conn, Db, on};
use crate::error::AppError;
use crate::model::CurrentUser;

/// Stores a new session for a user of a workspace.
pub async fn create(
    db: &Db,
    token_hash: &[u8],
    workspace_id: i64,
    user_id: i64,
    expires_at: i64,
) -> Result<(), AppError> {
    let sql = "INSERT INTO sessions (token_hash, workspace_id, user_id, expires_at)
               VALUES ($1, $2, $3, $4)";
    on!(db, pool => {
        sqlx::query(sql)
            .bind(token_hash)
            .bind(workspace_id)
            .bind(user_id)
            .bind(expires_at)
            .execute(pool)
            .await?
            .rows_affected()
    });
    Ok(())
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: i64,
    email: String,
    role: String,
    workspace_id: i64,
    workspace_name: String,
    default_country: String,
    must_change_password: bool,
}

/// The user behind an unexpired session, with their workspace.
pub async fn user_for_token(
    db: &Db,
    token_hash: &[u8],
    now: i64,
) -> Result<Option<CurrentUser>, AppError> {
    let sql = "SELECT u.id, u.email, u.role, w.id AS workspace_id, w.name AS workspace_name,
                      w.default_country, u.must_change_password
               FROM sessions s
               JOIN users u ON u.id = s.user_id AND u.workspace_id = s.workspace_id
               JOIN workspaces w ON w.id = s.workspace_id
               WHERE s.token_hash = $1 AND s.expires_at > $2";
    let row: Option<SessionRow> = on!(db, pool => {
        sqlx::query_as(sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await
    })?;
    row.map(|r| {
        let role = r
            .role
            .parse()
            .map_err(|e| AppError::internal("bad role in users table", format!("{e:?}")))?;
        Ok(CurrentUser {
            id: r.id,
            email: r.email,
            role,
            workspace_id: r.workspace_id,
            workspace_name: r.workspace_name,
            default_country: r.default_country,
            must_change_password: r.must_change_password,
        })
    })
    .transpose()
}

/// Ends one session (sign out).
pub async fn delete(db: &Db, token_hash: &[u8]) -> Result<(), AppError> {
    let sql = "DELETE FROM sessions WHERE token_hash = $1";
    on!(db, pool => sqlx::query(sql).bind(token_hash).execute(pool).await?.rows_affected());
    Ok(())
}

/// Ends every session of a user but `keep` (in the caller's transaction).
pub async fn end_all_of_user(
    conn: Conn<'_>,
    user_id: i64,
    keep: Option<&[u8]>,
) -> Result<u64, AppError> {
    // Both conditions are needed: `token_hash <> NULL` is never true.
    let sql = match keep {
        Some(_) => "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2",
        None => "DELETE FROM sessions WHERE user_id = $1",
    };
    let done = on!(conn, conn => {
        let query = sqlx::query(sql).bind(user_id);
        let query = match keep {
            Some(keep) => query.bind(keep),
            None => query,
        };
        query.execute(conn).await?.rows_affected()
    });
    Ok(done)
}

/// Removes sessions that have expired; returns how many.
pub async fn delete_expired(db: &Db, now: i64) -> Result<u64, AppError> {
    let sql = "DELETE FROM sessions WHERE expires_at <= $1";
    let done = on!(db, pool => sqlx::query(sql).bind(now).execute(pool).await?.rows_affected());
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{users, workspaces};
    use crate::model::Role;

    crate::db_tests!(
        a_session_finds_its_user_until_it_expires_or_ends,
        expired_sessions_are_swept
    );

    async fn a_session_finds_its_user_until_it_expires_or_ends(db: Db) {
        let ws = workspaces::create(&db, "Acme", "SG").await.unwrap();
        let user = users::create(
            &db,
            ws,
            "ann@acme.test",
            "hash",
            Role::Editor,
            users::PasswordOwner::User,
        )
        .await
        .unwrap();
        create(&db, b"token-1", ws, user, 1_000).await.unwrap();

        let found = user_for_token(&db, b"token-1", 999).await.unwrap().unwrap();
        assert_eq!(
            (found.id, found.workspace_id, found.role),
            (user, ws, Role::Editor)
        );
        assert_eq!(found.workspace_name, "Acme");
        assert_eq!(user_for_token(&db, b"token-2", 999).await.unwrap(), None);
        assert_eq!(
            user_for_token(&db, b"token-1", 1_000).await.unwrap(),
            None,
            "expired"
        );

        delete(&db, b"token-1").await.unwrap();
        assert_eq!(
            user_for_token(&db, b"token-1", 999).await.unwrap(),
            None,
            "signed out"
        );
    }

    async fn expired_sessions_are_swept(db: Db) {
        let ws = workspaces::create(&db, "Acme", "SG").await.unwrap();
        let user = users::create(
            &db,
            ws,
            "ann@acme.test",
            "hash",
            Role::Editor,
            users::PasswordOwner::User,
        )
        .await
        .unwrap();
        create(&db, b"old", ws, user, 10).await.unwrap();
        create(&db, b"new", ws, user, 100).await.unwrap();
        assert_eq!(delete_expired(&db, 50).await.unwrap(), 1);
        assert!(user_for_token(&db, b"new", 50).await.unwrap().is_some());
    }
}
