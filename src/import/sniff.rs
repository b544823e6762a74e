//! What a file is, judged from its first bytes: the text encoding, the delimiter and
//! whether the first row is a header; and the first rows themselves, as the preview
//! shows them.
//!
//! The browser runs this on the first 64 KB of a file; the server runs it again on the
//! same bytes when the upload arrives. Both read records with [`RecordReader`], the
//! importer's reader, so what the preview shows is what the import reads.

use crate::import::encoding::{Encoding, decode};
use crate::import::records::{Malformed, RecordReader};
use serde::{Deserialize, Serialize};

/// How many bytes of a file the preview reads.
pub const PREVIEW_BYTES: usize = 64 * 1024;
/// How many data rows the preview shows.
pub const PREVIEW_ROWS: usize = 20;

/// Field delimiters we detect.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Delimiter {
    /// `,`
    Comma,
    /// `;` (what Excel writes where the decimal separator is a comma)
    Semicolon,
    /// a tab (.tsv)
    Tab,
    /// `|`
    Pipe,
}

impl Delimiter {
    /// Every delimiter, in the order the override menu lists them.
    pub const ALL: [Delimiter; 4] = [
        Delimiter::Comma,
        Delimiter::Semicolon,
        Delimiter::Tab,
        Delimiter::Pipe,
    ];

    /// The byte itself.
    pub fn byte(self) -> u8 {
        match self {
            Delimiter::Comma => b',',
            Delimiter::Semicolon => b';',
            Delimiter::Tab => b'\t',
            Delimiter::Pipe => b'|',
        }
    }

    /// The name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Delimiter::Comma => "Comma ,",
            Delimiter::Semicolon => "Semicolon ;",
            Delimiter::Tab => "Tab",
            Delimiter::Pipe => "Pipe |",
        }
    }
}

/// Why a file cannot be read at all.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum FileProblem {
    /// Zero bytes, or only a byte-order mark and blank lines.
    #[error("The file is empty.")]
    Empty,
    /// NUL or other control bytes: an image, a spreadsheet, a zip.
    #[error(
        "This is not a text file (it looks like binary data, such as an image or a \
         spreadsheet renamed). Upload CSV text, or a spreadsheet under its own name ending \
         (.xlsx, .xls, .ods)."
    )]
    Binary,
    /// A quoted field that never closes.
    #[error(
        "Line {line}: a quote opens a field that never closes (unbalanced quotes). Fix the \
         quotes on that line and try again."
    )]
    UnbalancedQuote {
        /// 1-based line of the opening quote.
        line: u64,
    },
}

/// One record as the preview shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SampleRow {
    /// The line it starts on.
    pub line: u64,
    /// Its fields, or why it cannot be read (the importer's words).
    pub fields: Result<Vec<String>, String>,
    /// For a spreadsheet's row (judged by [`crate::import`]'s sheet rule): the columns
    /// whose cell holds an error such as `#N/A`; `None` for a CSV record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet_errors: Option<Vec<usize>>,
}

/// The first records of a file's text (at most `max`), read as the importer reads them.
pub fn first_records(
    text: &str,
    delimiter: Delimiter,
    whole: bool,
    max: usize,
) -> Result<Vec<SampleRow>, FileProblem> {
    let mut reader = if whole {
        RecordReader::new(text.as_bytes(), delimiter.byte())
    } else {
        RecordReader::slice(text.as_bytes(), delimiter.byte())
    };
    let mut rows = Vec::new();
    // Reading from memory cannot fail.
    while rows.len() < max
        && let Ok(Some(record)) = reader.next_record()
    {
        let fields = match record.fields {
            Ok(fields) => Ok(fields.to_vec()),
            Err(Malformed::UnclosedQuote) => {
                return Err(FileProblem::UnbalancedQuote { line: record.line });
            }
            Err(problem) => Err(problem.reason()),
        };
        rows.push(SampleRow {
            line: record.line,
            fields,
            sheet_errors: None,
        });
    }
    Ok(rows)
}

/// What the sniffer found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Sniffed {
    /// The text encoding.
    pub encoding: Encoding,
    /// The field delimiter.
    pub delimiter: Delimiter,
    /// Whether the first row names the columns.
    pub has_header: bool,
}

/// Sniffs the first bytes of a file; `whole` says whether `bytes` is the entire file.
pub fn sniff(bytes: &[u8], whole: bool) -> Result<Sniffed, FileProblem> {
    let encoding = Encoding::detect(bytes)?;
    let text = decode(bytes, encoding, whole);
    let delimiter = detect_delimiter(&text, whole);
    let rows = first_records(&text, delimiter, whole, PREVIEW_ROWS + 1)?;
    if rows.is_empty() {
        return Err(FileProblem::Empty);
    }
    Ok(Sniffed {
        encoding,
        delimiter,
        has_header: detect_header(&rows),
    })
}

