//! The data-access layer: every SQL statement of the app lives below this module.
//!
//! Functions take a pool (or a transaction) and, for workspace data, the workspace id of
//! the signed-in user, so no query can reach another workspace's rows. Components and
//! server functions never write SQL, which keeps a later move to PostgreSQL in one place.

pub mod api_keys;
pub mod app_servers;
pub mod contacts;
pub mod erasure;
pub mod groups;
pub mod history;
pub mod idempotency;
pub mod import;
pub mod imports;
pub mod opt_outs;
pub mod secrets;
pub mod sessions;
pub mod sign_in_failures;
pub mod users;
pub mod webhooks;
pub mod workspaces;

mod backend;
#[doc(hidden)]
pub mod testing;

pub(crate) use backend::on;
pub use backend::{Backend, Builder, Conn, Db, Dialect, Tx, Value};

use sqlx::SqlitePool;
use sqlx::migrate::Migrator;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use std::path::PathBuf;
use std::time::Duration;

/// The migrations in `migrations/sqlite/`, embedded in the binary and applied at start-up.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations/sqlite");

/// The same tables for PostgreSQL (`migrations/postgres/`).
pub static POSTGRES_MIGRATOR: Migrator = sqlx::migrate!("./migrations/postgres");

/// Rows changed at once from which a change counts as bulk (see
/// [`Db::refresh_statistics`]).
pub(crate) const BULK_ROWS: i64 = 10_000;

/// How long a statement waits for another writer before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The size in bytes the write-ahead log file is cut back to when it starts over.
const WAL_SIZE_LIMIT: u64 = 64 << 20;

/// Where the data lives: `CONTACTS_DATABASE_URL`, or a SQLite file in the data folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite database file (created if missing).
    Sqlite(PathBuf),
    /// A PostgreSQL server, by its `postgres://` URL.
    Postgres(String),
}

impl Location {
    /// Reads a database URL: `postgres://` / `postgresql://`, `sqlite:` followed by a
    /// path, or `None` when the URL is neither.
    pub fn from_url(url: &str) -> Option<Location> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Some(Location::Postgres(url.to_owned()));
        }
        let path = url.strip_prefix("sqlite:")?;
        let path = path.strip_prefix("//").unwrap_or(path);
        (!path.is_empty()).then(|| Location::Sqlite(PathBuf::from(path)))
    }
}

impl std::fmt::Display for Location {
    /// The file's path, or the server's URL without its password (for logs).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Sqlite(path) => write!(f, "{}", path.display()),
            Location::Postgres(url) => f.write_str(&without_password(url)),
        }
    }
}

/// A database URL as it may be shown in a log or an error: without its password (text
/// that is not a URL at all is not shown, since it could be one with a typo).
pub fn without_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            // Only URLs that cannot have a password refuse this, and they have none.
            let _ = parsed.set_password(None);
            parsed.to_string()
        }
        Err(_) => "(not a URL)".to_owned(),
    }
}

/// Opens the database at `location` with the pool settings the app relies on and
/// applies its migrations. A database holding a migration this binary does not know
/// (written by a newer release) is refused.
pub async fn open(location: &Location, max_connections: u32) -> Result<Db, OpenError> {
    let db = match location {
        Location::Sqlite(path) => Db::Sqlite(connect(path).await?),
        Location::Postgres(url) => Db::Postgres(
            PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(BUSY_TIMEOUT)
                .connect(url)
                .await?,
        ),
    };
    db.migrate().await?;
    Ok(db)
}

/// Why the database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The database could not be reached or created.
    #[error("{0}")]
    Connect(#[from] sqlx::Error),
    /// A migration failed or the schema is newer than this binary.
    #[error("{0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Opens (creating if needed) the SQLite database at `path` with WAL, foreign keys and a
/// busy timeout, as every connection of the app needs them.
pub async fn connect(path: &std::path::Path) -> Result<SqlitePool, sqlx::Error> {
    let options = SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        // NORMAL is durable across application crashes in WAL mode and much faster than FULL.
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(BUSY_TIMEOUT)
        // A deleted row's bytes are zeroed, not left in free space: an erased person's
        // number must not stay in the file (see `erasure`).
        .pragma("secure_delete", "ON")
        // A log that grew during a large import shrinks back once it starts over.
        .pragma("journal_size_limit", WAL_SIZE_LIMIT.to_string());
    SqlitePoolOptions::new()
        .max_connections(8)
        .connect_with(options)
        .await
}

/// How every transaction that will write starts: taking SQLite's write lock at once
/// (waiting up to the busy timeout for another writer). A deferred transaction that
/// reads first and then writes fails at once, without waiting, if another connection
/// wrote in between.
pub(crate) const BEGIN_WRITE: &str = "BEGIN IMMEDIATE";

/// A connection of its own without foreign-key checks, for bulk writes whose every
/// reference is read in the same transaction (the rows it inserts then need no lookup
/// each). It is closed when dropped, never returned to the pool, so no other statement
/// ever runs on it without foreign keys.
pub async fn unchecked_connection(
    pool: &SqlitePool,
) -> Result<sqlx::pool::PoolConnection<sqlx::Sqlite>, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    conn.close_on_drop();
    sqlx::query("PRAGMA foreign_keys = OFF")
        .execute(&mut *conn)
        .await?;
    Ok(conn)
}

