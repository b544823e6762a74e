//! The contacts table and the Create/Edit Contact dialog.

use crate::error::AppError;
use crate::model::channel::Channel;
use crate::model::contact::{
    ContactDetail, ContactFilter, ContactInput, ContactPage, PageRequest, Selection, Total,
};
use crate::model::history::HistoryPage;
use crate::model::opt_out::{OptOut, OptOutReason};
use leptos::prelude::*;
use leptos::server_fn::codec::Json;

/// One page of the table.
#[server(endpoint = "list_contacts", input = Json)]
pub async fn list_contacts(
    filter: ContactFilter,
    page: PageRequest,
    size: u32,
) -> Result<ContactPage, AppError> {
    use super::ssr;
    use crate::model::contact::{ContactRow, PAGE_SIZES};
    use crate::{db, phone};
    ssr::respond(async move {
        let user = ssr::require_user()?;
        let size = if PAGE_SIZES.contains(&size) { size } else { 50 };
        let db = ssr::state()?.db;
        let listed = db::contacts::page(&db, user.workspace_id, &filter, &page, size).await?;
        let ids: Vec<i64> = listed.rows.iter().map(|r| r.id).collect();
        let mut conn = db.acquire().await?;
        let mut groups = db::groups::groups_of(conn.conn(), user.workspace_id, &ids).await?;
        let mut opt_outs = db::opt_outs::of_contacts(conn.conn(), user.workspace_id, &ids).await?;
        Ok(ContactPage {
            rows: listed
                .rows
                .into_iter()
                .map(|r| ContactRow {
                    groups: groups.remove(&r.id).unwrap_or_default(),
                    opted_out: opt_outs
                        .remove(&r.id)
                        .unwrap_or_default()
                        .into_iter()
                        .map(|o| o.channel)
                        .collect(),
                    id: r.id,
                    first_name: r.first_name,
                    last_name: r.last_name,
                    mobile: r
                        .mobile
                        .as_deref()
                        .map(phone::format_international)
                        .unwrap_or_default(),
                    email: r.email.unwrap_or_default(),
                    created_at: r.created_at,
                })
                .collect(),
            previous: listed.previous,
            next: listed.next,
        })
    })
    .await
}

/// How many contacts match the filter: up to `COUNT_BOUND`, or every one if `exact`
/// (within `EXACT_COUNT_LIMIT`).
#[server(endpoint = "count_contacts", input = Json)]
pub async fn count_contacts(filter: ContactFilter, exact: bool) -> Result<Total, AppError> {
    use super::ssr;
    use crate::db;
    use crate::model::contact::{COUNT_BOUND, EXACT_COUNT_LIMIT};
    ssr::respond(async move {
        let user = ssr::require_user()?;
        let db = &ssr::state()?.db;
        if exact {
            db::contacts::count_within(db, user.workspace_id, &filter, EXACT_COUNT_LIMIT).await
        } else {
            db::contacts::count_up_to(db, user.workspace_id, &filter, COUNT_BOUND).await
        }
    })
    .await
}

