//! Webhooks through the real router and the real delivery worker, on both databases: a
//! receiver on loopback verifies every delivery with the Standard Webhooks reference
//! library, sees each event, and sees a retried delivery keep its `webhook-id`;
//! endpoints inside the network are refused unless the setting allows them; a change
//! that writes messages wakes the delivery worker.

use crate::common::{api, api_key, body, create_group, set_up};
use axum::Router;
use axum::extract::State;
use contacts::db::Db;
use contacts::server::config::Config;
use contacts::server::state::AppState;
use contacts::server::{router, test_leptos_options};
use http::{HeaderMap, Method, StatusCode};
use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

contacts::db_tests!(
    endpoints_inside_the_network_or_malformed_are_refused,
    every_event_is_delivered_signed_and_a_retry_keeps_its_id,
    an_endpoint_that_answers_410_is_stopped,
    a_claim_takes_no_more_than_an_endpoint_can_take,
    a_change_that_writes_messages_wakes_the_workers,
    an_endpoint_that_hangs_does_not_hold_up_the_others
);

/// The app, with webhooks to private addresses allowed or not.
fn app(db: Db, allow_private: bool) -> (Router, AppState) {
    let config = Config::from_lookup(|name| match name {
        "CONTACTS_WEBHOOK_ALLOW_PRIVATE" => Some(allow_private.to_string()),
        _ => None,
    })
    .expect("config");
    let state = AppState::new(test_leptos_options(), db, config);
    (router(state.clone()), state)
}

