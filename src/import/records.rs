//! The one CSV reader: what a record is, for the browser's preview and the server's
//! importer alike.
//!
//! It runs `csv-core` (RFC 4180: quotes, doubled quotes, CRLF, LF or CR line ends, line
//! breaks inside quotes; blank lines skipped) over UTF-8 text, and adds what both sides
//! need on top:
//!
//! - **Limits while reading.** A record over [`MAX_RECORD_BYTES`] or with more than
//!   [`MAX_FIELDS`] fields is read to its end and reported as too long, never held whole:
//!   memory stays bounded whatever a file holds.
//! - **Line numbers** of each record's first line, counting CRLF, LF and CR alike.
//! - **A quote that never closes**, which makes the rest of the file one field: csv-core
//!   reads on to the end without saying so, so at the end of the input the reader gives
//!   the parser one more line break, which ends the record unless it is inside quotes.
//! - **Slices.** Read from the first bytes of a file ([`RecordReader::slice`]), a last
//!   record that may be cut off is left out, and so is a quote still open at the end.
//!
//! For example, `name,mobile\r\n"Lee, Ann",8123\r\n\r\n"Bo\nTan",9123` gives three records:
//! line 1 `[name, mobile]`, line 2 `[Lee, Ann, 8123]`, line 4 `[Bo⏎Tan, 9123]`.

use csv_core::ReadRecordResult;
use std::io::{self, Read};

/// The most bytes one record may hold; a longer one is refused as a whole.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

/// The most fields one record may have.
pub const MAX_FIELDS: usize = 1_000;

/// Bytes read from the input at a time.
const CHUNK: usize = 64 * 1024;

/// Why a record cannot be used; its fields are not kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Malformed {
    /// More than [`MAX_RECORD_BYTES`].
    TooLong,
    /// More than [`MAX_FIELDS`] fields.
    TooManyFields,
    /// A quoted field that runs to the end of the file.
    UnclosedQuote,
}

impl Malformed {
    /// What is wrong, in words for the person who made the file.
    pub fn reason(self) -> String {
        match self {
            Malformed::TooLong => format!(
                "The row is longer than {} MB, far more than a contact holds.",
                MAX_RECORD_BYTES >> 20
            ),
            Malformed::TooManyFields => {
                format!("The row has more than {MAX_FIELDS} fields.")
            }
            Malformed::UnclosedQuote => "A quote opens a field on this line that never closes, \
                 so the rest of the file was read as one field. Fix the quotes on this line."
                .to_string(),
        }
    }
}

/// A spreadsheet row over the bounds a record has ([`crate::import::sheet::BOUNDS`]).
impl From<contacts_sheets::Oversize> for Malformed {
    fn from(oversize: contacts_sheets::Oversize) -> Malformed {
        match oversize {
            contacts_sheets::Oversize::TooLong => Malformed::TooLong,
            contacts_sheets::Oversize::TooManyCells => Malformed::TooManyFields,
        }
    }
}

/// One record as read: its first line, and its fields or what is wrong with it.
#[derive(Debug)]
pub struct Record<'a> {
    /// The line it starts on (1-based).
    pub line: u64,
    /// The fields, or why there are none.
    pub fields: Result<Fields<'a>, Malformed>,
}

/// The fields of a record, borrowed from the reader until the next record.
#[derive(Clone, Copy, Debug)]
pub struct Fields<'a> {
    data: &'a [u8],
    ends: &'a [usize],
}

impl<'a> Fields<'a> {
    /// How many fields there are.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none (never, for a record that was read).
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Field `i` as text (the input is UTF-8, so only a cut input could fail; such a
    /// field reads as replacement characters).
    pub fn get(&self, i: usize) -> Option<std::borrow::Cow<'a, str>> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        Some(String::from_utf8_lossy(&self.data[start..end]))
    }

    /// Every field as text.
    pub fn iter(&self) -> impl Iterator<Item = std::borrow::Cow<'a, str>> + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The fields as owned strings.
    pub fn to_vec(&self) -> Vec<String> {
        self.iter().map(|f| f.into_owned()).collect()
    }
}

/// Reads the records of UTF-8 text (see the module documentation).
pub struct RecordReader<R> {
    input: R,
    core: csv_core::Reader,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    eof: bool,
    /// Whether the input is all of the file (not a slice of its beginning).
    whole: bool,
    out: Vec<u8>,
    ends: Vec<usize>,
    lines: Lines,
    done: bool,
}

