//! One batch of an import, as both databases' writers take it: the rows the parser
//! classified, encoded once; what a batch met before it; its counts, the history of what
//! it updated, and the custom-field merge, all shared by the two writers.

use crate::error::AppError;
use crate::import::ImportCounts;
use crate::import::columns::Columns;
use crate::import::pipeline::Row;
use crate::import::rule::{FirstLines, number_key};
use crate::model::channel::Channel;
use crate::model::contact::MAX_ATTRIBUTES;
use crate::model::field::ContactField;
use crate::normalize::ContactRecord;
use std::collections::HashMap;

use crate::db::Dialect;
use crate::db::contacts::StoredContact;
use crate::db::history::{self, Author, Entry};
use crate::db::imports::{Job, Reject};
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
fn optional() -> impl Iterator<Item = &'static str> {
    optional_fields()
        .map(ContactField::key)
        .chain(["attributes"])
}

fn optional_fields() -> impl Iterator<Item = ContactField> {
    ContactField::ALL
        .into_iter()
        .filter(|f| !FIXED_FIELDS.contains(f))
}

/// The columns every row carries first, by their name in `contacts` (the line is the
/// file's, kept for the report: no contact column).
const FIXED: [&str; 6] = [
    "mobile",
    "line",
    "mobile_national",
    "first_name",
    "last_name",
    "sort_name",
];

/// What a new contact gets in a column its row leaves empty or its file does not map,
/// as the form does: the import's country (`$3`), the mobile number as WhatsApp's.
fn default_of(name: &str, mobile: &str) -> Option<String> {
    match name {
        "country" => Some("$3".into()),
        "whatsapp" => Some(mobile.into()),
        _ => None,
    }
}

/// How a writer reads a column of a batch's row in SQL, given its name and position:
/// `j.value ->> 3` from SQLite's JSON, `r.first_name` from PostgreSQL's staging table.
pub(super) type Read<'a> = &'a dyn Fn(&str, usize) -> String;

/// The SQL both writers build from a [`Layout`]: one table of columns drives both, so a
/// new importable field is one entry in [`ContactField`].
impl Layout {
    /// Every column a row carries, with its position: the fixed ones, then the carried
    /// optional ones.
    pub(super) fn columns(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        FIXED
            .into_iter()
            .enumerate()
            .map(|(i, n)| (n, i))
            .chain(self.carried())
    }

    /// The column list and the values of an `INSERT INTO contacts` of the rows, with
    /// `$1` the workspace, `$2` the time and `$3` the import's country.
    pub(super) fn insert(&self, read: Read) -> (String, String) {
        let mobile = read("mobile", 0);
        let mut columns = vec!["workspace_id", "created_at", "updated_at"];
        let mut values = vec!["$1".to_string(), "$2".into(), "$2".into()];
        for (name, position) in self.columns().filter(|(name, _)| *name != "line") {
            let value = read(name, position);
            columns.push(name);
            values.push(match default_of(name, &mobile) {
                Some(default) => format!("coalesce({value}, {default})"),
                None => value,
            });
        }
        let missing: Vec<&str> = optional().filter(|name| !columns.contains(name)).collect();
        for name in missing {
            if let Some(default) = default_of(name, &mobile) {
                columns.push(name);
                values.push(default);
            }
        }
        (columns.join(", "), values.join(", "))
    }

    /// The `SET` of an `UPDATE` giving `table`'s matched contacts the file's values:
    /// names when the row has one, every other carried field that has a value, and the
    /// custom fields as `attributes` (SQL of the merged value) says.
    pub(super) fn update(&self, read: Read, table: &str, attributes: &str) -> String {
        let (first, last) = (read("first_name", 3), read("last_name", 4));
        let named = format!("({first}) <> '' OR ({last}) <> ''");
        let mut sets = Vec::new();
        for (name, position) in self.columns().filter(|(name, _)| *name != "line") {
            let value = read(name, position);
            sets.push(match name {
                "mobile" | "mobile_national" => continue,
                "first_name" | "last_name" | "sort_name" => {
                    format!("{name} = CASE WHEN {named} THEN {value} ELSE {table}.{name} END")
                }
                "attributes" => format!("attributes = coalesce({attributes}, {table}.attributes)"),
                _ => format!("{name} = coalesce(nullif({value}, ''), {table}.{name})"),
            });
        }
        sets.join(", ")
    }

