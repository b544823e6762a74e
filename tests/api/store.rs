//! The upload store in an S3-compatible bucket (moto's server, which `make unit` starts
//! with tools/s3/with-server): a file arrives in parts, the importer reads it back as a
//! stream, nothing is left in the bucket once the import ends, a refused upload leaves
//! no parts behind, and `/readyz` says when the store does not answer.

use crate::common::{send, set_up};
use crate::imports::{options, upload};
use axum::Router;
use axum::body::Body;
use contacts::db::Db;
use contacts::import::ImportStatus;
use contacts::server::config::Config;
use contacts::server::importer::run_queued;
use contacts::server::state::AppState;
use contacts::server::store::testing;
use contacts::server::{router, test_leptos_options};
use http::{Request, StatusCode};

macro_rules! s3_tests {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[sqlx::test(migrations = false)]
            #[ignore = "needs an S3-compatible server: `make unit` starts one"]
            async fn sqlite(pool: sqlx::SqlitePool) {
                let db = contacts::db::Db::Sqlite(pool);
                db.migrate().await.expect("migrations");
                super::$name(db).await
            }

            #[tokio::test]
            #[ignore = "needs PostgreSQL and an S3-compatible server: `make unit` starts both"]
            async fn postgres() {
                let db = contacts::db::testing::postgres().await;
                super::$name(db.clone()).await;
                db.close().await
            }
        }
    )+};
}

s3_tests!(
    an_upload_waits_in_the_bucket_and_is_imported_from_it,
    a_refused_upload_leaves_no_parts_in_the_bucket
);

/// A bucket of its own on the test server.
struct Bucket {
    endpoint: String,
    name: String,
}

impl Bucket {
    async fn new() -> Self {
        let endpoint = std::env::var(testing::S3_URL_VARIABLE)
            .expect("CONTACTS_TEST_S3_URL (tools/s3/with-server sets it)");
        let name = format!("contacts-test-{:016x}", rand::random::<u64>());
        testing::create_bucket(&endpoint, &name).await;
        Bucket { endpoint, name }
    }

    /// The names in the bucket.
    async fn keys(&self) -> Vec<String> {
        let list = self.get("list-type=2").await;
        list.split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_string()))
            .collect()
    }

    /// How many multipart uploads were started and neither completed nor aborted.
    async fn open_multipart_uploads(&self) -> usize {
        self.get("uploads").await.matches("<Upload>").count()
    }

    async fn get(&self, query: &str) -> String {
        let url = format!("{}/{}?{query}", self.endpoint, self.name);
        let got = reqwest::get(url).await.expect("the S3 server");
        assert!(got.status().is_success(), "{got:?}");
        got.text().await.expect("the answer")
    }
}

/// The app with its uploads in `bucket` (under `uploads/`), its data folder otherwise.
fn app_with_bucket(db: Db, bucket: &Bucket, max_upload_mb: u64) -> (Router, AppState, Config) {
    let dir = std::env::temp_dir().join(format!("contacts-s3-test-{}", bucket.name));
    let mut settings = testing::settings(&bucket.endpoint, &bucket.name);
    settings.push(("CONTACTS_DATA_DIR", dir.display().to_string()));
    settings.push(("CONTACTS_MAX_UPLOAD_MB", max_upload_mb.to_string()));
    let config = config_of(&settings);
    let state = AppState::new(test_leptos_options(), db, config.clone());
    (router(state.clone()), state, config)
}

/// The configuration of these settings (and the defaults for the rest).
fn config_of(settings: &[(&str, String)]) -> Config {
    Config::from_lookup(|name| {
        let setting = settings.iter().find(|(setting, _)| *setting == name);
        setting.map(|(_, value)| value.clone())
    })
    .expect("config")
}

/// A CSV file of `rows` contacts, each row about `width` bytes long (the padding is in a
/// column the import does not map).
fn csv(rows: usize, width: usize) -> Vec<u8> {
    let mut file = b"first,last,mobile,notes\n".to_vec();
    let padding = "x".repeat(width.saturating_sub(30));
    for i in 0..rows {
        file.extend_from_slice(format!("Ann,Lee,+6581{i:06},{padding}\n").as_bytes());
    }
    file
}

async fn an_upload_waits_in_the_bucket_and_is_imported_from_it(db: Db) {
    let bucket = Bucket::new().await;
    let (app, state, config) = app_with_bucket(db, &bucket, 100);
    let cookie = set_up(&app, "boss@acme.test").await;
    // More than one part (8 MiB each).
    let file = csv(4_500, 2_500);
    assert!(file.len() > 10 << 20);
    let reply = upload(&app, &cookie, &options(None, false), "people.csv", &file).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let id: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    assert_eq!(
        bucket.keys().await,
        [format!("uploads/{}.upload", id["id"])]
    );
    assert_eq!(bucket.open_multipart_uploads().await, 0);
    assert!(
        !config.data_dir.join("uploads").exists(),
        "nothing in the data folder"
    );

    assert_eq!(run_queued(&state).await.unwrap(), 1);
    let done = crate::imports::imports(&app, &cookie).await.remove(0);
    assert_eq!(done.status, ImportStatus::Completed, "{:?}", done.error);
    assert_eq!((done.counts.rows_read, done.counts.created), (4_500, 4_500));
    assert!(
        bucket.keys().await.is_empty(),
        "the file is removed at the end"
    );
}

async fn a_refused_upload_leaves_no_parts_in_the_bucket(db: Db) {
    let bucket = Bucket::new().await;
    let (app, _state, _config) = app_with_bucket(db, &bucket, 100);
    let cookie = set_up(&app, "boss@acme.test").await;
    // The connection drops after 12 MB of a 20 MB file: a first part was sent.
    let form = crate::imports::multipart(&options(None, false), "people.csv", &csv(8_000, 2_500));
    let sent: Vec<Result<axum::body::Bytes, std::io::Error>> = form[..12 << 20]
        .chunks(64 << 10)
        .map(|chunk| Ok(axum::body::Bytes::copy_from_slice(chunk)))
        .chain([Err(std::io::Error::other("connection reset"))])
        .collect();
    let request = Request::post("/imports")
        .header(
            http::header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={}", crate::imports::BOUNDARY),
        )
        .header(http::header::COOKIE, &cookie)
        .body(Body::from_stream(futures::stream::iter(sent)))
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("interrupted"), "{}", reply.body);
    assert!(bucket.keys().await.is_empty());
    assert_eq!(bucket.open_multipart_uploads().await, 0, "parts aborted");
}

#[sqlx::test(migrations = false)]
async fn readyz_says_when_the_store_does_not_answer(pool: sqlx::SqlitePool) {
    let db = Db::Sqlite(pool);
    db.migrate().await.expect("migrations");
    // Nothing listens on port 9 of loopback.
    let mut settings = testing::settings("http://127.0.0.1:9", "nowhere");
    settings.push((
        "CONTACTS_DATA_DIR",
        std::env::temp_dir().display().to_string(),
    ));
    let config = config_of(&settings);
    let app = router(AppState::new(test_leptos_options(), db, config));
    let reply = send(&app, Request::get("/readyz").body(Body::empty()).unwrap()).await;
    assert_eq!(reply.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(reply.body, "upload store unreachable");
}
