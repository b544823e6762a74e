//! The Contacts page: header, its three tabs (each with its own URL) and their contents.

pub mod contact_changes;
pub mod contact_dialog;
pub mod groups;
pub mod membership_dialogs;
pub mod selection;
pub mod table;
pub mod toolbar;
pub mod upload;
pub mod writes;

pub use groups::GroupsTab;
pub use table::ContactsTab;

use crate::components::role_gate::RoleGate;
use crate::model::Role;
use contact_dialog::{ContactDialog, ContactDialogHost, DialogMode};
use leptos::prelude::*;
use leptos_router::components::{A, Outlet};
use writes::ContactWrites;

/// The page frame: title, "Create Contact", and the tabs Contacts, Upload contacts,
/// Contact Groups.
#[component]
pub fn ContactsPage() -> impl IntoView {
    let dialog = ContactDialog::new();
    provide_context(dialog);
    provide_context(ContactWrites::new());
    view! {
        <header class="page-header">
            <h1>"Contacts"</h1>
            <RoleGate allow=Role::can_edit>
                <button type="button" class="button button-primary"
                    on:click=move |_| dialog.mode.set(Some(DialogMode::Create))>
                    "Create Contact"
                </button>
            </RoleGate>
        </header>
        <ContactDialogHost state=dialog/>
        <nav class="tabs" aria-label="Contact sections">
            <A href="/contacts" exact=true>"Contacts"</A>
            <A href="/contacts/upload">"Upload contacts"</A>
            <A href="/contacts/groups">"Contact Groups"</A>
        </nav>
        <section class="tab-panel">
            <Outlet/>
        </section>
    }
}
