//! `POST /api/v1/contacts/erase`: erase a person who asked to be forgotten, by contact
//! id, number or email (see [`crate::db::erasure`]).

use super::error::ApiError;
use super::extract::{ApiCaller, ApiJson};
use super::opt_outs::read_address;
use crate::db;
use crate::error::AppError;
use crate::model::channel::Channel;
use crate::server::auth::Access;
use crate::server::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Whom to erase: exactly one of a contact's id, its number or an email (every contact
/// with that email).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EraseRequest {
    /// A contact's id.
    id: Option<i64>,
    /// A mobile number (E.164, or national in the workspace's default country).
    msisdn: Option<String>,
    /// An email address.
    email: Option<String>,
}

/// What the erasure removed. Only the ids of the contacts erased are kept, with who
/// erased them and when.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Erasure {
    /// The contacts erased.
    contact_ids: Vec<i64>,
    /// History entries deleted: the contacts' own, and other contacts' that named one of
    /// their addresses.
    history_entries: u64,
    /// Opt-outs of their addresses deleted.
    opt_outs: u64,
    /// Stored rejected rows of uploads that held one of their addresses.
    rejected_rows: u64,
    /// Kept responses of idempotent requests that held one of their addresses.
    kept_responses: u64,
    /// Webhook messages about them, sent or not (a `contact.deleted` stays: it holds
    /// only the id).
    webhook_messages: u64,
}

/// Erase a person.
///
/// Deletes the contact (or, by email, every contact with it), its memberships, the
/// opt-outs and history of its addresses, the stored rejected rows of uploads and the
/// kept API responses that hold them; on SQLite the deleted bytes are zeroed and the
/// write-ahead log is truncated. One line without personal data stays: who erased which
/// contact id, and when. Admins in the app; API keys with the editor role.
#[utoipa::path(
    operation_id = "eraseContact",
    post,
    path = "/contacts/erase",
    tag = "Contacts",
    request_body = EraseRequest,
    responses(
        (status = 200, body = Erasure),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError),
        (status = 404, description = "No contact has this id, number or email", body = ApiError),
        (status = 409, description = "An upload is being imported", body = ApiError),
        (status = 415, body = ApiError),
        (status = 422, description = "Not exactly one of id, msisdn and email", body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn erase(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(request): ApiJson<EraseRequest>,
) -> Result<Json<Erasure>, ApiError> {
    let caller = caller.require(Access::Remove)?;
    let workspace_id = caller.workspace_id;
    let by_address =
        |channel, text: &str, field| read_address(channel, text, &caller.default_country, field);
    let found = match (&request.id, &request.msisdn, &request.email) {
        (Some(id), None, None) => vec![*id],
        (None, Some(msisdn), None) => {
            let address = by_address(Channel::SMS, msisdn, "msisdn")?;
            let mut conn = state.db.acquire().await.map_err(AppError::from)?;
            db::contacts::ids_by_address(conn.conn(), workspace_id, Channel::SMS, &address).await?
        }
        (None, None, Some(email)) => {
            let address = by_address(Channel::EMAIL, email, "email")?;
            let mut conn = state.db.acquire().await.map_err(AppError::from)?;
            db::contacts::ids_by_address(conn.conn(), workspace_id, Channel::EMAIL, &address)
                .await?
        }
        _ => {
            return Err(ApiError::new(
                422,
                "validation_failed",
                "Give exactly one of id, msisdn and email.",
            ));
        }
    };
    if found.is_empty() {
        return Err(ApiError::new(
            404,
            "not_found",
            "No contact has this address.",
        ));
    }
    let erased = db::erasure::erase(&state.db, workspace_id, &found, &caller.author()).await?;
    Ok(Json(Erasure {
        contact_ids: erased.contact_ids,
        history_entries: erased.history_entries,
        opt_outs: erased.opt_outs,
        rejected_rows: erased.rejected_rows,
        kept_responses: erased.kept_responses,
        webhook_messages: erased.webhook_messages,
    }))
}
