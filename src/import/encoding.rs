//! Text encodings of uploaded files, decoded by the WHATWG Encoding Standard: with the
//! browser's own `TextDecoder` for the preview, with `encoding_rs` (the same standard,
//! Firefox's implementation) on the server, so both turn the same bytes into the same
//! text. `tests/corpus/encodings/` holds a file per encoding that both sides are tested on.

use crate::import::sniff::FileProblem;
use serde::{Deserialize, Serialize};

/// Text encodings a file may be in: Unicode, and the legacy code pages spreadsheets still
/// write CSV in (Excel's "CSV" is the system's ANSI code page).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Encoding {
    /// UTF-8, with or without a byte-order mark.
    Utf8,
    /// UTF-16 little-endian (Excel's "Unicode text").
    Utf16Le,
    /// UTF-16 big-endian.
    Utf16Be,
    /// Western European (Windows-1252; also what ISO-8859-1 means on the web).
    Windows1252,
    /// Central European (Windows-1250).
    Windows1250,
    /// Cyrillic (Windows-1251).
    Windows1251,
    /// Greek (Windows-1253).
    Windows1253,
    /// Turkish (Windows-1254).
    Windows1254,
    /// Baltic (Windows-1257).
    Windows1257,
    /// Vietnamese (Windows-1258).
    Windows1258,
    /// Thai (Windows-874).
    Windows874,
    /// Central European (ISO-8859-2).
    Iso8859_2,
    /// Western European with the euro sign (ISO-8859-15).
    Iso8859_15,
    /// Cyrillic (KOI8-R).
    Koi8R,
    /// Japanese (Shift_JIS).
    ShiftJis,
    /// Japanese (EUC-JP).
    EucJp,
    /// Korean (EUC-KR).
    EucKr,
    /// Simplified Chinese (GB18030, which covers GBK and GB2312).
    Gb18030,
    /// Traditional Chinese (Big5).
    Big5,
}

impl Encoding {
    /// Every encoding, in the order the override menu lists them.
    pub const ALL: [Encoding; 19] = [
        Encoding::Utf8,
        Encoding::Utf16Le,
        Encoding::Utf16Be,
        Encoding::Windows1252,
        Encoding::Iso8859_15,
        Encoding::Windows1250,
        Encoding::Iso8859_2,
        Encoding::Windows1251,
        Encoding::Koi8R,
        Encoding::Windows1253,
        Encoding::Windows1254,
        Encoding::Windows1257,
        Encoding::Windows1258,
        Encoding::Windows874,
        Encoding::ShiftJis,
        Encoding::EucJp,
        Encoding::EucKr,
        Encoding::Gb18030,
        Encoding::Big5,
    ];

