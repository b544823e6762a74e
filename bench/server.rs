//! Server start-up, refusing a hostile body, a signed-in page render, and what a first
//! visit downloads.

use crate::report::{Report, percentile};
use axum::body::Body;
use contacts::db;
use contacts::model::Role;
use contacts::server::config::Config;
use contacts::server::state::AppState;
use contacts::server::{open_database, password, router, session, test_leptos_options};
use http::{Request, header};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tower::ServiceExt;

pub const SERVER_BINARY: &str = "target/release/contacts";

/// Runs this file's benchmarks; the contacts table's on PostgreSQL too when a server is
/// given.
pub async fn run(report: &mut Report, postgres: Option<&str>) {
    let dir = std::env::temp_dir().join(format!("contacts-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    // The API's figures measure the server, not a key's rate.
    let config = Config::from_lookup(|name| match name {
        "CONTACTS_DATA_DIR" => Some(dir.display().to_string()),
        "CONTACTS_API_RATE_LIMIT" => Some("1000000".into()),
        _ => None,
    })
    .expect("config");
    let pool = open_database(&config).await.expect("database");
    let (workspace, cookie) = signed_in_admin(&pool).await;

    let app = router(AppState::new(test_leptos_options(), pool.clone(), config));
    // `BENCH_ONLY=counts`: the counts alone (see `contacts::run`).
    if !std::env::var("BENCH_ONLY").is_ok_and(|only| only == "counts") {
        startup(report, &dir);
        hostile_body(report, &dir);
        page_render(report, &app, &cookie).await;
        first_visit(report, &dir, &cookie);
    }
    crate::contacts::run(report, &pool, &app, &cookie, workspace).await;
    pool.close().await;

    if let Some(server) = postgres {
        let url =
            contacts::db::testing::create_database(server, "contacts_bench_pages", None).await;
        let config = Config::from_lookup(|name| match name {
            "CONTACTS_DATA_DIR" => Some(dir.display().to_string()),
            "CONTACTS_DATABASE_URL" => Some(url.clone()),
            "CONTACTS_API_RATE_LIMIT" => Some("1000000".into()),
            _ => None,
        })
        .expect("config");
        let db = open_database(&config).await.expect("PostgreSQL database");
        let (workspace, cookie) = signed_in_admin(&db).await;
        let app = router(AppState::new(test_leptos_options(), db.clone(), config));
        report.on_database(Some("PostgreSQL"));
        crate::contacts::run(report, &db, &app, &cookie, workspace).await;
        report.on_database(None);
        db.close().await;
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A workspace with an admin and a live session; returns it and the `Cookie` header.
pub async fn signed_in_admin(db: &contacts::db::Db) -> (i64, String) {
    let workspace = db::workspaces::create(db, "Bench", "SG")
        .await
        .expect("workspace");
    let hash = password::hash_password("bench password".into())
        .await
        .expect("hash");
    let user = db::users::create(
        db,
        workspace,
        &format!("bench{workspace}@bench.test"),
        &hash,
        Role::Admin,
        db::users::PasswordOwner::User,
    )
    .await
    .expect("user");
    let token = session::new_token();
    db::sessions::create(
        db,
        &session::token_hash(&token),
        workspace,
        user,
        db::now() + 3600,
    )
    .await
    .expect("session");
    (workspace, format!("{}={token}", session::COOKIE_NAME))
}

/// Time from spawning the release binary on an existing database to its first answer.
fn startup(report: &mut Report, data_dir: &Path) {
    if !Path::new(SERVER_BINARY).exists() {
        report.add(
            "server start-up (existing db)",
            "n/a".into(),
            "",
            "run `cargo leptos build --release` first",
        );
        return;
    }
    let mut samples = Vec::new();
    for _ in 0..5 {
        let addr = free_addr();
        let started = Instant::now();
        let mut child = start_server(data_dir, addr);
        samples.push(started.elapsed());
        let _ = child.kill();
        let _ = child.wait();
    }
    report.add_ms(
        "server start-up (existing db), median of 5",
        percentile(&mut samples, 50.0),
        "",
    );
}

/// Time for the release server to refuse a 64 MiB body sent without a cookie (413 by its
/// declared length, before any of it is read), and its memory before and after 50 such
/// requests.
fn hostile_body(report: &mut Report, data_dir: &Path) {
    if !Path::new(SERVER_BINARY).exists() {
        return;
    }
    let addr = free_addr();
    let mut child = start_server(data_dir, addr);
    let rss_kb = |pid: u32| -> u64 {
        std::fs::read_to_string(format!("/proc/{pid}/status"))
            .ok()
            .and_then(|s| {
                s.lines()
                    .find(|l| l.starts_with("VmRSS:"))
                    .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse().ok()))
            })
            .unwrap_or_default()
    };
    let before = rss_kb(child.id());
    let chunk = vec![b'a'; 64 * 1024];
    let mut samples = Vec::new();
    for _ in 0..50 {
        let mut stream = TcpStream::connect(addr).expect("connect");
        let started = Instant::now();
        let head = format!(
            "POST /api/sign_in HTTP/1.1\r\nHost: {addr}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n",
            64 << 20
        );
        stream.write_all(head.as_bytes()).expect("send");
        let _ = stream.write_all(&chunk);
        let mut status = [0u8; 12];
        stream.read_exact(&mut status).expect("reply");
        samples.push(started.elapsed());
        assert_eq!(&status[9..12], b"413", "refused as too large");
    }
    let after = rss_kb(child.id());
    let _ = child.kill();
    let _ = child.wait();
    report.add_ms(
        "refuse a 64 MiB body without a cookie, p95 of 50",
        percentile(&mut samples, 95.0),
        "< 50 ms",
    );
    report.add(
        "server RSS before / after 50 such bodies",
        format!(
            "{:.0} / {:.0}",
            before as f64 / 1024.0,
            after as f64 / 1024.0
        ),
        "MB",
        "no growth",
    );
}

/// Starts the release server on a data folder and waits until it answers.
pub fn start_server(data_dir: &Path, addr: SocketAddr) -> std::process::Child {
    start_server_on(data_dir, None, addr)
}

/// [`start_server`] on the database at `database_url` (SQLite in `data_dir` if `None`).
pub fn start_server_on(
    data_dir: &Path,
    database_url: Option<&str>,
    addr: SocketAddr,
) -> std::process::Child {
    let url = database_url.map(|url| ("CONTACTS_DATABASE_URL", url.to_string()));
    start_server_with(data_dir, url.as_slice(), addr)
}

/// [`start_server`] with more settings.
pub fn start_server_with(
    data_dir: &Path,
    settings: &[(&str, String)],
    addr: SocketAddr,
) -> std::process::Child {
    let started = Instant::now();
    let mut command = Command::new(SERVER_BINARY);
    command.envs(settings.iter().map(|(name, value)| (name, value)));
    let child = command
        .env("CONTACTS_DATA_DIR", data_dir)
        .env("LEPTOS_SITE_ADDR", addr.to_string())
        .env("LEPTOS_SITE_ROOT", "target/site")
        // `cargo bench` rebuilds the binary without cargo-leptos, which names the bundle.
        .env("LEPTOS_OUTPUT_NAME", "contacts")
        // cargo-leptos wrote the hashed names of the static files beside the binary.
        .env(
            "LEPTOS_HASH_FILES",
            Path::new("target/release/hash.txt").exists().to_string(),
        )
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn server");
    while !healthy(addr) {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "server did not start within 30 s"
        );
        std::thread::sleep(Duration::from_millis(2));
    }
    child
}

/// POSTs a file to `/imports` as the browser does (multipart, streamed): `write_file`
/// sends its `size` bytes. Returns the import's id.
pub fn upload(
    addr: SocketAddr,
    cookie: &str,
    options: &contacts::import::ImportOptions,
    file_name: &str,
    size: u64,
    write_file: impl FnOnce(&mut TcpStream),
) -> i64 {
    const BOUNDARY: &str = "----contacts-bench";
    let head = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n{}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: text/csv\r\n\r\n",
        serde_json::to_string(options).expect("json")
    );
    let tail = format!("\r\n--{BOUNDARY}--\r\n");
    let length = head.len() as u64 + size + tail.len() as u64;
    let mut stream = TcpStream::connect(addr).expect("connect");
    write!(
        stream,
        "POST /imports HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookie}\r\n\
         Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: {length}\r\n\
         Connection: close\r\n\r\n{head}"
    )
    .expect("send");
    write_file(&mut stream);
    stream.write_all(tail.as_bytes()).expect("send");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("reply");
    assert!(reply.starts_with("HTTP/1.1 202"), "upload refused: {reply}");
    let body = reply.split("\r\n\r\n").nth(1).unwrap_or_default();
    let json: serde_json::Value = serde_json::from_str(body).expect("json reply");
    json["id"].as_i64().expect("id")
}

