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
        db::users::list(&ssr::state()?.pool, admin.workspace_id).await
    })
    .await
}

/// Adds a user with a temporary password to the admin's workspace; returns their email
/// as stored (trimmed, lower case).
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
        db::users::create(&ssr::state()?.pool, admin.workspace_id, &email, &hash, role).await?;
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
        db::users::set_role(&ssr::state()?.pool, admin.workspace_id, user_id, role).await
    })
    .await
}
