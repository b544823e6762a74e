//! Erasing a person: their contacts and every copy the app keeps of their addresses —
//! memberships, opt-outs, history (their own, and other contacts' entries that name an
//! address of theirs), stored rejected rows of old uploads, and kept API responses —
//! in one transaction, leaving one line per contact without personal data.
//!
//! On SQLite every connection runs with `secure_delete` (see [`super::connect`]), so a
//! deleted row's bytes are zeroed in the database file, and the erasure ends with a
//! checkpoint that truncates the write-ahead log, where the old pages were.

use super::contacts::StoredContact;
use super::history::Author;
use super::{Backend, Conn, Db, on};
use crate::error::AppError;
use crate::model::channel::Channel;
use crate::model::contact::Selection;
use futures::TryStreamExt;

/// What an erasure removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erased {
    /// The contacts erased.
    pub contact_ids: Vec<i64>,
    /// History entries deleted (the contacts' own, and others' that named an address).
    pub history_entries: u64,
    /// Opt-outs of the contacts' addresses deleted.
    pub opt_outs: u64,
    /// Stored rejected rows of uploads that held an address deleted.
    pub rejected_rows: u64,
    /// Kept API responses (idempotent retries) that held an address deleted.
    pub kept_responses: u64,
    /// Webhook messages about the contacts (sent or not) deleted, but for their
    /// `contact.deleted`, which holds nothing but the id.
    pub webhook_messages: u64,
}

/// Erases these contacts of the workspace (see the module's documentation). `NotFound`
/// when none of them exists; `Conflict` while an upload of the workspace is being
/// imported, since its file may hold the person and would bring them back.
pub async fn erase(
    db: &Db,
    workspace_id: i64,
    ids: &[i64],
    author: &Author,
) -> Result<Erased, AppError> {
    let mut tx = db.begin_write().await?;
    if super::imports::has_active(tx.conn(), workspace_id).await? {
        return Err(AppError::Conflict(
            "An upload is being imported and may hold this person: erase them once it has \
             finished."
                .into(),
        ));
    }
    let contacts = super::contacts::get_many(tx.conn(), workspace_id, ids).await?;
    if contacts.is_empty() {
        return Err(AppError::NotFound("No such contact.".into()));
    }
    let traces = Traces::of(&contacts);
    let contact_ids: Vec<i64> = contacts.iter().map(|c| c.id).collect();
    let selection = Selection::Ids(contact_ids.clone());
    super::contacts::delete(tx.conn(), workspace_id, &selection, author).await?;
    let mut erased = Erased {
        history_entries: delete_history(tx.conn(), workspace_id, &contact_ids, &traces).await?,
        opt_outs: delete_opt_outs(tx.conn(), workspace_id, &traces).await?,
        rejected_rows: delete_rejected_rows(tx.conn(), workspace_id, &traces).await?,
        kept_responses: delete_kept_responses(tx.conn(), workspace_id, &traces).await?,
        webhook_messages: super::webhooks::erase(
            tx.conn(),
            workspace_id,
            &contact_ids,
            &traces
                .stored()
                .into_iter()
                .map(containing)
                .collect::<Vec<_>>(),
        )
        .await?,
        contact_ids,
    };
    record(tx.conn(), workspace_id, &erased.contact_ids, author).await?;
    tx.commit().await?;
    if let Backend::Sqlite(pool) = db {
        super::checkpoint_truncate(pool).await?;
    }
    erased.contact_ids.sort_unstable();
    tracing::info!(workspace = workspace_id, contacts = ?erased.contact_ids, "person erased");
    Ok(erased)
}

/// What identifies the person in a copy: each address as stored, and for numbers their
/// digits without the country code, as a typed row of an upload may write them.
#[derive(Debug, Default)]
struct Traces {
    /// Each address as the contact holds it (E.164, the lower-cased email, user ids),
    /// with its channel.
    addresses: Vec<(Channel, String)>,
    /// The national digits of each number.
    digits: Vec<String>,
    /// The addresses that are not numbers, lower-cased, for a case-blind search.
    texts: Vec<String>,
}

