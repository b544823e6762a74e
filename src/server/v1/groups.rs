//! `/api/v1/groups`: create, list, read, change (merge patch, with `If-Match`), delete;
//! add or remove members by id or by filter; copy or move one group's members to another.

use super::contacts::{check_if_match, etag_of};
use super::error::ApiError;
use super::extract::{ApiCaller, ApiJson, ApiQuery, Id, not_found};
use crate::db::{self, Conn};
use crate::error::AppError;
use crate::model::contact::{ContactFilter, Selection};
use crate::model::date::format_timestamp;
use crate::model::group::{GroupInput, GroupPicks, GroupSummary, MembershipChange, check_group};
use crate::server::auth::{Access, Caller};
use crate::server::state::AppState;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A group.
#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiGroup {
    /// The group's id.
    id: i64,
    /// Its name, unique in the workspace ignoring case.
    name: String,
    /// Its description (may be empty).
    description: String,
    /// Whether its members are never messaged, on any channel.
    is_blacklist: bool,
    /// How many contacts it holds.
    member_count: i64,
    /// Created.
    #[schema(format = DateTime)]
    created_at: String,
}

impl From<GroupSummary> for ApiGroup {
    fn from(g: GroupSummary) -> Self {
        ApiGroup {
            id: g.id,
            name: g.name,
            description: g.description,
            is_blacklist: g.blacklisted,
            member_count: g.member_count,
            created_at: format_timestamp(g.created_at),
        }
    }
}

/// A group with its `ETag`.
fn group_response(status: StatusCode, group: &ApiGroup) -> Response {
    let mut response = (status, Json(group)).into_response();
    if let Ok(value) = HeaderValue::from_str(&etag_of(group)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

async fn load(conn: Conn<'_>, workspace_id: i64, id: i64) -> Result<ApiGroup, ApiError> {
    match db::groups::get(conn, workspace_id, id).await {
        Ok(group) => Ok(group.into()),
        Err(AppError::NotFound(_)) => Err(not_found()),
        Err(e) => Err(e.into()),
    }
}

/// [`load`] on a connection of the pool.
async fn read(state: &AppState, workspace_id: i64, id: i64) -> Result<ApiGroup, ApiError> {
    let mut conn = state.db.acquire().await.map_err(AppError::from)?;
    load(conn.conn(), workspace_id, id).await
}

/// A group to create, or the members of one to change.
#[derive(Debug, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GroupWrite {
    /// The name (required to create one): at most 100 characters, unique ignoring case.
    name: Option<String>,
    /// A description, at most 1,000 characters.
    description: Option<String>,
    /// Whether its members are never messaged.
    is_blacklist: Option<bool>,
}

/// Create a group.
#[utoipa::path(
    operation_id = "createGroup",
    post,
    path = "/groups",
    tag = "Groups",
    request_body = GroupWrite,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry of this request safe")),
    responses(
        (status = 201, body = ApiGroup, headers(("Location" = String), ("ETag" = String))),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 409, description = "The workspace has 10,000 groups", body = ApiError),
        (status = 415, body = ApiError),
        (status = 422, description = "No name, a name taken, or too long", body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiJson(write): ApiJson<GroupWrite>,
) -> Result<Response, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let input = check_group(&GroupInput {
        name: write.name.unwrap_or_default(),
        description: write.description.unwrap_or_default(),
        blacklisted: write.is_blacklist.unwrap_or(false),
    })?;
    let id = db::groups::create(&state.db, caller.workspace_id, &input).await?;
    let group = read(&state, caller.workspace_id, id).await?;
    let mut response = group_response(StatusCode::CREATED, &group);
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/groups/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The workspace's groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupList {
    /// Every group, by name (a workspace has at most 10,000).
    items: Vec<ApiGroup>,
}

/// List the groups with their member counts.
#[utoipa::path(
    operation_id = "listGroups",
    get,
    path = "/groups",
    tag = "Groups",
    responses((status = 200, body = GroupList), (status = 401, body = ApiError), (status = 429, body = ApiError)),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
) -> Result<Json<GroupList>, ApiError> {
    let caller = caller.require(Access::Read)?;
    let groups = db::groups::list(&state.db, caller.workspace_id, "").await?;
    Ok(Json(GroupList {
        items: groups.into_iter().map(Into::into).collect(),
    }))
}

