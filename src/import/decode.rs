//! A reader that turns a file in any of our encodings into UTF-8 as it streams, so the
//! CSV parser always sees UTF-8 and memory stays flat whatever the file's size.

use crate::import::sniff::{Encoding, windows_1252};
use std::io::{self, Read};

/// Raw bytes read from the file per refill.
const CHUNK: usize = 64 * 1024;

/// Streams `inner` as UTF-8 without its byte-order mark, and counts the raw bytes read.
pub struct TextReader<R> {
    inner: R,
    encoding: Encoding,
    raw: Vec<u8>,
    /// Bytes of an incomplete character carried to the next refill (UTF-16 only).
    carry: Vec<u8>,
    decoded: Vec<u8>,
    pos: usize,
    raw_read: u64,
    started: bool,
}

impl<R: Read> TextReader<R> {
    /// Wraps `inner`, read as `encoding`.
    pub fn new(inner: R, encoding: Encoding) -> Self {
        TextReader {
            inner,
            encoding,
            raw: vec![0; CHUNK],
            carry: Vec::new(),
            decoded: Vec::new(),
            pos: 0,
            raw_read: 0,
            started: false,
        }
    }

    /// Bytes of the underlying file read so far.
    pub fn raw_bytes_read(&self) -> u64 {
        self.raw_read
    }

    /// Decodes the next chunk into `decoded`; false at the end of the input.
    fn refill(&mut self) -> io::Result<bool> {
        self.decoded.clear();
        self.pos = 0;
        loop {
            let n = self.inner.read(&mut self.raw)?;
            self.raw_read += n as u64;
            if n == 0 {
                let rest = std::mem::take(&mut self.carry);
                if !self.started {
                    // A file shorter than a byte-order mark.
                    self.started = true;
                    let start = self.encoding.bom_len(&rest);
                    self.decode(&rest[start..]);
                } else if !rest.is_empty() {
                    self.carry = rest;
                }
                if !self.carry.is_empty() {
                    // A lone trailing byte or surrogate: not a character.
                    self.carry.clear();
                    self.decoded.extend_from_slice("\u{FFFD}".as_bytes());
                }
                return Ok(!self.decoded.is_empty());
            }
            let mut bytes = std::mem::take(&mut self.carry);
            bytes.extend_from_slice(&self.raw[..n]);
            let mut start = 0;
            if !self.started {
                // The byte-order mark may arrive over more than one read.
                if bytes.len() < 3 && n > 0 && self.encoding != Encoding::Windows1252 {
                    self.carry = bytes;
                    continue;
                }
                start = self.encoding.bom_len(&bytes);
                self.started = true;
            }
            self.decode(&bytes[start..]);
            if !self.decoded.is_empty() {
                return Ok(true);
            }
        }
    }

    fn decode(&mut self, bytes: &[u8]) {
        match self.encoding {
            Encoding::Utf8 => self.decoded.extend_from_slice(bytes),
            Encoding::Windows1252 => {
                for &b in bytes {
                    if b.is_ascii() {
                        self.decoded.push(b);
                    } else {
                        let mut buf = [0; 4];
                        self.decoded
                            .extend_from_slice(windows_1252(b).encode_utf8(&mut buf).as_bytes());
                    }
                }
            }
            Encoding::Utf16Le | Encoding::Utf16Be => {
                let even = bytes.len() & !1;
                let mut units: Vec<u16> = bytes[..even]
                    .chunks_exact(2)
                    .map(|p| match self.encoding {
                        Encoding::Utf16Le => u16::from_le_bytes([p[0], p[1]]),
                        _ => u16::from_be_bytes([p[0], p[1]]),
                    })
                    .collect();
                let mut keep = bytes.len() - even;
                // A high surrogate at the end waits for its pair.
                if units.last().is_some_and(|u| (0xD800..0xDC00).contains(u)) {
                    units.pop();
                    keep += 2;
                }
                self.carry.extend_from_slice(&bytes[bytes.len() - keep..]);
                let mut buf = [0; 4];
                for c in char::decode_utf16(units) {
                    let c = c.unwrap_or(char::REPLACEMENT_CHARACTER);
                    self.decoded
                        .extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
            }
        }
    }
}

impl<R: Read> Read for TextReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.decoded.len() && !self.refill()? {
            return Ok(0);
        }
        let n = out.len().min(self.decoded.len() - self.pos);
        out[..n].copy_from_slice(&self.decoded[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that hands out at most `step` bytes per read, to split characters.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = self.step.min(out.len()).min(self.bytes.len());
            out[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    fn read_all(bytes: &[u8], encoding: Encoding, step: usize) -> String {
        let mut reader = TextReader::new(Trickle { bytes, step }, encoding);
        let mut out = String::new();
        reader.read_to_string(&mut out).expect("valid UTF-8 out");
        assert_eq!(reader.raw_bytes_read(), bytes.len() as u64);
        out
    }

    const TEXT: &str = "name,mobile\r\nZoë 😀,+65 8123 4567\r\n";

    #[test]
    fn utf8_loses_only_its_bom() {
        let with_bom = [b"\xEF\xBB\xBF".as_slice(), TEXT.as_bytes()].concat();
        for step in [1, 2, 7, 1 << 20] {
            assert_eq!(read_all(&with_bom, Encoding::Utf8, step), TEXT);
            assert_eq!(read_all(TEXT.as_bytes(), Encoding::Utf8, step), TEXT);
        }
    }

    #[test]
    fn utf16_is_transcoded_across_any_read_boundary() {
        let le: Vec<u8> = [0xFF, 0xFE]
            .into_iter()
            .chain(TEXT.encode_utf16().flat_map(u16::to_le_bytes))
            .collect();
        let be: Vec<u8> = [0xFE, 0xFF]
            .into_iter()
            .chain(TEXT.encode_utf16().flat_map(u16::to_be_bytes))
            .collect();
        for step in [1, 3, 5, 1 << 20] {
            assert_eq!(read_all(&le, Encoding::Utf16Le, step), TEXT);
            assert_eq!(read_all(&be, Encoding::Utf16Be, step), TEXT);
        }
    }

    #[test]
    fn files_shorter_than_a_bom_and_odd_utf16_endings() {
        assert_eq!(read_all(b"a", Encoding::Utf8, 1), "a");
        assert_eq!(read_all(b"", Encoding::Utf8, 1), "");
        assert_eq!(read_all(b"\xFF\xFEa\0b", Encoding::Utf16Le, 4), "a\u{FFFD}");
    }

    #[test]
    fn windows_1252_is_transcoded() {
        assert_eq!(
            read_all(b"Jos\xE9;\x80 5", Encoding::Windows1252, 2),
            "José;€ 5"
        );
    }
}
