//! The server's row pipeline: a file streamed through the CSV parser, each row turned into
//! a contact to import, a duplicate of an earlier row, or a refusal with its reason.
//!
//! Pure CPU work with no database: the importer runs it on a blocking thread and hands
//! batches to the writer.

use crate::import::ImportOptions;
use crate::import::decode::TextReader;
use crate::import::sniff::FileProblem;
use crate::model::contact::{MAX_NAME_LEN, sort_name};
use crate::phone::normalize_msisdn;
use std::collections::HashMap;
use std::io::Read;

/// Longest raw text kept for a refused row in the report.
const MAX_RAW_LEN: usize = 1_000;
/// Longest text in a mobile-number cell worth parsing.
const MAX_MOBILE_LEN: usize = 64;

/// A row that becomes (or matches) a contact.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewContact {
    /// E.164 number.
    pub e164: String,
    /// The number without its country code.
    pub national: String,
    /// First name from the file (may be empty).
    pub first_name: String,
    /// Last name from the file (may be empty).
    pub last_name: String,
    /// The sort/search key of the names.
    pub sort_name: String,
}

/// What one data row comes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A number seen for the first time in this file.
    Contact(NewContact),
    /// The same number as the row starting on `line`.
    Duplicate {
        /// The line of the number's first row.
        line: u64,
    },
    /// Refused, with the reason in words.
    Invalid(String),
}

/// One data row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The line of the file the row starts on (1-based; the header is line 1).
    pub line: u64,
    /// What it comes to.
    pub outcome: Outcome,
    /// The row's text as in the file (shortened), kept for refused and duplicate rows.
    pub raw: String,
}

/// The data rows of a file, in order.
pub struct Rows<R: Read> {
    csv: csv::Reader<TextReader<R>>,
    record: csv::ByteRecord,
    options: ImportOptions,
    delimiter: char,
    width: Option<usize>,
    /// Numbers seen so far (E.164 digits) and the line of their first row.
    seen: HashMap<u64, u32>,
    /// The earliest line the next record can start on.
    next_line: u64,
}

impl<R: Read> Rows<R> {
    /// Starts reading `input` as the options say (the header row, if any, is read here).
    pub fn new(input: R, options: ImportOptions) -> Result<Self, csv::Error> {
        let csv = csv::ReaderBuilder::new()
            .delimiter(options.delimiter.byte())
            .has_headers(false)
            .flexible(true)
            .from_reader(TextReader::new(input, options.encoding));
        let mut rows = Rows {
            csv,
            record: csv::ByteRecord::new(),
            delimiter: char::from(options.delimiter.byte()),
            options,
            width: None,
            seen: HashMap::new(),
            next_line: 1,
        };
        if rows.options.has_header && rows.read()?.is_some() {
            rows.width = Some(rows.record.len());
        }
        Ok(rows)
    }

    /// Bytes of the file read so far.
    pub fn bytes_read(&self) -> u64 {
        self.csv.get_ref().raw_bytes_read()
    }

    /// The next data row, or `None` at the end of the file.
    pub fn next_row(&mut self) -> Result<Option<Row>, csv::Error> {
        let Some(line) = self.read()? else {
            return Ok(None);
        };
        let width = *self.width.get_or_insert(self.record.len());
        let outcome = self.outcome(line, width);
        let raw = match outcome {
            Outcome::Contact(_) => String::new(),
            _ => raw_text(&self.record, self.delimiter),
        };
        Ok(Some(Row { line, outcome, raw }))
    }

    /// Reads the next record; returns the line it starts on.
    fn read(&mut self) -> Result<Option<u64>, csv::Error> {
        if !self.csv.read_byte_record(&mut self.record)? {
            return Ok(None);
        }
        // The parser reports a record after CRLF as starting on the line before (it has
        // not yet read the `\n`); no record starts before the end of the previous one.
        let reported = self.record.position().map_or(0, |p| p.line());
        let line = reported.max(self.next_line);
        let breaks = self
            .record
            .iter()
            .map(|f| f.iter().filter(|&&b| b == b'\n').count() as u64)
            .sum::<u64>();
        self.next_line = line + breaks + 1;
        Ok(Some(line))
    }

