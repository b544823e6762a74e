//! The reader: a workbook checked against the [`limits`] and opened, its sheets' rows
//! given one at a time. The file is held in memory (a zip is read from its end) up to
//! [`MAX_WORKBOOK_BYTES`]. .xlsx and .xlsb sheets are streamed cell by cell; .xls and
//! .ods are read whole by calamine, within [`limits::MAX_WHOLE_CELLS`].

use crate::{
    Bounds, COMPOUND_MAGIC, MAX_WORKBOOK_BYTES, Oversize, Sample, SheetProblem, SheetRow, limits,
};
use calamine::{DataRef, Ods, Reader, SheetType, Xls, Xlsb, XlsbError, Xlsx, XlsxError};
use std::io::Cursor;
use std::ops::ControlFlow;

/// Opens a workbook (within the [`limits`]) and reads the first `count` rows of `sheet`
/// (or of its first sheet with a value).
pub fn sample(
    bytes: Vec<u8>,
    sheet: Option<String>,
    bounds: Bounds,
    count: usize,
) -> Result<Sample, SheetProblem> {
    let mut book = Workbook::open(bytes, bounds)?;
    let sheet = match sheet {
        Some(sheet) => sheet,
        None => book.default_sheet()?,
    };
    let mut rows = Vec::new();
    book.rows(&sheet, |row| {
        rows.push(row);
        match rows.len() >= count {
            true => ControlFlow::Break(()),
            false => ControlFlow::Continue(()),
        }
    })?;
    if rows.is_empty() {
        return Err(SheetProblem(format!("The sheet \"{sheet}\" is empty.")));
    }
    Ok(Sample {
        sheets: book.sheets(),
        sheet,
        rows,
    })
}

enum Book {
    Xlsx(Box<Xlsx<Cursor<Vec<u8>>>>),
    Xlsb(Box<Xlsb<Cursor<Vec<u8>>>>),
    Xls(Box<Xls<Cursor<Vec<u8>>>>),
    Ods(Box<Ods<Cursor<Vec<u8>>>>),
}

/// An opened workbook.
pub struct Workbook {
    book: Book,
    bounds: Bounds,
}

fn unreadable(error: impl std::fmt::Display) -> SheetProblem {
    let text = error.to_string();
    if text.contains("password protected") {
        return limits::password_protected();
    }
    SheetProblem(format!(
        "The spreadsheet cannot be read ({}). Open it in your spreadsheet program, save it \
         again as .xlsx, and upload that.",
        text.chars().take(120).collect::<String>()
    ))
}

impl Workbook {
    /// Checks a file against the [`limits`] and opens it.
    pub fn open(bytes: Vec<u8>, bounds: Bounds) -> Result<Workbook, SheetProblem> {
        if bytes.len() as u64 > MAX_WORKBOOK_BYTES {
            return Err(SheetProblem(format!(
                "The spreadsheet is larger than {} MB, the most this server reads. Save it \
                 as CSV and upload that.",
                MAX_WORKBOOK_BYTES >> 20
            )));
        }
        let book = if bytes.starts_with(&COMPOUND_MAGIC) {
            limits::check_compound(&bytes)?;
            Book::Xls(Box::new(Xls::new(Cursor::new(bytes)).map_err(unreadable)?))
        } else if bytes.starts_with(b"PK\x03\x04") {
            match limits::check_zip(&bytes)? {
                limits::ZipKind::Xlsx => {
                    Book::Xlsx(Box::new(Xlsx::new(Cursor::new(bytes)).map_err(unreadable)?))
                }
                limits::ZipKind::Xlsb => {
                    Book::Xlsb(Box::new(Xlsb::new(Cursor::new(bytes)).map_err(unreadable)?))
                }
                limits::ZipKind::Ods => {
                    Book::Ods(Box::new(Ods::new(Cursor::new(bytes)).map_err(unreadable)?))
                }
            }
        } else {
            return Err(SheetProblem(
                "The file's name says it is a spreadsheet, but it is not one (it may be a \
                 CSV file renamed). Upload it with its real ending, such as .csv."
                    .into(),
            ));
        };
        Ok(Workbook { book, bounds })
    }

