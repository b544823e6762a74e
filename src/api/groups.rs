//! The Contact Groups tab, Add to Groups and Remove from group.

use crate::error::AppError;
use crate::model::contact::Selection;
use crate::model::group::{GroupInput, GroupSummary, MembershipChange};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// The workspace's groups whose name starts with `search`, by name.
#[server(endpoint = "list_groups", input = Json)]
pub async fn list_groups(search: String) -> Result<Vec<GroupSummary>, AppError> {
    use super::ssr;
    use crate::db;
    ssr::respond(async move {
        let user = ssr::require_user()?;
        db::groups::list(&ssr::state()?.db, user.workspace_id, &search).await
    })
    .await
}

/// Creates a group (no `id`) or changes one; returns its id.
#[server(endpoint = "save_group", input = Json)]
pub async fn save_group(id: Option<i64>, input: GroupInput) -> Result<i64, AppError> {
    use super::ssr;
    use crate::db;
    use crate::model::group::check_group;
    ssr::respond(async move {
        let user = ssr::require_editor()?;
        let input = check_group(&input)?;
        let db = ssr::state()?.db;
        match id {
            None => db::groups::create(&db, user.workspace_id, &input).await,
            Some(id) => {
                db::groups::update(db.acquire().await?.conn(), user.workspace_id, id, &input)
                    .await
                    .map(|()| id)
            }
        }
    })
    .await
}

/// Deletes a group; its contacts stay.
#[server(endpoint = "delete_group", input = Json)]
pub async fn delete_group(id: i64) -> Result<(), AppError> {
    use super::ssr;
    use crate::db;
    ssr::respond(async move {
        let user = ssr::require_editor()?;
        let db = ssr::state()?.db;
        let mut tx = db.begin_write().await?;
        db::groups::delete(tx.conn(), user.workspace_id, id, &user.author()).await?;
        Ok(tx.commit().await?)
    })
    .await
}

/// Adds the selection to the chosen groups, creating the groups named in `new_groups`.
#[server(endpoint = "add_to_groups", input = Json)]
pub async fn add_to_groups(
    group_ids: Vec<i64>,
    new_groups: Vec<String>,
    selection: Selection,
) -> Result<MembershipChange, AppError> {
    use super::ssr;
    use crate::db;
    use crate::model::group::{GroupPicks, MAX_GROUPS_PER_REQUEST};
    ssr::respond(async move {
        let user = ssr::require_editor()?;
        let picks = GroupPicks::checked(&group_ids, &new_groups, MAX_GROUPS_PER_REQUEST)?;
        let db = ssr::state()?.db;
        db::groups::add_members(&db, user.workspace_id, &picks, &selection, &user.author()).await
    })
    .await
}

/// Removes the selection from one group.
#[server(endpoint = "remove_from_group", input = Json)]
pub async fn remove_from_group(
    group_id: i64,
    selection: Selection,
) -> Result<MembershipChange, AppError> {
    use super::ssr;
    use crate::db;
    ssr::respond(async move {
        let user = ssr::require_editor()?;
        let db = ssr::state()?.db;
        db::groups::remove_members(&db, user.workspace_id, group_id, &selection, &user.author())
            .await
    })
    .await
}