    /// The columns a row carries as a table's definition (PostgreSQL's staging table):
    /// the line a number, the names never null, the rest text.
    pub(super) fn definition(&self) -> String {
        self.columns()
            .map(|(name, _)| match name {
                "line" => "line BIGINT NOT NULL".to_string(),
                "mobile" | "first_name" | "last_name" | "sort_name" => {
                    format!("{name} TEXT NOT NULL")
                }
                _ => format!("{name} TEXT"),
            })
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Where the custom fields are in a row, if the file maps any.
    pub(super) fn attributes_at(&self) -> Option<usize> {
        self.carried()
            .find(|(name, _)| *name == "attributes")
            .map(|(_, position)| position)
    }
}

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
    fn carried(&self) -> impl Iterator<Item = (&'static str, usize)> + '_ {
        optional()
            .zip(self.columns)
            .filter(|(_, carried)| *carried)
            .enumerate()
            .map(|(i, (name, _))| (name, FIXED.len() + i))
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

/// A contact row of a batch: where its encoding and raw text are, its line and number.
#[derive(Clone, Copy, Debug)]
struct Span {
    order: u64,
    encoded: (u32, u32),
    raw: (u32, u32),
    line: u64,
}

/// The rows of one batch, as the parser classifies them.
///
/// Contact rows are kept encoded for the database that takes them (a few dozen bytes
/// each, see [`Rows`]) and as their raw text, so a batch waits in a few MB; the parser
/// ends a batch at [`Batch::bytes`] as well as at a number of rows, so wide rows cannot
/// make it large.
#[derive(Debug)]
pub struct Batch {
    layout: Layout,
    /// The import's default country.
    country: String,
    rows: Rows,
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
    /// An empty batch of an import into a `dialect` database whose rows carry `layout`,
    /// with `country` as the default country.
    pub fn new(layout: Layout, country: &str, dialect: Dialect) -> Self {
        Batch {
            layout,
            country: country.to_string(),
            rows: Rows::new(dialect),
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
        self.rows.len() + self.raws.len() + self.rejected_bytes + self.spans.len() * 48
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
        let start = self.rows.len() as u32;
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
        self.rows.push(&values, row.line)?;
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
            encoded: (start, self.rows.len() as u32),
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
        let encoded = self.rows.bytes();
        let (mut contacts, mut rows_at) = (Vec::new(), Vec::with_capacity(self.spans.len()));
        let mut raws = String::with_capacity(self.raws.len());
        let mut raws_at = Vec::with_capacity(self.spans.len());
        let mut lines = Vec::with_capacity(self.spans.len());
        self.rows
            .begin(&mut contacts, encoded.len() + self.spans.len() * 8);
        for (i, span) in self.spans.iter().enumerate() {
            let start = self.rows.separate(&mut contacts, i);
            contacts.extend_from_slice(&encoded[span.encoded.0 as usize..span.encoded.1 as usize]);
            rows_at.push((start, contacts.len()));
            let raw_start = raws.len();
            raws.push_str(&self.raws[span.raw.0 as usize..span.raw.1 as usize]);
            raws_at.push((raw_start, raws.len()));
            lines.push(span.line);
        }
        self.rows.end(&mut contacts);
        Ok(EncodedBatch {
            layout: self.layout,
            // Both encodings write UTF-8, and whole rows were joined.
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

/// A batch's contact rows, `[mobile, line, national, first, last, sort, …carried]`,
/// encoded as the database reads them: SQLite a JSON array of arrays (`json_each`),
/// PostgreSQL CSV lines, each led by its position in the batch (`COPY`).
#[derive(Debug)]
enum Rows {
    Json(Vec<u8>),
    Csv(Box<csv::Writer<Vec<u8>>>),
}

impl Rows {
    fn new(dialect: Dialect) -> Rows {
        match dialect {
            Dialect::Sqlite => Rows::Json(Vec::new()),
            Dialect::Postgres => Rows::Csv(Box::new(
                csv::WriterBuilder::new()
                    .has_headers(false)
                    .from_writer(Vec::new()),
            )),
        }
    }

    /// The rows encoded so far.
    fn bytes(&self) -> &[u8] {
        match self {
            Rows::Json(json) => json,
            Rows::Csv(csv) => csv.get_ref(),
        }
    }

    fn len(&self) -> usize {
        self.bytes().len()
    }

    /// Adds a row: its values, the line in second place. To COPY an empty or missing
    /// value is NULL (the names are declared never null, so they stay empty).
    fn push(&mut self, values: &[Option<&str>], line: u64) -> Result<(), AppError> {
        let encoding = |e: &dyn std::fmt::Display| {
            AppError::internal("encoding an import batch", e.to_string())
        };
        match self {
            Rows::Json(json) => {
                let mut row = serde_json::to_value(values).map_err(|e| encoding(&e))?;
                row[1] = line.into();
                serde_json::to_writer(json, &row).map_err(|e| encoding(&e))
            }
            Rows::Csv(csv) => {
                for (i, value) in values.iter().enumerate() {
                    let written = match i {
                        1 => csv.write_field(line.to_string()),
                        _ => csv.write_field(value.unwrap_or_default()),
                    };
                    written.map_err(|e| encoding(&e))?;
                }
                csv.write_record(None::<&[u8]>).map_err(|e| encoding(&e))?;
                // Into the Vec, so that the row's span is known.
                csv.flush().map_err(|e| encoding(&e))
            }
        }
    }

    /// Starts the batch's rows in `out`, with room for `capacity` bytes.
    fn begin(&self, out: &mut Vec<u8>, capacity: usize) {
        out.reserve(capacity);
        if let Rows::Json(_) = self {
            out.push(b'[');
        }
    }

    /// What goes before the `index`th row in `out`; returns where the row starts.
    fn separate(&self, out: &mut Vec<u8>, index: usize) -> usize {
        match self {
            Rows::Json(_) if index > 0 => out.push(b','),
            Rows::Json(_) => {}
            Rows::Csv(_) => {
                out.extend_from_slice(index.to_string().as_bytes());
                out.push(b',');
            }
        }
        out.len()
    }

    /// Ends the batch's rows in `out`.
    fn end(&self, out: &mut Vec<u8>) {
        if let Rows::Json(_) = self {
            out.push(b']');
        }
    }
}

/// A batch ready to write (see [`Batch::encode`]).
#[derive(Clone, Debug)]
pub struct EncodedBatch {
    pub(super) layout: Layout,
    /// The contact rows (see [`Layout`] and [`Rows`]), by number.
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

    /// The `index`th contact row (JSON on SQLite): `[mobile, line, national, …]`.
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
        mut conn: crate::db::Conn<'_>,
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
            crate::db::opt_outs::add_from_import(
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
        let counts: Option<(i64, i64, i64, i64, i64)> = crate::db::on!(conn, conn => {
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
        let counts =
            counts.ok_or_else(|| AppError::Conflict(crate::db::imports::TAKEN_OVER.into()))?;
        Ok(ImportCounts {
            rows_read: counts.0,
            created: counts.1,
            matched: counts.2,
            duplicates: counts.3,
            invalid: counts.4,
        })
    }
}

/// What an earlier batch of this import made of the contact a row met.
pub(super) struct Met {
    /// The row's position in the batch.
    pub(super) index: usize,
    pub(super) contact_id: i64,
    /// The line of the row that created or matched the contact earlier in the import.
    pub(super) earlier_line: Option<u64>,
}

/// A row that met an existing contact, as both writers read it: its position, the
/// contact, then [`EARLIER`]'s two values.
pub(super) type MetRow = (i64, i64, Option<i64>, Option<Vec<u8>>);

/// SQL of what earlier batches of import `$I` (workspace `$W`) made of contact `$ID`: the
/// line of the row that matched it, and the 4 bytes of the line of the row that created
/// it (none when the run before its id is shorter: someone else created it). The
/// placeholders are replaced by each writer's own.
pub(super) const EARLIER: &str = "(SELECT m.line FROM import_matched m
         WHERE m.workspace_id = $W AND m.import_id = $I AND m.contact_id = $ID),
    (SELECT CASE WHEN $ID - r.first_id < length(r.lines) / 4
                 THEN substr(r.lines, CAST(($ID - r.first_id) * 4 + 1 AS INTEGER), 4) END
     FROM import_created r
     WHERE r.workspace_id = $W AND r.import_id = $I AND r.first_id <= $ID
     ORDER BY r.first_id DESC LIMIT 1)";

/// [`EARLIER`] with the writer's workspace, import and contact.
pub(super) fn earlier(workspace: &str, import: &str, contact: &str) -> String {
    EARLIER
        .replace("$W", workspace)
        .replace("$ID", contact)
        .replace("$I", import)
}

impl From<MetRow> for Met {
    fn from((index, contact_id, matched_line, created_line): MetRow) -> Met {
        let created_line = created_line
            .and_then(|bytes| <[u8; 4]>::try_from(bytes.as_slice()).ok())
            .map(|bytes| u64::from(u32::from_le_bytes(bytes)));
        Met {
            index: index as usize,
            contact_id,
            earlier_line: created_line.or(matched_line.map(|l| l as u64)),
        }
    }
}

/// The contacts a batch created, `(id, line)`, as `import_created` keeps them: runs of
/// consecutive ids, each with its first id and the line of each (4 bytes, little-endian).
pub(super) fn runs(mut created: Vec<(i64, u64)>) -> Vec<(i64, Vec<u8>)> {
    created.sort_unstable();
    let mut runs: Vec<(i64, Vec<u8>)> = Vec::new();
    for (id, line) in created {
        let line = (line as u32).to_le_bytes();
        match runs.last_mut() {
            Some((first_id, lines)) if *first_id + (lines.len() / 4) as i64 == id => {
                lines.extend(line)
            }
            _ => runs.push((id, line.to_vec())),
        }
    }
    runs
}

/// Records what an import's update changed on the contacts it matched (`before`, read in
/// its transaction just before the update): one entry per contact that changed, each
/// field before and after, with the upload as its source; undoing the upload restores
/// from them. The contacts an upload creates get no entry: the upload lists them.
pub(super) async fn record_updates(
    mut conn: crate::db::Conn<'_>,
    job: &Job,
    before: Vec<StoredContact>,
) -> Result<(), AppError> {
    let ids: Vec<i64> = before.iter().map(|c| c.id).collect();
    let after: HashMap<i64, StoredContact> =
        crate::db::contacts::get_many(conn.reborrow(), job.workspace_id, &ids)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_contacts_are_kept_as_runs_of_consecutive_ids() {
        let runs = runs(vec![(12, 7), (10, 2), (11, 300), (20, 9)]);
        assert_eq!(
            runs,
            [
                (10, [2, 0, 0, 0, 44, 1, 0, 0, 7, 0, 0, 0].to_vec()),
                (20, [9, 0, 0, 0].to_vec())
            ]
        );
        let met = |bytes: Option<Vec<u8>>, matched| Met::from((3, 11, matched, bytes));
        assert_eq!(met(Some(vec![44, 1, 0, 0]), None).earlier_line, Some(300));
        // Past the end of its run: created by someone else; matched earlier, or new.
        assert_eq!(met(Some(vec![]), Some(5)).earlier_line, Some(5));
        assert_eq!(met(None, None).earlier_line, None);
    }

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

    fn read(name: &str, position: usize) -> String {
        format!("{name}@{position}")
    }

    #[test]
    fn a_new_contact_gets_the_form_s_defaults_whether_or_not_its_file_maps_them() {
        let only_mobile = Layout::of(&Columns::default().with(ContactField::Mobile, 0));
        let (columns, values) = only_mobile.insert(&read);
        assert_eq!(
            columns,
            "workspace_id, created_at, updated_at, mobile, mobile_national, first_name, \
             last_name, sort_name, country, whatsapp"
        );
        assert_eq!(
            values,
            "$1, $2, $2, mobile@0, mobile_national@2, first_name@3, last_name@4, sort_name@5, \
             $3, mobile@0"
        );
        let columns = Columns::default()
            .with(ContactField::Mobile, 0)
            .with(ContactField::Country, 1)
            .with(ContactField::WhatsApp, 2)
            .with(ContactField::Email, 3);
        let (columns, values) = Layout::of(&columns).insert(&read);
        assert_eq!(columns.matches("country").count(), 1);
        assert_eq!(columns.matches("whatsapp").count(), 1);
        assert!(values.contains("coalesce(country@6, $3)"), "{values}");
        assert!(values.contains("coalesce(whatsapp@"), "{values}");
        assert!(values.contains("email@"), "{values}");
    }

    #[test]
    fn an_update_keeps_what_the_row_leaves_empty_and_never_changes_the_number() {
        let columns = Columns::default()
            .with(ContactField::Mobile, 0)
            .with(ContactField::Email, 1);
        let sets = Layout::of(&columns).update(&read, "c", "merged");
        assert!(!sets.contains("mobile ="), "{sets}");
        assert!(
            sets.contains("email = coalesce(nullif(email@6, ''), c.email)"),
            "{sets}"
        );
        assert!(sets.contains(
            "first_name = CASE WHEN (first_name@3) <> '' OR (last_name@4) <> '' \
             THEN first_name@3 ELSE c.first_name END"
        ));
        assert!(!sets.contains("attributes"), "{sets}");
    }

    #[test]
    fn every_column_a_row_carries_is_in_the_staging_table() {
        let mut columns = Columns::default().with(ContactField::Mobile, 0);
        for (i, field) in optional_fields().enumerate() {
            columns = columns.with(field, i + 1);
        }
        columns.set(99, Some(crate::import::columns::Tag::Custom("Tier".into())));
        let layout = Layout::of(&columns);
        let definition = layout.definition();
        for (name, _) in layout.columns() {
            assert!(definition.contains(&format!("{name} ")), "{name}");
        }
        assert_eq!(layout.columns().count(), FIXED.len() + OPTIONAL_COUNT);
    }
}
