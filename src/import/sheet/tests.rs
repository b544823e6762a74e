//! A spreadsheet and its CSV twin import alike.

use crate::import::ImportOptions;
use crate::import::columns::{Columns, Field};
use crate::import::pipeline::Rows;
use proptest::prelude::*;

/// What the importer makes of each row: line, text and outcome.
fn imported(bytes: &[u8], options: &ImportOptions) -> Vec<(u64, String, Result<String, String>)> {
    let mut rows = match &options.sheet {
        Some(sheet) => {
            let mut read = Vec::new();
            super::open(bytes.to_vec())
                .unwrap()
                .rows(sheet, |row| {
                    read.push(row);
                    std::ops::ControlFlow::Continue(())
                })
                .unwrap();
            Rows::from_sheet(Box::new(read.into_iter()), 0, options.clone())
        }
        None => Rows::new(bytes, options.clone()),
    }
    .unwrap();
    let mut out = Vec::new();
    while let Some(row) = rows.next_row().unwrap() {
        let outcome = row.outcome.map(|(record, _)| format!("{record:?}"));
        out.push((row.line, row.raw, outcome));
    }
    out
}

fn cell() -> impl Strategy<Value = String> {
    // Text of any script, digits with + and leading zeros, spaces, formula-like text;
    // no line breaks (a CSV record would then span lines).
    prop_oneof![
        "[ -~]{0,12}",
        "[0-9+ ]{1,14}",
        "[À-ÿΑ-ω一-龥 ]{0,6}",
        Just(String::new()),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// Any table of text written to .xlsx (rust_xlsxwriter, text cells) reads as the
    /// same records as its CSV.
    #[test]
    fn a_table_reads_the_same_from_xlsx_and_csv(
        rows in prop::collection::vec(
            ("[0-9+][0-9 ]{0,12}", prop::collection::vec(cell(), 3)), 1..20),
    ) {
        let header = ["Mobile", "First name", "Notes", "Tier"];
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.set_name("Data").unwrap();
        let mut csv = csv::Writer::from_writer(Vec::new());
        csv.write_record(header).unwrap();
        for (col, title) in header.iter().enumerate() {
            sheet.write_string(0, col as u16, *title).unwrap();
        }
        for (i, (mobile, rest)) in rows.iter().enumerate() {
            let cells: Vec<&str> = std::iter::once(mobile.as_str())
                .chain(rest.iter().map(String::as_str))
                .collect();
            csv.write_record(&cells).unwrap();
            for (col, text) in cells.iter().enumerate() {
                if !text.is_empty() {
                    sheet.write_string(i as u32 + 1, col as u16, *text).unwrap();
                }
            }
        }
        let xlsx = book.save_to_buffer().unwrap();
        let csv = csv.into_inner().unwrap();
        let columns = Columns::default().with(Field::Mobile, 0).with(Field::FirstName, 1);
        let options = ImportOptions::csv_with_header(columns, "SG");
        let from_csv = imported(&csv, &options);
        let from_xlsx = imported(&xlsx, &ImportOptions { sheet: Some("Data".into()), ..options });
        prop_assert_eq!(from_xlsx, from_csv);
    }
}
