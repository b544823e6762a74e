//! The preview and the importer agree on every file of `tests/corpus/`: the preview's
//! rows (read from the first 64 KB, as the browser reads them) are the first rows the
//! importer reads, on the same lines, with the same fields and the same verdict.

use contacts::import::columns::{Columns, Field, Tag, suggest};
use contacts::import::encoding::{Encoding, decode, decoding_reader};
use contacts::import::pipeline::{Rows, unclosed_quote};
use contacts::import::preview::{Preview, read_table, table_of};
use contacts::import::records::RecordReader;
use contacts::import::rule::{FirstLines, verdicts};
use contacts::import::sniff::{FileProblem, PREVIEW_BYTES, sniff};
use contacts::import::{ImportOptions, RowVerdict};
use std::path::Path;
use std::sync::Arc;

const CORPUS: &str = "tests/corpus";

/// The importer's verdict on each row of a whole file, with its line.
fn importer_verdicts(bytes: &[u8], options: &ImportOptions) -> Vec<(u64, RowVerdict)> {
    let mut rows = Rows::new(bytes, options.clone()).unwrap();
    let mut first_lines = FirstLines::default();
    let mut out = Vec::new();
    while let Some(row) = rows.next_row().unwrap() {
        out.push((
            row.line,
            first_lines.verdict(row.outcome.map(|(record, _)| record), row.line),
        ));
    }
    out
}

/// The importer's records of a whole file: line and fields (or nothing, if refused).
fn importer_records(bytes: &[u8], options: &ImportOptions) -> Vec<(u64, Option<Vec<String>>)> {
    let mut reader = RecordReader::new(
        decoding_reader(bytes, options.encoding),
        options.delimiter.byte(),
    );
    let mut out = Vec::new();
    while let Some(record) = reader.next_record().unwrap() {
        out.push((record.line, record.fields.ok().map(|f| f.to_vec())));
    }
    out
}

/// Checks one file; returns what the preview showed, for the file's own assertions.
fn agree(name: &str, bytes: &[u8]) -> Vec<(u64, RowVerdict)> {
    let whole = bytes.len() <= PREVIEW_BYTES;
    let head = &bytes[..bytes.len().min(PREVIEW_BYTES)];
    let sniffed = match sniff(head, whole) {
        Ok(sniffed) => sniffed,
        Err(FileProblem::UnbalancedQuote { line }) => {
            // The importer refuses the file for the same quote, before writing anything.
            let options = ImportOptions::csv_with_header(Columns::default(), "SG");
            assert_eq!(
                unclosed_quote(bytes, &options).unwrap(),
                Some(line),
                "{name}"
            );
            return Vec::new();
        }
        Err(problem) => panic!("{name}: {problem}"),
    };
    let preview = Preview {
        name: name.into(),
        size: bytes.len() as u64,
        head: Arc::new(head.to_vec()),
        whole,
    };
    let table = read_table(
        &preview,
        sniffed.encoding,
        sniffed.delimiter,
        sniffed.has_header,
    )
    .unwrap();
    let mut columns = if sniffed.has_header {
        suggest(&table.headers)
    } else {
        Columns::default()
    };
    if columns.get(Field::Mobile).is_none() {
        // Files without a header: the number is the column the user would tag.
        columns.set(1, Some(Tag::Field(Field::Mobile)));
    }
    let options = ImportOptions {
        encoding: sniffed.encoding,
        delimiter: sniffed.delimiter,
        has_header: sniffed.has_header,
        columns: columns.clone(),
        ..ImportOptions::csv_with_header(Columns::default(), "SG")
    };
    let sample_lines: Vec<u64> = table.rows.iter().map(|r| r.line).collect();
    let sample_fields: Vec<Option<Vec<String>>> =
        table.rows.iter().map(|r| r.fields.clone().ok()).collect();
    let shown: Vec<(u64, RowVerdict)> = sample_lines
        .iter()
        .copied()
        .zip(verdicts(table.rows, table.header_width, &columns, "SG"))
        .collect();

    let records = importer_records(bytes, &options);
    let data_records = &records[usize::from(sniffed.has_header)..];
    assert!(
        shown.len() <= data_records.len(),
        "{name}: the preview shows more rows"
    );
    for (i, (line, fields)) in sample_lines.iter().zip(&sample_fields).enumerate() {
        assert_eq!(data_records[i].0, *line, "{name}: line of row {i}");
        assert_eq!(&data_records[i].1, fields, "{name}: fields of line {line}");
    }
    let imported = importer_verdicts(bytes, &options);
    assert_eq!(
        &imported[..shown.len()],
        &shown[..],
        "{name}: the preview's verdicts are the importer's"
    );
    shown
}

