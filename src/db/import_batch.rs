//! One batch of an import, written in the importer's transaction: new contacts, existing
//! contacts matched (and updated, if the import says so), duplicates of earlier rows,
//! group memberships, rejected rows and the counts, together or not at all.
//!
//! **Duplicates without a set in memory.** A number may repeat anywhere in a file of any
//! size. Within a batch the parser finds repeats itself; across batches the database is
//! the record of what the import has met: the contacts it created (`import_created`, a
//! run of ids per batch with each one's line) and the existing contacts it matched
//! (`import_matched`). For example, with batches of two rows:
//!
//! | batch | line | number | its contact | counted as |
//! | --- | --- | --- | --- | --- |
//! | 1 | 2 | +6581 | new, id 101 | created; `import_created` (101: line 2) |
//! | 1 | 3 | +6599 | id 7, older than the import | matched; `import_matched` (7: line 3) |
//! | 2 | 4 | +6581 | id 101, in a run of this import | duplicate of line 2 |
//! | 2 | 5 | +6599 | id 7, in `import_matched` | duplicate of line 3 |
//!
//! A batch whose numbers are all new (the usual case) needs no lookup at all: every
//! contact it inserted is new, and their ids follow the largest id before it.

use crate::error::AppError;
use crate::import::ImportCounts;
use crate::import::columns::Columns;
use crate::import::pipeline::Row;
use crate::import::rule::{FirstLines, number_key};
use crate::model::channel::Channel;
use crate::model::contact::MAX_ATTRIBUTES;
use crate::model::field::ContactField;
use crate::normalize::ContactRecord;
use sqlx::SqliteConnection;
use std::collections::HashMap;

use super::contacts::StoredContact;
use super::history::{self, Author, Entry};
use super::imports::{Job, Reject};
use crate::model::history::{Detail, HistoryKind};

/// Which optional columns an import's contact rows carry (those the file maps), beyond
/// the number, the line, the names and the sort name that every row has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    columns: [bool; OPTIONAL_COUNT],
}

/// The fields every row carries, whether the file maps them or not.
const FIXED_FIELDS: [ContactField; 3] = [
    ContactField::Mobile,
    ContactField::FirstName,
    ContactField::LastName,
];

/// How many optional columns there are: every other field, and the custom fields.
const OPTIONAL_COUNT: usize = ContactField::COUNT - FIXED_FIELDS.len() + 1;

/// The optional columns, in the order a row carries them (see [`Layout`]): every field
/// but [`FIXED_FIELDS`] by its column name, then `attributes`.
pub(super) fn optional() -> impl Iterator<Item = &'static str> {
    optional_fields()
        .map(ContactField::key)
        .chain(["attributes"])
}

fn optional_fields() -> impl Iterator<Item = ContactField> {
    ContactField::ALL
        .into_iter()
        .filter(|f| !FIXED_FIELDS.contains(f))
}

/// Columns every row carries first: `[mobile, line, national, first, last, sort]`.
const FIXED: usize = 6;

impl Layout {
    /// The columns a file with this mapping fills.
    pub fn of(columns: &Columns) -> Layout {
        let mut carried = [false; OPTIONAL_COUNT];
        for (slot, field) in carried.iter_mut().zip(optional_fields()) {
            *slot = columns.get(field).is_some();
        }
        carried[OPTIONAL_COUNT - 1] = !columns.custom.is_empty();
        Layout { columns: carried }
    }

    /// The carried optional columns with their position in a row.
    pub(super) fn carried(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        optional()
            .zip(self.columns)
            .filter(|(_, carried)| *carried)
            .enumerate()
            .map(|(i, (name, _))| (name, FIXED + i))
    }

