//! Users of a workspace.

use super::{Conn, Db, on};
use crate::error::AppError;
use crate::model::{Role, UserSummary};

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
pub async fn credentials_by_email(db: &Db, email: &str) -> Result<Option<Credentials>, AppError> {
    let sql = "SELECT id, workspace_id, password_hash FROM users WHERE email = $1";
    let found = on!(db, pool => sqlx::query_as(sql).bind(email).fetch_optional(pool).await)?;
    Ok(found)
}

/// The workspace and id of the admin with this email (lower case), if there is one.
pub async fn admin_by_email(db: &Db, email: &str) -> Result<Option<(i64, i64)>, AppError> {
    let sql = "SELECT workspace_id, id FROM users WHERE email = $1 AND role = 'admin'";
    Ok(on!(db, pool => sqlx::query_as(sql).bind(email).fetch_optional(pool).await)?)
}

/// The stored password hash of a user (to check their current password).
pub async fn password_hash(db: &Db, workspace_id: i64, user_id: i64) -> Result<String, AppError> {
    let sql = "SELECT password_hash FROM users WHERE workspace_id = $1 AND id = $2";
    let found: Option<String> = on!(db, pool => {
        sqlx::query_scalar(sql)
            .bind(workspace_id)
            .bind(user_id)
            .fetch_optional(pool)
            .await
    })?;
    found.ok_or(AppError::Unauthorized)
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
    conn: Conn<'_>,
    workspace_id: i64,
    email: &str,
    password_hash: &str,
    role: Role,
    owner: PasswordOwner,
) -> Result<i64, AppError> {
    let sql = "INSERT INTO users (workspace_id, email, password_hash, role, must_change_password)
               VALUES ($1, $2, $3, $4, $5) RETURNING id";
    on!(conn, conn => {
        sqlx::query_scalar(sql)
            .bind(workspace_id)
            .bind(email)
            .bind(password_hash)
            .bind(role.as_str())
            .bind(owner == PasswordOwner::Admin)
            .fetch_one(conn)
            .await
    })
    .map_err(email_taken)
}

/// Adds a user to a workspace, with a password of their own or one an admin set (to be
/// changed at first sign-in).
pub async fn create(
    db: &Db,
    workspace_id: i64,
    email: &str,
    password_hash: &str,
    role: Role,
    owner: PasswordOwner,
) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    let id = insert(tx.conn(), workspace_id, email, password_hash, role, owner).await?;
    tx.commit().await?;
    Ok(id)
}

/// Gives a user of the workspace a new password and ends their sessions, all but `keep`
/// (the session that changed its own password stays signed in).
pub async fn set_password(
    db: &Db,
    workspace_id: i64,
    user_id: i64,
    password_hash: &str,
    owner: PasswordOwner,
    keep: Option<&[u8]>,
) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let sql = "UPDATE users SET password_hash = $3, must_change_password = $4, updated_at = $5
               WHERE workspace_id = $1 AND id = $2";
    let updated = on!(tx.conn(), conn => {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(user_id)
            .bind(password_hash)
            .bind(owner == PasswordOwner::Admin)
            .bind(super::now())
            .execute(conn)
            .await?
            .rows_affected()
    });
    if updated == 0 {
        return Err(AppError::NotFound(
            "That user is not in this workspace.".into(),
        ));
    }
    super::sessions::end_all_of_user(tx.conn(), user_id, keep).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes a user from the workspace: their sessions end at once, their uploads stay
