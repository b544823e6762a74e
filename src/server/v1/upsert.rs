//! Creating contacts, or merging into the one that has the number (8x8's merge by
//! address): one contact (`POST /contacts`) or up to [`MAX_BATCH`] in one transaction
//! (`upsertContacts`), by the same rule.
//!
//! Merging applies the request to the contact as the API writes it, as JSON Merge Patch
//! (RFC 7396) does: given members replace, `null` clears, custom attributes merge by key,
//! `groupIds` (if given) become exactly the contact's groups. Every result is checked by
//! the rule the form and the importer use ([`crate::normalize::record`]), so a refused
//! item gives the reason an import would.
//!
//! A batch looks its numbers up in one statement, writes its new contacts in one, and a
//! number repeated within it merges into its first item.

use super::contact_json::{ApiContact, ContactWrite};
use super::error::ApiError;
use super::extract::from_json;
use crate::db::contacts::{self, ContactRecord};
use crate::db::{self, Conn, Db};
use crate::error::AppError;
use crate::model::field::ContactField;
use crate::normalize::record;
use crate::phone::normalize_msisdn;
use crate::server::auth::Caller;
use serde_json::Value;
use std::collections::HashMap;

/// Most contacts in one `upsertContacts`.
pub const MAX_BATCH: usize = 1_000;

/// What happened to one item.
#[derive(Debug)]
pub enum Outcome {
    /// A new contact.
    Created(i64),
    /// Merged into the contact that had its number.
    Merged(i64),
    /// Refused, and why.
    Rejected(ApiError),
}

/// Where an item's contact is: one that existed, or the n-th new one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Existing(i64),
    New(usize),
}

/// A contact as the batch leaves it.
struct Pending {
    write: ContactWrite,
    record: ContactRecord,
    changed: bool,
    /// Whether an item named the contact's groups.
    groups_given: bool,
}

/// Checks an item and reads its number in E.164 (with its country, or the workspace's).
fn read_item(
    value: &Value,
    default_country: &str,
) -> Result<(ContactWrite, Option<String>), ApiError> {
    let bytes =
        serde_json::to_vec(value).map_err(|e| ApiError::from(AppError::internal("item", e)))?;
    let write: ContactWrite = from_json(&bytes)?;
    let e164 = match write.msisdn() {
        Some(msisdn) => {
            let country = write.country().unwrap_or(default_country);
            Some(
                normalize_msisdn(msisdn, country)
                    .map_err(|e| {
                        ApiError::from(AppError::invalid(ContactField::Mobile.key(), e.0))
                    })?
                    .e164,
            )
        }
        None => None,
    };
    Ok((write, e164))
}

/// The write after merging `patch` into `current` (RFC 7396), checked.
fn merged(current: &ContactWrite, patch: &Value) -> Result<ContactWrite, ApiError> {
    let mut doc = current.to_json();
    json_patch::merge(&mut doc, patch);
    let bytes =
        serde_json::to_vec(&doc).map_err(|e| ApiError::from(AppError::internal("merge", e)))?;
    from_json(&bytes)
}

/// Creates or merges each item in one transaction; one outcome per item, in order.
pub async fn upsert(db: &Db, caller: &Caller, items: &[Value]) -> Result<Vec<Outcome>, ApiError> {
    let mut tx = db.begin_write().await.map_err(AppError::from)?;
    let outcomes = upsert_in(tx.conn(), caller, items).await?;
    tx.commit().await.map_err(AppError::from)?;
    Ok(outcomes)
}

