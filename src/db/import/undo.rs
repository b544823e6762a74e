//! Undoing an upload: the fields it overwrote go back to their values before it, the
//! memberships it added go, and the contacts it created go — except what was changed
//! since, which is left and listed with the reason.
//!
//! What the upload did is on record: the contacts it created (`import_created` runs),
//! the ones it matched (`import_matched`), each field it changed with its value before and after (the
//! contacts' history, source `import`), and the memberships it added
//! (`memberships.import_id`). A field is restored when it still holds what the upload
//! wrote; a created contact is removed when nobody edited it, opted it out or changed
//! its groups since (it has no history but the undo's own).
//!
//! The undo runs in the importer's worker, a batch per transaction in three phases, its
//! phase, cursor and counts saved with each batch: a stop resumes after the last batch.

use crate::db::contacts::StoredContact;
use crate::db::history::{self, Author, Entry, custom_fields};
use crate::db::{Conn, Db, Dialect, on};
use crate::error::AppError;
use crate::import::KeptContact as Kept;
use crate::model::date::format_date;
use crate::model::field::ContactField;
use crate::model::history::{CUSTOM_PREFIX, Detail, FieldChange, HistoryKind};
use std::collections::{HashMap, HashSet};

/// Queues the undo of a finished upload of the workspace, if it finished less than
/// `window_days` ago and was not undone yet; a clear refusal otherwise, nothing changed.
pub async fn request(
    db: &Db,
    workspace_id: i64,
    import_id: i64,
    author: &Author,
    window_days: i64,
) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let read = format!(
        "SELECT status, finished_at, undo_status FROM imports WHERE workspace_id = $1 AND id = $2{}",
        match db.dialect() {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE",
        }
    );
    let row: Option<(String, Option<i64>, Option<String>)> = on!(tx.conn(), conn => {
        sqlx::query_as(&read).bind(workspace_id).bind(import_id).fetch_optional(conn).await?
    });
    let Some((status, finished_at, undo_status)) = row else {
        return Err(AppError::NotFound("No such upload.".into()));
    };
    if let Some(undo) = undo_status {
        return Err(AppError::Conflict(match undo.as_str() {
            "completed" => "This upload has been undone already.".into(),
            "failed" => "Undoing this upload failed; what was undone stays undone.".into(),
            _ => "This upload is being undone already.".into(),
        }));
    }
    let Some(finished_at) = finished_at.filter(|_| status == "completed" || status == "failed")
    else {
        return Err(AppError::Conflict(
            "This upload is still being imported: undo it once it has finished.".into(),
        ));
    };
    if finished_at < crate::db::now() - window_days * 24 * 3600
        || !has_notes(tx.conn(), workspace_id, import_id).await?
    {
        return Err(AppError::Conflict(format!(
            "Only uploads of the last {window_days} days can be undone; this one finished on {}.",
            format_date(finished_at)
        )));
    }
    let queue = "UPDATE imports SET undo_status = 'queued', undo_user_id = $3, undo_api_key_id = $4
                 WHERE workspace_id = $1 AND id = $2";
    on!(tx.conn(), conn => {
        sqlx::query(queue)
            .bind(workspace_id)
            .bind(import_id)
            .bind(author.user_id)
            .bind(author.api_key_id)
            .execute(conn)
            .await?;
    });
    tx.commit().await?;
    Ok(())
}

/// Whether what the upload met is still on record (uploads that finished before undo
/// existed, or whose notes were purged, have none), or it met nothing at all.
async fn has_notes(conn: Conn<'_>, workspace_id: i64, import_id: i64) -> Result<bool, AppError> {
    let sql = "SELECT (created + matched = 0)
                   OR EXISTS (SELECT 1 FROM import_created
                              WHERE workspace_id = $1 AND import_id = $2)
                   OR EXISTS (SELECT 1 FROM import_matched
                              WHERE workspace_id = $1 AND import_id = $2)
               FROM imports WHERE workspace_id = $1 AND id = $2";
    Ok(on!(conn, conn => {
        sqlx::query_scalar(sql).bind(workspace_id).bind(import_id).fetch_one(conn).await?
    }))
}

/// Marks an undo failed (logged where it failed): what it undid stays undone, and the
/// queue goes on with the next.
pub async fn fail(db: &Db, job: &UndoJob) -> Result<(), AppError> {
    let error = "The undo stopped because of a problem on our side.";
    match end(db, job, "failed", Some(error)).await {
        // Its lease was lost: the server that took it over carries it on.
        Err(AppError::Conflict(_)) => {
            tracing::warn!(import = job.import_id, "another server took this undo over");
            Ok(())
        }
        ended => ended,
    }
}

