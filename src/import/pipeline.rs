//! The server's row pipeline: a file streamed through its decoder and the one CSV reader
//! ([`RecordReader`]), each row judged by the row rule ([`contact_of`]).
//!
//! Pure CPU work with no database: the importer runs it on a blocking thread and hands
//! batches to the writer. Memory is bounded by the reader's record limit, whatever the
//! file holds.

use crate::import::ImportOptions;
use crate::import::encoding::decoding_reader;
use crate::import::records::{Malformed, RecordReader};
use crate::import::rule::{Shape, row_of, sheet_shape};
use crate::import::sheet::{SheetProblem, SheetRow};
use crate::model::channel::Channel;
use crate::normalize::ContactRecord;
use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Longest raw text kept for a refused row in the report.
pub const MAX_RAW_LEN: usize = 1_000;

/// One data row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The line of the file the row starts on (1-based; the header is line 1).
    pub line: u64,
    /// The contact it makes and the channels it is opted out of, or why it is refused.
    pub outcome: Result<(ContactRecord, Vec<Channel>), String>,
    /// The row's text as in the file (shortened), for the report if it is refused or
    /// turns out to repeat an earlier number.
    pub raw: String,
}

/// Counts the bytes read through it, for the progress bar.
struct Counted<R> {
    inner: R,
    read: Arc<AtomicU64>,
}

impl<R: Read> Read for Counted<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// Where rows come from: CSV text, or a spreadsheet's sheet.
enum Source<'a> {
    Csv {
        records: Box<RecordReader<Box<dyn Read + Send + 'a>>>,
        bytes_read: Arc<AtomicU64>,
    },
    Sheet {
        rows: Box<dyn SheetSource + Send + 'a>,
        size: u64,
    },
}

/// The data rows of a file, in order.
pub struct Rows<'a> {
    source: Source<'a>,
    options: ImportOptions,
    shape: Option<Shape>,
}

impl<'a> Rows<'a> {
    /// Starts reading CSV text as the options say (the header row, if any, is read here).
    pub fn new(input: impl Read + Send + 'a, options: ImportOptions) -> io::Result<Self> {
        let bytes_read = Arc::new(AtomicU64::new(0));
        let counted = Counted {
            inner: input,
            read: bytes_read.clone(),
        };
        let text: Box<dyn Read + Send + 'a> = Box::new(decoding_reader(counted, options.encoding));
        let source = Source::Csv {
            records: Box::new(RecordReader::new(text, options.delimiter.byte())),
            bytes_read,
        };
        Self::start(source, options)
    }

    /// Starts reading a spreadsheet's rows (of a file of `size` bytes) as the options say.
    pub fn from_sheet(
        rows: Box<dyn SheetSource + Send + 'a>,
        size: u64,
        options: ImportOptions,
    ) -> io::Result<Self> {
        Self::start(Source::Sheet { rows, size }, options)
    }

    fn start(source: Source<'a>, options: ImportOptions) -> io::Result<Self> {
        let mut rows = Rows {
            source,
            shape: None,
            options,
        };
        if rows.options.has_header {
            let width = match &mut rows.source {
                Source::Csv { records, .. } => records
                    .next_record()?
                    .map(|header| header.fields.map_or(0, |f| f.len())),
                Source::Sheet { rows, .. } => rows
                    .next_row()?
                    .map(|header| header.cells.map_or(0, |c| c.len())),
            };
            rows.shape = width.map(|width| Shape {
                width,
                has_header: true,
            });
        }
        Ok(rows)
    }

    /// Bytes of the file read so far (for a spreadsheet, as far as its rows say).
    pub fn bytes_read(&self) -> u64 {
        match &self.source {
            Source::Csv { bytes_read, .. } => bytes_read.load(Ordering::Relaxed),
            Source::Sheet { rows, size } => (rows.progress() * *size as f64) as u64,
        }
    }

    /// The next data row, or `None` at the end of the file.
    pub fn next_row(&mut self) -> io::Result<Option<Row>> {
        let options = &self.options;
        match &mut self.source {
            Source::Csv { records, .. } => {
                let Some(record) = records.next_record()? else {
                    return Ok(None);
                };
                let fields = match record.fields {
                    Ok(fields) => fields,
                    Err(problem) => return Ok(Some(refused(record.line, problem.reason()))),
                };
                let shape = *self.shape.get_or_insert(Shape {
                    width: fields.len(),
                    has_header: false,
                });
                let cells: Vec<_> = fields.iter().collect();
                let delimiter = char::from(options.delimiter.byte());
                Ok(Some(judged(record.line, &cells, shape, options, delimiter)))
            }
            Source::Sheet { rows, .. } => {
                let Some(row) = rows.next_row()? else {
                    return Ok(None);
                };
                let mut cells = match row.cells {
                    Ok(cells) => cells,
                    Err(oversize) => {
                        return Ok(Some(refused(row.line, Malformed::from(oversize).reason())));
                    }
                };
                let header_width = self.shape.map(|shape| shape.width);
                let shape =
                    match sheet_shape(&mut cells, &row.errors, header_width, &options.columns) {
                        Ok(shape) => shape,
                        Err(reason) => {
                            return Ok(Some(Row {
                                raw: raw_text(&cells, ','),
                                ..refused(row.line, reason)
                            }));
                        }
                    };
                Ok(Some(judged(row.line, &cells, shape, options, ',')))
            }
        }
    }
}

