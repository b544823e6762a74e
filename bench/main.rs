//! `make bench`: the project's benchmarks, printed as one table.
//!
//! Run after a release build (`cargo leptos build --release`), which `make bench` does:
//! the start-up figure runs the real server binary and the bundle figure reads the real
//! WASM file. The figures that depend on the database are measured on SQLite and, when
//! `make bench` started a PostgreSQL cluster beside it, on PostgreSQL too.

mod api;
mod contacts;
mod floor;
mod imports;
mod report;
mod server;
mod sheets;
mod uploads;
mod webhooks;

use report::Report;

fn main() {
    // `BENCH_TRACE=file` logs every statement with its time, as the app's client saw
    // it, and the webhook figures' saves: where a slow save's time went.
    if let Ok(path) = std::env::var("BENCH_TRACE") {
        let file = std::fs::File::create(path).expect("trace file");
        tracing_subscriber::fmt()
            .with_env_filter("sqlx::query=debug,bench=info")
            .with_writer(std::sync::Mutex::new(file))
            .with_ansi(false)
            .with_thread_names(true)
            .with_timer(tracing_subscriber::fmt::time::uptime())
            .init();
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut report = Report::default();
    // `make bench` runs beside a PostgreSQL cluster of its own (tools/postgres/with-cluster)
    // and names it here; without one, the PostgreSQL figures are left out.
    let postgres = std::env::var(::contacts::db::testing::POSTGRES_URL_VARIABLE).ok();
    let postgres = postgres.as_deref();
    // `BENCH_ONLY=imports` (or `contacts`, `api`, `counts`, `webhooks` or `uploads`) runs
    // one part, for quicker iterations; `BENCH_CONTACTS=10M` makes the counts' workspace
    // ten million contacts.
    let only = std::env::var("BENCH_ONLY").unwrap_or_default();
    if only.is_empty() || only == "contacts" || only == "api" || only == "counts" {
        runtime.block_on(server::run(&mut report, postgres));
    }
    if only.is_empty() || only == "webhooks" {
        runtime.block_on(webhooks::run(&mut report, postgres));
    }
    if only.is_empty() || only == "imports" {
        runtime.block_on(imports::run(&mut report, postgres));
    }
    // `make bench` also starts an S3-compatible server (tools/s3/with-server).
    if only.is_empty() || only == "uploads" {
        let s3 = std::env::var(::contacts::server::store::testing::S3_URL_VARIABLE).ok();
        runtime.block_on(uploads::run(&mut report, s3.as_deref()));
    }
    report.print();
}
