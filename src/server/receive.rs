//! Receiving an uploaded file (multipart: a small `options` part, then `file`), for the
//! browser's upload and the API's: the file streams to the upload store, and nothing a client sends
//! can make the server hold more than a few MB of it or stall it forever.
//!
//! - The settings part is read into memory up to [`MAX_FORM_PART_BYTES`].
//! - The form's framing (what is neither settings nor file: boundaries, part headers, a
//!   preamble) may not pile up: the multipart reader keeps everything it has read until
//!   it finds a boundary or the end of a part's headers, so a body without either would
//!   otherwise be held whole. What it has read and nobody has consumed is bounded by
//!   [`MAX_UNCONSUMED`].
//! - The file goes to the upload store in parts (see [`crate::server::store`]); in a
//!   folder, disk space is reserved [`DISK_STEP`] at a time as it arrives (see
//!   [`crate::server::disk`]).
//! - A form that sends nothing for [`IDLE`] is dropped.

use crate::error::AppError;
use crate::import::sheet::MAX_WORKBOOK_BYTES;
use crate::import::sniff::PREVIEW_BYTES;
use crate::import::{accepted_file_name, format_size, is_spreadsheet_name, not_csv_message};
use crate::server::disk::{Reservation, free_disk_bytes};
use crate::server::state::AppState;
use crate::server::store::UploadStore;
use axum::body::Body;
use axum::extract::multipart::Field;
use axum::extract::{FromRequest, Multipart, Request};
use http::StatusCode;
use object_store::buffered::BufWriter;
use object_store::path::Path as Key;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;
use tokio::io::AsyncWriteExt;

/// The most a part of the upload form other than the file may hold (the settings: the
/// largest the preview sends, 100 custom columns with 200-character keys, is ~25 KiB).
pub const MAX_FORM_PART_BYTES: usize = 512 << 10;

/// The most the multipart reader may hold that nobody has taken from it yet: the file's
/// next bytes it read ahead, and the framing it is still looking through. (It looks
/// through all it holds each time it reads more, so this also bounds the work.)
pub const MAX_UNCONSUMED: u64 = 1 << 20;

/// The most the multipart reader takes from the network at once before the parts'
/// readers get their turn: it reads whatever has arrived, and a fast sender would
/// otherwise have it read far ahead of them.
const READ_AHEAD: u64 = 256 << 10;

/// Disk space reserved at a time while a file arrives.
pub const DISK_STEP: u64 = 8 << 20;

/// How long a form may send nothing before it is dropped.
pub const IDLE: Duration = Duration::from_secs(60);

/// Room for the form's other parts and its framing beyond the file itself.
pub const FORM_OVERHEAD: u64 = 1024 * 1024;

/// A file received in full.
#[derive(Debug)]
pub struct Saved {
    /// Its name as uploaded.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its name in the upload store (an `incoming-*.part`).
    pub key: Key,
    /// Its first [`PREVIEW_BYTES`] (what the server checks before queueing it).
    pub head: Vec<u8>,
}

/// What an upload form brought.
#[derive(Debug)]
pub struct Received {
    /// The settings part's text, if the form had one.
    pub options: Option<String>,
    /// The file.
    pub file: Saved,
}

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

fn stalled() -> AppError {
    AppError::BadRequest(format!(
        "The upload stalled: nothing arrived for {} seconds. Try again.",
        IDLE.as_secs()
    ))
}

fn malformed_form() -> AppError {
    AppError::TooLarge(
        "The upload is not a well-formed file form: its parts' boundaries or headers were \
         not found where they belong."
            .into(),
    )
}

fn no_room() -> AppError {
    AppError::Unavailable(
        "The server is running out of disk space, so it cannot take uploads right now. \
         Try again later, or ask your administrator to free some space."
            .into(),
    )
}

/// Counts what the multipart reader pulls from the body against what its parts' readers
/// took, and fails the body once the difference passes [`MAX_UNCONSUMED`].
#[derive(Debug, Default)]
pub(crate) struct Framing {
    pulled: AtomicU64,
    consumed: AtomicU64,
    tripped: AtomicBool,
}

impl Framing {
    fn consumed(&self, bytes: usize) {
        self.consumed.fetch_add(bytes as u64, Ordering::Relaxed);
    }

    fn error(&self, fallback: AppError) -> AppError {
        if self.tripped.load(Ordering::Relaxed) {
            malformed_form()
        } else {
            fallback
        }
    }
}

