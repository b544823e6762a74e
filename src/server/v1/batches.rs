//! Uploads through the API (`batches`): a CSV file as `multipart/form-data` with optional
//! settings, queued for the same importer as the browser's uploads, with the same limits
//! and counts; listed, read and their rejected rows downloaded.

use super::cursor;
use super::error::ApiError;
use super::extract::{ApiCaller, ApiQuery, Id, not_found};
use crate::db;
use crate::error::AppError;
use crate::import::columns::{Columns, CustomColumn, Field, Tag, suggest};
use crate::import::encoding::Encoding;
use crate::import::preview::{Preview, read_table, table_of};
use crate::import::sheet::{SheetSample, is_workbook};
use crate::import::sniff::{Delimiter, FileProblem, detect_header, sniff};
use crate::import::{ImportOptions, ImportStatus, ImportSummary, is_spreadsheet_name};
use crate::model::contact::Cursor;
use crate::model::date::format_timestamp;
use crate::model::field::{ApiName, ContactField};
use crate::server::auth::{Access, Caller};
use crate::server::receive::{Saved, receive};
use crate::server::state::AppState;
use crate::server::upload::inspect_workbook;
use axum::Json;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;
use utoipa::{IntoParams, ToSchema};

/// A column of the file: its header's text, or its position from 0.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum ColumnRef {
    /// The position, from 0.
    Index(usize),
    /// The header's text.
    Name(String),
}

/// How to read an uploaded file. Every member may be left out: it is then guessed from
/// the file as the Upload contacts tab guesses it.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UploadOptions {
    /// The column of mobile numbers (else the one whose header says so).
    mobile_column: Option<ColumnRef>,
    /// Other columns to import: a column (header text, or position from 0, as text) →
    /// the field it fills, by its API name (`firstName`, `email`, `lineId`, …; the
    /// export's column names such as `first_name` work too), `customAttributes.<key>`
    /// for a custom field, or `optedOut.<channel>` (`optedOut.sms`, `optedOut.email`, …)
    /// for a yes / no column that opts the row's address on that channel out. Without
    /// it, columns are tagged from their headers.
    columns: Option<BTreeMap<String, String>>,
    /// The country of numbers written without a country code (default: the workspace's).
    country: Option<String>,
    /// A group every imported contact joins, by name (created if there is none).
    group_name: Option<String>,
    /// A group every imported contact joins, by id.
    group_id: Option<i64>,
    /// Whether the file's values replace those of contacts that exist already.
    update_existing: Option<bool>,
    /// The text encoding, as its WHATWG name (`utf-8`, `windows-1252`, `utf-16le`, …).
    encoding: Option<String>,
    /// The field delimiter: `,` `;` `\t` `|` (or `comma`, `semicolon`, `tab`, `pipe`).
    delimiter: Option<String>,
    /// Whether the first row names the columns.
    has_header: Option<bool>,
    /// For a spreadsheet (.xlsx, .xlsm, .xlsb, .xls, .ods): the sheet to read, by name
    /// (default: the first sheet with a value). `encoding` and `delimiter` are for CSV
    /// text only.
    sheet: Option<String>,
}

fn invalid(field: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(422, "validation_failed", message).with_field(field)
}

fn read_options(text: &str) -> Result<UploadOptions, ApiError> {
    super::extract::from_json(text.as_bytes())
}

fn encoding_of(name: &str) -> Result<Encoding, ApiError> {
    Encoding::ALL
        .into_iter()
        .find(|e| e.whatwg_name().eq_ignore_ascii_case(name.trim()))
        .ok_or_else(|| {
            let names: Vec<&str> = Encoding::ALL.iter().map(|e| e.whatwg_name()).collect();
            invalid("encoding", format!("Use one of: {}.", names.join(", ")))
        })
}

fn delimiter_of(text: &str) -> Result<Delimiter, ApiError> {
    match text.to_ascii_lowercase().as_str() {
        "," | "comma" => Ok(Delimiter::Comma),
        ";" | "semicolon" => Ok(Delimiter::Semicolon),
        "\t" | "tab" => Ok(Delimiter::Tab),
        "|" | "pipe" => Ok(Delimiter::Pipe),
        _ => Err(invalid(
            "delimiter",
            "Use , ; \\t or | (comma, semicolon, tab, pipe).",
        )),
    }
}

