//! Contact groups, memberships and blacklisting.
//!
//! A contact is blacklisted while it belongs to at least one blacklisted group. The flag
//! lives on the group only, so marking a group changes one row however many members it
//! has, and every query that picks recipients checks it at read time.

use super::history::{self, Author, Entry, Sink};
use super::{Backend, Builder, Conn, Db, Dialect, on};
use crate::error::AppError;
use crate::model::channel::Channel;
use crate::model::contact::Selection;
use crate::model::group::{
    GroupInput, GroupPicks, GroupRef, GroupSummary, MAX_GROUPS_PER_WORKSPACE,
    MAX_MEMBERSHIPS_PER_REQUEST, MembershipChange, group_name_key,
};
use crate::model::history::HistoryKind;
use sqlx::QueryBuilder;
use std::collections::HashMap;

#[derive(sqlx::FromRow)]
struct GroupRow {
    id: i64,
    name: String,
    description: String,
    blacklisted: bool,
    member_count: i64,
    created_at: i64,
}

impl From<GroupRow> for GroupSummary {
    fn from(r: GroupRow) -> Self {
        GroupSummary {
            id: r.id,
            name: r.name,
            description: r.description,
            blacklisted: r.blacklisted,
            member_count: r.member_count,
            created_at: r.created_at,
        }
    }
}

const SUMMARY: &str = "SELECT g.id, g.name, g.description, g.blacklisted, g.created_at,
        (SELECT count(*) FROM memberships m
         WHERE m.workspace_id = g.workspace_id AND m.group_id = g.id) AS member_count
    FROM groups g";

fn name_taken(name: &str) -> AppError {
    AppError::invalid("name", format!("A group named \"{name}\" already exists."))
}

fn gone() -> AppError {
    AppError::NotFound("This group no longer exists. It may have been deleted.".into())
}

/// Creates a group; a name already used (ignoring case) is a field error.
pub async fn create(db: &Db, workspace_id: i64, input: &GroupInput) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    ensure_room_for_group(tx.conn(), workspace_id).await?;
    let sql = "INSERT INTO groups (workspace_id, name, name_key, description, blacklisted)
               VALUES ($1, $2, $3, $4, $5) RETURNING id";
    let id = on!(tx.conn(), conn => {
        sqlx::query_scalar(sql)
            .bind(workspace_id)
            .bind(&input.name)
            .bind(group_name_key(&input.name))
            .bind(&input.description)
            .bind(input.blacklisted)
            .fetch_one(conn)
            .await
    })
    .map_err(|e| {
        if super::is_unique_violation(&e) {
            name_taken(&input.name)
        } else {
            AppError::from(e)
        }
    })?;
    tx.commit().await?;
    Ok(id)
}

/// Refuses a new group once the workspace has [`MAX_GROUPS_PER_WORKSPACE`], in the
/// caller's write transaction. On PostgreSQL the workspace's row stays locked until it
/// commits, so two transactions creating groups in one workspace take turns and cannot
/// both pass the count (the lock does not stop rows that only refer to the workspace).
/// SQLite's write transactions always take turns.
async fn ensure_room_for_group(mut conn: Conn<'_>, workspace_id: i64) -> Result<(), AppError> {
    if let Backend::Postgres(conn) = conn.reborrow() {
        sqlx::query("SELECT id FROM workspaces WHERE id = $1 FOR NO KEY UPDATE")
            .bind(workspace_id)
            .execute(conn)
            .await?;
    }
    let sql = "SELECT count(*) FROM groups WHERE workspace_id = $1";
    let groups: i64 = on!(conn, conn => {
        sqlx::query_scalar(sql).bind(workspace_id).fetch_one(conn).await?
    });
    if groups >= MAX_GROUPS_PER_WORKSPACE {
        return Err(AppError::Conflict(format!(
            "This workspace has {MAX_GROUPS_PER_WORKSPACE} groups, the most it may have. \
             Delete groups you no longer need first."
        )));
    }
    Ok(())
}

/// Changes a group's name, description and blacklisted flag.
pub async fn update(
    conn: Conn<'_>,
    workspace_id: i64,
    id: i64,
    input: &GroupInput,
) -> Result<(), AppError> {
    let sql = "UPDATE groups SET name = $3, name_key = $4, description = $5, blacklisted = $6,
                   updated_at = $7
               WHERE workspace_id = $1 AND id = $2";
    let done = on!(conn, pool => {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(id)
            .bind(&input.name)
            .bind(group_name_key(&input.name))
            .bind(&input.description)
            .bind(input.blacklisted)
            .bind(super::now())
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
    })
    .map_err(|e| {
        if super::is_unique_violation(&e) {
            name_taken(&input.name)
        } else {
            AppError::from(e)
        }
    })?;
    if done == 0 {
        return Err(gone());
    }
    Ok(())
}

/// Marks a group blacklisted or not: one row, whatever its size.
pub async fn set_blacklisted(
    db: &Db,
    workspace_id: i64,
    id: i64,
    blacklisted: bool,
) -> Result<(), AppError> {
    let sql = "UPDATE groups SET blacklisted = $3, updated_at = $4
               WHERE workspace_id = $1 AND id = $2";
    let done = on!(db, pool => {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(id)
            .bind(blacklisted)
            .bind(super::now())
            .execute(pool)
            .await?
            .rows_affected()
    });
    if done == 0 {
        return Err(gone());
    }
    Ok(())
}

