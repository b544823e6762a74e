//! `/api/v1/contacts`: create or merge by number, read, change (JSON Merge Patch or JSON
//! Patch, with `If-Match`), delete, list (keyset cursors), and the batch endpoints.

use super::contact_json::{ApiContact, ContactWrite};
use super::cursor;
use super::error::ApiError;
use super::extract::{ApiCaller, ApiJson, ApiQuery, Id, from_json, media_type, not_found};
use super::upsert::{MAX_BATCH, Outcome, upsert};
use crate::db::{self, Conn};
use crate::error::AppError;
use crate::model::channel::Channel;
use crate::model::contact::{
    COUNT_BOUND, ContactFilter, ContactSort, EXACT_COUNT_LIMIT, PageRequest, Selection,
};
use crate::normalize::record;
use crate::server::auth::Access;
use crate::server::state::AppState;
use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use utoipa::{IntoParams, ToSchema};

/// A contact of the workspace with its groups and opt-outs.
pub(super) async fn load(
    conn: Conn<'_>,
    workspace_id: i64,
    id: i64,
) -> Result<ApiContact, ApiError> {
    load_many(conn, workspace_id, &[id])
        .await?
        .pop()
        .ok_or_else(not_found)
}

/// These contacts of the workspace (those that exist), in the order of `ids`, with their
/// groups and opt-outs.
pub(super) async fn load_many(
    mut conn: Conn<'_>,
    workspace_id: i64,
    ids: &[i64],
) -> Result<Vec<ApiContact>, ApiError> {
    let stored = db::contacts::get_many(conn.reborrow(), workspace_id, ids).await?;
    let mut groups = db::groups::groups_of(conn.reborrow(), workspace_id, ids).await?;
    let mut opt_outs = db::opt_outs::of_contacts(conn, workspace_id, ids).await?;
    let mut by_id: std::collections::HashMap<i64, _> =
        stored.into_iter().map(|c| (c.id, c)).collect();
    Ok(ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(|c| {
            let id = c.id;
            let groups = groups.remove(&id).unwrap_or_default();
            ApiContact::new(c, groups, opt_outs.remove(&id).unwrap_or_default())
        })
        .collect())
}

/// The strong validator of a contact as the API shows it: any change to it (a field, a
/// group, a group's blacklisting) changes it.
pub(super) fn etag_of<T: Serialize>(value: &T) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    let digest = Sha256::digest(&bytes);
    let hex = crate::server::session::hex(&digest[..16]);
    format!("\"{hex}\"")
}

/// Refuses a write whose `If-Match` names another version (412); no `If-Match`, or `*`,
/// writes whatever the current version is.
pub(super) fn check_if_match(headers: &HeaderMap, current: &str) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::IF_MATCH) else {
        return Ok(());
    };
    let value = value.to_str().unwrap_or_default();
    let matches = value
        .split(',')
        .map(str::trim)
        .any(|tag| tag == "*" || tag == current);
    if matches {
        Ok(())
    } else {
        Err(AppError::PreconditionFailed(
            "The contact changed since you read it (If-Match names an older version): read it \
             again and reapply your change."
                .into(),
        )
        .into())
    }
}