    /// The names of its worksheets (not chart sheets), in the workbook's order.
    pub fn sheets(&self) -> Vec<String> {
        let metadata = match &self.book {
            Book::Xlsx(b) => b.sheets_metadata(),
            Book::Xlsb(b) => b.sheets_metadata(),
            Book::Xls(b) => b.sheets_metadata(),
            Book::Ods(b) => b.sheets_metadata(),
        };
        metadata
            .iter()
            .filter(|s| s.typ == SheetType::WorkSheet)
            .map(|s| s.name.clone())
            .collect()
    }

    /// The sheet an upload reads unless told otherwise: the first with a value.
    pub fn default_sheet(&mut self) -> Result<String, SheetProblem> {
        for name in self.sheets() {
            let mut found = false;
            self.rows_of(&name, |_| {
                found = true;
                ControlFlow::Break(())
            })?;
            if found {
                return Ok(name);
            }
        }
        Err(SheetProblem(
            "The spreadsheet has no values in any sheet.".into(),
        ))
    }

    /// Gives the rows of a sheet with a value, in order, to `each` until it breaks.
    pub fn rows(
        &mut self,
        sheet: &str,
        each: impl FnMut(SheetRow) -> ControlFlow<()>,
    ) -> Result<(), SheetProblem> {
        let sheets = self.sheets();
        if !sheets.iter().any(|s| s == sheet) {
            // A workbook may have thousands: the message names the first few.
            let mut named = sheets
                .iter()
                .take(20)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ");
            if sheets.len() > 20 {
                named.push_str(&format!(" and {} more", sheets.len() - 20));
            }
            return Err(SheetProblem(format!(
                "The spreadsheet has no sheet \"{sheet}\". Its sheets: {named}."
            )));
        }
        self.rows_of(sheet, each)
    }

    /// [`Workbook::rows`] of a sheet known to be a worksheet of this workbook.
    fn rows_of(
        &mut self,
        sheet: &str,
        mut each: impl FnMut(SheetRow) -> ControlFlow<()>,
    ) -> Result<(), SheetProblem> {
        let mut rows = Assembler::new(self.bounds);
        match &mut self.book {
            Book::Xlsx(book) => {
                let mut cells = book.worksheet_cells_reader(sheet).map_err(unreadable)?;
                let last = cells.dimensions().end.0;
                let next = || match cells.next_cell() {
                    Ok(cell) => Ok(cell.map_or(Next::End, Next::Cell)),
                    // An error calamine does not know (`#SPILL!`, `#CALC!`): an empty cell.
                    Err(XlsxError::CellError(_)) => Ok(Next::Skip),
                    Err(e) => Err(e),
                };
                if streamed(next, last, &mut rows, &mut each)?.is_break() {
                    return Ok(());
                }
            }
            Book::Xlsb(book) => {
                let mut cells = book.worksheet_cells_reader(sheet).map_err(unreadable)?;
                let last = cells.dimensions().end.0;
                let next = || match cells.next_cell() {
                    Ok(cell) => Ok(cell.map_or(Next::End, Next::Cell)),
                    Err(XlsbError::CellError(_)) => Ok(Next::Skip),
                    Err(e) => Err(e),
                };
                if streamed(next, last, &mut rows, &mut each)?.is_break() {
                    return Ok(());
                }
            }
            Book::Xls(book) => {
                let range = book.worksheet_range(sheet).map_err(unreadable)?;
                if whole_range(&range, &mut rows, &mut each)?.is_break() {
                    return Ok(());
                }
            }
            Book::Ods(book) => {
                let range = book.worksheet_range(sheet).map_err(unreadable)?;
                if whole_range(&range, &mut rows, &mut each)?.is_break() {
                    return Ok(());
                }
            }
        }
        let _ = rows.flush(&mut each);
        Ok(())
    }
}

