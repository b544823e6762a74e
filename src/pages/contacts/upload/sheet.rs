//! The preview of a spreadsheet: the workbook is read in the browser by the server's own
//! reader (`import::sheet`, within the same limits), compiled into a WASM file of its
//! own that is fetched only when a spreadsheet is chosen, so the first visit does not
//! download it.

use crate::import::sheet::SheetSample;
use leptos::prelude::*;

/// The first rows of a workbook's sheet (its first with a value unless one is named), or
/// why it cannot be read.
#[lazy]
pub fn read_sheet(bytes: Vec<u8>, sheet: Option<String>) -> Result<SheetSample, String> {
    crate::import::sheet::sample(bytes, sheet).map_err(|problem| problem.to_string())
}