/// A row refused before its cells are looked at.
fn refused(line: u64, reason: String) -> Row {
    Row {
        line,
        outcome: Err(reason),
        raw: String::new(),
    }
}

/// A row judged by the row rule.
fn judged<S: AsRef<str>>(
    line: u64,
    cells: &[S],
    shape: Shape,
    options: &ImportOptions,
    delimiter: char,
) -> Row {
    Row {
        line,
        outcome: row_of(cells, shape, &options.columns, &options.country),
        raw: raw_text(cells, delimiter),
    }
}

/// Where a spreadsheet's rows come from: the server reads them in a child process
/// (`server::sheet_reader`), tests from memory.
pub trait SheetSource {
    /// The next row with a value, or `None` at the end of the sheet.
    fn next_row(&mut self) -> io::Result<Option<SheetRow>>;
    /// How far through the sheet the rows are, from 0 to 1.
    fn progress(&self) -> f64;
}

/// Rows already read.
impl SheetSource for std::vec::IntoIter<SheetRow> {
    fn next_row(&mut self) -> io::Result<Option<SheetRow>> {
        Ok(self.next())
    }

    fn progress(&self) -> f64 {
        0.0
    }
}

/// The spreadsheet's problem an error from [`Rows`] carries, if it is one (else the error
/// is the server's: the file could not be read from the store).
pub fn sheet_problem(error: &io::Error) -> Option<&SheetProblem> {
    error.get_ref()?.downcast_ref::<SheetProblem>()
}

/// The row's fields joined by the delimiter, shortened for the report.
fn raw_text<S: AsRef<str>>(fields: &[S], delimiter: char) -> String {
    let mut raw = String::new();
    for (i, field) in fields.iter().enumerate() {
        if i > 0 {
            raw.push(delimiter);
        }
        raw.push_str(field.as_ref());
        if raw.len() > MAX_RAW_LEN {
            let mut cut = MAX_RAW_LEN;
            while !raw.is_char_boundary(cut) {
                cut -= 1;
            }
            raw.truncate(cut);
            raw.push('…');
            break;
        }
    }
    raw
}