async fn upsert_in(
    mut conn: Conn<'_>,
    caller: &Caller,
    items: &[Value],
) -> Result<Vec<Outcome>, ApiError> {
    let (workspace_id, default_country) = (caller.workspace_id, caller.default_country.as_str());
    let author = &caller.author();
    // Read every item; look up every number and group at once.
    let read: Vec<Result<(ContactWrite, Option<String>), ApiError>> = items
        .iter()
        .map(|item| read_item(item, default_country))
        .collect();
    let numbers: Vec<&str> = read
        .iter()
        .filter_map(|r| r.as_ref().ok().and_then(|(_, e164)| e164.as_deref()))
        .collect();
    let found: HashMap<String, i64> =
        contacts::ids_by_mobile(conn.reborrow(), workspace_id, &numbers)
            .await?
            .into_iter()
            .collect();
    let mut existing_ids: Vec<i64> = found.values().copied().collect();
    existing_ids.sort_unstable();
    existing_ids.dedup();
    let stored = contacts::get_many(conn.reborrow(), workspace_id, &existing_ids).await?;
    let mut groups = db::groups::groups_of(conn.reborrow(), workspace_id, &existing_ids).await?;
    let mut group_ids: Vec<i64> = read
        .iter()
        .filter_map(|r| r.as_ref().ok())
        .flat_map(|(w, _)| w.group_ids.iter().flatten().copied())
        .collect();
    group_ids.sort_unstable();
    group_ids.dedup();
    let known_groups = db::groups::existing(conn.reborrow(), workspace_id, &group_ids).await?;

    let mut existing: HashMap<i64, Pending> = HashMap::new();
    for contact in stored {
        let id = contact.id;
        let record = contact.record.clone();
        let api = ApiContact::new(contact, groups.remove(&id).unwrap_or_default(), Vec::new());
        existing.insert(
            id,
            Pending {
                write: api.writable(),
                record,
                changed: false,
                groups_given: false,
            },
        );
    }
    let mut new: Vec<Pending> = Vec::new();
    let mut by_number: HashMap<String, Target> = found
        .iter()
        .map(|(number, id)| (number.clone(), Target::Existing(*id)))
        .collect();
    let mut results: Vec<Result<(Target, bool), ApiError>> = Vec::with_capacity(items.len());
    for (item, read) in items.iter().zip(read) {
        let result = (|| {
            let (write, e164) = read?;
            if let Some(missing) = write
                .group_ids
                .iter()
                .flatten()
                .find(|id| !known_groups.contains(id))
            {
                return Err(ApiError::new(
                    422,
                    "validation_failed",
                    format!("There is no group {missing} in this workspace."),
                )
                .with_field("groupIds"));
            }
            let target = e164.as_ref().and_then(|n| by_number.get(n)).copied();
            match target {
                Some(target) => {
                    let pending = match target {
                        Target::Existing(id) => existing.get_mut(&id),
                        Target::New(n) => new.get_mut(n),
                    }
                    .ok_or_else(|| ApiError::from(AppError::internal("upsert", "lost target")))?;
                    // The number as this item read it (with its own country or the
                    // workspace's), not re-read with the contact's.
                    let mut item = item.clone();
                    if let (Some(number), Some(addresses)) = (
                        e164.as_ref(),
                        item.get_mut("addresses").and_then(Value::as_object_mut),
                    ) {
                        addresses.insert("msisdn".into(), Value::String(number.clone()));
                    }
                    let write = merged(&pending.write, &item)?;
                    pending.record = record(&write.input(default_country))?;
                    pending.groups_given |= item.get("groupIds").is_some();
                    pending.write = write;
                    pending.changed = true;
                    Ok((target, false))
                }
                None => {
                    let record = record(&write.input(default_country))?;
                    let target = Target::New(new.len());
                    if let Some(number) = e164 {
                        by_number.insert(number, target);
                    }
                    let groups_given = write.group_ids.is_some();
                    new.push(Pending {
                        write,
                        record,
                        changed: true,
                        groups_given,
                    });
                    Ok((target, true))
                }
            }
        })();
        results.push(result);
    }

    // Write: the new contacts in one statement, the changed ones each, then groups.
    let records: Vec<ContactRecord> = new.iter().map(|p| p.record.clone()).collect();
    let new_ids = contacts::insert_many(conn.reborrow(), workspace_id, &records, author).await?;
    for (id, pending) in &existing {
        if pending.changed {
            contacts::update(conn.reborrow(), workspace_id, *id, &pending.record, author).await?;
        }
    }
    let with_groups = existing
        .iter()
        .map(|(id, p)| (*id, p))
        .chain(new_ids.iter().copied().zip(new.iter()))
        .filter(|(_, p)| p.groups_given);
    for (id, pending) in with_groups {
        let ids = pending.write.group_ids.as_deref().unwrap_or_default();
        db::groups::set_groups_of_contact(conn.reborrow(), workspace_id, id, ids, author).await?;
    }
    Ok(results
        .into_iter()
        .map(|result| match result {
            Ok((Target::Existing(id), _)) => Outcome::Merged(id),
            Ok((Target::New(n), true)) => Outcome::Created(new_ids[n]),
            Ok((Target::New(n), false)) => Outcome::Merged(new_ids[n]),
            Err(error) => Outcome::Rejected(error),
        })
        .collect())
}
