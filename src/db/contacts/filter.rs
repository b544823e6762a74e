//! Filters and selections: what a search, a group or the blacklisted flag adds to a
//! query of contacts (aliased `c`), and how many contacts match.

use super::search::{DIGITS_END, Ranges, national_digits, push_calling_codes};
use crate::db::{Builder, Db, on};
use crate::error::AppError;
use crate::model::contact::{ContactFilter, SearchTerm, Selection, Total};
use sqlx::QueryBuilder;
use std::sync::OnceLock;
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// Where the rows of a filtered query come from.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// Contacts matching a search: ranges of the name, email and number indexes.
    Search,
    /// The members of one group, in id order (alias `gm`).
    Group,
    /// All contacts of the workspace.
    All,
}

/// Appends `FROM … WHERE …` for the filter, contacts aliased `c`; returns the source.
pub(crate) fn push_from(
    q: &mut impl Builder,
    workspace_id: i64,
    filter: &ContactFilter,
    order_by_id: bool,
) -> Source {
    let search = SearchTerm::parse(&filter.search);
    let source = match (&search, filter.group) {
        (SearchTerm::Digits(digits), _) => {
            q.push(" FROM contacts c WHERE c.workspace_id = ")
                .push_bind(workspace_id)
                .push(" AND c.id IN (");
            push_digit_ids(q, workspace_id, digits);
            q.push(")");
            push_group(q, filter.group);
            Source::Search
        }
        (SearchTerm::Text(text), _) => {
            q.push(" FROM contacts c WHERE c.workspace_id = ")
                .push_bind(workspace_id);
            Ranges::text(text).push_ids(q, workspace_id);
            push_group(q, filter.group);
            Source::Search
        }
        (SearchTerm::None, Some(group)) => {
            q.push(
                " FROM memberships gm JOIN contacts c ON c.workspace_id = gm.workspace_id \
                 AND c.id = gm.contact_id WHERE gm.workspace_id = ",
            )
            .push_bind(workspace_id)
            .push(" AND gm.group_id = ")
            .push_bind(group);
            Source::Group
        }
        (SearchTerm::None, None) => {
            // Without SQLite's STAT4 the planner guesses that a workspace is half the
            // table and may scan it in id order from the end, through every newer row of
            // other workspaces; the (workspace_id, id) index is always right for id order.
            let hint = match order_by_id {
                true => q.dialect().indexed_by("contacts_by_workspace"),
                false => String::new(),
            };
            q.push(format!(" FROM contacts c{hint} WHERE c.workspace_id = "))
                .push_bind(workspace_id);
            Source::All
        }
    };
    push_status(q, filter);
    source
}

/// Appends `SELECT e.id … UNION ALL …`: the contacts whose number starts with `digits`,
/// as international digits or as national digits behind any calling code of the
/// workspace. A contact is in it at most once per way ([`digit_ways`]).
fn push_digit_ids(q: &mut impl Builder, workspace_id: i64, digits: &str) {
    q.push("SELECT e.id FROM contacts e WHERE e.workspace_id = ")
        .push_bind(workspace_id)
        .push(" AND e.mobile >= ")
        .push_bind(format!("+{digits}"))
        .push(" AND e.mobile < ")
        .push_bind(format!("+{digits}{DIGITS_END}"));
    for national in national_digits(digits) {
        q.push(" UNION ALL SELECT n.id FROM (");
        push_calling_codes(q, workspace_id);
        q.push(") AS k JOIN contacts n ON n.workspace_id = ")
            .push_bind(workspace_id)
            .push(" AND n.mobile >= '+' || k.code || ")
            .push_bind(national.to_string())
            .push(" AND n.mobile < '+' || k.code || ")
            .push_bind(format!("{national}{DIGITS_END}"));
    }
}

/// How many ways [`push_digit_ids`] has: the international digits, and each reading of
/// the national digits (a number has one calling code, so it matches one code each).
fn digit_ways(digits: &str) -> usize {
    1 + national_digits(digits).len()
}

/// Appends the "member of this group" condition on contacts aliased `c`.
pub(super) fn push_group(q: &mut impl Builder, group: Option<i64>) {
    if let Some(group) = group {
        q.push(
            " AND EXISTS (SELECT 1 FROM memberships m \
             WHERE m.workspace_id = c.workspace_id AND m.group_id = ",
        )
        .push_bind(group)
        .push(" AND m.contact_id = c.id)");
    }
}

