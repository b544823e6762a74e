//! What an empty list says: what it will hold and what to do next.

use leptos::prelude::*;

/// An empty list's title and a sentence on what to do next.
#[component]
pub fn EmptyState(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <div class="empty-state" data-testid="empty-state">
            <h2>{title}</h2>
            <p>{children()}</p>
        </div>
    }
}