    /// The encoding's name in the WHATWG Encoding Standard (what `TextDecoder` and
    /// `encoding_rs` take).
    pub fn whatwg_name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf16Le => "utf-16le",
            Encoding::Utf16Be => "utf-16be",
            Encoding::Windows1252 => "windows-1252",
            Encoding::Windows1250 => "windows-1250",
            Encoding::Windows1251 => "windows-1251",
            Encoding::Windows1253 => "windows-1253",
            Encoding::Windows1254 => "windows-1254",
            Encoding::Windows1257 => "windows-1257",
            Encoding::Windows1258 => "windows-1258",
            Encoding::Windows874 => "windows-874",
            Encoding::Iso8859_2 => "iso-8859-2",
            Encoding::Iso8859_15 => "iso-8859-15",
            Encoding::Koi8R => "koi8-r",
            Encoding::ShiftJis => "shift_jis",
            Encoding::EucJp => "euc-jp",
            Encoding::EucKr => "euc-kr",
            Encoding::Gb18030 => "gb18030",
            Encoding::Big5 => "big5",
        }
    }

    /// The name shown to users.
    pub fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "UTF-8",
            Encoding::Utf16Le => "UTF-16 LE",
            Encoding::Utf16Be => "UTF-16 BE",
            Encoding::Windows1252 => "Western (Windows-1252)",
            Encoding::Windows1250 => "Central European (Windows-1250)",
            Encoding::Windows1251 => "Cyrillic (Windows-1251)",
            Encoding::Windows1253 => "Greek (Windows-1253)",
            Encoding::Windows1254 => "Turkish (Windows-1254)",
            Encoding::Windows1257 => "Baltic (Windows-1257)",
            Encoding::Windows1258 => "Vietnamese (Windows-1258)",
            Encoding::Windows874 => "Thai (Windows-874)",
            Encoding::Iso8859_2 => "Central European (ISO-8859-2)",
            Encoding::Iso8859_15 => "Western (ISO-8859-15)",
            Encoding::Koi8R => "Cyrillic (KOI8-R)",
            Encoding::ShiftJis => "Japanese (Shift_JIS)",
            Encoding::EucJp => "Japanese (EUC-JP)",
            Encoding::EucKr => "Korean (EUC-KR)",
            Encoding::Gb18030 => "Chinese, simplified (GB18030)",
            Encoding::Big5 => "Chinese, traditional (Big5)",
        }
    }

    /// The encoding a byte-order mark at the start of `bytes` declares, if any.
    fn from_bom(bytes: &[u8]) -> Option<Encoding> {
        if bytes.starts_with(b"\xEF\xBB\xBF") {
            Some(Encoding::Utf8)
        } else if bytes.starts_with(b"\xFF\xFE") {
            Some(Encoding::Utf16Le)
        } else if bytes.starts_with(b"\xFE\xFF") {
            Some(Encoding::Utf16Be)
        } else {
            None
        }
    }

    /// The encoding of a file judged from its first bytes: a byte-order mark says it;
    /// text that is valid UTF-8 is UTF-8; other text is taken for Windows-1252 (Excel's
    /// default on Windows) until the user picks another in the preview.
    pub fn detect(bytes: &[u8]) -> Result<Encoding, FileProblem> {
        if let Some(encoding) = Encoding::from_bom(bytes) {
            return Ok(encoding);
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
}

/// Decodes the first bytes of a file (all of it when `whole`) as `encoding`: its own
/// byte-order mark removed, bytes that do not decode replaced by U+FFFD, and a character
/// cut off at the end of a slice left out.
#[cfg(feature = "hydrate")]
pub fn decode(bytes: &[u8], encoding: Encoding, whole: bool) -> String {
    let decoder = web_sys::TextDecoder::new_with_label(encoding.whatwg_name());
    let options = web_sys::TextDecodeOptions::new();
    // Streaming keeps an incomplete last character back instead of replacing it.
    options.set_stream(!whole);
    decoder
        .and_then(|d| d.decode_with_u8_array_and_options(bytes, &options))
        .unwrap_or_default()
}

/// Decodes the first bytes of a file (all of it when `whole`) as `encoding`: its own
/// byte-order mark removed, bytes that do not decode replaced by U+FFFD, and a character
/// cut off at the end of a slice left out.
#[cfg(not(feature = "hydrate"))]
pub fn decode(bytes: &[u8], encoding: Encoding, whole: bool) -> String {
    let mut decoder = server::encoding_rs_of(encoding).new_decoder_with_bom_removal();
    let mut text = String::with_capacity(
        decoder
            .max_utf8_buffer_length(bytes.len())
            .unwrap_or(bytes.len() * 3),
    );
    let _ = decoder.decode_to_string(bytes, &mut text, whole);
    text
}

#[cfg(not(feature = "hydrate"))]
pub use server::decoding_reader;

#[cfg(not(feature = "hydrate"))]
mod server {
    use super::Encoding;
    use std::io::Read;

    /// The `encoding_rs` encoding of the same name.
    pub fn encoding_rs_of(encoding: Encoding) -> &'static encoding_rs::Encoding {
        encoding_rs::Encoding::for_label(encoding.whatwg_name().as_bytes())
            .unwrap_or(encoding_rs::UTF_8)
    }

    /// Streams `input` as UTF-8 text, decoded as `encoding` the way [`super::decode`]
    /// decodes a slice: in small steps, so memory stays flat whatever the file's size.
    pub fn decoding_reader<R: Read>(input: R, encoding: Encoding) -> impl Read {
        encoding_rs_io::DecodeReaderBytesBuilder::new()
            .encoding(Some(encoding_rs_of(encoding)))
            .build(input)
    }
}

#[cfg(all(test, not(feature = "hydrate")))]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn every_encoding_is_known_to_encoding_rs_by_its_whatwg_name() {
        for encoding in Encoding::ALL {
            let found = encoding_rs::Encoding::for_label(encoding.whatwg_name().as_bytes())
                .unwrap_or_else(|| panic!("{encoding:?}"));
            assert_eq!(found.name().to_ascii_lowercase(), encoding.whatwg_name());
        }
    }

    #[test]
    fn detection_by_bom_validity_and_control_bytes() {
        assert_eq!(Encoding::detect(b"\xEF\xBB\xBFa,b"), Ok(Encoding::Utf8));
        assert_eq!(Encoding::detect(b"\xFF\xFEa\0"), Ok(Encoding::Utf16Le));
        assert_eq!(Encoding::detect(b"\xFE\xFF\0a"), Ok(Encoding::Utf16Be));
        assert_eq!(Encoding::detect("Zoë,1".as_bytes()), Ok(Encoding::Utf8));
        assert_eq!(Encoding::detect(b"Jos\xE9,1"), Ok(Encoding::Windows1252));
        // A slice cut inside a character is still UTF-8.
        let cut = &"name\nZoë".as_bytes()[..9];
        assert_eq!(Encoding::detect(cut), Ok(Encoding::Utf8));
        assert_eq!(
            Encoding::detect(b"\x89PNG\r\n\x1a\n\0\0"),
            Err(FileProblem::Binary)
        );
        assert_eq!(Encoding::detect(b" \n\r\n"), Err(FileProblem::Empty));
    }

    #[test]
    fn a_slice_keeps_a_cut_character_back_and_a_whole_file_does_not() {
        let text = "name\nZoë";
        let cut = &text.as_bytes()[..text.len() - 1];
        assert_eq!(decode(cut, Encoding::Utf8, false), "name\nZo");
        assert_eq!(decode(cut, Encoding::Utf8, true), "name\nZo\u{FFFD}");
        assert_eq!(
            decode(b"\xEF\xBB\xBFa", Encoding::Utf8, true),
            "a",
            "own BOM removed"
        );
    }

    #[test]
    fn the_stream_decodes_as_the_slice_does() {
        let bytes: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain("name;Åsa\r\n".encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let mut streamed = String::new();
        decoding_reader(bytes.as_slice(), Encoding::Utf16Le)
            .read_to_string(&mut streamed)
            .unwrap();
        assert_eq!(streamed, decode(&bytes, Encoding::Utf16Le, true));
        assert_eq!(streamed, "name;Åsa\r\n");
    }
}
