//! CSV files uploaded through the real HTTP endpoint of the release server into a
//! workspace of 100,000 contacts, with a group: time to completed and the server's peak
//! RSS, for 1,000,000 rows (with and without an email and a custom field mapped) and for
//! 10,000,000 rows (memory must not grow with the file), beside `sqlite3 .import` of the
//! 1M-row file. During the first 1M-row import, 8 editors save contacts through the real
//! server function, to show what the import's write lock costs them. Also how long a
//! 100-row upload of another workspace waits while a 1M-row import runs, and the
//! preview's sniffing time.

use crate::report::{Report, percentile};
use crate::server::{SERVER_BINARY, free_addr, signed_in_admin, start_server_on};
use contacts::db::Location;
use contacts::import::ImportOptions;
use contacts::import::columns::{Columns, Field, Tag};
use contacts::import::sniff::{Delimiter, PREVIEW_BYTES, sniff};
use contacts::server::config::Config;
use contacts::server::open_database;
use std::io::{BufWriter, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

const EXISTING: usize = 100_000;
const FIRST: [&str; 8] = [
    "Wei", "Siti", "Arjun", "Mei", "Ahmad", "Priya", "Jun", "Nur",
];
const LAST: [&str; 8] = ["Tan", "Lim", "Kumar", "Ng", "Rahman", "Wong", "Lee", "Goh"];

/// The national number of the `i`th row: valid Singapore mobiles 81xxxxxx–96xxxxxx,
/// distinct for every `i` below 16,000,000 (7,919 is prime to 16,000,000), scattered as
/// real numbers are rather than in index order.
fn national(i: u64) -> u64 {
    81_000_000 + (i * 7_919) % 16_000_000
}

/// What a generated file holds beyond names and the number.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Extra {
    /// Nothing else.
    Nothing,
    /// An email and a custom field (`tier`), both mapped.
    EmailAndCustom,
}

/// The header of a generated file.
fn header(extra: Extra) -> &'static [&'static str] {
    match extra {
        Extra::Nothing => &["first_name", "last_name", "mobile"],
        Extra::EmailAndCustom => &["first_name", "last_name", "mobile", "email", "tier"],
    }
}

/// The `i`th row: 60 % `+65 8123 4567`, 30 % `8123 4567`, 8 % `+65-8123-4567`, 2 %
/// invalid; every 20th row repeats the number of the row before it (5 % duplicates).
fn cells(i: u64, extra: Extra) -> Vec<String> {
    // Numbers after the workspace's existing contacts, so they are all new.
    let source = if i % 20 == 10 { i - 1 } else { i };
    let n = national(EXISTING as u64 + source).to_string();
    let (a, b) = n.split_at(4);
    let first = FIRST[(i % 8) as usize];
    let last = LAST[(i / 8 % 8) as usize];
    let number = match i % 100 {
        98 | 99 => "12345".to_string(),
        p if p < 60 => format!("+65 {a} {b}"),
        p if p < 90 => format!("{a} {b}"),
        _ => format!("+65-{a}-{b}"),
    };
    let mut row = vec![first.to_string(), last.to_string(), number];
    if extra == Extra::EmailAndCustom {
        row.push(format!("{first}.{last}{i}@example.com"));
        row.push(["Gold", "Silver", "Bronze"][(i % 3) as usize].to_string());
    }
    row
}

/// Writes the scenario's file (CSV, or .xlsx for a spreadsheet scenario); its size.
fn write_file(path: &Path, scenario: &Scenario) -> u64 {
    if scenario.sheet {
        return crate::sheets::write_xlsx(path, header(scenario.extra), scenario.rows, |i| {
            cells(i, scenario.extra)
        });
    }
    write_csv(path, scenario.rows, scenario.extra)
}

