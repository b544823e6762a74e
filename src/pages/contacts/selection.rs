//! The Contacts tab's selection: rows picked one by one, or "all N matching" the filter.
//! One value in context, read by the table, its banner and the Action items menu.

use crate::model::contact::{ContactFilter, Selection, Total};
use leptos::prelude::*;
use std::collections::BTreeSet;

/// Which contacts are selected.
#[derive(Clone, Copy)]
pub struct TableSelection {
    /// Rows picked one by one (ids).
    ids: RwSignal<BTreeSet<i64>>,
    /// Every contact matching the filter ("Select all N matching").
    all_matching: RwSignal<bool>,
}

impl TableSelection {
    /// Nothing selected.
    pub fn new() -> Self {
        TableSelection {
            ids: RwSignal::new(BTreeSet::new()),
            all_matching: RwSignal::new(false),
        }
    }

    /// Selects nothing.
    pub fn clear(&self) {
        self.ids.set(BTreeSet::new());
        self.all_matching.set(false);
    }

    /// Whether every contact matching the filter is selected (tracked).
    pub fn is_all_matching(&self) -> bool {
        self.all_matching.get()
    }

    /// Selects every contact matching the filter.
    pub fn select_all_matching(&self) {
        self.all_matching.set(true);
    }

    /// Whether a row is selected (tracked).
    pub fn contains(&self, id: i64) -> bool {
        self.all_matching.get() || self.ids.with(|s| s.contains(&id))
    }

    /// Whether every row of a page is selected (tracked).
    pub fn contains_all(&self, page: &[i64]) -> bool {
        self.all_matching.get() || self.ids.with(|s| page.iter().all(|id| s.contains(id)))
    }

    /// Picks or unpicks one row; a no-op while all matching are selected (the banner
    /// clears that).
    pub fn toggle(&self, id: i64) {
        if self.all_matching.get_untracked() {
            return;
        }
        self.ids.update(|s| {
            if !s.remove(&id) {
                s.insert(id);
            }
        });
    }

    /// Picks (or unpicks) every row of a page, leaving "all matching".
    pub fn set_page(&self, page: &[i64], select: bool) {
        self.all_matching.set(false);
        self.ids.update(|s| {
            for id in page {
                if select {
                    s.insert(*id);
                } else {
                    s.remove(id);
                }
            }
        });
    }

    /// What an action on the selection applies to, under `filter` (tracked).
    pub fn selection(&self, filter: ContactFilter) -> Selection {
        if self.all_matching.get() {
            Selection::AllMatching(filter)
        } else {
            Selection::Ids(self.ids.get().into_iter().collect())
        }
    }

    /// How many contacts are selected, `total` being how many match (tracked).
    pub fn count(&self, total: Option<Total>) -> Total {
        if self.all_matching.get() {
            total.unwrap_or_default()
        } else {
            Total::exact(self.ids.with(|s| s.len() as i64))
        }
    }
}

impl Default for TableSelection {
    fn default() -> Self {
        Self::new()
    }
}