/// Records how an undo ended, if this server still holds its lease.
async fn end(db: &Db, job: &UndoJob, status: &str, error: Option<&str>) -> Result<(), AppError> {
    let sql = "UPDATE imports SET undo_status = $3, undo_finished_at = $4, undo_error = $5,
                   lease = NULL, lease_until = 0
               WHERE workspace_id = $1 AND id = $2 AND undo_status = 'running' AND lease = $6";
    let ended = on!(db, pool => {
        sqlx::query(sql)
            .bind(job.workspace_id)
            .bind(job.import_id)
            .bind(status)
            .bind(crate::db::now())
            .bind(error)
            .bind(&job.lease)
            .execute(pool)
            .await?
            .rows_affected()
    });
    if ended == 0 {
        return Err(AppError::Conflict(crate::db::imports::TAKEN_OVER.into()));
    }
    Ok(())
}

/// An undo to run (or resume).
#[derive(Clone, Debug)]
pub struct UndoJob {
    pub import_id: i64,
    pub workspace_id: i64,
    phase: i64,
    cursor: i64,
    author: Author,
    /// This server's lease on the undo (see [`crate::db::imports::Job::lease`]).
    pub lease: String,
}

/// Takes the oldest undo waiting, or running on a server whose lease ran out (it died;
/// the undo resumes after its last committed batch), and marks it running under a new
/// lease of this server's.
pub async fn claim_next(db: &Db) -> Result<Option<UndoJob>, AppError> {
    let mut tx = db.begin_write().await?;
    let clock = db.dialect().clock();
    let sql = format!(
        "SELECT id, workspace_id, undo_phase, undo_cursor, undo_user_id, undo_api_key_id
         FROM imports WHERE undo_status = 'queued' OR (undo_status = 'running' AND lease_until < {clock})
         ORDER BY id LIMIT 1{}",
        db.dialect().skip_locked()
    );
    type Row = (i64, i64, i64, i64, Option<i64>, Option<i64>);
    let row: Option<Row> = on!(tx.conn(), conn => sqlx::query_as(&sql).fetch_optional(conn).await?);
    let Some((import_id, workspace_id, phase, cursor, user_id, api_key_id)) = row else {
        return Ok(None);
    };
    let lease = crate::db::imports::new_lease();
    let mark = format!(
        "UPDATE imports SET undo_status = 'running', lease = $3, lease_until = {clock} + $4
         WHERE workspace_id = $1 AND id = $2"
    );
    on!(tx.conn(), conn => {
        sqlx::query(&mark)
            .bind(workspace_id)
            .bind(import_id)
            .bind(&lease)
            .bind(crate::db::imports::LEASE_SECS)
            .execute(conn)
            .await?;
    });
    tx.commit().await?;
    Ok(Some(UndoJob {
        import_id,
        workspace_id,
        phase,
        cursor,
        author: Author::undo(import_id, user_id, api_key_id),
        lease,
    }))
}

/// Contacts per batch.
const BATCH: i64 = 5_000;

/// Contacts per transaction: a batch, but on SQLite, removals (phases 1 and 2) go as
/// many to a transaction as an import writes, with the same pause for others' writes
/// after each. SQLite writes each page a transaction changed once, at its commit, and
/// removals change pages all over the indexes of `contacts`: larger transactions write
/// far fewer pages in all.
fn per_transaction(dialect: Dialect, phase: i64) -> i64 {
    match dialect {
        Dialect::Sqlite if phase > 0 => 100_000,
        _ => BATCH,
    }
}

/// What one batch did.
#[derive(Default)]
struct Done {
    removed: i64,
    restored: i64,
    kept: Vec<Kept>,
    /// Where the next batch starts; `None` when the phase is over.
    next: Option<i64>,
}