/// Adds an endpoint at `url` for `contact.created`; its id.
async fn add_endpoint(app: &Router, key: Option<&str>, url: &str) -> i64 {
    let made = api(
        app,
        key,
        Method::POST,
        "/api/v1/webhooks",
        Some(json!({"url": url, "events": ["contact.created"]})),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    body(&made)["id"].as_i64().unwrap()
}

async fn endpoints_inside_the_network_or_malformed_are_refused(db: Db) {
    let (app, state) = app(db, false);
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let viewer = api_key(&app, &admin, "viewer").await;
    let create = |key: String, url: String, events: Value| {
        let app = app.clone();
        async move {
            let body = json!({"url": url, "events": events});
            api(
                &app,
                Some(&key),
                Method::POST,
                "/api/v1/webhooks",
                Some(body),
            )
            .await
        }
    };
    let all = json!(["contact.created"]);
    for url in [
        "http://127.0.0.1/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://10.0.0.1/",
        "http://localhost:8080/hook",
        "ftp://example.com/hook",
        "example.com/hook",
    ] {
        let reply = create(key.clone(), url.into(), all.clone()).await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{url}: {}",
            reply.body
        );
        assert_eq!(body(&reply)["field"], "url", "{url}");
    }
    let long = format!("https://93.184.216.34/{}", "a".repeat(2_048));
    let reply = create(key.clone(), long, all.clone()).await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    let reply = create(
        key.clone(),
        "https://93.184.216.34/h".into(),
        json!(["contact.exploded"]),
    )
    .await;
    assert_eq!(reply.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        body(&reply)["message"]
            .as_str()
            .unwrap()
            .contains("contact.exploded")
    );
    let reply = create(viewer, "https://93.184.216.34/h".into(), all.clone()).await;
    assert_eq!(reply.status, StatusCode::FORBIDDEN);

    // A public address is added; its secret is shown once, never listed.
    let reply = create(key.clone(), "https://93.184.216.34/hook".into(), all).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let made = body(&reply);
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
    let listed = api(&app, Some(&key), Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(
        body(&listed)["items"],
        json!([{"id": made["id"], "url": "https://93.184.216.34/hook",
                "events": ["contact.created"], "createdAt": made["createdAt"]}])
    );
    let path = format!("/api/v1/webhooks/{}", made["id"]);
    // Another workspace's key sees none of it: its id is a 404 there.
    let other = contacts::db::workspaces::create(&state.db, "Other", "SG")
        .await
        .unwrap();
    let stranger = contacts::server::keys::create_key(
        &state.db,
        other,
        "Other",
        contacts::model::Role::Editor,
        None,
    )
    .await
    .unwrap()
    .secret;
    let theirs = api(&app, Some(&stranger), Method::GET, "/api/v1/webhooks", None).await;
    assert_eq!(body(&theirs)["items"], json!([]));
    let log = format!("{path}/deliveries");
    let hidden = api(&app, Some(&stranger), Method::GET, &log, None).await;
    assert_eq!(hidden.status, StatusCode::NOT_FOUND);
    let refused = api(&app, Some(&stranger), Method::DELETE, &path, None).await;
    assert_eq!(refused.status, StatusCode::NOT_FOUND);
    let gone = api(&app, Some(&key), Method::DELETE, &path, None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    let again = api(&app, Some(&key), Method::DELETE, &path, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
}

/// What the receiver got: each request's headers and body.
#[derive(Clone, Default)]
struct Received(Arc<Mutex<Vec<(HeaderMap, String)>>>);

/// A receiver on loopback that answers 500 to its first request and 200 after.
async fn receiver() -> (String, Received) {
    let received = Received::default();
    let app = Router::new()
        .route(
            "/hook",
            axum::routing::post(
                |State(got): State<Received>, headers: HeaderMap, body: String| async move {
                    let mut list = got.0.lock().unwrap();
                    list.push((headers, body));
                    if list.len() == 1 {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                },
            ),
        )
        .with_state(received.clone());
    (serve(app).await, received)
}

/// Serves `receiver` on loopback; the URL of its `/hook`.
async fn serve(receiver: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });
    url
}

async fn every_event_is_delivered_signed_and_a_retry_keeps_its_id(db: Db) {
    let (app, state) = app(db, true);
    contacts::server::webhooks::spawn_worker(state.clone());
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let k = Some(key.as_str());
    let (url, received) = receiver().await;
    let events = json!([
        "contact.created",
        "contact.updated",
        "contact.deleted",
        "contact.optedOut",
        "contact.optedIn",
        "import.completed"
    ]);
    let made = api(
        &app,
        k,
        Method::POST,
        "/api/v1/webhooks",
        Some(json!({"url": url, "events": events})),
    )
    .await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    let made = body(&made);
    let secret = made["secret"].as_str().unwrap().to_string();

    let created = api(
        &app,
        k,
        Method::POST,
        "/api/v1/contacts",
        Some(json!({"firstName": "Ann", "addresses": {"msisdn": "+6581234567"}})),
    )
    .await;
    let ann = body(&created)["id"].as_i64().unwrap();
    let path = format!("/api/v1/contacts/{ann}");
    api(
        &app,
        k,
        Method::PATCH,
        &path,
        Some(json!({"firstName": "Anne"})),
    )
    .await;
    let group = create_group(&app, k, "News").await;
    let joined = api(
        &app,
        k,
        Method::POST,
        &format!("/api/v1/groups/{group}/contacts"),
        Some(json!({"contacts": [ann]})),
    )
    .await;
    assert!(joined.status.is_success(), "{}", joined.body);
    let sms = format!("{path}/optOuts/sms");
    api(
        &app,
        k,
        Method::PUT,
        &sms,
        Some(json!({"reason": "unsubscribed"})),
    )
    .await;
    api(&app, k, Method::DELETE, &sms, None).await;
    api(&app, k, Method::DELETE, &path, None).await;

    // Six events; the first is answered 500 and retried about 5 s later.
    let expected = [
        "contact.created",
        "contact.updated",
        "contact.updated",
        "contact.optedOut",
        "contact.optedIn",
        "contact.deleted",
    ];
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got = received.0.lock().unwrap().len();
        if got > expected.len() {
            break;
        }
        assert!(Instant::now() < deadline, "only {got} deliveries arrived");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let hook = standardwebhooks::Webhook::new(&secret).unwrap();
    let list = received.0.lock().unwrap().clone();
    let mut by_id: std::collections::BTreeMap<String, (String, usize)> = Default::default();
    for (headers, body) in &list {
        hook.verify(body.as_bytes(), headers)
            .expect("a valid signature");
        let id = headers["webhook-id"].to_str().unwrap().to_string();
        let payload: Value = serde_json::from_str(body).unwrap();
        assert!(payload["timestamp"].as_str().unwrap().ends_with('Z'));
        let entry = by_id
            .entry(id)
            .or_insert((payload["type"].as_str().unwrap().into(), 0));
        entry.1 += 1;
        assert_eq!(payload["data"]["contactId"], ann, "{body}");
    }
    // Each event once (ids are in event order), but the one answered 500, twice with
    // the same id.
    let types: Vec<&str> = by_id.values().map(|(t, _)| t.as_str()).collect();
    let mut sorted: Vec<(&String, &(String, usize))> = by_id.iter().collect();
    sorted.sort_by_key(|(id, _)| id[4..].parse::<i64>().unwrap());
    let in_order: Vec<&str> = sorted.iter().map(|(_, (t, _))| t.as_str()).collect();
    assert_eq!(in_order, expected, "{types:?}");
    let retried: Vec<usize> = sorted.iter().map(|(_, (_, n))| *n).collect();
    assert_eq!(retried.iter().sum::<usize>(), expected.len() + 1);
    assert_eq!(retried.iter().filter(|n| **n == 2).count(), 1);
    let first: Value = serde_json::from_str(&list[0].1).unwrap();
    assert_eq!(first["data"]["changes"][0]["after"], "Ann");
    assert_eq!(first["data"]["source"], "api");

    // The delivery log says what happened, the retried one with two attempts (once the
    // worker has recorded the last attempts, a moment after the receiver got them).
    let items = loop {
        let log = api(
            &app,
            k,
            Method::GET,
            &format!("/api/v1/webhooks/{}/deliveries", made["id"]),
            None,
        )
        .await;
        assert_eq!(log.status, StatusCode::OK, "{}", log.body);
        let items = body(&log)["items"].as_array().unwrap().clone();
        if items.iter().all(|d| d["status"] == "delivered") || Instant::now() > deadline {
            break items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(items.len(), expected.len());
    assert!(
        items.iter().all(|d| d["status"] == "delivered"),
        "{items:?}"
    );
    assert_eq!(
        items
            .iter()
            .map(|d| d["attempts"].as_i64().unwrap())
            .sum::<i64>(),
        7
    );
}

async fn an_endpoint_that_answers_410_is_stopped(db: Db) {
    let (app, state) = app(db, true);
    contacts::server::webhooks::spawn_worker(state.clone());
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let k = Some(key.as_str());
    let gone = Router::new().route("/hook", axum::routing::post(|| async { StatusCode::GONE }));
    let url = serve(gone).await;
    let id = add_endpoint(&app, k, &url).await;
    for n in 0..3 {
        let contact =
            json!({"firstName": "Ann", "addresses": {"msisdn": format!("+658123456{n}")}});
        api(&app, k, Method::POST, "/api/v1/contacts", Some(contact)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    let listed = loop {
        let listed = body(&api(&app, k, Method::GET, "/api/v1/webhooks", None).await);
        if listed["items"][0]["disabled"].is_string() {
            break listed;
        }
        assert!(Instant::now() < deadline, "never stopped: {listed}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        listed["items"][0]["disabled"]
            .as_str()
            .unwrap()
            .contains("410")
    );
    let log = body(
        &api(
            &app,
            k,
            Method::GET,
            &format!("/api/v1/webhooks/{id}/deliveries"),
            None,
        )
        .await,
    );
    let items = log["items"].as_array().unwrap();
    assert_eq!(items.len(), 3);
    assert!(
        items
            .iter()
            .all(|d| d["status"] == "failed" && d["nextAttemptAt"].is_null()),
        "{log}"
    );
}

/// An endpoint whose deliveries hang (until the 15 s timeout) keeps its rounds waiting
/// behind them; another endpoint's messages, written meanwhile, go out at once.
async fn an_endpoint_that_hangs_does_not_hold_up_the_others(db: Db) {
    let (app, state) = app(db, true);
    contacts::server::webhooks::spawn_worker(state.clone());
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let k = Some(key.as_str());
    let hung = Received::default();
    let hangs = Router::new()
        .route(
            "/hook",
            axum::routing::post(|State(got): State<Received>, body: String| async move {
                got.0.lock().unwrap().push((HeaderMap::new(), body));
                std::future::pending::<StatusCode>().await
            }),
        )
        .with_state(hung.clone());
    add_endpoint(&app, k, &serve(hangs).await).await;
    let create = |n: usize| {
        let app = app.clone();
        let contact = json!({"addresses": {"msisdn": format!("+65812345{n:02}")}});
        async move {
            let made = api(&app, k, Method::POST, "/api/v1/contacts", Some(contact)).await;
            assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
        }
    };
    // More than the hanging endpoint can have in flight: the rest wait behind them.
    for n in 0..20 {
        create(n).await;
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while hung.0.lock().unwrap().len() < 8 {
        assert!(
            Instant::now() < deadline,
            "the hanging endpoint got too few"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Its deliveries time out 15 s from about now.
    let hung_at = Instant::now();
    // A second endpoint, and a change for both: it gets its message well before the
    // first endpoint's deliveries time out.
    let (url, received) = receiver().await;
    add_endpoint(&app, k, &url).await;
    create(20).await;
    create(21).await;
    // (The receiver answers its first request 500; the other is delivered beside it.)
    let deadline = hung_at + Duration::from_secs(5);
    loop {
        let got = received.0.lock().unwrap().len();
        if got >= 2 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "held up behind the hanging endpoint: {got}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        hung.0.lock().unwrap().len(),
        8,
        "more than a round in flight"
    );
}

/// The worker's turn: each endpoint gets no more than it can take beside its
/// deliveries in flight, a full endpoint does not use up the limit, and what one claim
/// leaves the next one takes.
async fn a_claim_takes_no_more_than_an_endpoint_can_take(db: Db) {
    let (app, state) = app(db, true);
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let k = Some(key.as_str());
    let mut endpoints = Vec::new();
    for n in 0..2 {
        endpoints.push(add_endpoint(&app, k, &format!("http://127.0.0.1:9/{n}")).await);
    }
    let (one, two) = (endpoints[0], endpoints[1]);
    for n in 0..12 {
        let made = api(
            &app,
            k,
            Method::POST,
            "/api/v1/contacts",
            Some(json!({"addresses": {"msisdn": format!("+65812345{n:02}")}})),
        )
        .await;
        assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    }
    let claim = |limit: i64, held: Vec<(i64, i64)>| {
        let db = state.db.clone();
        async move {
            let now = contacts::db::now();
            let want = contacts::db::webhooks::Want {
                now,
                lease_until: now + 60,
                limit,
                per_endpoint: 8,
                held,
                woken: false,
            };
            let due = contacts::db::webhooks::turn(&db, &[], &want)
                .await
                .expect("turn");
            let to = |id: i64| due.iter().filter(|d| d.endpoint_id == id).count();
            (to(one), to(two))
        }
    };
    // The first endpoint has three in flight, so five more; the second its eight.
    assert_eq!(claim(64, vec![(one, 3)]).await, (5, 8));
    // Both full: nothing, though four and seven are due.
    assert_eq!(claim(64, vec![(one, 8), (two, 9)]).await, (0, 0));
    // The first full, a limit of two: both go to the second.
    assert_eq!(claim(2, vec![(one, 8)]).await, (0, 2));
    // The rest, none taken twice.
    assert_eq!(claim(64, Vec::new()).await, (7, 2));
    assert_eq!(claim(64, Vec::new()).await, (0, 0));
}

/// A change that writes messages wakes the server's delivery worker, rather than
/// leaving them for its next look.
async fn a_change_that_writes_messages_wakes_the_workers(db: Db) {
    let (app, _state) = app(db, true);
    let admin = set_up(&app, "boss@acme.test").await;
    let key = api_key(&app, &admin, "editor").await;
    let k = Some(key.as_str());
    let (url, _received) = receiver().await;
    add_endpoint(&app, k, &url).await;
    let mut written = contacts::db::webhooks::written();
    written.borrow_and_update();
    let created = api(
        &app,
        k,
        Method::POST,
        "/api/v1/contacts",
        Some(json!({"addresses": {"msisdn": "+6581234567"}})),
    )
    .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    assert!(written.has_changed().unwrap(), "the worker was not woken");
}
