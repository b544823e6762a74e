//! `POST /imports`: a CSV upload (multipart: `options` as JSON, then `file`), streamed to
//! disk and queued for the importer; `GET /imports/{id}/rejected.csv`: its report.

use crate::db;
use crate::error::AppError;
use crate::import::sniff::{PREVIEW_BYTES, sniff};
use crate::import::{ImportOptions, accepted_file_name, format_size, not_csv_message};
use crate::model::country::normalize_country;
use crate::model::date::format_date;
use crate::server::export::{csv_download, neutralize_formula};
use crate::server::importer::{upload_path, uploads_dir};
use crate::server::session::Session;
use crate::server::state::AppState;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::multipart::{Field, Multipart, MultipartRejection};
use axum::extract::{Extension, Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode, header};
use serde_json::json;
use std::io::Read;
use tokio::io::AsyncWriteExt;

/// Room for the form's other fields and multipart framing beyond the file itself.
pub const FORM_OVERHEAD: u64 = 1024 * 1024;

/// A refusal as the upload form shows it: `{"error": "..."}` with the status.
fn refuse(status: StatusCode, message: impl Into<String>) -> Response {
    (status, Json(json!({ "error": message.into() }))).into_response()
}

fn too_large(limit: u64) -> Response {
    refuse(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "The file is larger than {}, the most this server accepts. Split it into smaller \
             files and upload them one after another.",
            format_size(limit)
        ),
    )
}

fn from_error(error: AppError) -> Response {
    let status = StatusCode::from_u16(error.status_code()).unwrap_or(StatusCode::BAD_REQUEST);
    refuse(status, error.to_string())
}

/// Accepts an upload, answers `202 {"id": N}` once the file is on disk and queued.
pub async fn upload(
    State(state): State<AppState>,
    session: Option<Extension<Session>>,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let Some(Extension(session)) = session else {
        return from_error(AppError::Unauthorized);
    };
    if !session.user.role.can_edit() {
        return from_error(AppError::Forbidden);
    }
    let limit = state.config.max_upload_bytes;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit + FORM_OVERHEAD) {
        return too_large(limit);
    }
    let Ok(mut multipart) = multipart else {
        return refuse(StatusCode::BAD_REQUEST, "The upload was not a file form.");
    };
    let mut options: Option<ImportOptions> = None;
    let mut saved: Option<(String, u64, std::path::PathBuf)> = None;
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => return too_large(limit),
            Err(_) => return interrupted(),
        };
        match field.name() {
            Some("options") => match field.text().await {
                Ok(text) => match serde_json::from_str(&text) {
                    Ok(parsed) => options = Some(parsed),
                    Err(_) => {
                        return refuse(
                            StatusCode::BAD_REQUEST,
                            "The upload settings were malformed.",
                        );
                    }
                },
                Err(_) => return interrupted(),
            },
            Some("file") if saved.is_none() => {
                let name = field.file_name().unwrap_or_default().trim().to_string();
                if !accepted_file_name(&name) {
                    return refuse(StatusCode::BAD_REQUEST, not_csv_message(&name));
                }
                match save(&state, field, limit).await {
                    Ok((size, path)) => saved = Some((name, size, path)),
                    Err(response) => return response,
                }
            }
            _ => {}
        }
    }
    let Some((file_name, size, temp)) = saved else {
        return refuse(StatusCode::BAD_REQUEST, "Choose a file to upload.");
    };
    let queued = queue(&state, &session, options, &file_name, size, &temp).await;
    if queued.is_err() {
        let _ = tokio::fs::remove_file(&temp).await;
    }
    match queued {
        Ok(id) => {
            state.import_wakeup.notify_one();
            (StatusCode::ACCEPTED, Json(json!({ "id": id }))).into_response()
        }
        Err(error) => from_error(error),
    }
}

fn interrupted() -> Response {
    refuse(
        StatusCode::BAD_REQUEST,
        "The upload was interrupted before the whole file arrived. Try again.",
    )
}

/// Streams the file field to a temporary file, refusing it past `limit` bytes.
async fn save(
    state: &AppState,
    mut field: Field<'_>,
    limit: u64,
) -> Result<(u64, std::path::PathBuf), Response> {
    let dir = uploads_dir(&state.config);
    let server_error = |e: std::io::Error| from_error(AppError::internal("saving an upload", e));
    tokio::fs::create_dir_all(&dir)
        .await
        .map_err(server_error)?;
    let temp = dir.join(format!("incoming-{:016x}.part", rand::random::<u64>()));
    let mut file = tokio::fs::File::create(&temp).await.map_err(server_error)?;
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
        Ok(()) => Ok((size, temp)),
        Err(response) => {
            let _ = tokio::fs::remove_file(&temp).await;
            Err(response)
        }
    }
}

/// Checks the settings and the file's first bytes, creates the group and the import, and
/// moves the file where the importer finds it.
async fn queue(
    state: &AppState,
    session: &Session,
    options: Option<ImportOptions>,
    file_name: &str,
    size: u64,
    temp: &std::path::Path,
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
        let temp = temp.to_path_buf();
        tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
            let mut head = Vec::with_capacity(PREVIEW_BYTES);
            std::fs::File::open(temp)?
                .take(PREVIEW_BYTES as u64)
                .read_to_end(&mut head)?;
            Ok(head)
        })
        .await
        .map_err(|e| AppError::internal("reading an upload", e))?
        .map_err(|e| AppError::internal("reading an upload", e))?
    };
    sniff(&head, size <= PREVIEW_BYTES as u64)
        .map_err(|problem| AppError::invalid("file", problem.to_string()))?;
    let user = &session.user;
    let group_id = match options.group.as_deref().map(str::trim) {
        Some(name) if !name.is_empty() => {
            Some(db::groups::find_or_create(&state.pool, user.workspace_id, name).await?)
        }
        _ => None,
    };
    let id = db::imports::create(
        &state.pool,
        user.workspace_id,
        user.id,
        file_name,
        size as i64,
        &options,
        group_id,
    )
    .await?;
    if let Err(e) = tokio::fs::rename(temp, upload_path(&state.config, id)).await {
        db::imports::finish(&state.pool, id, Some("The upload could not be stored.")).await?;
        return Err(AppError::internal("storing an upload", e));
    }
    Ok(id)
}

/// Rows of the report read per query.
const REPORT_BATCH: i64 = 2_000;

/// The rows an import refused or found twice: line, reason and the row as in the file.
pub async fn rejected_rows(
    State(state): State<AppState>,
    session: Option<Extension<Session>>,
    Path(id): Path<i64>,
) -> Response {
    let Some(Extension(session)) = session else {
        return (StatusCode::UNAUTHORIZED, AppError::Unauthorized.to_string()).into_response();
    };
    let workspace_id = session.user.workspace_id;
    let summary = match db::imports::get(&state.pool, workspace_id, id).await {
        Ok(summary) => summary,
        Err(error) => {
            let status = StatusCode::from_u16(error.status_code())
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            return (status, error.to_string()).into_response();
        }
    };
    let pool = state.pool.clone();
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
    csv_download(&download, Body::from_stream(stream))
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
