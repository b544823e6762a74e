//! One batch of an import on PostgreSQL: its rows are streamed with `COPY … FROM STDIN`
//! into a staging table of the batch's transaction, then merged into contacts,
//! memberships and the import's records by a few set-based statements. The rules are
//! those of [`super::sqlite`] (SQLite): exact counts, repeats found within the file
//! and against the workspace, blacklisting never touched, a resume after a stop starts
//! after the last committed batch.
//!
//! What differs: PostgreSQL has many writers at once, so the contacts a batch creates
//! are not "the ids above the largest before it"; the INSERT returns them, and their
//! runs of ids go to `import_created` as on SQLite. Each batch commits on its own and
//! locks only the rows it writes: nobody's edits of other contacts wait for it.

use super::batch::{EncodedBatch, Layout, Met, earlier, merge_attributes, record_updates, runs};
use crate::db::imports::{Job, Reject};
use crate::error::AppError;
use crate::import::ImportCounts;
use sqlx::PgConnection;
use std::collections::HashMap;

/// The staging table: a row's position in the batch, then the columns a contact row of
/// `layout` carries. Dropped at the commit.
fn staging(layout: &Layout) -> String {
    format!(
        "CREATE TEMP TABLE import_rows (position INT NOT NULL, {}) ON COMMIT DROP",
        layout.definition()
    )
}

/// How the statements below read a staged row's column.
fn staged(name: &str, _: usize) -> String {
    format!("r.{name}")
}

/// Creates the rows whose number is new to the workspace and adds them to the import's
/// group (`$5`, if any). Returns them (created: true, with their id and line), and every
/// other row (created: false) with the contact that has its number as of the
/// statement's start, and what earlier batches made of that contact ([`earlier`]).
///
/// The lookups are subqueries, one index seek per row whatever the statistics say: a
/// table that grew during the import still looks empty to the planner, which then
/// joined it with a plan quadratic in the batch (232 s for a batch of 50,000 rows).
fn merge(layout: &Layout) -> String {
    let (columns, values) = layout.insert(&staged);
    format!(
        "WITH created AS (
            INSERT INTO contacts ({columns})
            SELECT {values} FROM import_rows r ORDER BY r.position
            ON CONFLICT (workspace_id, mobile) WHERE mobile IS NOT NULL DO NOTHING
            RETURNING id, mobile),
        grouped AS (
            INSERT INTO memberships (workspace_id, group_id, contact_id, added_at, import_id)
            SELECT $1, $5, c.id, $2, $4 FROM created c WHERE $5::BIGINT IS NOT NULL)
        SELECT r.position::BIGINT, c.id, r.line, NULL::BYTEA, TRUE
        FROM created c JOIN import_rows r ON r.mobile = c.mobile
        UNION ALL
        SELECT met.position::BIGINT, met.id, {}, FALSE
        FROM (SELECT r.position,
                  (SELECT c.id FROM contacts c
                   WHERE c.workspace_id = $1 AND c.mobile = r.mobile AND c.mobile IS NOT NULL) AS id
              FROM import_rows r LEFT JOIN created n ON n.mobile = r.mobile
              WHERE n.mobile IS NULL
              OFFSET 0) AS met",
        earlier("$1", "$4", "met.id")
    )
}

/// Gives matched contacts the file's values (see [`Layout::update`]), the custom fields
/// as merged (`u.attributes`).
fn update_matched_sql(layout: &Layout) -> String {
    format!(
        "UPDATE contacts c SET {}, updated_at = $2
         FROM unnest($3::BIGINT[], $4::INT[], $5::TEXT[]) AS u(id, position, attributes)
         JOIN import_rows r ON r.position = u.position
         WHERE c.workspace_id = $1 AND c.id = u.id",
        layout.update(&staged, "c", "u.attributes")
    )
}

/// A row [`merge`] returned: position, contact, its line (created) or the matched line,
/// the created line's bytes (see [`earlier`]), created.
type Merged = (i64, Option<i64>, Option<i64>, Option<Vec<u8>>, bool);

/// Notes the contacts the batch created in `import_created`; returns how many.
async fn note_created(
    conn: &mut PgConnection,
    job: &Job,
    created: Vec<Merged>,
) -> Result<usize, AppError> {
    let count = created.len();
    let runs = runs(
        created
            .into_iter()
            .filter_map(|(_, id, line, _, _)| Some((id?, line? as u64)))
            .collect(),
    );
    let (first_ids, lines): (Vec<i64>, Vec<Vec<u8>>) = runs.into_iter().unzip();
    sqlx::query(
        "INSERT INTO import_created (workspace_id, import_id, first_id, lines)
         SELECT $1, $2, u.first_id, u.lines FROM unnest($3::BIGINT[], $4::BYTEA[]) AS u(first_id, lines)",
    )
    .bind(job.workspace_id)
    .bind(job.id)
    .bind(&first_ids)
    .bind(&lines)
    .execute(&mut *conn)
    .await?;
    Ok(count)
}