/// A contact, for the edit dialog.
#[server(endpoint = "get_contact", input = Json)]
pub async fn get_contact(id: i64) -> Result<ContactDetail, AppError> {
    use super::ssr;
    use crate::db;
    ssr::respond(async move {
        let user = ssr::require_user()?;
        let db = ssr::state()?.db;
        let mut conn = db.acquire().await?;
        let stored = db::contacts::get(conn.conn(), user.workspace_id, id).await?;
        let groups = db::groups::groups_of(conn.conn(), user.workspace_id, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        let opt_outs = db::opt_outs::of_contacts(conn.conn(), user.workspace_id, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        Ok(super::contact_form::detail(stored, groups, opt_outs))
    })
    .await
}

/// Creates a contact (no `id`) or changes one, with exactly the given groups (creating
/// those named in `new_groups`); returns its id.
#[server(endpoint = "save_contact", input = Json)]
pub async fn save_contact(
    id: Option<i64>,
    input: ContactInput,
    group_ids: Vec<i64>,
    new_groups: Vec<String>,
) -> Result<i64, AppError> {
    use super::ssr;
    use crate::db;
    use crate::model::group::{GroupPicks, MAX_GROUPS_PER_CONTACT};
    ssr::respond(async move {
        let user = ssr::require_editor()?;
        let groups = GroupPicks::checked(&group_ids, &new_groups, MAX_GROUPS_PER_CONTACT)?;
        let record = crate::normalize::record(&input)?;
        let db = ssr::state()?.db;
        db::contacts::save_with_groups(&db, user.workspace_id, id, &record, &groups, &user.author())
            .await
    })
    .await
}

/// Deletes the selected contacts; returns how many were deleted.
#[server(endpoint = "delete_contacts", input = Json)]
pub async fn delete_contacts(selection: Selection) -> Result<u64, AppError> {
    use super::ssr;
    use crate::db;
    ssr::respond(async move {
        let user = ssr::require_editor()?;
        let db = ssr::state()?.db;
        let mut tx = db.begin_write().await?;
        let deleted =
            db::contacts::delete(tx.conn(), user.workspace_id, &selection, &user.author()).await?;
        tx.commit().await?;
        Ok(deleted)
    })
    .await
}

/// Erases a contact as a person who asked to be forgotten (admins): the contact and
/// every copy the app keeps of its addresses (see [`crate::db::erasure`]).
#[server(endpoint = "erase_contact", input = Json)]
pub async fn erase_contact(id: i64) -> Result<(), AppError> {
    use super::ssr;
    use crate::server::auth::Access;
    ssr::respond(async move {
        let user = ssr::require(Access::Remove)?;
        let db = ssr::state()?.db;
        crate::db::erasure::erase(&db, user.workspace_id, &[id], &user.author()).await?;
        Ok(())
    })
    .await
}

/// Opts a contact's address on a channel out (with a reason) or, with `reason` `None`,
/// back in; returns the contact's opt-outs.
#[server(endpoint = "set_opt_out", input = Json)]
pub async fn set_opt_out(
    id: i64,
    channel: Channel,
    reason: Option<OptOutReason>,
) -> Result<Vec<OptOut>, AppError> {
    use super::ssr;
    use crate::db;
    ssr::respond(async move {
        let user = ssr::require_editor()?;
        let (workspace_id, author) = (user.workspace_id, user.author());
        let db = ssr::state()?.db;
        let mut tx = db.begin_write().await?;
        let stored = db::contacts::get(tx.conn(), workspace_id, id).await?;
        let Some(address) = stored.record.get(channel.field()).map(str::to_string) else {
            return Err(AppError::invalid(
                channel.field().key(),
                format!(
                    "Save a {} address first: there is none to opt out.",
                    channel.label()
                ),
            ));
        };
        match reason {
            Some(reason) => {
                db::opt_outs::set(tx.conn(), workspace_id, channel, &address, reason, &author)
                    .await?;
            }
            None => {
                db::opt_outs::clear(tx.conn(), workspace_id, channel, &address, &author).await?;
            }
        }
        let opt_outs = db::opt_outs::of_contacts(tx.conn(), workspace_id, &[id])
            .await?
            .remove(&id)
            .unwrap_or_default();
        tx.commit().await?;
        Ok(opt_outs)
    })
    .await
}

/// A page of a contact's history, newest first, older than entry `before` if given.
#[server(endpoint = "contact_history", input = Json)]
pub async fn contact_history(id: i64, before: Option<i64>) -> Result<HistoryPage, AppError> {
    use super::ssr;
    use crate::db;
    use crate::model::history::HISTORY_PAGE;
    ssr::respond(async move {
        let user = ssr::require_user()?;
        let db = ssr::state()?.db;
        db::history::page(&db, user.workspace_id, id, before, HISTORY_PAGE).await
    })
    .await
}
