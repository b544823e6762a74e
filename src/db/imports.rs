//! CSV imports: the job rows, their queue, and the rejected rows. (A batch of contacts is
//! written by [`super::import::batch`].)
//!
//! Each batch commits with the import's counts, so an import stopped at any moment
//! resumes after its last committed batch without doubling a row.

use super::{Conn, Db, on};
use crate::error::AppError;
use crate::import::{ImportCounts, ImportOptions, ImportStatus, ImportSummary, UndoProgress};

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
    /// The file's size in bytes.
    pub file_size: i64,
    /// The token of this server's lease on the import: every write of the import names
    /// it, so once another server has taken the import over this one writes nothing.
    pub lease: String,
}

/// How long a lease lasts unless renewed (seconds): a dead server's import is taken
/// over by another server this long after the last renewal.
pub const LEASE_SECS: i64 = 15;

/// How often a running import's (or undo's) lease is renewed.
pub const RENEW_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// What a write fenced by a lease this server no longer holds gets.
pub const TAKEN_OVER: &str = "Another server has taken this import over.";

/// A new lease token.
pub(super) fn new_lease() -> String {
    format!("{:032x}", rand::random::<u128>())
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
    finished_at: Option<i64>,
    undo_status: Option<String>,
    undo_removed: i64,
    undo_restored: i64,
    undo_kept: i64,
    undo_finished_at: Option<i64>,
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
            finished_at: r.finished_at,
            undo: r.undo_status.map(|status| UndoProgress {
                status,
                removed: r.undo_removed,
                restored: r.undo_restored,
                kept: r.undo_kept,
                finished_at: r.undo_finished_at,
            }),
        }
    }
}

const SUMMARY: &str = "SELECT i.id, i.file_name, i.file_size, u.email AS user_email, i.created_at,
        i.status, i.error, i.rows_read, i.created, i.matched, i.duplicates, i.invalid,
        i.bytes_done, g.name AS group_name, i.rejects_purged, i.finished_at, i.undo_status,
        i.undo_removed, i.undo_restored, i.undo_kept, i.undo_finished_at
    FROM imports i
    LEFT JOIN users u ON u.workspace_id = i.workspace_id AND u.id = i.user_id
    LEFT JOIN groups g ON g.workspace_id = i.workspace_id AND g.id = i.group_id";

/// An upload to record.
#[derive(Clone, Copy, Debug)]
pub struct NewImport<'a> {
    /// Its workspace.
    pub workspace_id: i64,
    /// The user who uploaded it (none when an API key did).
    pub user_id: Option<i64>,
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
pub async fn create(conn: Conn<'_>, new: &NewImport<'_>) -> Result<i64, AppError> {
    let options = serde_json::to_string(new.options)
        .map_err(|e| AppError::internal("encoding import options", e))?;
    let sql = "INSERT INTO imports (workspace_id, user_id, file_name, file_size, options,
                   group_id, created_at)
               VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
    Ok(on!(conn, conn => {
        sqlx::query_scalar(sql)
            .bind(new.workspace_id)
            .bind(new.user_id)
            .bind(new.file_name)
            .bind(new.file_size)
            .bind(options)
            .bind(new.group_id)
            .bind(super::now())
            .fetch_one(conn)
            .await?
    }))
}