/// (shown as by a removed user). Nobody removes themselves, and the last admin stays.
pub async fn remove(
    db: &Db,
    workspace_id: i64,
    user_id: i64,
    acting_user_id: i64,
) -> Result<(), AppError> {
    if user_id == acting_user_id {
        return Err(AppError::Conflict(
            "You cannot remove yourself. Ask another admin.".into(),
        ));
    }
    let mut tx = db.begin_write().await?;
    super::sessions::end_all_of_user(tx.conn(), user_id, None).await?;
    let sql = "DELETE FROM users WHERE workspace_id = $1 AND id = $2";
    let removed = on!(tx.conn(), conn => {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(user_id)
            .execute(conn)
            .await?
            .rows_affected()
    });
    if removed == 0 {
        return Err(AppError::NotFound(
            "That user is not in this workspace.".into(),
        ));
    }
    ensure_an_admin(tx.conn(), workspace_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Fails (so the caller's transaction is rolled back) if the workspace has no admin left.
async fn ensure_an_admin(conn: Conn<'_>, workspace_id: i64) -> Result<(), AppError> {
    let sql = "SELECT count(*) FROM users WHERE workspace_id = $1 AND role = 'admin'";
    let admins: i64 =
        on!(conn, conn => sqlx::query_scalar(sql).bind(workspace_id).fetch_one(conn).await)?;
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
pub async fn list(db: &Db, workspace_id: i64) -> Result<Vec<UserSummary>, AppError> {
    let sql =
        "SELECT id, email, role, created_at FROM users WHERE workspace_id = $1 ORDER BY email";
    let rows: Vec<UserRow> =
        on!(db, pool => sqlx::query_as(sql).bind(workspace_id).fetch_all(pool).await)?;
    rows.into_iter().map(UserRow::into_summary).collect()
}

/// Changes a user's role; refuses to leave the workspace without an admin.
pub async fn set_role(
    db: &Db,
    workspace_id: i64,
    user_id: i64,
    role: Role,
) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let sql = "UPDATE users SET role = $3, updated_at = $4 WHERE workspace_id = $1 AND id = $2";
    let updated = on!(tx.conn(), conn => {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(user_id)
            .bind(role.as_str())
            .bind(super::now())
            .execute(conn)
            .await?
            .rows_affected()
    });
    if updated == 0 {
        return Err(AppError::NotFound(
            "That user is not in this workspace.".into(),
        ));
    }
    ensure_an_admin(tx.conn(), workspace_id).await?;
    tx.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::workspaces;

    crate::db_tests!(
        a_workspace_lists_only_its_own_users,
        roles_of_another_workspace_cannot_be_changed,
        the_last_admin_keeps_the_role,
        an_email_signs_in_to_one_account_only
    );

    async fn two_workspaces(db: &Db) -> (i64, i64) {
        let a = workspaces::create(db, "A", "SG").await.unwrap();
        let b = workspaces::create(db, "B", "GB").await.unwrap();
        create(
            db,
            a,
            "ann@a.test",
            "hash",
            Role::Admin,
            PasswordOwner::User,
        )
        .await
        .unwrap();
        create(
            db,
            a,
            "abe@a.test",
            "hash",
            Role::Viewer,
            PasswordOwner::User,
        )
        .await
        .unwrap();
        create(
            db,
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

    async fn a_workspace_lists_only_its_own_users(db: Db) {
        let (a, b) = two_workspaces(&db).await;
        let emails =
            |users: Vec<UserSummary>| users.into_iter().map(|u| u.email).collect::<Vec<_>>();
        assert_eq!(
            emails(list(&db, a).await.unwrap()),
            ["abe@a.test", "ann@a.test"]
        );
        assert_eq!(emails(list(&db, b).await.unwrap()), ["bob@b.test"]);
    }

    async fn roles_of_another_workspace_cannot_be_changed(db: Db) {
        let (a, b) = two_workspaces(&db).await;
        let bob = list(&db, b).await.unwrap()[0].id;
        assert!(matches!(
            set_role(&db, a, bob, Role::Viewer).await,
            Err(AppError::NotFound(_))
        ));
        assert_eq!(list(&db, b).await.unwrap()[0].role, Role::Admin);
    }

    async fn the_last_admin_keeps_the_role(db: Db) {
        let (a, _) = two_workspaces(&db).await;
        let users = list(&db, a).await.unwrap();
        let ann = users.iter().find(|u| u.email == "ann@a.test").unwrap().id;
        let abe = users.iter().find(|u| u.email == "abe@a.test").unwrap().id;
        assert!(matches!(
            set_role(&db, a, ann, Role::Editor).await,
            Err(AppError::Conflict(_))
        ));
        set_role(&db, a, abe, Role::Admin).await.unwrap();
        set_role(&db, a, ann, Role::Editor).await.unwrap();
        let roles: Vec<_> = list(&db, a)
            .await
            .unwrap()
            .into_iter()
            .map(|u| u.role)
            .collect();
        assert_eq!(roles, [Role::Admin, Role::Editor]);
    }

    async fn an_email_signs_in_to_one_account_only(db: Db) {
        let (_, b) = two_workspaces(&db).await;
        let again = create(
            &db,
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