/// Shorter addresses or digit runs are not searched for in other records: they would
/// match people who are not this one.
const MIN_TRACE: usize = 5;

impl Traces {
    fn of(contacts: &[StoredContact]) -> Traces {
        let mut traces = Traces::default();
        for contact in contacts {
            for channel in Channel::all() {
                let Some(value) = contact.record.get(channel.field()) else {
                    continue;
                };
                traces.addresses.push((channel, value.to_string()));
                if channel.is_phone() {
                    let national = crate::phone::normalize_msisdn(value, "ZZ")
                        .map(|n| n.national)
                        .unwrap_or_else(|_| value.to_string());
                    let digits: String = national.chars().filter(char::is_ascii_digit).collect();
                    if digits.len() >= MIN_TRACE {
                        traces.digits.push(digits);
                    }
                } else if value.chars().count() >= MIN_TRACE {
                    traces.texts.push(value.to_lowercase());
                }
            }
        }
        traces
    }

    /// Every address once, whatever its channels (a number is often the mobile and the
    /// WhatsApp address both).
    fn stored(&self) -> Vec<&str> {
        let mut stored: Vec<&str> = self.addresses.iter().map(|(_, a)| a.as_str()).collect();
        stored.sort_unstable();
        stored.dedup();
        stored
    }

    /// Whether a text someone typed (an upload's row) holds one of the addresses: a
    /// number however it was written, other addresses whatever their case.
    fn found_in(&self, text: &str) -> bool {
        let digits: String = text.chars().filter(char::is_ascii_digit).collect();
        let lower = text.to_lowercase();
        self.digits.iter().any(|d| digits.contains(d.as_str()))
            || self.texts.iter().any(|t| lower.contains(t.as_str()))
    }
}

/// `value` as a JSON string, quotes included: how history entries and API responses
/// hold it. Searching for it whole (not for a part of another value) spares other
/// people's records that merely contain a short address such as `ann`.
fn quoted(value: &str) -> String {
    serde_json::Value::from(value).to_string()
}

