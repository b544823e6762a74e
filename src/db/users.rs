//! Users of a workspace.

use crate::error::AppError;
use crate::model::{Role, UserSummary};
use sqlx::{Sqlite, SqlitePool, Transaction};

/// What sign-in needs to check a password. Looked up by email alone, since the
/// workspace is not known before sign-in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Credentials {
    /// The user's id.
    pub id: i64,
    /// The user's workspace.
    pub workspace_id: i64,
    /// The argon2id PHC string.
    pub password_hash: String,
}

/// Finds the credentials for an email (already normalised to lower case).
pub async fn credentials_by_email(
    pool: &SqlitePool,
    email: &str,
) -> Result<Option<Credentials>, AppError> {
    let found =
        sqlx::query_as("SELECT id, workspace_id, password_hash FROM users WHERE email = ?1")
            .bind(email)
            .fetch_optional(pool)
            .await?;
    Ok(found)
}

/// The stored password hash of a user (to check their current password).
pub async fn password_hash(
    pool: &SqlitePool,
    workspace_id: i64,
    user_id: i64,
) -> Result<String, AppError> {
    sqlx::query_scalar("SELECT password_hash FROM users WHERE workspace_id = ?1 AND id = ?2")
        .bind(workspace_id)
        .bind(user_id)
        .fetch_optional(pool)
        .await?
        .ok_or(AppError::Unauthorized)
}

/// Whose password a new password is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PasswordOwner {
    /// The user chose it.
    User,
    /// An admin set it: the user must choose their own at first sign-in.
    Admin,
}

/// Inserts a user inside a transaction; a taken email becomes a field error.
pub(crate) async fn insert(
    tx: &mut Transaction<'_, Sqlite>,
    workspace_id: i64,
    email: &str,
    password_hash: &str,
    role: Role,
    owner: PasswordOwner,
) -> Result<i64, AppError> {
    sqlx::query_scalar(
        "INSERT INTO users (workspace_id, email, password_hash, role, must_change_password)
         VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id",
    )
    .bind(workspace_id)
    .bind(email)
    .bind(password_hash)
    .bind(role.as_str())
    .bind(owner == PasswordOwner::Admin)
    .fetch_one(&mut **tx)
    .await
    .map_err(email_taken)
}

/// Adds a user to a workspace, with a password of their own or one an admin set (to be
/// changed at first sign-in).
pub async fn create(
    pool: &SqlitePool,
    workspace_id: i64,
    email: &str,
    password_hash: &str,
    role: Role,
    owner: PasswordOwner,
) -> Result<i64, AppError> {
    let mut tx = super::begin_write(pool).await?;
    let id = insert(&mut tx, workspace_id, email, password_hash, role, owner).await?;
    tx.commit().await?;
    Ok(id)
}

/// Gives a user of the workspace a new password and ends their sessions, all but `keep`
/// (the session that changed its own password stays signed in).
pub async fn set_password(
    pool: &SqlitePool,
    workspace_id: i64,
    user_id: i64,
    password_hash: &str,
    owner: PasswordOwner,
    keep: Option<&[u8]>,
) -> Result<(), AppError> {
    let mut tx = super::begin_write(pool).await?;
    let updated = sqlx::query(
        "UPDATE users SET password_hash = ?3, must_change_password = ?4, updated_at = unixepoch()
         WHERE workspace_id = ?1 AND id = ?2",
    )
    .bind(workspace_id)
    .bind(user_id)
    .bind(password_hash)
    .bind(owner == PasswordOwner::Admin)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(AppError::NotFound(
            "That user is not in this workspace.".into(),
        ));
    }
    super::sessions::end_all_of_user(&mut tx, user_id, keep).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a user from the workspace: their sessions end at once, their uploads stay