/// Read a group.
#[utoipa::path(
    operation_id = "getGroup",
    get,
    path = "/groups/{id}",
    tag = "Groups",
    params(("id" = i64, Path, description = "The group's id")),
    responses(
        (status = 200, body = ApiGroup, headers(("ETag" = String))),
        (status = 401, body = ApiError), (status = 404, body = ApiError), (status = 429, body = ApiError),
    ),
)]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let caller = caller.require(Access::Read)?;
    let group = read(&state, caller.workspace_id, id).await?;
    Ok(group_response(StatusCode::OK, &group))
}

/// Change a group's name, description or blacklisting (a merge patch). Marking a group
/// blacklisted blocks all its members at once.
#[utoipa::path(
    operation_id = "patchGroup",
    patch,
    path = "/groups/{id}",
    tag = "Groups",
    params(
        ("id" = i64, Path, description = "The group's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the change applies to"),
    ),
    request_body(content = GroupWrite, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, body = ApiGroup, headers(("ETag" = String))),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 412, body = ApiError), (status = 415, body = ApiError),
        (status = 422, body = ApiError), (status = 429, body = ApiError),
    ),
)]
pub async fn patch(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    headers: HeaderMap,
    ApiJson(write): ApiJson<GroupWrite>,
) -> Result<Response, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let mut tx = state.db.begin_write().await.map_err(AppError::from)?;
    let current = load(tx.conn(), caller.workspace_id, id).await?;
    check_if_match(&headers, &etag_of(&current))?;
    let input = check_group(&GroupInput {
        name: write.name.unwrap_or(current.name),
        description: write.description.unwrap_or(current.description),
        blacklisted: write.is_blacklist.unwrap_or(current.is_blacklist),
    })?;
    db::groups::update(tx.conn(), caller.workspace_id, id, &input)
        .await
        .map_err(group_gone)?;
    tx.commit().await.map_err(AppError::from)?;
    let group = read(&state, caller.workspace_id, id).await?;
    Ok(group_response(StatusCode::OK, &group))
}

/// Delete a group; its contacts stay.
#[utoipa::path(
    operation_id = "deleteGroup",
    delete,
    path = "/groups/{id}",
    tag = "Groups",
    params(
        ("id" = i64, Path, description = "The group's id"),
        ("If-Match" = Option<String>, Header, description = "The ETag the deletion applies to"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError), (status = 412, body = ApiError), (status = 429, body = ApiError),
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
    db::groups::delete(tx.conn(), caller.workspace_id, id, &caller.author())
        .await
        .map_err(group_gone)?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Contacts as the table filters them.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiFilter {
    /// A prefix of a name, email or phone number.
    #[serde(default)]
    query: String,
    /// Members of this group.
    group_id: Option<i64>,
    /// Only blacklisted (`true`) or only not blacklisted (`false`) contacts.
    blacklisted: Option<bool>,
}

impl From<ApiFilter> for ContactFilter {
    fn from(f: ApiFilter) -> Self {
        ContactFilter {
            search: f.query,
            group: f.group_id,
            blacklisted: f.blacklisted,
            ..ContactFilter::default()
        }
    }
}

/// Which contacts: these ids, or every contact matching a filter.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Members {
    /// Contact ids.
    contacts: Option<Vec<i64>>,
    /// Every contact matching this filter (100,000 in one call).
    filter: Option<ApiFilter>,
}

impl Members {
    fn selection(self) -> Result<Selection, ApiError> {
        match (self.contacts, self.filter) {
            (Some(ids), None) => Ok(Selection::Ids(ids)),
            (None, Some(filter)) => Ok(Selection::AllMatching(filter.into())),
            _ => Err(ApiError::new(
                422,
                "validation_failed",
                "Send either contacts (a list of ids) or filter.",
            )),
        }
    }
}

/// What a membership change did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MembershipCounts {
    /// Memberships added (or removed).
    changed: i64,
    /// Contacts that were members already (or were not members, for a removal).
    unchanged: i64,
}