/// What a row that met a contact nobody could see at the statement's start gets: the
/// number was being saved by someone else at that moment.
const SAVED_MEANWHILE: &str =
    "This number was being saved by someone else at the same moment. Upload this row again.";

/// Writes one batch in the caller's transaction (see the module documentation).
pub async fn write_batch(
    conn: &mut PgConnection,
    job: &Job,
    batch: &EncodedBatch,
) -> Result<ImportCounts, AppError> {
    let now = crate::db::now();
    stage(conn, batch).await?;
    // The group is kept from being deleted until the commit (a deleted group gets none).
    let group_id: Option<i64> = sqlx::query_scalar(
        "SELECT g.id FROM imports i
         JOIN groups g ON g.workspace_id = i.workspace_id AND g.id = i.group_id
         WHERE i.workspace_id = $1 AND i.id = $2 FOR KEY SHARE OF g",
    )
    .bind(job.workspace_id)
    .bind(job.id)
    .fetch_optional(&mut *conn)
    .await?;
    let merged: Vec<Merged> = sqlx::query_as(&merge(&batch.layout))
        .bind(job.workspace_id)
        .bind(now)
        .bind(&job.options.country)
        .bind(job.id)
        .bind(group_id)
        .fetch_all(&mut *conn)
        .await?;
    let (created, others): (Vec<Merged>, Vec<Merged>) = merged.into_iter().partition(|row| row.4);
    let created = note_created(conn, job, created).await?;
    let (met, unseen) = seen_contacts(conn, job, batch, others).await?;
    let (matched, mut rejects) = batch.classify(&met);
    let made = ImportCounts {
        rows_read: batch.rows,
        created: created as i64,
        matched: matched.len() as i64,
        duplicates: batch.duplicates + (met.len() - matched.len()) as i64,
        invalid: batch.invalid + unseen.len() as i64,
    };
    rejects.extend(unseen);
    if !matched.is_empty() {
        let ids: Vec<i64> = matched.iter().map(|(id, _)| *id).collect();
        let lines: Vec<i64> = matched
            .iter()
            .map(|(_, i)| batch.lines[*i] as i64)
            .collect();
        sqlx::query(
            "INSERT INTO import_matched (workspace_id, import_id, contact_id, line)
             SELECT $1, $2, u.id, u.line FROM unnest($3::BIGINT[], $4::BIGINT[]) AS u(id, line)
             ON CONFLICT DO NOTHING",
        )
        .bind(job.workspace_id)
        .bind(job.id)
        .bind(&ids)
        .bind(&lines)
        .execute(&mut *conn)
        .await?;
        if job.options.update_existing {
            update_matched(conn, job, batch, &matched, now).await?;
        }
        if let Some(group_id) = group_id {
            sqlx::query(
                "INSERT INTO memberships (workspace_id, group_id, contact_id, added_at, import_id)
                 SELECT $1, $2, u.id, $3, $4 FROM unnest($5::BIGINT[]) AS u(id)
                 ON CONFLICT DO NOTHING",
            )
            .bind(job.workspace_id)
            .bind(group_id)
            .bind(now)
            .bind(job.id)
            .bind(&ids)
            .execute(&mut *conn)
            .await?;
        }
    }
    if !rejects.is_empty() {
        insert_rejects(conn, job, &rejects).await?;
    }
    batch
        .record_counts(crate::db::Backend::Postgres(conn), job, made, &rejects)
        .await
}