/// A contact with its `ETag`, and `status`.
pub(super) fn contact_response(status: StatusCode, contact: &ApiContact) -> Response {
    let mut version = contact.clone();
    version.result = None;
    let etag = etag_of(&version);
    let mut response = (status, Json(contact)).into_response();
    if let Ok(value) = HeaderValue::from_str(&etag) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// Create a contact, or merge into the one that has its number.
///
/// A contact whose `addresses.msisdn` already belongs to a contact of the workspace is
/// merged into it (given members replace, `null` clears, `customAttributes` merge by key,
/// `groupIds` replace the contact's groups) and answered with 200; otherwise a new
/// contact is answered with 201 and its `Location`. Either way `result` says which.
#[utoipa::path(
    operation_id = "createContact",
    post,
    path = "/contacts",
    tag = "Contacts",
    request_body = ContactWrite,
    responses(
        (status = 201, description = "Created", body = ApiContact,
            headers(("Location" = String, description = "The contact's URL"), ("ETag" = String))),
        (status = 200, description = "Merged into the contact that had the number", body = ApiContact,
            headers(("ETag" = String))),
        (status = 400, description = "Malformed JSON", body = ApiError),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 413, body = ApiError), (status = 415, body = ApiError),
        (status = 422, description = "A field is invalid (named in `field`)", body = ApiError),
        (status = 429, body = ApiError),
    ),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry of this request safe")),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(body): ApiJson<Value>,
) -> Result<Response, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let outcome = upsert(&state.db, &caller, std::slice::from_ref(&body))
        .await?
        .pop();
    let (id, status) = match outcome {
        Some(Outcome::Created(id)) => (id, StatusCode::CREATED),
        Some(Outcome::Merged(id)) => (id, StatusCode::OK),
        Some(Outcome::Rejected(error)) => return Err(error),
        None => return Err(AppError::internal("create contact", "no outcome").into()),
    };
    let mut contact = load(
        state.db.acquire().await.map_err(AppError::from)?.conn(),
        caller.workspace_id,
        id,
    )
    .await?;
    contact.result = Some(if status == StatusCode::CREATED {
        "created"
    } else {
        "merged"
    });
    let mut response = contact_response(status, &contact);
    if status == StatusCode::CREATED
        && let Ok(location) = HeaderValue::from_str(&format!("/api/v1/contacts/{id}"))
    {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Read a contact.
#[utoipa::path(
    operation_id = "getContact",
    get,
    path = "/contacts/{id}",
    tag = "Contacts",
    params(("id" = i64, Path, description = "The contact's id")),
    responses(
        (status = 200, body = ApiContact, headers(("ETag" = String))),
        (status = 401, body = ApiError),
        (status = 404, description = "No such contact in this workspace", body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let caller = caller.require(Access::Read)?;
    let contact = load(
        state.db.acquire().await.map_err(AppError::from)?.conn(),
        caller.workspace_id,
        id,
    )
    .await?;
    Ok(contact_response(StatusCode::OK, &contact))
}

/// Change a contact.
///
/// The body is a JSON Merge Patch (RFC 7396; `application/merge-patch+json` or
/// `application/json`) or a JSON Patch (RFC 6902; `application/json-patch+json`) of the
/// contact as `ContactWrite` shows it. With `If-Match`, the change is made only if the
/// contact is still the version its `ETag` named (else 412).
#[utoipa::path(
    operation_id = "patchContact",
    patch,
    path = "/contacts/{id}",
    tag = "Contacts",
    params(
        ("id" = i64, Path, description = "The contact's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the change applies to"),
    ),
    request_body(description = "A merge patch of the contact, or a JSON Patch of it",
        content(
            (ContactWrite = "application/merge-patch+json"),
            (ContactWrite = "application/json"),
            (Vec<JsonPatchOperation> = "application/json-patch+json"),
        )),
    responses(
        (status = 200, body = ApiContact, headers(("ETag" = String))),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 409, description = "The number belongs to another contact (`contactId`), or a JSON Patch test failed", body = ApiError),
        (status = 412, description = "If-Match names an older version", body = ApiError),
        (status = 415, body = ApiError), (status = 422, body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn patch(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    request: Request,
) -> Result<Response, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let (parts, body) = request.into_parts();
    let media = media_type(&parts);
    let body = axum::body::to_bytes(body, crate::server::limits::MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::new(413, "payload_too_large", "The body is larger than 1 MiB."))?;
    let change = match media.as_str() {
        "application/json-patch+json" => {
            Change::Patch(from_json::<Vec<json_patch::PatchOperation>>(&body)?)
        }
        "application/merge-patch+json" | "application/json" => Change::Merge(from_json(&body)?),
        _ => {
            return Err(ApiError::new(
                415,
                "unsupported_media_type",
                "Send application/merge-patch+json (or application/json), or \
                 application/json-patch+json.",
            ));
        }
    };
    let country = caller.default_country.clone();
    let workspace_id = caller.workspace_id;
    let mut tx = state.db.begin_write().await.map_err(AppError::from)?;
    let current = load(tx.conn(), workspace_id, id).await?;
    check_if_match(&parts.headers, &etag_of(&current))?;
    let before = current.writable();
    let mut doc = before.to_json();
    match &change {
        Change::Merge(patch) => json_patch::merge(&mut doc, patch),
        Change::Patch(operations) => apply_json_patch(&mut doc, operations)?,
    }
    let write: ContactWrite = from_json(&serde_json::to_vec(&doc).unwrap_or_default())?;
    write.check_groups()?;
    let record = record(&write.input(&country))?;
    let author = caller.author();
    db::contacts::update(tx.conn(), workspace_id, id, &record, &author).await?;
    if write.group_ids != before.group_ids {
        let groups = write.group_ids.clone().unwrap_or_default();
        db::groups::set_groups_of_contact(tx.conn(), workspace_id, id, &groups, &author)
            .await
            .map_err(|e| match e {
                AppError::NotFound(message) => {
                    ApiError::new(422, "validation_failed", message).with_field("groupIds")
                }
                other => other.into(),
            })?;
    }
    tx.commit().await.map_err(AppError::from)?;
    let contact = load(
        state.db.acquire().await.map_err(AppError::from)?.conn(),
        workspace_id,
        id,
    )
    .await?;
    Ok(contact_response(StatusCode::OK, &contact))
}

enum Change {
    Merge(Value),
    Patch(Vec<json_patch::PatchOperation>),
}

/// The most operations one JSON Patch may have.
pub const MAX_PATCH_OPERATIONS: usize = 100;

/// One operation of a JSON Patch (RFC 6902), as the document describes it; the
/// `json-patch` crate reads and applies them.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct JsonPatchOperation {
    op: JsonPatchOp,
    /// A JSON Pointer into the contact, e.g. `/firstName` or `/customAttributes/plan`.
    path: String,
    /// The value for `add`, `replace` and `test`.
    value: Option<Value>,
    /// The pointer `move` and `copy` take from.
    from: Option<String>,
}

#[derive(ToSchema)]
#[schema(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum JsonPatchOp {
    Add,
    Remove,
    Replace,
    Move,
    Copy,
    Test,
}

