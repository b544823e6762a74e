//! `POST /imports`: a CSV upload (multipart: `options` as JSON, then `file`), streamed to
//! disk and queued for the importer; `GET /imports/{id}/rejected.csv`: its report.

use crate::db;
use crate::error::AppError;
use crate::import::sniff::{PREVIEW_BYTES, sniff};
use crate::import::{ImportOptions, accepted_file_name, format_size, not_csv_message};
use crate::model::date::format_date;
use crate::server::auth::{Access, Caller};
use crate::server::csv_file::{CsvChunk, csv_download};
use crate::server::disk::{Reservation, free_disk_bytes};
use crate::server::importer::{self, upload_path, uploads_dir};
use crate::server::state::AppState;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::multipart::{Field, Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use serde_json::json;
use std::io::Read;
use tokio::io::AsyncWriteExt;

/// Room for the form's other fields and multipart framing beyond the file itself.
pub const FORM_OVERHEAD: u64 = 1024 * 1024;

/// The refusal of a file over the limit, in words for the person uploading.
pub fn too_large(limit: u64) -> AppError {
    AppError::TooLarge(format!(
        "The file is larger than {}, the most this server accepts. Split it into smaller \
         files and upload them one after another.",
        format_size(limit)
    ))
}

fn interrupted() -> AppError {
    AppError::BadRequest(
        "The upload was interrupted before the whole file arrived. Try again.".into(),
    )
}

/// The most a part of the upload form other than the file may hold (the settings: the
/// largest the preview sends, 100 custom columns with 200-character keys, is ~25 KiB).
pub const MAX_FORM_PART_BYTES: usize = 512 << 10;

/// Accepts an upload, answers `202 {"id": N}` once the file is on disk and queued.
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let caller = caller.require(Access::Edit)?;
    let limit = state.config.max_upload_bytes;
    // What the request says it will send, or the most it may: the space it may take.
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(limit, |n| n.min(limit));
    let mut reservation = reserve_disk(&state, declared).await?;
    let mut multipart =
        multipart.map_err(|_| AppError::BadRequest("The upload was not a file form.".into()))?;
    let mut options: Option<ImportOptions> = None;
    let mut saved: Option<Saved> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return Err(too_large(limit)),
            Err(_) => return Err(interrupted()),
        };
        match field.name() {
            Some("options") if options.is_none() => {
                let text = read_form_part(field).await?;
                options = Some(serde_json::from_str(&text).map_err(|_| {
                    AppError::BadRequest("The upload settings were malformed.".into())
                })?);
            }
            Some("file") if saved.is_none() => {
                let name = field.file_name().unwrap_or_default().trim().to_string();
                if !accepted_file_name(&name) {
                    return Err(AppError::invalid("file", not_csv_message(&name)));
                }
                saved = Some(save(&state, field, name, limit, &mut reservation).await?);
            }
            other => {
                let name = other
                    .unwrap_or_default()
                    .chars()
                    .take(40)
                    .collect::<String>();
                return Err(AppError::BadRequest(format!(
                    "The upload has an unexpected part \"{name}\": send one \"options\" and one \"file\"."
                )));
            }
        }
    }
    let Some(saved) = saved else {
        return Err(AppError::invalid("file", "Choose a file to upload."));
    };
    drop(reservation);
    let queued = queue(&state, &caller, options, &saved).await;
    if queued.is_err() {
        let _ = tokio::fs::remove_file(&saved.path).await;
    }
    let id = queued?;
    state.import_wakeup.notify_one();
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response())
}

/// Reads a small part of the form (the settings), refusing it with 413 as soon as it
/// grows past [`MAX_FORM_PART_BYTES`], before reading on.
async fn read_form_part(mut field: Field<'_>) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                if bytes.len() + chunk.len() > MAX_FORM_PART_BYTES {
                    return Err(AppError::TooLarge(format!(
                        "The upload settings are larger than {}, the most they may be.",
                        format_size(MAX_FORM_PART_BYTES as u64)
                    )));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(_) => return Err(interrupted()),
        }
    }
    String::from_utf8(bytes)
        .map_err(|_| AppError::BadRequest("The upload settings were malformed.".into()))
}