/// A LIKE pattern matching text that contains `value` as a JSON string (with
/// `ESCAPE '\'`).
fn containing(value: &str) -> String {
    let escaped = quoted(value)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

async fn delete_history(
    mut conn: Conn<'_>,
    workspace_id: i64,
    ids: &[i64],
    traces: &Traces,
) -> Result<u64, AppError> {
    let json = serde_json::to_string(ids).map_err(|e| AppError::internal("contact ids", e))?;
    let own = format!(
        "DELETE FROM contact_history WHERE workspace_id = $1 AND contact_id IN ({})",
        conn.dialect().json_ids(2)
    );
    let naming =
        "DELETE FROM contact_history WHERE workspace_id = $1 AND detail LIKE $2 ESCAPE '\\'";
    let deleted = on!(conn.reborrow(), conn => {
        sqlx::query(&own).bind(workspace_id).bind(&json).execute(conn).await?.rows_affected()
    });
    let patterns = traces.stored().into_iter().map(containing).collect();
    Ok(deleted + delete_each(conn, naming, workspace_id, patterns).await?)
}

/// Runs `sql` (with the workspace as `$1`) once for each value as `$2`; returns the rows
/// deleted.
async fn delete_each(
    mut conn: Conn<'_>,
    sql: &str,
    workspace_id: i64,
    values: Vec<String>,
) -> Result<u64, AppError> {
    let mut deleted = 0;
    for value in values {
        deleted += on!(conn.reborrow(), conn => {
            sqlx::query(sql).bind(workspace_id).bind(value).execute(conn).await?.rows_affected()
        });
    }
    Ok(deleted)
}

async fn delete_opt_outs(
    mut conn: Conn<'_>,
    workspace_id: i64,
    traces: &Traces,
) -> Result<u64, AppError> {
    let mut deleted = 0;
    for (channel, address) in &traces.addresses {
        // An address another contact still has keeps its opt-out: that contact must
        // stay unmessaged there.
        let sql = format!(
            "DELETE FROM opt_outs WHERE workspace_id = $1 AND channel = $2 AND address = $3
             AND NOT EXISTS ({})",
            super::contacts::holders_sql(*channel, "$1", "$3")
        );
        deleted += on!(conn.reborrow(), conn => {
            sqlx::query(&sql)
                .bind(workspace_id)
                .bind(channel.name())
                .bind(address)
                .execute(conn)
                .await?
                .rows_affected()
        });
    }
    Ok(deleted)
}

/// Rejected rows are kept as the uploader's file had them, so they are read and searched
/// here (a number may be written `+65 8123-4567` or `81234567`), not matched in SQL.
async fn delete_rejected_rows(
    mut conn: Conn<'_>,
    workspace_id: i64,
    traces: &Traces,
) -> Result<u64, AppError> {
    let read = "SELECT import_id, line, reason, raw FROM import_rejects WHERE workspace_id = $1";
    let found: Vec<(i64, i64)> = on!(conn.reborrow(), conn => {
        sqlx::query_as::<_, (i64, i64, String, String)>(read)
            .bind(workspace_id)
            .fetch(conn)
            .try_filter_map(|(import, line, reason, raw)| {
                let hit = traces.found_in(&raw) || traces.found_in(&reason);
                std::future::ready(Ok(hit.then_some((import, line))))
            })
            .try_collect()
            .await?
    });
    let delete =
        "DELETE FROM import_rejects WHERE workspace_id = $1 AND import_id = $2 AND line = $3";
    for (import, line) in &found {
        on!(conn.reborrow(), conn => {
            sqlx::query(delete).bind(workspace_id).bind(import).bind(line).execute(conn).await?;
        });
    }
    Ok(found.len() as u64)
}

async fn delete_kept_responses(
    conn: Conn<'_>,
    workspace_id: i64,
    traces: &Traces,
) -> Result<u64, AppError> {
    let sql = format!(
        "DELETE FROM idempotent_requests WHERE workspace_id = $1 AND {}",
        conn.dialect().bytes_contain("body", 2)
    );
    let values = traces.stored().into_iter().map(quoted).collect();
    delete_each(conn, &sql, workspace_id, values).await
}

/// The audit lines: who erased which contact id, and when; nothing else.
async fn record(
    mut conn: Conn<'_>,
    workspace_id: i64,
    ids: &[i64],
    author: &Author,
) -> Result<(), AppError> {
    let sql = "INSERT INTO erasures (workspace_id, contact_id, at, source, user_id, api_key_id)
               VALUES ($1, $2, $3, $4, $5, $6)";
    let at = super::now();
    for id in ids {
        on!(conn.reborrow(), conn => {
            sqlx::query(sql)
                .bind(workspace_id)
                .bind(id)
                .bind(at)
                .bind(author.source.key())
                .bind(author.user_id)
                .bind(author.api_key_id)
                .execute(conn)
                .await?;
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::field::ContactField;
    use crate::normalize::ContactRecord;

    fn contact(record: ContactRecord) -> StoredContact {
        StoredContact {
            id: 1,
            record,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn a_number_is_found_however_a_row_wrote_it_and_an_email_whatever_its_case() {
        let mut record = ContactRecord::default()
            .with(ContactField::Mobile, "+6581234567")
            .with(ContactField::Email, "ann.lee@example.com")
            .with(ContactField::Line, "ann");
        record.mobile_national = Some("81234567".into());
        let traces = Traces::of(&[contact(record)]);
        assert!(traces.found_in("Ann,+65 8123-4567,x"));
        assert!(traces.found_in("Ann;81234567"));
        assert!(traces.found_in("Ann,6581234567"));
        assert!(traces.found_in("Ann,ANN.LEE@Example.com"));
        assert!(!traces.found_in("Bob,+65 8123 4568,bob@example.com"));
        // A short address is not looked for in other people's rows.
        assert!(!traces.found_in("Joanne,+6590000000"));
        assert_eq!(
            traces.stored(),
            ["+6581234567", "ann", "ann.lee@example.com"]
        );
    }

    #[test]
    fn like_patterns_match_whole_json_strings_and_wildcards_literally() {
        assert_eq!(containing("a_b%c"), "%\"a\\_b\\%c\"%");
        assert_eq!(containing("ann"), "%\"ann\"%");
    }
}
