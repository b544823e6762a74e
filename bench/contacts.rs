//! The contacts table at scale: 1,000,000 contacts in one workspace (and 100,000 in
//! another), pages of 50 at any depth, searches, and the total counts.

use crate::report::{Report, percentile};
use axum::Router;
use axum::body::Body;
use contacts::db::Db;
use contacts::model::contact::{ContactFilter, ContactSort, Cursor, PageRequest};
use http::{Request, header};
use std::time::{Duration, Instant};
use tower::ServiceExt;

const FIRST_NAMES: [&str; 40] = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Wei",
    "Mei",
    "Jun",
    "Hui",
    "Siti",
    "Nur",
    "Muhammad",
    "Aisyah",
    "Arjun",
    "Priya",
    "Raj",
    "Ananya",
    "Maria",
    "Marco",
    "Sofia",
    "Lucas",
    "Emma",
    "Noah",
    "Olivia",
    "Liam",
    "Ava",
    "Ethan",
];
const LAST_NAMES: [&str; 40] = [
    "Tan", "Lim", "Lee", "Ng", "Ong", "Wong", "Goh", "Chua", "Chan", "Koh", "Teo", "Ang", "Yeo",
    "Tay", "Ho", "Low", "Toh", "Sim", "Chong", "Chia", "Smith", "Johnson", "Williams", "Brown",
    "Jones", "Garcia", "Miller", "Davis", "Martinez", "Lopez", "Kumar", "Singh", "Sharma",
    "Rahman", "Abdullah", "Hassan", "Nguyen", "Tran", "Santos", "Reyes",
];

/// Gathers the planner's statistics and, on SQLite, empties the write-ahead log: a
/// running server checkpoints as it goes, so the figures start from that steady state
/// rather than from a log holding the whole generated data set.
pub async fn settle(db: &Db) {
    contacts::on!(db, pool => {
        sqlx::query("ANALYZE").execute(pool).await.expect("analyze");
    });
    if let Db::Sqlite(pool) = db {
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(pool)
            .await
            .expect("checkpoint");
    }
}

/// Inserts `count` generated contacts into a workspace, in large transactions.
pub async fn generate(db: &Db, workspace_id: i64, count: usize, number_base: u64) {
    contacts::on!(db, pool => {
        const ROWS_PER_STATEMENT: usize = 400;
        let mut tx = pool.begin().await.expect("begin");
        let mut done = 0;
        while done < count {
            let n = ROWS_PER_STATEMENT.min(count - done);
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO contacts (workspace_id, first_name, last_name, sort_name, mobile, mobile_national, country, email, created_at) ",
            );
            q.push_values(done..done + n, |mut row, i| {
                let first = FIRST_NAMES[(i * 7 + i / 40) % FIRST_NAMES.len()];
                let last = LAST_NAMES[(i * 13 + i / 1600) % LAST_NAMES.len()];
                // Distinct 8-digit Singapore mobiles: 8xxxxxxx and 9xxxxxxx.
                // 7,919 is prime to 18,000,000, so the numbers never repeat.
                let national = number_base + (i as u64 * 7_919) % 18_000_000;
                let email = (i % 2 == 0).then(|| {
                    format!(
                        "{}.{}.{i}@example.com",
                        first.to_lowercase(),
                        last.to_lowercase()
                    )
                });
                row.push_bind(workspace_id)
                    .push_bind(first)
                    .push_bind(last)
                    .push_bind(format!("{} {}", first.to_lowercase(), last.to_lowercase()))
                    .push_bind(format!("+65{national}"))
                    .push_bind(national.to_string())
                    .push_bind("SG")
                    .push_bind(email)
                    .push_bind(1_700_000_000 + i as i64);
            });
            q.build().execute(&mut *tx).await.expect("insert contacts");
            done += n;
            if done % 100_000 == 0 {
                tx.commit().await.expect("commit");
                tx = pool.begin().await.expect("begin");
            }
        }
        tx.commit().await.expect("commit");
    })
}

async fn timed_page(app: &Router, cookie: &str, body: &str, runs: usize) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(runs);
    for i in 0..runs + 10 {
        let request = Request::post("/api/list_contacts")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::COOKIE, cookie)
            .body(Body::from(body.to_string()))
            .expect("request");
        let started = Instant::now();
        let response = app.clone().oneshot(request).await.expect("response");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), usize::MAX)
            .await
            .expect("body");
        let elapsed = started.elapsed();
        assert!(
            status.is_success(),
            "list_contacts failed: {status} {}",
            String::from_utf8_lossy(&bytes)
        );
        assert!(bytes.len() > 100, "a page has rows");
        if i >= 10 {
            samples.push(elapsed); // the first runs warm the caches
        }
    }
    samples
}

