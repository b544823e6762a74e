//! What a workbook may make the server hold, checked before calamine reads it: calamine
//! trusts the sizes a file declares (a zip entry inflates past its stated size, a
//! shared-string count or an .xls dimension is reserved up front, an .ods repeat count is
//! expanded), so a small hostile file could otherwise take gigabytes or abort the process.
//!
//! - **Zip** (.xlsx, .xlsm, .xlsb, .ods): every entry is inflated once into a counter,
//!   stopped at [`MAX_ENTRY_BYTES`] each and [`MAX_INFLATED_BYTES`] in all, and no entry
//!   may inflate more than [`MAX_RATIO`] times its compressed size. The shared-string
//!   count declared is held to what the table's size can hold, and an .ods sheet's
//!   repeated rows and cells are counted as calamine will expand them.
//! - **Compound files** (.xls): the header's table sizes are held to the file's size, and
//!   every sheet's cell records are read to bound the grid calamine allocates.

use super::SheetProblem;
use std::io::{self, Cursor, Read, Write};

/// The most one zip entry may inflate to.
pub const MAX_ENTRY_BYTES: u64 = 1 << 30;

/// The most all of a workbook's zip entries may inflate to.
pub const MAX_INFLATED_BYTES: u64 = 2 << 30;

/// The most an entry may inflate relative to its compressed size (spreadsheet XML
/// compresses 10–30 times; a zip bomb's entries about a thousand times, deflate's most).
pub const MAX_RATIO: u64 = 500;

/// Entries smaller than this inflated are not held to [`MAX_RATIO`] (a run of blank
/// cells compresses far better than real data, and a small entry costs little).
const RATIO_FREE_BYTES: u64 = 16 << 20;

/// The most a workbook's shared-string table may inflate to: calamine holds it whole.
pub const MAX_SHARED_STRINGS_BYTES: u64 = 128 << 20;

/// The most entries a workbook's zip may have.
pub const MAX_ENTRIES: usize = 10_000;

/// The most cells an .xls or .ods file may hold in all its sheets (these formats are read
/// whole, so every cell of every sheet's used area is in memory at once, ~56 bytes each
/// and its text).
pub const MAX_WHOLE_CELLS: u64 = 1_000_000;

/// The most entries calamine may reserve for a compound file's sector index (4 bytes
/// each, reserved but not written: 64 MB of address space at most).
const MAX_DIFAT_RESERVE: u64 = 1 << 24;

/// What kind of workbook a zip holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZipKind {
    /// Office Open XML (.xlsx, .xlsm).
    Xlsx,
    /// Excel binary (.xlsb).
    Xlsb,
    /// OpenDocument (.ods).
    Ods,
}

fn broken(what: &str) -> SheetProblem {
    SheetProblem(format!(
        "The file is not a readable spreadsheet ({what}). Open it in your spreadsheet \
         program, save it again as .xlsx, and upload that."
    ))
}

fn too_big(what: impl std::fmt::Display) -> SheetProblem {
    SheetProblem(format!(
        "The spreadsheet {what}, more than this server reads. Save it as CSV (or split it) \
         and upload that."
    ))
}

