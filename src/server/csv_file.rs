//! Every CSV file the app writes (exports, reports of rejected rows): streamed in chunks,
//! UTF-8 with a byte-order mark so spreadsheets read it as such, and every cell safe to
//! open in a spreadsheet.

use axum::body::{Body, Bytes};
use axum::response::{IntoResponse, Response};
use http::{StatusCode, header};

/// A CSV file the browser saves as `filename` (never cached).
pub fn csv_download(filename: &str, body: Body) -> Response {
    attachment(filename, "text/csv; charset=utf-8", body)
}

/// A file of `content_type` the browser saves as `filename` (never cached).
pub fn attachment(filename: &str, content_type: &str, body: Body) -> Response {
    Response::builder()
        .header(header::CONTENT_TYPE, content_type)
        .header(
            header::CONTENT_DISPOSITION,
            format!("attachment; filename=\"{filename}\""),
        )
        .header(header::CACHE_CONTROL, "no-store")
        .body(body)
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// Prefixes a cell that a spreadsheet would run as a formula with `'` (OWASP's advice
/// against CSV injection); the apostrophe is hidden by spreadsheets.
pub fn neutralize_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}").into(),
        _ => cell.into(),
    }
}

/// Some rows of a CSV file; the first chunk of a file starts with the byte-order mark.
pub struct CsvChunk {
    writer: csv::Writer<Vec<u8>>,
}

impl CsvChunk {
    /// An empty chunk for about `rows` rows; `first` for the start of the file.
    pub fn new(first: bool, rows: usize) -> Self {
        let mut out = Vec::with_capacity(rows * 128 + 64);
        if first {
            out.extend_from_slice("\u{feff}".as_bytes());
        }
        CsvChunk {
            writer: csv::Writer::from_writer(out),
        }
    }

    /// Appends a row, each cell through [`neutralize_formula`]: no cell of any file the
    /// app writes is run as a formula, whoever chose its text.
    pub fn row<S: AsRef<str>>(
        &mut self,
        cells: impl IntoIterator<Item = S>,
    ) -> std::io::Result<()> {
        self.writer
            .write_record(
                cells
                    .into_iter()
                    .map(|c| neutralize_formula(c.as_ref()).into_owned()),
            )
            .map_err(std::io::Error::other)
    }

    /// The chunk's bytes.
    pub fn finish(self) -> std::io::Result<Bytes> {
        self.writer
            .into_inner()
            .map(Bytes::from)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised_and_plain_text_kept() {
        assert_eq!(
            neutralize_formula("=HYPERLINK(\"x\")"),
            "'=HYPERLINK(\"x\")"
        );
        assert_eq!(neutralize_formula("+6581234567"), "'+6581234567");
        assert_eq!(neutralize_formula("-1"), "'-1");
        assert_eq!(neutralize_formula("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(neutralize_formula("Ann"), "Ann");
        assert_eq!(neutralize_formula(""), "");
    }

    #[test]
    fn every_cell_of_a_chunk_is_safe_and_the_file_starts_with_a_bom() {
        let mut first = CsvChunk::new(true, 1);
        first.row(["line", "reason"]).unwrap();
        first
            .row(["2", "=cmd|' /C calc'!A0 is used twice."])
            .unwrap();
        let text = String::from_utf8(first.finish().unwrap().to_vec()).unwrap();
        assert_eq!(
            text,
            "\u{feff}line,reason\n2,'=cmd|' /C calc'!A0 is used twice.\n"
        );
        let mut next = CsvChunk::new(false, 1);
        next.row(["3"]).unwrap();
        assert_eq!(&next.finish().unwrap()[..], b"3\n");
    }
}
