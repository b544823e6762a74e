//! Workspaces: the owners of all data.

use super::users::PasswordOwner;
use super::{Db, Tx, on};
use crate::error::AppError;
use crate::model::Role;
use crate::model::account::NewWorkspace;

/// The ids created by the first-run set-up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CreatedWorkspace {
    /// The new workspace.
    pub workspace_id: i64,
    /// Its first admin.
    pub user_id: i64,
}

const INSERT: &str = "INSERT INTO workspaces (name, default_country) VALUES ($1, $2) RETURNING id";

/// Whether any workspace exists yet (before that, the app offers "Create workspace").
pub async fn any_exists(db: &Db) -> Result<bool, AppError> {
    let sql = "SELECT id FROM workspaces LIMIT 1";
    let found: Option<i64> = on!(db, pool => sqlx::query_scalar(sql).fetch_optional(pool).await)?;
    Ok(found.is_some())
}

/// Creates the install's first workspace and its admin, atomically; refuses once any
/// workspace exists, so sign-up closes with the first one even under concurrent requests.
pub async fn create_first(
    db: &Db,
    new: &NewWorkspace,
    password_hash: &str,
) -> Result<CreatedWorkspace, AppError> {
    let mut tx = db.begin_write().await?;
    tx.lock_table("workspaces").await?;
    let sql = "INSERT INTO workspaces (name, default_country)
               SELECT $1, $2 WHERE NOT EXISTS (SELECT 1 FROM workspaces)
               RETURNING id";
    let workspace_id: Option<i64> = on!(tx.conn(), conn => {
        sqlx::query_scalar(sql)
            .bind(&new.name)
            .bind(&new.default_country)
            .fetch_optional(conn)
            .await
    })?;
    let Some(workspace_id) = workspace_id else {
        return Err(AppError::Conflict(
            "This Contacts install already has a workspace. Sign in, or ask its admin to add you."
                .into(),
        ));
    };
    add_admin(tx, workspace_id, new, password_hash, PasswordOwner::User).await
}

/// Creates a further workspace with its first admin, atomically (an operator's command:
/// sign-up itself closes with the first workspace). The admin's password is a temporary
/// one, to be changed at first sign-in; an email already in use leaves nothing behind.
pub async fn create_with_admin(
    db: &Db,
    new: &NewWorkspace,
    temporary_password_hash: &str,
) -> Result<CreatedWorkspace, AppError> {
    let mut tx = db.begin_write().await?;
    let workspace_id: i64 = on!(tx.conn(), conn => {
        sqlx::query_scalar(INSERT)
            .bind(&new.name)
            .bind(&new.default_country)
            .fetch_one(conn)
            .await
    })?;
    add_admin(
        tx,
        workspace_id,
        new,
        temporary_password_hash,
        PasswordOwner::Admin,
    )
    .await
}

/// Adds the new workspace's admin in its transaction and commits both.
async fn add_admin(
    mut tx: Tx,
    workspace_id: i64,
    new: &NewWorkspace,
    password_hash: &str,
    owner: PasswordOwner,
) -> Result<CreatedWorkspace, AppError> {
    let user_id = super::users::insert(
        tx.conn(),
        workspace_id,
        &new.email,
        password_hash,
        Role::Admin,
        owner,
    )
    .await?;
    tx.commit().await?;
    Ok(CreatedWorkspace {
        workspace_id,
        user_id,
    })
}

/// Creates a further workspace without users (tests).
pub async fn create(db: &Db, name: &str, default_country: &str) -> Result<i64, AppError> {
    let id = on!(db, pool => {
        sqlx::query_scalar(INSERT)
            .bind(name)
            .bind(default_country)
            .fetch_one(pool)
            .await
    })?;
    Ok(id)
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::db_tests!(sign_up_closes_with_the_first_workspace);

    fn new_workspace(email: &str) -> NewWorkspace {
        NewWorkspace {
            name: "Acme".into(),
            default_country: "SG".into(),
            email: email.into(),
            password: String::new(),
        }
    }

    async fn sign_up_closes_with_the_first_workspace(db: Db) {
        assert!(!any_exists(&db).await.unwrap());
        let first = create_first(&db, &new_workspace("a@acme.test"), "hash")
            .await
            .unwrap();
        assert!(any_exists(&db).await.unwrap());
        let second = create_first(&db, &new_workspace("b@acme.test"), "hash").await;
        assert!(matches!(second, Err(AppError::Conflict(_))));
        let users = crate::db::users::list(&db, first.workspace_id)
            .await
            .unwrap();
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].role, Role::Admin);
        let sql = "SELECT count(*) FROM users";
        let count: i64 = on!(&db, pool => sqlx::query_scalar(sql).fetch_one(pool).await).unwrap();
        assert_eq!(count, 1, "the refused set-up left no user behind");
    }
}
