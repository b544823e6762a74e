//! Spreadsheet uploads (.xlsx, .xlsm, .xlsb, .xls, .ods), read by `contacts_sheets`: on
//! the server for the upload's check and the import (in a child process, see
//! `server::sheet_reader`), and in the browser for the preview (the same reader built
//! as a WASM module of its own, `crates/sheet-reader`). A sheet row is held to a CSV
//! record's bounds and then goes through the same column tags, row rule, batches and
//! counts as a CSV row.

use crate::import::records::{MAX_FIELDS, MAX_RECORD_BYTES, Malformed};
use crate::import::sniff::{PREVIEW_ROWS, SampleRow};
use contacts_sheets::{Bounds, Sample};

pub use contacts_sheets::{MAX_WORKBOOK_BYTES, SheetProblem, SheetRow, is_workbook};

#[cfg(feature = "ssr")]
pub use contacts_sheets::Workbook;

/// A sheet row may hold what a CSV record may.
pub const BOUNDS: Bounds = Bounds {
    max_cells: MAX_FIELDS,
    max_bytes: MAX_RECORD_BYTES,
};

/// The longest sheet name an upload may ask for (Excel allows 31 characters, OpenDocument
/// more).
pub const MAX_SHEET_NAME: usize = 255;

/// The rows a sample holds: as many as the preview shows, and one more for a header.
pub const SAMPLE_ROWS: usize = PREVIEW_ROWS + 1;

/// What the preview shows of a workbook (and the server checks of an upload): its
/// worksheets, the one read, and that sheet's first rows as the preview's rows.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SheetSample {
    /// The workbook's worksheets, in order.
    pub sheets: Vec<String>,
    /// The sheet read: the one asked for, else the first with a value.
    pub sheet: String,
    /// Its first rows ([`SAMPLE_ROWS`]).
    pub rows: Vec<SampleRow>,
}

impl From<Sample> for SheetSample {
    fn from(sample: Sample) -> SheetSample {
        let rows = sample
            .rows
            .into_iter()
            .map(|row| SampleRow {
                line: row.line,
                fields: row.cells.map_err(|o| Malformed::from(o).reason()),
                sheet_errors: Some(row.errors),
            })
            .collect();
        SheetSample {
            sheets: sample.sheets,
            sheet: sample.sheet,
            rows,
        }
    }
}

/// Opens a workbook (within the reader's limits and [`BOUNDS`]).
#[cfg(feature = "ssr")]
pub fn open(bytes: Vec<u8>) -> Result<Workbook, SheetProblem> {
    Workbook::open(bytes, BOUNDS)
}

/// The first rows of `sheet` (or of the workbook's first sheet with a value).
#[cfg(feature = "ssr")]
pub fn sample(bytes: Vec<u8>, sheet: Option<String>) -> Result<SheetSample, SheetProblem> {
    contacts_sheets::sample(bytes, sheet, BOUNDS, SAMPLE_ROWS).map(SheetSample::from)
}

#[cfg(test)]
mod tests;
