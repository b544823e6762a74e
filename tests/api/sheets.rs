//! Spreadsheet uploads through the API and the Upload tab's route, on both databases:
//! the corpus workbooks (made by LibreOffice, `tests/corpus/sheets/`) imported with exact
//! counts, sheets chosen, and files that cannot be read refused with their reason.

use crate::common::{api, api_key, api_raw, app_with_uploads, body, call_json, send, set_up};
use crate::imports::{BOUNDARY, options, upload};
use crate::v1::upload_body;
use axum::body::Body;
use contacts::db::Db;
use contacts::import::ImportOptions;
use contacts::import::columns::{Columns, Field};
use contacts::import::sheet;
use contacts::server::importer::run_queued;
use http::{Method, StatusCode};
use http::{Request, header};
use serde_json::{Value, json};
use std::ops::ControlFlow;

contacts::db_tests!(
    workbooks_are_imported_with_exact_counts,
    the_sheet_to_read_is_chosen,
    workbooks_that_cannot_be_read_are_refused_with_their_reason,
    hostile_workbooks_stop_their_reader_not_the_server,
    the_excel_export_has_text_cells_and_imports_back_unchanged
);

fn corpus(name: &str) -> Vec<u8> {
    std::fs::read(format!("tests/corpus/sheets/{name}")).unwrap()
}

/// Uploads a file through the API; the reply.
async fn create(
    app: &axum::Router,
    key: &str,
    options: Option<Value>,
    name: &str,
    file: &[u8],
) -> crate::common::Reply {
    let multipart = format!("multipart/form-data; boundary={BOUNDARY}");
    api_raw(
        app,
        Some(key),
        Method::POST,
        "/api/v1/contacts/batches/createContacts",
        Some((&multipart, upload_body(options, name, file))),
        &[],
    )
    .await
}

/// Uploads and imports a file through the API; its batch.
async fn imported(
    app: &axum::Router,
    state: &contacts::server::state::AppState,
    key: &str,
    options: Option<Value>,
    name: &str,
) -> Value {
    let queued = create(app, key, options, name, &corpus(name)).await;
    assert_eq!(
        queued.status,
        StatusCode::ACCEPTED,
        "{name}: {}",
        queued.body
    );
    let id = body(&queued)["id"].as_i64().unwrap();
    run_queued(state).await.unwrap();
    body(
        &api(
            app,
            Some(key),
            Method::GET,
            &format!("/api/v1/batches/{id}"),
            None,
        )
        .await,
    )
}

/// The batch uploaded last.
async fn latest(app: &axum::Router, key: &str) -> Value {
    let list = api(app, Some(key), Method::GET, "/api/v1/batches?limit=1", None).await;
    body(&list)["items"][0].clone()
}

fn counts(batch: &Value) -> [i64; 5] {
    ["rowsRead", "created", "matched", "duplicates", "invalid"].map(|k| batch[k].as_i64().unwrap())
}

