//! One value for each database the app runs on, and the few places their SQL differs.
//!
//! Queries are written once, with `$1`-style placeholders (SQLite reads them as well as
//! PostgreSQL), and run on the install's database through [`on!`]: the macro compiles
//! its body once per database, so each runs on its own driver with its own types and
//! no translation layer in between. What cannot be written the same way on both is a
//! method of [`Dialect`].

use sqlx::pool::PoolConnection;
use sqlx::{
    PgConnection, PgPool, Postgres, QueryBuilder, Sqlite, SqliteConnection, SqlitePool, Transaction,
};

/// A pool, transaction or connection of one of the two databases.
#[derive(Debug, Clone)]
pub enum Backend<S, P> {
    /// The embedded default.
    Sqlite(S),
    /// A PostgreSQL 15+ server.
    Postgres(P),
}

/// The install's database.
pub type Db = Backend<SqlitePool, PgPool>;

/// An open transaction; dropping it rolls back.
pub type Tx = Backend<Transaction<'static, Sqlite>, Transaction<'static, Postgres>>;

/// A connection borrowed from a transaction or a pool.
pub type Conn<'c> = Backend<&'c mut SqliteConnection, &'c mut PgConnection>;

/// A connection taken from the pool; it goes back when dropped.
pub type PoolConn = Backend<PoolConnection<Sqlite>, PoolConnection<Postgres>>;

/// Runs `$body` with `$x` bound to the SQLite or the PostgreSQL value inside a
/// [`Backend`] (`on!(db, pool => query.fetch_all(pool).await)`); the body is compiled
/// for each.
#[macro_export]
macro_rules! on {
    ($value:expr, $x:ident => $body:expr) => {
        match $value {
            $crate::db::Backend::Sqlite($x) => $body,
            $crate::db::Backend::Postgres($x) => $body,
        }
    };
}
pub use crate::on;

impl<S, P> Backend<S, P> {
    /// Which SQL this value speaks.
    pub fn dialect(&self) -> Dialect {
        match self {
            Backend::Sqlite(_) => Dialect::Sqlite,
            Backend::Postgres(_) => Dialect::Postgres,
        }
    }
}

impl Db {
    /// Applies the migrations of this database's kind; refuses a schema newer than the
    /// binary (a migration it does not know). SQLite's run on a connection of their own
    /// with foreign keys off, as SQLite's procedure for rebuilding a table asks (foreign
    /// keys cannot be turned off inside the transaction each migration runs in); a
    /// migration that rebuilds a table checks the keys itself before it commits.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Backend::Sqlite(pool) => {
                let mut conn = super::unchecked_connection(pool).await?;
                self.migrator().run(&mut *conn).await
            }
            Backend::Postgres(pool) => self.migrator().run(pool).await,
        }
    }

    /// The migrations of this database's kind.
    fn migrator(&self) -> &'static sqlx::migrate::Migrator {
        match self {
            Backend::Sqlite(_) => &super::MIGRATOR,
            Backend::Postgres(_) => &super::POSTGRES_MIGRATOR,
        }
    }

    /// Whether the newest migration applied is this binary's newest (for `/readyz`):
    /// neither one still to apply nor one of a newer release. One small query.
    pub async fn schema_is_current(&self) -> Result<bool, sqlx::Error> {
        let newest = self.migrator().iter().map(|m| m.version).max();
        let sql = "SELECT MAX(version) FROM _sqlx_migrations WHERE success";
        let applied: Option<i64> =
            on!(self, pool => sqlx::query_scalar(sql).fetch_one(pool).await?);
        Ok(applied == newest)
    }

    /// The pool's connections: how many are open, and how many of them are idle.
    pub fn connections(&self) -> (u32, usize) {
        on!(self, pool => (pool.size(), pool.num_idle()))
    }

    /// Starts a transaction that will write. On SQLite it takes the write lock at once
    /// (waiting up to the busy timeout for another writer): a deferred transaction that
    /// reads first and then writes fails at once, without waiting, if another connection
    /// wrote in between. PostgreSQL locks rows, not the database, so a plain BEGIN.
    pub async fn begin_write(&self) -> Result<Tx, sqlx::Error> {
        Ok(match self {
            Backend::Sqlite(pool) => Backend::Sqlite(pool.begin_with(super::BEGIN_WRITE).await?),
            Backend::Postgres(pool) => Backend::Postgres(pool.begin().await?),
        })
    }

    /// [`Db::begin_write`] for bulk writes whose every reference is read in the same
    /// transaction: on SQLite its connection skips the foreign-key lookup per written row
    /// (a random read each; see [`super::unchecked_connection`]).
    pub async fn begin_bulk_write(&self) -> Result<Tx, sqlx::Error> {
        match self {
            Backend::Sqlite(pool) => {
                let conn = super::unchecked_connection(pool).await?;
                // What `Pool::begin_with` does, on this connection: the transaction owns
                // it, and closes it when done.
                let begin = Some(super::BEGIN_WRITE.into());
                Ok(Backend::Sqlite(Transaction::begin(conn, begin).await?))
            }
            Backend::Postgres(_) => self.begin_write().await,
        }
    }

    /// After a bulk change to `tables`: PostgreSQL's planner goes by statistics that its
    /// autovacuum renews only some time later, and until then it planned pages of a
    /// group that had just grown by 100,000 members as if the group were empty (a page:
    /// 250–380 ms instead of 0.3 ms). SQLite's plans here do not depend on statistics.
    pub async fn refresh_statistics(&self, tables: &[&str]) -> Result<(), sqlx::Error> {
        if let Backend::Postgres(pool) = self {
            let sql = format!("ANALYZE {}", tables.join(", "));
            sqlx::query(&sql).execute(pool).await?;
        }
        Ok(())
    }

    /// [`Db::refresh_statistics`] after the reply: ANALYZE of a table of a million rows
    /// took 0.4 s here, and the user need not wait for it: until it ends, a page of the
    /// grown group is planned on the old statistics (40–56 ms in `psql`, 0.3 ms after).
    pub fn refresh_statistics_soon(&self, tables: &'static [&'static str]) {
        if let Backend::Postgres(_) = self {
            let db = self.clone();
            tokio::spawn(async move {
                if let Err(error) = db.refresh_statistics(tables).await {
                    tracing::warn!(%error, ?tables, "could not renew the planner's statistics");
                }
            });
        }
    }

    /// A connection of the pool, for statements outside a transaction.
    pub async fn acquire(&self) -> Result<PoolConn, sqlx::Error> {
        Ok(match self {
            Backend::Sqlite(pool) => Backend::Sqlite(pool.acquire().await?),
            Backend::Postgres(pool) => Backend::Postgres(pool.acquire().await?),
        })
    }

    /// Closes every connection (tests and shutdown).
    pub async fn close(&self) {
        on!(self, pool => pool.close().await)
    }
}

