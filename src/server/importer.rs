//! The background importer: runs queued CSV imports one at a time, the one waiting
//! longest first; a running import gives way between batches to another workspace's
//! upload waiting in the queue (and then goes on), so no workspace waits behind
//! another's long file for longer than a batch (or, for an import that resumed, the time
//! it took to read past its committed rows; see [`may_give_way`]).
//!
//! Parsing and number normalisation run on a blocking thread; batches of classified rows
//! cross a small channel to the async writer, which commits each in one transaction. So
//! the CPU work never blocks the async runtime, and parsing overlaps the writes.

use crate::db;
use crate::db::import::batch::{Batch, EncodedBatch, Layout};
use crate::db::import::writer::ImportWriter;
use crate::db::imports::Job;
use crate::error::AppError;
use crate::import::pipeline::{Rows, sheet_problem, unclosed_quote};
use crate::import::sniff::FileProblem;
use crate::server::sheet_reader;
use crate::server::state::AppState;
use crate::server::store::UploadStore;
use object_store::path::Path as Key;
use std::time::Duration;
use tokio::sync::mpsc;

/// Data rows per batch handed from the parser to the writer.
pub const BATCH_ROWS: i64 = 50_000;

/// A batch also ends once it holds this much, so rows with more columns make smaller
/// batches: the server's memory follows the bytes in flight, not the number of rows.
pub const BATCH_BYTES: usize = 6 << 20;

/// Data rows per transaction (two batches). A commit writes every page its rows touched,
/// and new numbers touch pages all over the number and search indexes, so fewer, larger
/// transactions are faster; other writers wait for a transaction, about a second at
/// this size.
pub const TRANSACTION_ROWS: i64 = 100_000;

/// Removes what stops left in the upload store, once older than
/// [`crate::server::store::LEFTOVER_AGE`] (younger, it may be another server's upload about to be
/// queued): files that were still arriving, and files of imports that have ended (or
/// were never recorded). Run at start-up and hourly.
pub async fn sweep_uploads(state: &AppState) -> Result<(), AppError> {
    let uploads = &state.config.uploads;
    for (key, import) in uploads.old_files().await? {
        let leftover = match import {
            Some(id) => !db::imports::is_active(&state.db, id).await?,
            None => key
                .filename()
                .is_some_and(|name| name.starts_with("incoming-")),
        };
        if leftover {
            tracing::info!(file = %key, "removing a leftover upload");
            uploads.remove(&key).await;
        }
    }
    uploads.remove_old_parts();
    Ok(())
}

/// Starts the worker: it runs the queue whenever an upload arrives (and every few
/// seconds, in case a wake-up was missed or another server's import lost its server).
/// It ends once the server drains, after handing
/// back the import it was running.
pub fn spawn_worker(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        if let Err(e) = db::imports::end_leases_if_alone(&state.db).await {
            tracing::error!(error = %e, "import leases");
        }
        loop {
            if let Err(e) = run_queued(&state).await {
                tracing::error!(error = %e, "import queue");
            }
            tokio::select! {
                () = state.import_wakeup.notified() => {}
                () = state.drain.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
        }
    })
}

/// Queues the undo of an upload of the caller's workspace (see
/// [`db::import::undo::request`]) and wakes the worker that runs it.
pub async fn request_undo(
    state: &AppState,
    caller: &crate::server::auth::Caller,
    import_id: i64,
) -> Result<(), AppError> {
    let window = state.config.undo_days;
    db::import::undo::request(
        &state.db,
        caller.workspace_id,
        import_id,
        &caller.author(),
        window,
    )
    .await?;
    state.import_wakeup.notify_one();
    Ok(())
}

