//! Hostile and broken requests: bodies over their route's limit, requests from other
//! sites, guessing passwords, half-done changes, security headers.

use crate::common::{
    TEMPORARY_PASSWORD, add_user, app, app_with_uploads, call, call_json, count, get, send, set_up,
};
use crate::contacts::contact_json;
use crate::imports::{BOUNDARY, multipart, options};
use axum::body::Body;
use contacts::db::Db;
use contacts::server::limits::{MAX_ACCOUNT_FORM_BYTES, MAX_BODY_BYTES};
use contacts::server::throttle::FREE_PER_ADDRESS;
use http::{Request, StatusCode, header};

contacts::db_tests!(
    an_oversized_body_is_refused_before_it_is_read,
    a_malformed_request_is_a_400_not_a_server_error,
    requests_from_other_sites_change_nothing,
    every_response_carries_the_security_headers,
    guesses_sent_at_once_are_counted_before_they_are_checked,
    a_refused_guess_does_not_wait_for_the_writer,
    saving_a_contact_with_a_deleted_group_leaves_nothing_behind,
    an_admin_set_password_must_be_changed_first,
    changing_a_password_ends_the_other_sessions,
    a_removed_user_is_signed_out_at_once_and_their_uploads_stay,
    uploads_are_refused_when_the_disk_is_nearly_full
);

