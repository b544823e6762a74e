//! The preview of an upload, as plain data: the file's first bytes read with the
//! settings the user chose, into the columns and sample rows the preview table shows.
//! (Pure, so it is tested here; the Upload tab only wires it to the page.)

use crate::import::encoding::{Encoding, decode};
use crate::import::sniff::{Delimiter, FileProblem, PREVIEW_ROWS, SampleRow, first_records};
use std::sync::Arc;

/// The beginning of the chosen file, as read for the preview.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Preview {
    /// The file's name.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its first bytes.
    pub head: Arc<Vec<u8>>,
    /// Whether `head` is the whole file.
    pub whole: bool,
}

/// The preview's rows as the current settings read them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// A name per column: the header's, or "Column N".
    pub headers: Vec<String>,
    /// The header's number of fields, which every row must have (none without a header).
    pub header_width: Option<usize>,
    /// The first data rows.
    pub rows: Vec<SampleRow>,
}

/// Reads the preview's table with these settings.
pub fn read_table(
    preview: &Preview,
    encoding: Encoding,
    delimiter: Delimiter,
    has_header: bool,
) -> Result<Table, FileProblem> {
    let text = decode(&preview.head, encoding, preview.whole);
    let wanted = PREVIEW_ROWS + usize::from(has_header);
    let rows = first_records(&text, delimiter, preview.whole, wanted)?;
    table_of(rows, has_header)
}

/// The table of a file's first records (a CSV file's or a sheet's).
pub fn table_of(mut rows: Vec<SampleRow>, has_header: bool) -> Result<Table, FileProblem> {
    rows.truncate(PREVIEW_ROWS + usize::from(has_header));
    if rows.is_empty() {
        return Err(FileProblem::Empty);
    }
    let header = if has_header {
        Some(rows.remove(0).fields.unwrap_or_default())
    } else {
        None
    };
    let widest_row = rows
        .iter()
        .filter_map(|r| r.fields.as_ref().ok().map(Vec::len))
        .max()
        .unwrap_or(0);
    let width = widest_row.max(header.as_ref().map_or(0, Vec::len));
    let headers = (0..width)
        .map(|i| {
            header
                .as_ref()
                .and_then(|h| h.get(i))
                .map(|h| h.trim())
                .filter(|h| !h.is_empty())
                .map_or_else(|| format!("Column {}", i + 1), str::to_string)
        })
        .collect();
    Ok(Table {
        headers,
        header_width: header.map(|h| h.len()),
        rows,
    })
}

#[cfg(all(test, not(feature = "hydrate")))]
mod tests {
    use super::*;

    fn preview(bytes: &[u8], whole: bool) -> Preview {
        Preview {
            name: "a.csv".into(),
            size: bytes.len() as u64,
            head: Arc::new(bytes.to_vec()),
            whole,
        }
    }

    #[test]
    fn the_header_names_the_columns_and_sets_the_width() {
        let p = preview(b"Mobile,,Name\n81234567,x,Ann,extra\n91234567,y\n", true);
        let table = read_table(&p, Encoding::Utf8, Delimiter::Comma, true).unwrap();
        assert_eq!(table.headers, ["Mobile", "Column 2", "Name", "Column 4"]);
        assert_eq!(table.header_width, Some(3));
        assert_eq!(table.rows.len(), 2);
        assert_eq!(table.rows[0].line, 2);
        let plain = read_table(&p, Encoding::Utf8, Delimiter::Comma, false).unwrap();
        assert_eq!(plain.headers.len(), 4);
        assert_eq!(plain.header_width, None);
        assert_eq!(plain.rows.len(), 3);
    }

    #[test]
    fn at_most_the_preview_rows_are_read() {
        let text: String = (0..100).map(|i| format!("{i},x\n")).collect();
        let table = read_table(
            &preview(text.as_bytes(), true),
            Encoding::Utf8,
            Delimiter::Comma,
            true,
        )
        .unwrap();
        assert_eq!(table.rows.len(), PREVIEW_ROWS);
    }

    #[test]
    fn a_file_with_nothing_in_it_says_so() {
        assert_eq!(
            read_table(
                &preview(b"\n\n", true),
                Encoding::Utf8,
                Delimiter::Comma,
                true
            ),
            Err(FileProblem::Empty)
        );
    }
}
