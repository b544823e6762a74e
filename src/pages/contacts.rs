//! The Contacts page: header, its three tabs (each with its own URL) and their contents.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Outlet};

/// The page frame: title and the tabs Contacts, Upload contacts, Contact Groups.
#[component]
pub fn ContactsPage() -> impl IntoView {
    view! {
        <header class="page-header">
            <h1>"Contacts"</h1>
        </header>
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

/// The contacts table.
#[component]
pub fn ContactsTab() -> impl IntoView {
    view! {
        <Title text="Contacts"/>
        <EmptyState title="No contacts yet">
            "Create contacts one by one, or "
            <A href="/contacts/upload">"upload a CSV file"</A>
            " to add thousands at once."
        </EmptyState>
    }
}

/// Uploading contacts from a file.
#[component]
pub fn UploadTab() -> impl IntoView {
    view! {
        <Title text="Upload contacts"/>
        <EmptyState title="No uploads yet">
            "Upload a CSV file with a column of mobile numbers; its uploads will be listed here."
        </EmptyState>
    }
}

/// The contact groups.
#[component]
pub fn GroupsTab() -> impl IntoView {
    view! {
        <Title text="Contact Groups"/>
        <EmptyState title="No groups yet">
            "Groups sort your contacts, for example by campaign. Blacklist a group to stop messages to its members."
        </EmptyState>
    }
}

/// What an empty list says: what it will hold and what to do next.
#[component]
pub fn EmptyState(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="empty-state" data-testid="empty-state">
            <h2>{title}</h2>
            <p>{children()}</p>
        </div>
    }
}
