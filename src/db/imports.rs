//! CSV imports: the job rows, their batches of contacts, and the rejected rows.
//!
//! A batch is one transaction: its new contacts, name updates, group memberships,
//! rejected rows and the import's counts commit together or not at all, so an import
//! stopped at any moment resumes after its last committed batch without doubling a row.

use crate::error::AppError;
use crate::import::pipeline::NewContact;
use crate::import::{ImportCounts, ImportOptions, ImportStatus, ImportSummary};
use sqlx::{SqliteConnection, SqlitePool};

/// A refused (or duplicate) row for the report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// The line the row starts on.
    pub line: u64,
    /// Why it was not imported.
    pub reason: String,
    /// Its text in the file.
    pub raw: String,
}

/// The rows of one batch, already classified by the pipeline.
///
/// Contacts are kept as their JSON rows (about 70 bytes each, a quarter of the parsed
/// strings) with their number for sorting, so a batch of 100,000 waits in ~10 MB.
#[derive(Clone, Debug, Default)]
pub struct Batch {
    /// `[e164, first name, last name, sort name, national]` rows, one after another.
    contact_rows: Vec<u8>,
    /// Each contact's number (E.164 as text sorts like this) and its row's span.
    contact_spans: Vec<(u64, u32, u32)>,
    /// Duplicates and refused rows, for the report.
    pub rejects: Vec<Reject>,
    /// How many rows repeated an earlier number of the file.
    pub duplicates: i64,
    /// How many rows were refused.
    pub invalid: i64,
    /// Bytes of the file read once this batch was parsed.
    pub bytes_done: i64,
}

impl Batch {
    /// Data rows in the batch.
    pub fn rows(&self) -> i64 {
        self.contact_spans.len() as i64 + self.duplicates + self.invalid
    }

    /// Adds a row with a number new to the file (created or matched when written).
    pub fn push_contact(&mut self, c: &NewContact) -> Result<(), AppError> {
        let start = self.contact_rows.len() as u32;
        serde_json::to_writer(
            &mut self.contact_rows,
            &[
                &c.e164,
                &c.first_name,
                &c.last_name,
                &c.sort_name,
                &c.national,
            ],
        )
        .map_err(|e| AppError::internal("encoding an import batch", e))?;
        self.contact_spans.push((
            text_order_key(&c.e164),
            start,
            self.contact_rows.len() as u32,
        ));
        Ok(())
    }

    /// The batch as the database takes it: contacts in number order, so each batch's
    /// entries land in the number and search indexes from one end to the other rather
    /// than all over them (about twice as fast on 1M rows).
    pub fn encode(mut self) -> Result<EncodedBatch, AppError> {
        let rows = self.rows();
        self.contact_spans.sort_unstable();
        let mut contacts =
            Vec::with_capacity(self.contact_rows.len() + self.contact_spans.len() + 2);
        contacts.push(b'[');
        for (i, &(_, start, end)) in self.contact_spans.iter().enumerate() {
            if i > 0 {
                contacts.push(b',');
            }
            contacts.extend_from_slice(&self.contact_rows[start as usize..end as usize]);
        }
        contacts.push(b']');
        let rejects: Vec<(u64, &str, &str)> = self
            .rejects
            .iter()
            .map(|r| (r.line, r.reason.as_str(), r.raw.as_str()))
            .collect();
        let encoding =
            |e: &dyn std::fmt::Display| AppError::internal("encoding an import batch", e);
        Ok(EncodedBatch {
            // serde_json writes UTF-8, and whole rows were joined.
            contacts: String::from_utf8(contacts).map_err(|e| encoding(&e))?,
            contact_count: self.contact_spans.len() as i64,
            rejects: (!rejects.is_empty())
                .then(|| serde_json::to_string(&rejects))
                .transpose()
                .map_err(|e| encoding(&e))?,
            rows,
            duplicates: self.duplicates,
            invalid: self.invalid,
            bytes_done: self.bytes_done,
        })
    }
}

/// A key that orders E.164 numbers (`+` and at most 15 digits) as their text does:
/// the digits left-aligned to 15 places, then the length (a prefix sorts first).
fn text_order_key(e164: &str) -> u64 {
    let digits = e164.trim_start_matches('+');
    match digits.parse::<u64>() {
        Ok(value) if digits.len() <= 15 => {
            (value * 10u64.pow(15 - digits.len() as u32)) << 4 | digits.len() as u64
        }
        _ => u64::MAX,
    }
}

