//! Uploads of 1 GB to the release server, into the data folder and into an S3-compatible
//! bucket (moto's, when `make bench` started one): the time to send it and the server's
//! memory, which must not follow the file's size (it is written in parts of 8 MiB and
//! read back as a stream). The file's rows hold a quote that never closes after the
//! first 128 KiB, so the importer reads all of it back (looking for the quote's end)
//! and then refuses it without importing anything.

use crate::report::Report;
use crate::server::{SERVER_BINARY, free_addr, signed_in_admin, start_server_with};
use contacts::db::Location;
use contacts::server::config::Config;
use contacts::server::open_database;
use contacts::server::store::testing;
use std::io::Write;
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// The upload's size.
const SIZE: u64 = 1_000_000_000;

/// Runs the figures for the folder, and for a bucket when an S3 server is given.
pub async fn run(report: &mut Report, s3: Option<&str>) {
    if !Path::new(SERVER_BINARY).exists() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("contacts-bench-uploads-{}", std::process::id()));
    on_store(report, &dir, "the data folder", &[]).await;
    if let Some(endpoint) = s3 {
        let bucket = "contacts-bench";
        testing::create_bucket(endpoint, bucket).await;
        let settings = testing::settings(endpoint, bucket);
        on_store(report, &dir, "an S3 bucket (moto, loopback)", &settings).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

async fn on_store(report: &mut Report, dir: &Path, store: &str, settings: &[(&str, String)]) {
    let _ = std::fs::remove_dir_all(dir);
    let config = Config::from_lookup(|name| {
        (name == "CONTACTS_DATA_DIR").then(|| dir.display().to_string())
    })
    .expect("config");
    let pool = open_database(&config).await.expect("database");
    let (_, cookie) = signed_in_admin(&pool).await;
    pool.close().await;

    let addr = free_addr();
    let mut settings = settings.to_vec();
    // The margin of free disk a folder keeps by default is twice the upload limit.
    settings.push(("CONTACTS_MIN_FREE_DISK_MB", "1024".into()));
    let mut server = start_server_with(dir, &settings, addr);
    let before_kb = rss_kb(server.id(), "VmRSS:");
    let sending = Instant::now();
    let id = upload(addr, &cookie);
    let sent = sending.elapsed().as_secs_f64();
    let upload_peak_kb = rss_kb(server.id(), "VmHWM:");

    let pool = contacts::db::open(&Location::Sqlite(dir.join("contacts.db")), 1)
        .await
        .expect("database");
    let reading = Instant::now();
    let error = loop {
        let sql = "SELECT status, error FROM imports WHERE id = $1";
        let (status, error): (String, Option<String>) =
            contacts::on!(&pool, pool => sqlx::query_as(sql).bind(id).fetch_one(pool).await)
                .expect("import row");
        if status == "failed" {
            break error.unwrap_or_default();
        }
        assert!(status != "completed", "the file was to be refused");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let read = reading.elapsed().as_secs_f64();
    assert!(error.contains("quote"), "refused for its quote: {error}");
    let peak_kb = rss_kb(server.id(), "VmHWM:");
    pool.close().await;
    let _ = server.kill();
    let _ = server.wait();

    let mb = |kb: u64| kb as f64 / 1024.0;
    report.add(
        &format!("upload of 1 GB to {store}: sent at"),
        format!("{:.0}", SIZE as f64 / 1e6 / sent),
        "MB/s",
        "",
    );
    report.add(
        &format!("upload of 1 GB to {store}: server RSS before / peak while sent"),
        format!("{:.0} / {:.0}", mb(before_kb), mb(upload_peak_kb)),
        "MB",
        "a few parts (8 MiB) more",
    );
    report.add(
        &format!("upload of 1 GB to {store}: read back whole by the importer, peak RSS"),
        format!("{:.1} s, {:.0}", read, mb(peak_kb)),
        "s, MB",
        "",
    );
}

/// A line of `/proc/<pid>/status` in KiB (`VmRSS:` now, `VmHWM:` the peak so far).
fn rss_kb(pid: u32, line: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(line))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap_or_default()
}

/// POSTs a 1 GB CSV as the browser does, made as it is sent; returns the import's id.
fn upload(addr: std::net::SocketAddr, cookie: &str) -> i64 {
    let columns = contacts::import::columns::Columns::default()
        .with(contacts::import::columns::Field::Mobile, 1)
        .with(contacts::import::columns::Field::FirstName, 0);
    let options = contacts::import::ImportOptions::csv_with_header(columns, "SG");
    crate::server::upload(addr, cookie, &options, "big.csv", SIZE, send_rows)
}

/// Sends [`SIZE`] bytes of rows, with a quote that never closes after the first 128 KiB.
fn send_rows(stream: &mut TcpStream) {
    let row = b"Ann Lee Tan Ong,+65 8123 4567 0\n";
    let mut rows: Vec<u8> = row.iter().copied().cycle().take(1 << 20).collect();
    let quote = (128 << 10) + 8 * row.len();
    rows[quote] = b'"';
    let mut sent = 0u64;
    while sent < SIZE {
        let n = (SIZE - sent).min(rows.len() as u64) as usize;
        stream.write_all(&rows[..n]).expect("send file");
        rows[quote] = row[quote % row.len()];
        sent += n as u64;
    }
}