/// (shown as by a removed user). Nobody removes themselves, and the last admin stays.
pub async fn remove(
    pool: &SqlitePool,
    workspace_id: i64,
    user_id: i64,
    acting_user_id: i64,
) -> Result<(), AppError> {
    if user_id == acting_user_id {
        return Err(AppError::Conflict(
            "You cannot remove yourself. Ask another admin.".into(),
        ));
    }
    let mut tx = super::begin_write(pool).await?;
    super::sessions::end_all_of_user(&mut tx, user_id, None).await?;
    let removed = sqlx::query("DELETE FROM users WHERE workspace_id = ?1 AND id = ?2")
        .bind(workspace_id)
        .bind(user_id)
        .execute(&mut *tx)
        .await?;
    if removed.rows_affected() == 0 {
        return Err(AppError::NotFound(
            "That user is not in this workspace.".into(),
        ));
    }
    ensure_an_admin(&mut tx, workspace_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Fails (so the caller's transaction is rolled back) if the workspace has no admin left.
async fn ensure_an_admin(
    tx: &mut Transaction<'_, Sqlite>,
    workspace_id: i64,
) -> Result<(), AppError> {
    let admins: i64 =
        sqlx::query_scalar("SELECT count(*) FROM users WHERE workspace_id = ?1 AND role = 'admin'")
            .bind(workspace_id)
            .fetch_one(&mut **tx)
            .await?;
    if admins == 0 {
        return Err(AppError::Conflict(
            "A workspace needs at least one admin. Make someone else admin first.".into(),
        ));
    }
    Ok(())
}

fn email_taken(error: sqlx::Error) -> AppError {
    if super::is_unique_violation(&error) {
        AppError::invalid("email", "A user with this email already exists.")
    } else {
        error.into()
    }
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    email: String,
    role: String,
    created_at: i64,
}

impl UserRow {
    fn into_summary(self) -> Result<UserSummary, AppError> {
        let role = self
            .role
            .parse()
            .map_err(|e| AppError::internal("bad role in users table", format!("{e:?}")))?;
        Ok(UserSummary {
            id: self.id,
            email: self.email,
            role,
            created_at: self.created_at,
        })
    }
}

/// The users of one workspace, by email.
pub async fn list(pool: &SqlitePool, workspace_id: i64) -> Result<Vec<UserSummary>, AppError> {
    let rows: Vec<UserRow> = sqlx::query_as(
        "SELECT id, email, role, created_at FROM users WHERE workspace_id = ?1 ORDER BY email",
    )
    .bind(workspace_id)
    .fetch_all(pool)
    .await?;
    rows.into_iter().map(UserRow::into_summary).collect()
}

/// Changes a user's role; refuses to leave the workspace without an admin.
pub async fn set_role(
    pool: &SqlitePool,
    workspace_id: i64,
    user_id: i64,
    role: Role,
) -> Result<(), AppError> {
    let mut tx = super::begin_write(pool).await?;
    let updated = sqlx::query(
        "UPDATE users SET role = ?3, updated_at = unixepoch()
         WHERE workspace_id = ?1 AND id = ?2",
    )
    .bind(workspace_id)
    .bind(user_id)
    .bind(role.as_str())
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() == 0 {
        return Err(AppError::NotFound(
            "That user is not in this workspace.".into(),
        ));
    }
    ensure_an_admin(&mut tx, workspace_id).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::workspaces;

    async fn two_workspaces(pool: &SqlitePool) -> (i64, i64) {
        let a = workspaces::create(pool, "A", "SG").await.unwrap();
        let b = workspaces::create(pool, "B", "GB").await.unwrap();
        create(
            pool,
            a,
            "ann@a.test",
            "hash",
            Role::Admin,
            PasswordOwner::User,
        )
        .await
        .unwrap();
        create(
            pool,
            a,
            "abe@a.test",
            "hash",
            Role::Viewer,
            PasswordOwner::User,
        )
        .await
        .unwrap();
        create(
            pool,
            b,
            "bob@b.test",
            "hash",
            Role::Admin,
            PasswordOwner::User,
        )
        .await
        .unwrap();
        (a, b)
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn a_workspace_lists_only_its_own_users(pool: SqlitePool) {
        let (a, b) = two_workspaces(&pool).await;
        let emails =
            |users: Vec<UserSummary>| users.into_iter().map(|u| u.email).collect::<Vec<_>>();
        assert_eq!(
            emails(list(&pool, a).await.unwrap()),
            ["abe@a.test", "ann@a.test"]
        );
        assert_eq!(emails(list(&pool, b).await.unwrap()), ["bob@b.test"]);
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn roles_of_another_workspace_cannot_be_changed(pool: SqlitePool) {
        let (a, b) = two_workspaces(&pool).await;
        let bob = list(&pool, b).await.unwrap()[0].id;
        assert!(matches!(
            set_role(&pool, a, bob, Role::Viewer).await,
            Err(AppError::NotFound(_))
        ));
        assert_eq!(list(&pool, b).await.unwrap()[0].role, Role::Admin);
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn the_last_admin_keeps_the_role(pool: SqlitePool) {
        let (a, _) = two_workspaces(&pool).await;
        let users = list(&pool, a).await.unwrap();
        let ann = users.iter().find(|u| u.email == "ann@a.test").unwrap().id;
        let abe = users.iter().find(|u| u.email == "abe@a.test").unwrap().id;
        assert!(matches!(
            set_role(&pool, a, ann, Role::Editor).await,
            Err(AppError::Conflict(_))
        ));
        set_role(&pool, a, abe, Role::Admin).await.unwrap();
        set_role(&pool, a, ann, Role::Editor).await.unwrap();
        let roles: Vec<_> = list(&pool, a)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.role)
            .collect();
        assert_eq!(roles, [Role::Admin, Role::Editor]);
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn an_email_signs_in_to_one_account_only(pool: SqlitePool) {
        let (_, b) = two_workspaces(&pool).await;
        let again = create(
            &pool,
            b,
            "ann@a.test",
            "hash",
            Role::Editor,
            PasswordOwner::User,
        )
        .await;
        assert_eq!(
            again.unwrap_err().field_message("email").as_deref(),
            Some("A user with this email already exists.")
        );
    }
}
