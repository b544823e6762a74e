//! The integration API at scale, through the real router: a page of 100 at 1,000,000
//! contacts, the recipients of a 1,000,000-member group streamed (time and memory), 16
//! clients creating contacts one request each, and 100,000 contacts through
//! `upsertContacts` in batches of 1,000.

use crate::report::{Report, percentile};
use axum::Router;
use axum::body::Body;
use contacts::db::Db;
use contacts::model::Role;
use futures::StreamExt;
use http::{Request, header};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tower::ServiceExt;

/// This process's resident memory in KB (the router runs in it).
fn rss_kb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse().ok())
        })
        .unwrap_or(0)
}

async fn key_of(db: &Db, workspace_id: i64) -> String {
    contacts::server::keys::create_key(db, workspace_id, "Bench", Role::Editor, None)
        .await
        .expect("key")
        .secret
}

fn get(path: &str, key: &str) -> Request<Body> {
    Request::get(path)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .body(Body::empty())
        .expect("request")
}

fn post(path: &str, key: &str, json: String) -> Request<Body> {
    Request::post(path)
        .header(header::AUTHORIZATION, format!("Bearer {key}"))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(json))
        .expect("request")
}

/// Sends a request and reads the reply whole; returns its time.
pub async fn timed(app: &Router, request: Request<Body>) -> Duration {
    let started = Instant::now();
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
    started.elapsed()
}

/// Runs the API's benchmarks; `workspace_id` holds the 1,000,000 generated contacts.
pub async fn run(report: &mut Report, db: &Db, app: &Router, workspace_id: i64) {
    let key = key_of(db, workspace_id).await;
    for (name, path) in [
        (
            "API: page of 100 at 1,000,000 contacts",
            "/api/v1/contacts?limit=100",
        ),
        (
            "API: page of 100, search \"mar\"",
            "/api/v1/contacts?limit=100&query=mar",
        ),
    ] {
        let mut samples = Vec::new();
        for i in 0..110 {
            let took = timed(app, get(path, &key)).await;
            if i >= 10 {
                samples.push(took);
            }
        }
        report.add_ms(
            &format!("{name} p95"),
            percentile(&mut samples, 95.0),
            "< 15 ms",
        );
    }
    recipients(report, db, app, workspace_id, &key).await;
    creating(report, db, app).await;
}

/// Streams the SMS recipients of a group holding every one of the 1,000,000 contacts.
async fn recipients(report: &mut Report, db: &Db, app: &Router, workspace_id: i64, key: &str) {
    use contacts::model::group::GroupInput;
    let group = contacts::db::groups::create(
        db,
        workspace_id,
        &GroupInput {
            name: "Everyone".into(),
            ..Default::default()
        },
    )
    .await
    .expect("group");
    let sql = "INSERT INTO memberships (group_id, contact_id, workspace_id)
               SELECT $1, id, workspace_id FROM contacts WHERE workspace_id = $2";
    contacts::on!(db, pool => {
        sqlx::query(sql)
            .bind(group)
            .bind(workspace_id)
            .execute(pool)
            .await
            .expect("members");
    });
    crate::contacts::settle(db).await;
    let path = format!("/api/v1/recipients?groupId={group}&channel=sms");
    // Warm the caches once, as a server that has been running would be.
    let _ = timed(app, get(&path, key)).await;

    let before = rss_kb();
    let peak = Arc::new(AtomicU64::new(before));
    let sampler = {
        let peak = peak.clone();
        tokio::spawn(async move {
            loop {
                peak.fetch_max(rss_kb(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
    };
    let started = Instant::now();
    let response = app
        .clone()
        .oneshot(get(&path, key))
        .await
        .expect("response");
    assert!(response.status().is_success());
    let mut stream = response.into_body().into_data_stream();
    let mut lines = 0usize;
    while let Some(chunk) = stream.next().await {
        lines += chunk
            .expect("chunk")
            .iter()
            .filter(|b| **b == b'\n')
            .count();
    }
    let took = started.elapsed();
    sampler.abort();
    let growth = peak.load(Ordering::Relaxed).saturating_sub(before);
    assert!(lines > 800_000, "{lines} recipients");
    report.add(
        "API: recipients of a 1,000,000-member group streamed (NDJSON): time",
        format!("{:.2}", took.as_secs_f64()),
        "s",
        "< 3 s",
    );
    report.add(
        "API: recipients streamed: lines / server RSS growth",
        format!("{lines} / {:.1}", growth as f64 / 1024.0),
        "MB",
        "< 20 MB",
    );
}

/// Creating contacts in a workspace of their own: one request each from 16 clients, and
/// batches of 1,000.
async fn creating(report: &mut Report, db: &Db, app: &Router) {
    let workspace = contacts::db::workspaces::create(db, "API bench", "SG")
        .await
        .expect("workspace");
    let key = Arc::new(key_of(db, workspace).await);
    const CLIENTS: u64 = 16;
    const EACH: u64 = 625;
    let started = Instant::now();
    let clients: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let (app, key) = (app.clone(), key.clone());
            tokio::spawn(async move {
                let mut samples = Vec::with_capacity(EACH as usize);
                for i in 0..EACH {
                    let n = 90_000_000 + client * EACH + i;
                    let json = format!(
                        r#"{{"firstName":"Client {client}","lastName":"Row {i}","addresses":{{"msisdn":"+65{n}"}}}}"#
                    );
                    samples.push(timed(&app, post("/api/v1/contacts", &key, json)).await);
                }
                samples
            })
        })
        .collect();
    let mut samples = Vec::new();
    for client in clients {
        samples.extend(client.await.expect("client"));
    }
    let took = started.elapsed();
    let total = (CLIENTS * EACH) as f64;
    report.add(
        "API: 16 clients creating 10,000 contacts one request each: requests/s",
        format!("{:.0}", total / took.as_secs_f64()),
        "/s",
        ">= 1,000/s on SQLite",
    );
    report.add_ms(
        "API: 16 clients creating contacts: p95 per request",
        percentile(&mut samples, 95.0),
        "< 50 ms",
    );

    let started = Instant::now();
    for batch in 0..100u64 {
        let contacts: Vec<String> = (0..1000u64)
            .map(|i| {
                let n = 91_000_000 + batch * 1000 + i;
                format!(r#"{{"firstName":"Batch {batch}","addresses":{{"msisdn":"+65{n}"}}}}"#)
            })
            .collect();
        let json = format!(r#"{{"contacts":[{}]}}"#, contacts.join(","));
        timed(
            app,
            post("/api/v1/contacts/batches/upsertContacts", &key, json),
        )
        .await;
    }
    report.add(
        "API: 100,000 contacts through upsertContacts, batches of 1,000: time",
        format!("{:.2}", started.elapsed().as_secs_f64()),
        "s",
        "< 5 s",
    );
}