/// Inflates every entry of a zip under the limits and says which workbook it holds.
pub fn check_zip(bytes: &[u8]) -> Result<ZipKind, SheetProblem> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| {
        SheetProblem(
            "The file is a damaged zip archive, not a spreadsheet that can be read. Open it in \
             your spreadsheet program, save it again, and upload that."
                .into(),
        )
    })?;
    if zip.len() > MAX_ENTRIES {
        return Err(too_big(format_args!("has {} parts", zip.len())));
    }
    if zip
        .has_overlapping_files()
        .map_err(|_| broken("overlapping parts"))?
    {
        return Err(broken("overlapping parts"));
    }
    let mut kind = None;
    let mut encrypted = false;
    let mut total = 0u64;
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(|e| match e {
            zip::result::ZipError::UnsupportedArchive(msg) if msg.contains("ncrypt") => {
                password_protected()
            }
            _ => broken("a part cannot be opened"),
        })?;
        if entry.encrypted() {
            return Err(password_protected());
        }
        let name = entry.name().to_string();
        let compressed = entry.compressed_size();
        let cap = MAX_ENTRY_BYTES.min(MAX_INFLATED_BYTES - total);
        let mut sink = Head::new(if is_counted(&name) { 64 << 10 } else { 0 });
        let inflated = io::copy(&mut (&mut entry).take(cap + 1), &mut sink)
            .map_err(|_| broken("a part is damaged"))?;
        if inflated > cap {
            return Err(too_big(format_args!(
                "inflates to more than {} MB",
                cap >> 20
            )));
        }
        if inflated > RATIO_FREE_BYTES && inflated / compressed.max(1) > MAX_RATIO {
            return Err(SheetProblem(format!(
                "The file is a zip bomb: its part \"{}\" inflates {} times its size. It was \
                 not read.",
                name.chars().take(80).collect::<String>(),
                inflated / compressed.max(1)
            )));
        }
        total += inflated;
        match name.as_str() {
            "xl/workbook.xml" => kind = Some(ZipKind::Xlsx),
            "xl/workbook.bin" => kind = Some(ZipKind::Xlsb),
            "content.xml" => kind = kind.or(Some(ZipKind::Ods)),
            "xl/sharedStrings.xml" => check_shared_strings(&sink.head, inflated)?,
            // An encrypted .ods lists how each part is encrypted here.
            "META-INF/manifest.xml" => {
                let marker = b"encryption-data";
                encrypted = sink.head.windows(marker.len()).any(|w| w == marker);
            }
            _ => {}
        }
    }
    let kind = kind.ok_or_else(|| {
        SheetProblem(
            "The file is a zip archive but not a spreadsheet: it has no workbook in it. \
             Upload an .xlsx, .xls, .ods or .csv file."
                .into(),
        )
    })?;
    if encrypted {
        return Err(password_protected());
    }
    if kind == ZipKind::Ods {
        let content = zip
            .by_name("content.xml")
            .map_err(|_| broken("no content"))?;
        let cells = ods_cells(io::BufReader::new(content))?;
        if cells > MAX_WHOLE_CELLS {
            return Err(whole_too_big(cells, "OpenDocument (.ods)"));
        }
    }
    Ok(kind)
}

/// A workbook that needs a password to be read.
pub(super) fn password_protected() -> SheetProblem {
    SheetProblem(
        "The workbook is password-protected, so it cannot be read. Open it, remove the \
         password (or save a copy without one), and upload that."
            .into(),
    )
}

fn whole_too_big(cells: u64, format: &str) -> SheetProblem {
    SheetProblem(format!(
        "The {format} file spans {cells} cells, more than the {MAX_WHOLE_CELLS} this server \
         reads from that format. Save it as .xlsx or CSV and upload that."
    ))
}

/// Entries whose first bytes are looked at.
fn is_counted(name: &str) -> bool {
    matches!(name, "xl/sharedStrings.xml" | "META-INF/manifest.xml")
}

/// calamine reserves room for the table's declared `uniqueCount` before reading it: the
/// count may not exceed what the table's text can hold (each entry takes at least
/// `<si/>`, five bytes).
fn check_shared_strings(head: &[u8], inflated: u64) -> Result<(), SheetProblem> {
    let key = b"uniqueCount=\"";
    let Some(at) = head.windows(key.len()).position(|w| w == key) else {
        return Ok(());
    };
    let digits: Vec<u8> = head[at + key.len()..]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    let declared: u64 = std::str::from_utf8(&digits)
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(u64::MAX);
    if declared > inflated / 5 {
        return Err(broken(
            "its table of texts declares more entries than it holds",
        ));
    }
    if inflated > MAX_SHARED_STRINGS_BYTES {
        return Err(too_big(format_args!(
            "holds more than {} MB of distinct texts",
            MAX_SHARED_STRINGS_BYTES >> 20
        )));
    }
    Ok(())
}