/// A batch ready to write (see [`Batch::encode`]).
#[derive(Clone, Debug)]
pub struct EncodedBatch {
    /// `[e164, first name, last name, sort name, national]` per contact, by number.
    contacts: String,
    contact_count: i64,
    /// `[line, reason, raw]` per refused or duplicate row, if any.
    rejects: Option<String>,
    rows: i64,
    duplicates: i64,
    invalid: i64,
    bytes_done: i64,
}

impl EncodedBatch {
    /// Data rows in the batch.
    pub fn rows(&self) -> i64 {
        self.rows
    }
}

/// An import the worker runs.
#[derive(Clone, Debug)]
pub struct Job {
    /// The import's id.
    pub id: i64,
    /// Its workspace.
    pub workspace_id: i64,
    /// How to read the file.
    pub options: ImportOptions,
    /// Rows already committed (non-zero when resuming).
    pub rows_read: i64,
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: i64,
    file_name: String,
    file_size: i64,
    user_email: Option<String>,
    created_at: i64,
    status: String,
    error: Option<String>,
    rows_read: i64,
    created: i64,
    matched: i64,
    duplicates: i64,
    invalid: i64,
    bytes_done: i64,
    group_name: Option<String>,
    rejects_purged: bool,
}

impl From<SummaryRow> for ImportSummary {
    fn from(r: SummaryRow) -> Self {
        ImportSummary {
            id: r.id,
            file_name: r.file_name,
            file_size: r.file_size,
            user_email: r.user_email.unwrap_or_default(),
            created_at: r.created_at,
            status: ImportStatus::parse(&r.status).unwrap_or(ImportStatus::Failed),
            error: r.error,
            counts: ImportCounts {
                rows_read: r.rows_read,
                created: r.created,
                matched: r.matched,
                duplicates: r.duplicates,
                invalid: r.invalid,
            },
            bytes_done: r.bytes_done,
            group_name: r.group_name,
            report_deleted: r.rejects_purged,
        }
    }
}

const SUMMARY: &str = "SELECT i.id, i.file_name, i.file_size, u.email AS user_email, i.created_at,
        i.status, i.error, i.rows_read, i.created, i.matched, i.duplicates, i.invalid,
        i.bytes_done, g.name AS group_name, i.rejects_purged
    FROM imports i
    LEFT JOIN users u ON u.id = i.user_id
    LEFT JOIN groups g ON g.id = i.group_id";

/// An upload to record.
#[derive(Clone, Copy, Debug)]
pub struct NewImport<'a> {
    /// Its workspace.
    pub workspace_id: i64,
    /// Who uploaded it.
    pub user_id: i64,
    /// The file's name as uploaded.
    pub file_name: &'a str,
    /// The file's size in bytes.
    pub file_size: i64,
    /// How to read it.
    pub options: &'a ImportOptions,
    /// The group to add its contacts to.
    pub group_id: Option<i64>,
}

/// Records a queued import (in the caller's transaction, which commits once the file is
/// in place: the worker never sees an import without its file).
pub async fn create(conn: &mut SqliteConnection, new: &NewImport<'_>) -> Result<i64, AppError> {
    let options = serde_json::to_string(new.options)
        .map_err(|e| AppError::internal("encoding import options", e))?;
    Ok(sqlx::query_scalar(
        "INSERT INTO imports (workspace_id, user_id, file_name, file_size, options, group_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
    )
    .bind(new.workspace_id)
    .bind(new.user_id)
    .bind(new.file_name)
    .bind(new.file_size)
    .bind(options)
    .bind(new.group_id)
    .bind(super::now())
    .fetch_one(conn)
    .await?)
}

/// The workspace's uploads, newest first.
pub async fn list(
    pool: &SqlitePool,
    workspace_id: i64,
    limit: i64,
) -> Result<Vec<ImportSummary>, AppError> {
    let rows: Vec<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY} WHERE i.workspace_id = ?1 ORDER BY i.id DESC LIMIT ?2"
    ))
    .bind(workspace_id)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(Into::into).collect())
}

/// One upload of the workspace.
pub async fn get(pool: &SqlitePool, workspace_id: i64, id: i64) -> Result<ImportSummary, AppError> {
    let row: Option<SummaryRow> = sqlx::query_as(&format!(
        "{SUMMARY} WHERE i.workspace_id = ?1 AND i.id = ?2"
    ))
    .bind(workspace_id)
    .bind(id)
    .fetch_optional(pool)
    .await?;
    row.map(Into::into)
        .ok_or_else(|| AppError::NotFound("This upload no longer exists.".into()))
}

/// Stops in a row without progress after which an import is failed, not started again.
pub const MAX_STALLS: i64 = 2;