/// The workspace's uploads, newest first, older than `before` (an id) if given.
pub async fn list(
    db: &Db,
    workspace_id: i64,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<ImportSummary>, AppError> {
    let sql =
        format!("{SUMMARY} WHERE i.workspace_id = $1 AND i.id < $3 ORDER BY i.id DESC LIMIT $2");
    let rows: Vec<SummaryRow> = on!(db, pool => {
        sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(limit)
            .bind(before.unwrap_or(i64::MAX))
            .fetch_all(pool)
            .await?
    });
    Ok(rows.into_iter().map(Into::into).collect())
}

/// One upload of the workspace.
pub async fn get(db: &Db, workspace_id: i64, id: i64) -> Result<ImportSummary, AppError> {
    let sql = format!("{SUMMARY} WHERE i.workspace_id = $1 AND i.id = $2");
    let row: Option<SummaryRow> = on!(db, pool => {
        sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(id)
            .fetch_optional(pool)
            .await?
    });
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

/// On SQLite, at start: the database file has one server, so the leases left in it
/// are those of a server that stopped, and are not waited out. (On PostgreSQL other
/// servers may be running what they hold: a lease there ends by running out.)
pub async fn end_leases_if_alone(db: &Db) -> Result<(), AppError> {
    if let Db::Sqlite(pool) = db {
        sqlx::query("UPDATE imports SET lease_until = 0 WHERE lease_until > 0")
            .execute(pool)
            .await?;
    }
    Ok(())
}

/// Puts an import this server was running back in the queue (the server is stopping,
/// or another workspace's upload is waiting), behind the uploads queued before now; it
/// resumes after its last committed batch, here or on another server.
pub async fn hand_back(db: &Db, job: &Job) -> Result<(), AppError> {
    // Giving way is not a stop; a stop before it no longer counts once the import got
    // further since (see `claim_next`'s stalls).
    let sql = "UPDATE imports SET status = 'queued', lease = NULL, lease_until = 0,
                   yielded_at = $4,
                   stalls = CASE WHEN rows_read > rows_at_start THEN 0 ELSE stalls END
               WHERE workspace_id = $1 AND id = $2 AND status = 'processing' AND lease = $3";
    on!(db, pool => {
        sqlx::query(sql)
            .bind(job.workspace_id)
            .bind(job.id)
            .bind(&job.lease)
            .bind(super::now())
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Whether an upload of another workspace is waiting in the queue: a running import
/// gives way to it between batches, so no workspace waits behind another's long file.
/// (On the import writer's own connection: see `ImportWriter::others_waiting`.)
pub(super) async fn others_waiting(conn: Conn<'_>, workspace_id: i64) -> Result<bool, AppError> {
    let sql = "SELECT 1 FROM imports WHERE status = 'queued' AND workspace_id <> $1 LIMIT 1";
    let found: Option<i32> =
        on!(conn, conn => sqlx::query_scalar(sql).bind(workspace_id).fetch_optional(conn).await?);
    Ok(found.is_some())
}

/// Renews a lease this server holds on an import or its undo; false if it no longer
/// holds it (another server took the work over, or it ended).
pub async fn renew(db: &Db, workspace_id: i64, id: i64, lease: &str) -> Result<bool, AppError> {
    let sql = format!(
        "UPDATE imports SET lease_until = {} + $4
         WHERE workspace_id = $1 AND id = $2 AND lease = $3
           AND (status = 'processing' OR undo_status = 'running')",
        db.dialect().clock()
    );
    Ok(on!(db, pool => {
        sqlx::query(&sql)
            .bind(workspace_id)
            .bind(id)
            .bind(lease)
            .bind(LEASE_SECS)
            .execute(pool)
            .await?
            .rows_affected()
    }) == 1)
}

/// Takes the import waiting longest (since its upload, or since it last gave way) that
/// is queued or whose server's lease ran out (the server died; it resumes after its
/// last committed batch), marks it processing under a new
/// lease of this server's, and returns it. One whose servers stopped [`MAX_STALLS`]
/// times in a row without committing anything in between is failed with [`STALLED`]
/// instead, and the next is taken. Several servers claiming at once take different
/// imports.
pub async fn claim_next(db: &Db) -> Result<Option<Job>, AppError> {
    // In SET every expression reads the row as it was: a taken-over import's stop
    // counts 1 if it got further since its last start, one more if not.
    let sql = format!(
        "UPDATE imports SET status = 'processing', started_at = coalesce(started_at, $1),
             stalls = CASE WHEN status = 'queued' THEN stalls
                           WHEN rows_read > rows_at_start THEN 1 ELSE stalls + 1 END,
             rows_at_start = rows_read, lease = $2, lease_until = {clock} + $3
         WHERE (workspace_id, id) = (SELECT workspace_id, id FROM imports
                                     WHERE status = 'queued'
                                        OR (status = 'processing' AND lease_until < {clock})
                                     ORDER BY coalesce(yielded_at, created_at), id
                                     LIMIT 1{skip_locked})
         RETURNING id, workspace_id, options, rows_read, stalls, file_size",
        clock = db.dialect().clock(),
        skip_locked = db.dialect().skip_locked()
    );
    loop {
        let now = super::now();
        let lease = new_lease();
        let row: Option<(i64, i64, String, i64, i64, i64)> = on!(db, pool => {
            sqlx::query_as(&sql)
                .bind(now)
                .bind(&lease)
                .bind(LEASE_SECS)
                .fetch_optional(pool)
                .await?
        });
        let Some((id, workspace_id, options, rows_read, stalls, file_size)) = row else {
            return Ok(None);
        };
        if stalls >= MAX_STALLS {
            tracing::warn!(
                import = id,
                "import failed: its servers stopped twice without progress"
            );
            finish(db, workspace_id, id, &lease, Some(STALLED)).await?;
            continue;
        }
        match serde_json::from_str(&options) {
            Ok(options) => {
                return Ok(Some(Job {
                    id,
                    workspace_id,
                    options,
                    rows_read,
                    file_size,
                    lease,
                }));
            }
            Err(e) => {
                tracing::error!(import = id, error = %e, "unreadable import options");
                let error = "The import's settings could not be read.";
                finish(db, workspace_id, id, &lease, Some(error)).await?;
            }
        }
    }
}

/// How many imports of the install are queued and how many running.
pub async fn queue_counts(db: &Db) -> Result<(i64, i64), AppError> {
    let sql = "SELECT COUNT(*) FILTER (WHERE status = 'queued'),
                      COUNT(*) FILTER (WHERE status = 'processing')
               FROM imports WHERE status IN ('queued', 'processing')";
    Ok(on!(db, pool => sqlx::query_as(sql).fetch_one(pool).await?))
}

/// Whether an import is waiting for or being processed (its file is still needed).
pub async fn is_active(db: &Db, id: i64) -> Result<bool, AppError> {
    let sql = "SELECT status FROM imports WHERE id = $1";
    let status: Option<String> =
        on!(db, pool => sqlx::query_scalar(sql).bind(id).fetch_optional(pool).await?);
    Ok(status
        .as_deref()
        .and_then(ImportStatus::parse)
        .is_some_and(ImportStatus::is_active))
}

/// Deletes what imports that ended before `cutoff` met (the contacts they created and
/// matched), which only an undo needs; returns how many notes went.
pub async fn purge_undo_notes(db: &Db, cutoff: i64) -> Result<u64, AppError> {
    let mut tx = db.begin_write().await?;
    let mut purged = 0;
    for table in ["import_created", "import_matched"] {
        let sql = format!(
            "DELETE FROM {table} WHERE (workspace_id, import_id) IN (SELECT workspace_id, id FROM imports
             WHERE finished_at < $1 AND status IN ('completed', 'failed')
               AND (undo_status IS NULL OR undo_status IN ('completed', 'failed')))"
        );
        purged += on!(tx.conn(), conn => {
            sqlx::query(&sql).bind(cutoff).execute(conn).await?.rows_affected()
        });
    }
    tx.commit().await?;
    Ok(purged)
}

/// Whether an upload of the workspace is waiting to be imported or being imported.
pub async fn has_active(conn: Conn<'_>, workspace_id: i64) -> Result<bool, AppError> {
    let sql = "SELECT 1 FROM imports WHERE workspace_id = $1 AND status IN ('queued', 'processing')
               LIMIT 1";
    let found: Option<i32> = on!(conn, conn => {
        sqlx::query_scalar(sql).bind(workspace_id).fetch_optional(conn).await?
    });
    Ok(found.is_some())
}

/// Deletes the rejected-row reports of imports that ended before `cutoff` (seconds since
/// the epoch); returns how many imports' reports went.
pub async fn purge_rejects(db: &Db, cutoff: i64) -> Result<u64, AppError> {
    let mut tx = db.begin_write().await?;
    let delete = "DELETE FROM import_rejects WHERE (workspace_id, import_id) IN (
                      SELECT workspace_id, id FROM imports
                      WHERE NOT rejects_purged AND finished_at < $1)";
    let mark = "UPDATE imports SET rejects_purged = TRUE
                WHERE NOT rejects_purged AND finished_at < $1";
    let purged = on!(tx.conn(), conn => {
        sqlx::query(delete).bind(cutoff).execute(&mut *conn).await?;
        sqlx::query(mark).bind(cutoff).execute(conn).await?.rows_affected()
    });
    tx.commit().await?;
    Ok(purged)
}

/// Marks an import completed (`error` None) or failed, if this server still holds its
/// `lease`; returns whether it did.
pub async fn finish(
    db: &Db,
    workspace_id: i64,
    id: i64,
    lease: &str,
    error: Option<&str>,
) -> Result<bool, AppError> {
    let status = if error.is_some() {
        ImportStatus::Failed
    } else {
        ImportStatus::Completed
    };
    let mut tx = db.begin_write().await?;
    let sql = "UPDATE imports SET status = $1, error = $2, finished_at = $3, lease = NULL,
                   lease_until = 0
               WHERE workspace_id = $4 AND id = $5 AND status = 'processing' AND lease = $6
               RETURNING file_name, rows_read, created, matched, duplicates, invalid";
    // What the import met stays for an undo (see `purge_undo_notes`).
    let row: Option<(String, i64, i64, i64, i64, i64)> = on!(tx.conn(), conn => {
        sqlx::query_as(sql)
            .bind(status.as_str())
            .bind(error)
            .bind(super::now())
            .bind(workspace_id)
            .bind(id)
            .bind(lease)
            .fetch_optional(&mut *conn)
            .await?
    });
    let Some((file_name, rows_read, created, matched, duplicates, invalid)) = row else {
        return Ok(false);
    };
    // One event for the upload, in the same transaction as its end.
    let mut data = serde_json::json!({
        "batchId": id,
        "status": status.as_str(),
        "fileName": file_name,
        "rowsRead": rows_read,
        "created": created,
        "matched": matched,
        "duplicates": duplicates,
        "invalid": invalid,
    });
    if let Some(error) = error {
        data["error"] = error.into();
    }
    super::webhooks::enqueue_import(tx.conn(), workspace_id, &data).await?;
    tx.commit().await?;
    if rows_read >= super::BULK_ROWS {
        db.refresh_statistics(&["contacts", "memberships"]).await?;
    }
    Ok(true)
}

/// The rejected rows of a workspace's import, in file order, `limit` after `after_line`.
pub async fn rejects(
    db: &Db,
    workspace_id: i64,
    import_id: i64,
    after_line: i64,
    limit: i64,
) -> Result<Vec<Reject>, AppError> {
    let sql = "SELECT r.line, r.reason, r.raw FROM import_rejects r
               WHERE r.workspace_id = $1 AND r.import_id = $2 AND r.line > $3
               ORDER BY r.line LIMIT $4";
    let rows: Vec<(i64, String, String)> = on!(db, pool => {
        sqlx::query_as(sql)
            .bind(workspace_id)
            .bind(import_id)
            .bind(after_line)
            .bind(limit)
            .fetch_all(pool)
            .await?
    });
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

    crate::db_tests!(
        an_import_stalled_by_two_stops_in_a_row_is_failed,
        an_import_that_progresses_between_stops_always_resumes,
        a_stop_before_giving_way_is_forgiven_once_the_import_got_further,
        a_live_lease_is_left_alone_and_a_lost_one_writes_nothing,
        a_handed_back_import_is_taken_at_once_without_a_stall,
        a_running_import_gives_way_only_to_other_workspaces_queued_before,
        old_reports_of_rejected_rows_are_purged
    );
    use crate::db::{users, workspaces};
    use crate::import::columns::Columns;
    use crate::model::Role;

    async fn queued(db: &Db) -> (i64, i64) {
        let (ws, user) = workspace(db, "a@acme.test").await;
        (ws, queue(db, ws, user).await)
    }

    /// A workspace and its admin.
    async fn workspace(db: &Db, email: &str) -> (i64, i64) {
        let ws = workspaces::create(db, "Acme", "SG").await.unwrap();
        let user = users::create(
            db,
            ws,
            email,
            "hash",
            Role::Admin,
            users::PasswordOwner::User,
        )
        .await
        .unwrap();
        (ws, user)
    }

    /// A new upload of the workspace, queued.
    async fn queue(db: &Db, ws: i64, user: i64) -> i64 {
        let options = ImportOptions::csv_with_header(Columns::default(), "SG");
        let new = NewImport {
            workspace_id: ws,
            user_id: Some(user),
            file_name: "a.csv",
            file_size: 10,
            options: &options,
            group_id: None,
        };
        create(db.acquire().await.unwrap().conn(), &new)
            .await
            .unwrap()
    }

    async fn status(db: &Db, ws: i64, id: i64) -> (ImportStatus, Option<String>) {
        let summary = get(db, ws, id).await.unwrap();
        (summary.status, summary.error)
    }

    /// What another server sees once this one's lease ran out (it died).
    async fn lease_runs_out(db: &Db, id: i64) {
        let sql = "UPDATE imports SET lease_until = $2 WHERE id = $1";
        on!(db, pool => {
            sqlx::query(sql).bind(id).bind(super::super::now() - 1).execute(pool).await.unwrap();
        });
    }

    async fn an_import_stalled_by_two_stops_in_a_row_is_failed(db: Db) {
        let (ws, id) = queued(&db).await;
        claim_next(&db).await.unwrap().unwrap();
        // The server dies before the import commits anything: taken over, once.
        lease_runs_out(&db, id).await;
        assert_eq!(claim_next(&db).await.unwrap().unwrap().id, id);
        lease_runs_out(&db, id).await;
        assert!(claim_next(&db).await.unwrap().is_none());
        assert_eq!(
            status(&db, ws, id).await,
            (ImportStatus::Failed, Some(STALLED.to_string()))
        );
        assert!(
            claim_next(&db).await.unwrap().is_none(),
            "not started again"
        );
    }

    async fn an_import_that_progresses_between_stops_always_resumes(db: Db) {
        let (ws, id) = queued(&db).await;
        for _ in 0..4 {
            let job = claim_next(&db).await.unwrap().unwrap();
            assert_eq!(job.id, id);
            // A batch commits before each stop.
            let sql = "UPDATE imports SET rows_read = rows_read + 100 WHERE id = $1";
            on!(&db, pool => {
                sqlx::query(sql).bind(id).execute(pool).await.unwrap();
            });
            lease_runs_out(&db, id).await;
        }
        assert_eq!(status(&db, ws, id).await.0, ImportStatus::Processing);
    }

    async fn a_stop_before_giving_way_is_forgiven_once_the_import_got_further(db: Db) {
        let (ws, id) = queued(&db).await;
        claim_next(&db).await.unwrap().unwrap();
        // A stop without progress: one stall.
        lease_runs_out(&db, id).await;
        let job = claim_next(&db).await.unwrap().unwrap();
        // Then a batch commits and the import gives way to another workspace's upload.
        let sql = "UPDATE imports SET rows_read = rows_read + 100 WHERE id = $1";
        on!(&db, pool => {
            sqlx::query(sql).bind(id).execute(pool).await.unwrap();
        });
        hand_back(&db, &job).await.unwrap();
        // Taken again, its server stops before the next batch: the first stall is
        // behind progress, so this is the only one in a row.
        claim_next(&db).await.unwrap().unwrap();
        lease_runs_out(&db, id).await;
        assert_eq!(claim_next(&db).await.unwrap().unwrap().id, id);
        assert_eq!(status(&db, ws, id).await.0, ImportStatus::Processing);
    }

    async fn a_live_lease_is_left_alone_and_a_lost_one_writes_nothing(db: Db) {
        let (ws, id) = queued(&db).await;
        let first = claim_next(&db).await.unwrap().unwrap();
        assert!(renew(&db, ws, id, &first.lease).await.unwrap());
        assert!(
            claim_next(&db).await.unwrap().is_none(),
            "another server does not take an import whose server renews its lease"
        );
        lease_runs_out(&db, id).await;
        let second = claim_next(&db).await.unwrap().unwrap();
        assert_ne!(first.lease, second.lease);
        // The first server wakes up: it can neither renew, hand back nor finish.
        assert!(!renew(&db, ws, id, &first.lease).await.unwrap());
        hand_back(&db, &first).await.unwrap();
        assert!(!finish(&db, ws, id, &first.lease, None).await.unwrap());
        assert_eq!(status(&db, ws, id).await.0, ImportStatus::Processing);
        // The second one finishes it.
        assert!(finish(&db, ws, id, &second.lease, None).await.unwrap());
        assert_eq!(status(&db, ws, id).await.0, ImportStatus::Completed);
    }

    async fn a_handed_back_import_is_taken_at_once_without_a_stall(db: Db) {
        let (_, id) = queued(&db).await;
        for _ in 0..3 {
            let job = claim_next(&db).await.unwrap().unwrap();
            hand_back(&db, &job).await.unwrap();
        }
        assert_eq!(claim_next(&db).await.unwrap().unwrap().id, id);
    }

    async fn a_running_import_gives_way_only_to_other_workspaces_queued_before(db: Db) {
        let (acme, ann) = workspace(&db, "ann@acme.test").await;
        let (beta, bob) = workspace(&db, "bob@beta.test").await;
        let long = queue(&db, acme, ann).await;
        let job = claim_next(&db).await.unwrap().unwrap();
        assert_eq!(job.id, long);
        // The same workspace's next upload waits its turn behind it.
        let next_of_acme = queue(&db, acme, ann).await;
        assert!(
            !others_waiting(db.acquire().await.unwrap().conn(), acme)
                .await
                .unwrap()
        );
        // Another workspace's does not.
        let of_beta = queue(&db, beta, bob).await;
        assert!(
            others_waiting(db.acquire().await.unwrap().conn(), acme)
                .await
                .unwrap()
        );
        assert!(
            others_waiting(db.acquire().await.unwrap().conn(), beta)
                .await
                .unwrap(),
            "acme's is waiting too"
        );
        // Made later than both, on the clock the queue is ordered by.
        let later = "UPDATE imports SET created_at = created_at - 10 WHERE id <> $1";
        on!(&db, pool => {
            sqlx::query(later).bind(long).execute(pool).await.unwrap();
        });
        hand_back(&db, &job).await.unwrap();
        let order = [
            claim_next(&db).await.unwrap().unwrap().id,
            claim_next(&db).await.unwrap().unwrap().id,
            claim_next(&db).await.unwrap().unwrap().id,
        ];
        assert_eq!(
            order,
            [next_of_acme, of_beta, long],
            "queued before it gave way go first"
        );
    }

    async fn old_reports_of_rejected_rows_are_purged(db: Db) {
        let (ws, id) = queued(&db).await;
        let sql = "INSERT INTO import_rejects (workspace_id, import_id, line, reason, raw)
                   VALUES ($1, $2, 2, 'x', 'y')";
        on!(&db, pool => {
            sqlx::query(sql).bind(ws).bind(id).execute(pool).await.unwrap();
        });
        let job = claim_next(&db).await.unwrap().unwrap();
        assert!(finish(&db, ws, id, &job.lease, None).await.unwrap());
        let finished_at = get(&db, ws, id).await.unwrap().created_at;
        assert_eq!(
            purge_rejects(&db, finished_at - 10).await.unwrap(),
            0,
            "too recent"
        );
        assert!(!get(&db, ws, id).await.unwrap().report_deleted);
        assert_eq!(
            purge_rejects(&db, super::super::now() + 1).await.unwrap(),
            1
        );
        assert!(get(&db, ws, id).await.unwrap().report_deleted);
        assert!(rejects(&db, ws, id, 0, 10).await.unwrap().is_empty());
    }
}
