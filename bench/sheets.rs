//! Spreadsheets: the 1M-row benchmark file written as .xlsx (the same rows as the CSV)
//! for the import scenario beside the CSV's, and the Excel export of the workspace that
//! import leaves (~1M contacts): time until the last byte arrived and the server's peak
//! RSS, on a server started for the export alone.

use crate::report::Report;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Instant;

/// Writes the rows `cells(i)` for `i` below `rows` after `header` as a one-sheet .xlsx
/// ("Contacts"), text cells as a spreadsheet program saves typed text; its size.
pub fn write_xlsx(
    path: &Path,
    header: &[&str],
    rows: u64,
    cells: impl Fn(u64) -> Vec<String>,
) -> u64 {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory();
    sheet.set_name("Contacts").expect("sheet name");
    for (col, title) in header.iter().enumerate() {
        sheet.write_string(0, col as u16, *title).expect("header");
    }
    for i in 0..rows {
        for (col, text) in cells(i).iter().enumerate() {
            sheet
                .write_string(i as u32 + 1, col as u16, text)
                .expect("cell");
        }
    }
    book.save(path).expect("xlsx");
    std::fs::metadata(path).expect("size").len()
}

/// Exports every contact of the workspace as .xlsx through the real route on a server
/// started on `data`, reading the whole file; adds the time and the server's peak RSS.
pub async fn export(report: &mut Report, data: &Path, cookie: &str) {
    let (addr, mut server, pool) = crate::imports::start(data, None).await;
    let contacts: i64 = contacts::on!(&pool, pool => {
        sqlx::query_scalar("SELECT count(*) FROM contacts").fetch_one(pool).await
    })
    .expect("count");
    pool.close().await;
    let form = "selection=%7B%22AllMatching%22%3A%7B%22search%22%3A%22%22%2C%22sort%22%3A%22Newest%22%7D%7D";
    let started = Instant::now();
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST /contacts/export.xlsx HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n{form}",
        form.len()
    )
    .expect("send");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("reply");
    let seconds = started.elapsed().as_secs_f64();
    assert!(reply.starts_with(b"HTTP/1.1 200"), "export refused");
    let peak_mb = crate::imports::peak_rss_kb(server.id()) as f64 / 1024.0;
    let _ = server.kill();
    let _ = server.wait();
    let name = format!("export {contacts} contacts as .xlsx (request → last byte)");
    report.add(
        &name,
        format!("{seconds:.2}"),
        "s",
        &format!("{:.1} MB file", reply.len() as f64 / 1e6),
    );
    report.add(
        "export as .xlsx: peak server RSS",
        format!("{peak_mb:.0}"),
        "MB",
        "< 150 MB",
    );
}
