//! What a file is, judged from its first bytes: the text encoding, the delimiter, whether
//! the first row is a header, and the first rows themselves.
//!
//! The browser runs this on the first 64 KB of a file for the preview; the server runs it
//! again on the same bytes when the upload arrives, so both read the file the same way.

use serde::{Deserialize, Serialize};

/// How many bytes of a file the preview reads.
pub const PREVIEW_BYTES: usize = 64 * 1024;
/// How many rows the preview shows.
pub const PREVIEW_ROWS: usize = 20;

/// Text encodings we read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Encoding {
    /// UTF-8, with or without a byte-order mark.
    Utf8,
    /// UTF-16 little-endian, with a byte-order mark.
    Utf16Le,
    /// UTF-16 big-endian, with a byte-order mark.
    Utf16Be,
    /// Windows-1252 ("ANSI" in Excel on Windows): any bytes that are not UTF-8.
    Windows1252,
}

impl Encoding {
    /// Every encoding, in the order the override menu lists them.
    pub const ALL: [Encoding; 4] = [
        Encoding::Utf8,
        Encoding::Utf16Le,
        Encoding::Utf16Be,
        Encoding::Windows1252,
    ];

    /// The name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf16Le => "UTF-16 LE",
            Encoding::Utf16Be => "UTF-16 BE",
            Encoding::Windows1252 => "Windows-1252",
        }
    }

    /// The length of this encoding's byte-order mark at the start of `bytes`, if any.
    pub fn bom_len(self, bytes: &[u8]) -> usize {
        let bom: &[u8] = match self {
            Encoding::Utf8 => b"\xEF\xBB\xBF",
            Encoding::Utf16Le => b"\xFF\xFE",
            Encoding::Utf16Be => b"\xFE\xFF",
            Encoding::Windows1252 => b"",
        };
        if bytes.starts_with(bom) { bom.len() } else { 0 }
    }
}

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
        "This is not a text file (it looks like binary data, such as a spreadsheet or an \
         image). Save it as CSV and try again."
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
    let encoding = detect_encoding(bytes)?;
    let text = decode(bytes, encoding);
    let delimiter = detect_delimiter(&text);
    let rows = parse_rows(&text, delimiter, PREVIEW_ROWS + 1, whole)?;
    if rows.is_empty() {
        return Err(FileProblem::Empty);
    }
    Ok(Sniffed {
        encoding,
        delimiter,
        has_header: detect_header(&rows),
    })
}

/// The encoding of a file from its first bytes.
pub fn detect_encoding(bytes: &[u8]) -> Result<Encoding, FileProblem> {
    for encoding in [Encoding::Utf8, Encoding::Utf16Le, Encoding::Utf16Be] {
        if encoding.bom_len(bytes) > 0 {
            return Ok(encoding);
        }
    }
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(FileProblem::Empty);
    }
    // Text never holds NUL or most C0 controls; binary formats are full of them.
    let controls = bytes
        .iter()
        .filter(|&&b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C))
        .count();
    if bytes.contains(&0) || controls * 100 > bytes.len() {
        return Err(FileProblem::Binary);
    }
    match std::str::from_utf8(bytes) {
        Ok(_) => Ok(Encoding::Utf8),
        // A slice may end inside a character: that is still UTF-8.
        Err(e) if e.error_len().is_none() => Ok(Encoding::Utf8),
        Err(_) => Ok(Encoding::Windows1252),
    }
}