pub fn free_addr() -> SocketAddr {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
}

pub fn healthy(addr: SocketAddr) -> bool {
    let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(100)) else {
        return false;
    };
    let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut reply = String::new();
    let _ = stream.read_to_string(&mut reply);
    reply.starts_with("HTTP/1.1 200")
}

/// Server-side time to render the signed-in Contacts page, in process.
async fn page_render(report: &mut Report, app: &axum::Router, cookie: &str) {
    let mut samples = Vec::with_capacity(200);
    for i in 0..220 {
        let request = Request::get("/contacts")
            .header(header::COOKIE, cookie)
            .header(header::ACCEPT, "text/html")
            .body(Body::empty())
            .expect("request");
        let started = Instant::now();
        let response = app.clone().oneshot(request).await.expect("response");
        assert!(
            response.status().is_success(),
            "page render failed: {}",
            response.status()
        );
        let body = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let elapsed = started.elapsed();
        assert!(!body.is_empty());
        if i >= 20 {
            samples.push(elapsed); // the first 20 warm caches and connections
        }
    }
    report.add_ms(
        "signed-in page render p50",
        percentile(&mut samples, 50.0),
        "",
    );
    report.add_ms(
        "signed-in page render p95",
        percentile(&mut samples, 95.0),
        "",
    );
}