/// Runs an undo to its end, a few batches per transaction, the phase and cursor saved
/// with each: a stop resumes after the last commit. Between transactions, `stop` may
/// hand it back to the queue.
///
/// Its transactions are bulk writes ([`Db::begin_bulk_write`]): on SQLite, without
/// foreign-key actions, which cost removing a contact as much again as the removal
/// itself. What it changes refers only to rows of the workspace it read in the same
/// transaction, and it removes a contact's memberships itself.
pub async fn run(db: &Db, job: &mut UndoJob, stop: impl Fn() -> bool) -> Result<Ran, AppError> {
    let checkpoints = match db {
        crate::db::Backend::Sqlite(pool) => Some(super::writer::checkpointer(pool.clone())),
        crate::db::Backend::Postgres(_) => None,
    };
    while job.phase < 3 {
        let mut tx = db.begin_bulk_write().await?;
        if let crate::db::Backend::Sqlite(conn) = tx.conn() {
            super::writer::leave_checkpoints(conn).await?;
        }
        let (phase, mut contacts) = (job.phase, 0);
        while job.phase == phase && contacts < per_transaction(db.dialect(), phase) {
            step(tx.conn(), job).await?;
            contacts += BATCH;
        }
        tx.commit().await?;
        if let Some(checkpoints) = &checkpoints {
            let _ = checkpoints.try_send(());
        }
        if stop() && job.phase < 3 {
            hand_back(db, job).await?;
            return Ok(Ran::HandedBack);
        }
        if db.dialect() == Dialect::Sqlite && phase > 0 && job.phase < 3 {
            tokio::time::sleep(super::writer::LET_OTHERS_WRITE).await;
        }
    }
    end(db, job, "completed", None).await?;
    Ok(Ran::Done)
}

/// How a run of an undo ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ran {
    /// It is complete.
    Done,
    /// `stop` asked (the server is stopping): it went back to the queue after its last
    /// commit, for another server (or this one's next start) to take at once.
    HandedBack,
}

/// Gives a running undo back to the queue, if this server still holds its lease.
async fn hand_back(db: &Db, job: &UndoJob) -> Result<(), AppError> {
    let sql = "UPDATE imports SET undo_status = 'queued', lease = NULL, lease_until = 0
               WHERE workspace_id = $1 AND id = $2 AND undo_status = 'running' AND lease = $3";
    on!(db, pool => {
        sqlx::query(sql)
            .bind(job.workspace_id)
            .bind(job.import_id)
            .bind(&job.lease)
            .execute(pool)
            .await?;
    });
    Ok(())
}

/// Runs the undo's next batch in the caller's transaction, and saves where it got to.
async fn step(mut conn: Conn<'_>, job: &mut UndoJob) -> Result<(), AppError> {
    let done = match job.phase {
        0 => restore_fields(conn.reborrow(), job).await?,
        1 => remove_memberships(conn.reborrow(), job).await?,
        _ => remove_created(conn.reborrow(), job).await?,
    };
    let (phase, cursor) = match done.next {
        Some(cursor) => (job.phase, cursor),
        None => (job.phase + 1, 0),
    };
    if phase == 3 {
        // Last: the opt-outs the upload's rows added.
        crate::db::opt_outs::undo_import(
            conn.reborrow(),
            job.workspace_id,
            job.import_id,
            &job.author,
        )
        .await?;
    }
    save(conn, job, &done, phase, cursor).await?;
    (job.phase, job.cursor) = (phase, cursor);
    Ok(())
}

async fn save(
    mut conn: Conn<'_>,
    job: &UndoJob,
    done: &Done,
    phase: i64,
    cursor: i64,
) -> Result<(), AppError> {
    let sql = "UPDATE imports SET undo_phase = $3, undo_cursor = $4,
                   undo_removed = undo_removed + $5, undo_restored = undo_restored + $6,
                   undo_kept = undo_kept + $7
               WHERE workspace_id = $1 AND id = $2 AND lease = $8";
    let keep = "INSERT INTO import_undo_kept (workspace_id, import_id, contact_id, reason)
                VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING";
    on!(conn.reborrow(), conn => {
        let saved = sqlx::query(sql)
            .bind(job.workspace_id)
            .bind(job.import_id)
            .bind(phase)
            .bind(cursor)
            .bind(done.removed)
            .bind(done.restored)
            .bind(done.kept.len() as i64)
            .bind(&job.lease)
            .execute(&mut *conn)
            .await?
            .rows_affected();
        // Fenced by the lease: a server that lost it rolls the whole batch back.
        if saved == 0 {
            return Err(AppError::Conflict(crate::db::imports::TAKEN_OVER.into()));
        }
        for kept in &done.kept {
            sqlx::query(keep)
                .bind(job.workspace_id)
                .bind(job.import_id)
                .bind(kept.contact_id)
                .bind(&kept.reason)
                .execute(&mut *conn)
                .await?;
        }
    });
    Ok(())
}