/// The field a name names: its API name (`firstName`, `msisdn`, `lineId`, …) or its
/// key in the app's own settings and export (`first_name`, `mobile`, `line_id`, …).
fn field_named(name: &str) -> Option<ContactField> {
    ContactField::ALL.into_iter().find(|f| match f.spec().api {
        ApiName::Top(api) | ApiName::Address(api) => api == name || f.key() == name,
    })
}

/// The column a reference names in a file with these headers.
fn column_of(reference: &ColumnRef, headers: &[String], has_header: bool) -> Option<usize> {
    match reference {
        ColumnRef::Index(i) => Some(*i),
        ColumnRef::Name(name) => {
            let by_name = has_header
                .then(|| {
                    headers
                        .iter()
                        .position(|h| h.trim().eq_ignore_ascii_case(name.trim()))
                })
                .flatten();
            by_name.or_else(|| name.trim().parse().ok())
        }
    }
}

/// What the server read of a received file, to guess the settings from.
enum FileStart<'a> {
    /// CSV text: its first bytes, and its size.
    Text { head: &'a [u8], size: u64 },
    /// A spreadsheet: its sheet and first rows.
    Sheet(SheetSample),
}

/// The importer's settings for a received file: what the request says, the rest
/// guessed from the file's first rows.
fn import_options(
    options: UploadOptions,
    start: FileStart<'_>,
    default_country: &str,
) -> Result<(ImportOptions, Option<i64>), ApiError> {
    let file_problem = |problem: FileProblem| invalid("file", problem.to_string());
    let (encoding, delimiter, has_header, table, sheet) = match start {
        FileStart::Text { head, size } => {
            if options.sheet.is_some() {
                return Err(invalid(
                    "sheet",
                    "The file is CSV text, not a spreadsheet: leave out sheet.",
                ));
            }
            let whole = size <= head.len() as u64;
            let sniffed = sniff(head, whole).map_err(file_problem)?;
            let encoding = options
                .encoding
                .as_deref()
                .map(encoding_of)
                .transpose()?
                .unwrap_or(sniffed.encoding);
            let delimiter = options
                .delimiter
                .as_deref()
                .map(delimiter_of)
                .transpose()?
                .unwrap_or(sniffed.delimiter);
            let has_header = options.has_header.unwrap_or(sniffed.has_header);
            let preview = Preview {
                name: String::new(),
                size,
                head: Arc::new(head.to_vec()),
                whole,
            };
            let table =
                read_table(&preview, encoding, delimiter, has_header).map_err(file_problem)?;
            (encoding, delimiter, has_header, table, None)
        }
        FileStart::Sheet(book) => {
            let has_header = options
                .has_header
                .unwrap_or_else(|| detect_header(&book.rows));
            let table = table_of(book.rows, has_header).map_err(file_problem)?;
            (
                Encoding::Utf8,
                Delimiter::Comma,
                has_header,
                table,
                Some(book.sheet),
            )
        }
    };
    let mut columns = match &options.columns {
        Some(_) => Columns::default(),
        None if has_header => suggest(&table.headers),
        None => Columns::default(),
    };
    for (reference, target) in options.columns.iter().flatten() {
        let column = column_of(
            &ColumnRef::Name(reference.clone()),
            &table.headers,
            has_header,
        )
        .ok_or_else(|| {
            invalid(
                "columns",
                format!("The file has no column \"{reference}\"."),
            )
        })?;
        let tag = if let Some(key) = target.strip_prefix("customAttributes.") {
            Tag::Custom(key.to_string())
        } else if let Some(channel) = target.strip_prefix("optedOut.") {
            Tag::OptOut(crate::model::channel::Channel::parse(channel).ok_or_else(|| {
                invalid(
                    "columns",
                    format!("\"{channel}\" is not a channel: sms, email, whatsapp, viber, line, wechat or messenger."),
                )
            })?)
        } else {
            Tag::Field(field_named(target).ok_or_else(|| {
                invalid(
                    "columns",
                    format!("\"{target}\" is not a field: use a field's API name, customAttributes.<key> or optedOut.<channel>."),
                )
            })?)
        };
        if columns.tag_of(column).is_some() {
            return Err(invalid(
                "columns",
                format!("Column \"{reference}\" is tagged twice."),
            ));
        }
        columns.set(column, Some(tag));
    }
    if let Some(reference) = &options.mobile_column {
        let column = column_of(reference, &table.headers, has_header)
            .ok_or_else(|| invalid("mobileColumn", "The file has no such column."))?;
        columns.set(column, Some(Tag::Field(Field::Mobile)));
    }
    if columns.get(Field::Mobile).is_none() {
        return Err(invalid(
            "mobileColumn",
            "No column's header says it holds mobile numbers: name it in mobileColumn.",
        ));
    }
    // Custom keys are checked (and trimmed) by the same rule as the preview's.
    columns.custom = columns
        .custom
        .into_iter()
        .map(|c| CustomColumn {
            index: c.index,
            key: c.key.trim().to_string(),
        })
        .collect();
    let group_id = options.group_id;
    let options = ImportOptions {
        encoding,
        delimiter,
        has_header,
        columns,
        country: options
            .country
            .unwrap_or_else(|| default_country.to_string()),
        group: options.group_name,
        update_existing: options.update_existing.unwrap_or(false),
        sheet,
    };
    let options = options.checked().map_err(|e| match e {
        AppError::Invalid(errors) if errors.iter().any(|e| e.field == "columns") => {
            ApiError::from(AppError::Invalid(errors)).with_field("columns")
        }
        other => other.into(),
    })?;
    Ok((options, group_id))
}

