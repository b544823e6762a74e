//! Settings → Webhooks: the admin lists the workspace's endpoints, adds one (its secret
//! is shown this once), deletes one, and reads an endpoint's delivery log.

use crate::error::AppError;
use crate::model::webhook::{Delivery, NewWebhook, WebhookEndpoint, WebhookEvent};
use leptos::prelude::*;

/// The workspace's endpoints, oldest first.
#[server(endpoint = "list_webhooks")]
pub async fn list_webhooks() -> Result<Vec<WebhookEndpoint>, AppError> {
    use super::ssr;
    ssr::respond(async move {
        let admin = ssr::require_admin()?;
        crate::db::webhooks::list(&ssr::state()?.db, admin.workspace_id).await
    })
    .await
}

/// Adds an endpoint; its secret is in the answer and nowhere else.
#[server(endpoint = "create_webhook")]
pub async fn create_webhook(
    url: String,
    events: Vec<WebhookEvent>,
) -> Result<NewWebhook, AppError> {
    use super::ssr;
    ssr::respond(async move {
        let admin = ssr::require_admin()?;
        crate::server::webhooks::create(&ssr::state()?, admin.workspace_id, &url, &events).await
    })
    .await
}

/// Deletes an endpoint and its deliveries.
#[server(endpoint = "delete_webhook")]
pub async fn delete_webhook(id: i64) -> Result<(), AppError> {
    use super::ssr;
    ssr::respond(async move {
        let admin = ssr::require_admin()?;
        crate::db::webhooks::delete(&ssr::state()?.db, admin.workspace_id, id).await
    })
    .await
}

/// The newest deliveries to an endpoint.
#[server(endpoint = "webhook_deliveries")]
pub async fn webhook_deliveries(id: i64) -> Result<Vec<Delivery>, AppError> {
    use super::ssr;
    ssr::respond(async move {
        let admin = ssr::require_admin()?;
        let db = &ssr::state()?.db;
        let page = crate::model::webhook::DELIVERY_PAGE;
        Ok(
            crate::db::webhooks::deliveries(db, admin.workspace_id, id, None, page)
                .await?
                .0,
        )
    })
    .await
}