/// Reserves room for `bytes` of upload on the data folder's disk, keeping the margin
/// (`CONTACTS_MIN_FREE_DISK_MB`) free even when every upload in flight has arrived, so
/// uploads never fill the disk the database is on.
async fn reserve_disk(state: &AppState, bytes: u64) -> Result<Reservation, AppError> {
    let dir = uploads_dir(&state.config);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| AppError::internal("creating the uploads folder", e))?;
    let free = tokio::task::spawn_blocking(move || free_disk_bytes(&dir))
        .await
        .map_err(|e| AppError::internal("checking free disk space", e))?
        .map_err(|e| AppError::internal("checking free disk space", e))?;
    let margin = state.config.min_free_disk_bytes;
    state.disk.reserve(free, margin, bytes).ok_or_else(|| {
        tracing::warn!(
            free,
            margin,
            bytes,
            in_flight = state.disk.outstanding(),
            "upload refused: disk nearly full"
        );
        AppError::Unavailable(
            "The server is running out of disk space, so it cannot take uploads right now. \
                 Try again later, or ask your administrator to free some space."
                .into(),
        )
    })
}

/// A file received in full, waiting to be queued.
struct Saved {
    name: String,
    size: u64,
    path: std::path::PathBuf,
}

/// Streams the file field to a temporary file, refusing it past `limit` bytes.
async fn save(
    state: &AppState,
    mut field: Field<'_>,
    name: String,
    limit: u64,
    reservation: &mut Reservation,
) -> Result<Saved, AppError> {
    let dir = uploads_dir(&state.config);
    let server_error = |e: std::io::Error| AppError::internal("saving an upload", e);
    let path = dir.join(format!(
        "{}{:016x}{}",
        importer::INCOMING_PREFIX,
        rand::random::<u64>(),
        importer::INCOMING_SUFFIX
    ));
    let mut file = tokio::fs::File::create(&path).await.map_err(server_error)?;
    let mut size = 0u64;
    let result = loop {
        match field.chunk().await {
            Ok(Some(chunk)) => {
                size += chunk.len() as u64;
                if size > limit {
                    break Err(too_large(limit));
                }
                if let Err(e) = file.write_all(&chunk).await {
                    break Err(server_error(e));
                }
                reservation.written(chunk.len() as u64);
            }
            Ok(None) => break file.flush().await.map_err(server_error),
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => break Err(too_large(limit)),
            Err(_) => break Err(interrupted()),
        }
    };
    drop(file);
    match result {
        Ok(()) => Ok(Saved { name, size, path }),
        Err(error) => {
            let _ = tokio::fs::remove_file(&path).await;
            Err(error)
        }
    }
}

/// Checks the settings and the file's first bytes, then in one transaction creates the
/// group and the import and moves the file where the importer finds it: the worker sees
/// the import only once its file is in place.
async fn queue(
    state: &AppState,
    caller: &Caller,
    options: Option<ImportOptions>,
    saved: &Saved,
) -> Result<i64, AppError> {
    let Some(options) = options else {
        return Err(AppError::invalid(
            "options",
            "The upload settings are missing.",
        ));
    };
    let options = options.checked()?;
    let head = {
        let path = saved.path.clone();
        tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
            let mut head = Vec::with_capacity(PREVIEW_BYTES);
            std::fs::File::open(path)?
                .take(PREVIEW_BYTES as u64)
                .read_to_end(&mut head)?;
            Ok(head)
        })
        .await
        .map_err(|e| AppError::internal("reading an upload", e))?
        .map_err(|e| AppError::internal("reading an upload", e))?
    };
    sniff(&head, saved.size <= PREVIEW_BYTES as u64)
        .map_err(|problem| AppError::invalid("file", problem.to_string()))?;
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
    let path = upload_path(&state.config, id);
    tokio::fs::rename(&saved.path, &path)
        .await
        .map_err(|e| AppError::internal("storing an upload", e))?;
    if let Err(e) = tx.commit().await {
        let _ = tokio::fs::remove_file(&path).await;
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