    /// The values of a record's optional columns, in row order. A country that is the
    /// import's own and a WhatsApp number that is the mobile number are left empty: they
    /// are what an empty cell gives, and must not replace an existing contact's values.
    fn values<'a>(&self, r: &'a ContactRecord, country: &str) -> Vec<Option<&'a str>> {
        let mobile = r.get(ContactField::Mobile);
        let fields = optional_fields().map(|field| {
            let value = r.get(field);
            match field {
                ContactField::Country => value.filter(|c| *c != country),
                ContactField::WhatsApp => value.filter(|w| Some(*w) != mobile),
                _ => value,
            }
        });
        fields
            .chain([Some(r.attributes.as_str())])
            .zip(self.columns)
            .filter(|(_, carried)| *carried)
            .map(|(value, _)| value)
            .collect()
    }
}

/// A contact row of a batch: where its JSON and raw text are, its line and number.
#[derive(Clone, Copy, Debug)]
struct Span {
    order: u64,
    json: (u32, u32),
    raw: (u32, u32),
    line: u64,
}

/// The rows of one batch, as the parser classifies them.
///
/// Contact rows are kept as their JSON (a few dozen bytes each) and their raw text, so
/// a batch waits in a few MB; the parser ends a batch at [`Batch::bytes`] as well as at
/// a number of rows, so wide rows cannot make it large.
#[derive(Clone, Debug)]
pub struct Batch {
    layout: Layout,
    /// The import's default country.
    country: String,
    json: Vec<u8>,
    raws: String,
    spans: Vec<Span>,
    /// The first line of each number in this batch (earlier batches: see the module doc).
    first_lines: FirstLines,
    rejects: Vec<Reject>,
    rejected_bytes: usize,
    duplicates: i64,
    invalid: i64,
    /// The addresses its rows say are opted out, by channel, with the row's line.
    opted_out: Vec<(u64, Channel, String)>,
    /// Bytes of the file read once this batch was parsed.
    pub bytes_done: i64,
}

impl Batch {
    /// An empty batch of an import whose rows carry `layout`, with `country` as the
    /// default country.
    pub fn new(layout: Layout, country: &str) -> Self {
        Batch {
            layout,
            country: country.to_string(),
            json: Vec::new(),
            raws: String::new(),
            spans: Vec::new(),
            first_lines: FirstLines::default(),
            rejects: Vec::new(),
            rejected_bytes: 0,
            duplicates: 0,
            invalid: 0,
            opted_out: Vec::new(),
            bytes_done: 0,
        }
    }

    /// Data rows in the batch.
    pub fn rows(&self) -> i64 {
        self.spans.len() as i64 + self.duplicates + self.invalid
    }

    /// About how much memory the batch holds.
    pub fn bytes(&self) -> usize {
        self.json.len() + self.raws.len() + self.rejected_bytes + self.spans.len() * 48
    }

    fn reject(&mut self, line: u64, reason: String, raw: String) {
        self.rejected_bytes += reason.len() + raw.len() + 32;
        self.rejects.push(Reject { line, reason, raw });
    }

    /// Adds a row: refused, a repeat of a number earlier in the batch, or a contact.
    pub fn push(&mut self, row: Row) -> Result<(), AppError> {
        let (record, opted_out) = match row.outcome {
            Ok(made) => made,
            Err(reason) => {
                self.invalid += 1;
                self.reject(row.line, reason, row.raw);
                return Ok(());
            }
        };
        let mobile = record.get(ContactField::Mobile).unwrap_or_default();
        if let Some(first) = self.first_lines.seen(mobile, row.line) {
            self.duplicates += 1;
            self.reject(row.line, FirstLines::reason(first), row.raw);
            return Ok(());
        }
        let order = number_key(mobile);
        let json_start = self.json.len() as u32;
        let mut values: Vec<Option<&str>> = vec![
            Some(mobile),
            None, // the line, written as a number below
            record.mobile_national.as_deref(),
            record.column(ContactField::FirstName),
            record.column(ContactField::LastName),
        ];
        let sort_name = record.sort_name();
        values.push(Some(&sort_name));
        values.extend(self.layout.values(&record, &self.country));
        let mut row_json = serde_json::to_value(&values)
            .map_err(|e| AppError::internal("encoding an import batch", e))?;
        row_json[1] = row.line.into();
        serde_json::to_writer(&mut self.json, &row_json)
            .map_err(|e| AppError::internal("encoding an import batch", e))?;
        for channel in opted_out {
            if let Some(address) = record.get(channel.field()) {
                self.opted_out
                    .push((row.line, channel, address.to_string()));
            }
        }
        let raw_start = self.raws.len() as u32;
        self.raws.push_str(&row.raw);
        self.spans.push(Span {
            order,
            json: (json_start, self.json.len() as u32),
            raw: (raw_start, self.raws.len() as u32),
            line: row.line,
        });
        Ok(())
    }