/// The body as the multipart reader gets it: counted (see [`Framing`]), and paused after
/// every [`READ_AHEAD`] bytes so the parts' readers take what was read before more is.
struct Counted<S> {
    inner: S,
    framing: Arc<Framing>,
    since_pause: u64,
}

impl<S> futures::Stream for Counted<S>
where
    S: futures::Stream<Item = Result<axum::body::Bytes, axum::Error>> + Unpin,
{
    type Item = Result<axum::body::Bytes, axum::Error>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        use std::task::Poll;
        if self.since_pause >= READ_AHEAD {
            self.since_pause = 0;
            cx.waker().wake_by_ref();
            return Poll::Pending;
        }
        let chunk = match std::pin::Pin::new(&mut self.inner).poll_next(cx) {
            Poll::Ready(Some(Ok(chunk))) => chunk,
            other => return other,
        };
        let len = chunk.len() as u64;
        self.since_pause += len;
        // What the reader held before this chunk (a chunk itself is as large as the
        // network layer makes it, a few hundred KB at most).
        let framing = &self.framing;
        let pulled = framing.pulled.fetch_add(len, Ordering::Relaxed);
        if pulled.saturating_sub(framing.consumed.load(Ordering::Relaxed)) > MAX_UNCONSUMED {
            framing.tripped.store(true, Ordering::Relaxed);
            return Poll::Ready(Some(Err(axum::Error::new("unconsumed multipart data"))));
        }
        Poll::Ready(Some(Ok(chunk)))
    }
}

