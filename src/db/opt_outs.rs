//! Opt-outs, by address and channel (see [`crate::model::opt_out`]): given, taken back,
//! read for contacts, and the condition that leaves opted-out contacts out.

use super::history::{self, AUTHOR_JOINS, Author, Entry, by};
use super::{Conn, on};
use crate::error::AppError;
use crate::model::channel::Channel;
use crate::model::history::{Detail, HistoryKind};
use crate::model::opt_out::{OptOut, OptOutReason, Source};
use std::collections::HashMap;

/// Opts an address out of a channel (or changes why, or on whose word), in the caller's
/// transaction; the contacts with that address there record it unless nothing changed.
/// Returns whether it was opted in before.
pub async fn set(
    mut conn: Conn<'_>,
    workspace_id: i64,
    channel: Channel,
    address: &str,
    reason: OptOutReason,
    author: &Author,
) -> Result<bool, AppError> {
    let exists = "SELECT reason, source, import_id FROM opt_outs
                  WHERE workspace_id = $1 AND address = $2 AND channel = $3";
    let before: Option<(String, String, Option<i64>)> = on!(conn.reborrow(), conn => {
        sqlx::query_as(exists)
            .bind(workspace_id)
            .bind(address)
            .bind(channel.name())
            .fetch_optional(conn)
            .await?
    });
    let replace = "DO UPDATE SET reason = excluded.reason, source = excluded.source,
                       user_id = excluded.user_id, api_key_id = excluded.api_key_id,
                       import_id = excluded.import_id, at = excluded.at";
    let opt_out = (channel, address, reason);
    insert(conn.reborrow(), workspace_id, opt_out, author, replace).await?;
    let (new, changed) = {
        let now = (
            reason.key().to_string(),
            author.source.key().to_string(),
            author.import_id,
        );
        (before.is_none(), before != Some(now))
    };
    if changed {
        let detail = Detail {
            channel: Some(channel),
            reason: Some(reason),
            ..Detail::default()
        };
        record(
            conn,
            workspace_id,
            channel,
            address,
            author,
            HistoryKind::OptedOut,
            detail,
        )
        .await?;
    }
    Ok(new)
}

/// Opts the addresses an upload's rows said are opted out (`(channel, address)`) out,
/// in the batch's transaction, each unless it is already (an earlier opt-out keeps its
/// reason and source, and an undo of the upload leaves it); the contacts with each new
/// one record it.
pub async fn add_from_import(
    mut conn: Conn<'_>,
    workspace_id: i64,
    author: &Author,
    opted_out: &[(Channel, String)],
) -> Result<(), AppError> {
    let reason = OptOutReason::Unsubscribed;
    for (channel, address) in opted_out {
        let opt_out = (*channel, address.as_str(), reason);
        let added = insert(conn.reborrow(), workspace_id, opt_out, author, "DO NOTHING").await?;
        if added > 0 {
            let detail = Detail {
                channel: Some(*channel),
                reason: Some(reason),
                ..Detail::default()
            };
            let kind = HistoryKind::OptedOut;
            record(
                conn.reborrow(),
                workspace_id,
                *channel,
                address,
                author,
                kind,
                detail,
            )
            .await?;
        }
    }
    Ok(())
}

/// Takes back, in the caller's transaction, the opt-outs an upload added (those still
/// as it left them); the contacts with each address record that they are opted in.
pub async fn undo_import(
    mut conn: Conn<'_>,
    workspace_id: i64,
    import_id: i64,
    author: &Author,
) -> Result<(), AppError> {
    let sql =
        "DELETE FROM opt_outs WHERE workspace_id = $1 AND import_id = $2 AND source = 'import'
               RETURNING channel, address";
    let removed: Vec<(String, String)> = on!(conn.reborrow(), conn => {
        sqlx::query_as(sql).bind(workspace_id).bind(import_id).fetch_all(conn).await?
    });
    for (channel, address) in removed {
        let Some(channel) = Channel::parse(&channel) else {
            continue;
        };
        let detail = Detail {
            channel: Some(channel),
            ..Detail::default()
        };
        let kind = HistoryKind::OptedIn;
        record(
            conn.reborrow(),
            workspace_id,
            channel,
            &address,
            author,
            kind,
            detail,
        )
        .await?;
    }
    Ok(())
}

/// Writes an opt-out `(channel, address, reason)` given by `author`; `on_conflict` says
/// what becomes of one already there (`DO NOTHING`, or `DO UPDATE SET …`). Returns the
/// rows written.
async fn insert(
    conn: Conn<'_>,
    workspace_id: i64,
    (channel, address, reason): (Channel, &str, OptOutReason),
    author: &Author,
    on_conflict: &str,
) -> Result<u64, AppError> {
    let sql = format!(
        "INSERT INTO opt_outs (workspace_id, address, channel, reason, source, user_id,
             api_key_id, import_id, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (workspace_id, address, channel) {on_conflict}"
    );
    Ok(on!(conn, conn => {
        sqlx::query(&sql)
            .bind(workspace_id)
            .bind(address)
            .bind(channel.name())
            .bind(reason.key())
            .bind(author.source.key())
            .bind(author.user_id)
            .bind(author.api_key_id)
            .bind(author.import_id)
            .bind(super::now())
            .execute(conn)
            .await?
            .rows_affected()
    }))
}