/// What a streaming cell reader gave.
enum Next<'a> {
    Cell(calamine::Cell<DataRef<'a>>),
    /// A cell to leave empty.
    Skip,
    End,
}

/// The cells of a streamed sheet (.xlsx, .xlsb), to the assembler; `last` is the last row
/// the sheet declares (for the progress).
fn streamed<'a, E: std::fmt::Display>(
    mut next: impl FnMut() -> Result<Next<'a>, E>,
    last: u32,
    rows: &mut Assembler,
    each: &mut impl FnMut(SheetRow) -> ControlFlow<()>,
) -> Result<ControlFlow<()>, SheetProblem> {
    loop {
        match next().map_err(unreadable)? {
            Next::Cell(cell) => {
                let (row, col) = cell.get_position();
                if rows
                    .push(row, col, cell.get_value(), last, each)?
                    .is_break()
                {
                    return Ok(ControlFlow::Break(()));
                }
            }
            Next::Skip => {}
            Next::End => return Ok(ControlFlow::Continue(())),
        }
    }
}

/// The cells of a sheet read whole, to the assembler.
fn whole_range(
    range: &calamine::Range<calamine::Data>,
    rows: &mut Assembler,
    each: &mut impl FnMut(SheetRow) -> ControlFlow<()>,
) -> Result<ControlFlow<()>, SheetProblem> {
    let (top, left) = range.start().unwrap_or((0, 0));
    let last = range.end().map_or(0, |(row, _)| row);
    for (row, col, value) in range.used_cells() {
        let flow = rows.push(
            top + row as u32,
            left + col as u32,
            &data_ref(value),
            last,
            each,
        )?;
        if flow.is_break() {
            return Ok(flow);
        }
    }
    Ok(ControlFlow::Continue(()))
}

/// A whole sheet's cell as a streamed one.
fn data_ref(value: &calamine::Data) -> DataRef<'_> {
    use calamine::Data;
    match value {
        Data::Int(i) => DataRef::Int(*i),
        Data::Float(f) => DataRef::Float(*f),
        Data::String(s) => DataRef::SharedString(s),
        Data::Bool(b) => DataRef::Bool(*b),
        Data::DateTime(dt) => DataRef::DateTime(*dt),
        Data::DateTimeIso(s) => DataRef::DateTimeIso(s.clone()),
        Data::DurationIso(s) => DataRef::DurationIso(s.clone()),
        Data::Error(e) => DataRef::Error(e.clone()),
        Data::Empty => DataRef::Empty,
    }
}

/// Gathers cells, which come row by row, into rows.
struct Assembler {
    bounds: Bounds,
    /// The row being gathered, once a cell with a value was met.
    row: Option<u32>,
    cells: Vec<(u32, String)>,
    errors: Vec<usize>,
    bytes: usize,
    problem: Option<Oversize>,
    progress: f64,
}

impl Assembler {
    fn new(bounds: Bounds) -> Assembler {
        Assembler {
            bounds,
            row: None,
            cells: Vec::new(),
            errors: Vec::new(),
            bytes: 0,
            problem: None,
            progress: 0.0,
        }
    }

