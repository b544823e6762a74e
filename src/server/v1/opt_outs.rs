//! Opt-outs over the API: a contact's opt-out of a channel given or taken back
//! (`/contacts/{id}/optOuts/{channel}`), and inbound messages whose first word is an
//! opt-out or opt-in keyword (`/inbound`), in the shape a messaging provider's
//! inbound-message webhook can be pointed at.

use super::contact_json::{ApiContact, reason_schema};
use super::contacts::load;
use super::error::ApiError;
use super::extract::{ApiCaller, ApiJson, not_found};
use crate::db;
use crate::error::AppError;
use crate::model::channel::Channel;
use crate::model::opt_out::{Keyword, OptOutReason, keyword};
use crate::server::auth::Access;
use crate::server::state::AppState;
use axum::Json;
use axum::extract::{Path, State};
use serde::{Deserialize, Serialize};
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{ObjectBuilder, Schema};
use utoipa::{PartialSchema, ToSchema};

/// The channel named in a path.
fn channel_of(name: &str) -> Result<Channel, ApiError> {
    Channel::parse(name).ok_or_else(|| {
        ApiError::new(
            404,
            "not_found",
            format!(
                "There is no channel {name:?}: one of {}.",
                Channel::names_list()
            ),
        )
    })
}

/// Why a contact is opted out.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OptOutBody {
    /// unsubscribed, complaint, bounced, manual or keyword (default: manual).
    #[serde(default)]
    reason: Option<String>,
}

impl PartialSchema for OptOutBody {
    fn schema() -> RefOr<Schema> {
        RefOr::T(
            ObjectBuilder::new()
                .property("reason", reason_schema())
                .description(Some("Why (default: manual)."))
                .into(),
        )
    }
}

impl ToSchema for OptOutBody {}

/// The contact's address on the channel, or why there is none to opt out.
fn address_of(contact: &ApiContact, channel: Channel) -> Result<String, ApiError> {
    contact.address(channel).map(str::to_string).ok_or_else(|| {
        ApiError::new(
            422,
            "validation_failed",
            format!(
                "This contact has no {} address: there is nothing to opt out of.",
                channel.label()
            ),
        )
        .with_field("channel")
    })
}

/// Opt a contact out of a channel.
///
/// The opt-out belongs to the contact's address there (its number for sms, whatsapp and
/// viber): any contact that has the address is not messaged on the channel.
#[utoipa::path(
    operation_id = "optOutContact",
    put,
    path = "/contacts/{id}/optOuts/{channel}",
    tag = "Opt-outs",
    params(
        ("id" = i64, Path, description = "The contact's id"),
        ("channel" = String, Path, description = "sms, email, whatsapp, viber, line, wechat or messenger"),
    ),
    request_body = OptOutBody,
    responses(
        (status = 200, description = "The contact, opted out", body = ApiContact),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn put(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, channel)): Path<(String, String)>,
    ApiJson(body): ApiJson<OptOutBody>,
) -> Result<Json<ApiContact>, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let id = id.parse::<i64>().map_err(|_| not_found())?;
    let channel = channel_of(&channel)?;
    let reason = match body.reason.as_deref() {
        None => OptOutReason::Manual,
        Some(text) => OptOutReason::parse(text).ok_or_else(|| {
            ApiError::new(
                422,
                "validation_failed",
                "reason is one of unsubscribed, complaint, bounced, manual, keyword.",
            )
            .with_field("reason")
        })?,
    };
    let workspace_id = caller.workspace_id;
    let mut tx = state.db.begin_write().await.map_err(AppError::from)?;
    let contact = load(tx.conn(), workspace_id, id).await?;
    let address = address_of(&contact, channel)?;
    let author = caller.author();
    db::opt_outs::set(tx.conn(), workspace_id, channel, &address, reason, &author).await?;
    let contact = load(tx.conn(), workspace_id, id).await?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(Json(contact))
}

