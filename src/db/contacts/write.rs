//! Writes: create, change, save with groups, delete; and reading one contact.

use super::filter::push_selection;
use super::{COLUMNS, ContactRecord, StoredContact};
use crate::db::history::{self, Author, Entry};
use crate::db::{Conn, Db, on};
use crate::error::AppError;
use crate::model::channel::Channel;
use crate::model::contact::Selection;
use crate::model::field::ContactField;
use crate::model::group::GroupPicks;
use crate::model::history::{Detail, HistoryKind};
use sqlx::{QueryBuilder, Row};
use std::sync::LazyLock;

/// The columns a record fills, in the order [`bind_record!`] binds them after the
/// workspace (`$2`…).
fn record_columns() -> impl Iterator<Item = &'static str> {
    ["sort_name", "mobile_national", "attributes"]
        .into_iter()
        .chain(ContactField::ALL.iter().map(|f| f.key()))
}

/// How many values [`bind_record!`] binds, the workspace included.
const RECORD_BINDS: usize = 4 + ContactField::COUNT;

/// `INSERT INTO contacts … RETURNING id` of one record.
static INSERT: LazyLock<String> = LazyLock::new(|| {
    let columns: Vec<&str> = record_columns().collect();
    let values: Vec<String> = (2..=RECORD_BINDS).map(|n| format!("${n}")).collect();
    format!(
        "INSERT INTO contacts (workspace_id, {}) VALUES ($1, {}) RETURNING id",
        columns.join(", "),
        values.join(", ")
    )
});

/// `UPDATE contacts SET …` of one record; the contact's id and the time follow the record.
static UPDATE: LazyLock<String> = LazyLock::new(|| {
    let sets: Vec<String> = record_columns()
        .zip(2..)
        .map(|(column, n)| format!("{column} = ${n}"))
        .collect();
    format!(
        "UPDATE contacts SET {}, updated_at = ${} WHERE workspace_id = $1 AND id = ${}",
        sets.join(", "),
        RECORD_BINDS + 2,
        RECORD_BINDS + 1
    )
});

/// Binds `$1` (the workspace) and the record's columns ([`record_columns`]) to a query
/// of either database.
macro_rules! bind_record {
    ($query:expr, $workspace_id:expr, $record:expr) => {{
        let record: &ContactRecord = $record;
        let mut query = $query
            .bind($workspace_id)
            .bind(record.sort_name())
            .bind(&record.mobile_national)
            .bind(&record.attributes);
        for field in ContactField::ALL {
            query = query.bind(record.column(field));
        }
        query
    }};
}

/// Adds a contact; a mobile number already in the workspace becomes a field error that
/// names the contact who has it.
pub async fn create(
    db: &Db,
    workspace_id: i64,
    record: &ContactRecord,
    author: &Author,
) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    let id = insert(tx.conn(), workspace_id, record, author).await?;
    tx.commit().await?;
    Ok(id)
}