/// What an import stalled by stops of the server ends with.
pub const STALLED: &str = "The server stopped twice while processing this file, without \
    getting further the second time, so it was not started again. The rows counted so far \
    were saved. If the file is very large, split it and upload the parts; if it keeps \
    happening, tell your administrator.";

/// Puts imports that were running when the server stopped back in the queue, to resume
/// after their last committed batch; one stalled by [`MAX_STALLS`] stops in a row
/// without committing anything in between is failed with [`STALLED`]. Returns how many
/// were queued again and how many failed.
pub async fn requeue_interrupted(pool: &SqlitePool) -> Result<(u64, u64), AppError> {
    let mut tx = super::begin_write(pool).await?;
    sqlx::query(
        "UPDATE imports SET stalls = CASE WHEN rows_read > rows_at_start THEN 1 ELSE stalls + 1 END
         WHERE status = 'processing'",
    )
    .execute(&mut *tx)
    .await?;
    let failed = sqlx::query(
        "UPDATE imports SET status = 'failed', error = ?1, finished_at = ?2
         WHERE status = 'processing' AND stalls >= ?3",
    )
    .bind(STALLED)
    .bind(super::now())
    .bind(MAX_STALLS)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let queued = sqlx::query("UPDATE imports SET status = 'queued' WHERE status = 'processing'")
        .execute(&mut *tx)
        .await?
        .rows_affected();
    tx.commit().await?;
    Ok((queued, failed))
}

/// Takes the oldest queued import and marks it processing.
pub async fn claim_next(pool: &SqlitePool) -> Result<Option<Job>, AppError> {
    let row: Option<(i64, i64, String, i64)> = sqlx::query_as(
        "UPDATE imports SET status = 'processing', started_at = coalesce(started_at, ?1),
             rows_at_start = rows_read
         WHERE id = (SELECT id FROM imports WHERE status = 'queued' ORDER BY id LIMIT 1)
         RETURNING id, workspace_id, options, rows_read",
    )
    .bind(super::now())
    .fetch_optional(pool)
    .await?;
    let Some((id, workspace_id, options, rows_read)) = row else {
        return Ok(None);
    };
    match serde_json::from_str(&options) {
        Ok(options) => Ok(Some(Job {
            id,
            workspace_id,
            options,
            rows_read,
        })),
        Err(e) => {
            tracing::error!(import = id, error = %e, "unreadable import options");
            finish(pool, id, Some("The import's settings could not be read.")).await?;
            Ok(None)
        }
    }
}

/// Whether an import is waiting for or being processed (its file is still needed).
pub async fn is_active(pool: &SqlitePool, id: i64) -> Result<bool, AppError> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM imports WHERE id = ?1")
        .bind(id)
        .fetch_optional(pool)
        .await?;
    Ok(status
        .as_deref()
        .and_then(ImportStatus::parse)
        .is_some_and(ImportStatus::is_active))
}

/// Deletes the rejected-row reports of imports that ended before `cutoff` (seconds since
/// the epoch); returns how many imports' reports went.
pub async fn purge_rejects(pool: &SqlitePool, cutoff: i64) -> Result<u64, AppError> {
    let mut tx = super::begin_write(pool).await?;
    sqlx::query(
        "DELETE FROM import_rejects WHERE import_id IN (
             SELECT id FROM imports WHERE rejects_purged = 0 AND finished_at < ?1)",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await?;
    let purged = sqlx::query(
        "UPDATE imports SET rejects_purged = 1 WHERE rejects_purged = 0 AND finished_at < ?1",
    )
    .bind(cutoff)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(purged)
}