    /// The batch as the database takes it: contacts in number order, so each batch's
    /// entries land in the number and search indexes from one end to the other rather
    /// than all over them (about twice as fast on 1M rows).
    pub fn encode(mut self) -> Result<EncodedBatch, AppError> {
        let rows = self.rows();
        self.spans.sort_unstable_by_key(|s| s.order);
        let mut contacts = Vec::with_capacity(self.json.len() + self.spans.len() + 2);
        contacts.push(b'[');
        let mut raws = String::with_capacity(self.raws.len());
        let mut raws_at = Vec::with_capacity(self.spans.len());
        let mut lines = Vec::with_capacity(self.spans.len());
        let mut rows_at = Vec::with_capacity(self.spans.len());
        for (i, span) in self.spans.iter().enumerate() {
            if i > 0 {
                contacts.push(b',');
            }
            let start = contacts.len();
            contacts.extend_from_slice(&self.json[span.json.0 as usize..span.json.1 as usize]);
            rows_at.push((start, contacts.len()));
            let raw_start = raws.len();
            raws.push_str(&self.raws[span.raw.0 as usize..span.raw.1 as usize]);
            raws_at.push((raw_start, raws.len()));
            lines.push(span.line);
        }
        contacts.push(b']');
        Ok(EncodedBatch {
            layout: self.layout,
            // serde_json writes UTF-8, and whole rows were joined.
            contacts: String::from_utf8(contacts)
                .map_err(|e| AppError::internal("encoding an import batch", e))?,
            rows_at,
            lines,
            raws,
            raws_at,
            rejects: self.rejects,
            rows,
            duplicates: self.duplicates,
            invalid: self.invalid,
            opted_out: self.opted_out,
            bytes_done: self.bytes_done,
        })
    }
}

/// A batch ready to write (see [`Batch::encode`]).
#[derive(Clone, Debug)]
pub struct EncodedBatch {
    pub(super) layout: Layout,
    /// The contact rows (see [`Layout`]), by number.
    pub(super) contacts: String,
    /// Where each contact row is in `contacts`.
    pub(super) rows_at: Vec<(usize, usize)>,
    /// The line of each contact row.
    pub(super) lines: Vec<u64>,
    /// The raw text of the contact rows, for the report if one turns out a duplicate.
    raws: String,
    /// Where each contact row's raw text is in `raws`.
    raws_at: Vec<(usize, usize)>,
    pub(super) rejects: Vec<Reject>,
    pub(super) rows: i64,
    pub(super) duplicates: i64,
    pub(super) invalid: i64,
    /// The addresses its rows say are opted out, by channel, with the row's line.
    opted_out: Vec<(u64, Channel, String)>,
    bytes_done: i64,
}

impl EncodedBatch {
    /// Data rows in the batch.
    pub fn rows(&self) -> i64 {
        self.rows
    }

    /// The `index`th contact row: `[mobile, line, national, first, last, sort, …]`.
    pub(super) fn contact_row(&self, index: usize) -> &str {
        let (start, end) = self.rows_at[index];
        &self.contacts[start..end]
    }

    /// Sorts the rows that met a contact before this batch into matches and duplicates
    /// of earlier rows of the import: returns the matched (contact, row index) pairs and
    /// every rejected row (the parser's and the duplicates).
    pub(super) fn classify(&self, met: &[Met]) -> (Vec<(i64, usize)>, Vec<Reject>) {
        let (mut matched, mut rejects) = (Vec::new(), self.rejects.clone());
        for m in met {
            match m.earlier_line {
                Some(first) => rejects.push(self.reject_of(m.index, &FirstLines::reason(first))),
                None => matched.push((m.contact_id, m.index)),
            }
        }
        (matched, rejects)
    }

