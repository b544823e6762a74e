//! Server start-up, a signed-in page render, and the WASM bundle's size.

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
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use tower::ServiceExt;

pub const SERVER_BINARY: &str = "target/release/contacts";
const WASM_BUNDLE: &str = "target/site/pkg/contacts.wasm";

/// Runs this file's benchmarks.
pub async fn run(report: &mut Report) {
    let dir = std::env::temp_dir().join(format!("contacts-bench-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let config = Config::from_lookup(|name| {
        (name == "CONTACTS_DATA_DIR").then(|| dir.display().to_string())
    })
    .expect("config");
    let pool = open_database(&config).await.expect("database");
    let (workspace, cookie) = signed_in_admin(&pool).await;

    startup(report, &dir);
    hostile_body(report, &dir);
    let app = router(AppState::new(test_leptos_options(), pool.clone(), config));
    page_render(report, &app, &cookie).await;
    bundle_size(report);
    crate::contacts::run(report, &pool, &app, &cookie, workspace).await;

    pool.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// A workspace with an admin and a live session; returns it and the `Cookie` header.
pub async fn signed_in_admin(pool: &sqlx::SqlitePool) -> (i64, String) {
    let workspace = db::workspaces::create(pool, "Bench", "SG")
        .await
        .expect("workspace");
    let hash = password::hash_password("bench password".into())
        .await
        .expect("hash");
    let user = db::users::create(pool, workspace, "bench@bench.test", &hash, Role::Admin)
        .await
        .expect("user");
    let token = session::new_token();
    db::sessions::create(
        pool,
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
    let started = Instant::now();
    let child = Command::new(SERVER_BINARY)
        .env("CONTACTS_DATA_DIR", data_dir)
        .env("LEPTOS_SITE_ADDR", addr.to_string())
        .env("LEPTOS_SITE_ROOT", "target/site")
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

/// The release WASM bundle, raw and as a browser downloads it (brotli).
fn bundle_size(report: &mut Report) {
    let path = PathBuf::from(WASM_BUNDLE);
    let Ok(raw) = std::fs::read(&path) else {
        report.add(
            "WASM bundle",
            "n/a".into(),
            "",
            "run `cargo leptos build --release` first",
        );
        return;
    };
    let mut compressed = Vec::new();
    {
        let mut writer = brotli::CompressorWriter::new(&mut compressed, 64 * 1024, 11, 22);
        writer.write_all(&raw).expect("compress");
    }
    report.add(
        "WASM bundle (raw)",
        format!("{:.1}", raw.len() as f64 / 1024.0),
        "KB",
        "",
    );
    report.add(
        "WASM bundle (brotli)",
        format!("{:.1}", compressed.len() as f64 / 1024.0),
        "KB",
        "< 300 KB for the whole app",
    );
}