/// Runs every queued import, then every asked-for undo of one, to its end (or, once the
/// server is draining, hands the running one back to the queue); returns how many ran.
pub async fn run_queued(state: &AppState) -> Result<usize, AppError> {
    let mut ran = 0;
    while !state.drain.is_cancelled()
        && let Some(job) = db::imports::claim_next(&state.db).await?
    {
        run(state, &job).await?;
        ran += 1;
    }
    while !state.drain.is_cancelled()
        && let Some(mut undo) = db::import::undo::claim_next(&state.db).await?
    {
        let started = std::time::Instant::now();
        let renewal = Renewal::start(
            state.db.clone(),
            undo.workspace_id,
            undo.import_id,
            undo.lease.clone(),
        );
        let stopping = || state.drain.is_cancelled();
        let undone = db::import::undo::run(&state.db, &mut undo, stopping).await;
        drop(renewal);
        match undone {
            Ok(db::import::undo::Ran::Done) => {
                tracing::info!(import = undo.import_id, elapsed = ?started.elapsed(), "upload undone")
            }
            Ok(db::import::undo::Ran::HandedBack) => {
                tracing::info!(
                    import = undo.import_id,
                    "undo handed back to the queue: the server is stopping"
                )
            }
            // Logged by AppError; the next undo still runs.
            Err(_) => db::import::undo::fail(&state.db, &undo).await?,
        }
        ran += 1;
    }
    Ok(ran)
}

/// Why an import stopped.
enum Stop {
    /// The file's fault, in words for the user; nothing more can be read.
    File(String),
    /// Ours (logged where it happened); the user gets a general message.
    Server,
    /// The server is draining, or another workspace's upload is waiting: what was
    /// written is committed, and the import goes back to the queue to resume after it.
    HandBack(&'static str),
}

impl From<AppError> for Stop {
    fn from(_: AppError) -> Self {
        Stop::Server
    }
}

/// Runs a claimed import to its end, or, once the server is draining, hands it back to
/// the queue after the batch being written; its lease is renewed meanwhile. If another
/// server took it over (this one stalled past the lease), this one's writes were
/// refused and it leaves the import to the other.
pub async fn run(state: &AppState, job: &Job) -> Result<(), AppError> {
    let key = UploadStore::of_import(job.id);
    let started = std::time::Instant::now();
    let renewal = Renewal::start(
        state.db.clone(),
        job.workspace_id,
        job.id,
        job.lease.clone(),
    );
    let outcome = process(state, &key, job).await;
    drop(renewal);
    let error = match &outcome {
        Err(Stop::HandBack(why)) => {
            db::imports::hand_back(&state.db, job).await?;
            tracing::info!(import = job.id, "import handed back to the queue: {why}");
            return Ok(());
        }
        Ok(counts) => {
            tracing::info!(import = job.id, ?counts, elapsed = ?started.elapsed(), "import completed");
            None
        }
        Err(Stop::File(message)) => Some(message.clone()),
        Err(Stop::Server) => Some(
            "The import stopped because of a problem on our side. The rows counted so far \
             were saved; upload the file again to import the rest (rows already imported \
             are matched, not doubled)."
                .to_string(),
        ),
    };
    let finished = db::imports::finish(
        &state.db,
        job.workspace_id,
        job.id,
        &job.lease,
        error.as_deref(),
    )
    .await?;
    if !finished {
        tracing::warn!(import = job.id, "another server took this import over");
        return Ok(());
    }
    state.config.uploads.remove(&key).await;
    Ok(())
}

/// Renews a lease every few seconds while its work runs; stops when dropped.
struct Renewal(tokio::task::JoinHandle<()>);

impl Renewal {
    fn start(db: db::Db, workspace_id: i64, id: i64, lease: String) -> Self {
        Renewal(tokio::spawn(async move {
            let mut every = tokio::time::interval(db::imports::RENEW_EVERY);
            every.tick().await; // the first tick is at once: the claim set the lease
            loop {
                every.tick().await;
                match db::imports::renew(&db, workspace_id, id, &lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::warn!(import = id, "lease lost: another server took over");
                        return;
                    }
                    // Logged by AppError; the next renewal tries again.
                    Err(_) => {}
                }
            }
        }))
    }
}

