//! Contacts: create, change, delete, and the table's keyset-paged queries.
//!
//! Paging never uses OFFSET: each page starts after (or before) the sort key and id of
//! a row, so page 10,000 costs what page 1 costs. A search is prefix ranges of indexes
//! of `contacts` (see [`search`]).
//!
//! - [`write`]: create, change, save with groups, delete, one contact;
//! - [`filter`]: what a filter or a selection adds to a query, and counts;
//! - [`search`]: a typed prefix as index ranges, read and merged a page at a time;
//! - [`page`]: one page of the table, searched or not;
//! - [`export`]: every field of a selection, batch by batch.

mod export;
mod filter;
mod page;
mod search;
mod write;

pub use crate::normalize::ContactRecord;
pub use export::export_batch;
pub use filter::{count, count_selection, count_up_to, count_within};
pub(crate) use filter::{group_only, push_from, push_selection};
pub use page::page;
pub(crate) use write::holders_sql;
pub use write::{
    create, delete, get, get_many, id_by_mobile, ids_by_address, ids_by_mobile, insert,
    insert_many, lock, save_with_groups, update,
};

use crate::model::contact::Cursor;
use crate::model::field::ContactField;
use std::sync::LazyLock;

/// A stored contact with its id and timestamps.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredContact {
    /// The id.
    pub id: i64,
    /// The values.
    #[sqlx(flatten)]
    pub record: ContactRecord,
    /// Created, seconds since the epoch.
    pub created_at: i64,
    /// Last changed, seconds since the epoch.
    pub updated_at: i64,
}

/// A row of the table as stored (the API formats the number for display).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ListedContact {
    /// The id.
    pub id: i64,
    /// First name.
    pub first_name: String,
    /// Last name.
    pub last_name: String,
    /// Mobile, E.164.
    pub mobile: Option<String>,
    /// Email.
    pub email: Option<String>,
    /// Created, seconds since the epoch.
    pub created_at: i64,
    /// The row's position in the order (name or matched term; empty for date orders).
    pub sort_key: String,
}

/// One page of rows with the cursors around it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListedPage {
    /// The rows in display order.
    pub rows: Vec<ListedContact>,
    /// Cursor of the first row, when an earlier page exists.
    pub previous: Option<Cursor>,
    /// Cursor of the last row, when a later page exists.
    pub next: Option<Cursor>,
}

/// Every column of a contact, for [`StoredContact`] (contacts aliased `c`).
static COLUMNS: LazyLock<String> = LazyLock::new(|| {
    let fields: Vec<String> = ContactField::ALL
        .iter()
        .map(|f| format!("c.{}", f.key()))
        .collect();
    format!(
        "c.id, {}, c.mobile_national, c.attributes, c.created_at, c.updated_at",
        fields.join(", ")
    )
});

#[cfg(test)]
mod tests;