    fn push(
        &mut self,
        row: u32,
        col: u32,
        value: &DataRef<'_>,
        last_row: u32,
        each: &mut impl FnMut(SheetRow) -> ControlFlow<()>,
    ) -> Result<ControlFlow<()>, SheetProblem> {
        // Measured before it is copied: a shared text may be long and used by many cells.
        let Some(len) = text_len(value) else {
            return Ok(ControlFlow::Continue(()));
        };
        let gathering = self.row;
        match gathering {
            Some(current) if row < current => {
                return Err(SheetProblem(format!(
                    "The sheet's cells are out of order (row {} after row {}). Open it in your \
                     spreadsheet program, save it again, and upload that.",
                    u64::from(row) + 1,
                    u64::from(current) + 1
                )));
            }
            Some(current) if row > current && self.flush(each).is_break() => {
                return Ok(ControlFlow::Break(()));
            }
            _ => {}
        }
        self.row = Some(row);
        self.progress = if last_row > 0 {
            (f64::from(row) / f64::from(last_row)).min(1.0)
        } else {
            0.0
        };
        if self.problem.is_some() {
            return Ok(ControlFlow::Continue(()));
        }
        if col as usize >= self.bounds.max_cells {
            self.problem = Some(Oversize::TooManyCells);
        } else if self.bytes + len > self.bounds.max_bytes {
            self.problem = Some(Oversize::TooLong);
        }
        if self.problem.is_some() {
            self.cells = Vec::new();
            self.errors = Vec::new();
            return Ok(ControlFlow::Continue(()));
        }
        match cell_text(value) {
            Some(Cell::Text(text)) => {
                self.bytes += text.len();
                self.cells.push((col, text));
            }
            Some(Cell::Error) => self.errors.push(col as usize),
            None => {}
        }
        Ok(ControlFlow::Continue(()))
    }

    /// Gives the row gathered so far, if any.
    fn flush(&mut self, each: &mut impl FnMut(SheetRow) -> ControlFlow<()>) -> ControlFlow<()> {
        let Some(row) = self.row.take() else {
            return ControlFlow::Continue(());
        };
        let cells = match self.problem.take() {
            Some(problem) => Err(problem),
            None => {
                let width = self
                    .cells
                    .iter()
                    .map(|(col, _)| *col as usize + 1)
                    .chain(self.errors.iter().map(|col| col + 1))
                    .max()
                    .unwrap_or(0);
                let mut cells = vec![String::new(); width];
                for (col, text) in self.cells.drain(..) {
                    cells[col as usize] = text;
                }
                Ok(cells)
            }
        };
        self.bytes = 0;
        each(SheetRow {
            line: u64::from(row) + 1,
            cells,
            errors: std::mem::take(&mut self.errors),
            progress: self.progress,
        })
    }
}

/// A cell with something in it.
#[derive(Debug, PartialEq)]
enum Cell {
    Text(String),
    Error,
}

/// About how long a cell's text is (exact for text, at most for the rest), or `None` for
/// an empty cell; without copying it.
fn text_len(value: &DataRef<'_>) -> Option<usize> {
    let len = match value {
        DataRef::Empty => return None,
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.len(),
        DataRef::SharedString(s) => s.len(),
        _ => 1,
    };
    (len > 0).then_some(len)
}

/// A cell's text as the import reads it, or `None` for an empty cell.
fn cell_text(value: &DataRef<'_>) -> Option<Cell> {
    let text = match value {
        DataRef::Empty => return None,
        DataRef::Error(_) => return Some(Cell::Error),
        DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_string(),
        DataRef::Float(f) => number_text(*f),
        DataRef::Int(i) => i.to_string(),
        DataRef::Bool(b) => b.to_string(),
        DataRef::DateTime(dt) if dt.is_datetime() => {
            let (y, mo, d, h, mi, s, ms) = dt.to_ymd_hms_milli();
            if (h, mi, s, ms) == (0, 0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
            }
        }
        DataRef::DateTime(dt) => number_text(dt.as_f64()),
    };
    if text.is_empty() {
        return None;
    }
    Some(Cell::Text(text))
}

/// A number as a person reads it: every digit, no exponent, no trailing `.0`, rounded to
/// the 15 significant digits a spreadsheet keeps (so `0.1 + 0.2` is `0.3`).
pub fn number_text(value: f64) -> String {
    if !value.is_finite() {
        return String::new();
    }
    let rounded: f64 = format!("{value:.14e}").parse().unwrap_or(value);
    if rounded == 0.0 {
        return "0".into();
    }
    format!("{rounded}")
}