/// Records an opt-out (or opt-in) in the history of each contact with the address.
async fn record(
    mut conn: Conn<'_>,
    workspace_id: i64,
    channel: Channel,
    address: &str,
    author: &Author,
    kind: HistoryKind,
    detail: Detail,
) -> Result<(), AppError> {
    let ids =
        super::contacts::ids_by_address(conn.reborrow(), workspace_id, channel, address).await?;
    let entries: Vec<Entry> = ids
        .into_iter()
        .map(|contact_id| Entry {
            contact_id,
            kind,
            detail: detail.clone(),
        })
        .collect();
    history::record(conn, workspace_id, author, &entries).await
}

/// Opts an address back into a channel, in the caller's transaction; the contacts with
/// that address there record it. Returns whether it was opted out.
pub async fn clear(
    mut conn: Conn<'_>,
    workspace_id: i64,
    channel: Channel,
    address: &str,
    author: &Author,
) -> Result<bool, AppError> {
    let sql = "DELETE FROM opt_outs WHERE workspace_id = $1 AND address = $2 AND channel = $3";
    let cleared = on!(conn.reborrow(), conn => {
        sqlx::query(sql)
            .bind(workspace_id)
            .bind(address)
            .bind(channel.name())
            .execute(conn)
            .await?
            .rows_affected()
    }) > 0;
    if cleared {
        let detail = Detail {
            channel: Some(channel),
            ..Detail::default()
        };
        record(
            conn,
            workspace_id,
            channel,
            address,
            author,
            HistoryKind::OptedIn,
            detail,
        )
        .await?;
    }
    Ok(cleared)
}

#[derive(sqlx::FromRow)]
struct OptOutRow {
    contact_id: i64,
    channel: String,
    reason: String,
    source: String,
    at: i64,
    user_email: Option<String>,
    key_name: Option<String>,
    file_name: Option<String>,
}

/// The opt-outs of each of these contacts of the workspace, in channel order: those of
/// the address each has on each channel.
pub async fn of_contacts(
    conn: Conn<'_>,
    workspace_id: i64,
    ids: &[i64],
) -> Result<HashMap<i64, Vec<OptOut>>, AppError> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let json = serde_json::to_string(ids).map_err(|e| AppError::internal("ids", e))?;
    // Each contact's addresses, probed in the opt-outs' key; the CASE keeps the one of
    // the opt-out's own channel (a WhatsApp opt-out does not follow the SMS number).
    let columns: Vec<String> = Channel::all()
        .map(|c| format!("c.{}", c.field().key()))
        .collect();
    let cases: String = Channel::all()
        .map(|c| format!(" WHEN '{}' THEN c.{}", c.name(), c.field().key()))
        .collect();
    let sql = format!(
        "SELECT c.id AS contact_id, h.channel, h.reason, h.source, h.at,
                u.email AS user_email, k.name AS key_name, i.file_name
         FROM (SELECT c.* FROM {contacts}) c
         JOIN opt_outs h ON h.workspace_id = c.workspace_id AND h.address IN ({columns})
              AND h.address = CASE h.channel{cases} END
         {AUTHOR_JOINS}",
        contacts = conn.dialect().contacts_by_ids(2),
        columns = columns.join(", "),
    );
    let rows: Vec<OptOutRow> = on!(conn, conn => {
        sqlx::query_as(&sql).bind(workspace_id).bind(json).fetch_all(conn).await?
    });
    let mut out: HashMap<i64, Vec<OptOut>> = HashMap::new();
    for row in rows {
        let bad = |what: &str| AppError::internal("opt_outs", format!("bad {what}"));
        let source = Source::parse(&row.source).ok_or_else(|| bad("source"))?;
        out.entry(row.contact_id).or_default().push(OptOut {
            channel: Channel::parse(&row.channel).ok_or_else(|| bad("channel"))?,
            reason: OptOutReason::parse(&row.reason).ok_or_else(|| bad("reason"))?,
            source,
            by: by(source, row.user_email, row.key_name, row.file_name),
            at: row.at,
        });
    }
    for list in out.values_mut() {
        list.sort_by_key(|o| o.channel);
    }
    Ok(out)
}

/// SQL that is true when contact `c` is opted out of `channel`: its address there has an
/// opt-out (the channel's name is one of the app's own, so it is written as a literal).
pub(crate) fn opted_out_sql(channel: Channel) -> String {
    format!(
        "EXISTS (SELECT 1 FROM opt_outs o WHERE o.workspace_id = c.workspace_id \
         AND o.address = c.{} AND o.channel = '{}')",
        channel.field().key(),
        channel.name()
    )
}