    /// The `index`th contact row refused for `reason`.
    pub(super) fn reject_of(&self, index: usize, reason: &str) -> Reject {
        let (start, end) = self.raws_at[index];
        Reject {
            line: self.lines[index],
            reason: reason.to_string(),
            raw: self.raws[start..end].to_string(),
        }
    }

    /// Adds the opt-outs of the batch's rows that were imported (not those `rejects`
    /// refused, as the preview shows them) and its counts (its rows, and what the writer
    /// made of them) to the import's, with its progress, in the batch's transaction;
    /// returns the import's counts after it.
    pub(super) async fn record_counts(
        &self,
        mut conn: super::Conn<'_>,
        job: &Job,
        made: ImportCounts,
        rejects: &[Reject],
    ) -> Result<ImportCounts, AppError> {
        if !self.opted_out.is_empty() {
            let refused: std::collections::HashSet<u64> = rejects.iter().map(|r| r.line).collect();
            let opted_out: Vec<(Channel, String)> = self
                .opted_out
                .iter()
                .filter(|(line, _, _)| !refused.contains(line))
                .map(|(_, channel, address)| (*channel, address.clone()))
                .collect();
            let author = Author::import(job.id, None);
            super::opt_outs::add_from_import(
                conn.reborrow(),
                job.workspace_id,
                &author,
                &opted_out,
            )
            .await?;
        }
        let sql = "UPDATE imports SET rows_read = rows_read + $1, created = created + $2,
                       matched = matched + $3, duplicates = duplicates + $4,
                       invalid = invalid + $5, bytes_done = $6
                   WHERE workspace_id = $7 AND id = $8 AND lease = $9
                   RETURNING rows_read, created, matched, duplicates, invalid";
        // Fenced by the lease: a server that lost it rolls the whole batch back.
        let counts: Option<(i64, i64, i64, i64, i64)> = super::on!(conn, conn => {
            sqlx::query_as(sql)
                .bind(self.rows)
                .bind(made.created)
                .bind(made.matched)
                .bind(made.duplicates)
                .bind(made.invalid)
                .bind(self.bytes_done)
                .bind(job.workspace_id)
                .bind(job.id)
                .bind(&job.lease)
                .fetch_optional(conn)
                .await?
        });
        let counts = counts.ok_or_else(|| AppError::Conflict(super::imports::TAKEN_OVER.into()))?;
        Ok(ImportCounts {
            rows_read: counts.0,
            created: counts.1,
            matched: counts.2,
            duplicates: counts.3,
            invalid: counts.4,
        })
    }
}

/// A row that met an existing contact: its position, the contact, the line that matched
/// it earlier in the import, and the line bytes of the run that created it (if any).
type MetRow = (i64, i64, Option<i64>, Option<Vec<u8>>);

/// What an earlier batch of this import made of the contact a row met.
pub(super) struct Met {
    /// The row's position in the batch.
    pub(super) index: usize,
    pub(super) contact_id: i64,
    /// The line of the row that created or matched the contact earlier in the import.
    pub(super) earlier_line: Option<u64>,
}

