//! PostgreSQL's own floor for an import: the rows an import wrote (its new contacts and
//! its group's memberships, as the import left them) loaded again with `COPY` into a
//! copy of the database the import started from, in one session and one transaction.
//! No app can write them faster; the import's time is set against it.

use futures::StreamExt;
use sqlx::postgres::PgPoolCopyExt;
use sqlx::{Connection, PgConnection, PgPool};
use std::time::Instant;

/// What an import wrote, as `COPY` text.
pub struct Written {
    /// The group's row.
    group: Vec<u8>,
    /// The contacts it created.
    contacts: Vec<u8>,
    /// Every membership of its group (created and matched contacts).
    memberships: Vec<u8>,
}

/// Reads what import `id` wrote: the contacts of its group with ids past
/// `existing_max` (those it created), and the group's memberships.
pub async fn written(pool: &PgPool, id: i64, existing_max: i64) -> Written {
    let (workspace, group): (i64, i64) =
        sqlx::query_as("SELECT workspace_id, group_id FROM imports WHERE id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .expect("the import's group");
    let where_group = format!("workspace_id = {workspace} AND group_id = {group}");
    Written {
        group: copy_out(
            pool,
            &format!("SELECT * FROM groups WHERE workspace_id = {workspace} AND id = {group}"),
        )
        .await,
        contacts: copy_out(
            pool,
            &format!(
                "SELECT c.* FROM contacts c WHERE c.workspace_id = {workspace} AND c.id > {existing_max}
                 AND EXISTS (SELECT 1 FROM memberships m WHERE m.{where_group} AND m.contact_id = c.id)"
            ),
        )
        .await,
        memberships: copy_out(pool, &format!("SELECT * FROM memberships WHERE {where_group}"))
            .await,
    }
}

/// Makes the cluster at `server` as quiet for the floor as it was for the import: the
/// import's database `done` dropped (no autovacuum of its undo running beside), and
/// everything written so far flushed (as `CREATE DATABASE` did before the import).
pub async fn quiet(server: &str, done: &str) {
    let mut admin = PgConnection::connect(server).await.expect("connect");
    let drop = format!("DROP DATABASE {done} WITH (FORCE)");
    sqlx::query(&drop).execute(&mut admin).await.expect("drop");
    sqlx::query("CHECKPOINT")
        .execute(&mut admin)
        .await
        .expect("checkpoint");
    admin.close().await.expect("close");
}

/// Loads `written` into the database at `url` (a copy of the one the import started
/// from) in one transaction; returns the seconds it took, the commit included.
pub async fn load(url: &str, written: &Written) -> f64 {
    let mut conn = PgConnection::connect(url).await.expect("connect");
    let started = Instant::now();
    let mut tx = conn.begin().await.expect("begin");
    for (table, data) in [
        ("groups", &written.group),
        ("contacts", &written.contacts),
        ("memberships", &written.memberships),
    ] {
        let mut copy = tx
            .copy_in_raw(&format!("COPY {table} FROM STDIN"))
            .await
            .expect("copy in");
        copy.send(data.as_slice()).await.expect("send");
        copy.finish().await.expect("copy");
    }
    tx.commit().await.expect("commit");
    let seconds = started.elapsed().as_secs_f64();
    conn.close().await.expect("close");
    seconds
}

/// The rows of `select` in `COPY`'s text format.
async fn copy_out(pool: &PgPool, select: &str) -> Vec<u8> {
    let mut rows = pool
        .copy_out_raw(&format!("COPY ({select}) TO STDOUT"))
        .await
        .expect("copy out");
    let mut out = Vec::new();
    while let Some(chunk) = rows.next().await {
        out.extend_from_slice(&chunk.expect("copy out"));
    }
    out
}