/// A batch (an upload) as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Batch {
    /// The batch's id.
    id: i64,
    /// What it does: `createContacts`.
    r#type: &'static str,
    /// `queued`, `inProgress`, `completed` or `failed`.
    status: &'static str,
    /// The uploaded file's name.
    file_name: String,
    /// Data rows read so far.
    rows_read: i64,
    /// New contacts.
    created: i64,
    /// Rows whose number belonged to a contact already.
    matched: i64,
    /// Rows whose number appeared earlier in the file.
    duplicates: i64,
    /// Rows refused (see `rejects`).
    invalid: i64,
    /// Why it failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
    /// Uploaded.
    #[schema(format = DateTime)]
    created_at: String,
    /// Ended.
    #[schema(format = DateTime)]
    finished_at: Option<String>,
    /// Its undo, once asked for (`POST /batches/{id}/undo`).
    #[serde(skip_serializing_if = "Option::is_none")]
    undo: Option<BatchUndo>,
}

/// Where a batch's undo stands.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchUndo {
    /// `queued`, `inProgress`, `completed` or `failed`.
    status: &'static str,
    /// Contacts the batch created that were removed.
    removed: i64,
    /// Contacts the batch changed that are as they were before it.
    restored: i64,
    /// Contacts left as they are because they changed since.
    kept: i64,
    /// Ended.
    #[schema(format = DateTime)]
    finished_at: Option<String>,
}

impl From<ImportSummary> for Batch {
    fn from(s: ImportSummary) -> Self {
        Batch {
            id: s.id,
            r#type: "createContacts",
            status: match s.status {
                ImportStatus::Queued => "queued",
                ImportStatus::Processing => "inProgress",
                ImportStatus::Completed => "completed",
                ImportStatus::Failed => "failed",
            },
            file_name: s.file_name,
            rows_read: s.counts.rows_read,
            created: s.counts.created,
            matched: s.counts.matched,
            duplicates: s.counts.duplicates,
            invalid: s.counts.invalid,
            error: s.error,
            created_at: format_timestamp(s.created_at),
            finished_at: s.finished_at.map(format_timestamp),
            undo: s.undo.map(|u| BatchUndo {
                status: match u.status.as_str() {
                    "queued" => "queued",
                    "running" => "inProgress",
                    "failed" => "failed",
                    _ => "completed",
                },
                removed: u.removed,
                restored: u.restored,
                kept: u.kept,
                finished_at: u.finished_at.map(format_timestamp),
            }),
        }
    }
}

/// A batch just queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Queued {
    /// The batch's id: poll `GET /batches/{id}`.
    id: i64,
    /// `queued`.
    status: &'static str,
}

