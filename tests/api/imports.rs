//! CSV imports through the real upload endpoint and importer: counts, dedupe, names kept
//! or updated, the group, blacklisting untouched, refusals, the report, and a restart.

use crate::common::{app_with_uploads, call, count, send, set_up};
use axum::body::Body;
use contacts::db;
use contacts::db::Db;
use contacts::import::columns::{Columns, Field};
use contacts::import::{ImportOptions, ImportStatus, ImportSummary};
use contacts::server::importer::run_queued;
use contacts::server::state::AppState;
use http::{Request, StatusCode, header};

contacts::db_tests!(
    counts_add_up_and_the_report_lists_each_refused_row,
    existing_numbers_are_matched_and_keep_their_names_unless_asked,
    an_import_never_touches_blacklisting_or_other_groups,
    files_that_cannot_be_imported_say_why_and_import_nothing,
    uploads_queue_and_stay_inside_their_workspace,
    viewers_see_uploads_but_cannot_upload,
    leftovers_of_a_stop_are_swept_at_start,
    repeats_across_batches_are_found_in_the_database,
    any_column_maps_to_a_field_and_updates_fill_every_mapped_field,
    a_server_that_lost_its_lease_writes_nothing_and_the_next_one_finishes
);

pub(crate) const BOUNDARY: &str = "----contacts-test-boundary";

pub(crate) fn options(group: Option<&str>, update_names: bool) -> ImportOptions {
    let columns = Columns::default()
        .with(Field::Mobile, 2)
        .with(Field::FirstName, 0)
        .with(Field::LastName, 1);
    ImportOptions {
        group: group.map(str::to_string),
        update_existing: update_names,
        ..ImportOptions::csv_with_header(columns, "SG")
    }
}

pub(crate) fn multipart(options: &ImportOptions, file_name: &str, file: &[u8]) -> Vec<u8> {
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n{}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{file_name}\"\r\n\
         Content-Type: text/csv\r\n\r\n",
        serde_json::to_string(options).unwrap()
    )
    .into_bytes();
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