/// Writes `rows` rows of [`cells`] as CSV; its size.
fn write_csv(path: &Path, rows: u64, extra: Extra) -> u64 {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path).expect("csv"));
    writeln!(out, "{}", header(extra).join(",")).expect("write");
    for i in 0..rows {
        writeln!(out, "{}", cells(i, extra).join(",")).expect("write");
    }
    out.flush().expect("flush");
    std::fs::metadata(path).expect("size").len()
}

/// One import scenario: the file, its mapping, and what its figures are called.
struct Scenario {
    name: &'static str,
    rows: u64,
    extra: Extra,
    /// Whether the time is held to the import target (the memory always is).
    timed: bool,
    /// Whether editors save contacts while it runs.
    editors: bool,
    /// Whether the file is an .xlsx workbook (the same rows).
    sheet: bool,
}

const SCENARIOS: [Scenario; 4] = [
    Scenario {
        name: "1M rows",
        rows: 1_000_000,
        extra: Extra::Nothing,
        timed: true,
        editors: true,
        sheet: false,
    },
    Scenario {
        name: "1M rows, email + custom field mapped",
        rows: 1_000_000,
        extra: Extra::EmailAndCustom,
        timed: true,
        editors: false,
        sheet: false,
    },
    Scenario {
        name: "1M rows as .xlsx",
        rows: 1_000_000,
        extra: Extra::Nothing,
        timed: false,
        editors: false,
        sheet: true,
    },
    Scenario {
        name: "10M rows",
        rows: 10_000_000,
        extra: Extra::Nothing,
        timed: false,
        editors: false,
        sheet: false,
    },
];