/// The upload form, as it documents itself (the file is read as a stream).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct UploadForm {
    /// Settings, as JSON (`UploadOptions`); may be left out. Send it before the file.
    options: Option<String>,
    /// The file: CSV text (.csv, .tsv or .txt) or a spreadsheet (.xlsx, .xlsm, .xlsb,
    /// .xls or .ods).
    #[schema(format = Binary, content_media_type = "application/octet-stream")]
    file: String,
}

/// Upload a CSV file or a spreadsheet of contacts; it is imported in the background.
///
/// The same importer as the Upload contacts tab: numbers normalised to E.164, a number
/// that exists is matched (updated if `updateExisting`), a number repeated in the file
/// counts once, refused rows are listed in `rejects`; `created + matched + duplicates +
/// invalid = rowsRead`.
#[utoipa::path(
    operation_id = "createContacts",
    post,
    path = "/contacts/batches/createContacts",
    tag = "Batches",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retry of this request safe")),
    responses(
        (status = 202, description = "Queued", body = Queued, headers(("Location" = String))),
        (status = 400, body = ApiError), (status = 401, body = ApiError),
        (status = 403, body = ApiError), (status = 404, description = "No such group", body = ApiError),
        (status = 413, body = ApiError),
        (status = 415, description = "Not multipart/form-data", body = ApiError),
        (status = 422, description = "A setting or the file cannot be used", body = ApiError),
        (status = 429, body = ApiError), (status = 503, description = "The server's disk is nearly full", body = ApiError),
    ),
)]
pub async fn create(
    State(state): State<AppState>,
    caller: ApiCaller,
    request: Request,
) -> Result<Response, ApiError> {
    let caller = caller.require(Access::Edit)?;
    if !request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.to_ascii_lowercase().starts_with("multipart/form-data"))
    {
        return Err(ApiError::new(
            415,
            "unsupported_media_type",
            "Send the file as multipart/form-data: a part \"file\", and optionally a part \"options\" before it.",
        ));
    }
    let received = receive(&state, request, |text| {
        read_options(text).map(|_| ()).map_err(to_app)
    })
    .await?;
    let queued = queue(&state, &caller, received.options.as_deref(), &received.file).await;
    if queued.is_err() {
        state.config.uploads.remove(&received.file.key).await;
    }
    let id = queued?;
    let mut response = (
        StatusCode::ACCEPTED,
        Json(Queued {
            id,
            status: "queued",
        }),
    )
        .into_response();
    if let Ok(location) = HeaderValue::from_str(&format!("/api/v1/batches/{id}")) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// The receiver speaks the app's error type; a settings error keeps its API shape there.
fn to_app(error: ApiError) -> AppError {
    match error.status() {
        400 => AppError::BadRequest(error.message),
        _ => AppError::Invalid(vec![crate::error::FieldError {
            field: error.field.unwrap_or_else(|| "options".into()),
            message: error.message,
        }]),
    }
}

async fn queue(
    state: &AppState,
    caller: &Caller,
    options: Option<&str>,
    saved: &Saved,
) -> Result<i64, ApiError> {
    let options: UploadOptions = options.map(read_options).transpose()?.unwrap_or_default();
    let start = if is_spreadsheet_name(&saved.name) || is_workbook(&saved.head) {
        FileStart::Sheet(inspect_workbook(state, saved, options.sheet.as_deref()).await?)
    } else {
        FileStart::Text {
            head: &saved.head,
            size: saved.size,
        }
    };
    let (mut import, group_id) = import_options(options, start, &caller.default_country)?;
    if let Some(group_id) = group_id {
        let group = db::groups::get(
            state.db.acquire().await.map_err(AppError::from)?.conn(),
            caller.workspace_id,
            group_id,
        )
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => not_found().with_field("groupId"),
            other => other.into(),
        })?;
        import.group = Some(group.name);
    }
    Ok(crate::server::upload::queue(state, caller, import, saved).await?)
}

/// A page of batches.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BatchList {
    /// The batches, newest first.
    items: Vec<Batch>,
    /// Where the next page starts; null on the last page.
    next_cursor: Option<String>,
}

/// Where a list of batches continues.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct BatchQuery {
    /// Batches per page, 1–100 (default 50).
    limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    cursor: Option<String>,
}

