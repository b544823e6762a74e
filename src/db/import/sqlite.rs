//! One batch of an import on SQLite, written in the importer's transaction: new
//! contacts, existing contacts matched (and updated, if the import says so), duplicates
//! of earlier rows, group memberships, rejected rows and the counts, together or not at
//! all. No other writer runs in the transaction, so the contacts a batch creates are the
//! ids after the last one given before it: a batch whose numbers are all new (the usual
//! case) needs no lookup at all.

use super::batch::{EncodedBatch, Met, MetRow, earlier, merge_attributes, record_updates, runs};
use crate::db::imports::Job;
use crate::error::AppError;
use crate::import::ImportCounts;
use sqlx::SqliteConnection;
use std::collections::HashMap;

/// Writes one batch in the caller's transaction (see the module documentation).
pub async fn write_batch(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &EncodedBatch,
) -> Result<ImportCounts, AppError> {
    let now = crate::db::now();
    let count = batch.lines.len();
    // New rows get the ids after the last one given (AUTOINCREMENT: never one of a
    // deleted contact, so not always above the largest left): no other writer runs in
    // this transaction.
    let last_id: i64 = sqlx::query_scalar(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'contacts'), 0)",
    )
    .fetch_one(&mut *tx)
    .await?;
    let created = insert_new(tx, job, batch, now).await?;
    let met = if created == count {
        Vec::new()
    } else {
        met_before(tx, job, batch, last_id).await?
    };
    let (matched, rejects) = batch.classify(&met);
    let duplicates = batch.duplicates + (met.len() - matched.len()) as i64;
    for (first_id, lines) in created_runs(tx, job, batch, created, last_id).await? {
        let sql = "INSERT INTO import_created (workspace_id, import_id, first_id, lines)
                   VALUES ($1, $2, $3, $4)";
        sqlx::query(sql)
            .bind(job.workspace_id)
            .bind(job.id)
            .bind(first_id)
            .bind(lines)
            .execute(&mut *tx)
            .await?;
    }
    if !matched.is_empty() {
        record_matches(tx, job, batch, &matched).await?;
        if job.options.update_existing {
            update_matched(tx, job, batch, &matched, now).await?;
        }
    }
    add_to_group(tx, job, &matched, last_id, now).await?;
    if !rejects.is_empty() {
        let rows: Vec<(u64, &str, &str)> = rejects
            .iter()
            .map(|r| (r.line, r.reason.as_str(), r.raw.as_str()))
            .collect();
        sqlx::query(
            "INSERT OR IGNORE INTO import_rejects (import_id, line, reason, raw, workspace_id)
             SELECT $1, j.value ->> 0, j.value ->> 1, j.value ->> 2, $3 FROM json_each($2) AS j",
        )
        .bind(job.id)
        .bind(to_json(&rows)?)
        .bind(job.workspace_id)
        .execute(&mut *tx)
        .await?;
    }
    let made = ImportCounts {
        rows_read: batch.rows,
        created: created as i64,
        matched: matched.len() as i64,
        duplicates,
        invalid: batch.invalid,
    };
    batch
        .record_counts(crate::db::Backend::Sqlite(tx), job, made, &rejects)
        .await
}

fn to_json(value: &impl serde::Serialize) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|e| AppError::internal("encoding an import batch", e))
}

/// Inserts the batch's contacts whose number is new to the workspace; returns how many.
async fn insert_new(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &EncodedBatch,
    now: i64,
) -> Result<usize, AppError> {
    let (columns, values) = batch
        .layout
        .insert(&|_, position| format!("j.value ->> {position}"));
    // `WHERE true` tells SQLite's parser the upsert's ON is not a join's. A row skipped
    // by the conflict clause still uses up an id (AUTOINCREMENT): see `created_runs`.
    let sql = format!(
        "INSERT INTO contacts ({columns}) SELECT {values} FROM json_each($4) AS j WHERE true
         ON CONFLICT (workspace_id, mobile) WHERE mobile IS NOT NULL DO NOTHING"
    );
    let done = sqlx::query(&sql)
        .bind(job.workspace_id)
        .bind(now)
        .bind(&job.options.country)
        .bind(&batch.contacts)
        .execute(&mut *tx)
        .await?;
    Ok(done.rows_affected() as usize)
}

/// The runs of consecutive ids the batch's new contacts got, each with its rows' lines
/// (4 bytes each), as `import_created` keeps them. When every row was new, one run after
/// `last_id`; otherwise a row skipped as already present still used up an id
/// (AUTOINCREMENT), so the new contacts are looked up by number (ids after `last_id` are
/// this transaction's: no other writer runs in it).
async fn created_runs(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &EncodedBatch,
    created: usize,
    last_id: i64,
) -> Result<Vec<(i64, Vec<u8>)>, AppError> {
    if created == 0 {
        return Ok(Vec::new());
    }
    if created == batch.lines.len() {
        let lines = batch.lines.iter().map(|&line| (line as u32).to_le_bytes());
        return Ok(vec![(last_id + 1, lines.flatten().collect())]);
    }
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT c.id, j.key FROM json_each($2) AS j
         CROSS JOIN contacts AS c ON c.workspace_id = $1 AND c.mobile = j.value ->> 0
         WHERE c.id > $3",
    )
    .bind(job.workspace_id)
    .bind(&batch.contacts)
    .bind(last_id)
    .fetch_all(&mut *tx)
    .await?;
    Ok(runs(
        rows.into_iter()
            .map(|(id, index)| (id, batch.lines[index as usize]))
            .collect(),
    ))
}

