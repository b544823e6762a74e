//! `/api/v1/contacts/blacklist/{msisdn}`: the workspace's built-in blacklisted group,
//! "Blacklist" (made on first use), by number. Adding a number that no contact has
//! creates the contact.

use super::contacts::{contact_response, load};
use super::error::ApiError;
use super::extract::{ApiCaller, not_found};
use crate::db;
use crate::error::AppError;
use crate::model::contact::ContactInput;
use crate::model::field::ContactField;
use crate::normalize::record;
use crate::phone::normalize_msisdn;
use crate::server::auth::{Access, Caller};
use crate::server::state::AppState;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;

/// The name of the built-in blacklisted group.
pub const BLACKLIST_GROUP: &str = "Blacklist";

fn e164(caller: &Caller, msisdn: &str) -> Result<String, ApiError> {
    normalize_msisdn(msisdn, &caller.default_country)
        .map(|n| n.e164)
        .map_err(|e| ApiError::new(422, "validation_failed", e.0).with_field("msisdn"))
}

/// Put a number on the blacklist: its contact (created if there is none) joins the
/// blacklisted group "Blacklist" and is messaged on no channel.
#[utoipa::path(
    operation_id = "addToBlacklist",
    post,
    path = "/contacts/blacklist/{msisdn}",
    tag = "Blacklist",
    params(("msisdn" = String, Path, description = "The number, E.164 or national (read with the workspace's country)")),
    responses(
        (status = 200, description = "Its contact, now blacklisted", body = super::contact_json::ApiContact),
        (status = 201, description = "A new contact, blacklisted", body = super::contact_json::ApiContact),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 422, description = "Not a number", body = ApiError), (status = 429, body = ApiError),
    ),
)]
pub async fn add(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(msisdn): Path<String>,
) -> Result<Response, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let number = e164(&caller, &msisdn)?;
    let (workspace_id, author) = (caller.workspace_id, caller.author());
    let mut tx = state.db.begin_write().await.map_err(AppError::from)?;
    let group =
        db::groups::find_or_create_blacklisted(tx.conn(), workspace_id, BLACKLIST_GROUP).await?;
    let (id, status) = match db::contacts::id_by_mobile(tx.conn(), workspace_id, &number).await? {
        Some(id) => (id, StatusCode::OK),
        None => {
            let input = ContactInput::default()
                .with(ContactField::Mobile, number.as_str())
                .with(ContactField::Country, caller.default_country.as_str());
            let id =
                db::contacts::insert(tx.conn(), workspace_id, &record(&input)?, &author).await?;
            (id, StatusCode::CREATED)
        }
    };
    db::groups::add_member(tx.conn(), workspace_id, group, id, &author).await?;
    tx.commit().await.map_err(AppError::from)?;
    let contact = load(
        state.db.acquire().await.map_err(AppError::from)?.conn(),
        workspace_id,
        id,
    )
    .await?;
    Ok(contact_response(status, &contact))
}

/// Take a number off the blacklist (out of "Blacklist"; other blacklisted groups it is in
/// still block it).
#[utoipa::path(
    operation_id = "removeFromBlacklist",
    delete,
    path = "/contacts/blacklist/{msisdn}",
    tag = "Blacklist",
    params(("msisdn" = String, Path, description = "The number, E.164 or national")),
    responses(
        (status = 204, description = "Not in \"Blacklist\" (any more)"),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, description = "No contact has this number", body = ApiError),
        (status = 422, body = ApiError), (status = 429, body = ApiError),
    ),
)]
pub async fn remove(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path(msisdn): Path<String>,
) -> Result<Response, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let number = e164(&caller, &msisdn)?;
    let (workspace_id, author) = (caller.workspace_id, caller.author());
    let mut tx = state.db.begin_write().await.map_err(AppError::from)?;
    let Some(id) = db::contacts::id_by_mobile(tx.conn(), workspace_id, &number).await? else {
        return Err(not_found());
    };
    if let Some(group) = db::groups::id_by_name(tx.conn(), workspace_id, BLACKLIST_GROUP).await? {
        db::groups::remove_member(tx.conn(), workspace_id, group, id, &author).await?;
    }
    tx.commit().await.map_err(AppError::from)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