/// Runs this file's benchmarks. `BENCH_IMPORT_ROWS=1M` skips the 10M-row scenario,
/// `BENCH_IMPORT_ROWS=10M` runs it alone. With a PostgreSQL server, the first scenario
/// (1M rows, editors saving) and the 10M-row one run on it too.
pub async fn run(report: &mut Report, postgres: Option<&str>) {
    let dir = std::env::temp_dir().join(format!("contacts-bench-import-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let csv = dir.join("contacts.csv");
    write_csv(&csv, 1_000_000, Extra::Nothing);
    sniffing(report, &csv);
    baseline(report, &csv);
    if !Path::new(SERVER_BINARY).exists() {
        report.add(
            "import 1,000,000 rows",
            "n/a".into(),
            "",
            "run `cargo leptos build --release` first",
        );
        return;
    }

    // A workspace of 100,000 contacts, kept as a file each scenario starts from.
    let template = dir.join("template");
    let config = Config::from_lookup(|name| {
        (name == "CONTACTS_DATA_DIR").then(|| template.display().to_string())
    })
    .expect("config");
    let pool = open_database(&config).await.expect("database");
    let (workspace, cookie) = signed_in_admin(&pool).await;
    let (_, other) = signed_in_admin(&pool).await;
    // The existing contacts' numbers (+65 2xxxxxxxx) are all different from the files'.
    crate::contacts::generate(&pool, workspace, EXISTING, 200_000_000).await;
    crate::contacts::settle(&pool).await;
    pool.close().await;

    let sizes = Sizes::from_env();
    for scenario in SCENARIOS.iter().filter(|s| sizes.runs(s)) {
        let file = dir.join(if scenario.sheet {
            "contacts.xlsx"
        } else {
            "contacts.csv"
        });
        let size = write_file(&file, scenario);
        let data = fresh_data(&dir);
        std::fs::copy(template.join("contacts.db"), data.join("contacts.db")).expect("copy db");
        let measured = import(&data, None, &cookie, &file, size, scenario).await;
        add_figures(report, scenario, &measured);
        if scenario.sheet {
            report.add(
                "import 1M rows as .xlsx: the workbook's size",
                format!("{:.1}", size as f64 / 1e6),
                "MB",
                "",
            );
            if let Some(csv) =
                report.value_of("import 1M rows into 100k contacts + group (accepted → completed)")
            {
                report.add(
                    "import 1M rows as .xlsx: time ÷ the CSV's",
                    format!("{:.2}", measured.seconds / csv),
                    "×",
                    "≤ 1.5 ×",
                );
            }
            crate::sheets::export(report, &data, &cookie).await;
        }
        if scenario.rows == 1_000_000 && scenario.extra == Extra::Nothing && !scenario.sheet {
            report.add(
                "import: upload of the 1M-row CSV (loopback)",
                format!("{:.2}", measured.upload_seconds),
                "s",
                &format!("{:.1} MB", size as f64 / 1e6),
            );
            if let Some(bare) = report.value_of("import: sqlite3 .import baseline") {
                report.add(
                    "import: time ÷ sqlite3 .import baseline",
                    format!("{:.1}", measured.seconds / bare),
                    "×",
                    "",
                );
            }
        }
    }
    if sizes.small {
        let size = write_csv(&csv, 1_000_000, Extra::Nothing);
        let data = fresh_data(&dir);
        std::fs::copy(template.join("contacts.db"), data.join("contacts.db")).expect("copy db");
        let wait = small_upload_wait(&data, None, [&cookie, &other], &dir, &csv, size).await;
        add_wait(report, wait);
    }
    if let Some(server) = postgres {
        on_postgres(report, server, &dir, &csv, sizes).await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The data folder an import's server starts on, emptied.
fn fresh_data(dir: &Path) -> PathBuf {
    let data = dir.join("data");
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(&data).expect("data dir");
    data
}

/// The release server on `data` (and the database at `database_url`, if given), with
/// a pool of the bench's own on its database.
pub async fn start(
    data: &Path,
    database_url: Option<&str>,
) -> (std::net::SocketAddr, std::process::Child, contacts::db::Db) {
    let addr = free_addr();
    let server = start_server_on(data, database_url, addr);
    let location = match database_url {
        Some(url) => Location::Postgres(url.to_string()),
        None => Location::Sqlite(data.join("contacts.db")),
    };
    let pool = contacts::db::open(&location, 2).await.expect("database");
    (addr, server, pool)
}

/// How long a 100-row upload of one workspace waits (from accepted to completed) once
/// another workspace's 1M-row import is running: the importer gives way between batches.
async fn small_upload_wait(
    data: &Path,
    database_url: Option<&str>,
    [importing, waiting]: [&str; 2],
    dir: &Path,
    csv: &Path,
    size: u64,
) -> f64 {
    let small = dir.join("small.csv");
    let small_size = write_csv(&small, 100, Extra::Nothing);
    let (addr, mut server, pool) = start(data, database_url).await;
    let progress = async |id: i64| -> (String, i64) {
        let sql = "SELECT status, rows_read FROM imports WHERE id = $1";
        contacts::on!(&pool, pool => sqlx::query_as(sql).bind(id).fetch_one(pool).await)
            .expect("import row")
    };
    let long = upload(addr, importing, csv, size, &SCENARIOS[0]);
    // Running, a batch in.
    while progress(long).await.1 == 0 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let id = upload(addr, waiting, &small, small_size, &SCENARIOS[0]);
    let accepted = Instant::now();
    loop {
        match progress(id).await.0.as_str() {
            "completed" => break,
            "failed" => panic!("the small upload failed"),
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
    let wait = accepted.elapsed().as_secs_f64();
    let (status, rows) = progress(long).await;
    assert!(
        status != "completed" && rows < 1_000_000,
        "the 1M-row import was still running: {status}, {rows} rows"
    );
    let _ = server.kill();
    let _ = server.wait();
    pool.close().await;
    wait
}

fn add_wait(report: &mut Report, seconds: f64) {
    report.add(
        "import: a 100-row upload's wait while another workspace's 1M-row import runs",
        format!("{seconds:.2}"),
        "s",
        "<= 5 s",
    );
}

/// The PostgreSQL database each import's database is copied from: 100,000 contacts.
const TEMPLATE: &str = "contacts_bench_template";

/// Which imports `BENCH_IMPORT_ROWS` asks for.
#[derive(Clone, Copy)]
struct Sizes {
    /// The 1M-row ones (and the 100-row upload's wait beside one).
    small: bool,
    /// The 10M-row one.
    large: bool,
}

impl Sizes {
    fn from_env() -> Self {
        match std::env::var("BENCH_IMPORT_ROWS").as_deref() {
            Ok("1M") => Sizes {
                small: true,
                large: false,
            },
            Ok("10M") => Sizes {
                small: false,
                large: true,
            },
            _ => Sizes {
                small: true,
                large: true,
            },
        }
    }

    fn runs(self, scenario: &Scenario) -> bool {
        if scenario.rows > 1_000_000 {
            self.large
        } else {
            self.small
        }
    }
}

/// The imports `sizes` asks for on PostgreSQL, each into a copy of a template database
/// holding the same workspace of 100,000 contacts.
async fn on_postgres(report: &mut Report, server: &str, dir: &Path, csv: &Path, sizes: Sizes) {
    let template = contacts::db::testing::create_database(server, TEMPLATE, None).await;
    let config = Config::from_lookup(|name| match name {
        "CONTACTS_DATA_DIR" => Some(dir.join("template").display().to_string()),
        "CONTACTS_DATABASE_URL" => Some(template.clone()),
        _ => None,
    })
    .expect("config");
    let db = open_database(&config).await.expect("PostgreSQL database");
    let (workspace, cookie) = signed_in_admin(&db).await;
    let (_, other) = signed_in_admin(&db).await;
    crate::contacts::generate(&db, workspace, EXISTING, 200_000_000).await;
    crate::contacts::settle(&db).await;
    db.close().await;

    if sizes.small {
        on_postgres_1m(report, server, dir, csv, [&cookie, &other]).await;
    }
    // The 10M-row file: its time and the server's memory.
    for scenario in SCENARIOS
        .iter()
        .filter(|s| s.rows > 1_000_000 && sizes.runs(s))
    {
        let size = write_csv(csv, scenario.rows, scenario.extra);
        let url =
            contacts::db::testing::create_database(server, "contacts_bench_large", Some(TEMPLATE))
                .await;
        let data = fresh_data(dir);
        let measured = import(&data, Some(&url), &cookie, csv, size, scenario).await;
        report.on_database(Some("PostgreSQL"));
        add_figures(report, scenario, &measured);
        report.on_database(None);
    }
}

/// The 1M-row import with editors saving, PostgreSQL's floor for it, and a 100-row
/// upload's wait beside it.
async fn on_postgres_1m(
    report: &mut Report,
    server: &str,
    dir: &Path,
    csv: &Path,
    [cookie, other]: [&str; 2],
) {
    let scenario = &SCENARIOS[0];
    let size = write_csv(csv, scenario.rows, scenario.extra);
    let url =
        contacts::db::testing::create_database(server, "contacts_bench_import", Some(TEMPLATE))
            .await;
    let data = fresh_data(dir);
    let measured = import(&data, Some(&url), cookie, csv, size, scenario).await;
    // PostgreSQL's floor: what the import wrote, COPY'd into the same starting point.
    crate::floor::quiet(server, "contacts_bench_import").await;
    let url =
        contacts::db::testing::create_database(server, "contacts_bench_floor", Some(TEMPLATE))
            .await;
    let written = measured.written.as_ref().expect("what the import wrote");
    let floor = crate::floor::load(&url, written).await;
    let url =
        contacts::db::testing::create_database(server, "contacts_bench_turns", Some(TEMPLATE))
            .await;
    let data = fresh_data(dir);
    let wait = small_upload_wait(&data, Some(&url), [cookie, other], dir, csv, size).await;
    report.on_database(Some("PostgreSQL"));
    add_figures(report, scenario, &measured);
    report.add(
        "import: PostgreSQL's floor, the same new contacts and memberships COPY'd in one transaction",
        format!("{floor:.2}"),
        "s",
        "",
    );
    report.add(
        "import: time ÷ PostgreSQL's floor",
        format!("{:.2}", measured.seconds / floor),
        "×",
        "≤ 1.5 ×",
    );
    add_wait(report, wait);
    report.on_database(None);
}

/// Adds an import's time, memory and (if any) the editors' saves to the report.
fn add_figures(report: &mut Report, scenario: &Scenario, measured: &Measured) {
    report.add(
        &format!(
            "import {} into 100k contacts + group (accepted → completed)",
            scenario.name
        ),
        format!("{:.2}", measured.seconds),
        "s",
        if scenario.timed { "< 5 s" } else { "" },
    );
    report.add(
        &format!("import {}: peak server RSS", scenario.name),
        format!("{:.0}", measured.peak_rss_mb),
        "MB",
        "< 150 MB",
    );
    if let Some(undo) = measured.undo_seconds {
        report.add(
            &format!(
                "undo of the import of {} (asked → completed)",
                scenario.name
            ),
            format!("{undo:.2}"),
            "s",
            &format!("≤ the import's {:.2} s", measured.seconds),
        );
    }
    if let Some(peak) = measured.undo_peak_rss_mb {
        report.add(
            &format!("undo of the import of {}: peak server RSS", scenario.name),
            format!("{peak:.0}"),
            "MB",
            "< 150 MB",
        );
    }
    if let Some(saves) = &measured.saves {
        let mut done = saves.done.clone();
        let name = format!("{EDITORS} editors saving contacts during the import");
        report.add(
            &format!("{name}: saves done / failed"),
            format!("{} / {}", done.len(), saves.failed),
            "",
            "0 failed",
        );
        report.add_ms(
            &format!("{name}: save p50"),
            percentile(&mut done, 50.0),
            "",
        );
        report.add_ms(
            &format!("{name}: save p95"),
            percentile(&mut done, 95.0),
            "",
        );
    }
}

/// What one import took.
struct Measured {
    upload_seconds: f64,
    seconds: f64,
    peak_rss_mb: f64,
    /// The editors' saves during it, when the scenario has editors.
    saves: Option<Saves>,
    /// How long undoing it took (asked → completed), for the scenario with editors.
    undo_seconds: Option<f64>,
    /// The server's peak RSS through the import and its undo.
    undo_peak_rss_mb: Option<f64>,
    /// On PostgreSQL, what the import wrote (read before its undo), for the floor.
    written: Option<crate::floor::Written>,
}

/// How many people edit contacts while an import runs.
const EDITORS: usize = 8;

/// The editors' save times, and how many saves failed.
#[derive(Default)]
struct Saves {
    done: Vec<Duration>,
    failed: usize,
}

/// Starts `EDITORS` threads, each creating a contact of its own and then saving it (a
/// new first name each time) through `POST /api/save_contact`, pausing 50 ms between
/// saves, until `stop` is set; joining the returned handles gives their saves.
fn start_editors(
    addr: std::net::SocketAddr,
    cookie: &str,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Saves>> {
    (0..EDITORS)
        .map(|editor| {
            let (cookie, stop) = (cookie.to_string(), stop.clone());
            // +65 9800 01xx: valid mobiles outside the generated files' 81–96 range.
            let mobile = format!("+659800{:04}", 100 + editor);
            std::thread::spawn(move || {
                let save = |id: Option<i64>, n: u64| {
                    let body = serde_json::json!({
                        "id": id,
                        "input": {
                            "first_name": format!("Editor {editor}"), "last_name": format!("Save {n}"),
                            "mobile": mobile, "country": "SG", "email": "",
                            "external_id": "", "whatsapp": "", "viber": "", "line_id": "",
                            "wechat_id": "", "messenger_id": "", "attributes": [],
                        },
                        "group_ids": [], "new_groups": [],
                    })
                    .to_string();
                    let mut stream = TcpStream::connect(addr).expect("connect");
                    write!(
                        stream,
                        "POST /api/save_contact HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
                         Content-Type: application/json\r\nAccept: application/json\r\n\
                         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .expect("send");
                    let mut reply = String::new();
                    let _ = stream.read_to_string(&mut reply);
                    reply
                };
                let created = save(None, 0);
                assert!(created.starts_with("HTTP/1.1 200"), "create refused: {created}");
                let id: i64 = created
                    .split("\r\n\r\n")
                    .nth(1)
                    .and_then(|b| b.trim().parse().ok())
                    .expect("the new contact's id");
                let mut saves = Saves::default();
                let mut n = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    let started = Instant::now();
                    let reply = save(Some(id), n);
                    if reply.starts_with("HTTP/1.1 200") {
                        saves.done.push(started.elapsed());
                    } else {
                        if saves.failed == 0 {
                            eprintln!("  a save failed: {}", reply.lines().next().unwrap_or(""));
                        }
                        saves.failed += 1;
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
                saves
            })
        })
        .collect()
}

/// Starts the release server on `data` (and the database at `database_url`, if given),
/// uploads the file through HTTP, waits for the import to complete, and checks its
/// counts add up.
async fn import(
    data: &Path,
    database_url: Option<&str>,
    cookie: &str,
    csv: &Path,
    size: u64,
    scenario: &Scenario,
) -> Measured {
    let (addr, mut server, pool) = start(data, database_url).await;
    let existing_max: i64 = contacts::on!(&pool, pool => {
        sqlx::query_scalar("SELECT coalesce(max(id), 0) FROM contacts").fetch_one(pool).await
    })
    .expect("max id");
    let stop_editors = Arc::new(AtomicBool::new(false));
    let editors = if scenario.editors {
        start_editors(addr, cookie, &stop_editors)
    } else {
        Vec::new()
    };
    let uploading = Instant::now();
    let id = upload(addr, cookie, csv, size, scenario);
    let upload_seconds = uploading.elapsed().as_secs_f64();
    let accepted = Instant::now();
    let counts = loop {
        let sql = "SELECT status, rows_read, created, matched, duplicates, invalid, error
                   FROM imports WHERE id = $1";
        let row: (String, i64, i64, i64, i64, i64, Option<String>) =
            contacts::on!(&pool, pool => sqlx::query_as(sql).bind(id).fetch_one(pool).await)
                .expect("import row");
        match row.0.as_str() {
            "completed" => break row,
            "failed" => panic!("import failed: {:?}", row.6),
            _ => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    };
    let seconds = accepted.elapsed().as_secs_f64();
    // The import's own peak, before the undo adds its own.
    let import_peak_kb = peak_rss_kb(server.id());
    // What the import wrote, for PostgreSQL's floor (measured for the first scenario).
    let written = match &pool {
        contacts::db::Db::Postgres(pg) if scenario.editors => {
            Some(crate::floor::written(pg, id, existing_max).await)
        }
        _ => None,
    };
    stop_editors.store(true, Ordering::Relaxed);
    // Undo the 1M-row import, as an admin does from the uploads list.
    let undo_seconds = if scenario.editors {
        let asked = Instant::now();
        post_json(
            addr,
            cookie,
            "/api/undo_import",
            &format!(r#"{{"id":{id}}}"#),
        );
        loop {
            let sql = "SELECT undo_status, undo_removed FROM imports WHERE id = $1";
            let row: (Option<String>, i64) =
                contacts::on!(&pool, pool => sqlx::query_as(sql).bind(id).fetch_one(pool).await)
                    .expect("import row");
            if row.0.as_deref() == Some("completed") {
                assert_eq!(
                    row.1, counts.2,
                    "the undo removed every contact the import created"
                );
                break Some(asked.elapsed().as_secs_f64());
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    } else {
        None
    };
    let saves = (!editors.is_empty()).then(|| {
        editors
            .into_iter()
            .fold(Saves::default(), |mut all, editor| {
                let one = editor.join().expect("editor");
                all.done.extend(one.done);
                all.failed += one.failed;
                all
            })
    });
    let undo_peak_rss_mb = undo_seconds.map(|_| peak_rss_kb(server.id()) as f64 / 1024.0);
    let _ = server.kill();
    let _ = server.wait();
    pool.close().await;

    let (_, rows, created, matched, duplicates, invalid, _) = counts;
    let rows_expected = scenario.rows as i64;
    assert_eq!(rows, rows_expected, "every row read");
    assert_eq!(
        (duplicates, invalid),
        (rows_expected / 20, rows_expected / 50),
        "the generator's mix"
    );
    assert_eq!(
        created + matched + duplicates + invalid,
        rows,
        "counts add up"
    );
    eprintln!(
        "  {}: {created} created, {duplicates} duplicates, {invalid} invalid",
        scenario.name
    );
    Measured {
        upload_seconds,
        seconds,
        peak_rss_mb: import_peak_kb as f64 / 1024.0,
        saves,
        undo_seconds,
        undo_peak_rss_mb,
        written,
    }
}

/// The highest resident set size a process has had so far, in KiB.
pub fn peak_rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_string))
        })
        .and_then(|kb| kb.parse::<u64>().ok())
        .unwrap_or_default()
}

/// The preview's work on the first 64 KB: encoding, delimiter and header detection.
fn sniffing(report: &mut Report, csv: &Path) {
    let mut head = vec![0; PREVIEW_BYTES];
    std::fs::File::open(csv)
        .and_then(|mut f| f.read_exact(&mut head))
        .expect("head");
    let mut samples = Vec::with_capacity(200);
    for _ in 0..200 {
        let started = Instant::now();
        let found = sniff(&head, false).expect("sniff");
        samples.push(started.elapsed());
        assert_eq!(found.delimiter, Delimiter::Comma);
    }
    report.add_ms(
        "import: sniff the first 64 KB, median",
        percentile(&mut samples, 50.0),
        "< 5 ms",
    );
}

/// `sqlite3 :memory: '.import --csv'` of the same file: the bare-insert baseline.
fn baseline(report: &mut Report, csv: &Path) {
    let started = Instant::now();
    let status = Command::new("sqlite3")
        .arg(":memory:")
        .arg(format!(".import --csv {} t", csv.display()))
        .status();
    match status {
        Ok(s) if s.success() => report.add(
            "import: sqlite3 .import baseline",
            format!("{:.2}", started.elapsed().as_secs_f64()),
            "s",
            "",
        ),
        _ => report.add(
            "import: sqlite3 .import baseline",
            "n/a".into(),
            "",
            "needs the sqlite3 CLI",
        ),
    }
}

/// POSTs a JSON body to a server function as the browser does; panics unless it is a 200.
fn post_json(addr: std::net::SocketAddr, cookie: &str, path: &str, body: &str) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("reply");
    assert!(reply.starts_with("HTTP/1.1 200"), "{path} refused: {reply}");
}

/// POSTs the file as the browser does (multipart, streamed); returns the import's id.
fn upload(
    addr: std::net::SocketAddr,
    cookie: &str,
    file: &Path,
    size: u64,
    scenario: &Scenario,
) -> i64 {
    let extra = scenario.extra;
    let mut columns = Columns::default()
        .with(Field::Mobile, 2)
        .with(Field::FirstName, 0)
        .with(Field::LastName, 1);
    if extra == Extra::EmailAndCustom {
        columns.set(3, Some(Tag::Field(Field::Email)));
        columns.set(4, Some(Tag::Custom("Tier".into())));
    }
    let options = ImportOptions {
        group: Some("Bench import".into()),
        sheet: scenario.sheet.then(|| "Contacts".into()),
        ..ImportOptions::csv_with_header(columns, "SG")
    };
    let name = if scenario.sheet {
        "contacts-1m.xlsx"
    } else {
        "contacts-1m.csv"
    };
    crate::server::upload(addr, cookie, &options, name, size, |stream| {
        let mut file = std::fs::File::open(file).expect("file");
        std::io::copy(&mut file, stream).expect("send file");
    })
}
