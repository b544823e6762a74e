//! The security review's findings (issue #20), each reproduced over HTTP: a temporary
//! password reaching workspace data, unbounded upload settings and group lists, crafted
//! import settings, `Origin: null`, formulas in reports, and the smaller hardening.

use crate::common::{
    add_user, app, app_with_uploads, call, call_json, count, every_route, send, set_up,
    temporary_session,
};
use crate::imports::{BOUNDARY, options, upload};
use axum::body::Body;
use axum::extract::ConnectInfo;
use contacts::db::Db;
use contacts::import::columns::{Columns, CustomColumn, Field};
use contacts::server::importer::run_queued;
use contacts::server::receive::MAX_FORM_PART_BYTES;
use contacts::server::throttle::FREE_PER_ADDRESS;
use http::{Method, Request, StatusCode, header};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

contacts::db_tests!(
    a_temporary_password_reaches_no_route_but_the_account_page,
    an_oversized_settings_part_is_refused_before_it_is_read,
    a_form_without_boundaries_is_refused_before_it_is_held,
    settings_after_the_file_are_refused,
    too_many_memberships_at_once_are_refused_before_the_write,
    oversized_group_lists_are_refused_before_the_database,
    crafted_import_settings_are_refused_and_nothing_is_queued,
    an_opaque_origin_changes_nothing_anywhere,
    every_cell_of_the_report_is_neutralised,
    guesses_of_the_current_password_are_throttled,
    one_ipv6_network_shares_a_sign_in_counter,
    failed_sign_ins_count_on_every_server,
    sign_ins_at_once_are_counted_before_any_is_checked,
    over_https_the_cookie_is_host_only_and_proxies_are_believed_only_when_trusted,
    a_new_sign_in_ends_the_session_the_old_cookie_named
);