/// Writes one batch in the caller's transaction (see the module documentation).
pub async fn write_batch(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &EncodedBatch,
) -> Result<ImportCounts, AppError> {
    let now = super::now();
    let count = batch.lines.len();
    // New rows get the ids after the last one given (AUTOINCREMENT: never one of a
    // deleted contact, so not always above the largest left): no other writer runs in
    // this transaction.
    let last_id: i64 = sqlx::query_scalar(
        "SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'contacts'), 0)",
    )
    .fetch_one(&mut *tx)
    .await?;
    let created = insert_new(tx, job, batch, now).await?;
    let met = if created == count {
        Vec::new()
    } else {
        met_before(tx, job, batch, last_id).await?
    };
    let (matched, rejects) = batch.classify(&met);
    let duplicates = batch.duplicates + (met.len() - matched.len()) as i64;
    for (first_id, lines) in created_runs(tx, job, batch, created, last_id).await? {
        sqlx::query("INSERT INTO import_created (import_id, first_id, lines) VALUES ($1, $2, $3)")
            .bind(job.id)
            .bind(first_id)
            .bind(lines)
            .execute(&mut *tx)
            .await?;
    }
    if !matched.is_empty() {
        record_matches(tx, job, batch, &matched).await?;
        if job.options.update_existing {
            update_matched(tx, job, batch, &matched, now).await?;
        }
    }
    add_to_group(tx, job, &matched, last_id, now).await?;
    if !rejects.is_empty() {
        let rows: Vec<(u64, &str, &str)> = rejects
            .iter()
            .map(|r| (r.line, r.reason.as_str(), r.raw.as_str()))
            .collect();
        sqlx::query(
            "INSERT OR IGNORE INTO import_rejects (import_id, line, reason, raw, workspace_id)
             SELECT $1, j.value ->> 0, j.value ->> 1, j.value ->> 2, $3 FROM json_each($2) AS j",
        )
        .bind(job.id)
        .bind(to_json(&rows)?)
        .bind(job.workspace_id)
        .execute(&mut *tx)
        .await?;
    }
    let made = ImportCounts {
        rows_read: batch.rows,
        created: created as i64,
        matched: matched.len() as i64,
        duplicates,
        invalid: batch.invalid,
    };
    batch
        .record_counts(super::Backend::Sqlite(tx), job, made, &rejects)
        .await
}

fn to_json(value: &impl serde::Serialize) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|e| AppError::internal("encoding an import batch", e))
}

/// Inserts the batch's contacts whose number is new to the workspace; returns how many.
async fn insert_new(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &EncodedBatch,
    now: i64,
) -> Result<usize, AppError> {
    let layout = batch.layout;
    let mut columns = String::from(
        "workspace_id, created_at, updated_at, mobile, mobile_national, first_name, last_name, \
         sort_name",
    );
    let mut values = String::from(
        "$1, $2, $2, j.value ->> 0, j.value ->> 2, j.value ->> 3, j.value ->> 4, j.value ->> 5",
    );
    // As the form does: the country is the import's unless the row names another, and
    // WhatsApp is the mobile number unless the row has another.
    let mut defaults = [("country", "$3"), ("whatsapp", "j.value ->> 0")];
    for (name, position) in layout.carried() {
        let value = format!("j.value ->> {position}");
        let value = match defaults.iter_mut().find(|(n, _)| *n == name) {
            Some(default) => format!("coalesce({value}, {})", std::mem::take(&mut default.1)),
            None => value,
        };
        columns.push_str(&format!(", {name}"));
        values.push_str(&format!(", {value}"));
    }
    for (name, default) in defaults {
        if !default.is_empty() {
            columns.push_str(&format!(", {name}"));
            values.push_str(&format!(", {default}"));
        }
    }
    // `WHERE true` tells SQLite's parser the upsert's ON is not a join's. A row skipped
    // by the conflict clause still uses up an id (AUTOINCREMENT): see `created_runs`.
    let sql = format!(
        "INSERT INTO contacts ({columns}) SELECT {values} FROM json_each($4) AS j WHERE true
         ON CONFLICT (workspace_id, mobile) WHERE mobile IS NOT NULL DO NOTHING"
    );
    let done = sqlx::query(&sql)
        .bind(job.workspace_id)
        .bind(now)
        .bind(&job.options.country)
        .bind(&batch.contacts)
        .execute(&mut *tx)
        .await?;
    Ok(done.rows_affected() as usize)
}