fn corpus_files(folder: &str) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(Path::new(CORPUS).join(folder))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e != "json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn the_preview_and_the_importer_agree_on_every_file() {
    let files = corpus_files("files");
    assert!(files.len() >= 14, "the corpus is there");
    for (name, bytes) in &files {
        let shown = agree(name, bytes);
        let verdict = |line: u64| {
            shown
                .iter()
                .find(|(l, _)| *l == line)
                .map(|(_, v)| v.clone())
        };
        match name.as_str() {
            "ragged.csv" => {
                assert_eq!(
                    verdict(3),
                    Some(RowVerdict::Invalid(
                        "The row has 2 fields; the header has 3.".into()
                    ))
                );
                assert_eq!(
                    verdict(4),
                    Some(RowVerdict::Invalid(
                        "The row has 4 fields; the header has 3.".into()
                    ))
                );
                assert_eq!(verdict(5), Some(RowVerdict::Contact("+6592345678".into())));
            }
            "cr-only.csv" => {
                assert_eq!(verdict(3), Some(RowVerdict::Contact("+6591234567".into())));
                assert!(
                    matches!(verdict(5), Some(RowVerdict::Invalid(_))),
                    "{shown:?}"
                );
            }
            "duplicates.csv" => {
                assert_eq!(verdict(3), Some(RowVerdict::Duplicate(2)));
                assert_eq!(verdict(5), Some(RowVerdict::Duplicate(4)));
            }
            "blank-lines.csv" => {
                let lines: Vec<u64> = shown.iter().map(|(l, _)| *l).collect();
                assert_eq!(lines, [3, 6]);
            }
            "slice-edge.csv" => assert_eq!(
                shown.len(),
                16,
                "the 17th row, cut by the slice, is left out"
            ),
            "long-row.csv" => assert_eq!(shown.len(), 2),
            "unclosed-quote.csv" => assert!(shown.is_empty()),
            _ => {}
        }
    }
}

#[test]
fn every_encoding_decodes_to_its_expected_text() {
    let expected: serde_json::Value = serde_json::from_slice(
        &std::fs::read(Path::new(CORPUS).join("encodings/expected.json")).unwrap(),
    )
    .unwrap();
    let files = corpus_files("encodings");
    assert_eq!(files.len(), Encoding::ALL.len(), "a file per encoding");
    for (name, bytes) in files {
        let entry = &expected[&name];
        let encoding = Encoding::ALL
            .into_iter()
            .find(|e| e.whatwg_name() == entry["encoding"].as_str().unwrap())
            .unwrap();
        let text = decode(&bytes, encoding, true);
        let rows: Vec<Vec<String>> = text
            .lines()
            .map(|line| line.split(';').map(str::to_string).collect())
            .collect();
        let want: Vec<Vec<String>> = serde_json::from_value(entry["rows"].clone()).unwrap();
        assert_eq!(rows, want, "{name}");
        // The importer's streaming decoder reads the same text.
        let options = ImportOptions {
            encoding,
            delimiter: contacts::import::sniff::Delimiter::Semicolon,
            ..ImportOptions::csv_with_header(Columns::default(), "SG")
        };
        let streamed: Vec<Vec<String>> = importer_records(&bytes, &options)
            .into_iter()
            .map(|(_, fields)| fields.unwrap())
            .collect();
        assert_eq!(streamed, want, "{name}, streamed");
    }
}