/// The line of a quote that never closes, if the file has one. Such a quote makes the
/// rest of the file one field, so the importer reads the file through once before
/// writing anything, and imports nothing from it.
pub fn unclosed_quote(input: impl Read, options: &ImportOptions) -> io::Result<Option<u64>> {
    let mut records = RecordReader::new(
        decoding_reader(input, options.encoding),
        options.delimiter.byte(),
    );
    while let Some(record) = records.next_record()? {
        if record.fields.err() == Some(Malformed::UnclosedQuote) {
            return Ok(Some(record.line));
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::columns::{Columns, Field};
    use crate::import::encoding::Encoding;
    use crate::import::sniff::Delimiter;

    fn options(has_header: bool) -> ImportOptions {
        ImportOptions {
            encoding: Encoding::Utf8,
            delimiter: Delimiter::Comma,
            has_header,
            columns: Columns::default()
                .with(Field::Mobile, 2)
                .with(Field::FirstName, 0)
                .with(Field::LastName, 1),
            country: "SG".into(),
            group: None,
            update_existing: false,
            sheet: None,
        }
    }

    fn rows(bytes: &[u8], options: ImportOptions) -> Vec<Row> {
        let mut rows = Rows::new(bytes, options).unwrap();
        let mut out = Vec::new();
        while let Some(row) = rows.next_row().unwrap() {
            out.push(row);
        }
        assert_eq!(rows.bytes_read(), bytes.len() as u64);
        out
    }

    fn reason(row: &Row) -> &str {
        row.outcome.as_ref().expect_err("a refusal")
    }

    #[test]
    fn rows_carry_their_line_contact_and_text() {
        let out = rows(
            b"first,last,mobile\r\nAnn,Lee,+65 8123 4567\r\n\"Bo\nTan\",,8123 4567\r\nCy,Tan,123\r\n",
            options(true),
        );
        assert_eq!(out.len(), 3);
        assert_eq!(out[0].line, 2);
        assert_eq!(
            out[0].outcome.as_ref().unwrap().0.get(Field::Mobile),
            Some("+6581234567")
        );
        assert_eq!(out[1].line, 3);
        assert_eq!(out[1].raw, "Bo\nTan,,8123 4567");
        assert_eq!(out[2].line, 5);
        assert!(reason(&out[2]).starts_with("Mobile number: "));
    }

    #[test]
    fn without_a_header_the_first_row_is_data_and_sets_the_width() {
        let out = rows(b"Ann,Lee,81234567\nBo,Tan\n", options(false));
        assert_eq!(out[0].line, 1);
        assert!(out[0].outcome.is_ok());
        assert_eq!(
            reason(&out[1]),
            "The row has 2 fields; the first row has 3."
        );
    }

    #[test]
    fn legacy_encodings_are_decoded_before_the_rule() {
        let mut latin = options(true);
        latin.encoding = Encoding::Windows1252;
        let out = rows(b"first,last,mobile\nJos\xE9,L\xF3pez,81234567\n", latin);
        let contact = out[0].outcome.as_ref().unwrap();
        assert_eq!(
            (
                contact.0.get(Field::FirstName),
                contact.0.get(Field::LastName)
            ),
            (Some("José"), Some("López"))
        );
        // Read as UTF-8, the same bytes are refused with a hint about the encoding.
        let out = rows(b"first,last,mobile\nJos\xE9,Lee,81234567\n", options(true));
        assert!(reason(&out[0]).contains("encoding"));
    }

    #[test]
    fn huge_rows_are_refused_and_later_rows_still_read() {
        let big = "x".repeat(2 << 20);
        let text = format!("first,last,mobile\n{big},Lee,81234567\nAnn,Lee,81234567\n");
        let out = rows(text.as_bytes(), options(true));
        assert!(reason(&out[0]).contains("longer than"));
        assert!(out[0].raw.is_empty(), "nothing of it is kept");
        assert!(out[1].outcome.is_ok());
        let long_name = format!("first,last,mobile\n{},Lee,81234567\n", "y".repeat(5_000));
        let out = rows(long_name.as_bytes(), options(true));
        assert!(reason(&out[0]).starts_with("First name: At most"));
        assert!(out[0].raw.chars().count() <= MAX_RAW_LEN + 1);
    }

    #[test]
    fn an_unclosed_quote_is_found_with_its_line() {
        let check = |text: &str| unclosed_quote(text.as_bytes(), &options(true)).unwrap();
        assert_eq!(check("a,b,c\n\"x\"\"y\",\"z\nw\",1\n"), None);
        assert_eq!(
            check("a,b,c\nok,\"fine\",1\n\"broken,2,3\nnext,4,5\n"),
            Some(3)
        );
        assert_eq!(check("a,b,c\r\"broken\r\r"), Some(2), "CR-only lines");
        assert_eq!(check("a,b\"c,d\n"), None, "a quote inside a field is text");
    }
}

#[cfg(test)]
mod properties {
    use super::*;
    use crate::db::import::batch::{Batch, Layout};
    use crate::import::columns::{Columns, Field};
    use crate::import::encoding::Encoding;
    use crate::import::records::{MAX_FIELDS, RecordReader};
    use crate::import::sniff::{Delimiter, sniff};
    use proptest::prelude::*;

    /// Text shaped like CSV: short fields of letters, digits, phone punctuation, quotes,
    /// delimiters and every kind of line end.
    fn csv_like() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                "[a-zA-Z ]{0,6}",
                "\\+?[0-9 ()-]{0,14}",
                Just(",".to_string()),
                Just(";".to_string()),
                Just("\"".to_string()),
                Just("\"\"".to_string()),
                Just("\n".to_string()),
                Just("\r\n".to_string()),
                Just("\r".to_string()),
            ],
            0..200,
        )
        .prop_map(|parts| parts.concat())
    }

    proptest! {
        #[test]
        fn any_bytes_are_sniffed_and_read_without_panic(bytes in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = sniff(&bytes, true);
            let _ = sniff(&bytes, false);
            let mut records = RecordReader::new(bytes.as_slice(), b',');
            let mut last_line = 0;
            while let Some(record) = records.next_record().unwrap() {
                prop_assert!(record.line > last_line, "lines only grow");
                last_line = record.line;
                if let Ok(fields) = record.fields {
                    prop_assert!(fields.len() <= MAX_FIELDS);
                }
            }
        }

        #[test]
        fn every_row_is_accounted_for(text in csv_like(), has_header in any::<bool>()) {
            let options = ImportOptions {
                encoding: Encoding::Utf8,
                delimiter: Delimiter::Comma,
                has_header,
                columns: Columns::default().with(Field::Mobile, 0).with(Field::FirstName, 1),
                country: "SG".into(),
                group: None,
                update_existing: false,
                sheet: None,
            };
            let records = {
                let mut reader = RecordReader::new(text.as_bytes(), b',');
                let mut n = 0i64;
                while reader.next_record().unwrap().is_some() {
                    n += 1;
                }
                n
            };
            let mut rows = Rows::new(text.as_bytes(), options.clone()).unwrap();
            let mut batch = Batch::new(Layout::of(&options.columns), "SG", crate::db::Dialect::Sqlite);
            let mut read = 0i64;
            while let Some(row) = rows.next_row().unwrap() {
                read += 1;
                batch.push(row).unwrap();
            }
            let header = i64::from(has_header && records > 0);
            prop_assert_eq!(read, records - header, "each record is a row");
            prop_assert_eq!(batch.rows(), read, "each row is a contact, a duplicate or refused");
            prop_assert_eq!(rows.bytes_read(), text.len() as u64);
        }
    }
}