/// Phase 0: the fields the upload overwrote, from its history entries, a batch at a time.
async fn restore_fields(mut conn: Conn<'_>, job: &UndoJob) -> Result<Done, AppError> {
    let sql = "SELECT id, contact_id, detail FROM contact_history
               WHERE workspace_id = $1 AND import_id = $2 AND source = 'import'
                 AND kind = 'updated' AND id > $3
               ORDER BY id LIMIT $4";
    let entries: Vec<(i64, i64, String)> = next_batch(conn.reborrow(), sql, job).await?;
    let mut done = Done {
        next: (entries.len() as i64 == BATCH).then(|| entries.last().map_or(0, |e| e.0)),
        ..Done::default()
    };
    let ids: Vec<i64> = entries.iter().map(|e| e.1).collect();
    crate::db::contacts::lock(conn.reborrow(), job.workspace_id, &ids).await?;
    let mut current: HashMap<i64, StoredContact> =
        crate::db::contacts::get_many(conn.reborrow(), job.workspace_id, &ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    for (_, contact_id, detail) in entries {
        let Some(contact) = current.remove(&contact_id) else {
            done.kept.push(Kept {
                contact_id,
                reason: "Deleted since the upload.".into(),
            });
            continue;
        };
        let detail: Detail = serde_json::from_str(&detail)
            .map_err(|e| AppError::internal("reading a history entry", e))?;
        let mut record = contact.record.clone();
        let mut changed_since = Vec::new();
        for change in &detail.changes {
            if value_of(&record, &change.field) == change.after {
                set_value(&mut record, change);
            } else {
                changed_since.push(change.label());
            }
        }
        if record != contact.record {
            crate::db::contacts::update(
                conn.reborrow(),
                job.workspace_id,
                contact_id,
                &record,
                &job.author,
            )
            .await?;
        }
        if changed_since.is_empty() {
            done.restored += 1;
        } else {
            done.kept.push(Kept {
                contact_id,
                reason: format!(
                    "Changed since the upload: {}; the rest was restored.",
                    changed_since.join(", ")
                ),
            });
        }
    }
    Ok(done)
}

/// A field's value, or a custom field's (`attributes.KEY`).
fn value_of(record: &crate::normalize::ContactRecord, field: &str) -> Option<String> {
    match field.strip_prefix(CUSTOM_PREFIX) {
        Some(key) => custom_fields(record)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v),
        None => ContactField::from_key(field)
            .and_then(|f| record.get(f))
            .map(str::to_string),
    }
}

/// Sets a field back to its value before the change.
fn set_value(record: &mut crate::normalize::ContactRecord, change: &FieldChange) {
    match change.field.strip_prefix(CUSTOM_PREFIX) {
        Some(key) => {
            let mut fields = custom_fields(record);
            let at = fields.iter().position(|(k, _)| k == key);
            match (at, &change.before) {
                (Some(at), Some(before)) => fields[at].1 = before.clone(),
                (Some(at), None) => {
                    fields.remove(at);
                }
                (None, Some(before)) => fields.push((key.to_string(), before.clone())),
                (None, None) => {}
            }
            record.attributes = serde_json::to_string(&fields).unwrap_or_else(|_| "[]".into());
        }
        None => {
            if let Some(field) = ContactField::from_key(&change.field) {
                record.set(field, change.before.clone());
            }
        }
    }
}

/// Phase 1: the memberships the upload added to contacts it matched (with a "left"
/// entry in their history); a contact whose fields it did not change counts as restored
/// here.
async fn remove_memberships(mut conn: Conn<'_>, job: &UndoJob) -> Result<Done, AppError> {
    let matched = "SELECT contact_id FROM import_matched
                   WHERE workspace_id = $1 AND import_id = $2 AND contact_id > $3
                   ORDER BY contact_id LIMIT $4";
    let ids: Vec<(i64,)> = next_batch(conn.reborrow(), matched, job).await?;
    let ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
    let next = (ids.len() as i64 == BATCH).then(|| ids.last().copied().unwrap_or(0));
    let left = leave_groups(conn.reborrow(), job, &ids).await?;
    // Contacts whose fields the upload changed were counted in phase 0.
    let json = serde_json::to_string(&ids).map_err(|e| AppError::internal("contact ids", e))?;
    let counted = format!(
        "SELECT DISTINCT contact_id FROM contact_history
         WHERE workspace_id = $1 AND contact_id IN ({}) AND import_id = $3 AND source = 'import'
           AND kind = 'updated'",
        conn.dialect().json_ids(2)
    );
    let counted: HashSet<i64> = on!(conn.reborrow(), conn => {
        sqlx::query_scalar::<_, i64>(&counted)
            .bind(job.workspace_id)
            .bind(&json)
            .bind(job.import_id)
            .fetch_all(conn)
            .await?
            .into_iter()
            .collect()
    });
    Ok(Done {
        restored: left.iter().filter(|id| !counted.contains(id)).count() as i64,
        next,
        ..Done::default()
    })
}

