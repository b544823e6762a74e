//! Erasing a person: afterwards no byte of their number or email is left in the SQLite
//! database file, its write-ahead log or the data folder, nor in any table on PostgreSQL;
//! one line without personal data says who erased which contact.

use crate::common::{
    api, api_key, api_raw, app_with_uploads, body, call_json, count, create_group, set_up,
};
use crate::imports::BOUNDARY;
use crate::v1::upload_body;
use contacts::db::{self, Db, Location};
use contacts::server::importer::run_queued;
use http::Method;
use http::StatusCode;
use serde_json::json;
use std::path::{Path, PathBuf};

/// The person's number (national digits, as a row of an upload may write them) and email.
const DIGITS: &str = "97531864";
const EMAIL: &str = "erase.me@example.com";

#[tokio::test]
async fn an_erased_person_leaves_no_byte_in_the_database_file_or_the_data_folder_sqlite() {
    let dir = std::env::temp_dir().join(format!("contacts-erasure-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let db = db::open(&Location::Sqlite(dir.join("contacts.db")), 4)
        .await
        .expect("open the database");
    let data_dir = erase_a_person(db.clone()).await;
    // Every file the database and the app keep: the database, its log, uploads.
    let mut found = Vec::new();
    for root in [&dir, &data_dir] {
        for path in files_under(root) {
            let bytes = std::fs::read(&path).unwrap();
            for needle in [DIGITS.as_bytes(), EMAIL.as_bytes()] {
                if bytes.windows(needle.len()).any(|w| w == needle) {
                    found.push(path.display().to_string());
                }
            }
        }
    }
    assert_eq!(
        found,
        Vec::<String>::new(),
        "the person is still in these files"
    );
    db.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
#[ignore = "needs a PostgreSQL server: `make unit` starts one"]
async fn an_erased_person_is_in_no_table_postgres() {
    let db = db::testing::postgres().await;
    erase_a_person(db.clone()).await;
    let Db::Postgres(pool) = &db else {
        unreachable!()
    };
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables
         WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(tables.len() > 10, "{tables:?}");
    for table in tables {
        let sql = format!(
            "SELECT count(*) FROM {table} AS t WHERE t::text LIKE $1 OR t::text LIKE $2
             OR t::text LIKE $3"
        );
        let hits: i64 = sqlx::query_scalar(&sql)
            .bind(format!("%{DIGITS}%"))
            .bind(format!("%{EMAIL}%"))
            // bytea columns print as hex.
            .bind(format!("%{}%", hex(DIGITS)))
            .fetch_one(pool)
            .await
            .unwrap();
        assert_eq!(hits, 0, "the person is still in {table}");
    }
    db.close().await;
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02x}")).collect()
}

fn files_under(root: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(files_under(&path));
        } else {
            files.push(path);
        }
    }
    files
}