/// A writer that counts and keeps the first bytes written to it.
struct Head {
    head: Vec<u8>,
    keep: usize,
}

impl Head {
    fn new(keep: usize) -> Self {
        Head {
            head: Vec::new(),
            keep,
        }
    }
}

impl Write for Head {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        let room = self.keep.saturating_sub(self.head.len()).min(bytes.len());
        self.head.extend_from_slice(&bytes[..room]);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// The cells calamine will hold for an .ods file's sheets: each sheet's rows (repeats
/// expanded) up to its last row with a value, times its widest row up to its last value.
fn ods_cells(content: impl io::BufRead) -> Result<u64, SheetProblem> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_reader(content);
    let mut buf = Vec::new();
    let mut total = 0u64;
    // Per sheet: rows so far (with repeats), rows up to the last with a value, widest.
    let (mut rows, mut used_rows, mut width) = (0u64, 0u64, 0u64);
    // Per row: its repeat count, cells so far, cells up to the last with a value.
    let (mut row_repeat, mut cells, mut used_cells) = (1u64, 0u64, 0u64);
    let repeat = |e: &quick_xml::events::BytesStart, name: &[u8]| -> u64 {
        e.try_get_attribute(name)
            .ok()
            .flatten()
            .and_then(|a| std::str::from_utf8(&a.value).ok()?.parse().ok())
            .unwrap_or(1)
    };
    loop {
        let event = reader
            .read_event_into(&mut buf)
            .map_err(|_| broken("its content is not well-formed"))?;
        match event {
            Event::Start(ref e) | Event::Empty(ref e) => match e.name().as_ref() {
                b"table:table" => (rows, used_rows, width) = (0, 0, 0),
                b"table:table-row" => {
                    row_repeat = repeat(e, b"table:number-rows-repeated");
                    (cells, used_cells) = (0, 0);
                    if matches!(event, Event::Empty(_)) {
                        rows = rows.saturating_add(row_repeat);
                    }
                }
                b"table:table-cell" | b"table:covered-table-cell" => {
                    cells = cells.saturating_add(repeat(e, b"table:number-columns-repeated"));
                    // A cell with a value has one of these (or, as a start tag, text).
                    let valued = matches!(event, Event::Start(_))
                        || e.try_get_attribute(b"office:value-type")
                            .ok()
                            .flatten()
                            .is_some();
                    if valued {
                        used_cells = cells;
                    }
                }
                _ => {}
            },
            Event::End(ref e) => match e.name().as_ref() {
                b"table:table-row" => {
                    rows = rows.saturating_add(row_repeat);
                    if used_cells > 0 {
                        used_rows = rows;
                        width = width.max(used_cells);
                    }
                }
                b"table:table" => total = total.saturating_add(used_rows.saturating_mul(width)),
                _ => {}
            },
            Event::Eof => break,
            _ => {}
        }
        if total > MAX_WHOLE_CELLS || used_rows.saturating_mul(width) > MAX_WHOLE_CELLS {
            return Ok(total.max(used_rows.saturating_mul(width)));
        }
        buf.clear();
    }
    Ok(total)
}

/// What a compound file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompoundKind {
    /// An Excel 97–2003 workbook.
    Xls,
}