/// The largest a contact's document may grow while a JSON Patch applies (a contact is at
/// most ~230 KB: 100 custom fields of 2,000 characters and the rest).
const MAX_PATCHED_BYTES: usize = 512 << 10;

/// Applies a JSON Patch one operation at a time, refusing it once the document grows
/// past what a contact can be (`copy` doubles what it copies: forty of them would fill
/// the server's memory).
fn apply_json_patch(
    doc: &mut Value,
    operations: &[json_patch::PatchOperation],
) -> Result<(), ApiError> {
    if operations.len() > MAX_PATCH_OPERATIONS {
        return Err(ApiError::new(
            422,
            "validation_failed",
            format!("A JSON Patch has at most {MAX_PATCH_OPERATIONS} operations."),
        ));
    }
    for operation in operations {
        json_patch::patch(doc, std::slice::from_ref(operation)).map_err(|e| {
            let (status, code) = match e.kind {
                json_patch::PatchErrorKind::TestFailed => (409, "conflict"),
                _ => (422, "validation_failed"),
            };
            ApiError::new(status, code, format!("The patch does not apply: {e}."))
        })?;
        if serde_json::to_vec(doc).map_or(usize::MAX, |bytes| bytes.len()) > MAX_PATCHED_BYTES {
            return Err(ApiError::new(
                422,
                "validation_failed",
                "The patch makes the contact larger than a contact can be.",
            ));
        }
    }
    Ok(())
}

/// Delete a contact (with its memberships).
#[utoipa::path(
    operation_id = "deleteContact",
    delete,
    path = "/contacts/{id}",
    tag = "Contacts",
    params(
        ("id" = i64, Path, description = "The contact's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the deletion applies to"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 412, body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let mut tx = state.db.begin_write().await.map_err(AppError::from)?;
    let current = load(tx.conn(), caller.workspace_id, id).await?;
    check_if_match(&headers, &etag_of(&current))?;
    let selection = Selection::Ids(vec![id]);
    db::contacts::delete(tx.conn(), caller.workspace_id, &selection, &caller.author()).await?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// The most contacts a page lists.
pub const MAX_LIMIT: u32 = 500;

/// What a list of contacts may be narrowed to.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// A prefix of a name, email or phone number, as the table's search box takes it.
    #[serde(default)]
    query: String,
    /// Only members of this group.
    group_id: Option<i64>,
    /// Only blacklisted (`true`) or only not blacklisted (`false`) contacts.
    blacklisted: Option<bool>,
    /// Only contacts opted out of this channel (sms, email, whatsapp, viber, line, wechat,
    /// messenger).
    opted_out: Option<String>,
    /// Contacts per page, 1–500 (default 50).
    limit: Option<u32>,
    /// Where to continue: the `nextCursor` of the previous page.
    cursor: Option<String>,
    /// Also count the contacts that match (`totalCount`): `true` counts up to 10,000
    /// (then `totalCountExact` is false), `exact` counts every one, within 10 seconds
    /// (past them, up to 10,000 as `true` does).
    #[serde(default)]
    #[param(inline)]
    count: CountParam,
}

/// How far `count` counts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum CountParam {
    /// No count.
    #[default]
    False,
    /// Up to 10,000: cheap whatever the size.
    True,
    /// Every match, or 503 if that takes longer than 10 seconds.
    Exact,
}