/// A request with a body and these headers.
fn request(method: &Method, path: &str, headers: &[(&str, &str)], body: Body) -> Request<Body> {
    let mut request = Request::builder().method(method.clone()).uri(path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.body(body).unwrap()
}

/// What the account page itself needs (and the calls made before signing in).
const ACCOUNT_CALLS: [&str; 6] = [
    "/api/current_user",
    "/api/change_password",
    "/api/sign_out",
    "/api/sign_out_everywhere",
    "/api/sign_in",
    "/api/create_workspace",
];

async fn a_temporary_password_reaches_no_route_but_the_account_page(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let temporary = temporary_session(&app, &admin, "new@acme.test", "editor").await;
    let editor = add_user(&app, &admin, "ed@acme.test", "editor").await;
    let routes = every_route(&state);
    assert!(routes.len() > 20, "{routes:?}");
    for (method, path) in &routes {
        if ACCOUNT_CALLS.contains(&path.as_str())
            || contacts::server::health::PROBES.contains(&path.as_str())
        {
            continue;
        }
        for (cookie, refused) in [(&temporary, true), (&editor, false)] {
            let reply = send(
                &app,
                request(
                    method,
                    path,
                    &[("cookie", cookie), ("content-type", "application/json")],
                    Body::from("{}"),
                ),
            )
            .await;
            let said = reply.body.contains("PasswordChangeRequired");
            if refused {
                assert_eq!(
                    (reply.status, said),
                    (StatusCode::FORBIDDEN, true),
                    "{method} {path}: {}",
                    reply.body
                );
            } else {
                // A 404 of the app's own error (this upload does not exist) is fine; the
                // router's "no such page" is not.
                let routed = reply.status != StatusCode::NOT_FOUND || reply.body.starts_with('{');
                assert!(
                    !said && routed,
                    "{method} {path} exists for a ready session: {}",
                    reply.body
                );
            }
        }
    }
    // The export of the whole workspace, as the review sent it.
    let export = send(
        &app,
        request(
            &Method::POST,
            "/contacts/export.csv",
            &[
                ("cookie", &temporary),
                ("content-type", "application/x-www-form-urlencoded"),
            ],
            Body::from("selection=%7B%22AllMatching%22%3A%7B%22search%22%3A%22%22%2C%22sort%22%3A%22Newest%22%7D%7D"),
        ),
    )
    .await;
    assert_eq!(export.status, StatusCode::FORBIDDEN, "{}", export.body);
    let upload = upload(
        &app,
        &temporary,
        &options(None, false),
        "a.csv",
        b"first,last,mobile\nA,B,81234567\n",
    )
    .await;
    assert_eq!(upload.status, StatusCode::FORBIDDEN, "{}", upload.body);
    assert_eq!(count(&db, "SELECT count(*) FROM imports", &[]).await, 0);
    // What the account page needs still works.
    let me = call(&app, "current_user", &[], Some(&temporary)).await;
    assert_eq!(me.status, StatusCode::OK, "{}", me.body);
    let page = crate::common::get(&app, "/account", Some(&temporary)).await;
    assert_eq!(page.status, StatusCode::OK);
}

/// A body that arrives as from a network, 8 KiB at a time with a pause before each
/// piece, and counts how much of it the server has pulled.
fn counted_body(bytes: Vec<u8>) -> (Body, Arc<AtomicUsize>) {
    let pulled = Arc::new(AtomicUsize::new(0));
    let counter = pulled.clone();
    let chunks: std::collections::VecDeque<Vec<u8>> =
        bytes.chunks(8 << 10).map(<[u8]>::to_vec).collect();
    let stream = futures::stream::unfold(chunks, move |mut chunks| {
        let counter = counter.clone();
        async move {
            tokio::task::yield_now().await;
            let chunk = chunks.pop_front()?;
            counter.fetch_add(chunk.len(), Ordering::Relaxed);
            Some((Ok::<_, std::io::Error>(chunk), chunks))
        }
    });
    (Body::from_stream(stream), pulled)
}

async fn an_oversized_settings_part_is_refused_before_it_is_read(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 8);
    let admin = set_up(&app, "boss@acme.test").await;
    let huge = format!("{{\"pad\":\"{}\"}}", "x".repeat(4 << 20));
    let mut body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n{huge}\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\
         Content-Type: text/csv\r\n\r\nfirst,last,mobile\nA,B,81234567\n\r\n--{BOUNDARY}--\r\n"
    )
    .into_bytes();
    let total = body.len();
    let (counted, pulled) = counted_body(std::mem::take(&mut body));
    let reply = send(
        &app,
        request(
            &Method::POST,
            "/imports",
            &[
                ("cookie", &admin),
                (
                    "content-type",
                    &format!("multipart/form-data; boundary={BOUNDARY}"),
                ),
            ],
            counted,
        ),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("settings"), "{}", reply.body);
    // The server stopped reading a little past the limit, not at the end of the part.
    let read = pulled.load(Ordering::Relaxed);
    assert!(
        read < MAX_FORM_PART_BYTES * 2,
        "read {read} of {total} bytes"
    );
    assert_eq!(count(&db, "SELECT count(*) FROM imports", &[]).await, 0);
    assert_eq!(
        state.disk.outstanding(),
        0,
        "the disk reservation went back"
    );
}