/// Decodes bytes (a slice of a file) as `encoding`, without its byte-order mark. Bytes that
/// do not decode become U+FFFD; a character cut at the end of the slice is dropped.
pub fn decode(bytes: &[u8], encoding: Encoding) -> String {
    let bytes = &bytes[encoding.bom_len(bytes)..];
    match encoding {
        Encoding::Utf8 => {
            let mut text = String::from_utf8_lossy(bytes).into_owned();
            if let Err(e) = std::str::from_utf8(bytes)
                && e.error_len().is_none()
            {
                text.pop();
            }
            text
        }
        Encoding::Utf16Le | Encoding::Utf16Be => {
            let units = bytes.chunks_exact(2).map(|pair| match encoding {
                Encoding::Utf16Le => u16::from_le_bytes([pair[0], pair[1]]),
                _ => u16::from_be_bytes([pair[0], pair[1]]),
            });
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        Encoding::Windows1252 => bytes.iter().map(|&b| windows_1252(b)).collect(),
    }
}

/// The character a Windows-1252 byte stands for.
pub fn windows_1252(byte: u8) -> char {
    // 0x80–0x9F differ from Latin-1; the five unassigned bytes map to C1 controls, as
    // the WHATWG encoding standard does.
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8D}', 'Ž',
        '\u{8F}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9D}',
        'ž', 'Ÿ',
    ];
    match byte {
        0x80..=0x9F => HIGH[usize::from(byte - 0x80)],
        _ => char::from(byte),
    }
}

/// The delimiter that splits the first rows into the most consistent number of columns.
pub fn detect_delimiter(text: &str) -> Delimiter {
    let mut best = (Delimiter::Comma, 0usize, 0usize);
    for delimiter in Delimiter::ALL {
        let Ok(rows) = parse_rows(text, delimiter, PREVIEW_ROWS, false) else {
            continue;
        };
        let Some(columns) = most_common_width(&rows) else {
            continue;
        };
        if columns < 2 {
            continue;
        }
        let consistent = rows.iter().filter(|row| row.len() == columns).count();
        if (consistent, columns) > (best.1, best.2) {
            best = (delimiter, consistent, columns);
        }
    }
    best.0
}

fn most_common_width(rows: &[Vec<String>]) -> Option<usize> {
    let mut widths: Vec<usize> = rows.iter().map(Vec::len).collect();
    widths.sort_unstable();
    widths
        .chunk_by(|a, b| a == b)
        .max_by_key(|run| (run.len(), run[0]))
        .map(|run| run[0])
}

/// Whether the first row is a header: it names a column we know, or it has no digits where
/// the rows below have numbers.
pub fn detect_header(rows: &[Vec<String>]) -> bool {
    let Some(first) = rows.first() else {
        return false;
    };
    if first
        .iter()
        .any(|cell| crate::import::columns::suggest_tag(cell).is_some())
    {
        return true;
    }
    let numeric = |cell: &str| cell.chars().filter(char::is_ascii_digit).count() >= 6;
    let first_has_numbers = first.iter().any(|cell| numeric(cell));
    let rest_have_numbers = rows[1..]
        .iter()
        .any(|row| row.iter().any(|cell| numeric(cell)));
    !first_has_numbers && rest_have_numbers
}