/// Line numbers of the bytes the parser has consumed.
struct Lines {
    /// The line of the next byte.
    next: u64,
    /// Whether the last byte was `\r` (so a `\n` after it starts no further line).
    after_cr: bool,
    /// Whether the next byte that is not a line break starts a record.
    between_records: bool,
    /// The line the record being read starts on.
    record: u64,
}

impl Lines {
    fn consume(&mut self, bytes: &[u8]) {
        for &b in bytes {
            let line_break = b == b'\r' || b == b'\n';
            if self.between_records && !line_break {
                self.between_records = false;
                self.record = self.next;
            }
            if b == b'\r' || (b == b'\n' && !self.after_cr) {
                self.next += 1;
            }
            self.after_cr = b == b'\r';
        }
    }
}

impl<R: Read> RecordReader<R> {
    /// Reads all of a file's text, split by `delimiter`.
    pub fn new(input: R, delimiter: u8) -> Self {
        Self::build(input, delimiter, true)
    }

    /// Reads the first bytes of a file: a last record that may be cut short is left out.
    pub fn slice(input: R, delimiter: u8) -> Self {
        Self::build(input, delimiter, false)
    }

    fn build(input: R, delimiter: u8, whole: bool) -> Self {
        RecordReader {
            input,
            core: csv_core::ReaderBuilder::new().delimiter(delimiter).build(),
            buf: vec![0; CHUNK],
            pos: 0,
            len: 0,
            eof: false,
            whole,
            out: vec![0; MAX_RECORD_BYTES],
            ends: vec![0; MAX_FIELDS],
            lines: Lines {
                next: 1,
                after_cr: false,
                between_records: true,
                record: 1,
            },
            done: false,
        }
    }

    /// The underlying input (e.g. to ask how far it has read).
    pub fn get_ref(&self) -> &R {
        &self.input
    }

    /// The next record, or `None` after the last.
    pub fn next_record(&mut self) -> io::Result<Option<Record<'_>>> {
        if self.done {
            return Ok(None);
        }
        let (mut nout, mut nends) = (0, 0);
        let mut malformed = None;
        let mut probed = false;
        loop {
            if self.pos == self.len && !self.eof {
                self.len = read_some(&mut self.input, &mut self.buf)?;
                self.pos = 0;
                self.eof = self.len == 0;
            }
            // After a refill, an empty buffer means the end of the input.
            let at_end = self.pos == self.len;
            // At the end of a record still open, the parser is handed one line break:
            // outside quotes it ends the record just as the end of the input would;
            // inside quotes it becomes part of the field, which tells us the quote never
            // closed. (csv-core does not say which state it is in, and cloning its reader
            // to ask loses its tables.)
            let probing = at_end && !probed && !self.lines.between_records;
            let input = if probing {
                &b"\n"[..]
            } else {
                &self.buf[self.pos..self.len]
            };
            let (result, nin, out_n, ends_n) =
                self.core
                    .read_record(input, &mut self.out[nout..], &mut self.ends[nends..]);
            if probing {
                probed = nin > 0;
                if probed && result == ReadRecordResult::InputEmpty {
                    // The root of whatever else went wrong with this record.
                    malformed = Some(Malformed::UnclosedQuote);
                }
            } else {
                self.lines.consume(&input[..nin]);
                self.pos += nin;
            }
            nout += out_n;
            nends += ends_n;
            match result {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    // Read on to the record's end, keeping nothing of it.
                    malformed.get_or_insert(Malformed::TooLong);
                    nout = 0;
                }
                ReadRecordResult::OutputEndsFull => {
                    malformed.get_or_insert(Malformed::TooManyFields);
                    nends = 0;
                }
                ReadRecordResult::Record => {
                    let line = self.lines.record;
                    self.lines.between_records = true;
                    // A record cut off by the end of a slice is not a record.
                    if at_end && !self.whole {
                        self.done = true;
                        return Ok(None);
                    }
                    let fields = match malformed {
                        Some(problem) => Err(problem),
                        None => Ok(Fields {
                            data: &self.out[..nout],
                            ends: &self.ends[..nends],
                        }),
                    };
                    return Ok(Some(Record { line, fields }));
                }
                ReadRecordResult::End => {
                    self.done = true;
                    return Ok(None);
                }
            }
        }
    }
}