/// A page of contacts.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ContactList {
    /// The contacts, newest first (while searching, in order of the matched text).
    items: Vec<ApiContact>,
    /// Where the next page starts; null on the last page.
    next_cursor: Option<String>,
    /// How many contacts match, if `count` was asked: every one, or with `count=true`
    /// no more than 10,000.
    #[serde(skip_serializing_if = "Option::is_none")]
    total_count: Option<i64>,
    /// Whether `totalCount` is every match: false when `count=true` stopped at 10,000
    /// (ask `count=exact` for all).
    #[serde(skip_serializing_if = "Option::is_none")]
    total_count_exact: Option<bool>,
}

/// List contacts, newest first, a page at a time.
#[utoipa::path(
    operation_id = "listContacts",
    get,
    path = "/contacts",
    tag = "Contacts",
    params(ListQuery),
    responses(
        (status = 200, body = ContactList),
        (status = 400, description = "A parameter or the cursor is not valid", body = ApiError),
        (status = 401, body = ApiError), (status = 429, body = ApiError),
    ),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<ListQuery>,
) -> Result<Json<ContactList>, ApiError> {
    let caller = caller.require(Access::Read)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=MAX_LIMIT).contains(&limit) {
        return Err(
            ApiError::new(400, "bad_request", format!("limit is 1 to {MAX_LIMIT}."))
                .with_field("limit"),
        );
    }
    let opted_out = match &query.opted_out {
        None => None,
        Some(name) => Some(Channel::parse(name).ok_or_else(|| {
            ApiError::new(
                400,
                "bad_request",
                format!("optedOut is one of {}.", Channel::names_list()),
            )
            .with_field("optedOut")
        })?),
    };
    let filter = ContactFilter {
        search: query.query.clone(),
        sort: ContactSort::Newest,
        group: query.group_id,
        blacklisted: query.blacklisted,
        opted_out,
    };
    let scope = format!(
        "contacts\n{}\n{:?}\n{:?}\n{:?}",
        query.query, query.group_id, query.blacklisted, query.opted_out
    );
    let secret = state.cursor_key().await?;
    let request = match &query.cursor {
        Some(text) => PageRequest::After(cursor::decode(secret, &scope, text)?),
        None => PageRequest::First,
    };
    let page = db::contacts::page(&state.db, caller.workspace_id, &filter, &request, limit).await?;
    let ids: Vec<i64> = page.rows.iter().map(|r| r.id).collect();
    let mut conn = state.db.acquire().await.map_err(AppError::from)?;
    let items = load_many(conn.conn(), caller.workspace_id, &ids).await?;
    // Back to the pool before the count takes one: a request holds one at a time.
    drop(conn);
    let ws = caller.workspace_id;
    let total = match query.count {
        CountParam::False => None,
        CountParam::True => {
            Some(db::contacts::count_up_to(&state.db, ws, &filter, COUNT_BOUND).await?)
        }
        CountParam::Exact => Some(
            match db::contacts::count_within(&state.db, ws, &filter, EXACT_COUNT_LIMIT).await {
                Ok(total) => total,
                // Past the limit the page still comes, counted up to the bound (and
                // `totalCountExact` false).
                Err(AppError::Unavailable(_)) => {
                    db::contacts::count_up_to(&state.db, ws, &filter, COUNT_BOUND).await?
                }
                Err(e) => return Err(e.into()),
            },
        ),
    };
    Ok(Json(ContactList {
        items,
        next_cursor: page.next.map(|c| cursor::encode(secret, &scope, &c)),
        total_count: total.map(|t| t.count),
        total_count_exact: total.map(|t| !t.more),
    }))
}

/// Contacts to create or merge.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpsertBatch {
    /// At most 1,000 contacts, each as `POST /contacts` takes one.
    #[schema(value_type = Vec<ContactWrite>)]
    contacts: Vec<Value>,
}

/// What happened to one contact of a batch.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchResult {
    /// `created`, `merged` or `rejected`.
    result: &'static str,
    /// The contact's id (not for a rejected one).
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<i64>,
    /// Why it was rejected, for programs (see the error shape).
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<String>,
    /// Why it was rejected, for people: the reason an import would give.
    #[serde(skip_serializing_if = "Option::is_none")]
    message: Option<String>,
    /// The field it was rejected for.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<String>,
}

