//! One batch of an import on PostgreSQL: its rows are streamed with `COPY … FROM STDIN`
//! into a staging table of the batch's transaction, then merged into contacts,
//! memberships and the import's records by a few set-based statements. The rules are
//! those of [`super::import_batch`] (SQLite): exact counts, repeats found within the file
//! and against the workspace, blacklisting never touched, a resume after a stop starts
//! after the last committed batch.
//!
//! What differs: PostgreSQL has many writers at once, so the contacts a batch creates
//! are not "the ids above the largest before it"; the INSERT returns them. Every contact
//! the import meets, created or matched, is noted in `import_matched` with its line, so a
//! later row with its number is a duplicate of that line. Each batch commits on its own
//! and locks only the rows it writes: nobody's edits of other contacts wait for it.

use super::import_batch::{EncodedBatch, Met, merge_attributes, optional, record_updates};
use super::imports::{Job, Reject};
use crate::error::AppError;
use crate::import::ImportCounts;
use sqlx::PgConnection;
use std::collections::HashMap;

/// The staging table: a row's position in the batch, then the columns of a contact row
/// in their order (see [`super::import_batch::Layout`]). Dropped at the commit.
pub(super) const STAGING: &str = "CREATE TEMP TABLE import_rows (
    position INT NOT NULL, mobile TEXT NOT NULL, line BIGINT NOT NULL, mobile_national TEXT,
    first_name TEXT NOT NULL, last_name TEXT NOT NULL, sort_name TEXT NOT NULL,
    country TEXT, email TEXT, external_id TEXT, whatsapp TEXT, viber TEXT, line_id TEXT,
    wechat_id TEXT, messenger_id TEXT, attributes TEXT) ON COMMIT DROP";

/// The columns every contact row carries, in its order.
const FIXED: [&str; 6] = [
    "mobile",
    "line",
    "mobile_national",
    "first_name",
    "last_name",
    "sort_name",
];

/// Creates the rows whose number is new to the workspace (the country is the import's
/// unless the row names another, WhatsApp the mobile number unless the row has another,
/// as the form does), notes them with their lines and adds them to the import's group
/// (`$5`, if any). Returns every other row with the contact that has its number (as of
/// the statement's start) and the line that met that contact earlier in the import.
///
/// The lookups are subqueries, one index seek per row whatever the statistics say: a
/// table that grew during the import still looks empty to the planner, which then
/// joined it with a plan quadratic in the batch (232 s for a batch of 50,000 rows).
const MERGE: &str = "WITH created AS (
        INSERT INTO contacts (workspace_id, created_at, updated_at, mobile, mobile_national,
            first_name, last_name, sort_name, country, email, external_id, whatsapp, viber,
            line_id, wechat_id, messenger_id, attributes)
        SELECT $1, $2, $2, r.mobile, r.mobile_national, r.first_name, r.last_name,
            r.sort_name, coalesce(r.country, $3), r.email, r.external_id,
            coalesce(r.whatsapp, r.mobile), r.viber, r.line_id, r.wechat_id, r.messenger_id,
            coalesce(r.attributes, '[]')
        FROM import_rows r ORDER BY r.position
        ON CONFLICT (workspace_id, mobile) WHERE mobile IS NOT NULL DO NOTHING
        RETURNING id, mobile),
    noted AS (
        INSERT INTO import_matched (workspace_id, import_id, contact_id, line, created)
        SELECT $1, $4, c.id, r.line, TRUE FROM created c JOIN import_rows r ON r.mobile = c.mobile),
    grouped AS (
        INSERT INTO memberships (workspace_id, group_id, contact_id, added_at, import_id)
        SELECT $1, $5, c.id, $2, $4 FROM created c WHERE $5::BIGINT IS NOT NULL)
    SELECT met.position, met.id,
        (SELECT m.line FROM import_matched m
         WHERE m.workspace_id = $1 AND m.import_id = $4 AND m.contact_id = met.id)
    FROM (SELECT r.position,
              (SELECT c.id FROM contacts c
               WHERE c.workspace_id = $1 AND c.mobile = r.mobile AND c.mobile IS NOT NULL) AS id
          FROM import_rows r LEFT JOIN created n ON n.mobile = r.mobile
          WHERE n.mobile IS NULL
          OFFSET 0) AS met";

/// Gives matched contacts the file's values: names when the row has one, every other
/// field that has a value, custom fields as merged (`u.attributes`, null when the file
/// has none).
const UPDATE_MATCHED: &str = "UPDATE contacts c SET
        first_name = CASE WHEN r.first_name <> '' OR r.last_name <> '' THEN r.first_name
                          ELSE c.first_name END,
        last_name = CASE WHEN r.first_name <> '' OR r.last_name <> '' THEN r.last_name
                         ELSE c.last_name END,
        sort_name = CASE WHEN r.first_name <> '' OR r.last_name <> '' THEN r.sort_name
                         ELSE c.sort_name END,
        country = coalesce(nullif(r.country, ''), c.country),
        email = coalesce(nullif(r.email, ''), c.email),
        external_id = coalesce(nullif(r.external_id, ''), c.external_id),
        whatsapp = coalesce(nullif(r.whatsapp, ''), c.whatsapp),
        viber = coalesce(nullif(r.viber, ''), c.viber),
        line_id = coalesce(nullif(r.line_id, ''), c.line_id),
        wechat_id = coalesce(nullif(r.wechat_id, ''), c.wechat_id),
        messenger_id = coalesce(nullif(r.messenger_id, ''), c.messenger_id),
        attributes = coalesce(u.attributes, c.attributes),
        updated_at = $2
    FROM unnest($3::BIGINT[], $4::INT[], $5::TEXT[]) AS u(id, position, attributes)
    JOIN import_rows r ON r.position = u.position
    WHERE c.workspace_id = $1 AND c.id = u.id";

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
    let now = super::now();
    let count = batch.lines.len();
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
    let others: Vec<(i32, Option<i64>, Option<i64>)> = sqlx::query_as(MERGE)
        .bind(job.workspace_id)
        .bind(now)
        .bind(&job.options.country)
        .bind(job.id)
        .bind(group_id)
        .fetch_all(&mut *conn)
        .await?;
    let created = count - others.len();
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
        .record_counts(super::Backend::Postgres(conn), job, made, &rejects)
        .await
}

