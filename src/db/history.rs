//! Each contact's history: every write to a contact records here, in its transaction,
//! what changed, who changed it and through what ([`Author`]). An upload records the
//! contacts it changed and the groups it added existing contacts to, but not a row per
//! contact it creates: the upload itself says which contacts it created.

use super::{Builder, Conn, Db, on};
use crate::error::AppError;
use crate::model::field::ContactField;
use crate::model::history::{
    CUSTOM_PREFIX, Detail, FieldChange, HistoryEntry, HistoryKind, HistoryPage,
};
use crate::model::opt_out::Source;
use crate::normalize::ContactRecord;

/// Who made a change and through what: a user in the app, an API key, an upload (and
/// the user who started it), an inbound keyword (nobody).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Author {
    /// Where the change came from.
    pub source: Source,
    /// The user, if one made it.
    pub user_id: Option<i64>,
    /// The API key, if one made it.
    pub api_key_id: Option<i64>,
    /// The upload, if it came from one.
    pub import_id: Option<i64>,
}

impl Author {
    /// A user, in the app.
    pub const fn user(id: i64) -> Author {
        Author {
            source: Source::Ui,
            user_id: Some(id),
            api_key_id: None,
            import_id: None,
        }
    }

    /// An integration, by its API key.
    pub fn key(id: i64) -> Author {
        Author {
            source: Source::Api,
            user_id: None,
            api_key_id: Some(id),
            import_id: None,
        }
    }

    /// An upload, started by `user` (none when an API key started it).
    pub fn import(id: i64, user: Option<i64>) -> Author {
        Author {
            source: Source::Import,
            user_id: user,
            api_key_id: None,
            import_id: Some(id),
        }
    }

    /// Undoing an upload, as asked by a user or an API key.
    pub fn undo(import_id: i64, user_id: Option<i64>, api_key_id: Option<i64>) -> Author {
        Author {
            source: Source::Undo,
            user_id,
            api_key_id,
            import_id: Some(import_id),
        }
    }

    /// An inbound message's keyword.
    pub fn keyword() -> Author {
        Author {
            source: Source::Keyword,
            user_id: None,
            api_key_id: None,
            import_id: None,
        }
    }
}

/// One entry to record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    /// The contact.
    pub contact_id: i64,
    /// What happened.
    pub kind: HistoryKind,
    /// What changed.
    pub detail: Detail,
}

impl Entry {
    /// A contact created with these values.
    pub fn created(contact_id: i64, record: &ContactRecord) -> Entry {
        Entry {
            contact_id,
            kind: HistoryKind::Created,
            detail: Detail {
                changes: changes(&ContactRecord::default(), record),
                ..Detail::default()
            },
        }
    }

    /// A contact changed from `before` to `after`; `None` if nothing changed.
    pub fn updated(
        contact_id: i64,
        before: &ContactRecord,
        after: &ContactRecord,
    ) -> Option<Entry> {
        let changes = changes(before, after);
        (!changes.is_empty()).then(|| Entry {
            contact_id,
            kind: HistoryKind::Updated,
            detail: Detail {
                changes,
                ..Detail::default()
            },
        })
    }

    /// A contact that joined (or left) a group.
    pub fn membership(contact_id: i64, joined: bool, group: (i64, String)) -> Entry {
        Entry {
            contact_id,
            kind: if joined {
                HistoryKind::Joined
            } else {
                HistoryKind::Left
            },
            detail: Detail {
                group: Some(group),
                ..Detail::default()
            },
        }
    }

    /// Without detail (deleted).
    pub fn plain(contact_id: i64, kind: HistoryKind) -> Entry {
        Entry {
            contact_id,
            kind,
            detail: Detail::default(),
        }
    }
}

/// The custom fields of a record, as stored (`[[key, value], …]`).
pub(super) fn custom_fields(record: &ContactRecord) -> Vec<(String, String)> {
    serde_json::from_str(&record.attributes).unwrap_or_default()
}

/// Each field, and each custom field by key, whose value differs, in field order.
pub fn changes(before: &ContactRecord, after: &ContactRecord) -> Vec<FieldChange> {
    let mut out: Vec<FieldChange> = ContactField::ALL
        .into_iter()
        .filter(|f| before.get(*f) != after.get(*f))
        .map(|f| FieldChange {
            field: f.key().to_string(),
            before: before.get(f).map(str::to_string),
            after: after.get(f).map(str::to_string),
        })
        .collect();
    let (old, new) = (custom_fields(before), custom_fields(after));
    let value = |fields: &[(String, String)], key: &str| {
        fields
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
    };
    let mut keys: Vec<&str> = new.iter().map(|(k, _)| k.as_str()).collect();
    keys.extend(
        old.iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| value(&new, k).is_none()),
    );
    for key in keys {
        let (was, is) = (value(&old, key), value(&new, key));
        if was != is {
            out.push(FieldChange {
                field: format!("{CUSTOM_PREFIX}{key}"),
                before: was,
                after: is,
            });
        }
    }
    out
}