pub(crate) async fn upload(
    app: &axum::Router,
    cookie: &str,
    options: &ImportOptions,
    file_name: &str,
    file: &[u8],
) -> crate::common::Reply {
    let body = multipart(options, file_name, file);
    let request = Request::post("/imports")
        .header(
            header::CONTENT_TYPE,
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .header(header::CONTENT_LENGTH, body.len())
        .header(header::COOKIE, cookie)
        .body(Body::from(body))
        .unwrap();
    send(app, request).await
}

pub(crate) async fn imports(app: &axum::Router, cookie: &str) -> Vec<ImportSummary> {
    let reply = call(app, "list_imports", &[], Some(cookie)).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    serde_json::from_str(&reply.body).unwrap()
}

/// Uploads a file, runs the importer, and returns the finished import.
async fn import(
    app: &axum::Router,
    state: &AppState,
    cookie: &str,
    options: &ImportOptions,
    file: &str,
) -> ImportSummary {
    let reply = upload(app, cookie, options, "people.csv", file.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    assert_eq!(run_queued(state).await.unwrap(), 1);
    imports(app, cookie).await.remove(0)
}

async fn names(db: &Db, mobile: &str) -> (String, String) {
    let sql = "SELECT first_name, last_name FROM contacts WHERE mobile = $1";
    contacts::on!(db, pool => sqlx::query_as(sql).bind(mobile).fetch_one(pool).await).unwrap()
}

async fn counts_add_up_and_the_report_lists_each_refused_row(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let cookie = set_up(&app, "boss@acme.test").await;
    let file = "First Name,Last Name,Mobile\r\n\
                Ann,Lee,+65 8123 4567\r\n\
                Bo,Tan,8123 4567\r\n\
                Cy,Ong,+65-9123-4567\r\n\
                Di,Ho,123\r\n\
                Ed,Lim\r\n\
                Fy,Goh,6.58123E+09\r\n";
    let done = import(
        &app,
        &state,
        &cookie,
        &options(Some("Spring fair"), false),
        file,
    )
    .await;
    assert_eq!(done.status, ImportStatus::Completed, "{:?}", done.error);
    let c = done.counts;
    assert_eq!(
        (c.rows_read, c.created, c.matched, c.duplicates, c.invalid),
        (6, 2, 0, 1, 3)
    );
    assert_eq!(
        c.created + c.matched + c.duplicates + c.invalid,
        c.rows_read
    );
    assert_eq!(done.group_name.as_deref(), Some("Spring fair"));
    assert_eq!(done.user_email, "boss@acme.test");

    let sql = "SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id
               WHERE g.name = 'Spring fair' AND m.import_id = $1";
    let members = count(&db, sql, &[done.id]).await;
    assert_eq!(members, 2);

    let report = send(
        &app,
        Request::get(format!("/imports/{}/rejected.csv", done.id))
            .header(header::COOKIE, &cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(report.status, StatusCode::OK);
    let lines: Vec<&str> = report.body.trim_start_matches('\u{feff}').lines().collect();
    assert_eq!(lines[0], "line,reason,row");
    assert_eq!(lines.len(), 5, "{}", report.body);
    assert!(
        lines[1].starts_with("3,Same number as line 2.,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[2].starts_with("5,") && lines[2].contains("too short"),
        "{}",
        lines[2]
    );
    assert!(
        lines[3].starts_with("6,The row has 2 fields; the header has 3."),
        "{}",
        lines[3]
    );
    assert!(lines[4].contains("scientific notation"), "{}", lines[4]);
}

async fn existing_numbers_are_matched_and_keep_their_names_unless_asked(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let cookie = set_up(&app, "boss@acme.test").await;
    let first = "first,last,mobile\nAnn,Lee,81234567\n";
    import(&app, &state, &cookie, &options(None, false), first).await;

    let renamed = "first,last,mobile\nAnnie,Li,+65 8123 4567\nNew,Person,91234567\n";
    let kept = import(&app, &state, &cookie, &options(None, false), renamed).await;
    assert_eq!((kept.counts.created, kept.counts.matched), (1, 1));
    assert_eq!(
        names(&db, "+6581234567").await,
        ("Ann".into(), "Lee".into())
    );

    let updated = import(&app, &state, &cookie, &options(None, true), renamed).await;
    assert_eq!((updated.counts.created, updated.counts.matched), (0, 2));
    assert_eq!(
        names(&db, "+6581234567").await,
        ("Annie".into(), "Li".into())
    );
    // Search finds the contact by its new names, not by the old ones.
    let workspace = workspace_of(&db, "+6581234567").await;
    for (search, found) in [("annie li", 1), ("li", 1), ("ann", 1), ("lee", 0)] {
        let filter = contacts::model::contact::ContactFilter {
            search: search.into(),
            ..Default::default()
        };
        let count = contacts::db::contacts::count(&db, workspace, &filter)
            .await
            .unwrap();
        assert_eq!(count, found, "contacts found by {search:?}");
    }
}

async fn an_import_never_touches_blacklisting_or_other_groups(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let cookie = set_up(&app, "boss@acme.test").await;
    import(
        &app,
        &state,
        &cookie,
        &options(Some("Opted out"), false),
        "first,last,mobile\nAnn,Lee,81234567\n",
    )
    .await;
    let sql = "UPDATE groups SET blacklisted = TRUE WHERE name = 'Opted out'";
    contacts::on!(&db, pool => {
        sqlx::query(sql).execute(pool).await.unwrap();
    });

    let done = import(
        &app,
        &state,
        &cookie,
        &options(Some("opted OUT"), false),
        "first,last,mobile\nAnn,Lee,81234567\nBo,Tan,91234567\n",
    )
    .await;
    assert_eq!(
        done.group_name.as_deref(),
        Some("Opted out"),
        "an existing group, any case"
    );
    let done = import(
        &app,
        &state,
        &cookie,
        &options(Some("Newsletter"), false),
        "first,last,mobile\nAnn,Lee,81234567\n",
    )
    .await;
    assert_eq!(done.counts.matched, 1);

    let sql = "SELECT g.name, g.blacklisted FROM memberships m JOIN groups g ON g.id = m.group_id
               JOIN contacts c ON c.id = m.contact_id WHERE c.mobile = '+6581234567'
               ORDER BY g.name";
    let groups: Vec<(String, bool)> =
        contacts::on!(&db, pool => sqlx::query_as(sql).fetch_all(pool).await).unwrap();
    assert_eq!(
        groups,
        vec![
            ("Newsletter".to_string(), false),
            ("Opted out".to_string(), true)
        ]
    );

    // On SQLite the importer writes on a connection without foreign-key checks or
    // automatic checkpoints, closed after the import: every connection of the pool still
    // has both.
    let mut connections = Vec::new();
    if let Db::Sqlite(pool) = &db {
        for _ in 0..pool.size() {
            connections.push(pool.acquire().await.unwrap());
        }
    }
    for conn in &mut connections {
        let on: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(on, 1, "foreign keys are on for the app's connections");
        let pages: i64 = sqlx::query_scalar("PRAGMA wal_autocheckpoint")
            .fetch_one(&mut **conn)
            .await
            .unwrap();
        assert_eq!(
            pages, 1000,
            "the app's connections checkpoint the log themselves"
        );
    }
    drop(connections);
    let workspace = workspace_of(&db, "+6581234567").await;
    db::contacts::delete(
        db.acquire().await.unwrap().conn(),
        workspace,
        &contacts::model::contact::Selection::AllMatching(Default::default()),
        contacts::db::testing::AUTHOR,
    )
    .await
    .unwrap();
    let left = count(&db, "SELECT count(*) FROM memberships", &[]).await;
    assert_eq!(left, 0, "deleting contacts deletes their memberships");
}

async fn workspace_of(db: &Db, mobile: &str) -> i64 {
    let sql = "SELECT workspace_id FROM contacts WHERE mobile = $1";
    contacts::on!(db, pool => sqlx::query_scalar(sql).bind(mobile).fetch_one(pool).await).unwrap()
}

async fn files_that_cannot_be_imported_say_why_and_import_nothing(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let cookie = set_up(&app, "boss@acme.test").await;
    let opts = options(None, false);

    let reply = upload(&app, &cookie, &opts, "photo.png", b"\x89PNG").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("neither a CSV file nor a spreadsheet"),
        "{}",
        reply.body
    );

    let reply = upload(&app, &cookie, &opts, "empty.csv", b"").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("The file is empty."), "{}", reply.body);

    let reply = upload(
        &app,
        &cookie,
        &opts,
        "binary.csv",
        b"PK\x03\x04\0\0\x08\0\0\0",
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("not a text file"), "{}", reply.body);

    let too_big = vec![b'1'; 1024 * 1024 + 1];
    let reply = upload(&app, &cookie, &opts, "big.csv", &too_big).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.body.contains("larger than 1.0 MB"), "{}", reply.body);

    let mut untagged = opts.clone();
    let mobile = untagged.columns.get(Field::Mobile).unwrap();
    untagged.columns.set(mobile, None);
    let reply = upload(&app, &cookie, &untagged, "a.csv", b"a,b,c\n1,2,3\n").await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(reply.body.contains("Tag the column"), "{}", reply.body);

    let header_only = import(&app, &state, &cookie, &opts, "first,last,mobile\r\n").await;
    assert_eq!(header_only.status, ImportStatus::Failed);
    assert_eq!(
        header_only.error.as_deref(),
        Some("The file has a header row but no contacts below it.")
    );

    let unbalanced = "first,last,mobile\nAnn,Lee,81234567\n\"Bo,Tan,91234567\nCy,Ong,92345678\n";
    let reply = upload(&app, &cookie, &opts, "a.csv", unbalanced.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        reply.body.contains("Line 3: a quote opens"),
        "{}",
        reply.body
    );

    // Past the first 64 KB only the importer sees it: it fails before importing anything.
    let mut long = String::from("first,last,mobile\n");
    for n in 0..5_000 {
        long.push_str(&format!("Person,Number {n},+65 8{n:07}\n"));
    }
    long.push_str("\"Bo,Tan,91234567\nCy,Ong,92345678\n");
    let failed = import(&app, &state, &cookie, &opts, &long).await;
    assert_eq!(failed.status, ImportStatus::Failed);
    assert!(
        failed
            .error
            .as_deref()
            .unwrap()
            .starts_with("Line 5002: a quote opens"),
        "{:?}",
        failed.error
    );
    assert_eq!(failed.counts.rows_read, 0);
    let contacts = count(&db, "SELECT count(*) FROM contacts", &[]).await;
    assert_eq!(contacts, 0, "nothing half-imported");
}

async fn uploads_queue_and_stay_inside_their_workspace(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let cookie = set_up(&app, "boss@acme.test").await;
    for n in 0..2 {
        let file = format!("first,last,mobile\nAnn,Lee,8123456{n}\n");
        let reply = upload(
            &app,
            &cookie,
            &options(None, false),
            "a.csv",
            file.as_bytes(),
        )
        .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED);
    }
    let queued = imports(&app, &cookie).await;
    assert_eq!(queued.len(), 2);
    assert!(queued.iter().all(|i| i.status == ImportStatus::Queued));
    assert_eq!(run_queued(&state).await.unwrap(), 2);
    assert!(
        imports(&app, &cookie)
            .await
            .iter()
            .all(|i| i.status == ImportStatus::Completed)
    );

    let other = db::workspaces::create(&db, "Other", "SG").await.unwrap();
    assert!(
        db::imports::list(&db, other, None, 50)
            .await
            .unwrap()
            .is_empty()
    );
    let id = queued[0].id;
    assert!(db::imports::get(&db, other, id).await.is_err());
    assert!(
        db::imports::rejects(&db, other, id, 0, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let reply = send(
        &app,
        Request::get(format!("/imports/{id}/rejected.csv"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED);
}

async fn viewers_see_uploads_but_cannot_upload(db: Db) {
    let (app, _state) = app_with_uploads(db.clone(), 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let viewer = crate::common::add_user(&app, &admin, "look@acme.test", "viewer").await;
    let file = b"first,last,mobile\nAnn,Lee,81234567\n";
    let reply = upload(&app, &viewer, &options(None, false), "a.csv", file).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);
    assert!(
        imports(&app, &viewer).await.is_empty(),
        "nothing was queued"
    );
    let reply = upload(&app, &admin, &options(None, false), "a.csv", file).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    assert_eq!(
        imports(&app, &viewer).await.len(),
        1,
        "viewers see the list"
    );
}

async fn leftovers_of_a_stop_are_swept_at_start(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let cookie = set_up(&app, "boss@acme.test").await;
    let reply = upload(
        &app,
        &cookie,
        &options(None, false),
        "a.csv",
        b"first,last,mobile\nA,B,81234567\n",
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let waiting: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    let dir = state.config.uploads.folder().unwrap().to_path_buf();
    let waiting = dir.join(format!("{}.upload", waiting["id"]));
    let partial = dir.join("incoming-00000000deadbeef.part");
    let orphan = dir.join("999.upload");
    let parts = dir.join("incoming-00000000feedbeef.part#1");
    let young = dir.join("998.upload");
    // Older than the store's leftovers (younger, a file may be another server's upload
    // about to be queued).
    let then = std::time::SystemTime::now() - contacts::server::store::LEFTOVER_AGE * 2;
    for leftover in [&partial, &orphan, &parts, &young] {
        std::fs::write(leftover, b"left behind").unwrap();
        if leftover != &young {
            let file = std::fs::File::options().write(true).open(leftover).unwrap();
            file.set_modified(then).unwrap();
        }
    }
    contacts::server::importer::sweep_uploads(&state)
        .await
        .unwrap();
    assert!(!partial.exists(), "an upload cut off by a stop");
    assert!(!orphan.exists(), "a file no import waits for");
    assert!(!parts.exists(), "the parts of an upload cut off");
    assert!(young.exists(), "a file too young to be a leftover");
    assert!(waiting.exists(), "the queued import keeps its file");
}

/// The report of an import as (line, reason) pairs.
async fn report(app: &axum::Router, cookie: &str, id: i64) -> Vec<(u64, String)> {
    let reply = send(
        app,
        Request::get(format!("/imports/{id}/rejected.csv"))
            .header(header::COOKIE, cookie)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let mut reader = csv::Reader::from_reader(reply.body.trim_start_matches('\u{feff}').as_bytes());
    reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            (r[0].parse().unwrap(), r[1].to_string())
        })
        .collect()
}

async fn repeats_across_batches_are_found_in_the_database(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 8);
    let cookie = set_up(&app, "boss@acme.test").await;
    let before = "first,last,mobile\nOld,One,+6591000001\nOld,Two,+6591000002\n";
    import(&app, &state, &cookie, &options(None, false), before).await;

    // Batches of 50,000 rows: a row of the second batch repeats one the first created, an
    // existing contact is met in the second batch and again in the third, and two rows of
    // the second batch repeat each other. Row `i` is on line `i + 2`.
    let rows = 110_000u64;
    let number = |i: u64| match i {
        60_000 => "+65 8100 0005".to_string(),
        60_001 | 105_000 => "+65 9100 0001".to_string(),
        70_000 => format!("+65 {}", 81_000_000 + 60_010),
        i => format!("+65 {}", 81_000_000 + i),
    };
    let mut file = String::from("first,last,mobile\n");
    for i in 0..rows {
        file.push_str(&format!("Person,Row {i},{}\n", number(i)));
    }
    let done = import(&app, &state, &cookie, &options(Some("Big"), false), &file).await;
    assert_eq!(done.status, ImportStatus::Completed, "{:?}", done.error);
    let c = done.counts;
    assert_eq!(
        (c.rows_read, c.created, c.matched, c.duplicates, c.invalid),
        (rows as i64, rows as i64 - 4, 1, 3, 0)
    );
    let mut reasons = report(&app, &cookie, done.id).await;
    reasons.sort();
    assert_eq!(
        reasons,
        [
            (60_002, "Same number as line 7.".to_string()),
            (70_002, "Same number as line 60012.".to_string()),
            (105_002, "Same number as line 60003.".to_string()),
        ]
    );
    let contacts = count(&db, "SELECT count(*) FROM contacts", &[]).await;
    assert_eq!(contacts, 2 + c.created, "no contact doubled");
    let sql = "SELECT count(*) FROM memberships m JOIN groups g ON g.id = m.group_id
               WHERE g.name = 'Big'";
    assert_eq!(count(&db, sql, &[]).await, c.created + c.matched);
    // What the import met stays for an undo, until its window has passed.
    let sql =
        "SELECT (SELECT count(*) FROM import_created) + (SELECT count(*) FROM import_matched)";
    assert!(count(&db, sql, &[]).await > 0);
    let after_the_window = contacts::db::now() + 1;
    contacts::db::imports::purge_undo_notes(&db, after_the_window)
        .await
        .unwrap();
    let left = count(&db, sql, &[]).await;
    assert_eq!(
        left, 0,
        "what the import met is forgotten after the undo window"
    );
}

async fn any_column_maps_to_a_field_and_updates_fill_every_mapped_field(db: Db) {
    use contacts::import::columns::{Field, Tag};
    let (app, state) = app_with_uploads(db.clone(), 1);
    let cookie = set_up(&app, "boss@acme.test").await;
    let mut columns = Columns::default();
    for (index, tag) in [
        Tag::Field(Field::Mobile),
        Tag::Field(Field::FirstName),
        Tag::Field(Field::Email),
        Tag::Custom("Tier".into()),
        Tag::Custom("Club".into()),
    ]
    .into_iter()
    .enumerate()
    {
        columns.set(index, Some(tag));
    }
    let mut first = ImportOptions::csv_with_header(columns.clone(), "SG");
    let done = import(
        &app,
        &state,
        &cookie,
        &first,
        "Mobile,Name,E-mail,Tier,Club\n\
         81234567,Ann,ann@example.com,Silver,\n\
         91234567,Bo,not-an-email,Gold,A\n\
         92345678,Cy,,,\n",
    )
    .await;
    assert_eq!((done.counts.created, done.counts.invalid), (2, 1));
    let reasons = report(&app, &cookie, done.id).await;
    assert_eq!(reasons.len(), 1);
    assert!(reasons[0].1.starts_with("Email: "), "{reasons:?}");
    let stored = |mobile: &'static str| {
        let db = db.clone();
        async move {
            let sql =
                "SELECT first_name, email, attributes, whatsapp FROM contacts WHERE mobile = $1";
            contacts::on!(&db, pool => {
                sqlx::query_as::<_, (String, Option<String>, String, Option<String>)>(sql)
                    .bind(mobile)
                    .fetch_one(pool)
                    .await
            })
            .unwrap()
        }
    };
    assert_eq!(
        stored("+6581234567").await,
        (
            "Ann".into(),
            Some("ann@example.com".into()),
            r#"[["Tier","Silver"]]"#.into(),
            Some("+6581234567".into())
        )
    );

    // Again, updating: values replace, empty cells keep, custom fields merge by key.
    first.update_existing = true;
    let again = import(
        &app,
        &state,
        &cookie,
        &first,
        "Mobile,Name,E-mail,Tier,Club\n\
         81234567,,ann@new.example,Gold,B\n\
         92345678,Cyrus,,,\n",
    )
    .await;
    assert_eq!((again.counts.matched, again.counts.created), (2, 0));
    assert_eq!(
        stored("+6581234567").await,
        (
            "Ann".into(),
            Some("ann@new.example".into()),
            r#"[["Tier","Gold"],["Club","B"]]"#.into(),
            Some("+6581234567".into())
        )
    );
    assert_eq!(stored("+6592345678").await.0, "Cyrus");
}

/// Two servers on one database: the first took an upload, then stalled past its lease;
/// the second took it over. The first one's batch is refused whole and it leaves the
/// import alone; the second imports every row once.
async fn a_server_that_lost_its_lease_writes_nothing_and_the_next_one_finishes(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let cookie = set_up(&app, "boss@acme.test").await;
    let file = "First Name,Last Name,Mobile\r\nAnn,Lee,+65 8123 4567\r\nBo,Tan,+65 9123 4567\r\n";
    let reply = upload(
        &app,
        &cookie,
        &options(None, false),
        "people.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let first = db::imports::claim_next(&db).await.unwrap().unwrap();
    let expire = "UPDATE imports SET lease_until = 0 WHERE id = $1";
    contacts::on!(&db, pool => {
        sqlx::query(expire).bind(first.id).execute(pool).await.unwrap();
    });
    let second = db::imports::claim_next(&db).await.unwrap().unwrap();
    assert_eq!(second.id, first.id);

    contacts::server::importer::run(&state, &first)
        .await
        .unwrap();
    assert_eq!(count(&db, "SELECT COUNT(*) FROM contacts", &[]).await, 0);
    let summary = imports(&app, &cookie).await.remove(0);
    assert_eq!(summary.status, ImportStatus::Processing);
    assert_eq!(summary.counts.rows_read, 0);

    contacts::server::importer::run(&state, &second)
        .await
        .unwrap();
    let summary = imports(&app, &cookie).await.remove(0);
    assert_eq!(
        summary.status,
        ImportStatus::Completed,
        "{:?}",
        summary.error
    );
    assert_eq!((summary.counts.rows_read, summary.counts.created), (2, 2));
    assert_eq!(count(&db, "SELECT COUNT(*) FROM contacts", &[]).await, 2);
}
