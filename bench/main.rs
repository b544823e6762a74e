//! `make bench`: the project's benchmarks, printed as one table.
//!
//! Run after a release build (`cargo leptos build --release`), which `make bench` does:
//! the start-up figure runs the real server binary and the bundle figure reads the real
//! WASM file.

mod contacts;
mod report;
mod server;

use report::Report;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let mut report = Report::default();
    runtime.block_on(server::run(&mut report));
    report.print();
}