/// The delimiter that splits the first rows into the most consistent number of columns.
pub fn detect_delimiter(text: &str, whole: bool) -> Delimiter {
    let mut best = (Delimiter::Comma, 0usize, 0usize);
    for delimiter in Delimiter::ALL {
        let Ok(rows) = first_records(text, delimiter, whole, PREVIEW_ROWS) else {
            continue;
        };
        let widths: Vec<usize> = rows
            .iter()
            .filter_map(|r| r.fields.as_ref().ok().map(Vec::len))
            .collect();
        let Some(columns) = most_common(&widths) else {
            continue;
        };
        if columns < 2 {
            continue;
        }
        let consistent = widths.iter().filter(|&&w| w == columns).count();
        if (consistent, columns) > (best.1, best.2) {
            best = (delimiter, consistent, columns);
        }
    }
    best.0
}

fn most_common(widths: &[usize]) -> Option<usize> {
    let mut widths = widths.to_vec();
    widths.sort_unstable();
    widths
        .chunk_by(|a, b| a == b)
        .max_by_key(|run| (run.len(), run[0]))
        .map(|run| run[0])
}

/// Whether the first row is a header: it names a column we know, or it has no digits where
/// the rows below have numbers.
pub fn detect_header(rows: &[SampleRow]) -> bool {
    let cells = |row: &SampleRow| row.fields.clone().unwrap_or_default();
    let Some(first) = rows.first().map(cells) else {
        return false;
    };
    if first
        .iter()
        .any(|cell| crate::import::columns::suggest_tag(cell).is_some())
    {
        return true;
    }
    let numeric = |cell: &String| cell.chars().filter(char::is_ascii_digit).count() >= 6;
    let first_has_numbers = first.iter().any(numeric);
    let rest_have_numbers = rows[1..].iter().any(|row| cells(row).iter().any(numeric));
    !first_has_numbers && rest_have_numbers
}

#[cfg(all(test, not(feature = "hydrate")))]
mod tests {
    use super::*;

    fn sniffed(bytes: &[u8]) -> Sniffed {
        sniff(bytes, true).expect("readable")
    }

    fn rows(text: &str) -> Vec<SampleRow> {
        first_records(text, Delimiter::Comma, true, 20).unwrap()
    }

    #[test]
    fn utf16_with_bom_both_byte_orders() {
        let text = "name;mobile\r\nÅsa;+65 8123 4567\r\n";
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(text.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        for (bytes, encoding) in [(le, Encoding::Utf16Le), (be, Encoding::Utf16Be)] {
            let found = sniffed(&bytes);
            assert_eq!(found.encoding, encoding);
            assert_eq!(found.delimiter, Delimiter::Semicolon);
            assert!(found.has_header);
        }
    }

    #[test]
    fn binary_and_empty_files_are_refused() {
        let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x10";
        assert_eq!(sniff(png, true), Err(FileProblem::Binary));
        assert_eq!(sniff(b"", true), Err(FileProblem::Empty));
        assert_eq!(sniff(b"\n\r\n  \n", true), Err(FileProblem::Empty));
    }

    #[test]
    fn each_delimiter_is_detected() {
        for delimiter in Delimiter::ALL {
            let d = char::from(delimiter.byte());
            let text =
                format!("first{d}last{d}mobile\nAnn{d}Lee{d}81234567\nBo{d}Tan{d}91234567\n");
            assert_eq!(
                sniffed(text.as_bytes()).delimiter,
                delimiter,
                "{delimiter:?}"
            );
        }
    }

    #[test]
    fn commas_inside_quotes_do_not_fool_the_delimiter() {
        let text = "name;mobile;note\n\"Lee, Ann\";81234567;\"a, b, c\"\n\"Tan, Bo\";91234567;x\n";
        assert_eq!(sniffed(text.as_bytes()).delimiter, Delimiter::Semicolon);
    }

    #[test]
    fn header_detection() {
        assert!(detect_header(&rows("Given Name,Phone\nAnn,81234567\n")));
        assert!(
            detect_header(&rows("who,where\nAnn,81234567\n")),
            "no digits above numbers"
        );
        assert!(!detect_header(&rows("Ann,81234567\nBo,91234567\n")));
        assert!(!detect_header(&rows("81234567\n91234567\n")));
    }

    #[test]
    fn unbalanced_quotes_name_the_line_in_a_whole_file_only() {
        let text = "name,mobile\nAnn,81234567\n\"Bo,91234567\nCy,92345678\n";
        assert_eq!(
            sniff(text.as_bytes(), true),
            Err(FileProblem::UnbalancedQuote { line: 3 })
        );
        // In a slice, the quote may close after the slice ends.
        assert!(sniff(text.as_bytes(), false).is_ok());
    }

    #[test]
    fn sample_rows_carry_their_lines_and_the_importers_refusals() {
        let long = "x".repeat(crate::import::records::MAX_RECORD_BYTES + 1);
        let text = format!("a,b\r\n\r\n{long}\r\nc,\"d\ne\"\r\nf,g");
        let sample = first_records(&text, Delimiter::Comma, false, 20).unwrap();
        let lines: Vec<u64> = sample.iter().map(|r| r.line).collect();
        assert_eq!(lines, [1, 3, 4], "the cut last row of a slice is left out");
        assert!(
            sample[1]
                .fields
                .as_ref()
                .unwrap_err()
                .contains("longer than")
        );
        assert_eq!(sample[2].fields, Ok(vec!["c".into(), "d\ne".into()]));
        assert_eq!(
            first_records(&text, Delimiter::Comma, true, 2)
                .unwrap()
                .len(),
            2
        );
    }
}