/// Leaves the person's number and email everywhere the app keeps copies, erases them by
/// number, and checks what the API says; returns the app's data folder.
async fn erase_a_person(db: Db) -> PathBuf {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let k = Some(key.as_str());
    let msisdn = format!("+65{DIGITS}");
    // A webhook endpoint (never reached: no worker runs here), so the outbox holds the
    // person's events.
    let hook = api(
        &app,
        k,
        Method::POST,
        "/api/v1/webhooks",
        Some(json!({"url": "https://93.184.216.34/hook",
                    "events": ["contact.created", "contact.updated", "contact.optedOut"]})),
    )
    .await;
    assert_eq!(hook.status, StatusCode::CREATED, "{}", hook.body);

    // Created through an idempotent request (its answer is kept), in a group, on two
    // channels, edited, opted out of SMS.
    let group = create_group(&app, k, "News").await;
    let created = api_raw(
        &app,
        k,
        Method::POST,
        "/api/v1/contacts",
        Some((
            "application/json",
            serde_json::to_vec(&json!({"firstName": "Erin", "lastName": "Quill",
                "addresses": {"msisdn": msisdn, "email": EMAIL, "whatsapp": msisdn},
                "groupIds": [group]}))
            .unwrap(),
        )),
        &[("Idempotency-Key", "create-erin")],
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let erin = body(&created)["id"].as_i64().unwrap();
    let path = format!("/api/v1/contacts/{erin}");
    api(
        &app,
        k,
        Method::PATCH,
        &path,
        Some(json!({"firstName": "Erina"})),
    )
    .await;
    let opted = api(
        &app,
        k,
        Method::PUT,
        &format!("{path}/optOuts/sms"),
        Some(json!({"reason": "unsubscribed"})),
    )
    .await;
    assert_eq!(opted.status, StatusCode::OK, "{}", opted.body);

    // Another contact's history names the number (it had it on WhatsApp for a while),
    // and so does a rejected row of an upload, written the way a person types it.
    let other = body(
        &api(
            &app,
            k,
            Method::POST,
            "/api/v1/contacts",
            Some(json!({
        "firstName": "Olaf", "addresses": {"msisdn": "+6581112222", "whatsapp": msisdn}})),
        )
        .await,
    )["id"]
        .as_i64()
        .unwrap();
    api(
        &app,
        k,
        Method::PATCH,
        &format!("/api/v1/contacts/{other}"),
        Some(json!({"addresses": {"whatsapp": "+6581112222"}})),
    )
    .await;
    let file = format!(
        "Name,Phone,Email\nErin,{} {},not-an-email\nPia,81113333,pia@example.com\n",
        &DIGITS[..4],
        &DIGITS[4..]
    );
    let multipart = format!("multipart/form-data; boundary={BOUNDARY}");
    let queued = api_raw(
        &app,
        k,
        Method::POST,
        "/api/v1/contacts/batches/createContacts",
        Some((&multipart, upload_body(None, "list.csv", file.as_bytes()))),
        &[],
    )
    .await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    run_queued(&state).await.unwrap();
    assert_eq!(
        count(&db, "SELECT count(*) FROM import_rejects", &[]).await,
        1
    );

    // Who may erase: not a viewer's key, not an editor in the app; and bad requests.
    let erase = "/api/v1/contacts/erase";
    let viewer = api_key(&app, &admin, "viewer").await;
    let by_number = json!({"msisdn": format!("{} {}", &DIGITS[..4], &DIGITS[4..])});
    assert_eq!(
        api(
            &app,
            Some(&viewer),
            Method::POST,
            erase,
            Some(by_number.clone())
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );
    let editor = crate::common::add_user(&app, &admin, "ed@acme.test", "editor").await;
    let refused = call_json(
        &app,
        "erase_contact",
        &json!({"id": erin}).to_string(),
        &editor,
    )
    .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{}", refused.body);
    for bad in [json!({}), json!({"id": erin, "email": EMAIL})] {
        let reply = api(&app, k, Method::POST, erase, Some(bad)).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
    }
    let unknown = api(
        &app,
        k,
        Method::POST,
        erase,
        Some(json!({"msisdn": "+6589990000"})),
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    let erased = api(&app, k, Method::POST, erase, Some(by_number.clone())).await;
    assert_eq!(erased.status, StatusCode::OK, "{}", erased.body);
    let erased = body(&erased);
    assert_eq!(erased["contactIds"], json!([erin]));
    assert_eq!(
        (
            erased["optOuts"].as_i64(),
            erased["rejectedRows"].as_i64(),
            erased["keptResponses"].as_i64()
        ),
        (Some(1), Some(1), Some(1))
    );
    // Erin's own entries (created, edited, joined, opted out, deleted) and Olaf's two.
    assert!(erased["historyEntries"].as_i64().unwrap() >= 5, "{erased}");

    // Gone, and once only; the others are untouched; one audit line stays.
    assert_eq!(
        api(&app, k, Method::GET, &path, None).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api(&app, k, Method::POST, erase, Some(by_number))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        api(
            &app,
            k,
            Method::GET,
            &format!("/api/v1/contacts/{other}"),
            None
        )
        .await
        .status,
        StatusCode::OK
    );
    assert_eq!(
        count(&db, "SELECT count(*) FROM import_rejects", &[]).await,
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM memberships WHERE contact_id = $1",
            &[erin]
        )
        .await,
        0
    );
    assert_eq!(
        count(
            &db,
            "SELECT count(*) FROM erasures WHERE contact_id = $1",
            &[erin]
        )
        .await,
        1
    );
    state.config.data_dir.clone()
}