/// List the workspace's batches, newest first.
#[utoipa::path(
    operation_id = "listBatches",
    get,
    path = "/batches",
    tag = "Batches",
    params(BatchQuery),
    responses((status = 200, body = BatchList), (status = 400, body = ApiError), (status = 401, body = ApiError), (status = 429, body = ApiError)),
)]
pub async fn list(
    State(state): State<AppState>,
    caller: ApiCaller,
    ApiQuery(query): ApiQuery<BatchQuery>,
) -> Result<Json<BatchList>, ApiError> {
    let caller = caller.require(Access::Read)?;
    let limit = query.limit.unwrap_or(50);
    if !(1..=100).contains(&limit) {
        return Err(ApiError::new(400, "bad_request", "limit is 1 to 100.").with_field("limit"));
    }
    let secret = state.cursor_key().await?;
    let before = match &query.cursor {
        Some(text) => Some(cursor::decode(secret, "batches", text)?.id),
        None => None,
    };
    let mut items =
        db::imports::list(&state.db, caller.workspace_id, before, i64::from(limit) + 1).await?;
    let more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next_cursor = more.then(|| items.last()).flatten().map(|last| {
        cursor::encode(
            secret,
            "batches",
            &Cursor {
                key: String::new(),
                id: last.id,
            },
        )
    });
    Ok(Json(BatchList {
        items: items.into_iter().map(Into::into).collect(),
        next_cursor,
    }))
}

async fn summary(state: &AppState, workspace_id: i64, id: i64) -> Result<ImportSummary, ApiError> {
    db::imports::get(&state.db, workspace_id, id)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => not_found(),
            other => other.into(),
        })
}

/// Read a batch: where it is, and its counts.
#[utoipa::path(
    operation_id = "getBatch",
    get,
    path = "/batches/{id}",
    tag = "Batches",
    params(("id" = i64, Path, description = "The batch's id")),
    responses((status = 200, body = Batch), (status = 401, body = ApiError), (status = 404, body = ApiError), (status = 429, body = ApiError)),
)]
pub async fn get(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Json<Batch>, ApiError> {
    let caller = caller.require(Access::Read)?;
    Ok(Json(summary(&state, caller.workspace_id, id).await?.into()))
}

/// Undo a batch: remove the contacts it created, restore the fields it overwrote and
/// remove the memberships it added, except what changed since (counted as `kept`).
///
/// Runs in the background like an upload (poll `GET /batches/{id}` for `undo`); a stop
/// resumes it. Only batches that ended within `CONTACTS_UNDO_DAYS` (default 7), once.
#[utoipa::path(
    operation_id = "undoBatch",
    post,
    path = "/batches/{id}/undo",
    tag = "Batches",
    params(("id" = i64, Path, description = "The batch's id")),
    responses(
        (status = 202, body = Batch),
        (status = 401, body = ApiError), (status = 403, body = ApiError),
        (status = 404, body = ApiError),
        (status = 409, description = "Still importing, undone already, or older than the undo window", body = ApiError),
        (status = 429, body = ApiError),
    ),
)]
pub async fn undo(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<(StatusCode, Json<Batch>), ApiError> {
    let caller = caller.require(Access::Remove)?;
    crate::server::importer::request_undo(&state, &caller, id)
        .await
        .map_err(|e| match e {
            AppError::NotFound(_) => not_found(),
            other => other.into(),
        })?;
    Ok((
        StatusCode::ACCEPTED,
        Json(summary(&state, caller.workspace_id, id).await?.into()),
    ))
}

/// Download a batch's rejected rows: CSV with `line`, `reason` and the `row` as in the file.
#[utoipa::path(
    operation_id = "getBatchRejects",
    get,
    path = "/batches/{id}/rejects",
    tag = "Batches",
    params(("id" = i64, Path, description = "The batch's id")),
    responses(
        (status = 200, description = "The rejected rows", content_type = "text/csv", body = String),
        (status = 401, body = ApiError), (status = 404, body = ApiError), (status = 429, body = ApiError),
    ),
)]
pub async fn rejects(
    State(state): State<AppState>,
    caller: ApiCaller,
    Id(id): Id,
) -> Result<Response, ApiError> {
    let caller = caller.require(Access::Read)?;
    summary(&state, caller.workspace_id, id).await?;
    Ok(crate::server::upload::rejects_download(&state, caller.workspace_id, id).await?)
}