/// Rows per statement of [`record`] (9 values each, under SQLite's 32,766).
const ROWS_PER_STATEMENT: usize = 1_000;

/// Records entries in the caller's transaction, all at the same time.
pub async fn record(
    mut conn: Conn<'_>,
    workspace_id: i64,
    author: &Author,
    entries: &[Entry],
) -> Result<(), AppError> {
    let now = super::now();
    for chunk in entries.chunks(ROWS_PER_STATEMENT) {
        let details: Vec<String> = chunk
            .iter()
            .map(|e| serde_json::to_string(&e.detail))
            .collect::<Result<_, _>>()
            .map_err(|e| AppError::internal("history detail", e))?;
        on!(conn.reborrow(), conn => {
            let mut q = sqlx::QueryBuilder::new(
                "INSERT INTO contact_history (workspace_id, contact_id, at, kind, source, \
                 user_id, api_key_id, import_id, detail) ",
            );
            q.push_values(chunk.iter().zip(&details), |mut row, (entry, detail)| {
                row.push_bind(workspace_id)
                    .push_bind(entry.contact_id)
                    .push_bind(now)
                    .push_bind(entry.kind.key())
                    .push_bind(author.source.key())
                    .push_bind(author.user_id)
                    .push_bind(author.api_key_id)
                    .push_bind(author.import_id)
                    .push_bind(detail.clone());
            });
            q.build().execute(&mut *conn).await?;
        });
    }
    super::webhooks::enqueue_entries(conn, workspace_id, author, entries).await
}

/// Where [`push_record_each`] writes: the history, or an endpoint's webhook outbox.
#[derive(Clone, Copy, Debug)]
pub enum Sink {
    /// The contacts' history.
    History,
    /// Messages to this webhook endpoint.
    Endpoint(i64),
}

/// Every place a change of `kind` by `author` to a set of contacts is written: its
/// history, and the outbox of each endpoint that asked for its event. The caller runs
/// its [`push_record_each`] statement once for each.
pub async fn sinks(
    conn: Conn<'_>,
    workspace_id: i64,
    author: &Author,
    kind: HistoryKind,
) -> Result<Vec<Sink>, AppError> {
    let endpoints = super::webhooks::endpoints_for(conn, workspace_id, author, kind).await?;
    Ok(std::iter::once(Sink::History)
        .chain(endpoints.into_iter().map(Sink::Endpoint))
        .collect())
}

/// Starts `INSERT INTO contact_history … SELECT x.contact_id, …` (or the same into
/// `sink`'s outbox) of one entry for each row of a query the caller appends as
/// `FROM (…) AS x …`, which must yield `x.contact_id`: the same entry for a set of
/// contacts (a group's new members, the contacts a selection deletes) in one statement,
/// however many.
pub fn push_record_each(
    q: &mut impl Builder,
    sink: Sink,
    workspace_id: i64,
    author: &Author,
    kind: HistoryKind,
    detail: &Detail,
) -> Result<(), AppError> {
    if let Sink::Endpoint(endpoint_id) = sink {
        return super::webhooks::push_enqueue_each(
            q,
            workspace_id,
            endpoint_id,
            author,
            kind,
            detail,
        );
    }
    let detail = serde_json::to_string(detail).map_err(|e| AppError::internal("detail", e))?;
    q.push(
        "INSERT INTO contact_history (workspace_id, contact_id, at, kind, source, user_id, \
         api_key_id, import_id, detail) SELECT ",
    )
    .push_bind(workspace_id)
    .push(", x.contact_id, ")
    .push_bind(super::now())
    .push(", ")
    .push_bind(kind.key())
    .push(", ")
    .push_bind(author.source.key())
    .push(", ")
    .push_bind(author.user_id)
    .push(", ")
    .push_bind(author.api_key_id)
    .push(", ")
    .push_bind(author.import_id)
    .push(", ")
    .push_bind(detail);
    Ok(())
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: i64,
    at: i64,
    kind: String,
    source: String,
    import_id: Option<i64>,
    detail: String,
    user_email: Option<String>,
    key_name: Option<String>,
    file_name: Option<String>,
}

/// Who made a change, for people.
pub(crate) fn by(
    source: Source,
    user_email: Option<String>,
    key_name: Option<String>,
    file_name: Option<String>,
) -> String {
    match source {
        Source::Api => {
            key_name.map_or_else(|| "a revoked API key".into(), |k| format!("API key {k}"))
        }
        Source::Keyword => "a reply with a keyword".into(),
        Source::Import | Source::Undo => match (file_name, user_email) {
            (Some(file), Some(user)) => format!("{user}, upload {file}"),
            (Some(file), None) => format!("upload {file}"),
            (None, _) => "a deleted upload".into(),
        },
        Source::Ui => user_email.unwrap_or_else(|| "a removed user".into()),
    }
}