/// Marks an import completed (`error` None) or failed.
pub async fn finish(pool: &SqlitePool, id: i64, error: Option<&str>) -> Result<(), AppError> {
    let status = if error.is_some() {
        ImportStatus::Failed
    } else {
        ImportStatus::Completed
    };
    sqlx::query("UPDATE imports SET status = ?1, error = ?2, finished_at = ?3 WHERE id = ?4")
        .bind(status.as_str())
        .bind(error)
        .bind(super::now())
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Writes one batch in the caller's transaction: contacts created or matched (names
/// updated if the import says so), memberships in the import's group, rejected rows and
/// the counts, so whatever commits, the counts match the rows.
pub async fn write_batch(
    tx: &mut sqlx::SqliteConnection,
    job: &Job,
    batch: &EncodedBatch,
) -> Result<ImportCounts, AppError> {
    let now = super::now();
    let contacts = &batch.contacts;
    if job.options.update_names {
        // The batch is materialised first (`LIMIT -1`) so each of its numbers is looked
        // up in the unique index, rather than the workspace's contacts being scanned.
        sqlx::query(
            "UPDATE contacts SET first_name = u.first_name, last_name = u.last_name,
                 sort_name = u.sort_name, updated_at = ?1
             FROM (SELECT j.value ->> 0 AS mobile, j.value ->> 1 AS first_name,
                          j.value ->> 2 AS last_name, j.value ->> 3 AS sort_name
                   FROM json_each(?2) AS j LIMIT -1) AS u
             WHERE contacts.workspace_id = ?3 AND contacts.mobile = u.mobile
               AND (u.first_name <> '' OR u.last_name <> '')
               AND (contacts.first_name <> u.first_name OR contacts.last_name <> u.last_name)",
        )
        .bind(now)
        .bind(contacts)
        .bind(job.workspace_id)
        .execute(&mut *tx)
        .await?;
    }
    // New rows get ids above the largest one: no other writer runs in this transaction.
    let last_id: i64 = sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM contacts")
        .fetch_one(&mut *tx)
        .await?;
    let created = sqlx::query(
        "INSERT INTO contacts (workspace_id, mobile, first_name, last_name, sort_name,
             mobile_national, country, created_at, updated_at)
         SELECT ?1, j.value ->> 0, j.value ->> 1, j.value ->> 2, j.value ->> 3, j.value ->> 4,
             ?2, ?3, ?3
         FROM json_each(?4) AS j WHERE true
         ON CONFLICT (workspace_id, mobile) WHERE mobile IS NOT NULL DO NOTHING",
    )
    .bind(job.workspace_id)
    .bind(&job.options.country)
    .bind(now)
    .bind(contacts)
    .execute(&mut *tx)
    .await?
    .rows_affected() as i64;
    // The group may have been deleted since the upload: then there is nothing to add to.
    let group_id: Option<i64> = sqlx::query_scalar("SELECT group_id FROM imports WHERE id = ?1")
        .bind(job.id)
        .fetch_one(&mut *tx)
        .await?;
    let all_new = created == batch.contact_count;
    if let (Some(group_id), true) = (group_id, all_new) {
        // Every number was new: the batch's contacts are exactly the ids after `last_id`.
        sqlx::query(
            "INSERT INTO memberships (group_id, contact_id, workspace_id, added_at, import_id)
             SELECT ?1, c.id, ?2, ?3, ?4 FROM contacts AS c
             WHERE c.id > ?5 AND c.workspace_id = ?2",
        )
        .bind(group_id)
        .bind(job.workspace_id)
        .bind(now)
        .bind(job.id)
        .bind(last_id)
        .execute(&mut *tx)
        .await?;
    } else if let Some(group_id) = group_id {
        // Some numbers were already contacts: find each batch number's contact.
        // CROSS JOIN keeps the batch as the outer loop: one index lookup per number.
        sqlx::query(
            "INSERT OR IGNORE INTO memberships (group_id, contact_id, workspace_id, added_at, import_id)
             SELECT ?1, c.id, ?2, ?3, ?4
             FROM json_each(?5) AS j
             CROSS JOIN contacts AS c
             WHERE c.workspace_id = ?2 AND c.mobile = j.value ->> 0",
        )
        .bind(group_id)
        .bind(job.workspace_id)
        .bind(now)
        .bind(job.id)
        .bind(contacts)
        .execute(&mut *tx)
        .await?;
    }
    if let Some(rejects) = &batch.rejects {
        sqlx::query(
            "INSERT OR IGNORE INTO import_rejects (import_id, line, reason, raw)
             SELECT ?1, j.value ->> 0, j.value ->> 1, j.value ->> 2 FROM json_each(?2) AS j",
        )
        .bind(job.id)
        .bind(rejects)
        .execute(&mut *tx)
        .await?;
    }
    let matched = batch.contact_count - created;
    let counts: (i64, i64, i64, i64, i64) = sqlx::query_as(
        "UPDATE imports SET rows_read = rows_read + ?1, created = created + ?2,
             matched = matched + ?3, duplicates = duplicates + ?4, invalid = invalid + ?5,
             bytes_done = ?6
         WHERE id = ?7
         RETURNING rows_read, created, matched, duplicates, invalid",
    )
    .bind(batch.rows)
    .bind(created)
    .bind(matched)
    .bind(batch.duplicates)
    .bind(batch.invalid)
    .bind(batch.bytes_done)
    .bind(job.id)
    .fetch_one(&mut *tx)
    .await?;
    Ok(ImportCounts {
        rows_read: counts.0,
        created: counts.1,
        matched: counts.2,
        duplicates: counts.3,
        invalid: counts.4,
    })
}