fn page_body(filter: &ContactFilter, page: &PageRequest) -> String {
    #[derive(serde::Serialize)]
    struct Args<'a> {
        filter: &'a ContactFilter,
        page: &'a PageRequest,
        size: u32,
    }
    serde_json::to_string(&Args {
        filter,
        page,
        size: 50,
    })
    .expect("json")
}

/// Runs the paging and search benchmarks against the real server function.
pub async fn run(report: &mut Report, db: &Db, app: &Router, cookie: &str, workspace_id: i64) {
    let other = contacts::db::workspaces::create(db, "Other", "SG")
        .await
        .expect("workspace");
    let started = Instant::now();
    // `BENCH_CONTACTS=10M` (with `BENCH_ONLY=counts`): the counts at 10 million.
    let size = match std::env::var("BENCH_CONTACTS").as_deref() {
        Ok("10M") => 10_000_000,
        _ => 1_000_000,
    };
    generate(db, workspace_id, size, 80_000_000).await;
    generate(db, other, 100_000, 80_000_000).await;
    settle(db).await;
    if size != 1_000_000 {
        report.add(
            &format!("generate {size} + 100,000 contacts (setup)"),
            format!("{:.1}", started.elapsed().as_secs_f64()),
            "s",
            "",
        );
        counts(report, db, workspace_id, " at 10M").await;
        return;
    }
    report.add(
        "generate 1,100,000 contacts (setup)",
        format!("{:.1}", started.elapsed().as_secs_f64()),
        "s",
        "",
    );
    // `BENCH_ONLY=api`: the API's figures alone, on the same data.
    if std::env::var("BENCH_ONLY").is_ok_and(|only| only == "api") {
        crate::api::run(report, db, app, workspace_id).await;
        return;
    }

    let newest = ContactFilter::default();
    let by_name = ContactFilter {
        sort: ContactSort::NameAsc,
        ..Default::default()
    };
    // The row just before page 10,001 in each order: found once with OFFSET, as a
    // user reaches it by paging; every timed request is keyset.
    let sql = "SELECT id FROM contacts WHERE workspace_id = $1
               ORDER BY id DESC LIMIT 1 OFFSET 499999";
    let deep_id: i64 = contacts::on!(db, pool => {
        sqlx::query_scalar(sql).bind(workspace_id).fetch_one(pool).await
    })
    .expect("deep row");
    let sql = "SELECT sort_name, id FROM contacts WHERE workspace_id = $1
               ORDER BY sort_name, id LIMIT 1 OFFSET 499999";
    let (deep_name, deep_name_id): (String, i64) = contacts::on!(db, pool => {
        sqlx::query_as(sql).bind(workspace_id).fetch_one(pool).await
    })
    .expect("deep row by name");

    let cases = [
        (
            "page of 50: first page, newest first",
            page_body(&newest, &PageRequest::First),
        ),
        (
            "page of 50: 10,000 pages deep, newest first",
            page_body(
                &newest,
                &PageRequest::After(Cursor {
                    key: String::new(),
                    id: deep_id,
                }),
            ),
        ),
        (
            "page of 50: 10,000 pages deep, by name",
            page_body(
                &by_name,
                &PageRequest::After(Cursor {
                    key: deep_name,
                    id: deep_name_id,
                }),
            ),
        ),
        (
            "page of 50: search name prefix \"mar\"",
            page_body(
                &ContactFilter {
                    search: "mar".into(),
                    sort: ContactSort::Newest,
                    ..Default::default()
                },
                &PageRequest::First,
            ),
        ),
        (
            "page of 50: search phone digits \"8123\"",
            page_body(
                &ContactFilter {
                    search: "8123".into(),
                    sort: ContactSort::Newest,
                    ..Default::default()
                },
                &PageRequest::First,
            ),
        ),
    ];
    for (name, body) in cases {
        let mut samples = timed_page(app, cookie, &body, 100).await;
        report.add_ms(&format!("{name} p50"), percentile(&mut samples, 50.0), "");
        report.add_ms(
            &format!("{name} p95"),
            percentile(&mut samples, 95.0),
            "< 10 ms",
        );
    }

    counts(report, db, workspace_id, "").await;
    if std::env::var("BENCH_ONLY").is_ok_and(|only| only == "counts") {
        return;
    }
    groups(report, db, app, cookie, workspace_id).await;
    crate::api::run(report, db, app, workspace_id).await;
}

