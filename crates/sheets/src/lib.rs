//! The rows of a spreadsheet (.xlsx, .xlsm, .xlsb, .xls, .ods), read with calamine one
//! row at a time as a CSV reader gives records: each row's cells as text, on its sheet
//! row's number.
//!
//! One reader for both sides of an upload: the server's import (and its check of an
//! upload) and the browser's preview, which runs this crate compiled to WASM
//! (`crates/sheet-reader`), so the preview shows what the import will read. Without the
//! `read` feature only the types are built, for the page that shows a sample.
//!
//! Cells become text as a person reads them: a number keeps every digit, without an
//! exponent or a trailing `.0` (`6581234567`, not `6.58E+09`); a date is an ISO date;
//! `true` / `false`; a formula its last computed value; an error (`#N/A`) is empty and
//! its column is named in [`SheetRow::errors`].

#[cfg(feature = "read")]
pub mod limits;
#[cfg(feature = "read")]
mod read;

#[cfg(feature = "read")]
pub use read::{Workbook, number_text, sample};

/// The largest spreadsheet file read (it is held in memory while read).
pub const MAX_WORKBOOK_BYTES: u64 = 100 << 20;

/// What is wrong with a workbook, in words for the person uploading it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct SheetProblem(pub String);

/// Whether a file's first bytes are a zip (.xlsx, .xlsb, .ods) or an Office compound
/// file (.xls, or a password-protected Office document).
pub fn is_workbook(head: &[u8]) -> bool {
    head.starts_with(b"PK\x03\x04") || head.starts_with(&COMPOUND_MAGIC)
}

const COMPOUND_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// The most a row may hold; the caller's bounds for a record, so a sheet row is held to
/// the same as a CSV record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Bounds {
    /// Cells, counted to the row's last one with a value.
    pub max_cells: usize,
    /// Bytes of text in all its cells.
    pub max_bytes: usize,
}

/// Why a row cannot be used: it holds more than the [`Bounds`]. Its cells are not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Oversize {
    /// More than [`Bounds::max_bytes`].
    TooLong,
    /// More than [`Bounds::max_cells`].
    TooManyCells,
}

/// One row of a sheet.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SheetRow {
    /// The sheet's row number (1-based).
    pub line: u64,
    /// Its cells as text, up to its last cell with a value (empty cells in between), or
    /// why it cannot be used.
    pub cells: Result<Vec<String>, Oversize>,
    /// The columns whose cell holds an error (`#N/A`, `#REF!`, …); their text is empty.
    pub errors: Vec<usize>,
    /// How far through the sheet it is, from 0 to 1 (as far as the file says).
    pub progress: f64,
}

/// What a preview shows of a workbook (and the server checks of an upload): its
/// worksheets, the one read, and that sheet's first rows.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Sample {
    /// The workbook's worksheets, in order.
    pub sheets: Vec<String>,
    /// The sheet read: the one asked for, else the first with a value.
    pub sheet: String,
    /// Its first rows.
    pub rows: Vec<SheetRow>,
}

#[cfg(all(test, feature = "read"))]
mod tests;