impl Drop for Renewal {
    fn drop(&mut self) {
        self.0.abort();
    }
}

async fn process(
    state: &AppState,
    key: &Key,
    job: &Job,
) -> Result<crate::import::ImportCounts, Stop> {
    let drain = &state.drain;
    let mut writer = ImportWriter::new(&state.db, TRANSACTION_ROWS).await?;
    let (sender, mut batches) = mpsc::channel::<Result<EncodedBatch, Stop>>(1);
    let parser = {
        let (uploads, key, job) = (state.config.uploads.clone(), key.clone(), job.clone());
        let dialect = state.db.dialect();
        tokio::task::spawn_blocking(move || parse(&uploads, &key, &job, dialect, &sender))
    };
    let mut counts = crate::import::ImportCounts {
        rows_read: job.rows_read,
        ..Default::default()
    };
    let mut failure = None;
    let turn = std::time::Instant::now();
    let mut warm_up = None;
    while let Some(batch) = batches.recv().await {
        // Only a resumed import catches up; a fresh one's first batch waits for the
        // file's quote scan, which is no reason to hold the queue longer.
        let warm_up = match job.rows_read {
            0 => Duration::ZERO,
            _ => *warm_up.get_or_insert_with(|| turn.elapsed()),
        };
        match batch {
            Ok(batch) => match writer.write(job, &batch).await {
                Ok(now) => {
                    let rows = now.rows_read.saturating_sub(counts.rows_read);
                    crate::server::metrics::rows_imported(rows.max(0) as u64);
                    counts = now;
                    if drain.is_cancelled() {
                        failure = Some(Stop::HandBack("the server is stopping"));
                        break;
                    }
                    if !may_give_way(turn.elapsed(), warm_up) {
                        continue;
                    }
                    match writer.others_waiting(job.workspace_id).await {
                        Ok(true) => {
                            failure = Some(Stop::HandBack("another workspace's upload is waiting"));
                            break;
                        }
                        Ok(false) => {}
                        Err(e) => {
                            failure = Some(e.into());
                            break;
                        }
                    }
                }
                Err(e) => {
                    failure = Some(e.into());
                    break;
                }
            },
            Err(stop) => {
                failure = Some(stop);
                break;
            }
        }
    }
    // The rows written before a problem in the file are kept; a failed write is undone
    // (by closing the connection, if even the rollback fails).
    if matches!(failure, Some(Stop::Server)) {
        writer.rollback().await;
    } else if let Err(e) = writer.commit().await {
        failure = Some(e.into());
    }
    drop(batches); // stops the parser if the writer gave up
    if let Some(stop) = parser_failure(parser.await, job.id) {
        failure.get_or_insert(stop);
    }
    if let Some(stop) = failure {
        return Err(stop);
    }
    if counts.rows_read == 0 {
        return Err(Stop::File(if job.options.has_header {
            "The file has a header row but no contacts below it.".into()
        } else {
            "The file has no rows.".into()
        }));
    }
    Ok(counts)
}

/// Whether a turn of an import that has run for `elapsed`, of which `warm_up` went by
/// before its first batch, may give way to another workspace's upload. A resumed import
/// reads past the rows it committed before (the file is read from its start), and that
/// time grows with the file: a turn must do at least as much new work as that before it
/// ends, so that imports taking turns are never slowed down by more than half, however
/// often another workspace uploads.
fn may_give_way(elapsed: Duration, warm_up: Duration) -> bool {
    elapsed >= warm_up * 2
}

/// How the parser's end bears on the import. A panic closes the channel as the end of
/// the file does, so without this the import would be reported complete with the rows
/// read so far.
fn parser_failure(joined: Result<(), tokio::task::JoinError>, import: i64) -> Option<Stop> {
    let error = joined.err()?;
    tracing::error!(import, error = %error, "the import's parser failed");
    Some(Stop::Server)
}