/// Streams the batch's contact rows into the staging table.
async fn stage(conn: &mut PgConnection, batch: &EncodedBatch) -> Result<(), AppError> {
    sqlx::query(&staging(&batch.layout))
        .execute(&mut *conn)
        .await?;
    let columns: Vec<&str> = batch.layout.columns().map(|(name, _)| name).collect();
    let statement = format!(
        "COPY import_rows (position, {}) FROM STDIN \
         (FORMAT csv, FORCE_NOT_NULL (first_name, last_name, sort_name))",
        columns.join(", ")
    );
    let mut copy = conn.copy_in_raw(&statement).await?;
    copy.send(batch.contacts.as_bytes()).await?;
    copy.finish().await?;
    // A new table has no statistics: without them the planner guesses a few rows and
    // may pick plans that take minutes at 50,000.
    sqlx::query("ANALYZE import_rows")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The rows [`merge`] returned as [`Met`] rows; rows whose contact it could not see
/// (saved by someone else while it ran) are looked up again, and refused if even then
/// there is none.
async fn seen_contacts(
    conn: &mut PgConnection,
    job: &Job,
    batch: &EncodedBatch,
    others: Vec<Merged>,
) -> Result<(Vec<Met>, Vec<Reject>), AppError> {
    let mut met = Vec::with_capacity(others.len());
    let mut unseen = Vec::new();
    for (position, contact_id, matched_line, created_line, _) in others {
        match contact_id {
            Some(contact_id) => met.push(Met::from((
                position,
                contact_id,
                matched_line,
                created_line,
            ))),
            None => unseen.push(position as i32),
        }
    }
    if unseen.is_empty() {
        return Ok((met, Vec::new()));
    }
    let found: HashMap<i32, i64> = sqlx::query_as(
        "SELECT r.position, c.id FROM import_rows r
         JOIN contacts c ON c.workspace_id = $1 AND c.mobile = r.mobile AND c.mobile IS NOT NULL
         WHERE r.position = ANY($2)",
    )
    .bind(job.workspace_id)
    .bind(&unseen)
    .fetch_all(&mut *conn)
    .await?
    .into_iter()
    .collect();
    let mut refused = Vec::new();
    for position in unseen {
        match found.get(&position) {
            Some(&contact_id) => met.push(Met {
                index: position as usize,
                contact_id,
                earlier_line: None,
            }),
            None => refused.push(batch.reject_of(position as usize, SAVED_MEANWHILE)),
        }
    }
    Ok((met, refused))
}

/// [`update_matched_sql`] for the batch's matched contacts, custom fields merged by key.
async fn update_matched(
    conn: &mut PgConnection,
    job: &Job,
    batch: &EncodedBatch,
    matched: &[(i64, usize)],
    now: i64,
) -> Result<(), AppError> {
    let ids: Vec<i64> = matched.iter().map(|(id, _)| *id).collect();
    crate::db::contacts::lock(
        crate::db::Backend::Postgres(&mut *conn),
        job.workspace_id,
        &ids,
    )
    .await?;
    let before = crate::db::contacts::get_many(
        crate::db::Backend::Postgres(&mut *conn),
        job.workspace_id,
        &ids,
    )
    .await?;
    let positions: Vec<i32> = matched.iter().map(|(_, i)| *i as i32).collect();
    let attributes: Vec<Option<String>> = match batch.layout.attributes_at() {
        None => vec![None; ids.len()],
        Some(_) => {
            let both: HashMap<i64, (String, String)> = sqlx::query_as::<_, (i64, String, String)>(
                "SELECT c.id, c.attributes, coalesce(r.attributes, '[]')
                 FROM unnest($2::BIGINT[], $3::INT[]) AS u(id, position)
                 JOIN contacts c ON c.workspace_id = $1 AND c.id = u.id
                 JOIN import_rows r ON r.position = u.position",
            )
            .bind(job.workspace_id)
            .bind(&ids)
            .bind(&positions)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|(id, current, incoming)| (id, (current, incoming)))
            .collect();
            ids.iter()
                .map(|id| {
                    both.get(id)
                        .map(|(current, incoming)| merge_attributes(current, incoming))
                })
                .collect()
        }
    };
    sqlx::query(&update_matched_sql(&batch.layout))
        .bind(job.workspace_id)
        .bind(now)
        .bind(&ids)
        .bind(&positions)
        .bind(&attributes)
        .execute(&mut *conn)
        .await?;
    record_updates(crate::db::Backend::Postgres(conn), job, before).await
}

/// Stores the batch's refused and duplicate rows for the report.
async fn insert_rejects(
    conn: &mut PgConnection,
    job: &Job,
    rejects: &[Reject],
) -> Result<(), AppError> {
    let lines: Vec<i64> = rejects.iter().map(|r| r.line as i64).collect();
    let reasons: Vec<&str> = rejects.iter().map(|r| r.reason.as_str()).collect();
    let raws: Vec<&str> = rejects.iter().map(|r| r.raw.as_str()).collect();
    sqlx::query(
        "INSERT INTO import_rejects (workspace_id, import_id, line, reason, raw)
         SELECT $1, $2, u.line, u.reason, u.raw
         FROM unnest($3::BIGINT[], $4::TEXT[], $5::TEXT[]) AS u(line, reason, raw)
         ON CONFLICT DO NOTHING",
    )
    .bind(job.workspace_id)
    .bind(job.id)
    .bind(&lines)
    .bind(&reasons)
    .bind(&raws)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