/// Opt a contact back into a channel.
#[utoipa::path(
    operation_id = "optInContact",
    delete,
    path = "/contacts/{id}/optOuts/{channel}",
    tag = "Opt-outs",
    params(
        ("id" = i64, Path, description = "The contact's id"),
        ("channel" = String, Path, description = "sms, email, whatsapp, viber, line, wechat or messenger"),
    ),
    responses(
        (status = 200, description = "The contact, not opted out of the channel", body = ApiContact),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 422, body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Path((id, channel)): Path<(String, String)>,
) -> Result<Json<ApiContact>, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let id = id.parse::<i64>().map_err(|_| not_found())?;
    let channel = channel_of(&channel)?;
    let workspace_id = caller.workspace_id;
    let mut tx = state.db.begin_write().await.map_err(AppError::from)?;
    let contact = load(tx.conn(), workspace_id, id).await?;
    let address = address_of(&contact, channel)?;
    db::opt_outs::clear(tx.conn(), workspace_id, channel, &address, &caller.author()).await?;
    let contact = load(tx.conn(), workspace_id, id).await?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(Json(contact))
}

/// An address given in a request's `field`, as stored (E.164 for numbers, read with the
/// workspace's country); a 422 naming the field when it is not one.
pub(super) fn read_address(
    channel: Channel,
    text: &str,
    country: &str,
    field: &'static str,
) -> Result<String, ApiError> {
    crate::normalize::address(channel, text, country).map_err(|e| match e {
        AppError::Invalid(errors) => ApiError::new(
            422,
            "validation_failed",
            errors
                .into_iter()
                .next()
                .map_or_else(|| "Not an address.".into(), |e| e.message),
        )
        .with_field(field),
        other => other.into(),
    })
}

/// A message someone sent the business.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Inbound {
    /// sms, email, whatsapp, viber, line, wechat or messenger.
    channel: String,
    /// The sender's address on the channel (a number, E.164 or national).
    from: String,
    /// The message.
    #[serde(default)]
    text: String,
    /// When it was received (RFC 3339), if the provider says.
    #[serde(default)]
    #[allow(dead_code)]
    received_at: Option<String>,
}

/// What an inbound message did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct InboundResult {
    /// optedOut, optedIn or ignored (no keyword, or nothing to change).
    action: &'static str,
    /// The sender's address as stored.
    address: String,
    /// The contacts that have the address on the channel.
    contact_ids: Vec<i64>,
}

/// Receive an inbound message.
///
/// Its first word, whatever its case and the spaces around it, is read as a keyword:
/// STOP, UNSUBSCRIBE, END, QUIT, STOPALL, REVOKE, OPTOUT or CANCEL opt the sender out of
/// the channel; START, YES or UNSTOP opt them back in; anything else is ignored. A
/// sender no contact has yet is opted out too, so a contact made later with the address
/// starts opted out.
#[utoipa::path(
    operation_id = "receiveInbound",
    post,
    path = "/inbound",
    tag = "Opt-outs",
    request_body = Inbound,
    responses(
        (status = 200, body = InboundResult),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 415, body = ApiError),
        (status = 422, description = "An unknown channel, or no sender", body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn inbound(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(message): ApiJson<Inbound>,
) -> Result<Json<InboundResult>, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let channel = Channel::parse(&message.channel).ok_or_else(|| {
        ApiError::new(
            422,
            "validation_failed",
            format!("channel is one of {}.", Channel::names_list()),
        )
        .with_field("channel")
    })?;
    if message.from.trim().is_empty() {
        return Err(ApiError::new(422, "validation_failed", "Name the sender.").with_field("from"));
    }
    let address = read_address(channel, &message.from, &caller.default_country, "from")?;
    let workspace_id = caller.workspace_id;
    let mut tx = state.db.begin_write().await.map_err(AppError::from)?;
    let author = db::history::Author::keyword();
    let changed = match keyword(&message.text) {
        Some(Keyword::OptOut) => db::opt_outs::set(
            tx.conn(),
            workspace_id,
            channel,
            &address,
            OptOutReason::Keyword,
            &author,
        )
        .await?
        .then_some("optedOut"),
        Some(Keyword::OptIn) => {
            db::opt_outs::clear(tx.conn(), workspace_id, channel, &address, &author)
                .await?
                .then_some("optedIn")
        }
        None => None,
    };
    let contact_ids =
        db::contacts::ids_by_address(tx.conn(), workspace_id, channel, &address).await?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(Json(InboundResult {
        action: changed.unwrap_or("ignored"),
        address,
        contact_ids,
    }))
}