/// GETs `path` over HTTP/1.0 (so the body is not chunked), accepting brotli; returns the
/// status line, the headers and the body as they came over the wire.
fn fetch(
    addr: SocketAddr,
    path: &str,
    cookie: Option<&str>,
    compressed: bool,
) -> (String, String, Vec<u8>) {
    let mut stream = TcpStream::connect(addr).expect("connect");
    let cookie = cookie.map_or(String::new(), |c| format!("Cookie: {c}\r\n"));
    let encoding = if compressed { "br, gzip" } else { "identity" };
    let request = format!(
        "GET {path} HTTP/1.0\r\nHost: {addr}\r\nAccept-Encoding: {encoding}\r\n\
         Accept: text/html,*/*\r\n{cookie}\r\n"
    );
    stream.write_all(request.as_bytes()).expect("send");
    let mut reply = Vec::new();
    stream.read_to_end(&mut reply).expect("reply");
    let split = reply
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("headers end");
    let head = String::from_utf8_lossy(&reply[..split]).into_owned();
    let (status, headers) = head.split_once("\r\n").unwrap_or((&head, ""));
    (
        status.to_string(),
        headers.to_lowercase(),
        reply[split + 4..].to_vec(),
    )
}

/// What a first visit to the Contacts tab transfers before the table works: the page
/// and every file it loads before hydrating (the stylesheet, the JS and the WASM it
/// names), as the release server sends them to a browser that accepts brotli.
fn first_visit(report: &mut Report, data_dir: &Path, cookie: &str) {
    if !Path::new(SERVER_BINARY).exists() {
        report.add(
            "first visit",
            "n/a".into(),
            "",
            "run `cargo leptos build --release` first",
        );
        return;
    }
    let addr = free_addr();
    let mut child = start_server(data_dir, addr);
    let (status, _, page) = fetch(addr, "/contacts", Some(cookie), true);
    assert!(status.contains("200"), "the contacts page: {status}");
    let (_, _, plain) = fetch(addr, "/contacts", Some(cookie), false);
    let html = String::from_utf8_lossy(&plain).into_owned();
    let mut assets: Vec<String> = html
        .split('"')
        .filter(|part| part.starts_with("/pkg/"))
        .map(str::to_string)
        .collect();
    assets.sort();
    assets.dedup();
    let mut total = page.len();
    let mut largest = (0, String::new());
    let mut compressed_everywhere = true;
    for asset in &assets {
        let (status, headers, body) = fetch(addr, asset, None, true);
        assert!(status.contains("200"), "{asset}: {status}");
        compressed_everywhere &= headers.contains("content-encoding: br");
        total += body.len();
        if body.len() > largest.0 {
            largest = (body.len(), asset.clone());
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    report.add(
        "first visit to the Contacts tab: page + CSS + JS + WASM (brotli)",
        format!("{:.1}", total as f64 / 1024.0),
        "KB",
        "< 200 KB",
    );
    report.add(
        "first visit: largest file",
        format!("{:.1}", largest.0 as f64 / 1024.0),
        "KB",
        "< 300 KB",
    );
    report.add(
        "first visit: files sent precompressed",
        if compressed_everywhere {
            "all"
        } else {
            "not all"
        }
        .into(),
        "",
        "all",
    );
    let raw = bytes_of("target/site/pkg", "wasm");
    report.add(
        "WASM of the whole app (raw)",
        format!("{:.1}", raw as f64 / 1024.0),
        "KB",
        "",
    );
    // The spreadsheet preview's reader (crates/sheet-reader: its worker, JS and WASM),
    // fetched only when a spreadsheet is dropped, as sent (brotli).
    let reader = bytes_of("target/site/sheet-reader", "br");
    report.add(
        "the spreadsheet preview's reader, fetched when a spreadsheet is dropped (brotli)",
        match reader {
            0 => "n/a".into(),
            _ => format!("{:.1}", reader as f64 / 1024.0),
        },
        "KB",
        "not in the first visit",
    );
}

/// The bytes of the files in `dir` whose names end in `.{extension}`.
fn bytes_of(dir: &str, extension: &str) -> u64 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == extension))
        .filter_map(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .sum()
}