async fn oversized_group_lists_are_refused_before_the_database(db: Db) {
    let app = app(db.clone());
    let admin = set_up(&app, "boss@acme.test").await;
    let created = call_json(
        &app,
        "save_group",
        r#"{"id":null,"input":{"name":"VIP","description":"","blacklisted":false}}"#,
        &admin,
    )
    .await;
    let vip: i64 = created.body.parse().unwrap();
    let saved = call_json(
        &app,
        "save_contact",
        &crate::contacts::contact_json("Ann", "81234567", ""),
        &admin,
    )
    .await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    let everyone =
        r#"{"AllMatching":{"search":"","sort":"Newest","group":null,"blacklisted":null}}"#;

    let repeated = vec![vip.to_string(); 300_000].join(",");
    let started = std::time::Instant::now();
    let reply = call_json(
        &app,
        "add_to_groups",
        &format!(r#"{{"group_ids":[{repeated}],"new_groups":[],"selection":{everyone}}}"#),
        &admin,
    )
    .await;
    let took = started.elapsed();
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("at most 100"), "{}", reply.body);
    eprintln!("300,000 group ids refused in {took:?}");

    let names = (0..10_000)
        .map(|i| format!("\"Group {i}\""))
        .collect::<Vec<_>>()
        .join(",");
    let reply = call_json(
        &app,
        "add_to_groups",
        &format!(r#"{{"group_ids":[],"new_groups":[{names}],"selection":{everyone}}}"#),
        &admin,
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(count(&db, "SELECT count(*) FROM groups", &[]).await, 1);
    assert_eq!(count(&db, "SELECT count(*) FROM memberships", &[]).await, 0);

    // Repeats within the bound count once.
    let reply = call_json(
        &app,
        "add_to_groups",
        &format!(
            r#"{{"group_ids":[{vip},{vip},{vip}],"new_groups":["New","new"],"selection":{everyone}}}"#
        ),
        &admin,
    )
    .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let change: contacts::model::group::MembershipChange =
        serde_json::from_str(&reply.body).unwrap();
    assert_eq!(change.groups, ["VIP", "New"]);
    assert_eq!((change.changed, change.unchanged), (2, 0));
}

async fn crafted_import_settings_are_refused_and_nothing_is_queued(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let mobile = Columns::default().with(Field::Mobile, 2);
    let custom = |columns: Vec<(usize, &str)>| {
        let mut tagged = mobile.clone();
        tagged.custom = columns
            .into_iter()
            .map(|(index, key)| CustomColumn {
                index,
                key: key.to_string(),
            })
            .collect();
        tagged
    };
    let many: Vec<(usize, String)> = (3..10_003).map(|i| (i, format!("k{i}"))).collect();
    let crafted = [
        (
            "10,000 custom columns",
            custom(many.iter().map(|(i, k)| (*i, k.as_str())).collect()),
        ),
        ("an empty key", custom(vec![(3, "  ")])),
        ("a key twice", custom(vec![(3, "Tier"), (4, "tier")])),
        ("a column tagged twice", custom(vec![(2, "Tier")])),
        ("a column past the row limit", custom(vec![(50_000, "Far")])),
    ];
    for (what, columns) in crafted {
        let mut settings = options(None, false);
        settings.columns = columns;
        let reply = upload(
            &app,
            &admin,
            &settings,
            "a.csv",
            b"first,last,mobile,x,y\nA,B,81234567,1,2\n",
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{what}: {}",
            reply.body
        );
    }
    assert_eq!(count(&db, "SELECT count(*) FROM imports", &[]).await, 0);
    let uploads = std::fs::read_dir(state.config.data_dir.join("uploads"))
        .map(|dir| dir.count())
        .unwrap_or(0);
    assert_eq!(uploads, 0, "no file was left behind");
}

async fn an_opaque_origin_changes_nothing_anywhere(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let mut checked = 0;
    for (method, path) in every_route(&state) {
        if method == Method::GET {
            continue;
        }
        let reply = send(
            &app,
            request(
                &method,
                &path,
                &[
                    ("origin", "null"),
                    ("host", "contacts.test"),
                    ("cookie", &admin),
                    ("content-type", "application/x-www-form-urlencoded"),
                ],
                Body::from("email=boss%40acme.test&password=correct+horse+battery"),
            ),
        )
        .await;
        assert_eq!(
            reply.status,
            StatusCode::FORBIDDEN,
            "{method} {path}: {}",
            reply.body
        );
        assert!(reply.body.contains("CrossOrigin"), "{path}: {}", reply.body);
        assert!(reply.session_cookie().is_none(), "{path} signed someone in");
        checked += 1;
    }
    assert!(checked > 15, "{checked} state-changing routes");
}

async fn every_cell_of_the_report_is_neutralised(db: Db) {
    let (app, state) = app_with_uploads(db, 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let key = "=HYPERLINK(\"http://evil.example\",\"x\")";
    let mut settings = options(None, false);
    settings.columns.custom = vec![CustomColumn {
        index: 3,
        key: key.into(),
    }];
    let long = "y".repeat(2_001);
    let file = format!("first,last,mobile,note\nA,B,81234567,{long}\n");
    let reply = upload(&app, &admin, &settings, "a.csv", file.as_bytes()).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    let id: serde_json::Value = serde_json::from_str(&reply.body).unwrap();
    run_queued(&state).await.unwrap();
    let report = crate::common::get(
        &app,
        &format!("/imports/{}/rejected.csv", id["id"]),
        Some(&admin),
    )
    .await;
    assert_eq!(report.status, StatusCode::OK, "{}", report.body);
    let mut reader =
        csv::Reader::from_reader(report.body.trim_start_matches('\u{feff}').as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 1, "{}", report.body);
    let reason = &rows[0][1];
    assert!(reason.starts_with("'=HYPERLINK"), "{reason}");
    for cell in rows[0].iter() {
        assert!(!cell.starts_with(['=', '+', '-', '@']), "{cell}");
    }
}

async fn guesses_of_the_current_password_are_throttled(db: Db) {
    let app = app(db);
    let admin = set_up(&app, "boss@acme.test").await;
    let mut statuses = Vec::new();
    for i in 0..FREE_PER_ADDRESS + 7 {
        let guess = format!("a wrong guess {i}");
        let reply = call(
            &app,
            "change_password",
            &[
                ("current_password", guess.as_str()),
                ("new_password", "a brand new password"),
            ],
            Some(&admin),
        )
        .await;
        statuses.push(reply.status);
    }
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNPROCESSABLE_ENTITY)
        .count();
    assert_eq!(checked, FREE_PER_ADDRESS as usize, "{statuses:?}");
    assert!(
        statuses[FREE_PER_ADDRESS as usize..]
            .iter()
            .all(|s| *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
}

/// A sign-in from `peer`, as a connection from there would send it.
async fn sign_in_from(app: &axum::Router, peer: &str, password: &str) -> StatusCode {
    let mut request = Request::post("/api/sign_in")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(format!(
            "email=boss%40acme.test&password={}",
            password.replace(' ', "+")
        )))
        .unwrap();
    let addr: SocketAddr = peer.parse().unwrap();
    request.extensions_mut().insert(ConnectInfo(addr));
    send(app, request).await.status
}

async fn one_ipv6_network_shares_a_sign_in_counter(db: Db) {
    let app = app(db);
    set_up(&app, "boss@acme.test").await;
    for i in 1..=FREE_PER_ADDRESS {
        let peer = format!("[2001:db8:7:7::{i:x}]:40000");
        assert_eq!(
            sign_in_from(&app, &peer, "not the password").await,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    assert_eq!(
        sign_in_from(&app, "[2001:db8:7:7:abcd::1]:40000", "not the password").await,
        StatusCode::TOO_MANY_REQUESTS,
        "another address of the same /64"
    );
    assert_eq!(
        sign_in_from(&app, "[2001:db8:7:8::1]:40000", "correct horse battery").await,
        StatusCode::OK,
        "the next /64 is another client"
    );
}

/// Two app servers on one database: the guesses one took count on the other, and a
/// success on either forgets them.
async fn failed_sign_ins_count_on_every_server(db: Db) {
    let (one, two) = (app(db.clone()), app(db));
    set_up(&one, "boss@acme.test").await;
    let peer = "192.0.2.77:40000";
    for server in [&one, &two].iter().cycle().take(FREE_PER_ADDRESS as usize) {
        assert_eq!(
            sign_in_from(server, peer, "not the password").await,
            StatusCode::UNPROCESSABLE_ENTITY
        );
    }
    assert_eq!(
        sign_in_from(&two, peer, "correct horse battery").await,
        StatusCode::TOO_MANY_REQUESTS,
        "the next attempt from the address waits, on whichever server"
    );
    assert_eq!(
        sign_in_from(&one, "192.0.2.78:40000", "correct horse battery").await,
        StatusCode::OK
    );
    for server in [&two, &one] {
        assert_eq!(
            sign_in_from(server, "192.0.2.78:40000", "not the password").await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "the success forgot the account's failures"
        );
    }
}

/// Forty attempts at once from one address: each is counted before the next is
/// checked, so exactly the free ones get through, on either database.
async fn sign_ins_at_once_are_counted_before_any_is_checked(db: Db) {
    use contacts::server::throttle;
    let ip: std::net::IpAddr = "192.0.2.99".parse().unwrap();
    let attempts = (0..40).map(|i| {
        let db = db.clone();
        tokio::spawn(async move { throttle::reserve(&db, ip, &format!("u{i}@acme.test")).await })
    });
    let mut refused = 0;
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(_) => {}
            Err(contacts::error::AppError::TooManyRequests(_)) => refused += 1,
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(refused, 40 - FREE_PER_ADDRESS);
}

async fn over_https_the_cookie_is_host_only_and_proxies_are_believed_only_when_trusted(db: Db) {
    let config = contacts::server::config::Config::from_lookup(|name| {
        (name == "CONTACTS_TRUSTED_PROXIES").then(|| "10.0.0.0/8".to_string())
    })
    .unwrap();
    let state =
        contacts::server::state::AppState::new(contacts::server::test_leptos_options(), db, config);
    let app = contacts::server::router(state);
    set_up(&app, "boss@acme.test").await;
    let sign_in = |peer: &str| {
        let mut request = Request::post("/api/sign_in")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("x-forwarded-proto", "https")
            .body(Body::from(
                "email=boss%40acme.test&password=correct+horse+battery",
            ))
            .unwrap();
        let addr: SocketAddr = peer.parse().unwrap();
        request.extensions_mut().insert(ConnectInfo(addr));
        request
    };
    // Through the proxy: https, so a `__Host-` cookie and HSTS.
    let proxied = send(&app, sign_in("10.0.0.1:40000")).await;
    assert_eq!(proxied.status, StatusCode::OK, "{}", proxied.body);
    let cookie = proxied.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with("__Host-contacts_session=") && cookie.contains("; Secure"),
        "{cookie}"
    );
    assert!(cookie.contains("Path=/") && !cookie.contains("Domain"));
    assert!(
        proxied
            .headers
            .contains_key(header::STRICT_TRANSPORT_SECURITY)
    );
    // The same header straight from a client is not believed.
    let direct = send(&app, sign_in("192.0.2.9:40000")).await;
    let cookie = direct.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(
        cookie.starts_with("contacts_session=") && !cookie.contains("Secure"),
        "{cookie}"
    );
    assert!(
        !direct
            .headers
            .contains_key(header::STRICT_TRANSPORT_SECURITY)
    );
    // Over https, a cookie without the prefix (as a sibling subdomain could plant) is
    // no session.
    let token = direct
        .session_cookie()
        .unwrap()
        .trim_start_matches("contacts_session=")
        .to_string();
    let mut planted = Request::post("/api/current_user")
        .header("x-forwarded-proto", "https")
        .header(header::COOKIE, format!("contacts_session={token}"))
        .body(Body::empty())
        .unwrap();
    planted
        .extensions_mut()
        .insert(ConnectInfo("10.0.0.1:40000".parse::<SocketAddr>().unwrap()));
    assert_eq!(send(&app, planted).await.status, StatusCode::UNAUTHORIZED);
}

async fn a_new_sign_in_ends_the_session_the_old_cookie_named(db: Db) {
    let app = app(db);
    let old = set_up(&app, "boss@acme.test").await;
    let again = call(
        &app,
        "sign_in",
        &[
            ("email", "boss@acme.test"),
            ("password", "correct horse battery"),
        ],
        Some(&old),
    )
    .await;
    let new = again.session_cookie().unwrap();
    assert_ne!(new, old);
    let status = |cookie: String| {
        let app = app.clone();
        async move { call(&app, "current_user", &[], Some(&cookie)).await.status }
    };
    assert_eq!(status(old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(status(new).await, StatusCode::OK);
}

async fn a_form_without_boundaries_is_refused_before_it_is_held(db: Db) {
    use contacts::server::receive::MAX_UNCONSUMED;
    let (app, _state) = app_with_uploads(db.clone(), 64);
    let admin = set_up(&app, "boss@acme.test").await;
    // 48 MiB that never contains the boundary: the reader must not keep it all.
    let (body, pulled) = counted_body(vec![0u8; 48 << 20]);
    let reply = send(
        &app,
        request(
            &Method::POST,
            "/imports",
            &[
                ("cookie", &admin),
                (
                    "content-type",
                    &format!("multipart/form-data; boundary={BOUNDARY}"),
                ),
            ],
            body,
        ),
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::PAYLOAD_TOO_LARGE,
        "{}",
        reply.body
    );
    let read = pulled.load(Ordering::Relaxed) as u64;
    assert!(read <= MAX_UNCONSUMED + (64 << 10), "read {read} bytes");
    assert_eq!(count(&db, "SELECT count(*) FROM imports", &[]).await, 0);
}

async fn settings_after_the_file_are_refused(db: Db) {
    let (app, state) = app_with_uploads(db.clone(), 1);
    let admin = set_up(&app, "boss@acme.test").await;
    let body = format!(
        "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.csv\"\r\n\
         Content-Type: text/csv\r\n\r\nfirst,last,mobile\nA,B,81234567\n\r\n\
         --{BOUNDARY}\r\nContent-Disposition: form-data; name=\"options\"\r\n\r\n{}\r\n\
         --{BOUNDARY}--\r\n",
        serde_json::to_string(&options(None, false)).unwrap()
    );
    let reply = send(
        &app,
        request(
            &Method::POST,
            "/imports",
            &[
                ("cookie", &admin),
                (
                    "content-type",
                    &format!("multipart/form-data; boundary={BOUNDARY}"),
                ),
            ],
            Body::from(body),
        ),
    )
    .await;
    assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{}", reply.body);
    assert_eq!(count(&db, "SELECT count(*) FROM imports", &[]).await, 0);
    let left = std::fs::read_dir(state.config.data_dir.join("uploads"))
        .map(|dir| dir.count())
        .unwrap_or(0);
    assert_eq!(left, 0, "the file was removed");
}

async fn too_many_memberships_at_once_are_refused_before_the_write(db: Db) {
    use contacts::model::group::MAX_MEMBERSHIPS_PER_REQUEST;
    let (app, state) = app_with_uploads(db.clone(), 8);
    let admin = set_up(&app, "boss@acme.test").await;
    // Just over the cap with 100 groups: 10,001 contacts.
    let contacts = MAX_MEMBERSHIPS_PER_REQUEST / 100 + 1;
    let mut file = String::from("first,last,mobile\n");
    for i in 0..contacts {
        file.push_str(&format!("P,{i},+6581{i:06}\n"));
    }
    let reply = upload(
        &app,
        &admin,
        &options(None, false),
        "many.csv",
        file.as_bytes(),
    )
    .await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.body);
    run_queued(&state).await.unwrap();
    assert_eq!(
        count(&db, "SELECT count(*) FROM contacts", &[]).await,
        contacts
    );
    let names = (0..100)
        .map(|i| format!("\"Campaign {i}\""))
        .collect::<Vec<_>>()
        .join(",");
    let everyone =
        r#"{"AllMatching":{"search":"","sort":"Newest","group":null,"blacklisted":null}}"#;
    let reply = call_json(
        &app,
        "add_to_groups",
        &format!(r#"{{"group_ids":[],"new_groups":[{names}],"selection":{everyone}}}"#),
        &admin,
    )
    .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert!(reply.body.contains("at most 1000000"), "{}", reply.body);
    assert_eq!(count(&db, "SELECT count(*) FROM groups", &[]).await, 0);
    assert_eq!(count(&db, "SELECT count(*) FROM memberships", &[]).await, 0);
}