/// Deletes a group and its memberships, never its contacts, in the caller's
/// transaction; its members' histories say they left it.
pub async fn delete(
    mut conn: Conn<'_>,
    workspace_id: i64,
    id: i64,
    author: &Author,
) -> Result<(), AppError> {
    let name = names_of(conn.reborrow(), workspace_id, &[id])
        .await
        .map_err(|_| gone())?
        .remove(0);
    let sql = "DELETE FROM groups WHERE workspace_id = $1 AND id = $2";
    let sinks = history::sinks(conn.reborrow(), workspace_id, author, HistoryKind::Left).await?;
    on!(conn, conn => {
        for sink in sinks {
            let mut q = QueryBuilder::new("");
            push_membership_entries(&mut q, sink, workspace_id, author, false, (id, name.clone()))?;
            q.push(" FROM (SELECT m.contact_id FROM memberships m WHERE m.workspace_id = ")
                .push_bind(workspace_id)
                .push(" AND m.group_id = ")
                .push_bind(id)
                .push(") AS x");
            q.build().execute(&mut *conn).await?;
        }
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(id)
            .execute(&mut *conn)
            .await?;
    });
    Ok(())
}

/// [`history::push_record_each`] of joining (or leaving) a group.
fn push_membership_entries(
    q: &mut impl Builder,
    sink: Sink,
    workspace_id: i64,
    author: &Author,
    joined: bool,
    group: (i64, String),
) -> Result<(), AppError> {
    let entry = Entry::membership(0, joined, group);
    history::push_record_each(q, sink, workspace_id, author, entry.kind, &entry.detail)
}

