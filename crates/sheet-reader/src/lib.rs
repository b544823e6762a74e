//! The spreadsheet reader (`contacts-sheets`, the one the server imports with) for the
//! browser, as a WASM module of its own: the Upload tab loads it in a Web Worker
//! (`worker.js`) only when a spreadsheet is chosen, so the first visit does not download
//! it, and a file that makes it fail stops only the worker.

use contacts_sheets::Bounds;
use wasm_bindgen::prelude::wasm_bindgen;

/// The first `count` rows of a workbook's `sheet` (its first with a value if none is
/// named), as the JSON of a `contacts_sheets::Sample`; or why it cannot be read.
#[wasm_bindgen]
pub fn sample(
    bytes: Vec<u8>,
    sheet: Option<String>,
    max_cells: usize,
    max_bytes: usize,
    count: usize,
) -> Result<String, String> {
    let bounds = Bounds {
        max_cells,
        max_bytes,
    };
    let sample =
        contacts_sheets::sample(bytes, sheet, bounds, count).map_err(|problem| problem.0)?;
    serde_json::to_string(&sample).map_err(|e| e.to_string())
}