/// The runs of consecutive ids the batch's new contacts got, each with its rows' lines
/// (4 bytes each), as `import_created` keeps them. When every row was new, one run after
/// `last_id`; otherwise a row skipped as already present still used up an id
/// (AUTOINCREMENT), so the new contacts are looked up by number (ids after `last_id` are
/// this transaction's: no other writer runs in it).
async fn created_runs(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &EncodedBatch,
    created: usize,
    last_id: i64,
) -> Result<Vec<(i64, Vec<u8>)>, AppError> {
    let line = |index: usize| (batch.lines[index] as u32).to_le_bytes();
    if created == 0 {
        return Ok(Vec::new());
    }
    if created == batch.lines.len() {
        return Ok(vec![(last_id + 1, (0..created).flat_map(line).collect())]);
    }
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT c.id, j.key FROM json_each($2) AS j
         CROSS JOIN contacts AS c ON c.workspace_id = $1 AND c.mobile = j.value ->> 0
         WHERE c.id > $3 ORDER BY c.id",
    )
    .bind(job.workspace_id)
    .bind(&batch.contacts)
    .bind(last_id)
    .fetch_all(&mut *tx)
    .await?;
    let mut runs: Vec<(i64, Vec<u8>)> = Vec::new();
    for (id, index) in rows {
        match runs.last_mut() {
            Some((first_id, lines)) if *first_id + (lines.len() / 4) as i64 == id => {
                lines.extend(line(index as usize))
            }
            _ => runs.push((id, line(index as usize).to_vec())),
        }
    }
    Ok(runs)
}

/// The batch's rows whose number already had a contact before this batch, each with
/// the line of the row of this import that created or matched it, if one did. The batch
/// is the outer loop (CROSS JOIN): one lookup of the unique number index per row.
async fn met_before(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &EncodedBatch,
    last_id: i64,
) -> Result<Vec<Met>, AppError> {
    let rows: Vec<MetRow> = sqlx::query_as(
        "SELECT j.key, c.id, m.line,
             (SELECT substr(r.lines, (c.id - r.first_id) * 4 + 1, 4) FROM import_created r
              WHERE r.import_id = $1 AND r.first_id <= c.id
              ORDER BY r.first_id DESC LIMIT 1)
         FROM json_each($2) AS j
         CROSS JOIN contacts AS c ON c.workspace_id = $3 AND c.mobile = j.value ->> 0
         LEFT JOIN import_matched AS m ON m.import_id = $1 AND m.contact_id = c.id
         WHERE c.id <= $4",
    )
    .bind(job.id)
    .bind(&batch.contacts)
    .bind(job.workspace_id)
    .bind(last_id)
    .fetch_all(&mut *tx)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(index, contact_id, matched_line, created_line)| {
            // Past the end of its run's lines, the contact was created by someone else.
            let created_line = created_line
                .and_then(|bytes| <[u8; 4]>::try_from(bytes.as_slice()).ok())
                .map(|bytes| u64::from(u32::from_le_bytes(bytes)));
            Met {
                index: index as usize,
                contact_id,
                earlier_line: created_line.or(matched_line.map(|l| l as u64)),
            }
        })
        .collect())
}