/// Streams the batch's contact rows into the staging table.
async fn stage(conn: &mut PgConnection, batch: &EncodedBatch) -> Result<(), AppError> {
    sqlx::query(STAGING).execute(&mut *conn).await?;
    let carried: Vec<&str> = batch.layout.carried().map(|(name, _)| name).collect();
    debug_assert!(carried.iter().all(|name| optional().any(|o| o == *name)));
    let columns = FIXED.iter().chain(&carried).copied().collect::<Vec<_>>();
    let mut csv = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::with_capacity(batch.contacts.len() * 2));
    let encode =
        |e: &dyn std::fmt::Display| AppError::internal("staging an import batch", e.to_string());
    for index in 0..batch.lines.len() {
        let row: Vec<serde_json::Value> =
            serde_json::from_str(batch.contact_row(index)).map_err(|e| encode(&e))?;
        csv.write_field(index.to_string()).map_err(|e| encode(&e))?;
        for value in &row {
            // An unquoted empty field is NULL to COPY; the names are NOT NULL (below).
            let written = match value {
                serde_json::Value::Null => csv.write_field(""),
                serde_json::Value::String(text) => csv.write_field(text),
                other => csv.write_field(other.to_string()),
            };
            written.map_err(|e| encode(&e))?;
        }
        csv.write_record(None::<&[u8]>).map_err(|e| encode(&e))?;
    }
    let data = csv.into_inner().map_err(|e| encode(&e))?;
    let statement = format!(
        "COPY import_rows (position, {}) FROM STDIN \
         (FORMAT csv, FORCE_NOT_NULL (first_name, last_name, sort_name))",
        columns.join(", ")
    );
    let mut copy = conn.copy_in_raw(&statement).await?;
    copy.send(data).await?;
    copy.finish().await?;
    // A new table has no statistics: without them the planner guesses a few rows and
    // may pick plans that take minutes at 50,000.
    sqlx::query("ANALYZE import_rows")
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// The rows [`MERGE`] returned as [`Met`] rows; rows whose contact it could not see
/// (saved by someone else while it ran) are looked up again, and refused if even then
/// there is none.
async fn seen_contacts(
    conn: &mut PgConnection,
    job: &Job,
    batch: &EncodedBatch,
    others: Vec<(i32, Option<i64>, Option<i64>)>,
) -> Result<(Vec<Met>, Vec<Reject>), AppError> {
    let mut met = Vec::with_capacity(others.len());
    let mut unseen = Vec::new();
    for (position, contact_id, line) in others {
        match contact_id {
            Some(contact_id) => met.push(Met {
                index: position as usize,
                contact_id,
                earlier_line: line.map(|l| l as u64),
            }),
            None => unseen.push(position),
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

/// [`UPDATE_MATCHED`] for the batch's matched contacts, custom fields merged by key.
async fn update_matched(
    conn: &mut PgConnection,
    job: &Job,
    batch: &EncodedBatch,
    matched: &[(i64, usize)],
    now: i64,
) -> Result<(), AppError> {
    let ids: Vec<i64> = matched.iter().map(|(id, _)| *id).collect();
    super::contacts::lock(super::Backend::Postgres(&mut *conn), job.workspace_id, &ids).await?;
    let before =
        super::contacts::get_many(super::Backend::Postgres(&mut *conn), job.workspace_id, &ids)
            .await?;
    let positions: Vec<i32> = matched.iter().map(|(_, i)| *i as i32).collect();
    let attributes_at = batch
        .layout
        .carried()
        .find(|(name, _)| *name == "attributes")
        .map(|(_, position)| position);
    let attributes: Vec<Option<String>> = match attributes_at {
        None => vec![None; ids.len()],
        Some(position) => {
            let current: HashMap<i64, String> = sqlx::query_as(
                "SELECT id, attributes FROM contacts WHERE workspace_id = $1 AND id = ANY($2)",
            )
            .bind(job.workspace_id)
            .bind(&ids)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .collect();
            matched
                .iter()
                .map(|(id, index)| {
                    let row: serde_json::Value = serde_json::from_str(batch.contact_row(*index))
                        .map_err(|e| AppError::internal("reading an import batch", e))?;
                    let incoming = row[position].as_str().unwrap_or("[]");
                    let current = current.get(id).map_or("[]", String::as_str);
                    Ok(Some(merge_attributes(current, incoming)))
                })
                .collect::<Result<_, AppError>>()?
        }
    };
    sqlx::query(UPDATE_MATCHED)
        .bind(job.workspace_id)
        .bind(now)
        .bind(&ids)
        .bind(&positions)
        .bind(&attributes)
        .execute(&mut *conn)
        .await?;
    record_updates(super::Backend::Postgres(conn), job, before).await
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