/// Appends the filter's status conditions on contacts aliased `c`: blacklisted or not,
/// opted out of a channel.
pub(super) fn push_status(q: &mut impl Builder, filter: &ContactFilter) {
    if let Some(channel) = filter.opted_out {
        q.push(" AND ")
            .push(crate::db::opt_outs::opted_out_sql(channel));
    }
    if let Some(flag) = filter.blacklisted {
        q.push(if flag {
            " AND EXISTS"
        } else {
            " AND NOT EXISTS"
        })
        .push(
            " (SELECT 1 FROM memberships bm
               JOIN groups bg ON bg.workspace_id = bm.workspace_id AND bg.id = bm.group_id
               WHERE bm.workspace_id = c.workspace_id AND bm.contact_id = c.id
                 AND bg.blacklisted)",
        );
    }
}

/// The cursor comparison and the ORDER BY direction of a page query.
pub(super) fn direction(descending: bool) -> (&'static str, &'static str) {
    if descending {
        ("<", "DESC")
    } else {
        (">", "ASC")
    }
}

/// The group, when the filter is only "members of this group".
pub(crate) fn group_only(filter: &ContactFilter) -> Option<i64> {
    let plain = SearchTerm::parse(&filter.search).prefix().is_none() && !filter.has_status();
    filter.group.filter(|_| plain)
}

/// How many contacts match the filter.
pub async fn count(db: &Db, workspace_id: i64, filter: &ContactFilter) -> Result<i64, AppError> {
    Ok(on!(db, pool => {
        let mut q = QueryBuilder::new("");
        push_count(&mut q, workspace_id, filter, None);
        q.build_query_scalar().fetch_one(pool).await?
    }))
}

/// How many contacts match the filter, counted no further than `bound`: a count reads
/// each row it counts, so this one costs the same however many match.
pub async fn count_up_to(
    db: &Db,
    workspace_id: i64,
    filter: &ContactFilter,
    bound: i64,
) -> Result<Total, AppError> {
    let counted: i64 = on!(db, pool => {
        let mut q = QueryBuilder::new("");
        push_count(&mut q, workspace_id, filter, Some(bound + 1));
        q.build_query_scalar().fetch_one(pool).await?
    });
    Ok(Total::up_to(counted, bound))
}

/// Exact counts that may run at once on a server: each reads every match for up to its
/// time limit, so viewers repeating them must not take all of the database's cores.
const EXACT_COUNTS_AT_ONCE: usize = 2;

fn exact_count_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(EXACT_COUNTS_AT_ONCE))
}

/// How many contacts match the filter, exactly, unless counting takes longer than
/// `limit`, waiting for a turn ([`EXACT_COUNTS_AT_ONCE`]) included: then a message that
/// says so (503), and the database stops counting.
pub async fn count_within(
    db: &Db,
    workspace_id: i64,
    filter: &ContactFilter,
    limit: Duration,
) -> Result<Total, AppError> {
    count_in_turn(db, workspace_id, filter, limit, exact_count_slots()).await
}

/// [`count_within`], taking its turn from `slots`.
pub(super) async fn count_in_turn(
    db: &Db,
    workspace_id: i64,
    filter: &ContactFilter,
    limit: Duration,
    slots: &Semaphore,
) -> Result<Total, AppError> {
    let started = Instant::now();
    let Ok(Ok(_turn)) = tokio::time::timeout(limit, slots.acquire()).await else {
        return Err(AppError::Unavailable(format!(
            "Other counts of every match kept the server busy for {} seconds. \
             Try again in a moment, or narrow the search.",
            limit.as_secs()
        )));
    };
    // What is left of the limit once the turn came (never nothing: 0 turns off
    // PostgreSQL's timeout), in whole milliseconds rounded up there, so that a stopped
    // count has always taken the whole limit (below).
    let left = limit
        .saturating_sub(started.elapsed())
        .max(Duration::from_millis(1));
    let counted: Result<i64, sqlx::Error> = match db {
        Db::Sqlite(pool) => {
            let mut conn = pool.acquire().await?;
            // The deadline stays on the connection until it is closed, and this future
            // may be dropped at any await (a client that goes away): the connection is
            // closed when dropped, never handed back to the pool with it.
            conn.close_on_drop();
            let deadline = Instant::now() + left;
            // Asked every few thousand steps of SQLite's machine: false interrupts it.
            conn.lock_handle()
                .await?
                .set_progress_handler(10_000, move || Instant::now() < deadline);
            let mut q = QueryBuilder::new("");
            push_count(&mut q, workspace_id, filter, None);
            q.build_query_scalar().fetch_one(&mut *conn).await
        }
        Db::Postgres(pool) => {
            let mut tx = pool.begin().await?;
            let timeout = format!(
                "SET LOCAL statement_timeout = {}",
                left.as_micros().div_ceil(1000)
            );
            sqlx::query(&timeout).execute(&mut *tx).await?;
            let mut q = QueryBuilder::new("");
            push_count(&mut q, workspace_id, filter, None);
            let counted = q.build_query_scalar().fetch_one(&mut *tx).await;
            if counted.is_ok() {
                tx.commit().await?;
            }
            counted
        }
    };
    match counted {
        Ok(counted) => Ok(Total::exact(counted)),
        Err(sqlx::Error::Database(_)) if started.elapsed() >= limit => {
            Err(AppError::Unavailable(format!(
                "Counting every match took longer than {} seconds, so it was stopped. \
                 Narrow the search to count it.",
                limit.as_secs()
            )))
        }
        Err(e) => Err(e.into()),
    }
}

