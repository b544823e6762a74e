use super::*;
use std::io::{Cursor, Write};
use std::ops::ControlFlow;

/// A CSV record's bounds in the app (1,000 fields, 1 MiB).
const BOUNDS: Bounds = Bounds {
    max_cells: 1_000,
    max_bytes: 1 << 20,
};

/// The rows of a workbook's sheet (its default one if `sheet` is `None`).
fn rows_of(bytes: Vec<u8>, sheet: Option<&str>) -> Result<Vec<SheetRow>, SheetProblem> {
    let mut book = Workbook::open(bytes, BOUNDS)?;
    let sheet = match sheet {
        Some(sheet) => sheet.to_string(),
        None => book.default_sheet()?,
    };
    let mut rows = Vec::new();
    book.rows(&sheet, |row| {
        rows.push(row);
        ControlFlow::Continue(())
    })?;
    Ok(rows)
}

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/../../tests/corpus/sheets/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

/// A zip of these entries (stored or deflated).
fn zip_of(entries: &[(&str, &[u8])], deflate: bool) -> Vec<u8> {
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let method = match deflate {
        true => zip::CompressionMethod::Deflated,
        false => zip::CompressionMethod::Stored,
    };
    let options = zip::write::SimpleFileOptions::default().compression_method(method);
    for (name, bytes) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(bytes).unwrap();
    }
    zip.finish().unwrap().into_inner()
}

/// A minimal .xlsx with one sheet, "Sheet1", of this XML (and these shared strings).
fn xlsx(sheet_data: &str, shared: Option<&str>) -> Vec<u8> {
    let workbook = r#"<?xml version="1.0" encoding="UTF-8"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Sheet1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
    let rels = r#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#;
    let sheet = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{sheet_data}</worksheet>"#
    );
    let package = r#"<?xml version="1.0" encoding="UTF-8"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
    let mut entries: Vec<(&str, &[u8])> = vec![
        ("_rels/.rels", package.as_bytes()),
        ("xl/workbook.xml", workbook.as_bytes()),
        ("xl/_rels/workbook.xml.rels", rels.as_bytes()),
        ("xl/worksheets/sheet1.xml", sheet.as_bytes()),
    ];
    if let Some(shared) = shared {
        entries.push(("xl/sharedStrings.xml", shared.as_bytes()));
    }
    zip_of(&entries, true)
}

fn problem(bytes: Vec<u8>) -> String {
    match rows_of(bytes, None) {
        Err(SheetProblem(message)) => message,
        Ok(rows) => panic!("read {} rows", rows.len()),
    }
}

fn texts(rows: &[SheetRow]) -> Vec<(u64, Vec<String>)> {
    rows.iter()
        .map(|r| (r.line, r.cells.clone().unwrap_or_default()))
        .collect()
}

#[test]
fn numbers_read_as_people_write_them() {
    for (value, text) in [
        (6581234567.0, "6581234567"),
        (0.1 + 0.2, "0.3"),
        (3.0 * 19.9, "59.7"),
        (1e20, "100000000000000000000"),
        (1e-7, "0.0000001"),
        (-0.0, "0"),
        (-12.5, "-12.5"),
        (447700900123.0, "447700900123"),
    ] {
        assert_eq!(number_text(value), text, "{value}");
    }
    assert_eq!(number_text(f64::NAN), "");
}

#[test]
fn a_sheet_reads_row_by_row_with_empty_cells_in_between() {
    let rows = rows_of(
        xlsx(
            r#"<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Mobile</t></is></c><c r="C1" t="inlineStr"><is><t>Name</t></is></c></row>
<row r="4"><c r="A4"><v>81234567</v></c><c r="B4" t="b"><v>1</v></c><c r="C4" t="e"><v>#N/A</v></c></row></sheetData>"#,
            None,
        ),
        None,
    )
    .unwrap();
    assert_eq!(
        texts(&rows),
        [
            (1, vec!["Mobile".into(), "".into(), "Name".into()]),
            (4, vec!["81234567".into(), "true".into(), "".into()]),
        ]
    );
    assert_eq!(rows[1].errors, [2], "the error cell is known as one");
}

#[test]
fn huge_declared_dimensions_with_few_cells_cost_nothing() {
    let rows = rows_of(
        xlsx(
            r#"<dimension ref="A1:XFD1048576"/><sheetData><row r="1"><c r="A1"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row></sheetData>"#,
            None,
        ),
        None,
    )
    .unwrap();
    assert_eq!(texts(&rows), [(1, vec!["1".into()]), (2, vec!["2".into()])]);
}

#[test]
fn a_cell_in_column_16384_refuses_its_row_only() {
    let rows = rows_of(
        xlsx(
            r#"<sheetData><row r="1"><c r="A1"><v>1</v></c><c r="XFD1"><v>2</v></c></row><row r="2"><c r="A2"><v>3</v></c></row></sheetData>"#,
            None,
        ),
        None,
    )
    .unwrap();
    assert_eq!(rows[0].cells, Err(Oversize::TooManyCells));
    assert_eq!(rows[1].cells, Ok(vec!["3".to_string()]));
}