/// The rejected rows of a workspace's import, in file order, `limit` after `after_line`.
pub async fn rejects(
    pool: &SqlitePool,
    workspace_id: i64,
    import_id: i64,
    after_line: i64,
    limit: i64,
) -> Result<Vec<Reject>, AppError> {
    let rows: Vec<(i64, String, String)> = sqlx::query_as(
        "SELECT r.line, r.reason, r.raw FROM import_rejects r
         JOIN imports i ON i.id = r.import_id AND i.workspace_id = ?1
         WHERE r.import_id = ?2 AND r.line > ?3
         ORDER BY r.line LIMIT ?4",
    )
    .bind(workspace_id)
    .bind(import_id)
    .bind(after_line)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(line, reason, raw)| Reject {
            line: line as u64,
            reason,
            raw,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::{users, workspaces};
    use crate::import::columns::Columns;
    use crate::model::Role;

    async fn queued(pool: &SqlitePool) -> (i64, i64) {
        let ws = workspaces::create(pool, "Acme", "SG").await.unwrap();
        let user = users::create(pool, ws, "a@acme.test", "hash", Role::Admin)
            .await
            .unwrap();
        let options = ImportOptions::csv_with_header(Columns::default(), "SG");
        let new = NewImport {
            workspace_id: ws,
            user_id: user,
            file_name: "a.csv",
            file_size: 10,
            options: &options,
            group_id: None,
        };
        let id = create(&mut pool.acquire().await.unwrap(), &new)
            .await
            .unwrap();
        (ws, id)
    }

    async fn status(pool: &SqlitePool, ws: i64, id: i64) -> (ImportStatus, Option<String>) {
        let summary = get(pool, ws, id).await.unwrap();
        (summary.status, summary.error)
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn an_import_stalled_by_two_stops_in_a_row_is_failed(pool: SqlitePool) {
        let (ws, id) = queued(&pool).await;
        claim_next(&pool).await.unwrap().unwrap();
        // The server stops before the import commits anything: queued again, once.
        assert_eq!(requeue_interrupted(&pool).await.unwrap(), (1, 0));
        assert_eq!(status(&pool, ws, id).await.0, ImportStatus::Queued);
        claim_next(&pool).await.unwrap().unwrap();
        assert_eq!(requeue_interrupted(&pool).await.unwrap(), (0, 1));
        assert_eq!(
            status(&pool, ws, id).await,
            (ImportStatus::Failed, Some(STALLED.to_string()))
        );
        assert!(
            claim_next(&pool).await.unwrap().is_none(),
            "not started again"
        );
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn an_import_that_progresses_between_stops_always_resumes(pool: SqlitePool) {
        let (ws, id) = queued(&pool).await;
        for _ in 0..4 {
            claim_next(&pool).await.unwrap().unwrap();
            // A batch commits before each stop.
            sqlx::query("UPDATE imports SET rows_read = rows_read + 100 WHERE id = ?1")
                .bind(id)
                .execute(&pool)
                .await
                .unwrap();
            assert_eq!(requeue_interrupted(&pool).await.unwrap(), (1, 0));
        }
        assert_eq!(status(&pool, ws, id).await.0, ImportStatus::Queued);
    }

    #[sqlx::test(migrator = "crate::db::MIGRATOR")]
    async fn old_reports_of_rejected_rows_are_purged(pool: SqlitePool) {
        let (ws, id) = queued(&pool).await;
        sqlx::query(
            "INSERT INTO import_rejects (import_id, line, reason, raw) VALUES (?1, 2, 'x', 'y')",
        )
        .bind(id)
        .execute(&pool)
        .await
        .unwrap();
        finish(&pool, id, None).await.unwrap();
        let finished_at = get(&pool, ws, id).await.unwrap().created_at;
        assert_eq!(
            purge_rejects(&pool, finished_at - 10).await.unwrap(),
            0,
            "too recent"
        );
        assert!(!get(&pool, ws, id).await.unwrap().report_deleted);
        assert_eq!(
            purge_rejects(&pool, super::super::now() + 1).await.unwrap(),
            1
        );
        assert!(get(&pool, ws, id).await.unwrap().report_deleted);
        assert!(rejects(&pool, ws, id, 0, 10).await.unwrap().is_empty());
    }

    #[test]
    fn numbers_sort_by_key_as_their_text_does() {
        let mut numbers = vec![
            "+6581234567",
            "+447700900123",
            "+658123456",
            "+12025550123",
            "+6591234567",
            "+4477009001",
            "+861380013800",
        ];
        let mut by_key = numbers.clone();
        by_key.sort_by_key(|n| text_order_key(n));
        numbers.sort();
        assert_eq!(by_key, numbers);
    }
}
