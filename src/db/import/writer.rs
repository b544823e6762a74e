//! The importer's writes. On SQLite: batches in large transactions on a connection of
//! their own, with checkpoints beside them. On PostgreSQL: each batch in a transaction
//! of its own, through COPY ([`super::postgres`]).

use super::batch::EncodedBatch;
use crate::db::Backend;
use crate::db::imports::Job;
use crate::error::AppError;
use crate::import::ImportCounts;
use sqlx::pool::PoolConnection;
use sqlx::{Postgres, Sqlite, SqlitePool};
use std::time::Duration;
use tokio::sync::mpsc;

/// The pause between an import's transactions on SQLite (see [`ImportWriter::write`]),
/// and between an undo's.
pub(super) const LET_OTHERS_WRITE: Duration = Duration::from_millis(150);

/// Starts a task that copies committed pages from the write-ahead log into the database
/// file whenever it is sent a wake-up, on a connection of the pool; it ends when the
/// sender is dropped. SQLite would otherwise do this inside the writer's COMMIT, waiting
/// on the disk while nothing else is written; here it overlaps the writer's next
/// transaction.
pub(super) fn checkpointer(pool: SqlitePool) -> mpsc::Sender<()> {
    let (wake, mut woken) = mpsc::channel(1);
    tokio::spawn(async move {
        while woken.recv().await.is_some() {
            if let Err(e) = crate::db::checkpoint(&pool).await {
                tracing::warn!(error = %e, "checkpoint during an import");
            }
        }
    });
    wake
}

/// Stops `conn`'s commits from copying the write-ahead log into the file themselves:
/// a [`checkpointer`], woken after each commit, does it beside the next transaction.
pub(super) async fn leave_checkpoints(
    conn: &mut sqlx::SqliteConnection,
) -> Result<(), sqlx::Error> {
    sqlx::query("PRAGMA wal_autocheckpoint = 0")
        .execute(conn)
        .await?;
    Ok(())
}

/// Writes an import's batches, on a connection of its own.
pub enum ImportWriter {
    /// See [`SqliteWriter`].
    Sqlite(SqliteWriter),
    /// Each batch commits on its own: PostgreSQL locks rows, not the database, so a
    /// larger transaction would gain little and hold its rows' locks longer.
    Postgres(PoolConnection<Postgres>),
}

impl ImportWriter {
    /// A writer on a connection of its own; on SQLite it commits every
    /// `transaction_rows` rows.
    pub async fn new(db: &crate::db::Db, transaction_rows: i64) -> Result<Self, AppError> {
        Ok(match db {
            Backend::Sqlite(pool) => {
                ImportWriter::Sqlite(SqliteWriter::new(pool, transaction_rows).await?)
            }
            Backend::Postgres(pool) => ImportWriter::Postgres(pool.acquire().await?),
        })
    }

    /// Writes a batch; returns the import's counts after it.
    pub async fn write(
        &mut self,
        job: &Job,
        batch: &EncodedBatch,
    ) -> Result<ImportCounts, AppError> {
        match self {
            ImportWriter::Sqlite(writer) => writer.write(job, batch).await,
            ImportWriter::Postgres(conn) => {
                let mut tx = sqlx::Connection::begin(&mut **conn).await?;
                let counts = super::postgres::write_batch(&mut tx, job, batch).await?;
                tx.commit().await?;
                Ok(counts)
            }
        }
    }

    /// Whether an upload of another workspace is waiting (see
    /// [`crate::db::imports::others_waiting`]). Asked on the writer's own connection: on
    /// SQLite the writer may hold the write lock, and a connection from the pool could be
    /// long in coming while people's saves hold them all, waiting for that lock.
    pub async fn others_waiting(&mut self, workspace_id: i64) -> Result<bool, AppError> {
        let conn = match self {
            ImportWriter::Sqlite(writer) => Backend::Sqlite(&mut *writer.conn),
            ImportWriter::Postgres(conn) => Backend::Postgres(&mut **conn),
        };
        crate::db::imports::others_waiting(conn, workspace_id).await
    }

    /// Commits what is open.
    pub async fn commit(&mut self) -> Result<(), AppError> {
        match self {
            ImportWriter::Sqlite(writer) => writer.commit().await,
            ImportWriter::Postgres(_) => Ok(()),
        }
    }

    /// Undoes what is open.
    pub async fn rollback(&mut self) {
        if let ImportWriter::Sqlite(writer) = self {
            writer.rollback().await
        }
    }
}

/// Writes an import's batches in transactions of about `transaction_rows` rows, on a
/// connection of its own without foreign-key lookups ([`crate::db::unchecked_connection`]):
/// every row it writes refers to the import's workspace and group, read in the same transaction (an
/// import deleted with its workspace fails the transaction), or to contacts it just
/// wrote or matched. Its commits leave checkpoints to the checkpointer. Dropping it
/// closes the connection, which undoes an open transaction.
pub struct SqliteWriter {
    conn: PoolConnection<Sqlite>,
    checkpointer: mpsc::Sender<()>,
    open: bool,
    rows: i64,
    /// Rows per transaction: a commit after a batch that reaches it.
    transaction_rows: i64,
}

impl SqliteWriter {
    /// A writer on a connection of its own, committing every `transaction_rows` rows.
    async fn new(pool: &SqlitePool, transaction_rows: i64) -> Result<Self, AppError> {
        let mut conn = crate::db::unchecked_connection(pool).await?;
        leave_checkpoints(&mut conn).await?;
        Ok(SqliteWriter {
            conn,
            checkpointer: checkpointer(pool.clone()),
            open: false,
            rows: 0,
            transaction_rows,
        })
    }

    /// Writes a batch, in the open transaction or a new one.
    async fn write(&mut self, job: &Job, batch: &EncodedBatch) -> Result<ImportCounts, AppError> {
        if !self.open {
            sqlx::query(crate::db::BEGIN_WRITE)
                .execute(&mut *self.conn)
                .await?;
            self.open = true;
        }
        let counts = super::sqlite::write_batch(&mut self.conn, job, batch).await?;
        self.rows += batch.rows();
        if self.rows >= self.transaction_rows {
            self.commit().await?;
            // SQLite keeps no queue for its write lock: other writers poll for it (every
            // 100 ms once they have waited a while), and an import that began its next
            // transaction at once kept people's saves out past their busy timeout. A
            // pause longer than one poll lets the saves waiting in between.
            tokio::time::sleep(LET_OTHERS_WRITE).await;
        }
        Ok(counts)
    }

    /// Commits what is open.
    async fn commit(&mut self) -> Result<(), AppError> {
        self.rows = 0;
        if self.open {
            sqlx::query("COMMIT").execute(&mut *self.conn).await?;
            self.open = false;
            // Full: a checkpoint is already due, and it will copy these pages too.
            let _ = self.checkpointer.try_send(());
        }
        Ok(())
    }

    /// Undoes what is open (closing the connection undoes it if this fails).
    async fn rollback(&mut self) {
        if self.open
            && let Err(e) = sqlx::query("ROLLBACK").execute(&mut *self.conn).await
        {
            tracing::warn!(error = %e, "undoing an import transaction");
        }
        self.open = false;
    }
}