/// Checks a compound file: an encrypted Office document is refused as such, an .xls has
/// its header and its sheets' cell grids held to the limits.
pub fn check_compound(bytes: &[u8]) -> Result<CompoundKind, SheetProblem> {
    check_compound_header(bytes)?;
    let file =
        cfb::CompoundFile::open(Cursor::new(bytes)).map_err(|_| broken("a damaged Office file"))?;
    if file.is_stream("/EncryptedPackage") {
        return Err(password_protected());
    }
    let stream = ["/Workbook", "/Book"]
        .into_iter()
        .find(|name| file.is_stream(name))
        .ok_or_else(|| {
            SheetProblem(
                "The file is an Office document but not a spreadsheet. Upload an .xlsx, .xls, \
                 .ods or .csv file."
                    .into(),
            )
        })?;
    let mut file = file;
    let mut workbook = Vec::new();
    file.open_stream(stream)
        .and_then(|mut s| s.read_to_end(&mut workbook))
        .map_err(|_| broken("its workbook cannot be read"))?;
    let cells = xls_cells(&workbook)?;
    if cells > MAX_WHOLE_CELLS {
        return Err(whole_too_big(cells, "Excel 97–2003 (.xls)"));
    }
    Ok(CompoundKind::Xls)
}

/// calamine sizes two tables from the header before reading anything (the second from
/// bytes 62..66, which straddle two fields): the first may not be larger than the file
/// could fill, the second not larger than [`MAX_DIFAT_RESERVE`] entries.
fn check_compound_header(bytes: &[u8]) -> Result<(), SheetProblem> {
    let u32_at = |at: usize| {
        bytes
            .get(at..at + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64)
    };
    let len = bytes.len() as u64;
    match (u32_at(44), u32_at(62)) {
        (Some(fat), Some(difat)) if fat <= len / 512 + 1 && difat <= MAX_DIFAT_RESERVE => Ok(()),
        _ => Err(broken("a damaged Office file")),
    }
}

/// The cells calamine will hold for an .xls workbook stream: per sheet, the larger of
/// its declared dimensions and the bounding box of its cell records. (The records after
/// a FilePass record are encrypted: such a workbook needs its password.)
fn xls_cells(stream: &[u8]) -> Result<u64, SheetProblem> {
    let u16_at = |at: usize| {
        stream
            .get(at..at + 2)
            .map_or(0, |b| u16::from_le_bytes([b[0], b[1]]) as u64)
    };
    let u32_at = |at: usize| {
        stream
            .get(at..at + 4)
            .map_or(0, |b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as u64)
    };
    let mut total = 0u64;
    let (mut max_row, mut max_col, mut declared) = (0u64, 0u64, 0u64);
    let mut at = 0usize;
    while at + 4 <= stream.len() {
        let (kind, len) = (u16_at(at), u16_at(at + 2) as usize);
        let data = at + 4;
        match kind {
            // BOF: a sheet (or the globals) starts.
            0x0809 => (max_row, max_col, declared) = (0, 0, 0),
            0x002F => return Err(password_protected()),
            // Dimensions: first row, last row + 1 (u32), first col, last col + 1 (u16).
            0x0200 => {
                let rows = u32_at(data + 4).saturating_sub(u32_at(data));
                let cols = u16_at(data + 10).saturating_sub(u16_at(data + 8));
                declared = rows.saturating_mul(cols);
            }
            // Cells: row and column first.
            0x0203 | 0x0204 | 0x00D6 | 0x0205 | 0x0006 | 0x00FD | 0x027E | 0x00BD | 0x0201
            | 0x00BE => {
                max_row = max_row.max(u16_at(data) + 1);
                max_col = max_col.max(u16_at(data + 2) + 1);
                if kind == 0x00BD || kind == 0x00BE {
                    // MulRk / MulBlank: the last column is the record's last two bytes.
                    max_col = max_col.max(u16_at(data + len.saturating_sub(2)) + 1);
                }
            }
            // EOF: the sheet ends.
            0x000A => {
                total = total.saturating_add(declared.max(max_row.saturating_mul(max_col)));
                (max_row, max_col, declared) = (0, 0, 0);
            }
            _ => {}
        }
        at = data + len;
    }
    Ok(total.saturating_add(declared.max(max_row.saturating_mul(max_col))))
}