/// Removes the memberships the upload added to these contacts, each with a "left" entry
/// in the contact's history; returns the contacts that left a group.
async fn leave_groups(
    mut conn: Conn<'_>,
    job: &UndoJob,
    ids: &[i64],
) -> Result<HashSet<i64>, AppError> {
    if ids.is_empty() {
        return Ok(HashSet::new());
    }
    let json = serde_json::to_string(ids).map_err(|e| AppError::internal("contact ids", e))?;
    let read = format!(
        "SELECT m.contact_id, g.id, g.name FROM memberships m
         JOIN groups g ON g.workspace_id = m.workspace_id AND g.id = m.group_id
         WHERE m.workspace_id = $1 AND m.import_id = $3 AND m.contact_id IN ({})",
        conn.dialect().json_ids(2)
    );
    let delete = format!(
        "DELETE FROM memberships WHERE workspace_id = $1 AND import_id = $3 AND contact_id IN ({})",
        conn.dialect().json_ids(2)
    );
    let rows: Vec<(i64, i64, String)> = on!(conn.reborrow(), conn => {
        let rows = sqlx::query_as(&read)
            .bind(job.workspace_id)
            .bind(&json)
            .bind(job.import_id)
            .fetch_all(&mut *conn)
            .await?;
        sqlx::query(&delete)
            .bind(job.workspace_id)
            .bind(&json)
            .bind(job.import_id)
            .execute(&mut *conn)
            .await?;
        rows
    });
    let entries: Vec<Entry> = rows
        .iter()
        .map(|(contact_id, group_id, name)| Entry {
            contact_id: *contact_id,
            kind: HistoryKind::Left,
            detail: Detail {
                group: Some((*group_id, name.clone())),
                ..Detail::default()
            },
        })
        .collect();
    history::record(conn, job.workspace_id, &job.author, &entries).await?;
    Ok(rows
        .into_iter()
        .map(|(contact_id, _, _)| contact_id)
        .collect())
}

/// Phase 2: the contacts the upload created, unless changed since (then only the
/// memberships it gave them go).
///
/// The checks bring back only the exceptions: the contacts gone or edited since, and
/// the history entries in the batch's range of ids (its contacts were created together,
/// so they lie in one range; entries of others' contacts in between are passed over).
/// On SQLite the undo's connection has no foreign-key actions (see [`run`]), so a
/// removed contact's memberships are removed here, as PostgreSQL's cascade does.
async fn remove_created(mut conn: Conn<'_>, job: &UndoJob) -> Result<Done, AppError> {
    let ids = created_after(conn.reborrow(), job).await?;
    let mut done = Done {
        next: (ids.len() as i64 == BATCH).then(|| ids.last().copied().unwrap_or(0)),
        ..Done::default()
    };
    let (Some(&first), Some(&last)) = (ids.first(), ids.last()) else {
        return Ok(done);
    };
    let json = serde_json::to_string(&ids).map_err(|e| AppError::internal("contact ids", e))?;
    // Only the exceptions come back: a contact that is gone (`true`) or was edited since.
    let exceptions = format!(
        "SELECT w.value, NOT EXISTS (SELECT 1 FROM contacts c WHERE c.workspace_id = $1 AND c.id = w.value)
         FROM ({}) w
         WHERE NOT EXISTS (SELECT 1 FROM contacts c
                           WHERE c.workspace_id = $1 AND c.id = w.value AND c.updated_at <= c.created_at)",
        conn.dialect().json_ids(2)
    );
    let touched = "SELECT DISTINCT contact_id FROM contact_history
                   WHERE workspace_id = $1 AND contact_id BETWEEN $2 AND $3 AND source <> 'undo'
                     AND NOT (source = 'import' AND import_id = $4)";
    let (exceptions, touched): (HashMap<i64, bool>, HashSet<i64>) = on!(conn.reborrow(), conn => {
        let exceptions = sqlx::query_as::<_, (i64, bool)>(&exceptions)
            .bind(job.workspace_id)
            .bind(&json)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
        let touched = sqlx::query_scalar::<_, i64>(touched)
            .bind(job.workspace_id)
            .bind(first)
            .bind(last)
            .bind(job.import_id)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
        (exceptions, touched)
    });
    let (mut changed, mut unchanged) = (Vec::new(), Vec::new());
    for &contact_id in &ids {
        match exceptions.get(&contact_id) {
            Some(true) => done.kept.push(Kept {
                contact_id,
                reason: "Deleted since the upload.".into(),
            }),
            Some(false) => changed.push(contact_id),
            None if touched.contains(&contact_id) => changed.push(contact_id),
            None => unchanged.push(contact_id),
        }
    }
    leave_groups(conn.reborrow(), job, &changed).await?;
    done.kept.extend(changed.into_iter().map(|contact_id| Kept {
        contact_id,
        reason: "Changed since the upload, so kept.".into(),
    }));
    if !unchanged.is_empty() {
        let json =
            serde_json::to_string(&unchanged).map_err(|e| AppError::internal("contact ids", e))?;
        let ids = conn.dialect().json_ids(2);
        let contacts = format!("DELETE FROM contacts WHERE workspace_id = $1 AND id IN ({ids})");
        done.removed = match conn {
            crate::db::Backend::Sqlite(conn) => {
                let memberships = format!(
                    "DELETE FROM memberships WHERE workspace_id = $1 AND contact_id IN ({ids})"
                );
                sqlx::query(&memberships)
                    .bind(job.workspace_id)
                    .bind(&json)
                    .execute(&mut *conn)
                    .await?;
                sqlx::query(&contacts)
                    .bind(job.workspace_id)
                    .bind(&json)
                    .execute(conn)
                    .await?
                    .rows_affected() as i64
            }
            // The foreign key's cascade removes the memberships. (Removed first, each
            // contact's cascade still probed the index and met their dead entries: the
            // undo took twice as long.)
            crate::db::Backend::Postgres(conn) => sqlx::query(&contacts)
                .bind(job.workspace_id)
                .bind(&json)
                .execute(conn)
                .await?
                .rows_affected() as i64,
        };
    }
    Ok(done)
}

