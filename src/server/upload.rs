//! `POST /imports`: a CSV upload (multipart: `options` as JSON, then `file`), streamed to
//! disk and queued for the importer; `GET /imports/{id}/rejected.csv`: its report.

use crate::db;
use crate::error::AppError;
use crate::import::sniff::{PREVIEW_BYTES, sniff};
use crate::import::{ImportOptions, accepted_file_name, format_size, not_csv_message};
use crate::model::CurrentUser;
use crate::model::country::normalize_country;
use crate::model::date::format_date;
use crate::server::config::Config;
use crate::server::export::{csv_download, neutralize_formula};
use crate::server::importer::{self, upload_path, uploads_dir};
use crate::server::session::Session;
use crate::server::state::AppState;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::multipart::{Field, Multipart, MultipartRejection};
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
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

/// Accepts an upload, answers `202 {"id": N}` once the file is on disk and queued.
pub async fn upload(
    State(state): State<AppState>,
    session: Session,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, AppError> {
    let user = session.editor()?;
    ensure_free_space(&state.config).await?;
    let limit = state.config.max_upload_bytes;
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
            Some("options") => {
                let text = field.text().await.map_err(|_| interrupted())?;
                options = Some(serde_json::from_str(&text).map_err(|_| {
                    AppError::BadRequest("The upload settings were malformed.".into())
                })?);
            }
            Some("file") if saved.is_none() => {
                let name = field.file_name().unwrap_or_default().trim().to_string();
                if !accepted_file_name(&name) {
                    return Err(AppError::invalid("file", not_csv_message(&name)));
                }
                saved = Some(save(&state, field, name, limit).await?);
            }
            _ => {}
        }
    }
    let Some(saved) = saved else {
        return Err(AppError::invalid("file", "Choose a file to upload."));
    };
    let queued = queue(&state, user, options, &saved).await;
    if queued.is_err() {
        let _ = tokio::fs::remove_file(&saved.path).await;
    }
    let id = queued?;
    state.import_wakeup.notify_one();
    Ok((StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response())
}

/// Refuses an upload while the data folder's disk has less free space than the margin
/// (`CONTACTS_MIN_FREE_DISK_MB`), so an upload never fills the disk the database is on.
async fn ensure_free_space(config: &Config) -> Result<(), AppError> {
    let dir = uploads_dir(config);
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(|e| AppError::internal("creating the uploads folder", e))?;
    let free = tokio::task::spawn_blocking(move || free_disk_bytes(&dir))
        .await
        .map_err(|e| AppError::internal("checking free disk space", e))?
        .map_err(|e| AppError::internal("checking free disk space", e))?;
    if free < config.min_free_disk_bytes {
        tracing::warn!(
            free,
            margin = config.min_free_disk_bytes,
            "upload refused: disk nearly full"
        );
        return Err(AppError::Unavailable(
            "The server is running out of disk space, so it cannot take uploads right now. \
             Try again later, or ask your administrator to free some space."
                .into(),
        ));
    }
    Ok(())
}

/// Bytes an unprivileged process may still write on the disk that holds `path`.
pub fn free_disk_bytes(path: &std::path::Path) -> std::io::Result<u64> {
    let stats = rustix::fs::statvfs(path)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
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
    user: &CurrentUser,
    options: Option<ImportOptions>,
    saved: &Saved,
) -> Result<i64, AppError> {
    let Some(mut options) = options else {
        return Err(AppError::invalid(
            "options",
            "The upload settings are missing.",
        ));
    };
    if options.columns.mobile.is_none() {
        return Err(AppError::invalid(
            "mobile",
            "Tag the column that holds the mobile number.",
        ));
    }
    options.country = normalize_country(&options.country)
        .ok_or_else(|| AppError::invalid("country", "Choose a default country."))?
        .to_string();
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
        Some(name) => Some(db::groups::find_or_create(tx.conn(), user.workspace_id, name).await?),
        None => None,
    };
    let new = db::imports::NewImport {
        workspace_id: user.workspace_id,
        user_id: user.id,
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
    session: Session,
    Path(id): Path<i64>,
) -> Result<Response, AppError> {
    let workspace_id = session.user.workspace_id;
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
    let mut out = Vec::with_capacity(rows.len() * 96 + 64);
    if with_header {
        out.extend_from_slice("\u{feff}".as_bytes());
    }
    {
        let mut writer = csv::Writer::from_writer(&mut out);
        if with_header {
            writer.write_record(["line", "reason", "row"])?;
        }
        for row in rows {
            writer.write_record([
                row.line.to_string().as_str(),
                &row.reason,
                &neutralize_formula(&row.raw),
            ])?;
        }
        writer.flush()?;
    }
    Ok(Bytes::from(out))
}