/// What the importer makes of each row of a file (CSV text, or a workbook read in this
/// process): its line, its text and its verdict.
fn imported_rows(bytes: &[u8], options: &ImportOptions) -> Vec<(u64, String, RowVerdict)> {
    let mut rows = match &options.sheet {
        Some(sheet) => {
            let mut read = Vec::new();
            let mut book = contacts::import::sheet::open(bytes.to_vec()).unwrap();
            book.rows(sheet, |row| {
                read.push(row);
                std::ops::ControlFlow::Continue(())
            })
            .unwrap();
            Rows::from_sheet(
                Box::new(read.into_iter()),
                bytes.len() as u64,
                options.clone(),
            )
        }
        None => Rows::new(bytes, options.clone()),
    }
    .unwrap();
    let mut first_lines = FirstLines::default();
    let mut out = Vec::new();
    while let Some(row) = rows.next_row().unwrap() {
        let verdict = first_lines.verdict(row.outcome.map(|(record, _)| record), row.line);
        out.push((row.line, row.raw, verdict));
    }
    out
}

/// Every sheet of `tests/corpus/sheets/` (made by LibreOffice, see its `make.py`) is read
/// as its CSV twin, written by hand: the same rows on the same lines, the same cells as
/// text, the same verdicts. The one difference: a mobile cell that holds an error.
#[test]
fn spreadsheets_read_as_their_csv_twins() {
    let folder = Path::new(CORPUS).join("sheets");
    let read = |name: &str| std::fs::read(folder.join(name)).unwrap();
    let cases = [
        ("outlook.xlsx", "Contacts"),
        ("outlook.xls", "Contacts"),
        ("outlook.ods", "Contacts"),
        ("dates-formulas.xlsx", "Orders"),
        ("two-sheets.xlsx", "January"),
        ("two-sheets.xlsx", "February"),
    ];
    for (book, sheet) in cases {
        let stem = book.rsplit_once('.').unwrap().0;
        let twin = read(&format!("{stem}.{sheet}.csv"));
        let header = importer_records(
            &twin,
            &ImportOptions::csv_with_header(Columns::default(), "SG"),
        )
        .remove(0)
        .1
        .unwrap();
        let csv = ImportOptions::csv_with_header(suggest(&header), "SG");
        let workbook = ImportOptions {
            sheet: Some(sheet.into()),
            ..csv.clone()
        };
        let want = imported_rows(&twin, &csv);
        let got = imported_rows(&read(book), &workbook);
        // The preview (the same reader in the browser, the verdicts from the server's
        // rule) shows the importer's rows, cells and verdicts.
        let sample = contacts::import::sheet::sample(read(book), Some(sheet.into())).unwrap();
        assert_eq!(sample.sheet, sheet);
        let table = table_of(sample.rows, true).unwrap();
        assert_eq!(table.headers, header, "{book}");
        let shown: Vec<(u64, RowVerdict)> = table
            .rows
            .iter()
            .map(|r| r.line)
            .zip(verdicts(
                table.rows.clone(),
                table.header_width,
                &csv.columns,
                "SG",
            ))
            .collect();
        let imported: Vec<(u64, RowVerdict)> = got
            .iter()
            .map(|(line, _, verdict)| (*line, verdict.clone()))
            .collect();
        assert_eq!(shown, imported, "{book} {sheet}: the preview's verdicts");
        assert_eq!(got.len(), want.len(), "{book} {sheet}: {got:#?}");
        if stem == "outlook" {
            // A number cell keeps every digit; the same number again is a duplicate.
            assert_eq!(
                got[0].2,
                RowVerdict::Contact("+6581234567".into()),
                "{book}"
            );
            assert_eq!(got[4].2, RowVerdict::Duplicate(2), "{book}");
            assert_eq!(got[5].1, "Fay,,,,,lookup failed", "{book}");
        }
        for (got, want) in got.iter().zip(&want) {
            if stem == "outlook" && got.0 == 7 {
                // calamine reads an .ods error cell as empty.
                let reason = match book.ends_with(".ods") {
                    true => "No mobile number.",
                    false => {
                        "The mobile number cell holds an error (such as #N/A) instead of a number."
                    }
                };
                assert_eq!(got.2, RowVerdict::Invalid(reason.into()), "{book}");
                continue;
            }
            assert_eq!(got, want, "{book} {sheet}");
        }
    }
}