/// Reads the file (as a stream from the store) on a blocking thread and sends it in
/// batches encoded for a `dialect` database. The rows of batches already committed
/// (`job.rows_read`) are skipped: what they met is in the database.
fn parse(
    uploads: &UploadStore,
    key: &Key,
    job: &Job,
    dialect: db::Dialect,
    sender: &mpsc::Sender<Result<EncodedBatch, Stop>>,
) {
    let send = |batch| sender.blocking_send(batch).is_ok();
    // A spreadsheet's own problem is the user's to fix; anything else reading the file
    // is the server's.
    let failed = |e: std::io::Error| match sheet_problem(&e) {
        Some(problem) => Stop::File(problem.to_string()),
        None => Stop::from(AppError::internal("reading an upload", e)),
    };
    let open = || uploads.read_blocking(key).map_err(failed);
    // A quote that never closes would swallow the rest of the file: find it first, and
    // import nothing from such a file. (A resumed import committed rows, so the file
    // passed before; a spreadsheet has no quotes.)
    let scan = || match job.rows_read {
        0 if job.options.sheet.is_none() => {
            open().and_then(|file| unclosed_quote(file, &job.options).map_err(failed))
        }
        _ => Ok(None),
    };
    match scan() {
        Ok(None) => {}
        Ok(Some(line)) => {
            let problem = FileProblem::UnbalancedQuote { line };
            send(Err(Stop::File(format!("{problem} Nothing was imported."))));
            return;
        }
        Err(stop) => {
            send(Err(stop));
            return;
        }
    }
    // A spreadsheet is read by a child process (see `sheet_reader`).
    let rows = open().and_then(|file| {
        match &job.options.sheet {
            Some(sheet) => sheet_reader::rows(file, sheet).and_then(|rows| {
                Rows::from_sheet(Box::new(rows), job.file_size as u64, job.options.clone())
            }),
            None => Rows::new(file, job.options.clone()),
        }
        .map_err(failed)
    });
    let mut rows = match rows {
        Ok(rows) => rows,
        Err(stop) => {
            send(Err(stop));
            return;
        }
    };
    let layout = Layout::of(&job.options.columns);
    let new_batch = || Batch::new(layout, &job.options.country, dialect);
    let mut skip = job.rows_read;
    let mut batch = new_batch();
    loop {
        let row = match rows.next_row() {
            Ok(Some(row)) => row,
            Ok(None) => break,
            Err(e) => {
                send(Err(failed(e)));
                return;
            }
        };
        if skip > 0 {
            skip -= 1;
            continue;
        }
        if let Err(e) = batch.push(row) {
            send(Err(Stop::from(e)));
            return;
        }
        if batch.rows() == BATCH_ROWS || batch.bytes() >= BATCH_BYTES {
            batch.bytes_done = rows.bytes_read() as i64;
            let full = std::mem::replace(&mut batch, new_batch());
            if !send(full.encode().map_err(Stop::from)) {
                return;
            }
        }
    }
    if batch.rows() > 0 {
        batch.bytes_done = rows.bytes_read() as i64;
        send(batch.encode().map_err(Stop::from));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_resumed_turn_does_as_much_new_work_as_it_took_to_catch_up() {
        let secs = Duration::from_secs;
        // A fresh import: one batch of two seconds is enough.
        assert!(may_give_way(secs(2), secs(1)));
        // Ten seconds reading past committed rows: not before twenty in all.
        assert!(!may_give_way(secs(19), secs(10)));
        assert!(may_give_way(secs(20), secs(10)));
    }

    #[tokio::test]
    async fn a_panicking_parser_fails_the_import() {
        let panicked = tokio::task::spawn_blocking(|| panic!("a bug in the parser")).await;
        assert!(matches!(parser_failure(panicked, 1), Some(Stop::Server)));
        let finished = tokio::task::spawn_blocking(|| ()).await;
        assert!(parser_failure(finished, 1).is_none());
    }
}