async fn workbooks_are_imported_with_exact_counts(db: Db) {
    let (app, state) = app_with_uploads(db, 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    // Ten rows: five new numbers, one repeat, an error cell, an empty cell, a UK number
    // without its +44 and a number too short.
    let batch = imported(&app, &state, &key, None, "outlook.xlsx").await;
    assert_eq!(batch["status"], "completed", "{batch}");
    assert_eq!(counts(&batch), [10, 5, 0, 1, 4]);
    let id = batch["id"].as_i64().unwrap();
    let rejects = api(
        &app,
        Some(&key),
        Method::GET,
        &format!("/api/v1/batches/{id}/rejects"),
        None,
    )
    .await;
    assert!(
        rejects.body.contains("7,The mobile number cell holds an error (such as #N/A) instead of a number.,\"Fay,,,,,lookup failed\""),
        "{}",
        rejects.body
    );
    let ann = body(
        &api(
            &app,
            Some(&key),
            Method::GET,
            "/api/v1/contacts?query=ann",
            None,
        )
        .await,
    );
    assert_eq!(ann["items"][0]["addresses"]["msisdn"], "+6581234567");
    assert_eq!(ann["items"][0]["addresses"]["email"], "ann@acme.test");
    assert_eq!(ann["items"][0]["lastName"], "Lee");
    // The same list as .xls and .ods: every number found again.
    for name in ["outlook.xls", "outlook.ods"] {
        let batch = imported(&app, &state, &key, None, name).await;
        assert_eq!(counts(&batch), [10, 0, 5, 1, 4], "{name}");
    }
    // Dates, formulas and booleans as text in custom fields.
    let options = json!({"columns": {"Mobile": "msisdn", "Birthday": "customAttributes.birthday",
        "Total": "customAttributes.total", "Member": "customAttributes.member"}});
    let batch = imported(&app, &state, &key, Some(options), "dates-formulas.xlsx").await;
    assert_eq!(counts(&batch), [3, 3, 0, 0, 0]);
    let bo = body(
        &api(
            &app,
            Some(&key),
            Method::GET,
            "/api/v1/contacts?query=81230002",
            None,
        )
        .await,
    );
    assert_eq!(
        bo["items"][0]["customAttributes"],
        json!({"birthday": "2000-02-29", "total": "0.3", "member": "false"})
    );
}

async fn the_sheet_to_read_is_chosen(db: Db) {
    let (app, state) = app_with_uploads(db, 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    // The first sheet with a value, unless one is named.
    let batch = imported(&app, &state, &key, None, "two-sheets.xlsx").await;
    assert_eq!(counts(&batch), [3, 3, 0, 0, 0]);
    let batch = imported(
        &app,
        &state,
        &key,
        Some(json!({"sheet": "February"})),
        "two-sheets.xlsx",
    )
    .await;
    assert_eq!(counts(&batch), [2, 1, 1, 0, 0]);
    let reply = create(
        &app,
        &key,
        Some(json!({"sheet": "March"})),
        "two-sheets.xlsx",
        &corpus("two-sheets.xlsx"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply
            .body
            .contains("no sheet \\\"March\\\". Its sheets: Cover, January, February."),
        "{}",
        reply.body
    );
    let long = "S".repeat(256);
    let reply = create(
        &app,
        &key,
        Some(json!({ "sheet": long })),
        "two-sheets.xlsx",
        &corpus("two-sheets.xlsx"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("at most 255 characters"),
        "{}",
        reply.body
    );
    let reply = create(
        &app,
        &key,
        Some(json!({"sheet": "January"})),
        "list.csv",
        b"mobile\n81234567\n",
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("leave out sheet"), "{}", reply.body);

    // The Upload tab's route takes the sheet the preview chose.
    let columns = Columns::default()
        .with(Field::Mobile, 0)
        .with(Field::FirstName, 1);
    let chosen = ImportOptions {
        sheet: Some("February".into()),
        ..ImportOptions::csv_with_header(columns, "SG")
    };
    let reply = upload(
        &app,
        &admin,
        &chosen,
        "two-sheets.xlsx",
        &corpus("two-sheets.xlsx"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    run_queued(&state).await.unwrap();
    assert_eq!(counts(&latest(&app, &key).await), [2, 0, 2, 0, 0]);
    // Without a sheet, a workbook is not CSV text.
    let reply = upload(
        &app,
        &admin,
        &options(None, false),
        "two-sheets.xlsx",
        &corpus("two-sheets.xlsx"),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("not a text file"), "{}", reply.body);
}

async fn workbooks_that_cannot_be_read_are_refused_with_their_reason(db: Db) {
    let (app, _state) = app_with_uploads(db, 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let cases: [(&str, Vec<u8>, &str); 5] = [
        (
            "password.xlsx",
            corpus("password.xlsx"),
            "password-protected",
        ),
        ("password.xls", corpus("password.xls"), "password-protected"),
        ("password.ods", corpus("password.ods"), "password-protected"),
        (
            "list.xlsx",
            b"mobile,name\n81234567,Ann\n".to_vec(),
            "CSV file renamed",
        ),
        (
            "list.ods",
            b"PK\x03\x04 not really a zip".to_vec(),
            "damaged zip archive",
        ),
    ];
    for (name, file, reason) in cases {
        let reply = create(&app, &key, None, name, &file).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            reply.body
        );
        assert!(reply.body.contains(reason), "{name}: {}", reply.body);
    }
    let list = body(&api(&app, Some(&key), Method::GET, "/api/v1/batches", None).await);
    assert_eq!(list["items"], json!([]), "nothing was queued");
}

/// Files that make calamine reserve or build gigabytes (`tests/corpus/sheets/hostile/`,
/// each a few KB): refused with a message, and the server goes on.
async fn hostile_workbooks_stop_their_reader_not_the_server(db: Db) {
    let (app, state) = app_with_uploads(db, 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let mut names: Vec<_> = std::fs::read_dir("tests/corpus/sheets/hostile")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 8, "{names:?}");
    for name in names {
        let file = std::fs::read(format!("tests/corpus/sheets/hostile/{name}")).unwrap();
        let reply = create(&app, &key, None, &name, &file).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{name}: {}",
            reply.body
        );
    }
    // Still serving: a good workbook after them.
    let batch = imported(&app, &state, &key, None, "two-sheets.xlsx").await;
    assert_eq!(counts(&batch), [3, 3, 0, 0, 0]);
}

async fn the_excel_export_has_text_cells_and_imports_back_unchanged(db: Db) {
    let (app, state) = app_with_uploads(db, 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    for (name, mobile) in [
        ("=HYPERLINK(1)", "8123 4567"),
        ("Bo", "+65 9123 4567"),
        ("Cy", "8123 0001"),
    ] {
        let contact = json!({"firstName": name, "addresses": {"msisdn": mobile},
            "customAttributes": {"Code": "007"}});
        let reply = api(
            &app,
            Some(&key),
            Method::POST,
            "/api/v1/contacts",
            Some(contact),
        )
        .await;
        assert!(reply.status.is_success(), "{}", reply.body);
    }
    let bo = body(
        &api(
            &app,
            Some(&key),
            Method::GET,
            "/api/v1/contacts?query=bo",
            None,
        )
        .await,
    );
    let bo_id = bo["items"][0]["id"].as_i64().unwrap();
    let opted = call_json(
        &app,
        "set_opt_out",
        &format!(r#"{{"id":{bo_id},"channel":"sms","reason":"manual"}}"#),
        &admin,
    )
    .await;
    assert_eq!(opted.status, StatusCode::OK, "{}", opted.body);

    let form = "selection=%7B%22AllMatching%22%3A%7B%22search%22%3A%22%22%2C%22sort%22%3A%22Newest%22%7D%7D";
    let request = Request::post("/contacts/export.xlsx")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::COOKIE, &admin)
        .body(Body::from(form))
        .unwrap();
    let reply = send(&app, request).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(
        reply.headers["content-type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let disposition = reply.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"contacts-")
            && disposition.ends_with(".xlsx\""),
        "{disposition}"
    );

    // The same columns as the CSV, every value as typed: no formula, no lost `+` or `0`.
    let mut book = sheet::open(reply.bytes.to_vec()).unwrap();
    assert_eq!(book.sheets(), ["Contacts"]);
    let mut rows = Vec::new();
    book.rows("Contacts", |row| {
        rows.push(row.cells.unwrap());
        ControlFlow::Continue(())
    })
    .unwrap();
    assert_eq!(rows.len(), 4);
    let header = contacts::server::export::header();
    assert_eq!(rows[0], header);
    let column = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let by_name = |name: &str| {
        rows.iter()
            .find(|r| r[column("first_name")] == name)
            .unwrap()
    };
    assert_eq!(by_name("=HYPERLINK(1)")[column("mobile")], "+6581234567");
    assert_eq!(by_name("Bo")[column("opted_out")], "sms");
    assert_eq!(by_name("Cy")[column("attributes")], r#"[["Code","007"]]"#);

    // Uploaded back: every row matches the contact it came from, nothing is created.
    let queued = create(&app, &key, None, "contacts.xlsx", &reply.bytes).await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    run_queued(&state).await.unwrap();
    assert_eq!(counts(&latest(&app, &key).await), [3, 0, 3, 0, 0]);
}
