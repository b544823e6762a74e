//! Every .xlsx file the app writes (the contacts export): rows are written as they are
//! read from the database, a row at a time into temporary files (rust_xlsxwriter's
//! constant-memory sheets), then zipped straight into the response, so memory stays flat
//! at any size. Every cell is a text cell: a number keeps its digits and its `+`, and no
//! cell is ever a formula, whoever chose its text.

use crate::error::AppError;
use crate::server::csv_file::attachment;
use axum::body::{Body, Bytes};
use axum::response::Response;
use futures::{Stream, StreamExt};
use rust_xlsxwriter::{Format, IgnoreError, Workbook, Worksheet, XlsxError};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

/// Workbooks written at once by this server: each holds a blocking thread and its sheet's
/// rows in temporary files (about 0.5 GB per million contacts) until it is sent.
const WRITERS: usize = 2;

/// The rows a sheet holds (Excel's most), its header included: past them the file goes
/// on in another sheet with the header again.
const SHEET_ROWS: u32 = 1_048_576;

/// The longest text a cell holds (Excel's most); longer text is cut there.
const CELL_CHARS: usize = 32_767;

/// A download whose reader takes nothing for this long is ended.
const STALLED: std::time::Duration = std::time::Duration::from_secs(60);

/// Bytes handed to the response at a time.
const CHUNK: usize = 64 << 10;

const CONTENT_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A place to write a workbook: one of [`WRITERS`], and the folder for its temporary
/// files (the data folder, not a `/tmp` that may be memory).
pub struct XlsxWriter {
    _slot: OwnedSemaphorePermit,
    tempdir: PathBuf,
}

impl XlsxWriter {
    /// A free writer, or 503 while [`WRITERS`] workbooks are being written.
    pub fn take(tempdir: PathBuf) -> Result<XlsxWriter, AppError> {
        static SLOTS: OnceLock<Arc<Semaphore>> = OnceLock::new();
        let slots = SLOTS.get_or_init(|| Arc::new(Semaphore::new(WRITERS)));
        let slot = slots.clone().try_acquire_owned().map_err(|_| {
            AppError::Unavailable(
                "Other Excel exports are being written on this server; try again in a minute, \
                 or export CSV."
                    .into(),
            )
        })?;
        Ok(XlsxWriter {
            _slot: slot,
            tempdir,
        })
    }
}

/// An .xlsx file the browser saves as `filename`: a sheet `sheet` with the header row,
/// then the rows of each batch in order. A batch that fails ends the download early (the
/// file is then incomplete and cannot be opened, never silently short), and so does the
/// browser leaving: the rest of the selection is not read.
pub fn xlsx_download<S>(
    writer: XlsxWriter,
    filename: &str,
    sheet: &'static str,
    header: Vec<&'static str>,
    batches: S,
) -> Response
where
    S: Stream<Item = Result<Vec<Vec<String>>, AppError>> + Send + 'static,
{
    let (rows_in, rows) = mpsc::channel(2);
    let (bytes_out, bytes) = mpsc::channel::<io::Result<Bytes>>(8);
    tokio::spawn(async move {
        let mut batches = std::pin::pin!(batches);
        while let Some(batch) = batches.next().await {
            let failed = batch.is_err();
            if rows_in.send(batch).await.is_err() || failed {
                break;
            }
        }
    });
    let out = bytes_out.clone();
    tokio::task::spawn_blocking(move || {
        let chunks = Chunks {
            out,
            buf: Vec::new(),
        };
        match write(sheet, &header, rows, chunks, &writer.tempdir) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
                tracing::debug!("an .xlsx export stopped: the client went away");
            }
            Err(e) => {
                tracing::warn!(error = %e, "an .xlsx export stopped");
                let _ = bytes_out.blocking_send(Err(io::Error::other("the export stopped")));
            }
        }
        drop(writer);
    });
    let mut bytes = bytes;
    let body = Body::from_stream(futures::stream::poll_fn(move |cx| bytes.poll_recv(cx)));
    attachment(filename, CONTENT_TYPE, body)
}

fn write(
    name: &str,
    header: &[&str],
    mut rows: mpsc::Receiver<Result<Vec<Vec<String>>, AppError>>,
    mut out: Chunks,
    tempdir: &std::path::Path,
) -> Result<(), io::Error> {
    let failed = |e: XlsxError| io::Error::other(e.to_string());
    let mut book = Workbook::new();
    std::fs::create_dir_all(tempdir)?;
    book.set_tempdir(tempdir).map_err(failed)?;
    let mut sheets = 1;
    let mut sheet = new_sheet(&mut book, name, sheets, header).map_err(failed)?;
    let mut row = 1u32;
    while let Some(batch) = rows.blocking_recv() {
        // Nothing is sent before the rows are all written: a browser that left is seen
        // here, and the rest of the selection is not read for it.
        if out.out.is_closed() {
            return Err(Chunks::gone());
        }
        let batch = batch.map_err(|e| io::Error::other(e.to_string()))?;
        for cells in batch {
            if row == SHEET_ROWS {
                finish_sheet(sheet, row, header.len()).map_err(failed)?;
                sheets += 1;
                sheet = new_sheet(&mut book, name, sheets, header).map_err(failed)?;
                row = 1;
            }
            for (col, text) in cells.iter().enumerate() {
                if !text.is_empty() {
                    sheet
                        .write_string(row, col as u16, cut(text))
                        .map_err(failed)?;
                }
            }
            row += 1;
        }
    }
    finish_sheet(sheet, row, header.len()).map_err(failed)?;
    book.save_to_writer(&mut out).map_err(failed)?;
    out.flush()
}

/// A sheet (`Contacts`, then `Contacts 2`, …) with the header row.
fn new_sheet<'a>(
    book: &'a mut Workbook,
    name: &str,
    number: u32,
    header: &[&str],
) -> Result<&'a mut Worksheet, XlsxError> {
    let sheet = book.add_worksheet_with_constant_memory();
    match number {
        1 => sheet.set_name(name)?,
        n => sheet.set_name(format!("{name} {n}"))?,
    };
    let text = Format::new().set_num_format("@");
    for (col, title) in header.iter().enumerate() {
        // Typed into later, a cell stays text too (`@`).
        sheet.set_column_format(col as u16, &text)?;
        sheet.write_string(0, col as u16, *title)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(sheet)
}

/// Numbers are text on purpose: no warning triangles for them.
fn finish_sheet(sheet: &mut Worksheet, rows: u32, columns: usize) -> Result<(), XlsxError> {
    let last_col = columns.saturating_sub(1) as u16;
    sheet.ignore_error_range(
        0,
        0,
        rows.saturating_sub(1),
        last_col,
        IgnoreError::NumberStoredAsText,
    )?;
    Ok(())
}

fn cut(text: &str) -> &str {
    match text.char_indices().nth(CELL_CHARS) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

/// The zip's bytes to the response, [`CHUNK`] at a time.
struct Chunks {
    out: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl Chunks {
    fn gone() -> io::Error {
        io::Error::new(io::ErrorKind::BrokenPipe, "the client went away")
    }
}

impl io::Write for Chunks {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(bytes);
        if self.buf.len() >= CHUNK {
            self.flush()?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        // A browser that stops reading does not hold a writer (and its files) for good.
        let send = tokio::time::timeout(STALLED, self.out.send(Ok(chunk)));
        match tokio::runtime::Handle::current().block_on(send) {
            Ok(Ok(())) => Ok(()),
            _ => Err(Chunks::gone()),
        }
    }
}
