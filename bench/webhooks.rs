//! Webhooks: 1,000 events (one `upsertContacts` of 1,000 new contacts) delivered by the
//! real worker to a receiver on loopback, and the p95 of a contact save (a PATCH through
//! the API) while they are sent, beside the same p95 with nothing being sent.

use crate::report::{Report, percentile};
use axum::Router;
use axum::body::Body;
use contacts::model::Role;
use contacts::server::config::Config;
use contacts::server::state::AppState;
use contacts::server::{open_database, router, test_leptos_options};
use http::{Request, StatusCode, header};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tower::ServiceExt;

const EVENTS: u64 = 1_000;

/// Runs the figures on SQLite, and on PostgreSQL when a server is given.
pub async fn run(report: &mut Report, postgres: Option<&str>) {
    let dir = std::env::temp_dir().join(format!("contacts-bench-hooks-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    on_database(report, &dir, None).await;
    if let Some(server) = postgres {
        let url =
            contacts::db::testing::create_database(server, "contacts_bench_hooks", None).await;
        report.on_database(Some("PostgreSQL"));
        on_database(report, &dir, Some(url)).await;
        report.on_database(None);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

async fn on_database(report: &mut Report, dir: &Path, url: Option<String>) {
    let config = Config::from_lookup(|name| match name {
        "CONTACTS_DATA_DIR" => Some(dir.display().to_string()),
        "CONTACTS_DATABASE_URL" => url.clone(),
        "CONTACTS_API_RATE_LIMIT" => Some("1000000".into()),
        "CONTACTS_WEBHOOK_ALLOW_PRIVATE" => Some("true".into()),
        _ => None,
    })
    .expect("config");
    let db = open_database(&config).await.expect("database");
    let state = AppState::new(test_leptos_options(), db.clone(), config);
    let app = router(state.clone());
    contacts::server::webhooks::spawn_worker(state.clone());
    let workspace = contacts::db::workspaces::create(&db, "Hooks", "SG")
        .await
        .expect("workspace");
    let key = contacts::server::keys::create_key(&db, workspace, "Bench", Role::Editor, None)
        .await
        .expect("key")
        .secret;

    let received = Arc::new(AtomicU64::new(0));
    let url = receiver(received.clone()).await;
    let events = [contacts::model::webhook::WebhookEvent::ContactCreated];
    let endpoint = contacts::server::webhooks::create(&state, workspace, &url, &events)
        .await
        .expect("endpoint");

    // The contact the saves change (its updates send nothing: the endpoint asked only
    // for contact.created).
    let created = send(
        &app,
        post(
            &key,
            "/api/v1/contacts",
            r#"{"firstName":"Saved","addresses":{"msisdn":"+6589000000"}}"#,
        ),
    )
    .await;
    let id = serde_json::from_slice::<serde_json::Value>(&created).expect("json")["id"]
        .as_i64()
        .expect("id");
    // Its creation is the first delivery.
    wait_for(&received, 1).await;
    let mut quiet = saves(&app, &key, id, 200).await;

    let contacts: Vec<String> = (0..EVENTS)
        .map(|i| {
            format!(
                r#"{{"firstName":"Hook {i}","addresses":{{"msisdn":"+65{}"}}}}"#,
                88_000_000 + i
            )
        })
        .collect();
    let json = format!(r#"{{"contacts":[{}]}}"#, contacts.join(","));
    let started = Instant::now();
    send(
        &app,
        post(&key, "/api/v1/contacts/batches/upsertContacts", &json),
    )
    .await;
    let (busy, ()) = tokio::join!(
        saves_until(&app, &key, id, &received, EVENTS + 1),
        wait_for(&received, EVENTS + 1)
    );
    let took = started.elapsed();
    report.add(
        "webhooks: 1,000 events delivered to a local receiver: deliveries/s",
        format!("{:.0}", EVENTS as f64 / took.as_secs_f64()),
        "/s",
        ">= 1,000/s",
    );
    report.add_ms(
        "webhooks: contact save p95, nothing being sent",
        percentile(&mut quiet, 95.0),
        "",
    );
    add_saves(
        report,
        "while they are sent",
        busy,
        "unchanged within noise",
    );
    // The floor: the same number of requests from a plain client, 8 at a time (as the
    // worker sends to one endpoint) and no faster than the worker sent them, to the same
    // receiver, with no database work for them: what sharing this machine's two cores
    // with the sending alone costs a save.
    let client = reqwest::Client::new();
    let body = format!(r#"{{"type":"contact.created","data":{{"id":{id}}}}}"#);
    let plain_url = url.clone();
    let plain = move |_| {
        let request = client.post(&plain_url).body(body.clone());
        async move {
            let _ = request.send().await;
        }
    };
    let plain = saves_beside(&app, &key, id, &received, || paced(took, plain)).await;
    add_saves(
        report,
        "while a plain client sends the receiver 1,000 requests",
        plain,
        "the floor of the line above",
    );
    // The worker's own sending (body, signature, its HTTP client) of 1,000 messages at
    // the same pace, with no database work: what the line above leaves out.
    let client = contacts::server::webhooks::send::client(true);
    let secret = endpoint.secret;
    let signed = move |n: u64| {
        let due = contacts::db::webhooks::Due {
            id: n as i64,
            workspace_id: workspace,
            endpoint_id: 0,
            event_type: "contact.created".into(),
            data: format!(r#"{{"id":{n},"firstName":"Hook {n}"}}"#),
            created_at: contacts::db::now(),
            attempts: 0,
            url: url.clone(),
            secret: secret.clone(),
        };
        let client = client.clone();
        async move {
            let now = contacts::db::now();
            contacts::server::webhooks::send::attempt(&client, true, &due, now).await;
        }
    };
    let signed = saves_beside(&app, &key, id, &received, || paced(took, signed)).await;
    add_saves(
        report,
        "while the worker's sending alone sends 1,000, signed",
        signed,
        "the floor with the signing",
    );
    db.close().await;
}

/// [`EVENTS`] requests made by `request(n)`, from 8 tasks (as the worker sends to one
/// endpoint), all of them together no faster than `took`.
fn paced<F, R>(took: Duration, request: F) -> Vec<tokio::task::JoinHandle<()>>
where
    F: Fn(u64) -> R + Clone + Send + 'static,
    R: Future<Output = ()> + Send,
{
    let next = Arc::new(AtomicU64::new(0));
    let each_sender = took.mul_f64(8.0 / EVENTS as f64);
    (0..8)
        .map(|_| {
            let (request, next) = (request.clone(), next.clone());
            tokio::spawn(async move {
                let mut pace = tokio::time::interval(each_sender);
                loop {
                    pace.tick().await;
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= EVENTS {
                        break;
                    }
                    request(n).await;
                }
            })
        })
        .collect()
}

/// Saves one after another until the receiver has had the [`EVENTS`] requests of the
/// senders `start` starts.
async fn saves_beside(
    app: &Router,
    key: &str,
    id: i64,
    received: &AtomicU64,
    start: impl FnOnce() -> Vec<tokio::task::JoinHandle<()>>,
) -> Vec<Duration> {
    let already = received.load(Ordering::Relaxed);
    let senders = start();
    let samples = saves_until(app, key, id, received, already + EVENTS).await;
    for sender in senders {
        sender.await.expect("sender");
    }
    samples
}

/// The p95 of `saves` made `while`, with how many there were.
fn add_saves(report: &mut Report, while_: &str, mut saves: Vec<Duration>, target: &str) {
    report.add_ms(
        &format!(
            "webhooks: contact save p95 {while_} ({} saves)",
            saves.len()
        ),
        percentile(&mut saves, 95.0),
        target,
    );
}

/// A receiver on loopback that counts what it gets and answers 204.
async fn receiver(count: Arc<AtomicU64>) -> String {
    let app = Router::new().route(
        "/hook",
        axum::routing::post(move |_body: String| {
            let count = count.clone();
            async move {
                count.fetch_add(1, Ordering::Relaxed);
                StatusCode::NO_CONTENT
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn wait_for(received: &AtomicU64, n: u64) {
    let deadline = Instant::now() + Duration::from_secs(120);
    while received.load(Ordering::Relaxed) < n {
        assert!(Instant::now() < deadline, "deliveries stalled");
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

fn post(key: &str, path: &str, json: &str) -> Request<Body> {
    request(http::Method::POST, key, path, json, "application/json")
}

fn request(method: http::Method, key: &str, path: &str, json: &str, kind: &str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(path)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, kind)
        .body(Body::from(json.to_string()))
        .expect("request")
}

async fn send(app: &Router, request: Request<Body>) -> axum::body::Bytes {
    let response = app.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
        .await
        .expect("body");
    assert!(
        status.is_success(),
        "{status}: {}",
        String::from_utf8_lossy(&bytes)
    );
    bytes
}

async fn save(app: &Router, key: &str, id: i64, n: usize) -> Duration {
    let json = format!(r#"{{"lastName":"Save {n}"}}"#);
    let path = format!("/api/v1/contacts/{id}");
    let patch = request(
        http::Method::PATCH,
        key,
        &path,
        &json,
        "application/merge-patch+json",
    );
    // Each save's statements lie between these two lines of `BENCH_TRACE`.
    tracing::info!(target: "bench", n, "save start");
    let took = crate::api::timed(app, patch).await;
    tracing::info!(target: "bench", n, took_us = took.as_micros() as u64, "save end");
    took
}

async fn saves(app: &Router, key: &str, id: i64, n: usize) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(n);
    for i in 0..n {
        samples.push(save(app, key, id, i).await);
    }
    samples
}

/// Saves one after another until the receiver has `n` deliveries.
async fn saves_until(
    app: &Router,
    key: &str,
    id: i64,
    received: &AtomicU64,
    n: u64,
) -> Vec<Duration> {
    let mut samples = Vec::new();
    while received.load(Ordering::Relaxed) < n {
        samples.push(save(app, key, id, samples.len()).await);
    }
    samples
}