/// Notes the existing contacts this batch matched, with their lines.
async fn record_matches(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &EncodedBatch,
    matched: &[(i64, usize)],
) -> Result<(), AppError> {
    let rows: Vec<(i64, u64)> = matched
        .iter()
        .map(|&(id, index)| (id, batch.lines[index]))
        .collect();
    sqlx::query(
        "INSERT OR IGNORE INTO import_matched (import_id, contact_id, line)
         SELECT $1, j.value ->> 0, j.value ->> 1 FROM json_each($2) AS j",
    )
    .bind(job.id)
    .bind(to_json(&rows)?)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Gives matched contacts the file's values: names when the row has one, every other
/// mapped field that has a value, and custom fields merged by key.
async fn update_matched(
    tx: &mut SqliteConnection,
    job: &Job,
    batch: &EncodedBatch,
    matched: &[(i64, usize)],
    now: i64,
) -> Result<(), AppError> {
    let layout = batch.layout;
    let ids: Vec<i64> = matched.iter().map(|(id, _)| *id).collect();
    let before =
        super::contacts::get_many(super::Backend::Sqlite(&mut *tx), job.workspace_id, &ids).await?;
    let attributes = layout.carried().find(|(name, _)| *name == "attributes");
    let current: HashMap<i64, String> = match attributes {
        None => HashMap::new(),
        Some(_) => sqlx::query_as::<_, (i64, String)>(
            "SELECT id, attributes FROM contacts
                 WHERE workspace_id = $1 AND id IN (SELECT value FROM json_each($2))",
        )
        .bind(job.workspace_id)
        .bind(to_json(&ids)?)
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect(),
    };
    let updates = matched
        .iter()
        .map(|&(id, index)| {
            let mut row: serde_json::Value = serde_json::from_str(batch.contact_row(index))
                .map_err(|e| AppError::internal("reading an import batch", e))?;
            if let Some((_, position)) = attributes {
                let incoming = row[position].as_str().unwrap_or("[]");
                let merged =
                    merge_attributes(current.get(&id).map_or("[]", String::as_str), incoming);
                row[position] = merged.into();
            }
            Ok(serde_json::json!([id, row]))
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    let mut sets = String::from(
        "first_name = CASE WHEN u.named THEN u.row ->> 3 ELSE contacts.first_name END, \
         last_name = CASE WHEN u.named THEN u.row ->> 4 ELSE contacts.last_name END, \
         sort_name = CASE WHEN u.named THEN u.row ->> 5 ELSE contacts.sort_name END",
    );
    for (name, position) in layout.carried() {
        sets.push_str(&format!(
            ", {name} = coalesce(nullif(u.row ->> {position}, ''), contacts.{name})"
        ));
    }
    let sql = format!(
        "UPDATE contacts SET {sets}, updated_at = $1
         FROM (SELECT j.value ->> 0 AS id, j.value -> 1 AS row,
                      (j.value ->> '$[1][3]') <> '' OR (j.value ->> '$[1][4]') <> '' AS named
               FROM json_each($2) AS j) AS u
         WHERE contacts.id = u.id AND contacts.workspace_id = $3"
    );
    sqlx::query(&sql)
        .bind(now)
        .bind(to_json(&updates)?)
        .bind(job.workspace_id)
        .execute(&mut *tx)
        .await?;
    record_updates(super::Backend::Sqlite(tx), job, before).await
}

/// Records what an import's update changed on the contacts it matched (`before`, read in
/// its transaction just before the update): one entry per contact that changed, each
/// field before and after, with the upload as its source; undoing the upload restores
/// from them. The contacts an upload creates get no entry: the upload lists them.
pub(super) async fn record_updates(
    mut conn: super::Conn<'_>,
    job: &Job,
    before: Vec<StoredContact>,
) -> Result<(), AppError> {
    let ids: Vec<i64> = before.iter().map(|c| c.id).collect();
    let after: HashMap<i64, StoredContact> =
        super::contacts::get_many(conn.reborrow(), job.workspace_id, &ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
    let entries: Vec<Entry> = before
        .iter()
        .filter_map(|was| {
            let changes = history::changes(&was.record, &after.get(&was.id)?.record);
            (!changes.is_empty()).then(|| Entry {
                contact_id: was.id,
                kind: HistoryKind::Updated,
                detail: Detail {
                    changes,
                    ..Detail::default()
                },
            })
        })
        .collect();
    history::record(
        conn,
        job.workspace_id,
        &Author::import(job.id, None),
        &entries,
    )
    .await
}

/// Custom fields merged by key: a key in `incoming` replaces the same key's value (keys
/// compare ignoring case) in place, new keys go at the end while the contact has fewer
/// than [`MAX_ATTRIBUTES`] (the form's cap holds for imports too).
pub(super) fn merge_attributes(current: &str, incoming: &str) -> String {
    let mut pairs: Vec<(String, String)> = serde_json::from_str(current).unwrap_or_default();
    let new: Vec<(String, String)> = serde_json::from_str(incoming).unwrap_or_default();
    for (key, value) in new {
        let key_folded = key.to_lowercase();
        match pairs
            .iter()
            .position(|(k, _)| k.to_lowercase() == key_folded)
        {
            Some(at) => pairs[at].1 = value,
            None if pairs.len() < MAX_ATTRIBUTES => pairs.push((key, value)),
            None => {}
        }
    }
    serde_json::to_string(&pairs).unwrap_or_else(|_| current.to_string())
}

/// Adds the batch's new and matched contacts to the import's group, if it has one (and
/// it still exists: deleted since the upload, there is nothing to add to).
async fn add_to_group(
    tx: &mut SqliteConnection,
    job: &Job,
    matched: &[(i64, usize)],
    last_id: i64,
    now: i64,
) -> Result<(), AppError> {
    let sql = "SELECT group_id FROM imports WHERE workspace_id = $1 AND id = $2";
    let group_id: Option<i64> = sqlx::query_scalar(sql)
        .bind(job.workspace_id)
        .bind(job.id)
        .fetch_one(&mut *tx)
        .await?;
    let Some(group_id) = group_id else {
        return Ok(());
    };
    // The contacts created by this batch are exactly the ids after `last_id`.
    sqlx::query(
        "INSERT INTO memberships (group_id, contact_id, workspace_id, added_at, import_id)
         SELECT $1, c.id, $2, $3, $4 FROM contacts AS c
         WHERE c.id > $5 AND c.workspace_id = $2",
    )
    .bind(group_id)
    .bind(job.workspace_id)
    .bind(now)
    .bind(job.id)
    .bind(last_id)
    .execute(&mut *tx)
    .await?;
    if !matched.is_empty() {
        let ids: Vec<i64> = matched.iter().map(|(id, _)| *id).collect();
        sqlx::query(
            "INSERT OR IGNORE INTO memberships (group_id, contact_id, workspace_id, added_at, import_id)
             SELECT $1, j.value, $2, $3, $4 FROM json_each($5) AS j",
        )
        .bind(group_id)
        .bind(job.workspace_id)
        .bind(now)
        .bind(job.id)
        .bind(to_json(&ids)?)
        .execute(&mut *tx)
        .await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_fields_merge_by_key() {
        assert_eq!(
            merge_attributes(
                r#"[["Tier","Silver"],["Since","2020"]]"#,
                r#"[["tier","Gold"],["Club","A"]]"#
            ),
            r#"[["Tier","Gold"],["Since","2020"],["Club","A"]]"#
        );
        assert_eq!(merge_attributes("[]", "[]"), "[]");
    }

    #[test]
    fn a_merge_keeps_a_contact_within_the_custom_field_cap() {
        let full: Vec<(String, String)> = (0..MAX_ATTRIBUTES)
            .map(|i| (format!("k{i}"), "old".to_string()))
            .collect();
        let full = serde_json::to_string(&full).unwrap();
        let merged = merge_attributes(&full, r#"[["K0","new"],["extra","x"]]"#);
        let pairs: Vec<(String, String)> = serde_json::from_str(&merged).unwrap();
        assert_eq!(pairs.len(), MAX_ATTRIBUTES);
        assert_eq!(pairs[0], ("k0".to_string(), "new".to_string()));
        assert!(pairs.iter().all(|(k, _)| k != "extra"));
    }

    #[test]
    fn a_row_carries_only_the_columns_its_file_maps() {
        let mut columns = Columns::default().with(ContactField::Mobile, 0);
        assert_eq!(Layout::of(&columns).carried().count(), 0);
        columns = columns.with(ContactField::Email, 1);
        columns.set(2, Some(crate::import::columns::Tag::Custom("Tier".into())));
        let carried: Vec<_> = Layout::of(&columns).carried().collect();
        assert_eq!(carried, [("email", 6), ("attributes", 7)]);
    }

    #[test]
    fn the_postgresql_staging_table_holds_every_optional_column() {
        for column in optional() {
            assert!(
                super::super::import_copy::STAGING.contains(&format!(" {column} TEXT")),
                "{column}"
            );
        }
    }
}