/// The joins that name who made a change (aliases `u`, `k`, `i`) of a table aliased `h`
/// with `user_id`, `api_key_id` and `import_id`.
pub(crate) const AUTHOR_JOINS: &str = "
    LEFT JOIN users u ON u.workspace_id = h.workspace_id AND u.id = h.user_id
    LEFT JOIN api_keys k ON k.workspace_id = h.workspace_id AND k.id = h.api_key_id
    LEFT JOIN imports i ON i.workspace_id = h.workspace_id AND i.id = h.import_id";

/// A page of a contact's history, newest first, older than entry `before` if given.
pub async fn page(
    db: &Db,
    workspace_id: i64,
    contact_id: i64,
    before: Option<i64>,
    limit: u32,
) -> Result<HistoryPage, AppError> {
    let sql = format!(
        "SELECT h.id, h.at, h.kind, h.source, h.import_id, h.detail,
                u.email AS user_email, k.name AS key_name, i.file_name
         FROM contact_history h {AUTHOR_JOINS}
         WHERE h.workspace_id = $1 AND h.contact_id = $2 AND h.id < $3
         ORDER BY h.id DESC LIMIT $4"
    );
    let rows: Vec<EntryRow> = on!(db, pool => {
        sqlx::query_as(&sql)
            .bind(workspace_id)
            .bind(contact_id)
            .bind(before.unwrap_or(i64::MAX))
            .bind(i64::from(limit) + 1)
            .fetch_all(pool)
            .await?
    });
    let more = rows.len() > limit as usize;
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows.into_iter().take(limit as usize) {
        let bad = |what: &str| AppError::internal("contact_history", format!("bad {what}"));
        let source = Source::parse(&row.source).ok_or_else(|| bad("source"))?;
        entries.push(HistoryEntry {
            id: row.id,
            at: row.at,
            kind: HistoryKind::parse(&row.kind).ok_or_else(|| bad("kind"))?,
            source,
            by: by(source, row.user_email, row.key_name, row.file_name),
            import_id: row.import_id,
            detail: serde_json::from_str(&row.detail).map_err(|_| bad("detail"))?,
        });
    }
    let next = entries.last().filter(|_| more).map(|e| e.id);
    Ok(HistoryPage { entries, next })
}

/// Entries one statement of [`purge`] deletes: each is a short write, so saves go on
/// while a year of history is purged.
const PURGE_BATCH: i64 = 10_000;

/// Deletes entries older than `cutoff` (seconds); returns how many.
pub async fn purge(db: &Db, cutoff: i64) -> Result<u64, AppError> {
    let sql = "DELETE FROM contact_history WHERE (workspace_id, id) IN
                 (SELECT workspace_id, id FROM contact_history WHERE at < $1 LIMIT $2)";
    let mut total = 0;
    loop {
        let done = on!(db, pool => {
            sqlx::query(sql).bind(cutoff).bind(PURGE_BATCH).execute(pool).await?.rows_affected()
        });
        total += done;
        if done < PURGE_BATCH as u64 {
            return Ok(total);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::db_tests!(old_entries_are_purged);

    async fn old_entries_are_purged(db: Db) {
        let ws = crate::db::workspaces::create(&db, "A", "SG").await.unwrap();
        let record = ContactRecord::default()
            .with(ContactField::Mobile, "+6581000001")
            .with(ContactField::Country, "SG");
        let id = crate::db::contacts::create(&db, ws, &record, crate::db::testing::AUTHOR)
            .await
            .unwrap();
        assert_eq!(page(&db, ws, id, None, 50).await.unwrap().entries.len(), 1);
        assert_eq!(purge(&db, super::super::now() - 60).await.unwrap(), 0);
        assert_eq!(purge(&db, super::super::now() + 1).await.unwrap(), 1);
        assert!(
            page(&db, ws, id, None, 50)
                .await
                .unwrap()
                .entries
                .is_empty()
        );
    }

    #[test]
    fn changes_name_each_field_and_custom_field_that_differs() {
        let mut before = ContactRecord::default()
            .with(ContactField::FirstName, "Ann")
            .with(ContactField::Mobile, "+6581000001");
        before.attributes = r#"[["Plan","Gold"],["Since","2020"]]"#.into();
        let mut after = ContactRecord::default()
            .with(ContactField::FirstName, "Anne")
            .with(ContactField::Mobile, "+6581000001")
            .with(ContactField::Email, "ann@example.com");
        after.attributes = r#"[["Plan","Silver"],["Club","A"]]"#.into();
        let got: Vec<(String, Option<String>, Option<String>)> = changes(&before, &after)
            .into_iter()
            .map(|c| (c.field, c.before, c.after))
            .collect();
        let some = |s: &str| Some(s.to_string());
        assert_eq!(
            got,
            [
                ("first_name".into(), some("Ann"), some("Anne")),
                ("email".into(), None, some("ann@example.com")),
                ("attributes.Plan".into(), some("Gold"), some("Silver")),
                ("attributes.Club".into(), None, some("A")),
                ("attributes.Since".into(), some("2020"), None),
            ]
        );
        assert_eq!(Entry::updated(1, &before, &before), None);
    }
}