/// The count beside the table (up to `COUNT_BOUND`, "10,000+" past it) and the exact
/// count that **Count all** asks for, by search; `at` names the size in the figures.
async fn counts(report: &mut Report, db: &Db, workspace_id: i64, at: &str) {
    use contacts::model::contact::{COUNT_BOUND, EXACT_COUNT_LIMIT};
    let search = |text: &str| ContactFilter {
        search: text.into(),
        sort: ContactSort::Newest,
        ..Default::default()
    };
    for (name, filter) in [
        ("no search", ContactFilter::default()),
        ("search \"mar\"", search("mar")),
        ("search \"ka\"", search("ka")),
        ("search \"8123\"", search("8123")),
        ("search \"9\"", search("9")),
    ] {
        let mut bounded = Vec::new();
        for _ in 0..20 {
            let started = Instant::now();
            contacts::db::contacts::count_up_to(db, workspace_id, &filter, COUNT_BOUND)
                .await
                .expect("count");
            bounded.push(started.elapsed());
        }
        let mut exact = Vec::new();
        let mut shown = String::new();
        for _ in 0..3 {
            let started = Instant::now();
            let total =
                contacts::db::contacts::count_within(db, workspace_id, &filter, EXACT_COUNT_LIMIT)
                    .await;
            exact.push(started.elapsed());
            shown = total.map_or_else(|e| e.to_string(), |t| t.count.to_string());
        }
        report.add_ms(
            &format!("count shown{at}, {name}: p95"),
            percentile(&mut bounded, 95.0),
            "< 50 ms",
        );
        report.add(
            &format!("exact count (Count all){at}, {name}: median; matches"),
            format!(
                "{:.1}; {shown}",
                percentile(&mut exact, 50.0).as_secs_f64() * 1000.0
            ),
            "ms",
            "",
        );
    }
}

/// Groups at scale: add 100,000 "all matching" contacts to a group, blacklist it, and
/// page through it.
async fn groups(report: &mut Report, db: &Db, app: &Router, cookie: &str, workspace_id: i64) {
    use contacts::db::groups;
    use contacts::model::contact::Selection;
    use contacts::model::group::GroupInput;
    let group = |name: &str| GroupInput {
        name: name.into(),
        ..Default::default()
    };
    let source = groups::create(db, workspace_id, &group("Every tenth"))
        .await
        .expect("group");
    let sql = "INSERT INTO memberships (group_id, contact_id, workspace_id)
               SELECT $1, id, workspace_id FROM contacts WHERE workspace_id = $2 AND id % 10 = 0";
    contacts::on!(db, pool => {
        sqlx::query(sql)
            .bind(source)
            .bind(workspace_id)
            .execute(pool)
            .await
            .expect("source members");
    });
    let matching = Selection::AllMatching(ContactFilter {
        group: Some(source),
        ..Default::default()
    });
    // Five times, into five new groups: the median is the figure.
    let mut samples = Vec::new();
    let mut target = 0;
    for i in 0..5 {
        target = groups::create(db, workspace_id, &group(&format!("Campaign {i}")))
            .await
            .expect("group");
        let started = Instant::now();
        let picks = contacts::model::group::GroupPicks {
            ids: vec![target],
            new_names: Vec::new(),
        };
        let change = groups::add_members(
            db,
            workspace_id,
            &picks,
            &matching,
            contacts::db::testing::AUTHOR,
        )
        .await
        .expect("add");
        samples.push(started.elapsed());
        assert_eq!(change.changed, 100_000);
    }
    report.add_ms(
        "add 100,000 matching contacts to a group, median of 5",
        percentile(&mut samples, 50.0),
        "< 500 ms",
    );

    let mut samples = Vec::new();
    for i in 0..20 {
        let started = Instant::now();
        groups::set_blacklisted(db, workspace_id, target, i % 2 == 0)
            .await
            .expect("toggle");
        samples.push(started.elapsed());
    }
    groups::set_blacklisted(db, workspace_id, target, true)
        .await
        .expect("toggle");
    report.add_ms(
        "toggle blacklisted on a group of 100,000 p95",
        percentile(&mut samples, 95.0),
        "< 10 ms",
    );

    for (name, filter) in [
        (
            "page of 50: group of 100,000",
            ContactFilter {
                group: Some(target),
                ..Default::default()
            },
        ),
        (
            "page of 50: blacklisted",
            ContactFilter {
                blacklisted: Some(true),
                ..Default::default()
            },
        ),
        (
            "page of 50: not blacklisted",
            ContactFilter {
                blacklisted: Some(false),
                ..Default::default()
            },
        ),
    ] {
        let mut samples =
            timed_page(app, cookie, &page_body(&filter, &PageRequest::First), 100).await;
        report.add_ms(&format!("{name} p50"), percentile(&mut samples, 50.0), "");
        report.add_ms(
            &format!("{name} p95"),
            percentile(&mut samples, 95.0),
            "< 10 ms",
        );
    }
}