/// Copies committed pages from the write-ahead log into the database file, as far as no
/// reader still needs the log; it neither waits for nor blocks readers and writers.
pub async fn checkpoint(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
        .execute(pool)
        .await?;
    Ok(())
}

/// Copies the whole write-ahead log into the database file and truncates the log to
/// nothing, waiting (up to the busy timeout) for readers of older snapshots: after an
/// erasure, no old copy of its pages stays in the log.
pub async fn checkpoint_truncate(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    for _ in 0..3 {
        let (busy, _, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(pool)
            .await?;
        if busy == 0 {
            return Ok(());
        }
    }
    // The next checkpoint copies the pages out; the log keeps old ones until then.
    tracing::warn!("the write-ahead log could not be truncated yet: a reader held it");
    Ok(())
}

/// Seconds since the Unix epoch, the unit of every timestamp column.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// Whether an error is a violation of a UNIQUE constraint.
pub(crate) fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database written by a newer release (a migration this binary does not know) is
    /// refused, not run on a schema the code does not match.
    #[sqlx::test(migrations = false)]
    async fn a_schema_newer_than_the_binary_is_refused(pool: SqlitePool) {
        MIGRATOR.run(&pool).await.unwrap();
        sqlx::query(
            "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time)
             VALUES (99990101000000, 'from a newer release', 1, x'00', 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        let refused = MIGRATOR.run(&pool).await;
        assert!(
            matches!(
                refused,
                Err(sqlx::migrate::MigrateError::VersionMissing(99990101000000))
            ),
            "{refused:?}"
        );
    }

    /// Bulk writes run without foreign-key actions on SQLite, and the undo of an upload
    /// removes a contact's memberships itself: a new table that refers to contacts must
    /// be cleaned up there too (`import::undo::remove_created`), then added here.
    #[sqlx::test(migrations = false)]
    async fn only_memberships_refer_to_contacts(pool: SqlitePool) {
        MIGRATOR.run(&pool).await.unwrap();
        let referring: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT m.name FROM sqlite_master m, pragma_foreign_key_list(m.name) f
             WHERE m.type = 'table' AND f.\"table\" = 'contacts' ORDER BY m.name",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        assert_eq!(referring, ["memberships"]);
    }

    /// A write transaction that reads first must not fail when another connection writes
    /// between its read and its write: the other writer waits for it instead.
    #[tokio::test]
    async fn a_write_transaction_holds_the_write_lock_from_its_start() {
        let dir = std::env::temp_dir().join(format!("contacts-begin-write-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pool = connect(&dir.join("t.db")).await.unwrap();
        sqlx::query("CREATE TABLE t (n INTEGER)")
            .execute(&pool)
            .await
            .unwrap();
        let Backend::Sqlite(mut tx) = Db::Sqlite(pool.clone()).begin_write().await.unwrap() else {
            unreachable!("a SQLite database")
        };
        let _: i64 = sqlx::query_scalar("SELECT count(*) FROM t")
            .fetch_one(&mut *tx)
            .await
            .unwrap();
        let other = tokio::spawn({
            let pool = pool.clone();
            async move { sqlx::query("INSERT INTO t VALUES (2)").execute(&pool).await }
        });
        tokio::time::sleep(Duration::from_millis(200)).await;
        assert!(!other.is_finished(), "the other writer waits");
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(&mut *tx)
            .await
            .expect("the write after the read succeeds");
        tx.commit().await.unwrap();
        other.await.unwrap().expect("the other writer goes next");
        let rows: Vec<i64> = sqlx::query_scalar("SELECT n FROM t ORDER BY rowid")
            .fetch_all(&pool)
            .await
            .unwrap();
        assert_eq!(rows, [1, 2]);
        pool.close().await;
        let _ = std::fs::remove_dir_all(&dir);
    }
}