/// Reads into `buf`, retrying when interrupted; 0 at the end of the input.
fn read_some(input: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match input.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each record as (line, fields) or (line, problem).
    fn read(text: &str, whole: bool) -> Vec<(u64, Result<Vec<String>, Malformed>)> {
        let mut reader = if whole {
            RecordReader::new(text.as_bytes(), b',')
        } else {
            RecordReader::slice(text.as_bytes(), b',')
        };
        let mut out = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            out.push((record.line, record.fields.map(|f| f.to_vec())));
        }
        out
    }

    fn ok(line: u64, fields: &[&str]) -> (u64, Result<Vec<String>, Malformed>) {
        (line, Ok(fields.iter().map(|f| f.to_string()).collect()))
    }

    #[test]
    fn the_module_example() {
        assert_eq!(
            read(
                "name,mobile\r\n\"Lee, Ann\",8123\r\n\r\n\"Bo\nTan\",9123",
                true
            ),
            [
                ok(1, &["name", "mobile"]),
                ok(2, &["Lee, Ann", "8123"]),
                ok(4, &["Bo\nTan", "9123"]),
            ]
        );
    }

    #[test]
    fn every_line_ending_counts_one_line() {
        for end in ["\n", "\r\n", "\r"] {
            let text = format!("a,b{end}c,d{end}{end}e,f{end}");
            assert_eq!(
                read(&text, true),
                [ok(1, &["a", "b"]), ok(2, &["c", "d"]), ok(4, &["e", "f"])],
                "{end:?}"
            );
        }
    }

    #[test]
    fn line_breaks_in_quotes_move_the_next_line() {
        let text = "\"x\r\ny\r\nz\",1\rnext,2";
        assert_eq!(
            read(text, true),
            [ok(1, &["x\r\ny\r\nz", "1"]), ok(4, &["next", "2"])]
        );
    }

    #[test]
    fn doubled_quotes_and_empty_fields() {
        assert_eq!(
            read("\"say \"\"hi\"\"\",,\n,\n", true),
            [ok(1, &["say \"hi\"", "", ""]), ok(2, &["", ""])]
        );
    }

    #[test]
    fn an_unclosed_quote_is_reported_on_its_line_in_a_whole_file() {
        let text = "a,b\n\"open,1\nc,d\ne,f\n";
        assert_eq!(
            read(text, true),
            [ok(1, &["a", "b"]), (2, Err(Malformed::UnclosedQuote))]
        );
        // CR-only files name the right line too.
        assert_eq!(
            read("a,b\rc,d\r\"open\rx\r", true),
            [
                ok(1, &["a", "b"]),
                ok(2, &["c", "d"]),
                (3, Err(Malformed::UnclosedQuote))
            ]
        );
        // A closed quote at the very end is fine.
        assert_eq!(read("a,\"b\"", true), [ok(1, &["a", "b"])]);
        assert_eq!(read("a,\"b\nc\"", true), [ok(1, &["a", "b\nc"])]);
    }

    #[test]
    fn a_slice_leaves_out_its_last_record_unless_it_ended() {
        assert_eq!(
            read("a,b\nc,d\ne,", false),
            [ok(1, &["a", "b"]), ok(2, &["c", "d"])]
        );
        assert_eq!(
            read("a,b\nc,d\n", false),
            [ok(1, &["a", "b"]), ok(2, &["c", "d"])]
        );
        // A quote still open at the end of a slice may close further on.
        assert_eq!(read("a,b\n\"c\nd", false), [ok(1, &["a", "b"])]);
        assert_eq!(read("a,b\nc,d\ne,", true).len(), 3);
    }

    #[test]
    fn an_overlong_record_is_refused_without_being_kept() {
        let long = "x".repeat(MAX_RECORD_BYTES + 10);
        let text = format!("a,b\n{long},1\nc,d\n");
        let records = read(&text, true);
        assert_eq!(
            records,
            [
                ok(1, &["a", "b"]),
                (2, Err(Malformed::TooLong)),
                ok(3, &["c", "d"])
            ]
        );
        let wide = format!("{}\nc,d\n", ",".repeat(MAX_FIELDS + 5));
        assert_eq!(
            read(&wide, true),
            [(1, Err(Malformed::TooManyFields)), ok(2, &["c", "d"])]
        );
    }

    #[test]
    fn records_split_across_reads_come_out_whole() {
        // A reader that hands out one byte at a time.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let Some((first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = *first;
                self.0 = rest;
                Ok(1)
            }
        }
        let text = b"a,\"b\r\nc\"\r\nd,e\r\"open";
        let mut reader = RecordReader::new(Trickle(text), b',');
        let mut out = Vec::new();
        while let Some(record) = reader.next_record().unwrap() {
            out.push((record.line, record.fields.map(|f| f.to_vec())));
        }
        assert_eq!(
            out,
            [
                ok(1, &["a", "b\r\nc"]),
                ok(3, &["d", "e"]),
                (4, Err(Malformed::UnclosedQuote))
            ]
        );
    }
}