/// A POST to `path` with these headers and body.
fn post(path: &str, headers: &[(&str, &str)], body: impl Into<Body>) -> Request<Body> {
    let mut request = Request::post(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(body.into()).unwrap()
}

async fn an_oversized_body_is_refused_before_it_is_read(db: Db) {
    let app = app(db);
    set_up(&app, "boss@acme.test").await;
    // A 64 MiB "password", without a cookie: refused by its declared length, unread.
    let huge = vec![b'a'; 64 << 20];
    let reply = send(
        &app,
        post(
            "/api/sign_in",
            &[
                ("content-type", "application/x-www-form-urlencoded"),
                ("content-length", &huge.len().to_string()),
            ],
            huge,
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(reply.body.contains("TooLarge"), "{}", reply.body);

    // The same without a declared length: cut off as it arrives.
    let chunks = (0..16).map(|_| Ok::<_, std::io::Error>(vec![b'a'; 1 << 20]));
    let streamed = Body::from_stream(futures::stream::iter(chunks));
    let reply = send(
        &app,
        post(
            "/api/list_contacts",
            &[("content-type", "application/json")],
            streamed,
        ),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );

    // Just over each limit, declared honestly.
    for (path, limit) in [
        ("/api/sign_in", MAX_ACCOUNT_FORM_BYTES),
        ("/api/list_contacts", MAX_BODY_BYTES),
    ] {
        let body = vec![b'a'; limit + 1];
        let reply = send(
            &app,
            post(path, &[("content-length", &body.len().to_string())], body),
        )
        .await;
        assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE, "{path}");
    }
}

async fn a_malformed_request_is_a_400_not_a_server_error(db: Db) {
    let app = app(db);
    let admin = set_up(&app, "boss@acme.test").await;
    let reply = call_json(&app, "list_contacts", "{\"filter\": 3", &admin).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert!(reply.body.contains("malformed"), "{}", reply.body);
    let reply = call(&app, "change_role", &[("user_id", "x")], Some(&admin)).await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
}

/// Each kind of state-changing route, sent with a valid cookie from another site.
async fn requests_from_other_sites_change_nothing(db: Db) {
    let (app, _state) = app_with_uploads(db.clone(), 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let evil = [
        ("origin", "https://evil.example"),
        ("host", "contacts.test"),
    ];
    let sibling = [
        ("sec-fetch-site", "same-site"),
        ("origin", "https://evil.contacts.test"),
        ("host", "contacts.test"),
    ];
    for from in [&evil[..], &sibling[..]] {
        let with = |extra: &[(&'static str, &str)]| -> Vec<(&str, String)> {
            from.iter()
                .chain(extra)
                .map(|(k, v)| (*k, v.to_string()))
                .chain([("cookie", admin.clone())])
                .collect()
        };
        let group = r#"{"id":null,"input":{"name":"Forged","description":"","blacklisted":false}}"#;
        let upload_body = multipart(
            &options(None, false),
            "a.csv",
            b"first,last,mobile\nA,B,81234567\n",
        );
        let boundary = format!("multipart/form-data; boundary={BOUNDARY}");
        let requests = [
            (
                "/api/save_group",
                with(&[("content-type", "application/json")]),
                Body::from(group),
            ),
            (
                "/api/sign_in",
                with(&[("content-type", "application/x-www-form-urlencoded")]),
                Body::from("email=boss%40acme.test&password=correct+horse+battery"),
            ),
            ("/api/sign_out", with(&[]), Body::empty()),
            (
                "/imports",
                with(&[("content-type", &boundary)]),
                Body::from(upload_body),
            ),
            (
                "/contacts/export.csv",
                with(&[("content-type", "application/x-www-form-urlencoded")]),
                Body::from("selection=%7B%22Ids%22%3A%5B%5D%7D"),
            ),
        ];
        for (path, headers, body) in requests {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let reply = send(&app, post(path, &headers, body)).await;
            assert_eq!(
                reply.status,
                StatusCode::FORBIDDEN,
                "{path}: {}",
                reply.body
            );
            assert!(reply.body.contains("CrossOrigin"), "{path}: {}", reply.body);
        }
    }
    let groups: i64 = count(&db, "SELECT count(*) FROM groups", &[]).await;
    let imports: i64 = count(&db, "SELECT count(*) FROM imports", &[]).await;
    assert_eq!((groups, imports), (0, 0), "nothing was written");
    let still_signed_in = call(&app, "current_user", &[], Some(&admin)).await;
    assert_eq!(
        still_signed_in.status,
        StatusCode::OK,
        "the forced sign-out did nothing"
    );

    // The app's own pages are let through.
    let own = send(
        &app,
        post(
            "/api/save_group",
            &[
                ("origin", "http://contacts.test"),
                ("host", "contacts.test"),
                ("content-type", "application/json"),
                ("cookie", &admin),
            ],
            Body::from(
                r#"{"id":null,"input":{"name":"Mine","description":"","blacklisted":false}}"#,
            ),
        ),
    )
    .await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
}

async fn every_response_carries_the_security_headers(db: Db) {
    let app = app(db);
    set_up(&app, "boss@acme.test").await;
    let page = get(&app, "/login", None).await;
    assert_eq!(page.status, StatusCode::OK);
    let policy = page.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap()
        .to_string();
    // The page's inline scripts carry the nonce its policy names.
    let nonce = policy
        .split("'nonce-")
        .nth(1)
        .and_then(|rest| rest.split('\'').next())
        .expect("a page's policy names a nonce");
    assert!(
        page.body.contains(&format!("nonce=\"{nonce}\"")),
        "{}",
        page.body
    );
    assert!(!policy.contains("unsafe-inline"));
    assert!(policy.contains("frame-ancestors 'none'"));
    let other = get(&app, "/login", None).await;
    assert!(
        !other.headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains(nonce),
        "a nonce is never reused"
    );

    let api = call(&app, "current_user", &[], None).await;
    for reply in [&page, &api] {
        assert_eq!(reply.headers[header::X_FRAME_OPTIONS], "DENY");
        assert_eq!(reply.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert_eq!(reply.headers[header::REFERRER_POLICY], "same-origin");
        assert!(reply.headers.contains_key(header::CONTENT_SECURITY_POLICY));
        assert!(
            !reply
                .headers
                .contains_key(header::STRICT_TRANSPORT_SECURITY)
        );
    }
    // HSTS over https only, and `X-Forwarded-Proto` only from a trusted proxy (see
    // security.rs): a client cannot claim https for itself.
    let claimed = send(
        &app,
        Request::get("/login")
            .header("x-forwarded-proto", "https")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert!(
        !claimed
            .headers
            .contains_key(header::STRICT_TRANSPORT_SECURITY)
    );
}

async fn guesses_sent_at_once_are_counted_before_they_are_checked(db: Db) {
    let app = app(db);
    set_up(&app, "boss@acme.test").await;
    let guesses = (0..40).map(|i| {
        let app = app.clone();
        async move {
            let password = format!("guess number {i}");
            call(
                &app,
                "sign_in",
                &[("email", "boss@acme.test"), ("password", &password)],
                None,
            )
            .await
            .status
        }
    });
    let statuses = futures::future::join_all(guesses).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    let free = FREE_PER_ADDRESS as usize;
    assert_eq!((checked, refused), (free, 40 - free), "{statuses:?}");
}

async fn a_refused_guess_does_not_wait_for_the_writer(db: Db) {
    let app = app(db.clone());
    set_up(&app, "boss@acme.test").await;
    let guess = || {
        let form = [
            ("email", "boss@acme.test"),
            ("password", "guess guess guess"),
        ];
        let app = app.clone();
        async move { call(&app, "sign_in", &form, None).await.status }
    };
    for _ in 0..FREE_PER_ADDRESS {
        assert_eq!(guess().await, StatusCode::UNPROCESSABLE_ENTITY);
    }
    // Another writer holds the counts (SQLite's write lock; PostgreSQL's row locks): a
    // guess the counts already refuse is answered without queueing behind it, so a flood
    // of refused guesses cannot hold up the writes of everyone else.
    let mut tx = db.begin_write().await.unwrap();
    contacts::on!(tx.conn(), conn => {
        sqlx::query("UPDATE sign_in_failures SET count = count")
            .execute(&mut *conn)
            .await
            .unwrap();
    });
    let refused = tokio::time::timeout(std::time::Duration::from_secs(30), guess()).await;
    assert_eq!(refused.ok(), Some(StatusCode::TOO_MANY_REQUESTS));
    tx.commit().await.unwrap();
}

async fn saving_a_contact_with_a_deleted_group_leaves_nothing_behind(db: Db) {
    let app = app(db.clone());
    let admin = set_up(&app, "boss@acme.test").await;
    let group = call_json(
        &app,
        "save_group",
        r#"{"id":null,"input":{"name":"Soon gone","description":"","blacklisted":false}}"#,
        &admin,
    )
    .await;
    let group: i64 = group.body.parse().unwrap();
    // A later group keeps the deleted one's id from being given to the next new group.
    let keeper = call_json(
        &app,
        "save_group",
        r#"{"id":null,"input":{"name":"Keeper","description":"","blacklisted":false}}"#,
        &admin,
    )
    .await;
    assert_eq!(keeper.status, StatusCode::OK);
    let deleted = call_json(
        &app,
        "delete_group",
        &format!(r#"{{"id":{group}}}"#),
        &admin,
    )
    .await;
    assert_eq!(deleted.status, StatusCode::OK);

    let with_groups = contact_json("Ann", "81234567", "").replace(
        r#""group_ids":[],"new_groups":[]"#,
        &format!(r#""group_ids":[{group}],"new_groups":["Brand new"]"#),
    );
    let reply = call_json(&app, "save_contact", &with_groups, &admin).await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND, "{}", reply.body);
    let add = call_json(
        &app,
        "add_to_groups",
        &format!(r#"{{"group_ids":[{group}],"new_groups":["Also new"],"selection":{{"Ids":[]}}}}"#),
        &admin,
    )
    .await;
    assert_eq!(add.status, StatusCode::NOT_FOUND, "{}", add.body);

    let contacts: i64 = count(&db, "SELECT count(*) FROM contacts", &[]).await;
    let groups: i64 = count(&db, "SELECT count(*) FROM groups", &[]).await;
    assert_eq!(
        (contacts, groups),
        (0, 1),
        "no contact and no new group were kept"
    );
}

async fn an_admin_set_password_must_be_changed_first(db: Db) {
    let app = app(db);
    let admin = set_up(&app, "boss@acme.test").await;
    let added = call(
        &app,
        "add_user",
        &[
            ("email", "new@acme.test"),
            ("password", TEMPORARY_PASSWORD),
            ("role", "editor"),
        ],
        Some(&admin),
    )
    .await;
    assert_eq!(added.status, StatusCode::OK);
    let cookie = call(
        &app,
        "sign_in",
        &[("email", "new@acme.test"), ("password", TEMPORARY_PASSWORD)],
        None,
    )
    .await
    .session_cookie()
    .unwrap();
    let blocked = call_json(
        &app,
        "count_contacts",
        r#"{"filter":{"search":"","sort":"Newest","group":null,"blacklisted":null}}"#,
        &cookie,
    )
    .await;
    assert_eq!(blocked.status, StatusCode::FORBIDDEN);
    assert!(
        blocked.body.contains("PasswordChangeRequired"),
        "{}",
        blocked.body
    );
    let page = get(&app, "/contacts", Some(&cookie)).await;
    assert_eq!(page.headers[header::LOCATION], "/account");
    assert_eq!(
        get(&app, "/account", Some(&cookie)).await.status,
        StatusCode::OK
    );

    let same = call(
        &app,
        "change_password",
        &[
            ("current_password", TEMPORARY_PASSWORD),
            ("new_password", TEMPORARY_PASSWORD),
        ],
        Some(&cookie),
    )
    .await;
    assert_eq!(same.status, StatusCode::UNPROCESSABLE_ENTITY);
    let changed = call(
        &app,
        "change_password",
        &[
            ("current_password", TEMPORARY_PASSWORD),
            ("new_password", "chosen by me 123"),
        ],
        Some(&cookie),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    assert_eq!(
        get(&app, "/contacts", Some(&cookie)).await.status,
        StatusCode::OK
    );
}

async fn changing_a_password_ends_the_other_sessions(db: Db) {
    let app = app(db);
    let admin = set_up(&app, "boss@acme.test").await;
    let sign_in = |password: &'static str| {
        let app = app.clone();
        async move {
            call(
                &app,
                "sign_in",
                &[("email", "boss@acme.test"), ("password", password)],
                None,
            )
            .await
            .session_cookie()
            .unwrap()
        }
    };
    let laptop = sign_in("correct horse battery").await;
    let wrong = call(
        &app,
        "change_password",
        &[
            ("current_password", "not it at all"),
            ("new_password", "a better password 1"),
        ],
        Some(&admin),
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(wrong.body.contains("current_password"), "{}", wrong.body);
    let changed = call(
        &app,
        "change_password",
        &[
            ("current_password", "correct horse battery"),
            ("new_password", "a better password 1"),
        ],
        Some(&admin),
    )
    .await;
    assert_eq!(changed.status, StatusCode::OK, "{}", changed.body);
    let status = |cookie: String| {
        let app = app.clone();
        async move { call(&app, "current_user", &[], Some(&cookie)).await.status }
    };
    assert_eq!(
        status(admin.clone()).await,
        StatusCode::OK,
        "this session stays"
    );
    assert_eq!(
        status(laptop).await,
        StatusCode::UNAUTHORIZED,
        "the other one ended"
    );

    let phone = sign_in("a better password 1").await;
    let everywhere = call(&app, "sign_out_everywhere", &[], Some(&admin)).await;
    assert_eq!(everywhere.status, StatusCode::OK);
    assert_eq!(status(admin).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(phone).await, StatusCode::UNAUTHORIZED);
}

async fn a_removed_user_is_signed_out_at_once_and_their_uploads_stay(db: Db) {
    let (app, state) = app_with_uploads(db, 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let editor = add_user(&app, &admin, "ed@acme.test", "editor").await;
    let body = multipart(
        &options(None, false),
        "ed.csv",
        b"first,last,mobile\nA,B,81234567\n",
    );
    let uploaded = send(
        &app,
        post(
            "/imports",
            &[
                (
                    "content-type",
                    &format!("multipart/form-data; boundary={BOUNDARY}"),
                ),
                ("cookie", &editor),
            ],
            body,
        ),
    )
    .await;
    assert_eq!(uploaded.status, StatusCode::ACCEPTED, "{}", uploaded.body);
    contacts::server::importer::run_queued(&state)
        .await
        .unwrap();

    let users: Vec<contacts::model::UserSummary> =
        serde_json::from_str(&call(&app, "list_users", &[], Some(&admin)).await.body).unwrap();
    let ed = users.iter().find(|u| u.email == "ed@acme.test").unwrap().id;
    let boss = users
        .iter()
        .find(|u| u.email == "boss@acme.test")
        .unwrap()
        .id;
    let myself = call(
        &app,
        "remove_user",
        &[("user_id", &boss.to_string())],
        Some(&admin),
    )
    .await;
    assert_eq!(
        myself.status,
        StatusCode::CONFLICT,
        "nobody removes themselves"
    );
    let removed = call(
        &app,
        "remove_user",
        &[("user_id", &ed.to_string())],
        Some(&admin),
    )
    .await;
    assert_eq!(removed.status, StatusCode::OK, "{}", removed.body);

    assert_eq!(
        call(&app, "current_user", &[], Some(&editor)).await.status,
        StatusCode::UNAUTHORIZED
    );
    let imports: Vec<contacts::import::ImportSummary> =
        serde_json::from_str(&call(&app, "list_imports", &[], Some(&admin)).await.body).unwrap();
    assert_eq!(imports.len(), 1, "the upload stays");
    assert_eq!(imports[0].user_email, "", "shown as by a removed user");
}

async fn uploads_are_refused_when_the_disk_is_nearly_full(db: Db) {
    let dir = std::env::temp_dir().join(format!("contacts-disk-{}", std::process::id()));
    let config = contacts::server::config::Config::from_lookup(|name| match name {
        "CONTACTS_DATA_DIR" => Some(dir.display().to_string()),
        // More free space than any disk has.
        "CONTACTS_MIN_FREE_DISK_MB" => Some((u64::MAX >> 21).to_string()),
        _ => None,
    })
    .unwrap();
    let state = contacts::server::state::AppState::new(
        contacts::server::test_leptos_options(),
        db.clone(),
        config,
    );
    let app = contacts::server::router(state);
    let admin = set_up(&app, "boss@acme.test").await;
    let body = multipart(
        &options(None, false),
        "a.csv",
        b"first,last,mobile\nA,B,81234567\n",
    );
    let reply = send(
        &app,
        post(
            "/imports",
            &[
                (
                    "content-type",
                    &format!("multipart/form-data; boundary={BOUNDARY}"),
                ),
                ("cookie", &admin),
            ],
            body,
        ),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::SERVICE_UNAVAILABLE,
        "{}",
        reply.body
    );
    assert!(
        reply.body.contains("running out of disk space"),
        "{}",
        reply.body
    );
    let imports: i64 = count(&db, "SELECT count(*) FROM imports", &[]).await;
    assert_eq!(imports, 0);
    let _ = std::fs::remove_dir_all(&dir);
}