/// One group with its member count. In a write transaction on PostgreSQL its row stays
/// locked until the commit, so a check of what was read holds for the write after it
/// (SQLite's write transactions take turns anyway).
pub async fn get(mut conn: Conn<'_>, workspace_id: i64, id: i64) -> Result<GroupSummary, AppError> {
    if let Backend::Postgres(conn) = conn.reborrow() {
        sqlx::query("SELECT id FROM groups WHERE workspace_id = $1 AND id = $2 FOR NO KEY UPDATE")
            .bind(workspace_id)
            .bind(id)
            .execute(conn)
            .await?;
    }
    let sql = format!("{SUMMARY} WHERE g.workspace_id = $1 AND g.id = $2");
    let row: Option<GroupRow> = on!(conn, pool => {
        sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    row.map(Into::into).ok_or_else(gone)
}

/// The workspace's groups whose name starts with `search` (all when empty), by name.
pub async fn list(db: &Db, workspace_id: i64, search: &str) -> Result<Vec<GroupSummary>, AppError> {
    let prefix = group_name_key(search);
    let sql = format!(
        "{SUMMARY} WHERE g.workspace_id = $1 AND g.name_key >= $2 AND g.name_key < $3
         ORDER BY g.name_key"
    );
    let rows: Vec<GroupRow> = on!(db, pool => {
        sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(&prefix)
            .bind(format!("{prefix}\u{10FFFF}"))
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().map(Into::into).collect())
}

/// The id of the group with this name (ignoring case), creating it if there is none.
/// Two people creating the same name at once end up with one group.
pub async fn find_or_create(
    mut conn: Conn<'_>,
    workspace_id: i64,
    name: &str,
) -> Result<i64, AppError> {
    let input = crate::model::group::check_group(&GroupInput {
        name: name.into(),
        ..Default::default()
    })?;
    let insert = "INSERT INTO groups (workspace_id, name, name_key) VALUES ($1, $2, $3)
                  ON CONFLICT DO NOTHING";
    let select = "SELECT id FROM groups WHERE workspace_id = $1 AND name_key = $2";
    let key = group_name_key(&input.name);
    let existing: Option<i64> = on!(conn.reborrow(), conn => {
        sqlx::query_scalar(select)
            .bind(workspace_id)
            .bind(&key)
            .fetch_optional(conn)
            .await?
    });
    if let Some(id) = existing {
        return Ok(id);
    }
    ensure_room_for_group(conn.reborrow(), workspace_id).await?;
    Ok(on!(conn, conn => {
        sqlx::query(insert)
            .bind(workspace_id)
            .bind(&input.name)
            .bind(&key)
            .execute(&mut *conn)
            .await?;
        sqlx::query_scalar(select)
            .bind(workspace_id)
            .bind(&key)
            .fetch_one(conn)
            .await?
    }))
}

/// The ids of the picked groups and of the groups named as new (created if no group has
/// the name), each once, in that order.
pub async fn chosen_and_new(
    mut conn: Conn<'_>,
    workspace_id: i64,
    picks: &GroupPicks,
) -> Result<Vec<i64>, AppError> {
    let mut ids = picks.ids.clone();
    for name in &picks.new_names {
        let id = find_or_create(conn.reborrow(), workspace_id, name).await?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    Ok(ids)
}

/// Which of these ids are groups of the workspace.
pub async fn existing(
    conn: Conn<'_>,
    workspace_id: i64,
    group_ids: &[i64],
) -> Result<std::collections::HashSet<i64>, AppError> {
    if group_ids.is_empty() {
        return Ok(Default::default());
    }
    let json = serde_json::to_string(group_ids).map_err(|e| AppError::internal("group ids", e))?;
    let sql = format!(
        "SELECT id FROM groups WHERE workspace_id = $1 AND id IN ({})",
        conn.dialect().json_ids(2)
    );
    let ids: Vec<i64> = on!(conn, conn => {
        sqlx::query_scalar(&sql)
            .bind(workspace_id)
            .bind(json)
            .fetch_all(conn)
            .await?
    });
    Ok(ids.into_iter().collect())
}

/// Names of groups of the workspace, in the order of `group_ids`, checking each still
/// exists: one statement for the whole list.
async fn names_of(
    conn: Conn<'_>,
    workspace_id: i64,
    group_ids: &[i64],
) -> Result<Vec<String>, AppError> {
    let json = serde_json::to_string(group_ids).map_err(|e| AppError::internal("group ids", e))?;
    let sql = format!(
        "SELECT id, name FROM groups WHERE workspace_id = $1 AND id IN ({})",
        conn.dialect().json_ids(2)
    );
    let rows: Vec<(i64, String)> = on!(conn, conn => {
        sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(json)
            .fetch_all(conn)
            .await?
    });
    let names: HashMap<i64, String> = rows.into_iter().collect();
    group_ids
        .iter()
        .map(|id| {
            names.get(id).cloned().ok_or_else(|| {
                AppError::NotFound(
                    "One of the chosen groups no longer exists. Choose again.".into(),
                )
            })
        })
        .collect()
}

/// Adds the selected contacts to each chosen group and to the groups named in
/// `new_groups` (created first), in one transaction and one set-based statement per
/// group. `changed` counts new memberships; `unchanged` those that already existed.
pub async fn add_members(
    db: &Db,
    workspace_id: i64,
    picks: &GroupPicks,
    selection: &Selection,
    author: &Author,
) -> Result<MembershipChange, AppError> {
    if picks.is_empty() {
        return Err(AppError::invalid(
            "groups",
            "Choose a group, or type the name of a new one.",
        ));
    }
    let selected = super::contacts::count_selection(db, workspace_id, selection).await?;
    if selected.saturating_mul(picks.len() as i64) > MAX_MEMBERSHIPS_PER_REQUEST {
        return Err(AppError::invalid(
            "groups",
            format!(
                "That is {selected} contacts in {} groups: at most {MAX_MEMBERSHIPS_PER_REQUEST} \
                 memberships are added at a time. Choose fewer groups, or fewer contacts.",
                picks.len()
            ),
        ));
    }
    // Every member added comes from a contact or membership row read in this
    // transaction, and the groups are checked in it.
    let mut tx = db.begin_bulk_write().await?;
    let group_ids = chosen_and_new(tx.conn(), workspace_id, picks).await?;
    let group_ids = group_ids.as_slice();
    let groups = names_of(tx.conn(), workspace_id, group_ids).await?;
    let source_group = match selection {
        Selection::AllMatching(filter) => super::contacts::group_only(filter),
        Selection::Ids(_) => None,
    };
    let mut changed = 0;
    let sinks = history::sinks(tx.conn(), workspace_id, author, HistoryKind::Joined).await?;
    for (group, name) in group_ids.iter().zip(&groups) {
        changed += on!(tx.conn(), conn => {
            // The histories (and events) first: the selected contacts not in the group yet.
            for sink in &sinks {
                let mut q = QueryBuilder::new("");
                push_membership_entries(&mut q, *sink, workspace_id, author, true, (*group, name.clone()))?;
                q.push(" FROM (SELECT ");
                push_selected(&mut q, workspace_id, source_group, selection)?;
                q.push(") AS x WHERE NOT EXISTS (SELECT 1 FROM memberships e WHERE e.workspace_id = ")
                    .push_bind(workspace_id)
                    .push(" AND e.group_id = ")
                    .push_bind(*group)
                    .push(" AND e.contact_id = x.contact_id)");
                q.build().execute(&mut *conn).await?;
            }
            let mut q = QueryBuilder::new(
                "INSERT INTO memberships (group_id, contact_id, workspace_id) SELECT ",
            );
            q.push_bind(*group).push(", ");
            push_selected(&mut q, workspace_id, source_group, selection)?;
            // SQLite reads `ON` after a SELECT as a join's; the WHERE ends the SELECT.
            q.push(" AND TRUE ON CONFLICT DO NOTHING");
            q.build().execute(&mut *conn).await?.rows_affected() as i64
        });
    }
    tx.commit().await?;
    if changed >= super::BULK_ROWS {
        db.refresh_statistics_soon(&["memberships"]);
    }
    Ok(MembershipChange {
        groups,
        changed,
        unchanged: selected * group_ids.len() as i64 - changed,
    })
}

/// `contact_id, workspace_id FROM … WHERE …` of the selected contacts, to follow a
/// `SELECT`: `source_group` is the group whose members an "all matching" selection is.
fn push_selected(
    q: &mut impl Builder,
    workspace_id: i64,
    source_group: Option<i64>,
    selection: &Selection,
) -> Result<(), AppError> {
    match selection {
        // Another group's members: memberships carry their workspace, so no contact
        // row is read (100,000 members: 785 ms through the contacts, now a range copy).
        Selection::AllMatching(_) if let Some(source) = source_group => {
            q.push(
                "gm.contact_id AS contact_id, gm.workspace_id AS workspace_id \
                    FROM memberships gm WHERE gm.group_id = ",
            )
            .push_bind(source)
            .push(" AND gm.workspace_id = ")
            .push_bind(workspace_id);
        }
        // Straight from the filter's own source: no second lookup per contact.
        Selection::AllMatching(filter) => {
            q.push("c.id AS contact_id, c.workspace_id AS workspace_id");
            super::contacts::push_from(q, workspace_id, filter, false);
        }
        Selection::Ids(_) => {
            q.push(
                "c.id AS contact_id, c.workspace_id AS workspace_id \
                 FROM contacts c WHERE c.workspace_id = ",
            )
            .push_bind(workspace_id);
            super::contacts::push_selection(q, workspace_id, selection)?;
        }
    }
    Ok(())
}

/// Moves every member of group `from` to group `to` in one transaction: they join `to`
/// and leave `from` (a member added to `from` meanwhile either moves or stays, never
/// leaves without joining). `changed` counts those that joined `to`.
pub async fn move_members(
    db: &Db,
    workspace_id: i64,
    from: i64,
    to: i64,
    author: &Author,
) -> Result<MembershipChange, AppError> {
    let mut tx = db.begin_bulk_write().await?;
    let groups = names_of(tx.conn(), workspace_id, &[from, to]).await?;
    let (from_group, to_group) = ((from, groups[0].clone()), (to, groups[1].clone()));
    let count = "SELECT count(*) FROM memberships WHERE workspace_id = $1 AND group_id = $2";
    let copy = "INSERT INTO memberships (group_id, contact_id, workspace_id)
                SELECT $3, m.contact_id, m.workspace_id FROM memberships m
                WHERE m.workspace_id = $1 AND m.group_id = $2 AND TRUE
                ON CONFLICT DO NOTHING";
    let leave = "DELETE FROM memberships WHERE workspace_id = $1 AND group_id = $2
                 AND contact_id IN (SELECT t.contact_id FROM memberships t
                                    WHERE t.workspace_id = $1 AND t.group_id = $3)";
    let sinks = history::sinks(tx.conn(), workspace_id, author, HistoryKind::Joined).await?;
    let (members, changed) = on!(tx.conn(), conn => {
        let members: i64 = sqlx::query_scalar(count)
            .bind(workspace_id)
            .bind(from)
            .fetch_one(&mut *conn)
            .await?;
        if members > MAX_MEMBERSHIPS_PER_REQUEST {
            return Err(AppError::invalid(
                "groups",
                format!("At most {MAX_MEMBERSHIPS_PER_REQUEST} members are moved at a time."),
            ));
        }
        if from == to {
            return Ok(MembershipChange { groups, changed: 0, unchanged: members });
        }
        // Histories (and events): those not in `to` yet join it; every member leaves
        // `from`.
        for sink in &sinks {
            let mut q = QueryBuilder::new("");
            push_membership_entries(&mut q, *sink, workspace_id, author, true, to_group.clone())?;
            q.push(" FROM (SELECT m.contact_id FROM memberships m WHERE m.workspace_id = ")
                .push_bind(workspace_id)
                .push(" AND m.group_id = ")
                .push_bind(from)
                .push(" AND NOT EXISTS (SELECT 1 FROM memberships t WHERE t.workspace_id = ")
                .push_bind(workspace_id)
                .push(" AND t.group_id = ")
                .push_bind(to)
                .push(" AND t.contact_id = m.contact_id)) AS x");
            q.build().execute(&mut *conn).await?;
            let mut q = QueryBuilder::new("");
            push_membership_entries(&mut q, *sink, workspace_id, author, false, from_group.clone())?;
            q.push(" FROM (SELECT m.contact_id FROM memberships m WHERE m.workspace_id = ")
                .push_bind(workspace_id)
                .push(" AND m.group_id = ")
                .push_bind(from)
                .push(") AS x");
            q.build().execute(&mut *conn).await?;
        }
        let changed = sqlx::query(copy)
            .bind(workspace_id)
            .bind(from)
            .bind(to)
            .execute(&mut *conn)
            .await?
            .rows_affected() as i64;
        {
            sqlx::query(leave)
                .bind(workspace_id)
                .bind(from)
                .bind(to)
                .execute(&mut *conn)
                .await?;
        }
        (members, changed)
    });
    tx.commit().await?;
    Ok(MembershipChange {
        groups,
        changed,
        unchanged: members - changed,
    })
}

/// Removes the selected contacts from a group (the contacts stay).
pub async fn remove_members(
    db: &Db,
    workspace_id: i64,
    group_id: i64,
    selection: &Selection,
    author: &Author,
) -> Result<MembershipChange, AppError> {
    let selected = super::contacts::count_selection(db, workspace_id, selection).await?;
    let mut tx = db.begin_write().await?;
    let groups = names_of(tx.conn(), workspace_id, &[group_id]).await?;
    let group = (group_id, groups[0].clone());
    let sinks = history::sinks(tx.conn(), workspace_id, author, HistoryKind::Left).await?;
    let changed = on!(tx.conn(), conn => {
        for sink in &sinks {
            let mut q = QueryBuilder::new("");
            push_membership_entries(&mut q, *sink, workspace_id, author, false, group.clone())?;
            q.push(" FROM (SELECT m.contact_id FROM memberships m WHERE m.workspace_id = ")
                .push_bind(workspace_id)
                .push(" AND m.group_id = ")
                .push_bind(group_id)
                .push(" AND m.contact_id IN (SELECT c.id FROM contacts c WHERE c.workspace_id = ")
                .push_bind(workspace_id);
            super::contacts::push_selection(&mut q, workspace_id, selection)?;
            q.push(")) AS x");
            q.build().execute(&mut *conn).await?;
        }
        let mut q = QueryBuilder::new("DELETE FROM memberships WHERE workspace_id = ");
        q.push_bind(workspace_id)
            .push(" AND group_id = ")
            .push_bind(group_id)
            .push(" AND contact_id IN (SELECT c.id FROM contacts c WHERE c.workspace_id = ")
            .push_bind(workspace_id);
        super::contacts::push_selection(&mut q, workspace_id, selection)?;
        q.push(")");
        q.build().execute(&mut *conn).await?.rows_affected() as i64
    });
    tx.commit().await?;
    Ok(MembershipChange {
        groups,
        changed,
        unchanged: selected - changed,
    })
}

/// The groups of each of these contacts (of the workspace), by name.
pub async fn groups_of(
    conn: Conn<'_>,
    workspace_id: i64,
    contact_ids: &[i64],
) -> Result<HashMap<i64, Vec<GroupRef>>, AppError> {
    let json =
        serde_json::to_string(contact_ids).map_err(|e| AppError::internal("contact ids", e))?;
    let sql = format!(
        "SELECT m.contact_id, g.id, g.name, g.blacklisted
         FROM {} JOIN groups g ON g.workspace_id = m.workspace_id AND g.id = m.group_id
         ORDER BY g.name_key",
        conn.dialect().memberships_of_contacts(2)
    );
    let rows: Vec<(i64, i64, String, bool)> = on!(conn, conn => {
        sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(json)
            .fetch_all(conn)
            .await?
    });
    let mut map: HashMap<i64, Vec<GroupRef>> = HashMap::new();
    for (contact, id, name, blacklisted) in rows {
        map.entry(contact).or_default().push(GroupRef {
            id,
            name,
            blacklisted,
        });
    }
    Ok(map)
}

/// Makes a contact's groups exactly `group_ids` (the contact dialog's Groups field), in
/// the caller's transaction, and records the groups it joined and left.
pub async fn set_groups_of_contact(
    mut conn: Conn<'_>,
    workspace_id: i64,
    contact_id: i64,
    group_ids: &[i64],
    author: &Author,
) -> Result<(), AppError> {
    let names = names_of(conn.reborrow(), workspace_id, group_ids).await?;
    let before = groups_of(conn.reborrow(), workspace_id, &[contact_id])
        .await?
        .remove(&contact_id)
        .unwrap_or_default();
    let mut entries: Vec<Entry> = before
        .iter()
        .filter(|g| !group_ids.contains(&g.id))
        .map(|g| Entry::membership(contact_id, false, (g.id, g.name.clone())))
        .collect();
    let mut joined: Vec<(i64, String)> = group_ids
        .iter()
        .copied()
        .zip(names)
        .filter(|(id, _)| !before.iter().any(|g| g.id == *id))
        .collect();
    joined.sort();
    joined.dedup();
    entries.extend(
        joined
            .into_iter()
            .map(|g| Entry::membership(contact_id, true, g)),
    );
    let json = serde_json::to_string(group_ids).map_err(|e| AppError::internal("group ids", e))?;
    let ids = conn.dialect().json_ids(3);
    let delete = format!(
        "DELETE FROM memberships WHERE contact_id = $1 AND workspace_id = $2
           AND group_id NOT IN ({ids})"
    );
    let insert = format!(
        "INSERT INTO memberships (group_id, contact_id, workspace_id)
         SELECT ids.value, c.id, c.workspace_id FROM ({ids}) AS ids, contacts c
         WHERE c.id = $1 AND c.workspace_id = $2
         ON CONFLICT DO NOTHING"
    );
    on!(conn.reborrow(), conn => {
        for sql in [&delete, &insert] {
            sqlx::query(sql)
                .bind(contact_id)
                .bind(workspace_id)
                .bind(&json)
                .execute(&mut *conn)
                .await?;
        }
    });
    history::record(conn, workspace_id, author, &entries).await
}

/// The id of the group with this name (ignoring case), if there is one.
pub async fn id_by_name(
    conn: Conn<'_>,
    workspace_id: i64,
    name: &str,
) -> Result<Option<i64>, AppError> {
    let sql = "SELECT id FROM groups WHERE workspace_id = $1 AND name_key = $2";
    Ok(on!(conn, conn => {
        sqlx::query_scalar(sql)
            .bind(workspace_id)
            .bind(group_name_key(name))
            .fetch_optional(conn)
            .await?
    }))
}

/// The blacklisted group called `name`: made (blacklisted) if there is none, marked
/// blacklisted if it was not.
pub async fn find_or_create_blacklisted(
    mut conn: Conn<'_>,
    workspace_id: i64,
    name: &str,
) -> Result<i64, AppError> {
    let id = find_or_create(conn.reborrow(), workspace_id, name).await?;
    let sql = "UPDATE groups SET blacklisted = TRUE, updated_at = $3
               WHERE workspace_id = $1 AND id = $2 AND NOT blacklisted";
    on!(conn, conn => {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(id)
            .bind(super::now())
            .execute(conn)
            .await?
            .rows_affected()
    });
    Ok(id)
}

/// Puts a contact in a group (a no-op if it is in it), in the caller's transaction, and
/// records it; both are the workspace's.
pub async fn add_member(
    mut conn: Conn<'_>,
    workspace_id: i64,
    group_id: i64,
    contact_id: i64,
    author: &Author,
) -> Result<bool, AppError> {
    let sql = "INSERT INTO memberships (group_id, contact_id, workspace_id)
               SELECT g.id, c.id, c.workspace_id FROM groups g, contacts c
               WHERE g.workspace_id = $1 AND g.id = $2 AND c.workspace_id = $1 AND c.id = $3
               ON CONFLICT DO NOTHING";
    let added = on!(conn.reborrow(), conn => {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(group_id)
            .bind(contact_id)
            .execute(conn)
            .await?
            .rows_affected()
    }) == 1;
    if added {
        record_membership(conn, workspace_id, author, contact_id, true, group_id).await?;
    }
    Ok(added)
}

/// Records that a contact joined (or left) a group.
async fn record_membership(
    mut conn: Conn<'_>,
    workspace_id: i64,
    author: &Author,
    contact_id: i64,
    joined: bool,
    group_id: i64,
) -> Result<(), AppError> {
    let name = names_of(conn.reborrow(), workspace_id, &[group_id])
        .await?
        .remove(0);
    let entry = Entry::membership(contact_id, joined, (group_id, name));
    history::record(conn, workspace_id, author, &[entry]).await
}

/// Takes a contact out of a group, in the caller's transaction, and records it; whether
/// it was in it.
pub async fn remove_member(
    mut conn: Conn<'_>,
    workspace_id: i64,
    group_id: i64,
    contact_id: i64,
    author: &Author,
) -> Result<bool, AppError> {
    let sql =
        "DELETE FROM memberships WHERE workspace_id = $1 AND group_id = $2 AND contact_id = $3";
    let removed = on!(conn.reborrow(), conn => {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(group_id)
            .bind(contact_id)
            .execute(conn)
            .await?
            .rows_affected()
    }) == 1;
    if removed {
        record_membership(conn, workspace_id, author, contact_id, false, group_id).await?;
    }
    Ok(removed)
}

/// The workspace's blacklisted groups.
async fn blacklisted_ids(db: &Db, workspace_id: i64) -> Result<Vec<i64>, AppError> {
    let sql = "SELECT id FROM groups WHERE workspace_id = $1 AND blacklisted";
    Ok(on!(db, pool => {
        sqlx::query_scalar(sql).bind(workspace_id).fetch_all(pool).await?
    }))
}

/// A page of the sendable recipients of these groups on one channel (the field that is
/// its address): each member once, in id order, with its address, leaving out those
/// without one, those opted out of the channel and those in a blacklisted group (which
/// blocks every channel). Everything that picks recipients uses this. Returns the page and where the next one starts (`None` after the last).
///
/// Each group's members after `after` are read in key order with their address (none
/// when they may not be messaged), a share of `limit` from each, and merged up to the
/// lowest id where a group's share ran out: past it, that group may have members not
/// read yet.
pub async fn sendable_recipients(
    db: &Db,
    workspace_id: i64,
    group_ids: &[i64],
    channel: Channel,
    after: i64,
    limit: i64,
) -> Result<(Vec<(i64, String)>, Option<i64>), AppError> {
    let blacklisted = blacklisted_ids(db, workspace_id).await?;
    let blocked = serde_json::to_string(&blacklisted).map_err(|e| AppError::internal("ids", e))?;
    let mut sendable = format!("NOT {}", super::opt_outs::opted_out_sql(channel));
    if !blacklisted.is_empty() {
        sendable.push_str(&format!(
            " AND NOT EXISTS (SELECT 1 FROM memberships bm WHERE bm.workspace_id = $1
                 AND bm.contact_id = c.id AND bm.group_id IN ({}))",
            db.dialect().json_ids(5)
        ));
    }
    let column = channel.field().key();
    // Both databases walk the group's range of the memberships key and look each
    // contact up by its key. SQLite does it fastest as a join; PostgreSQL, with
    // statistics taken before the group grew, may plan that join as a scan of the
    // workspace, so there the address is a subquery per member, which it cannot.
    let (address, join) = match db.dialect() {
        Dialect::Sqlite => (
            format!("CASE WHEN {sendable} THEN c.{column} END"),
            "JOIN contacts c ON c.workspace_id = m.workspace_id AND c.id = m.contact_id",
        ),
        Dialect::Postgres => (
            format!(
                "(SELECT c.{column} FROM contacts c
                  WHERE c.workspace_id = m.workspace_id AND c.id = m.contact_id AND {sendable})"
            ),
            "",
        ),
    };
    let sql = format!(
        "SELECT m.contact_id, {address} FROM memberships m {join}
         WHERE m.workspace_id = $1 AND m.group_id = $2 AND m.contact_id > $3
         ORDER BY m.contact_id LIMIT $4"
    );
    let share = (limit / group_ids.len().max(1) as i64).max(100);
    let mut members = std::collections::BTreeMap::new();
    let mut bound = i64::MAX;
    for group in group_ids {
        let rows: Vec<(i64, Option<String>)> = on!(db, pool => {
            let query = sqlx::query_as(&sql)
                .bind(workspace_id)
                .bind(group)
                .bind(after)
                .bind(share);
            let query = if blacklisted.is_empty() { query } else { query.bind(&blocked) };
            query.fetch_all(pool).await?
        });
        if rows.len() as i64 == share
            && let Some(&(last, _)) = rows.last()
        {
            bound = bound.min(last);
        }
        members.extend(rows);
    }
    let members = members.into_iter().take_while(|(id, _)| *id <= bound);
    let mut next = None;
    let mut page = Vec::new();
    for (id, address) in members {
        next = Some(id);
        page.extend(address.map(|address| (id, address)));
    }
    Ok((page, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::db_tests!(
        names_are_unique_per_workspace_ignoring_case,
        adding_counts_new_and_existing_members,
        a_deleted_or_foreign_group_is_refused,
        all_members_of_one_group_are_added_to_another,
        blacklisting_follows_the_groups_flag,
        group_filters_page_without_gaps,
        membership_changes_are_in_each_members_history
    );
    use crate::db::contacts::{self, ContactRecord};
    use crate::db::workspaces;
    use crate::model::contact::{ContactFilter, ContactSort, PageRequest};

    async fn contact(db: &Db, ws: i64, name: &str, national: u32) -> i64 {
        use crate::model::field::ContactField::*;
        let mut record = ContactRecord::default()
            .with(FirstName, name)
            .with(Mobile, format!("+65{national}"))
            .with(Country, "SG");
        record.mobile_national = Some(national.to_string());
        contacts::create(db, ws, &record, crate::db::testing::AUTHOR)
            .await
            .unwrap()
    }

    fn group(name: &str, blacklisted: bool) -> GroupInput {
        GroupInput {
            name: name.into(),
            description: String::new(),
            blacklisted,
        }
    }

    fn picked(group: i64) -> GroupPicks {
        GroupPicks {
            ids: vec![group],
            new_names: Vec::new(),
        }
    }

    /// Every sendable recipient by SMS, a page of two at a time.
    async fn sendable(db: &Db, ws: i64, groups: &[i64]) -> Vec<i64> {
        let mut all = Vec::new();
        let mut after = 0;
        loop {
            let (page, next) = sendable_recipients(db, ws, groups, Channel::SMS, after, 2)
                .await
                .unwrap();
            all.extend(page.into_iter().map(|(id, _)| id));
            match next {
                Some(next) => after = next,
                None => return all,
            }
        }
    }

    async fn names_are_unique_per_workspace_ignoring_case(db: Db) {
        let ws = workspaces::create(&db, "A", "SG").await.unwrap();
        let other = workspaces::create(&db, "B", "SG").await.unwrap();
        create(&db, ws, &group("Unsubscribed", false))
            .await
            .unwrap();
        let again = create(&db, ws, &group("UNSUBSCRIBED", false))
            .await
            .unwrap_err();
        assert!(
            again
                .field_message("name")
                .unwrap()
                .contains("already exists")
        );
        create(&db, other, &group("Unsubscribed", false))
            .await
            .unwrap();
        // Concurrent "create X" from two tabs ends with one group.
        let (mut one, mut two) = (db.acquire().await.unwrap(), db.acquire().await.unwrap());
        let (a, b) = tokio::join!(
            find_or_create(one.conn(), ws, "VIP"),
            find_or_create(two.conn(), ws, "vip")
        );
        assert_eq!(a.unwrap(), b.unwrap());
        assert_eq!(list(&db, ws, "").await.unwrap().len(), 2);
        assert!(
            find_or_create(db.acquire().await.unwrap().conn(), ws, "   ")
                .await
                .is_err()
        );
    }

    async fn adding_counts_new_and_existing_members(db: Db) {
        let ws = workspaces::create(&db, "A", "SG").await.unwrap();
        let a = contact(&db, ws, "Ann", 81000001).await;
        let b = contact(&db, ws, "Bob", 81000002).await;
        let c = contact(&db, ws, "Cat", 81000003).await;
        let vip = create(&db, ws, &group("VIP", false)).await.unwrap();
        let first = add_members(
            &db,
            ws,
            &picked(vip),
            &Selection::Ids(vec![a, b]),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        assert_eq!((first.changed, first.unchanged), (2, 0));
        assert_eq!(first.groups, ["VIP"]);
        let all = Selection::AllMatching(ContactFilter::default());
        let second = add_members(&db, ws, &picked(vip), &all, crate::db::testing::AUTHOR)
            .await
            .unwrap();
        assert_eq!((second.changed, second.unchanged), (1, 2));
        assert_eq!(
            get(db.acquire().await.unwrap().conn(), ws, vip)
                .await
                .unwrap()
                .member_count,
            3
        );
        // "All matching" a search: by name, and by number digits.
        let cats = create(&db, ws, &group("Cats", false)).await.unwrap();
        for search in ["ca", "81000003"] {
            let found = Selection::AllMatching(ContactFilter {
                search: search.into(),
                ..Default::default()
            });
            add_members(&db, ws, &picked(cats), &found, crate::db::testing::AUTHOR)
                .await
                .unwrap();
        }
        assert_eq!(
            get(db.acquire().await.unwrap().conn(), ws, cats)
                .await
                .unwrap()
                .member_count,
            1
        );
        delete(
            db.acquire().await.unwrap().conn(),
            ws,
            cats,
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();

        let removed = remove_members(
            &db,
            ws,
            vip,
            &Selection::Ids(vec![c]),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        assert_eq!((removed.changed, removed.unchanged), (1, 0));
        // Deleting a group keeps its contacts; deleting a contact drops its memberships.
        contacts::delete(
            db.acquire().await.unwrap().conn(),
            ws,
            &Selection::Ids(vec![b]),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        assert_eq!(
            get(db.acquire().await.unwrap().conn(), ws, vip)
                .await
                .unwrap()
                .member_count,
            1
        );
        delete(
            db.acquire().await.unwrap().conn(),
            ws,
            vip,
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        assert_eq!(
            contacts::count(&db, ws, &ContactFilter::default())
                .await
                .unwrap(),
            2
        );
        let sql = "SELECT count(*) FROM memberships";
        let left: i64 = on!(&db, pool => sqlx::query_scalar(sql).fetch_one(pool).await).unwrap();
        assert_eq!(left, 0);
    }

    async fn a_deleted_or_foreign_group_is_refused(db: Db) {
        let ws = workspaces::create(&db, "A", "SG").await.unwrap();
        let other = workspaces::create(&db, "B", "SG").await.unwrap();
        let a = contact(&db, ws, "Ann", 81000001).await;
        let theirs = create(&db, other, &group("Theirs", false)).await.unwrap();
        let sel = Selection::Ids(vec![a]);
        assert!(matches!(
            add_members(&db, ws, &picked(theirs), &sel, crate::db::testing::AUTHOR).await,
            Err(AppError::NotFound(_))
        ));
        let gone = create(&db, ws, &group("Gone", false)).await.unwrap();
        delete(
            db.acquire().await.unwrap().conn(),
            ws,
            gone,
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        assert!(matches!(
            add_members(&db, ws, &picked(gone), &sel, crate::db::testing::AUTHOR).await,
            Err(AppError::NotFound(_))
        ));
        // Another workspace's contacts are never added, whatever ids are sent.
        let mine = create(&db, ws, &group("Mine", false)).await.unwrap();
        let b = contact(&db, other, "Bob", 81000002).await;
        let change = add_members(
            &db,
            ws,
            &picked(mine),
            &Selection::Ids(vec![a, b]),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        assert_eq!(change.changed, 1);
        // Nor the members of another workspace's group, named as a filter.
        let their_members = create(&db, other, &group("Their members", false))
            .await
            .unwrap();
        add_members(
            &db,
            other,
            &picked(their_members),
            &Selection::Ids(vec![b]),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        let theirs_filter = ContactFilter {
            group: Some(their_members),
            ..Default::default()
        };
        assert_eq!(contacts::count(&db, ws, &theirs_filter).await.unwrap(), 0);
        let change = add_members(
            &db,
            ws,
            &picked(mine),
            &Selection::AllMatching(theirs_filter),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        assert_eq!((change.changed, change.unchanged), (0, 0));
    }

    async fn all_members_of_one_group_are_added_to_another(db: Db) {
        let ws = workspaces::create(&db, "A", "SG").await.unwrap();
        let a = contact(&db, ws, "Ann", 81000001).await;
        let b = contact(&db, ws, "Bob", 81000002).await;
        contact(&db, ws, "Cat", 81000003).await;
        let source = create(&db, ws, &group("Source", false)).await.unwrap();
        let target = create(&db, ws, &group("Target", false)).await.unwrap();
        add_members(
            &db,
            ws,
            &picked(source),
            &Selection::Ids(vec![a, b]),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        add_members(
            &db,
            ws,
            &picked(target),
            &Selection::Ids(vec![a]),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        let members = ContactFilter {
            group: Some(source),
            ..Default::default()
        };
        assert_eq!(contacts::count(&db, ws, &members).await.unwrap(), 2);
        let change = add_members(
            &db,
            ws,
            &picked(target),
            &Selection::AllMatching(members),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        assert_eq!((change.changed, change.unchanged), (1, 1));
        assert_eq!(
            get(db.acquire().await.unwrap().conn(), ws, target)
                .await
                .unwrap()
                .member_count,
            2
        );
    }

    async fn blacklisting_follows_the_groups_flag(db: Db) {
        let ws = workspaces::create(&db, "A", "SG").await.unwrap();
        let ann = contact(&db, ws, "Ann", 81000001).await; // normal + blacklisted
        let bob = contact(&db, ws, "Bob", 81000002).await; // normal only
        let cat = contact(&db, ws, "Cat", 81000003).await; // blacklisted only
        let news = create(&db, ws, &group("Newsletter", false)).await.unwrap();
        let unsub = create(&db, ws, &group("Unsubscribed", false))
            .await
            .unwrap();
        add_members(
            &db,
            ws,
            &picked(news),
            &Selection::Ids(vec![ann, bob]),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        add_members(
            &db,
            ws,
            &picked(unsub),
            &Selection::Ids(vec![ann, cat]),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();

        assert_eq!(sendable(&db, ws, &[news]).await, [ann, bob]);
        set_blacklisted(&db, ws, unsub, true).await.unwrap();
        assert_eq!(sendable(&db, ws, &[news]).await, [bob]);
        assert!(sendable(&db, ws, &[unsub]).await.is_empty());

        let blacklisted = ContactFilter {
            blacklisted: Some(true),
            ..Default::default()
        };
        let page = contacts::page(&db, ws, &blacklisted, &PageRequest::First, 50)
            .await
            .unwrap();
        assert_eq!(
            page.rows.iter().map(|r| r.id).collect::<Vec<_>>(),
            [cat, ann]
        );
        let clean = ContactFilter {
            blacklisted: Some(false),
            sort: ContactSort::Oldest,
            ..Default::default()
        };
        assert_eq!(contacts::count(&db, ws, &clean).await.unwrap(), 1);

        // Removed from its only blacklisted group, Cat is sendable again.
        remove_members(
            &db,
            ws,
            unsub,
            &Selection::Ids(vec![cat]),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        add_members(
            &db,
            ws,
            &picked(news),
            &Selection::Ids(vec![cat]),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        assert_eq!(sendable(&db, ws, &[news]).await, [bob, cat]);
        // Un-marking the group frees everyone at once.
        set_blacklisted(&db, ws, unsub, false).await.unwrap();
        assert_eq!(sendable(&db, ws, &[news]).await, [ann, bob, cat]);
        let groups = groups_of(db.acquire().await.unwrap().conn(), ws, &[ann])
            .await
            .unwrap();
        assert_eq!(
            groups[&ann]
                .iter()
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>(),
            ["Newsletter", "Unsubscribed"]
        );
    }

    async fn group_filters_page_without_gaps(db: Db) {
        let ws = workspaces::create(&db, "A", "SG").await.unwrap();
        let vip = create(&db, ws, &group("VIP", false)).await.unwrap();
        let mut members = Vec::new();
        for i in 0..30 {
            let id = contact(&db, ws, &format!("P{i:02}"), 81000000 + i).await;
            if i % 3 == 0 {
                members.push(id);
            }
        }
        add_members(
            &db,
            ws,
            &picked(vip),
            &Selection::Ids(members.clone()),
            crate::db::testing::AUTHOR,
        )
        .await
        .unwrap();
        for sort in ContactSort::ALL {
            let filter = ContactFilter {
                group: Some(vip),
                sort,
                ..Default::default()
            };
            let mut seen = Vec::new();
            let mut request = PageRequest::First;
            loop {
                let page = contacts::page(&db, ws, &filter, &request, 3).await.unwrap();
                seen.extend(page.rows.iter().map(|r| r.id));
                match page.next {
                    Some(c) => request = PageRequest::After(c),
                    None => break,
                }
            }
            seen.sort_unstable();
            assert_eq!(seen, members, "{sort:?}");
            assert_eq!(contacts::count(&db, ws, &filter).await.unwrap(), 10);
        }
        let searched = ContactFilter {
            group: Some(vip),
            search: "p0".into(),
            ..Default::default()
        };
        assert_eq!(contacts::count(&db, ws, &searched).await.unwrap(), 4); // P00 P03 P06 P09
    }

    /// The kinds and group names in a contact's history, oldest first.
    async fn history_of(db: &Db, ws: i64, contact: i64) -> Vec<(String, String)> {
        let page = crate::db::history::page(db, ws, contact, None, 50)
            .await
            .unwrap();
        page.entries
            .into_iter()
            .rev()
            .map(|e| {
                let group = e.detail.group.map(|(_, name)| name).unwrap_or_default();
                (e.kind.key().to_string(), group)
            })
            .collect()
    }

    async fn membership_changes_are_in_each_members_history(db: Db) {
        let ws = workspaces::create(&db, "A", "SG").await.unwrap();
        let me = crate::db::testing::AUTHOR;
        let (ann, bob) = (
            contact(&db, ws, "Ann", 81000001).await,
            contact(&db, ws, "Bob", 81000002).await,
        );
        let news = create(&db, ws, &group("News", false)).await.unwrap();
        let shop = create(&db, ws, &group("Shop", false)).await.unwrap();
        add_members(&db, ws, &picked(news), &Selection::Ids(vec![ann]), me)
            .await
            .unwrap();
        // "All matching": everyone; Ann is in News already and does not join again.
        let everyone = Selection::AllMatching(ContactFilter::default());
        add_members(&db, ws, &picked(news), &everyone, me)
            .await
            .unwrap();
        move_members(&db, ws, news, shop, me).await.unwrap();
        remove_members(&db, ws, shop, &Selection::Ids(vec![bob]), me)
            .await
            .unwrap();
        let mut tx = db.begin_write().await.unwrap();
        delete(tx.conn(), ws, shop, me).await.unwrap();
        tx.commit().await.unwrap();
        let entry = |kind: &str, group: &str| (kind.to_string(), group.to_string());
        assert_eq!(
            history_of(&db, ws, ann).await,
            [
                entry("created", ""),
                entry("joined", "News"),
                entry("joined", "Shop"),
                entry("left", "News"),
                entry("left", "Shop"),
            ]
        );
        assert_eq!(
            history_of(&db, ws, bob).await,
            [
                entry("created", ""),
                entry("joined", "News"),
                entry("joined", "Shop"),
                entry("left", "News"),
                entry("left", "Shop"),
            ]
        );
    }
}
