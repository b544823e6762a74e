//! `/api/v1/contacts/{id}/history`: what happened to a contact, newest first, a page at
//! a time. A deleted contact's history is still there (it ends with its deletion) until
//! it is purged by age or the person is erased.

use super::contact_json::{reason_schema, source_schema};
use super::cursor;
use super::error::ApiError;
use super::extract::{ApiCaller, ApiQuery, Id};
use crate::db;
use crate::model::contact::Cursor;
use crate::model::date::format_timestamp;
use crate::model::history::{HISTORY_PAGE, HistoryEntry, HistoryKind};
use crate::server::auth::Access;
use crate::server::state::AppState;
use axum::Json;
use axum::extract::State;
use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use std::borrow::Cow;
use utoipa::openapi::RefOr;
use utoipa::openapi::schema::{
    AdditionalProperties, ArrayBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::{IntoParams, PartialSchema, ToSchema};

/// Which page.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Entries per page, 1–50 (default 50).
    limit: Option<u32>,
    /// Where to continue: the `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// One entry as the API shows it.
pub struct ApiHistoryEntry(HistoryEntry);

impl Serialize for ApiHistoryEntry {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let entry = &self.0;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("id", &entry.id)?;
        map.serialize_entry("at", &format_timestamp(entry.at))?;
        map.serialize_entry("kind", entry.kind.key())?;
        map.serialize_entry("source", &entry.source)?;
        map.serialize_entry("by", &entry.by)?;
        map.serialize_entry("batchId", &entry.import_id)?;
        for (key, value) in entry.detail.api_fields() {
            map.serialize_entry(&key, &value)?;
        }
        map.end()
    }
}

impl PartialSchema for ApiHistoryEntry {
    fn schema() -> RefOr<Schema> {
        let text = |description: &str| -> Schema {
            ObjectBuilder::new()
                .schema_type(Type::String)
                .description(Some(description))
                .into()
        };
        let nullable = |description: &str| -> Schema {
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .description(Some(description))
                .into()
        };
        let change = ObjectBuilder::new()
            .property(
                "field",
                text("The field's key (first_name, mobile, …), or attributes. and a custom field's key."),
            )
            .property("before", nullable("Its value before (null: empty)."))
            .property("after", nullable("Its value after (null: empty)."))
            .required("field")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        let group = ObjectBuilder::new()
            .property("id", ObjectBuilder::new().schema_type(Type::Integer))
            .property("name", text("Its name then."))
            .required("id")
            .required("name");
        let kinds: Vec<&str> = HistoryKind::ALL.iter().map(|k| k.key()).collect();
        let object = ObjectBuilder::new()
            .property("id", ObjectBuilder::new().schema_type(Type::Integer))
            .property(
                "at",
                ObjectBuilder::new().schema_type(Type::String).format(Some(
                    utoipa::openapi::SchemaFormat::KnownFormat(
                        utoipa::openapi::KnownFormat::DateTime,
                    ),
                )),
            )
            .property(
                "kind",
                ObjectBuilder::new()
                    .schema_type(Type::String)
                    .enum_values(Some(kinds))
                    .description(Some("What happened.")),
            )
            .property("source", source_schema())
            .property(
                "by",
                text("Who: a user's email, an API key's name, an upload's file."),
            )
            .property(
                "batchId",
                ObjectBuilder::new()
                    .schema_type(SchemaType::from_iter([Type::Integer, Type::Null]))
                    .description(Some("The upload it came from, if any.")),
            )
            .property(
                "changes",
                ArrayBuilder::new()
                    .items(change)
                    .description(Some("created, updated: each field before and after.")),
            )
            .property("group", group)
            .property("channel", text("opted_out, opted_in: the channel."))
            .property("reason", reason_schema())
            .required("id")
            .required("at")
            .required("kind")
            .required("source")
            .required("by")
            .required("batchId")
            .additional_properties(Some(AdditionalProperties::FreeForm(false)));
        RefOr::T(object.into())
    }
}

impl ToSchema for ApiHistoryEntry {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed("HistoryEntry")
    }
}

/// A page of a contact's history.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryList {
    /// The entries, newest first.
    items: Vec<ApiHistoryEntry>,
    /// Where the next (older) page starts; null on the last page.
    next_cursor: Option<String>,
}

/// A contact's history, newest first.
///
/// Every change: created, fields changed (each field's before and after), joined or
/// left a group, opted out of or back into a channel, deleted; with its source (the app,
/// the API, an upload, an inbound keyword) and who made it. An upload does not list the
/// contacts it created here: the batch says which it created.
#[utoipa::path(
    operation_id = "contactHistory",
    get,
    path = "/contacts/{id}/history",
    tag = "Contacts",
    params(("id" = i64, Path, description = "The contact's id"), HistoryQuery),
    responses(
        (status = 200, body = HistoryList),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 404, body = ApiError), (status = 429, body = ApiError),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    ApiQuery(query): ApiQuery<HistoryQuery>,
) -> Result<Json<HistoryList>, ApiError> {
    let caller = caller.require(Access::Read)?;
    let limit = query.limit.unwrap_or(HISTORY_PAGE);
    if !(1..=HISTORY_PAGE).contains(&limit) {
        return Err(
            ApiError::new(400, "bad_request", format!("limit is 1 to {HISTORY_PAGE}."))
                .with_field("limit"),
        );
    }
    let scope = format!("history\n{id}");
    let secret = state.cursor_key().await?;
    let before = match &query.cursor {
        Some(text) => Some(cursor::decode(secret, &scope, text)?.id),
        None => None,
    };
    let page = db::history::page(&state.db, caller.workspace_id, id, before, limit).await?;
    if page.entries.is_empty() && before.is_none() {
        // A contact made before histories were kept has none; an id with neither a
        // contact nor a history is another workspace's, or nobody's.
        let mut conn = state
            .db
            .acquire()
            .await
            .map_err(crate::error::AppError::from)?;
        super::contacts::load(conn.conn(), caller.workspace_id, id).await?;
    }
    Ok(Json(HistoryList {
        next_cursor: page.next.map(|id| {
            let position = Cursor {
                key: String::new(),
                id,
            };
            cursor::encode(secret, &scope, &position)
        }),
        items: page.entries.into_iter().map(ApiHistoryEntry).collect(),
    }))
}
