//! `/api/v1/webhooks`: the endpoints the workspace's changes are sent to, signed as the
//! Standard Webhooks specification says, and each endpoint's delivery log.

use super::cursor;
use super::error::ApiError;
use super::extract::{ApiCaller, ApiJson, ApiQuery, Id};
use crate::db;
use crate::error::AppError;
use crate::model::contact::Cursor;
use crate::model::date::format_timestamp;
use crate::model::webhook::{DELIVERY_PAGE, Delivery, WebhookEndpoint, WebhookEvent};
use crate::server::auth::Access;
use crate::server::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A new endpoint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWebhook {
    /// Where to send: `https://…` (or `http://…`), at most 2,048 characters, on a public
    /// address.
    url: String,
    /// What to send: `contact.created`, `contact.updated`, `contact.deleted`,
    /// `contact.optedOut`, `contact.optedIn`, `import.completed`.
    events: Vec<String>,
}

/// An endpoint.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    id: i64,
    url: String,
    events: Vec<&'static str>,
    #[schema(format = DateTime)]
    created_at: String,
    /// Why deliveries stopped for good (the endpoint answered 410 Gone), if they did.
    #[serde(skip_serializing_if = "Option::is_none")]
    disabled: Option<String>,
}

impl From<WebhookEndpoint> for Webhook {
    fn from(e: WebhookEndpoint) -> Self {
        Webhook {
            id: e.id,
            url: e.url,
            events: e.events.into_iter().map(WebhookEvent::name).collect(),
            created_at: format_timestamp(e.created_at),
            disabled: e.disabled,
        }
    }
}

/// An endpoint just added, with the secret its deliveries are signed with: shown only
/// this once.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CreatedWebhook {
    #[serde(flatten)]
    endpoint: Webhook,
    /// `whsec_…`: verify each delivery's `webhook-signature` with it.
    secret: String,
}

/// The workspace's endpoints.
#[derive(Debug, Serialize, ToSchema)]
pub struct WebhookList {
    items: Vec<Webhook>,
}

/// One message to an endpoint, with its last attempt.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookDelivery {
    /// Its `webhook-id` header, the same at every attempt.
    webhook_id: String,
    event: &'static str,
    contact_id: Option<i64>,
    /// `pending`, `delivered` or `failed`.
    status: &'static str,
    attempts: i64,
    /// When the event happened.
    #[schema(format = DateTime)]
    created_at: String,
    #[schema(format = DateTime)]
    last_attempt_at: Option<String>,
    /// The endpoint's HTTP status at the last attempt.
    last_status: Option<i64>,
    /// Why the last attempt failed, when it got no status (or a redirect).
    last_error: Option<String>,
    /// When it is tried next, while pending.
    #[schema(format = DateTime)]
    next_attempt_at: Option<String>,
}

impl From<Delivery> for WebhookDelivery {
    fn from(d: Delivery) -> Self {
        WebhookDelivery {
            webhook_id: d.webhook_id,
            event: d.event.name(),
            contact_id: d.contact_id,
            status: d.status.key(),
            attempts: d.attempts,
            created_at: format_timestamp(d.created_at),
            last_attempt_at: d.last_attempt_at.map(format_timestamp),
            last_status: d.last_status,
            last_error: d.last_error,
            next_attempt_at: d.next_attempt_at.map(format_timestamp),
        }
    }
}

/// A page of an endpoint's deliveries, newest first.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeliveryList {
    items: Vec<WebhookDelivery>,
    next_cursor: Option<String>,
}

/// Which page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DeliveryQuery {
    /// Deliveries per page, 1–50 (default 50).
    limit: Option<u32>,
    /// Where to continue: the `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// Add a webhook endpoint.
