//! Settings → API keys: the admin lists the workspace's keys, makes one (its secret is
//! shown this once) and revokes one.

use crate::error::AppError;
use crate::model::Role;
use crate::model::api_key::{ApiKeySummary, NewApiKey};
use leptos::prelude::*;

/// The workspace's API keys, newest first.
#[server(endpoint = "list_api_keys")]
pub async fn list_api_keys() -> Result<Vec<ApiKeySummary>, AppError> {
    use super::ssr;
    ssr::respond(async move {
        let admin = ssr::require_admin()?;
        crate::db::api_keys::list(&ssr::state()?.db, admin.workspace_id).await
    })
    .await
}

/// Makes a key; its secret is in the answer and nowhere else.
#[server(endpoint = "create_api_key")]
pub async fn create_api_key(name: String, role: Role) -> Result<NewApiKey, AppError> {
    use super::ssr;
    ssr::respond(async move {
        let admin = ssr::require_admin()?;
        crate::server::keys::create_key(
            &ssr::state()?.db,
            admin.workspace_id,
            &name,
            role,
            admin.user_id(),
        )
        .await
    })
    .await
}

/// Revokes a key: requests with it are refused from now on.
#[server(endpoint = "revoke_api_key")]
pub async fn revoke_api_key(id: i64) -> Result<(), AppError> {
    use super::ssr;
    ssr::respond(async move {
        let admin = ssr::require_admin()?;
        crate::db::api_keys::revoke(&ssr::state()?.db, admin.workspace_id, id).await
    })
    .await
}
