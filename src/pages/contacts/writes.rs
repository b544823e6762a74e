//! The Contacts tab's writes, created once by the page: the table's resources read
//! their versions, so every finished save, delete or membership change refetches the
//! lists (the refresh pattern Settings uses), and no component bumps a counter by hand.

use crate::api::contacts::{DeleteContacts, EraseContact, SaveContact, SetOptOut};
use crate::api::groups::{AddToGroups, RemoveFromGroup};
use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct ContactWrites {
    /// Create Contact / Edit contact.
    pub save: ServerAction<SaveContact>,
    /// Delete from the Edit contact dialog.
    pub delete_one: ServerAction<DeleteContacts>,
    /// Delete from Action items (the selection).
    pub delete_selected: ServerAction<DeleteContacts>,
    pub add_to_groups: ServerAction<AddToGroups>,
    pub remove_from_group: ServerAction<RemoveFromGroup>,
    /// Opt out or back in, from the Edit contact dialog.
    pub opt_out: ServerAction<SetOptOut>,
    /// Erase a person, from the Edit contact dialog (admins).
    pub erase: ServerAction<EraseContact>,
}

impl ContactWrites {
    pub fn new() -> Self {
        ContactWrites {
            save: ServerAction::new(),
            delete_one: ServerAction::new(),
            delete_selected: ServerAction::new(),
            add_to_groups: ServerAction::new(),
            remove_from_group: ServerAction::new(),
            opt_out: ServerAction::new(),
            erase: ServerAction::new(),
        }
    }

    /// How many writes have finished (tracked): a resource that reads it refetches
    /// after each one.
    pub fn version(&self) -> usize {
        self.save.version().get()
            + self.delete_one.version().get()
            + self.delete_selected.version().get()
            + self.add_to_groups.version().get()
            + self.remove_from_group.version().get()
            + self.opt_out.version().get()
            + self.erase.version().get()
    }
}

impl Default for ContactWrites {
    fn default() -> Self {
        Self::new()
    }
}