///
/// Each change the endpoint asked for is sent as `POST {type, timestamp, data}` with the
/// headers `webhook-id`, `webhook-timestamp` and `webhook-signature` (`v1,` and the
/// base64 HMAC-SHA256 of `id.timestamp.body` with the secret). A 2xx answer delivers
/// it; anything else is retried after about 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, then
/// daily for three days (later if `Retry-After` says so); 410 Gone stops the endpoint.
/// An upload sends one `import.completed`, not an event per row. Admins in the app; API
/// keys with the editor role.
#[utoipa::path(
    operation_id = "createWebhook",
    post,
    path = "/webhooks",
    tag = "Webhooks",
    request_body = CreateWebhook,
    responses(
        (status = 201, description = "Added: the secret is shown only now", body = CreatedWebhook),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 415, body = ApiError),
        (status = 422, description = "Not an http(s) URL, over 2,048 characters, inside the network, an unknown event, or 20 endpoints already", body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(request): ApiJson<CreateWebhook>,
) -> Result<(StatusCode, Json<CreatedWebhook>), ApiError> {
    let caller = caller.require(Access::Remove)?;
    let mut events = Vec::with_capacity(request.events.len());
    for name in &request.events {
        events.push(WebhookEvent::parse(name).ok_or_else(|| {
            let known: Vec<&str> = WebhookEvent::ALL.iter().map(|e| e.name()).collect();
            AppError::invalid(
                "events",
                format!(
                    "Unknown event \"{name}\": the events are {}.",
                    known.join(", ")
                ),
            )
        })?);
    }
    let made =
        crate::server::webhooks::create(&state, caller.workspace_id, &request.url, &events).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedWebhook {
            endpoint: made.endpoint.into(),
            secret: made.secret,
        }),
    ))
}

/// List the webhook endpoints (without their secrets).
#[utoipa::path(
    operation_id = "listWebhooks",
    get,
    path = "/webhooks",
    tag = "Webhooks",
    responses(
        (status = 200, body = WebhookList),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<WebhookList>, ApiError> {
    let caller = caller.require(Access::Remove)?;
    let endpoints = db::webhooks::list(&state.db, caller.workspace_id).await?;
    Ok(Json(WebhookList {
        items: endpoints.into_iter().map(Into::into).collect(),
    }))
}

/// Delete a webhook endpoint, with its deliveries (pending ones are not sent).
#[utoipa::path(
    operation_id = "deleteWebhook",
    delete,
    path = "/webhooks/{id}",
    tag = "Webhooks",
    params(("id" = i64, Path, description = "The endpoint's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 429, body = ApiError),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<StatusCode, ApiError> {
    let caller = caller.require(Access::Remove)?;
    db::webhooks::delete(&state.db, caller.workspace_id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An endpoint's delivery log, newest first.
#[utoipa::path(
    operation_id = "webhookDeliveries",
    get,
    path = "/webhooks/{id}/deliveries",
    tag = "Webhooks",
    params(("id" = i64, Path, description = "The endpoint's id"), DeliveryQuery),
    responses(
        (status = 200, body = DeliveryList),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn deliveries(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    ApiQuery(query): ApiQuery<DeliveryQuery>,
) -> Result<Json<DeliveryList>, ApiError> {
    let caller = caller.require(Access::Remove)?;
    let limit = query.limit.unwrap_or(DELIVERY_PAGE);
    if !(1..=DELIVERY_PAGE).contains(&limit) {
        return Err(ApiError::new(
            400,
            "bad_request",
            format!("limit is 1 to {DELIVERY_PAGE}."),
        )
        .with_field("limit"));
    }
    let scope = format!("deliveries\n{id}");
    let secret = state.cursor_key().await?;
    let before = match &query.cursor {
        Some(text) => Some(cursor::decode(secret, &scope, text)?.id),
        None => None,
    };
    let (items, next) =
        db::webhooks::deliveries(&state.db, caller.workspace_id, id, before, limit).await?;
    Ok(Json(DeliveryList {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor: next.map(|id| {
            let position = Cursor {
                key: String::new(),
                id,
            };
            cursor::encode(secret, &scope, &position)
        }),
    }))
}