/// Receives an upload form: `check_options` sees the settings part before the file is
/// read (so bad settings cost no disk), and the file is saved to the upload store.
/// The settings part, if any, must come before the file.
pub async fn receive(
    state: &AppState,
    request: Request,
    check_options: impl Fn(&str) -> Result<(), AppError>,
) -> Result<Received, AppError> {
    let (parts, body) = request.into_parts();
    let framing = Arc::new(Framing::default());
    let counted = Counted {
        inner: body.into_data_stream(),
        framing: framing.clone(),
        since_pause: 0,
    };
    let request = Request::from_parts(parts, Body::from_stream(counted));
    let mut multipart = Multipart::from_request(request, state)
        .await
        .map_err(|_| AppError::BadRequest("The upload was not a file form.".into()))?;
    let limit = state.config.max_upload_bytes;
    let mut options: Option<String> = None;
    let mut file: Option<Saved> = None;
    loop {
        let field = match tokio::time::timeout(IDLE, multipart.next_field()).await {
            Err(_) => return Err(stalled()),
            Ok(Ok(Some(field))) => field,
            Ok(Ok(None)) => break,
            Ok(Err(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(too_large(limit));
            }
            Ok(Err(_)) => return Err(framing.error(interrupted())),
        };
        match field.name() {
            Some("options") if options.is_none() && file.is_none() => {
                let text = read_form_part(field, &framing).await?;
                check_options(&text)?;
                options = Some(text);
            }
            Some("file") if file.is_none() => {
                let name = field.file_name().unwrap_or_default().trim().to_string();
                if !accepted_file_name(&name) {
                    return Err(AppError::invalid("file", not_csv_message(&name)));
                }
                // A spreadsheet is held in memory to be read: it is refused past that
                // limit as it arrives.
                let limit = match is_spreadsheet_name(&name) {
                    true => limit.min(MAX_WORKBOOK_BYTES),
                    false => limit,
                };
                file = Some(save(state, field, name, limit, &framing).await?);
            }
            other => {
                let name = other
                    .unwrap_or_default()
                    .chars()
                    .take(40)
                    .collect::<String>();
                if let Some(saved) = file.take() {
                    state.config.uploads.remove(&saved.key).await;
                }
                return Err(AppError::BadRequest(format!(
                    "The upload has an unexpected part \"{name}\": send one \"options\", then \
                     one \"file\"."
                )));
            }
        }
    }
    let file = file.ok_or_else(|| AppError::invalid("file", "Choose a file to upload."))?;
    Ok(Received { options, file })
}

/// Reads a small part of the form (the settings), refusing it with 413 as soon as it
/// grows past [`MAX_FORM_PART_BYTES`], before reading on.
async fn read_form_part(mut field: Field<'_>, framing: &Framing) -> Result<String, AppError> {
    let mut bytes = Vec::new();
    loop {
        match tokio::time::timeout(IDLE, field.chunk()).await {
            Err(_) => return Err(stalled()),
            Ok(Ok(Some(chunk))) => {
                framing.consumed(chunk.len());
                if bytes.len() + chunk.len() > MAX_FORM_PART_BYTES {
                    return Err(AppError::TooLarge(format!(
                        "The upload settings are larger than {}, the most they may be.",
                        format_size(MAX_FORM_PART_BYTES as u64)
                    )));
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(Ok(None)) => break,
            Ok(Err(_)) => return Err(framing.error(interrupted())),
        }
    }
    String::from_utf8(bytes)
        .map_err(|_| AppError::BadRequest("The upload settings were malformed.".into()))
}

/// Reserves [`DISK_STEP`] more of the disk of `folder`, keeping the margin
/// (`CONTACTS_MIN_FREE_DISK_MB`) free even when every upload in flight has written what
/// it reserved, so uploads never fill the disk the database is on.
async fn reserve_step(
    state: &AppState,
    folder: &Path,
    reservation: &mut Option<Reservation>,
) -> Result<(), AppError> {
    let folder = folder.to_path_buf();
    let free = tokio::task::spawn_blocking(move || free_disk_bytes(&folder))
        .await
        .map_err(|e| AppError::internal("checking free disk space", e))?
        .map_err(|e| AppError::internal("checking free disk space", e))?;
    let margin = state.config.min_free_disk_bytes;
    let reserved = match reservation {
        Some(reservation) => reservation.grow(free, margin, DISK_STEP),
        None => {
            *reservation = state.disk.reserve(free, margin, DISK_STEP);
            reservation.is_some()
        }
    };
    if !reserved {
        tracing::warn!(
            free,
            margin,
            in_flight = state.disk.outstanding(),
            "upload refused: disk nearly full"
        );
        return Err(no_room());
    }
    Ok(())
}

/// Streams the file field to the upload store as an `incoming-*.part`, refusing it past
/// `limit`; what was sent of a refused or cut-off file is dropped.
async fn save(
    state: &AppState,
    mut field: Field<'_>,
    name: String,
    limit: u64,
    framing: &Framing,
) -> Result<Saved, AppError> {
    let key = UploadStore::incoming();
    let mut out = state.config.uploads.writer(&key);
    match write(state, &mut field, limit, framing, &mut out).await {
        Ok((size, head)) => Ok(Saved {
            name,
            size,
            key,
            head,
        }),
        Err(error) => {
            if let Err(e) = out.abort().await {
                tracing::warn!(file = %key, error = %e, "cannot drop the parts of an upload");
            }
            Err(error)
        }
    }
}

/// Writes the file field to `out`; returns its size and first bytes.
async fn write(
    state: &AppState,
    field: &mut Field<'_>,
    limit: u64,
    framing: &Framing,
    out: &mut BufWriter,
) -> Result<(u64, Vec<u8>), AppError> {
    let server_error = |e: std::io::Error| AppError::internal("saving an upload", e);
    let folder = state.config.uploads.folder();
    let mut reservation = None;
    if let Some(folder) = folder {
        tokio::fs::create_dir_all(folder)
            .await
            .map_err(server_error)?;
        reserve_step(state, folder, &mut reservation).await?;
    }
    let mut size = 0u64;
    let mut head = Vec::new();
    loop {
        match tokio::time::timeout(IDLE, field.chunk()).await {
            Err(_) => return Err(stalled()),
            Ok(Ok(Some(chunk))) => {
                framing.consumed(chunk.len());
                size += chunk.len() as u64;
                if size > limit {
                    return Err(too_large(limit));
                }
                if let Some(folder) = folder {
                    while reservation.as_ref().map_or(0, Reservation::left) < chunk.len() as u64 {
                        reserve_step(state, folder, &mut reservation).await?;
                    }
                }
                let room = PREVIEW_BYTES.saturating_sub(head.len()).min(chunk.len());
                head.extend_from_slice(&chunk[..room]);
                let len = chunk.len() as u64;
                out.put(chunk)
                    .await
                    .map_err(|e| AppError::internal("saving an upload", e))?;
                if let Some(reservation) = reservation.as_mut() {
                    reservation.written(len);
                }
            }
            Ok(Ok(None)) => {
                out.shutdown().await.map_err(server_error)?;
                return Ok((size, head));
            }
            Ok(Err(e)) if e.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(too_large(limit));
            }
            Ok(Err(_)) => return Err(framing.error(interrupted())),
        }
    }
}
