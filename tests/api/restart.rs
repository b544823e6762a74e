//! Restart safety: the real server binary is killed (SIGKILL) or drained (SIGTERM) in
//! the middle of an import, and started again (SQLite) or a second server running beside
//! it takes the import over (PostgreSQL, the two servers' uploads in one bucket on the
//! S3-compatible test server); the import resumes after its last committed
//! batch and ends with exact counts, no contact doubled and none half-written. Killed between a change and
//! its webhook's delivery, the server delivers it after the restart, with the same
//! `webhook-id`.

use crate::common::count;
use contacts::db::{self, Db};
use contacts::import::ImportOptions;
use contacts::import::columns::{Columns, Field};
use contacts::model::Role;
use contacts::server::config::Config;
use contacts::server::open_database;
use std::io::Write;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ROWS: u64 = 150_000;

fn start_server(dir: &Path, database_url: Option<&str>, settings: &[(&str, String)]) -> Child {
    let port = TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_contacts"));
    if let Some(url) = database_url {
        command.env("CONTACTS_DATABASE_URL", url);
    }
    command
        .envs(settings.iter().map(|(name, value)| (name, value)))
        .env("CONTACTS_DATA_DIR", dir)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("LEPTOS_SITE_ROOT", "target/site")
        .env("LEPTOS_OUTPUT_NAME", "contacts")
        .env("RUST_LOG", "warn")
        .env("CONTACTS_WEBHOOK_ALLOW_PRIVATE", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start the server")
}

async fn progress(db: &Db, id: i64) -> (String, i64) {
    let sql = "SELECT status, rows_read FROM imports WHERE id = $1";
    contacts::on!(db, pool => sqlx::query_as(sql).bind(id).fetch_one(pool).await)
        .expect("import row")
}

#[tokio::test]
async fn an_import_killed_mid_way_resumes_after_its_last_batch_sqlite() {
    stopped_mid_way_resumes(None, Stopped::Killed).await
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: `make unit` starts one"]
async fn an_import_killed_mid_way_resumes_after_its_last_batch_postgres() {
    let url = db::testing::new_postgres_database().await;
    stopped_mid_way_resumes(Some(url), Stopped::Killed).await
}

#[tokio::test]
async fn a_server_drained_by_sigterm_hands_its_import_back_and_exits_0_sqlite() {
    stopped_mid_way_resumes(None, Stopped::Drained).await
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: `make unit` starts one"]
async fn a_server_drained_by_sigterm_hands_its_import_back_and_exits_0_postgres() {
    let url = db::testing::new_postgres_database().await;
    stopped_mid_way_resumes(Some(url), Stopped::Drained).await
}

/// How the server running an import stops.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stopped {
    /// SIGKILL: the import stays "processing" and is queued again at the next start.
    Killed,
    /// SIGTERM: the server hands the import back to the queue at the next batch and
    /// exits 0 within its drain time.
    Drained,
}

/// A fresh data folder named after the test (emptied) and its configuration, on SQLite
/// or the PostgreSQL database at `database_url`, with the settings of its upload store
/// (on PostgreSQL a new bucket, as several servers share one; the data folder on SQLite).
async fn fresh_install(
    name: &str,
    database_url: Option<&str>,
) -> (std::path::PathBuf, Config, Vec<(&'static str, String)>) {
    let kind = if database_url.is_some() {
        "pg"
    } else {
        "sqlite"
    };
    let dir = std::env::temp_dir().join(format!("contacts-{name}-{kind}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let mut settings = Vec::new();
    if database_url.is_some() {
        use contacts::server::store::testing;
        let endpoint = std::env::var(testing::S3_URL_VARIABLE)
            .expect("CONTACTS_TEST_S3_URL (tools/s3/with-server sets it)");
        let bucket = format!("contacts-{name}-{:016x}", rand::random::<u64>());
        testing::create_bucket(&endpoint, &bucket).await;
        settings = testing::settings(&endpoint, &bucket);
    }
    let config = Config::from_lookup(|var| match var {
        "CONTACTS_DATA_DIR" => Some(dir.display().to_string()),
        "CONTACTS_DATABASE_URL" => database_url.map(str::to_string),
        _ => settings
            .iter()
            .find(|(name, _)| *name == var)
            .map(|(_, value)| value.clone()),
    })
    .expect("config");
    (dir, config, settings)
}

async fn stopped_mid_way_resumes(database_url: Option<String>, stopped: Stopped) {
    let name = match stopped {
        Stopped::Killed => "restart",
        Stopped::Drained => "drain",
    };
    let (dir, config, store) = fresh_install(name, database_url.as_deref()).await;
    let url = database_url.as_deref();
    let db = open_database(&config).await.expect("database");
    let workspace = db::workspaces::create(&db, "Acme", "SG").await.unwrap();
    let user = db::users::create(
        &db,
        workspace,
        "boss@acme.test",
        "not a real hash",
        Role::Admin,
        db::users::PasswordOwner::User,
    )
    .await
    .unwrap();
    let mut conn = db.acquire().await.unwrap();
    let group = db::groups::find_or_create(conn.conn(), workspace, "Restarted")
        .await
        .unwrap();

    // Every 10th row repeats the row before it; every 50th is invalid.
    let csv = dir.join("input.csv");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&csv).unwrap());
    writeln!(out, "first,last,mobile").unwrap();
    for i in 0..ROWS {
        let n = if i % 10 == 5 { i - 1 } else { i };
        if i % 50 == 0 {
            writeln!(out, "Bad,Row {i},12345").unwrap();
        } else {
            writeln!(out, "Person,Row {i},+65 {}", 81_200_000 + n).unwrap();
        }
    }
    out.flush().unwrap();
    drop(out);
    let columns = Columns::default()
        .with(Field::Mobile, 2)
        .with(Field::FirstName, 0)
        .with(Field::LastName, 1);
    let options = ImportOptions {
        group: Some("Restarted".into()),
        ..ImportOptions::csv_with_header(columns, "SG")
    };
    let size = std::fs::metadata(&csv).unwrap().len() as i64;
    let new = db::imports::NewImport {
        workspace_id: workspace,
        user_id: Some(user),
        file_name: "input.csv",
        file_size: size,
        options: &options,
        group_id: Some(group),
    };
    let id = db::imports::create(conn.conn(), &new).await.unwrap();
    drop(conn);
    upload(&config, id, &csv).await;

    // The server picks the queued import up at start; kill it once a batch is committed.
    let mut server = start_server(&dir, url, &store);
    let deadline = Instant::now() + Duration::from_secs(120);
    let killed_at = loop {
        let (status, rows) = progress(&db, id).await;
        assert_ne!(
            status, "completed",
            "the import ended before it could be interrupted"
        );
        if rows > 0 || Instant::now() > deadline {
            break rows;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    // On PostgreSQL a second server runs beside the first and takes the import over once
    // the first stops: at once after a drain, once its lease runs out after a kill. (On
    // SQLite, one server per file, the server is started again instead.)
    let beside = url.map(|url| start_server(&dir, Some(url), &store));
    if beside.is_some() {
        // Up, and looking at the queue, before the first stops.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    match stopped {
        Stopped::Killed => {
            server.kill().expect("SIGKILL");
            server.wait().unwrap();
        }
        Stopped::Drained => {
            let term = Command::new("kill")
                .args(["-TERM", &server.id().to_string()])
                .status();
            assert!(term.unwrap().success(), "kill -TERM");
            let deadline = Instant::now() + Duration::from_secs(30);
            let exit = loop {
                if let Some(exit) = server.try_wait().unwrap() {
                    break exit;
                }
                assert!(
                    Instant::now() < deadline,
                    "still running 30 s after SIGTERM"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            assert!(exit.success(), "a drained server exits 0: {exit}");
        }
    }
    assert!(killed_at > 0, "the import never started");
    let stopped_at = Instant::now();
    let mut server = match beside {
        Some(other) => {
            if matches!(stopped, Stopped::Drained) {
                // Handed back, it is taken by the other server within seconds.
                while progress(&db, id).await.0 != "processing" {
                    assert!(
                        stopped_at.elapsed() < Duration::from_secs(10),
                        "the other server did not take the import within 10 s"
                    );
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
            other
        }
        None => {
            let (status, rows) = progress(&db, id).await;
            let left_as = match stopped {
                Stopped::Killed => "processing",
                Stopped::Drained => "queued",
            };
            assert_eq!(status, left_as, "stopped mid-way");
            assert!(rows < ROWS as i64, "killed before the end ({rows} rows)");
            assert!(rows >= killed_at);
            start_server(&dir, url, &store)
        }
    };
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        let (status, _) = progress(&db, id).await;
        // The worker removes the upload just after recording the end.
        let ended = status == "completed" || status == "failed";
        if ended && !uploaded(&config, id).await {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the import did not resume (status {status})"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();

    let summary = db::imports::get(&db, workspace, id).await.unwrap();
    assert_eq!(summary.error, None);
    let c = summary.counts;
    let invalid = ROWS.div_ceil(50) as i64;
    let duplicates = (ROWS / 10) as i64;
    assert_eq!(c.rows_read, ROWS as i64);
    assert_eq!(
        (c.invalid, c.duplicates, c.matched),
        (invalid, duplicates, 0)
    );
    assert_eq!(c.created, ROWS as i64 - invalid - duplicates);
    let sql = "SELECT count(*) FROM contacts WHERE workspace_id = $1";
    let contacts = count(&db, sql, &[workspace]).await;
    assert_eq!(contacts, c.created, "no contact doubled or lost");
    let sql = "SELECT count(*) FROM memberships WHERE group_id = $1";
    let members = count(&db, sql, &[group]).await;
    assert_eq!(members, c.created);
    let sql = "SELECT count(*) FROM import_rejects WHERE import_id = $1";
    let rejects = count(&db, sql, &[id]).await;
    assert_eq!(rejects, invalid + duplicates);
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_webhook_killed_before_delivery_is_delivered_after_the_restart_sqlite() {
    killed_before_delivery(None).await
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: `make unit` starts one"]
async fn a_webhook_killed_before_delivery_is_delivered_after_the_restart_postgres() {
    killed_before_delivery(Some(db::testing::new_postgres_database().await)).await
}

/// What a receiver got; it answers 503 until `up`.
#[derive(Clone, Default)]
struct Receiver {
    up: Arc<AtomicBool>,
    got: Arc<Mutex<Vec<(http::HeaderMap, String)>>>,
}

async fn killed_before_delivery(database_url: Option<String>) {
    use contacts::model::field::ContactField;
    use contacts::model::webhook::WebhookEvent;
    let (dir, config, store) = fresh_install("hook", database_url.as_deref()).await;
    let db = open_database(&config).await.expect("database");
    let workspace = db::workspaces::create(&db, "Acme", "SG").await.unwrap();

    let receiver = Receiver::default();
    let app = axum::Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |axum::extract::State(r): axum::extract::State<Receiver>,
                 headers: http::HeaderMap,
                 body: String| async move {
                    r.got.lock().unwrap().push((headers, body));
                    if r.up.load(Ordering::SeqCst) {
                        http::StatusCode::NO_CONTENT
                    } else {
                        http::StatusCode::SERVICE_UNAVAILABLE
                    }
                },
            ),
        )
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    db::webhooks::create(
        &db,
        workspace,
        &url,
        &[WebhookEvent::ContactCreated],
        secret,
    )
    .await
    .unwrap();

    // The change commits with its message while the server runs; the first attempt is
    // refused, and the server is killed before the retry.
    let mut server = start_server(&dir, database_url.as_deref(), &store);
    let record = contacts::normalize::ContactRecord::default()
        .with(ContactField::FirstName, "Ann")
        .with(ContactField::Mobile, "+6581234567")
        .with(ContactField::Country, "SG");
    let ann = db::contacts::create(&db, workspace, &record, &db::history::Author::keyword())
        .await
        .unwrap();
    let arrived = |n: usize| {
        let got = receiver.got.clone();
        async move {
            let deadline = Instant::now() + Duration::from_secs(60);
            while got.lock().unwrap().len() < n {
                assert!(Instant::now() < deadline, "no delivery {n}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    };
    arrived(1).await;
    server.kill().expect("SIGKILL");
    server.wait().unwrap();
    receiver.up.store(true, Ordering::SeqCst);

    let mut server = start_server(&dir, database_url.as_deref(), &store);
    arrived(2).await;
    server.kill().unwrap();
    server.wait().unwrap();
    let got = receiver.got.lock().unwrap().clone();
    let hook = standardwebhooks::Webhook::new(secret).unwrap();
    for (headers, body) in &got {
        hook.verify(body.as_bytes(), headers).expect("signed");
        let payload: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(payload["type"], "contact.created");
        assert_eq!(payload["data"]["contactId"], ann);
    }
    assert_eq!(
        got[0].0["webhook-id"], got[1].0["webhook-id"],
        "the same message"
    );
    assert_eq!(got[0].1, got[1].1, "the same body");
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Puts `file` where import `id`'s upload waits, as the upload does.
async fn upload(config: &Config, id: i64, file: &Path) {
    use tokio::io::AsyncWriteExt;
    let key = contacts::server::store::UploadStore::of_import(id);
    let mut writer = config.uploads.writer(&key);
    writer
        .write_all(&std::fs::read(file).unwrap())
        .await
        .unwrap();
    writer.shutdown().await.unwrap();
    std::fs::remove_file(file).unwrap();
}

/// Whether import `id`'s upload is still in the store.
async fn uploaded(config: &Config, id: i64) -> bool {
    let (store, key) = (
        config.uploads.clone(),
        contacts::server::store::UploadStore::of_import(id),
    );
    tokio::task::spawn_blocking(move || store.read_blocking(&key).is_ok())
        .await
        .unwrap()
}