impl Tx {
    /// The transaction's connection, for the statements run in it.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Backend::Sqlite(tx) => Backend::Sqlite(&mut **tx),
            Backend::Postgres(tx) => Backend::Postgres(&mut **tx),
        }
    }

    /// Commits the transaction.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        on!(self, tx => tx.commit().await)
    }

    /// Makes the transaction the only one writing to `table` until it ends, for checks
    /// that a row does not exist yet before inserting it (e.g. "no workspace yet"). On
    /// SQLite a write transaction already is the only writer.
    pub async fn lock_table(&mut self, table: &str) -> Result<(), sqlx::Error> {
        if let Backend::Postgres(tx) = self {
            let sql = format!("LOCK TABLE {table} IN SHARE ROW EXCLUSIVE MODE");
            sqlx::query(&sql).execute(&mut **tx).await?;
        }
        Ok(())
    }
}

impl PoolConn {
    /// The connection, for the statements run on it.
    pub fn conn(&mut self) -> Conn<'_> {
        match self {
            Backend::Sqlite(conn) => Backend::Sqlite(&mut **conn),
            Backend::Postgres(conn) => Backend::Postgres(&mut **conn),
        }
    }
}

impl Conn<'_> {
    /// A shorter borrow of the same connection, to pass on and use again after.
    pub fn reborrow(&mut self) -> Conn<'_> {
        match self {
            Backend::Sqlite(conn) => Backend::Sqlite(&mut **conn),
            Backend::Postgres(conn) => Backend::Postgres(&mut **conn),
        }
    }
}

/// What the two databases spell differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3.45+ (bundled by sqlx).
    Sqlite,
    /// PostgreSQL 15+.
    Postgres,
}

impl Dialect {
    /// A subquery yielding, as column `value`, the integers of the JSON array bound as
    /// parameter `$n`: one parameter for a list of any length.
    pub fn json_ids(self, n: u8) -> String {
        let (open, close) = self.json_ids_around();
        format!("{open}${n}{close}")
    }

    /// The contacts (aliased `c`) of workspace `$1` whose ids are the JSON array `$n`,
    /// as a FROM clause: one index lookup per id on either database. (PostgreSQL's
    /// planner, with statistics taken before a workspace grew, scanned the whole
    /// workspace for an `IN` list instead; `OFFSET 0` keeps it from merging the lookup
    /// into a join it could plan the same way.)
    pub fn contacts_by_ids(self, n: u8) -> String {
        match self {
            Dialect::Sqlite => format!(
                "contacts c WHERE c.workspace_id = $1 AND c.id IN (SELECT value FROM json_each(${n}))"
            ),
            Dialect::Postgres => format!(
                "jsonb_array_elements_text(${n}::jsonb) AS wanted(value) CROSS JOIN LATERAL \
                 (SELECT * FROM contacts WHERE workspace_id = $1 AND id = wanted.value::BIGINT OFFSET 0) c \
                 WHERE TRUE"
            ),
        }
    }