/// Splits text into rows of fields (RFC 4180: quotes, doubled quotes, CRLF/LF/CR, line
/// breaks inside quotes). Stops after `max_rows`. Blank lines are skipped. Unless the text
/// is the `whole` file, a last row that may be cut short is left out.
pub fn parse_rows(
    text: &str,
    delimiter: Delimiter,
    max_rows: usize,
    whole: bool,
) -> Result<Vec<Vec<String>>, FileProblem> {
    let delimiter = char::from(delimiter.byte());
    let mut rows = Vec::new();
    let mut row: Vec<String> = Vec::new();
    let mut field = String::new();
    let mut in_quotes = false;
    let mut quote_line = 0u64;
    let mut line = 1u64;
    let mut field_started = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => in_quotes = false,
                _ => {
                    if c == '\n' || (c == '\r' && chars.peek() != Some(&'\n')) {
                        line += 1;
                    }
                    field.push(c);
                }
            }
            continue;
        }
        match c {
            '"' if !field_started => {
                in_quotes = true;
                field_started = true;
                quote_line = line;
            }
            c if c == delimiter => {
                row.push(std::mem::take(&mut field));
                field_started = false;
            }
            '\r' | '\n' => {
                if c == '\r' && chars.peek() == Some(&'\n') {
                    chars.next();
                }
                line += 1;
                if field_started || !row.is_empty() {
                    row.push(std::mem::take(&mut field));
                    rows.push(std::mem::take(&mut row));
                    if rows.len() == max_rows {
                        return Ok(rows);
                    }
                }
                field_started = false;
            }
            _ => {
                field.push(c);
                field_started = true;
            }
        }
    }
    if in_quotes {
        if whole {
            return Err(FileProblem::UnbalancedQuote { line: quote_line });
        }
        return Ok(rows);
    }
    if whole && (field_started || !row.is_empty()) {
        row.push(field);
        rows.push(row);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sniffed(bytes: &[u8]) -> Sniffed {
        sniff(bytes, true).expect("readable")
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let plain = "first,mobile\nZoë,81234567\n";
        assert_eq!(sniffed(plain.as_bytes()).encoding, Encoding::Utf8);
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), plain.as_bytes()].concat();
        let found = sniffed(&with_bom);
        assert_eq!(found.encoding, Encoding::Utf8);
        let text = decode(&with_bom, found.encoding);
        assert!(text.starts_with("first"), "the BOM is not part of the text");
        assert!(text.contains("Zoë"));
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
            assert_eq!(decode(&bytes, encoding), text);
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_are_windows_1252() {
        let bytes = b"name,mobile\nJos\xE9 \x80,81234567\n";
        let found = sniffed(bytes);
        assert_eq!(found.encoding, Encoding::Windows1252);
        assert!(decode(bytes, found.encoding).contains("José €"));
    }

    #[test]
    fn a_slice_cut_inside_a_character_is_still_utf8() {
        let text = "name\nZoë";
        let cut = &text.as_bytes()[..text.len() - 1];
        assert_eq!(detect_encoding(cut), Ok(Encoding::Utf8));
        assert_eq!(decode(cut, Encoding::Utf8), "name\nZo");
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
        let rows = |text: &str| parse_rows(text, Delimiter::Comma, 20, true).unwrap();
        assert!(detect_header(&rows("Given Name,Phone\nAnn,81234567\n")));
        assert!(
            detect_header(&rows("who,where\nAnn,81234567\n")),
            "no digits above numbers"
        );
        assert!(!detect_header(&rows("Ann,81234567\nBo,91234567\n")));
        assert!(!detect_header(&rows("81234567\n91234567\n")));
    }

    #[test]
    fn quotes_doubled_quotes_and_line_breaks() {
        let text = "a,b\r\n\"x \"\"y\"\"\",\"line\nbreak\"\r\n,\r\n\nlast,row";
        let rows = parse_rows(text, Delimiter::Comma, 20, true).unwrap();
        assert_eq!(
            rows,
            vec![
                vec!["a", "b"],
                vec!["x \"y\"", "line\nbreak"],
                vec!["", ""],
                vec!["last", "row"],
            ]
        );
    }

    #[test]
    fn a_cut_last_row_is_left_out_of_a_slice() {
        let text = "a,b\nc,d\ne,";
        assert_eq!(
            parse_rows(text, Delimiter::Comma, 20, false).unwrap().len(),
            2
        );
        assert_eq!(
            parse_rows(text, Delimiter::Comma, 20, true).unwrap().len(),
            3
        );
    }

    #[test]
    fn unbalanced_quotes_name_the_line() {
        let text = "name,mobile\nAnn,81234567\n\"Bo,91234567\nCy,92345678\n";
        assert_eq!(
            sniff(text.as_bytes(), true),
            Err(FileProblem::UnbalancedQuote { line: 3 })
        );
        // In a slice, the quote may close after the slice ends.
        assert!(sniff(text.as_bytes(), false).is_ok());
    }

    #[test]
    fn max_rows_stops_early() {
        let text = "1\n2\n3\n4\n";
        assert_eq!(
            parse_rows(text, Delimiter::Comma, 2, true).unwrap().len(),
            2
        );
    }
}