impl From<MembershipChange> for MembershipCounts {
    fn from(c: MembershipChange) -> Self {
        MembershipCounts {
            changed: c.changed,
            unchanged: c.unchanged,
        }
    }
}

fn group_gone(e: AppError) -> ApiError {
    match e {
        AppError::NotFound(_) => not_found(),
        other => other.into(),
    }
}

/// Add contacts to a group, by id or by filter.
#[utoipa::path(
    operation_id = "addGroupContacts",
    post,
    path = "/groups/{id}/contacts",
    tag = "Groups",
    params(("id" = i64, Path, description = "The group's id")),
    request_body = Members,
    responses(
        (status = 200, body = MembershipCounts),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 422, body = ApiError), (status = 429, body = ApiError),
    ),
)]
pub async fn add_contacts(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    ApiJson(members): ApiJson<Members>,
) -> Result<Json<MembershipCounts>, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let picks = GroupPicks {
        ids: vec![id],
        new_names: Vec::new(),
    };
    let change = db::groups::add_members(
        &state.db,
        caller.workspace_id,
        &picks,
        &members.selection()?,
        &caller.author(),
    )
    .await
    .map_err(group_gone)?;
    Ok(Json(change.into()))
}

/// Remove contacts from a group (they stay in the workspace), by id or by filter.
#[utoipa::path(
    operation_id = "removeGroupContacts",
    delete,
    path = "/groups/{id}/contacts",
    tag = "Groups",
    params(("id" = i64, Path, description = "The group's id")),
    request_body = Members,
    responses(
        (status = 200, body = MembershipCounts),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 422, body = ApiError), (status = 429, body = ApiError),
    ),
)]
pub async fn remove_contacts(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
    ApiJson(members): ApiJson<Members>,
) -> Result<Json<MembershipCounts>, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let change = db::groups::remove_members(
        &state.db,
        caller.workspace_id,
        id,
        &members.selection()?,
        &caller.author(),
    )
    .await
    .map_err(group_gone)?;
    Ok(Json(change.into()))
}

/// From which group to which.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FromTo {
    /// The group whose members are copied (or moved).
    from: i64,
    /// The group they join.
    to: i64,
}

/// Add every member of one group to another.
#[utoipa::path(
    operation_id = "copyContacts",
    post,
    path = "/groups/batches/copyContacts",
    tag = "Groups",
    params(FromTo),
    responses(
        (status = 200, body = MembershipCounts),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn copy_contacts(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(from_to): ApiQuery<FromTo>,
) -> Result<Json<MembershipCounts>, ApiError> {
    let caller = caller.require(Access::Edit)?;
    Ok(Json(copy(&state, &caller, &from_to).await?.into()))
}

async fn copy(
    state: &AppState,
    caller: &Caller,
    from_to: &FromTo,
) -> Result<MembershipChange, ApiError> {
    let workspace_id = caller.workspace_id;
    // The source must exist too: a missing one would copy nobody, silently.
    read(state, workspace_id, from_to.from).await?;
    let picks = GroupPicks {
        ids: vec![from_to.to],
        new_names: Vec::new(),
    };
    let members = Selection::AllMatching(ContactFilter {
        group: Some(from_to.from),
        ..ContactFilter::default()
    });
    db::groups::add_members(&state.db, workspace_id, &picks, &members, &caller.author())
        .await
        .map_err(group_gone)
}

/// Move every member of one group to another: they join `to` and leave `from`, in one
/// transaction.
#[utoipa::path(
    operation_id = "moveContacts",
    post,
    path = "/groups/batches/moveContacts",
    tag = "Groups",
    params(FromTo),
    responses(
        (status = 200, body = MembershipCounts),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn move_contacts(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(from_to): ApiQuery<FromTo>,
) -> Result<Json<MembershipCounts>, ApiError> {
    let caller = caller.require(Access::Edit)?;
    let (from, to) = (from_to.from, from_to.to);
    let moved =
        db::groups::move_members(&state.db, caller.workspace_id, from, to, &caller.author())
            .await
            .map_err(group_gone)?;
    Ok(Json(moved.into()))
}