/// Appends `SELECT count(*)` of the contacts matching the filter, reading no more than
/// `limit` rows if given.
fn push_count(q: &mut impl Builder, workspace_id: i64, filter: &ContactFilter, limit: Option<i64>) {
    if let Some(limit) = limit.filter(|_| filter.group.is_none() && !filter.has_status()) {
        // A search alone: its ids are read only as far as `limit` distinct ones need
        // (each contact is in the union once per way it matches). Checking the contact
        // rows instead would read every match before counting the first.
        let ways = match SearchTerm::parse(&filter.search) {
            SearchTerm::Digits(digits) => {
                q.push("SELECT count(*) FROM (SELECT DISTINCT u.id FROM (");
                push_digit_ids(q, workspace_id, &digits);
                Some(digit_ways(&digits))
            }
            SearchTerm::Text(text) => {
                let ranges = Ranges::text(&text);
                q.push("SELECT count(*) FROM (SELECT DISTINCT u.id FROM (");
                ranges.push_union(q, workspace_id);
                Some(ranges.len())
            }
            SearchTerm::None => None,
        };
        if let Some(ways) = ways {
            q.push(" LIMIT ")
                .push_bind(limit * ways as i64)
                .push(") AS u LIMIT ")
                .push_bind(limit)
                .push(") AS matching");
            return;
        }
    }
    q.push("SELECT count(*) FROM (SELECT 1");
    if let Some(group) = group_only(filter) {
        // Memberships carry their contact's workspace: the count reads no contact row.
        q.push(" FROM memberships WHERE group_id = ")
            .push_bind(group)
            .push(" AND workspace_id = ")
            .push_bind(workspace_id);
    } else {
        push_from(q, workspace_id, filter, false);
    }
    if let Some(limit) = limit {
        q.push(" LIMIT ").push_bind(limit);
    }
    q.push(") AS matching");
}

/// Appends `AND c.id IN (…the selection…)` for contacts aliased `c`.
pub(crate) fn push_selection(
    q: &mut impl Builder,
    workspace_id: i64,
    selection: &Selection,
) -> Result<(), AppError> {
    match selection {
        Selection::Ids(ids) => {
            let json =
                serde_json::to_string(ids).map_err(|e| AppError::internal("selection", e))?;
            q.push(" AND c.id IN (").push_json_ids(json).push(")");
        }
        Selection::AllMatching(filter) => {
            let unfiltered = SearchTerm::parse(&filter.search).prefix().is_none()
                && filter.group.is_none()
                && !filter.has_status();
            if !unfiltered {
                q.push(" AND c.id IN (SELECT c.id");
                push_from(q, workspace_id, filter, false);
                q.push(")");
            }
        }
    }
    Ok(())
}

/// How many contacts of the workspace a selection holds.
pub async fn count_selection(
    db: &Db,
    workspace_id: i64,
    selection: &Selection,
) -> Result<i64, AppError> {
    match selection {
        Selection::AllMatching(filter) => count(db, workspace_id, filter).await,
        Selection::Ids(_) => Ok(on!(db, pool => {
            let mut q =
                QueryBuilder::new("SELECT count(*) FROM contacts c WHERE c.workspace_id = ");
            q.push_bind(workspace_id);
            push_selection(&mut q, workspace_id, selection)?;
            q.build_query_scalar().fetch_one(pool).await?
        })),
    }
}
