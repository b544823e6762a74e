//! Settings → Users: the admin lists users, adds them and changes their roles.

use crate::error::AppError;
use crate::model::{Role, UserSummary};
use leptos::prelude::*;

/// The users of the signed-in admin's workspace.
#[server(endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<UserSummary>, AppError> {
    use super::ssr;
    use crate::db;
    ssr::respond(async move {
        let admin = ssr::require_admin()?;
        db::users::list(&ssr::state()?.db, admin.workspace_id).await
    })
    .await
}

/// Adds a user with a temporary password to the admin's workspace (they choose their own
/// at first sign-in); returns their email as stored (trimmed, lower case).
#[server(endpoint = "add_user")]
pub async fn add_user(email: String, password: String, role: Role) -> Result<String, AppError> {
    use super::ssr;
    use crate::db;
    use crate::model::account::validate_new_user;
    use crate::server::password::hash_password;
    ssr::respond(async move {
        let admin = ssr::require_admin()?;
        let email = validate_new_user(&email, &password)?;
        let hash = hash_password(password).await?;
        let db = ssr::state()?.db;
        db::users::create(
            &db,
            admin.workspace_id,
            &email,
            &hash,
            role,
            db::users::PasswordOwner::Admin,
        )
        .await?;
        Ok(email)
    })
    .await
}

/// Changes the role of a user of the admin's workspace.
#[server(endpoint = "change_role")]
pub async fn change_role(user_id: i64, role: Role) -> Result<(), AppError> {
    use super::ssr;
    use crate::db;
    ssr::respond(async move {
        let admin = ssr::require_admin()?;
        db::users::set_role(&ssr::state()?.db, admin.workspace_id, user_id, role).await
    })
    .await
}

/// Removes a user of the admin's workspace; their sessions end at once.
#[server(endpoint = "remove_user")]
pub async fn remove_user(user_id: i64) -> Result<(), AppError> {
    use super::ssr;
    use crate::db;
    ssr::respond(async move {
        let admin = ssr::require_admin()?;
        // Only users are admins (keys are editors or viewers).
        let me = admin.user_id().ok_or(AppError::Forbidden)?;
        db::users::remove(&ssr::state()?.db, admin.workspace_id, user_id, me).await
    })
    .await
}

/// Gives a user of the admin's workspace a new temporary password (for a forgotten one):
/// their sessions end, and they choose their own password at their next sign-in.
#[server(endpoint = "reset_password")]
pub async fn reset_password(user_id: i64, password: String) -> Result<(), AppError> {
    use super::ssr;
    use crate::db;
    use crate::db::users::PasswordOwner;
    use crate::model::account::check_new_password;
    use crate::server::password::hash_password;
    ssr::respond(async move {
        let admin = ssr::require_admin()?;
        check_new_password(&password).map_err(|message| AppError::invalid("password", message))?;
        let hash = hash_password(password).await?;
        let db = ssr::state()?.db;
        db::users::set_password(
            &db,
            admin.workspace_id,
            user_id,
            &hash,
            PasswordOwner::Admin,
            None,
        )
        .await
    })
    .await
}