#[test]
fn a_row_over_the_record_limit_is_refused_as_too_long() {
    // Text that does not compress much, as real text does not.
    let mut seed = 7u32;
    let big: String = (0..30_000)
        .map(|_| {
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            char::from(b'a' + (seed >> 16) as u8 % 26)
        })
        .collect();
    let cells: String = (0..40)
        .map(|i| {
            format!(
                r#"<c r="{}1" t="inlineStr"><is><t>{big}</t></is></c>"#,
                column(i)
            )
        })
        .collect();
    let rows = rows_of(
        xlsx(
            &format!(r#"<sheetData><row r="1">{cells}</row></sheetData>"#),
            None,
        ),
        None,
    )
    .unwrap();
    assert_eq!(rows[0].cells, Err(Oversize::TooLong));
}

fn column(i: usize) -> String {
    let mut name = String::new();
    let mut n = i + 1;
    while n > 0 {
        name.insert(0, char::from(b'A' + ((n - 1) % 26) as u8));
        n = (n - 1) / 26;
    }
    name
}

#[test]
fn cells_out_of_row_order_are_refused() {
    let message = problem(xlsx(
        r#"<sheetData><row r="3"><c r="A3"><v>1</v></c></row><row r="2"><c r="A2"><v>2</v></c></row></sheetData>"#,
        None,
    ));
    assert!(
        message.contains("out of order (row 2 after row 3)"),
        "{message}"
    );
}

#[test]
fn a_zip_bomb_is_refused_before_calamine_reads_it() {
    let zeros = vec![b'0'; 64 << 20];
    let bomb = zip_of(
        &[
            ("xl/workbook.xml", b"<workbook/>"),
            ("xl/worksheets/sheet1.xml", &zeros),
        ],
        true,
    );
    assert!(bomb.len() < 1 << 20, "{} bytes", bomb.len());
    let message = problem(bomb);
    assert!(message.contains("zip bomb"), "{message}");
}

#[test]
fn a_shared_string_count_larger_than_its_table_is_refused() {
    let shared = r#"<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" uniqueCount="4000000000"><si><t>a</t></si></sst>"#;
    let message = problem(xlsx("<sheetData/>", Some(shared)));
    assert!(message.contains("declares more entries"), "{message}");
}

#[test]
fn an_ods_whose_repeats_expand_past_the_limit_is_refused() {
    let content = r#"<?xml version="1.0" encoding="UTF-8"?>
<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:spreadsheet><table:table table:name="S"><table:table-row table:number-rows-repeated="1000000"><table:table-cell table:number-columns-repeated="100" office:value-type="float" office:value="1"><text:p>1</text:p></table:table-cell></table:table-row></table:table></office:spreadsheet></office:body></office:document-content>"#;
    let ods = zip_of(
        &[
            (
                "mimetype",
                b"application/vnd.oasis.opendocument.spreadsheet",
            ),
            ("content.xml", content.as_bytes()),
        ],
        true,
    );
    let message = problem(ods);
    assert!(
        message.contains("more than the 1000000 this server reads"),
        "{message}"
    );
}

#[test]
fn an_xls_declaring_a_huge_sheet_is_refused() {
    // BOF, a Dimensions record of 4,000,000,000 rows × 256 columns, EOF.
    let mut stream = Vec::new();
    let mut record = |kind: u16, data: &[u8]| {
        stream.extend_from_slice(&kind.to_le_bytes());
        stream.extend_from_slice(&(data.len() as u16).to_le_bytes());
        stream.extend_from_slice(data);
    };
    record(0x0809, &[0; 16]);
    let mut dimensions = Vec::new();
    dimensions.extend_from_slice(&0u32.to_le_bytes());
    dimensions.extend_from_slice(&4_000_000_000u32.to_le_bytes());
    dimensions.extend_from_slice(&0u16.to_le_bytes());
    dimensions.extend_from_slice(&256u16.to_le_bytes());
    dimensions.extend_from_slice(&0u16.to_le_bytes());
    record(0x0200, &dimensions);
    record(0x000A, &[]);
    let mut file = cfb::CompoundFile::create(Cursor::new(Vec::new())).unwrap();
    file.create_stream("/Workbook")
        .unwrap()
        .write_all(&stream)
        .unwrap();
    file.flush().unwrap();
    let bytes = file.into_inner().into_inner();
    let message = problem(bytes);
    assert!(
        message.contains("Excel 97–2003 (.xls) file spans"),
        "{message}"
    );
}

#[test]
fn password_protected_workbooks_say_so() {
    for name in ["password.xlsx", "password.xls", "password.ods"] {
        let message = problem(corpus(name));
        assert!(message.contains("password-protected"), "{name}: {message}");
    }
}

#[test]
fn files_that_are_not_workbooks_say_what_they_are() {
    let message = problem(b"mobile,name\n81234567,Ann\n".to_vec());
    assert!(message.contains("CSV file renamed"), "{message}");
    let message = problem(zip_of(&[("notes.txt", b"hello")], true));
    assert!(
        message.contains("zip archive but not a spreadsheet"),
        "{message}"
    );
    let message = problem(b"PK\x03\x04 and then nothing a zip needs".to_vec());
    assert!(message.contains("damaged zip archive"), "{message}");
}

#[test]
fn the_default_sheet_is_the_first_with_a_value() {
    let mut book = Workbook::open(corpus("two-sheets.xlsx"), BOUNDS).unwrap();
    assert_eq!(book.sheets(), ["Cover", "January", "February"]);
    assert_eq!(book.default_sheet().unwrap(), "January");
    let message = rows_of(corpus("two-sheets.xlsx"), Some("March"))
        .unwrap_err()
        .0;
    assert_eq!(
        message,
        "The spreadsheet has no sheet \"March\". Its sheets: Cover, January, February."
    );
}