    /// The memberships (aliased `m`) in workspace `$1` of the contacts whose ids are the
    /// JSON array `$n`, as a FROM item: one index range per contact on either database.
    /// On PostgreSQL, `OFFSET 0` keeps the subquery from being merged into the join:
    /// merged, the planner trusted statistics taken before an import filled a group, and
    /// read all of the group's members (and hashed them) to find one contact's groups,
    /// 300 ms for each save during an import.
    pub fn memberships_of_contacts(self, n: u8) -> String {
        match self {
            Dialect::Sqlite => format!(
                "(SELECT * FROM memberships WHERE workspace_id = $1 \
                 AND contact_id IN (SELECT value FROM json_each(${n}))) m"
            ),
            Dialect::Postgres => format!(
                "jsonb_array_elements_text(${n}::jsonb) AS wanted(value) CROSS JOIN LATERAL \
                 (SELECT * FROM memberships WHERE workspace_id = $1 \
                  AND contact_id = wanted.value::BIGINT OFFSET 0) m"
            ),
        }
    }

    /// [`Dialect::json_ids`] before and after the parameter.
    fn json_ids_around(self) -> (&'static str, &'static str) {
        match self {
            Dialect::Sqlite => ("SELECT value FROM json_each(", ")"),
            Dialect::Postgres => (
                "SELECT value::BIGINT AS value FROM jsonb_array_elements_text(",
                "::jsonb) AS value",
            ),
        }
    }

    /// The database's clock, as Unix seconds, in SQL. Leases and heartbeats are read and
    /// written by several app servers, so they go by the one clock all of them share:
    /// a server whose own clock ran ahead would take over imports still being run, and
    /// one that ran behind would hold on to a lease past its end.
    pub fn clock(self) -> &'static str {
        match self {
            Dialect::Sqlite => "unixepoch()",
            Dialect::Postgres => "CAST(floor(EXTRACT(EPOCH FROM clock_timestamp())) AS BIGINT)",
        }
    }

    /// After a `SELECT … LIMIT n` that picks rows to claim: on PostgreSQL, several
    /// servers sharing the database each skip the rows another is claiming. SQLite has
    /// one writer at a time, so nothing to add.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Dialect::Sqlite => "",
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
        }
    }

    /// Whether the bytes of `column` (a BLOB / BYTEA) contain the UTF-8 text bound as `$n`.
    pub fn bytes_contain(self, column: &str, n: u8) -> String {
        match self {
            Dialect::Sqlite => format!("instr({column}, CAST(${n} AS BLOB)) > 0"),
            Dialect::Postgres => format!("position(convert_to(${n}, 'UTF8') in {column}) > 0"),
        }
    }

    /// An index hint after a table alias: SQLite's planner picks a worse index for some
    /// workspace-wide scans; PostgreSQL has no hints and plans them well.
    pub fn indexed_by(self, index: &str) -> String {
        match self {
            Dialect::Sqlite => format!(" INDEXED BY {index}"),
            Dialect::Postgres => String::new(),
        }
    }
}

/// A value bound to a query that is built piece by piece ([`Builder`]).
#[derive(Debug, Clone)]
pub enum Value {
    /// An integer (ids, counts, limits).
    Int(i64),
    /// Text (names, numbers, search bounds, JSON lists).
    Text(String),
    /// An integer or NULL (an optional reference).
    MaybeInt(Option<i64>),
}

impl From<Option<i64>> for Value {
    fn from(value: Option<i64>) -> Self {
        Value::MaybeInt(value)
    }
}

impl From<&str> for Value {
    fn from(value: &str) -> Self {
        Value::Text(value.to_string())
    }
}

impl From<i64> for Value {
    fn from(value: i64) -> Self {
        Value::Int(value)
    }
}

impl From<String> for Value {
    fn from(value: String) -> Self {
        Value::Text(value)
    }
}

/// A query built piece by piece for either database: sqlx's [`QueryBuilder`] of each,
/// so code that appends conditions is written once.
pub trait Builder {
    /// Which SQL the query is in.
    fn dialect(&self) -> Dialect;
    /// Appends SQL text.
    fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self;
    /// Appends a placeholder and binds `value` to it.
    fn push_bind(&mut self, value: impl Into<Value>) -> &mut Self;

    /// Appends [`Dialect::json_ids`] for the JSON array `json`.
    fn push_json_ids(&mut self, json: String) -> &mut Self {
        let (open, close) = self.dialect().json_ids_around();
        self.push(open).push_bind(json).push(close)
    }
}

macro_rules! builder_for {
    ($db:ty, $dialect:expr) => {
        impl Builder for QueryBuilder<'_, $db> {
            fn dialect(&self) -> Dialect {
                $dialect
            }

            fn push(&mut self, sql: impl std::fmt::Display) -> &mut Self {
                QueryBuilder::push(self, sql)
            }

            fn push_bind(&mut self, value: impl Into<Value>) -> &mut Self {
                match value.into() {
                    Value::Int(v) => QueryBuilder::push_bind(self, v),
                    Value::Text(v) => QueryBuilder::push_bind(self, v),
                    Value::MaybeInt(v) => QueryBuilder::push_bind(self, v),
                }
            }
        }
    };
}
builder_for!(Sqlite, Dialect::Sqlite);
builder_for!(Postgres, Dialect::Postgres);