/// One result per contact sent, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResults {
    results: Vec<BatchResult>,
}

/// Create or merge up to 1,000 contacts in one transaction.
///
/// Each item is treated as `POST /contacts` treats one (a number repeated in the batch
/// merges into its first item); an item refused for what it says (`result: rejected`,
/// with the reason an import would give) does not stop the others. A number saved by
/// someone else at the same moment fails the whole batch with 409: send it again.
#[utoipa::path(
    operation_id = "upsertContacts",
    post,
    path = "/contacts/batches/upsertContacts",
    tag = "Contacts",
    request_body = UpsertBatch,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry of this request safe")),
    responses(
        (status = 200, body = BatchResults),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 413, body = ApiError),
        (status = 415, body = ApiError),
        (status = 422, description = "More than 1,000 contacts, or not a list", body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn upsert_batch(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(batch): ApiJson<UpsertBatch>,
) -> Result<Json<BatchResults>, ApiError> {
    let caller = caller.require(Access::Edit)?;
    if batch.contacts.len() > MAX_BATCH {
        return Err(ApiError::new(
            422,
            "validation_failed",
            format!(
                "A batch has at most {MAX_BATCH} contacts; this one has {}.",
                batch.contacts.len()
            ),
        )
        .with_field("contacts"));
    }
    let outcomes = upsert(&state.db, &caller, &batch.contacts).await?;
    let results = outcomes
        .into_iter()
        .map(|outcome| match outcome {
            Outcome::Created(id) => BatchResult {
                result: "created",
                id: Some(id),
                code: None,
                message: None,
                field: None,
            },
            Outcome::Merged(id) => BatchResult {
                result: "merged",
                id: Some(id),
                code: None,
                message: None,
                field: None,
            },
            Outcome::Rejected(error) => BatchResult {
                result: "rejected",
                id: None,
                code: Some(error.code.to_string()),
                message: Some(error.message),
                field: error.field,
            },
        })
        .collect();
    Ok(Json(BatchResults { results }))
}

/// The most ids or numbers one `deleteContacts` takes.
pub const MAX_DELETE: usize = 10_000;

/// Contacts to delete, by id or by number (not both).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteBatch {
    /// Contact ids.
    #[serde(default)]
    ids: Vec<i64>,
    /// Mobile numbers (national ones are read with the workspace's country).
    #[serde(default)]
    msisdns: Vec<String>,
}

/// What a deletion did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeleteCounts {
    /// Contacts deleted.
    deleted: u64,
    /// Ids or numbers that named no contact of the workspace.
    not_found: u64,
}

/// Delete up to 10,000 contacts by id or by number.
#[utoipa::path(
    operation_id = "deleteContacts",
    post,
    path = "/contacts/batches/deleteContacts",
    tag = "Contacts",
    request_body = DeleteBatch,
    responses(
        (status = 200, body = DeleteCounts),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 422, body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn delete_batch(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(batch): ApiJson<DeleteBatch>,
) -> Result<Json<DeleteCounts>, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let asked = batch.ids.len() + batch.msisdns.len();
    if (batch.ids.is_empty() == batch.msisdns.is_empty()) || asked > MAX_DELETE {
        return Err(ApiError::new(
            422,
            "validation_failed",
            format!("Send ids or msisdns (not both), at most {MAX_DELETE}."),
        ));
    }
    let mut ids = batch.ids.clone();
    if !batch.msisdns.is_empty() {
        let country = caller.default_country.clone();
        let numbers: Vec<String> = batch
            .msisdns
            .iter()
            .filter_map(|m| {
                crate::phone::normalize_msisdn(m, &country)
                    .ok()
                    .map(|n| n.e164)
            })
            .collect();
        let refs: Vec<&str> = numbers.iter().map(String::as_str).collect();
        ids = db::contacts::ids_by_mobile(
            state.db.acquire().await.map_err(AppError::from)?.conn(),
            caller.workspace_id,
            &refs,
        )
        .await?
        .into_iter()
        .map(|(_, id)| id)
        .collect();
    }
    ids.sort_unstable();
    ids.dedup();
    let mut tx = state.db.begin_write().await.map_err(AppError::from)?;
    let selection = Selection::Ids(ids);
    let deleted =
        db::contacts::delete(tx.conn(), caller.workspace_id, &selection, &caller.author()).await?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(Json(DeleteCounts {
        deleted,
        not_found: (asked as u64).saturating_sub(deleted),
    }))
}
