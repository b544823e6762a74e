//! `POST /imports`: a CSV upload from the browser (multipart: `options` as JSON, then
//! `file`, received by [`crate::server::receive`]) queued for the importer;
//! `GET /imports/{id}/rejected.csv`: its report.

use crate::db;
use crate::error::AppError;
use crate::import::ImportOptions;
use crate::import::sheet::{MAX_SHEET_NAME, SheetSample};
use crate::import::sniff::{PREVIEW_BYTES, sniff};
use crate::model::date::format_date;
use crate::server::auth::{Access, Caller};
use crate::server::csv_file::{CsvChunk, csv_download};
use crate::server::receive::{Saved, receive};
use crate::server::sheet_reader;
use crate::server::state::AppState;
use crate::server::store::UploadStore;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;

/// Accepts an upload from the Upload contacts tab (see [`receive`]), answers
/// `202 {"id": N}` once the file is on disk and queued.
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    request: Request,
) -> Result<Response, AppError> {
    let caller = caller.require(Access::Edit)?;
    let received = receive(&state, request, |text| parse_options(text).map(|_| ())).await?;
    let options = match received.options.as_deref() {
        Some(text) => parse_options(text)?,
        None => {
            state.config.uploads.remove(&received.file.key).await;
            return Err(AppError::invalid(
                "options",
                "The upload settings are missing.",
            ));
        }
    };
    if options.sheet.is_some()
        && let Err(e) = inspect_workbook(&state, &received.file, options.sheet.as_deref()).await
    {
        state.config.uploads.remove(&received.file.key).await;
        return Err(e);
    }
    let id = queue(&state, &caller, options, &received.file).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response())
}

/// Reads a received spreadsheet from the upload store and checks it in a child process
/// (see [`sheet_reader`]): a file that cannot be read, or a sheet it does not have, is
/// refused before it is queued.
pub async fn inspect_workbook(
    state: &AppState,
    saved: &Saved,
    sheet: Option<&str>,
) -> Result<SheetSample, AppError> {
    if sheet.is_some_and(|s| s.chars().count() > MAX_SHEET_NAME) {
        return Err(AppError::invalid(
            "sheet",
            format!("A sheet's name is at most {MAX_SHEET_NAME} characters."),
        ));
    }
    let uploads = state.config.uploads.clone();
    let key = saved.key.clone();
    let sheet = sheet.map(str::to_string);
    let read = tokio::task::spawn_blocking(move || {
        sheet_reader::sample(uploads.read_blocking(&key)?, sheet.as_deref())
    })
    .await
    .map_err(|e| AppError::internal("reading an upload", e))?;
    match read {
        Ok(Ok(workbook)) => Ok(workbook),
        Ok(Err(problem)) => Err(AppError::invalid("file", problem.to_string())),
        Err(e) => Err(AppError::internal("reading an upload", e)),
    }
}

/// The browser's settings, checked by the rule the preview applies.
fn parse_options(text: &str) -> Result<ImportOptions, AppError> {
    let options: ImportOptions = serde_json::from_str(text)
        .map_err(|_| AppError::BadRequest("The upload settings were malformed.".into()))?;
    options.checked()
}

/// Queues a received file with checked settings: checks a CSV file's first bytes (a
/// spreadsheet's caller inspected it, see [`inspect_workbook`]), then in
/// one transaction creates the group and the import and moves the file where the
/// importer finds it (the worker sees the import only once its file is in place), and
/// wakes the importer. The file is removed if it cannot be queued.
pub async fn queue(
    state: &AppState,
    caller: &Caller,
    options: ImportOptions,
    saved: &Saved,
) -> Result<i64, AppError> {
    let queued = queue_file(state, caller, options, saved).await;
    match queued {
        Ok(id) => {
            state.import_wakeup.notify_one();
            Ok(id)
        }
        Err(e) => {
            state.config.uploads.remove(&saved.key).await;
            Err(e)
        }
    }
}

async fn queue_file(
    state: &AppState,
    caller: &Caller,
    options: ImportOptions,
    saved: &Saved,
) -> Result<i64, AppError> {
    if options.sheet.is_none() {
        sniff(&saved.head, saved.size <= PREVIEW_BYTES as u64)
            .map_err(|problem| AppError::invalid("file", problem.to_string()))?;
    }
    let group = options
        .group
        .as_deref()
        .map(str::trim)
        .filter(|g| !g.is_empty());
    let mut tx = state.db.begin_write().await?;
    let group_id = match group {
        Some(name) => Some(db::groups::find_or_create(tx.conn(), caller.workspace_id, name).await?),
        None => None,
    };
    let new = db::imports::NewImport {
        workspace_id: caller.workspace_id,
        user_id: caller.user_id(),
        file_name: &saved.name,
        file_size: saved.size as i64,
        options: &options,
        group_id,
    };
    let id = db::imports::create(tx.conn(), &new).await?;
    state.config.uploads.accept(&saved.key, id).await?;
    if let Err(e) = tx.commit().await {
        state
            .config
            .uploads
            .remove(&UploadStore::of_import(id))
            .await;
        return Err(e.into());
    }
    Ok(id)
}

/// Rows of the report read per query.
const REPORT_BATCH: i64 = 2_000;

/// The rows an import refused or found twice: line, reason and the row as in the file.
pub async fn rejected_rows(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let workspace_id = caller.require(Access::Read)?.workspace_id;
    rejects_download(&state, workspace_id, id).await
}

/// The report of an import of the workspace as a CSV download (for the Upload contacts
/// tab and the API), read a batch of rows at a time.
pub async fn rejects_download(
    state: &AppState,
    workspace_id: i64,
    id: i64,
) -> Result<Response, AppError> {
    let summary = db::imports::get(&state.db, workspace_id, id).await?;
    let pool = state.db.clone();
    let stream = futures::stream::unfold(Some((0_i64, true)), move |cursor| {
        let pool = pool.clone();
        async move {
            let (after, first) = cursor?;
            let rows =
                match db::imports::rejects(&pool, workspace_id, id, after, REPORT_BATCH).await {
                    Ok(rows) => rows,
                    Err(e) => return Some((Err(std::io::Error::other(e.to_string())), None)),
                };
            if rows.is_empty() && !first {
                return None;
            }
            let next = (rows.len() as i64 == REPORT_BATCH)
                .then(|| (rows.last().map_or(after, |r| r.line as i64), false));
            Some((report_chunk(&rows, first), next))
        }
    });
    let stem = summary
        .file_name
        .rsplit_once('.')
        .map_or(summary.file_name.as_str(), |(stem, _)| stem)
        .replace(['"', '\\', '/', '\r', '\n'], "_");
    let download = format!("{stem}-rejected-{}.csv", format_date(summary.created_at));
    Ok(csv_download(&download, Body::from_stream(stream)))
}

fn report_chunk(rows: &[db::imports::Reject], with_header: bool) -> Result<Bytes, std::io::Error> {
    let mut chunk = CsvChunk::new(with_header, rows.len());
    if with_header {
        chunk.row(["line", "reason", "row"])?;
    }
    for row in rows {
        chunk.row([row.line.to_string().as_str(), &row.reason, &row.raw])?;
    }
    chunk.finish()
}