/// The batch's rows whose number already had a contact before this batch, each with
/// the line of the row of this import that created or matched it, if one did. The batch
/// is the outer loop (CROSS JOIN): one lookup of the unique number index per row.
async fn met_before(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &EncodedBatch,
    last_id: i64,
) -> Result<Vec<Met>, AppError> {
    let sql = format!(
        "SELECT j.key, c.id, {}
         FROM json_each($2) AS j
         CROSS JOIN contacts AS c ON c.workspace_id = $3 AND c.mobile = j.value ->> 0
         WHERE c.id <= $4",
        earlier("$3", "$1", "c.id")
    );
    let rows: Vec<MetRow> = sqlx::query_as(&sql)
        .bind(job.id)
        .bind(&batch.contacts)
        .bind(job.workspace_id)
        .bind(last_id)
        .fetch_all(&mut *tx)
        .await?;
    Ok(rows.into_iter().map(Met::from).collect())
}

/// Notes the existing contacts this batch matched, with their lines.
async fn record_matches(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &EncodedBatch,
    matched: &[(i64, usize)],
) -> Result<(), AppError> {
    let rows: Vec<(i64, u64)> = matched
        .iter()
        .map(|&(id, index)| (id, batch.lines[index]))
        .collect();
    sqlx::query(
        "INSERT OR IGNORE INTO import_matched (workspace_id, import_id, contact_id, line)
         SELECT $3, $1, j.value ->> 0, j.value ->> 1 FROM json_each($2) AS j",
    )
    .bind(job.id)
    .bind(to_json(&rows)?)
    .bind(job.workspace_id)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Gives matched contacts the file's values: names when the row has one, every other
/// mapped field that has a value, and custom fields merged by key.
async fn update_matched(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &EncodedBatch,
    matched: &[(i64, usize)],
    now: i64,
) -> Result<(), AppError> {
    let layout = batch.layout;
    let ids: Vec<i64> = matched.iter().map(|(id, _)| *id).collect();
    let before =
        crate::db::contacts::get_many(crate::db::Backend::Sqlite(&mut *tx), job.workspace_id, &ids)
            .await?;
    let attributes = layout.attributes_at();
    let current: HashMap<i64, String> = match attributes {
        None => HashMap::new(),
        Some(_) => sqlx::query_as::<_, (i64, String)>(
            "SELECT id, attributes FROM contacts
                 WHERE workspace_id = $1 AND id IN (SELECT value FROM json_each($2))",
        )
        .bind(job.workspace_id)
        .bind(to_json(&ids)?)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect(),
    };
    let updates = matched
        .iter()
        .map(|&(id, index)| {
            let mut row: serde_json::Value = serde_json::from_str(batch.contact_row(index))
                .map_err(|e| AppError::internal("reading an import batch", e))?;
            if let Some(position) = attributes {
                let incoming = row[position].as_str().unwrap_or("[]");
                let merged =
                    merge_attributes(current.get(&id).map_or("[]", String::as_str), incoming);
                row[position] = merged.into();
            }
            Ok(serde_json::json!([id, row]))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let read = |_: &str, position: usize| format!("u.row ->> {position}");
    let merged = attributes.map_or(String::new(), |position| read("attributes", position));
    let sets = layout.update(&read, "contacts", &merged);
    let sql = format!(
        "UPDATE contacts SET {sets}, updated_at = $1
         FROM (SELECT j.value ->> 0 AS id, j.value -> 1 AS row FROM json_each($2) AS j) AS u
         WHERE contacts.id = u.id AND contacts.workspace_id = $3"
    );
    sqlx::query(&sql)
        .bind(now)
        .bind(to_json(&updates)?)
        .bind(job.workspace_id)
        .execute(&mut *tx)
        .await?;
    record_updates(crate::db::Backend::Sqlite(tx), job, before).await
}

/// Adds the batch's new and matched contacts to the import's group, if it has one (and
/// it still exists: deleted since the upload, there is nothing to add to).
async fn add_to_group(
    tx: &mut SqliteConnection,
    job: &Job,
    matched: &[(i64, usize)],
    last_id: i64,
    now: i64,
) -> Result<(), AppError> {
    let sql = "SELECT group_id FROM imports WHERE workspace_id = $1 AND id = $2";
    let group_id: Option<i64> = sqlx::query_scalar(sql)
        .bind(job.workspace_id)
        .bind(job.id)
        .fetch_one(&mut *tx)
        .await?;
    let Some(group_id) = group_id else {
        return Ok(());
    };
    // The contacts created by this batch are exactly the ids after `last_id`.
    sqlx::query(
        "INSERT INTO memberships (group_id, contact_id, workspace_id, added_at, import_id)
         SELECT $1, c.id, $2, $3, $4 FROM contacts AS c
         WHERE c.id > $5 AND c.workspace_id = $2",
    )
    .bind(group_id)
    .bind(job.workspace_id)
    .bind(now)
    .bind(job.id)
    .bind(last_id)
    .execute(&mut *tx)
    .await?;
    if !matched.is_empty() {
        let ids: Vec<i64> = matched.iter().map(|(id, _)| *id).collect();
        sqlx::query(
            "INSERT OR IGNORE INTO memberships (group_id, contact_id, workspace_id, added_at, import_id)
             SELECT $1, j.value, $2, $3, $4 FROM json_each($5) AS j",
        )
        .bind(group_id)
        .bind(job.workspace_id)
        .bind(now)
        .bind(job.id)
        .bind(to_json(&ids)?)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}