/// The next [`BATCH`] contacts the upload created, after the cursor, in id order.
async fn created_after(conn: Conn<'_>, job: &UndoJob) -> Result<Vec<i64>, AppError> {
    // Runs of consecutive ids: a run's first id and its length (4 bytes a line).
    // Runs never overlap: the one holding the cursor starts at the last first id at or
    // before it, and each run gives at least one id, so a batch needs no more runs.
    let sql = "SELECT first_id, CAST(length(lines) / 4 AS BIGINT) FROM import_created
               WHERE workspace_id = $1 AND import_id = $2
                 AND first_id >= coalesce((SELECT max(first_id) FROM import_created
                                           WHERE workspace_id = $1 AND import_id = $2
                                             AND first_id <= $3), 0)
                 AND first_id + length(lines) / 4 - 1 > $3
               ORDER BY first_id LIMIT $4";
    let runs: Vec<(i64, i64)> = next_batch(conn, sql, job).await?;
    Ok(runs
        .into_iter()
        .flat_map(|(first, len)| first.max(job.cursor + 1)..first + len)
        .take(BATCH as usize)
        .collect())
}

/// The rows of `sql` for the undo's next batch: its parameters are the workspace, the
/// upload, the cursor and [`BATCH`], in that order.
async fn next_batch<T>(conn: Conn<'_>, sql: &str, job: &UndoJob) -> Result<Vec<T>, AppError>
where
    T: Send + Unpin,
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>,
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    Ok(on!(conn, conn => {
        sqlx::query_as(sql)
            .bind(job.workspace_id)
            .bind(job.import_id)
            .bind(job.cursor)
            .bind(BATCH)
            .fetch_all(conn)
            .await?
    }))
}

/// What the undo left, and why: the first `limit`, in contact order.
pub async fn kept(
    conn: Conn<'_>,
    workspace_id: i64,
    import_id: i64,
    limit: i64,
) -> Result<Vec<Kept>, AppError> {
    let sql = "SELECT contact_id, reason FROM import_undo_kept
               WHERE workspace_id = $1 AND import_id = $2 ORDER BY contact_id LIMIT $3";
    let rows: Vec<(i64, String)> = on!(conn, conn => {
        sqlx::query_as(sql).bind(workspace_id).bind(import_id).bind(limit).fetch_all(conn).await?
    });
    Ok(rows
        .into_iter()
        .map(|(contact_id, reason)| Kept { contact_id, reason })
        .collect())
}