/// [`create`] in the caller's transaction.
pub async fn insert(
    mut conn: Conn<'_>,
    workspace_id: i64,
    record: &ContactRecord,
    author: &Author,
) -> Result<i64, AppError> {
    let sql = INSERT.as_str();
    // In a savepoint: on PostgreSQL a failed statement spoils the rest of the
    // transaction, and `mobile_taken` still has to read in it.
    let result = on!(conn.reborrow(), conn => {
        let mut savepoint = sqlx::Connection::begin(conn).await?;
        let result = bind_record!(sqlx::query(sql), workspace_id, record)
            .fetch_one(&mut *savepoint)
            .await
            .and_then(|row| row.try_get::<i64, _>(0));
        if result.is_ok() {
            savepoint.commit().await?;
        }
        result
    });
    match result {
        Ok(id) => {
            history::record(conn, workspace_id, author, &[Entry::created(id, record)]).await?;
            Ok(id)
        }
        Err(e) if crate::db::is_unique_violation(&e) => {
            Err(mobile_taken(conn, workspace_id, record).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// Changes a contact of the workspace, in the caller's transaction, and records what
/// changed.
pub async fn update(
    mut conn: Conn<'_>,
    workspace_id: i64,
    id: i64,
    record: &ContactRecord,
    author: &Author,
) -> Result<(), AppError> {
    let before = get(conn.reborrow(), workspace_id, id).await?.record;
    let sql = UPDATE.as_str();
    let now = crate::db::now();
    // In a savepoint, as in `insert`.
    let result = on!(conn.reborrow(), conn => {
        let mut savepoint = sqlx::Connection::begin(conn).await?;
        let result = bind_record!(sqlx::query(sql), workspace_id, record)
            .bind(id)
            .bind(now)
            .execute(&mut *savepoint)
            .await
            .map(|done| done.rows_affected());
        if result.is_ok() {
            savepoint.commit().await?;
        }
        result
    });
    match result {
        Ok(0) => Err(not_found()),
        Ok(_) => {
            let entries: Vec<Entry> = Entry::updated(id, &before, record).into_iter().collect();
            history::record(conn, workspace_id, author, &entries).await
        }
        Err(e) if crate::db::is_unique_violation(&e) => {
            Err(mobile_taken(conn, workspace_id, record).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// Creates a contact (no `id`) or changes one, and makes its groups exactly the chosen
/// ones plus those named in `new_groups` (created if no group has the name): one
/// transaction, so a failure (a number taken, a chosen group deleted meanwhile) leaves
/// nothing behind. Returns the contact's id.
pub async fn save_with_groups(
    db: &Db,
    workspace_id: i64,
    id: Option<i64>,
    record: &ContactRecord,
    groups: &GroupPicks,
    author: &Author,
) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    let id = match id {
        None => insert(tx.conn(), workspace_id, record, author).await?,
        Some(id) => {
            update(tx.conn(), workspace_id, id, record, author).await?;
            id
        }
    };
    let groups = crate::db::groups::chosen_and_new(tx.conn(), workspace_id, groups).await?;
    crate::db::groups::set_groups_of_contact(tx.conn(), workspace_id, id, &groups, author).await?;
    tx.commit().await?;
    Ok(id)
}

fn not_found() -> AppError {
    AppError::NotFound("This contact no longer exists. It may have been deleted.".into())
}

async fn mobile_taken(conn: Conn<'_>, workspace_id: i64, record: &ContactRecord) -> AppError {
    let sql =
        "SELECT id, first_name, last_name FROM contacts WHERE workspace_id = $1 AND mobile = $2";
    let owner: Result<Option<(i64, String, String)>, _> = on!(conn, conn => {
        sqlx::query_as(sql)
            .bind(workspace_id)
            .bind(record.get(ContactField::Mobile))
            .fetch_optional(conn)
            .await
    });
    let (id, name) = match owner {
        Ok(Some((id, first, last))) => {
            let name = format!("{first} {last}").trim().to_string();
            if name.is_empty() {
                (id, "a contact without a name".to_string())
            } else {
                (id, name)
            }
        }
        // Deleted in between: the save may simply be tried again.
        Ok(None) => {
            return AppError::Conflict(
                "This number was just taken by another contact. Try again.".into(),
            );
        }
        Err(e) => return e.into(),
    };
    AppError::Taken {
        field: ContactField::Mobile.key().into(),
        message: format!("This number already belongs to {name}."),
        id,
    }
}

/// One contact of the workspace.
pub async fn get(conn: Conn<'_>, workspace_id: i64, id: i64) -> Result<StoredContact, AppError> {
    let sql = format!(
        "SELECT {} FROM contacts c WHERE c.workspace_id = $1 AND c.id = $2",
        *COLUMNS
    );
    let row: Option<StoredContact> = on!(conn, conn => {
        sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(conn)
            .await?
    });
    row.ok_or_else(not_found)
}

/// These contacts of the workspace (those that exist), in id order.
/// Locks these contacts of the workspace until the transaction ends, so a read and the
/// write after it see no one else's change in between (PostgreSQL; SQLite's writer holds
/// the whole database already).
pub async fn lock(conn: Conn<'_>, workspace_id: i64, ids: &[i64]) -> Result<(), AppError> {
    if let crate::db::Backend::Postgres(conn) = conn {
        sqlx::query("SELECT id FROM contacts WHERE workspace_id = $1 AND id = ANY($2) FOR UPDATE")
            .bind(workspace_id)
            .bind(ids)
            .execute(conn)
            .await?;
    }
    Ok(())
}

pub async fn get_many(
    conn: Conn<'_>,
    workspace_id: i64,
    ids: &[i64],
) -> Result<Vec<StoredContact>, AppError> {
    let json = serde_json::to_string(ids).map_err(|e| AppError::internal("contact ids", e))?;
    let sql = format!(
        "SELECT {} FROM {} ORDER BY c.id",
        *COLUMNS,
        conn.dialect().contacts_by_ids(2)
    );
    Ok(on!(conn, conn => {
        sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(json)
            .fetch_all(conn)
            .await?
    }))
}

/// The contacts of the workspace that have these mobile numbers (E.164): `(number, id)`.
pub async fn ids_by_mobile(
    conn: Conn<'_>,
    workspace_id: i64,
    numbers: &[&str],
) -> Result<Vec<(String, i64)>, AppError> {
    if numbers.is_empty() {
        return Ok(Vec::new());
    }
    let json = serde_json::to_string(numbers).map_err(|e| AppError::internal("numbers", e))?;
    // On PostgreSQL one index lookup per number: with statistics taken before the
    // workspace grew, its planner scanned the workspace for an `IN` list instead.
    let sql = match conn.dialect() {
        crate::db::Dialect::Sqlite => {
            "SELECT mobile, id FROM contacts
             WHERE workspace_id = $1 AND mobile IN (SELECT value FROM json_each($2))"
        }
        crate::db::Dialect::Postgres => {
            "SELECT c.mobile, c.id FROM jsonb_array_elements_text($2::jsonb) AS wanted(value)
             CROSS JOIN LATERAL (SELECT mobile, id FROM contacts
                                 WHERE workspace_id = $1 AND mobile = wanted.value) c"
        }
    };
    Ok(on!(conn, conn => {
        sqlx::query_as(sql)
            .bind(workspace_id)
            .bind(json)
            .fetch_all(conn)
            .await?
    }))
}

/// Adds contacts in one statement, and records them; returns their ids in the order of
/// `records`. A number already in the workspace fails the whole statement with a
/// conflict (the caller looked the numbers up in the same transaction, so only a
/// concurrent save can cause it).
pub async fn insert_many(
    mut conn: Conn<'_>,
    workspace_id: i64,
    records: &[ContactRecord],
    author: &Author,
) -> Result<Vec<i64>, AppError> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let columns: Vec<&str> = record_columns().collect();
    let head = format!(
        "INSERT INTO contacts (workspace_id, {}) ",
        columns.join(", ")
    );
    // Rows get their ids in the order they are listed, so the returned ids, sorted,
    // are the records' in order.
    let mut ids: Vec<i64> = on!(conn.reborrow(), conn => {
        let mut q = QueryBuilder::new(head);
        q.push_values(records, |mut row, record| {
            row.push_bind(workspace_id)
                .push_bind(record.sort_name())
                .push_bind(record.mobile_national.clone())
                .push_bind(record.attributes.clone());
            for field in ContactField::ALL {
                row.push_bind(record.column(field).map(str::to_string));
            }
        });
        q.push(" RETURNING id");
        match q.build_query_scalar().fetch_all(conn).await {
            Err(e) if crate::db::is_unique_violation(&e) => {
                return Err(AppError::Conflict(
                    "Another request saved one of these numbers at the same moment. Send it \
                     again."
                        .into(),
                ));
            }
            ids => ids?,
        }
    });
    ids.sort_unstable();
    let entries: Vec<Entry> = ids
        .iter()
        .zip(records)
        .map(|(id, record)| Entry::created(*id, record))
        .collect();
    history::record(conn, workspace_id, author, &entries).await?;
    Ok(ids)
}

/// The contact of the workspace that has this mobile number (E.164), if any.
pub async fn id_by_mobile(
    conn: Conn<'_>,
    workspace_id: i64,
    e164: &str,
) -> Result<Option<i64>, AppError> {
    let sql = "SELECT id FROM contacts WHERE workspace_id = $1 AND mobile = $2";
    Ok(on!(conn, conn => {
        sqlx::query_scalar(sql)
            .bind(workspace_id)
            .bind(e164)
            .fetch_optional(conn)
            .await?
    }))
}

/// A query of the ids of the workspace's contacts (`workspace`, a placeholder or column)
/// with the address `address` (a placeholder) on a channel, each index-backed: a WhatsApp
/// number is indexed only where it differs from the mobile number (migration 0017), so
/// the others are found through the mobile index.
pub(crate) fn holders_sql(channel: Channel, workspace: &str, address: &str) -> String {
    if channel.field() == ContactField::WhatsApp {
        format!(
            "SELECT id FROM contacts WHERE workspace_id = {workspace} AND mobile = {address}
                 AND whatsapp = {address}
             UNION ALL
             SELECT id FROM contacts WHERE workspace_id = {workspace} AND whatsapp = {address}
                 AND whatsapp IS NOT NULL AND (mobile IS NULL OR whatsapp <> mobile)"
        )
    } else {
        format!(
            "SELECT id FROM contacts WHERE workspace_id = {workspace} AND {} = {address}",
            channel.field().key()
        )
    }
}

/// The contacts of the workspace with this address on a channel.
pub async fn ids_by_address(
    conn: Conn<'_>,
    workspace_id: i64,
    channel: Channel,
    address: &str,
) -> Result<Vec<i64>, AppError> {
    let sql = format!(
        "SELECT id FROM ({}) AS holders ORDER BY id",
        holders_sql(channel, "$1", "$2")
    );
    Ok(on!(conn, conn => {
        sqlx::query_scalar(&sql).bind(workspace_id).bind(address).fetch_all(conn).await?
    }))
}

/// Deletes the selected contacts of the workspace, in the caller's transaction, and
/// records it; returns how many.
pub async fn delete(
    mut conn: Conn<'_>,
    workspace_id: i64,
    selection: &Selection,
    author: &Author,
) -> Result<u64, AppError> {
    let kind = HistoryKind::Deleted;
    let sinks = history::sinks(conn.reborrow(), workspace_id, author, kind).await?;
    Ok(on!(conn, conn => {
        for sink in sinks {
            let mut q = QueryBuilder::new("");
            history::push_record_each(&mut q, sink, workspace_id, author, kind, &Detail::default())?;
            q.push(" FROM (SELECT c.id AS contact_id FROM contacts c WHERE c.workspace_id = ")
                .push_bind(workspace_id);
            push_selection(&mut q, workspace_id, selection)?;
            q.push(") AS x");
            q.build().execute(&mut *conn).await?;
        }
        let mut q = QueryBuilder::new("DELETE FROM contacts AS c WHERE c.workspace_id = ");
        q.push_bind(workspace_id);
        push_selection(&mut q, workspace_id, selection)?;
        q.build().execute(conn).await?.rows_affected()
    }))
}