    fn outcome(&mut self, line: u64, width: usize) -> Outcome {
        let record = &self.record;
        let extra_filled = record.iter().skip(width).any(|f| !f.is_empty());
        if record.len() < width || extra_filled {
            return Outcome::Invalid(format!(
                "The row has {} fields; the header has {width}.",
                record.len()
            ));
        }
        let cell = |column: Option<usize>| -> Result<&str, String> {
            let Some(bytes) = column.and_then(|c| record.get(c)) else {
                return Ok("");
            };
            std::str::from_utf8(bytes).map(str::trim).map_err(|_| {
                "The row is not valid UTF-8 text: choose the file's encoding (for example \
                 Windows-1252) in the preview, or save it as UTF-8."
                    .to_string()
            })
        };
        let columns = self.options.columns;
        let fields = (|| {
            Ok::<_, String>((
                cell(columns.mobile)?,
                cell(columns.first_name)?,
                cell(columns.last_name)?,
            ))
        })();
        let (mobile, first_name, last_name) = match fields {
            Ok(fields) => fields,
            Err(reason) => return Outcome::Invalid(reason),
        };
        for (label, value) in [("First name", first_name), ("Last name", last_name)] {
            let length = value.chars().count();
            if length > MAX_NAME_LEN {
                return Outcome::Invalid(format!(
                    "{label} is {length} characters long; at most {MAX_NAME_LEN} are allowed."
                ));
            }
        }
        if mobile.is_empty() {
            return Outcome::Invalid("No mobile number.".into());
        }
        if mobile.chars().count() > MAX_MOBILE_LEN {
            return Outcome::Invalid(format!(
                "The mobile number cell is {} characters long: that is not a phone number.",
                mobile.chars().count()
            ));
        }
        let msisdn = match normalize_msisdn(mobile, &self.options.country) {
            Ok(msisdn) => msisdn,
            Err(error) => return Outcome::Invalid(with_lost_plus_hint(mobile, error.0)),
        };
        let key: u64 = msisdn.e164[1..].parse().unwrap_or(u64::MAX);
        if let Some(&first) = self.seen.get(&key) {
            return Outcome::Duplicate {
                line: u64::from(first),
            };
        }
        // A file within the upload limit has far fewer than 4 billion lines.
        self.seen
            .insert(key, u32::try_from(line).unwrap_or(u32::MAX));
        Outcome::Contact(NewContact {
            sort_name: sort_name(first_name, last_name),
            e164: msisdn.e164,
            national: msisdn.national,
            first_name: first_name.to_string(),
            last_name: last_name.to_string(),
        })
    }
}

/// Spreadsheets drop the `+` of international numbers stored as numbers; when the digits
/// are a valid number with a `+`, the message says so.
fn with_lost_plus_hint(input: &str, reason: String) -> String {
    let digits_only = input.len() >= 8 && input.bytes().all(|b| b.is_ascii_digit());
    match digits_only.then(|| normalize_msisdn(&format!("+{input}"), "ZZ")) {
        Some(Ok(msisdn)) => format!(
            "{reason} If it is {}, its leading + was lost (spreadsheets drop it): add it back.",
            crate::phone::format_international(&msisdn.e164)
        ),
        _ => reason,
    }
}

