//! Writes: create, change, save with groups, delete; and reading one contact.

use super::filter::push_selection;
use super::{COLUMNS, ContactRecord, StoredContact};
use crate::db::{Conn, Db, on};
use crate::error::AppError;
use crate::model::contact::Selection;
use crate::model::group::GroupPicks;
use sqlx::{QueryBuilder, Row};

/// Binds `$1` (the workspace) and `$2`…`$15` (the record's columns, in table order) to
/// a query of either database.
macro_rules! bind_record {
    ($query:expr, $workspace_id:expr, $record:expr) => {{
        let record: &ContactRecord = $record;
        $query
            .bind($workspace_id)
            .bind(&record.first_name)
            .bind(&record.last_name)
            .bind(crate::model::contact::sort_name(
                &record.first_name,
                &record.last_name,
            ))
            .bind(&record.mobile)
            .bind(&record.mobile_national)
            .bind(&record.country)
            .bind(&record.email)
            .bind(&record.external_id)
            .bind(&record.whatsapp)
            .bind(&record.viber)
            .bind(&record.line_id)
            .bind(&record.wechat_id)
            .bind(&record.messenger_id)
            .bind(&record.attributes)
    }};
}

/// Adds a contact; a mobile number already in the workspace becomes a field error that
/// names the contact who has it.
pub async fn create(db: &Db, workspace_id: i64, record: &ContactRecord) -> Result<i64, AppError> {
    insert(db.acquire().await?.conn(), workspace_id, record).await
}

/// [`create`] on the caller's connection (or transaction).
pub async fn insert(
    mut conn: Conn<'_>,
    workspace_id: i64,
    record: &ContactRecord,
) -> Result<i64, AppError> {
    let sql = "INSERT INTO contacts (workspace_id, first_name, last_name, sort_name, mobile,
                   mobile_national, country, email, external_id, whatsapp, viber, line_id,
                   wechat_id, messenger_id, attributes)
               VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
               RETURNING id";
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
        Ok(id) => Ok(id),
        Err(e) if crate::db::is_unique_violation(&e) => {
            Err(mobile_taken(conn, workspace_id, record).await)
        }
        Err(e) => Err(e.into()),
    }
}

/// Changes a contact of the workspace, on the caller's connection (or transaction).
pub async fn update(
    mut conn: Conn<'_>,
    workspace_id: i64,
    id: i64,
    record: &ContactRecord,
) -> Result<(), AppError> {
    let sql = "UPDATE contacts SET first_name = $2, last_name = $3, sort_name = $4, mobile = $5,
                   mobile_national = $6, country = $7, email = $8, external_id = $9,
                   whatsapp = $10, viber = $11, line_id = $12, wechat_id = $13,
                   messenger_id = $14, attributes = $15, updated_at = $17
               WHERE workspace_id = $1 AND id = $16";
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
        Ok(_) => Ok(()),
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
) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    let id = match id {
        None => insert(tx.conn(), workspace_id, record).await?,
        Some(id) => {
            update(tx.conn(), workspace_id, id, record).await?;
            id
        }
    };
    let groups = crate::db::groups::chosen_and_new(tx.conn(), workspace_id, groups).await?;
    crate::db::groups::set_groups_of_contact(tx.conn(), workspace_id, id, &groups).await?;
    tx.commit().await?;
    Ok(id)
}

fn not_found() -> AppError {
    AppError::NotFound("This contact no longer exists. It may have been deleted.".into())
}

async fn mobile_taken(conn: Conn<'_>, workspace_id: i64, record: &ContactRecord) -> AppError {
    let sql = "SELECT first_name, last_name FROM contacts WHERE workspace_id = $1 AND mobile = $2";
    let owner: Result<Option<(String, String)>, _> = on!(conn, conn => {
        sqlx::query_as(sql)
            .bind(workspace_id)
            .bind(&record.mobile)
            .fetch_optional(conn)
            .await
    });
    let name = match owner {
        Ok(Some((first, last))) => {
            let name = format!("{first} {last}").trim().to_string();
            if name.is_empty() {
                "a contact without a name".to_string()
            } else {
                name
            }
        }
        Ok(None) => "another contact".to_string(),
        Err(e) => return e.into(),
    };
    AppError::invalid("mobile", format!("This number already belongs to {name}."))
}

/// One contact of the workspace.
pub async fn get(db: &Db, workspace_id: i64, id: i64) -> Result<StoredContact, AppError> {
    let sql = format!("SELECT {COLUMNS} FROM contacts c WHERE c.workspace_id = $1 AND c.id = $2");
    let found: Option<StoredContact> = on!(db, pool => {
        sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
    found.ok_or_else(not_found)
}

/// Deletes the selected contacts of the workspace; returns how many.
pub async fn delete(db: &Db, workspace_id: i64, selection: &Selection) -> Result<u64, AppError> {
    Ok(on!(db, pool => {
        let mut q = QueryBuilder::new("DELETE FROM contacts AS c WHERE c.workspace_id = ");
        q.push_bind(workspace_id);
        push_selection(&mut q, workspace_id, selection)?;
        q.build().execute(pool).await?.rows_affected()
    }))
}
