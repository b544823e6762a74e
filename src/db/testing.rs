//! Databases for tests: each test gets an empty, migrated database of its own, on SQLite
//! and, where a server is given, on PostgreSQL ([`db_tests!`](crate::db_tests)).

use super::Db;
use super::history::Author;
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, Executor, PgConnection};
use std::sync::atomic::{AtomicU32, Ordering};

/// Where the PostgreSQL tests find a server they may create databases on (a throwaway
/// one: `make unit` starts it with tools/postgres/with-cluster).
pub const POSTGRES_URL_VARIABLE: &str = "CONTACTS_TEST_POSTGRES_URL";

/// Who the tests' changes are recorded as made by.
pub const AUTHOR: &Author = &Author::user(1);

/// A new, migrated database on the test server.
pub async fn postgres() -> Db {
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&new_postgres_database().await)
        .await
        .expect("connect to the test database");
    let db = Db::Postgres(pool);
    db.migrate().await.expect("migrations");
    db
}

/// The URL of a new, empty database on the test server.
pub async fn new_postgres_database() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let server = std::env::var(POSTGRES_URL_VARIABLE).unwrap_or_else(|_| {
        panic!("{POSTGRES_URL_VARIABLE} is not set: run `make unit`, which starts a server")
    });
    let name = format!(
        "contacts_test_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    create_database(&server, &name, None).await
}

/// The URL of a new database `name` on the PostgreSQL server at `server` (dropped first
/// if it exists), empty or a copy of `template`: for tests and benchmarks.
pub async fn create_database(server: &str, name: &str, template: Option<&str>) -> String {
    let mut admin = PgConnection::connect(server)
        .await
        .expect("PostgreSQL server");
    if let Some(template) = template {
        // A copy needs the template to itself: a session still ending on it (a pool just
        // closed, a statistics refresh the app started in the background) is ended.
        let sql = format!(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
             WHERE datname = '{template}' AND pid <> pg_backend_pid()"
        );
        admin.execute(sql.as_str()).await.expect(&sql);
    }
    for sql in [
        format!("DROP DATABASE IF EXISTS {name}"),
        format!(
            "CREATE DATABASE {name}{}",
            template.map_or(String::new(), |t| format!(" TEMPLATE {t}"))
        ),
    ] {
        admin.execute(sql.as_str()).await.expect(&sql);
    }
    admin.close().await.ok();
    let (base, _) = server
        .rsplit_once('/')
        .expect("a URL ending in a database name");
    format!("{base}/{name}")
}

/// Runs database tests written once, as `async fn name(db: Db)`, on both databases:
/// `db_tests!(name, ...)` adds for each a module `name` with a test `sqlite` (always)
/// and a test `postgres` (ignored unless run with `--include-ignored` beside a server).
#[macro_export]
macro_rules! db_tests {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[sqlx::test(migrations = false)]
            async fn sqlite(pool: sqlx::SqlitePool) {
                let db = $crate::db::Db::Sqlite(pool);
                db.migrate().await.expect("migrations");
                super::$name(db).await
            }

            #[tokio::test]
            #[ignore = "needs a PostgreSQL server: `make unit` starts one"]
            async fn postgres() {
                let db = $crate::db::testing::postgres().await;
                super::$name(db.clone()).await;
                db.close().await
            }
        }
    )+};
}