/// The row's fields joined by the delimiter, shortened for the report.
fn raw_text(record: &csv::ByteRecord, delimiter: char) -> String {
    let mut raw = String::new();
    for (i, field) in record.iter().enumerate() {
        if i > 0 {
            raw.push(delimiter);
        }
        raw.push_str(&String::from_utf8_lossy(field));
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

/// Reads the whole file once to find a quoted field that never closes, which would
/// otherwise swallow the rest of the file into one cell. Nothing is imported from such a
/// file: the problem is reported with its line instead.
pub fn check_quotes<R: Read>(
    input: R,
    options: &ImportOptions,
) -> Result<Result<(), FileProblem>, std::io::Error> {
    let delimiter = options.delimiter.byte();
    let mut reader = TextReader::new(input, options.encoding);
    let mut buf = vec![0u8; 64 * 1024];
    let (mut in_quotes, mut quote_pending, mut field_start) = (false, false, true);
    let (mut line, mut quote_line) = (1u64, 0u64);
    loop {
        let n = reader.read(&mut buf)?;
        if n == 0 {
            break;
        }
        for &b in &buf[..n] {
            if b == b'\n' {
                line += 1;
            }
            if in_quotes {
                if quote_pending {
                    quote_pending = false;
                    if b == b'"' {
                        continue; // an escaped quote
                    }
                    in_quotes = false;
                } else {
                    quote_pending = b == b'"';
                    continue;
                }
            }
            if b == b'"' && field_start {
                in_quotes = true;
                quote_line = line;
                field_start = false;
            } else {
                field_start = b == delimiter || b == b'\n' || b == b'\r';
            }
        }
    }
    Ok(if in_quotes && !quote_pending {
        Err(FileProblem::UnbalancedQuote { line: quote_line })
    } else {
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::import::columns::Columns;
    use crate::import::sniff::{Delimiter, Encoding};

    fn options(has_header: bool) -> ImportOptions {
        ImportOptions {
            encoding: Encoding::Utf8,
            delimiter: Delimiter::Comma,
            has_header,
            columns: Columns {
                mobile: Some(2),
                first_name: Some(0),
                last_name: Some(1),
            },
            country: "SG".into(),
            group: None,
            update_names: false,
        }
    }

    fn rows(text: &str, has_header: bool) -> Vec<Row> {
        let mut rows = Rows::new(text.as_bytes(), options(has_header)).unwrap();
        let mut out = Vec::new();
        while let Some(row) = rows.next_row().unwrap() {
            out.push(row);
        }
        out
    }

    fn reason(row: &Row) -> &str {
        match &row.outcome {
            Outcome::Invalid(reason) => reason,
            other => panic!("expected a refusal, got {other:?}"),
        }
    }

    #[test]
    fn numbers_are_normalised_and_duplicates_point_at_their_first_line() {
        let out = rows(
            "first,last,mobile\r\nAnn,Lee,+65 8123 4567\r\nBo,,8123 4567\r\nCy,Tan,+65-9123-4567\r\n",
            true,
        );
        assert_eq!(out.len(), 3);
        assert_eq!(
            out[0].outcome,
            Outcome::Contact(NewContact {
                e164: "+6581234567".into(),
                national: "81234567".into(),
                first_name: "Ann".into(),
                last_name: "Lee".into(),
                sort_name: "ann lee".into(),
            })
        );
        assert_eq!(out[0].line, 2);
        assert_eq!(out[1].outcome, Outcome::Duplicate { line: 2 });
        assert_eq!(out[1].raw, "Bo,,8123 4567");
        assert!(matches!(&out[2].outcome, Outcome::Contact(c) if c.e164 == "+6591234567"));
    }

    #[test]
    fn without_a_header_the_first_row_is_data() {
        let out = rows("Ann,Lee,81234567\n", false);
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].line, 1);
    }

    #[test]
    fn bad_rows_say_why() {
        let out = rows(
            "first,last,mobile\nAnn,Lee\nBo,Tan,81234567,extra\nCy,Ong,\nDi,Ho,123\nEd,Lim,6.58123E+09\nFy,Goh,447911123456\n",
            true,
        );
        assert_eq!(reason(&out[0]), "The row has 2 fields; the header has 3.");
        assert_eq!(reason(&out[1]), "The row has 4 fields; the header has 3.");
        assert_eq!(reason(&out[2]), "No mobile number.");
        assert!(reason(&out[3]).contains("too short"), "{}", reason(&out[3]));
        assert!(reason(&out[4]).contains("scientific notation"));
        assert!(
            reason(&out[5]).contains("+44 7911 123456") && reason(&out[5]).contains("leading +"),
            "{}",
            reason(&out[5])
        );
    }

    #[test]
    fn empty_trailing_fields_are_fine() {
        let out = rows("first,last,mobile\nAnn,Lee,81234567,,\n", true);
        assert!(matches!(out[0].outcome, Outcome::Contact(_)));
    }

    #[test]
    fn huge_cells_and_bad_bytes_are_refused_with_a_short_raw_text() {
        let big = "x".repeat(1 << 20);
        let text = format!("first,last,mobile\n{big},Lee,81234567\nAnn,Lee,81234567\n");
        let out = rows(&text, true);
        assert!(reason(&out[0]).starts_with("First name is 1048576 characters long"));
        assert!(out[0].raw.chars().count() <= MAX_RAW_LEN + 1);
        assert!(
            matches!(out[1].outcome, Outcome::Contact(_)),
            "later rows still read"
        );

        let mut rows = Rows::new(
            b"first,last,mobile\nJos\xE9,Lee,81234567\n".as_slice(),
            options(true),
        )
        .unwrap();
        let row = rows.next_row().unwrap().unwrap();
        assert!(reason(&row).contains("not valid UTF-8"));
    }

    #[test]
    fn quoted_fields_with_line_breaks_keep_their_line() {
        let out = rows(
            "first,last,mobile\n\"Ann\nMarie\",Lee,81234567\nBo,Tan,91234567\n",
            true,
        );
        assert_eq!(out[0].line, 2);
        assert_eq!(out[1].line, 4);
        assert!(matches!(&out[0].outcome, Outcome::Contact(c) if c.first_name == "Ann\nMarie"));
    }

    #[test]
    fn unbalanced_quotes_are_found_with_their_line() {
        let check = |text: &str| check_quotes(text.as_bytes(), &options(true)).unwrap();
        assert_eq!(check("a,b,c\n\"x\"\"y\",\"z\nw\",1\n"), Ok(()));
        assert_eq!(
            check("a,b,c\nok,\"fine\",1\n\"broken,2,3\nnext,4,5\n"),
            Err(FileProblem::UnbalancedQuote { line: 3 })
        );
        assert_eq!(
            check("a,b\"c,d\n"),
            Ok(()),
            "a quote inside a field is text"
        );
        assert_eq!(check("a,\"b\""), Ok(()));
    }
}
