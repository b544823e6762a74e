//! The left navigation bar.

use crate::api::auth::SignOut;
use crate::components::form::load_page;
use crate::model::CurrentUser;
use leptos::prelude::*;
use leptos_router::components::A;

/// Links to the app's sections, the workspace, and the signed-in user with "Sign out".
#[component]
pub fn SideNav(user: CurrentUser) -> impl IntoView {
    let sign_out = ServerAction::<SignOut>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_out.value().get() {
            load_page("/login");
        }
    });
    let is_admin = user.role.is_admin();
    view! {
        <nav class="sidenav" aria-label="Main">
            <div class="brand">
                <span class="brand-name">"Contacts"</span>
                <span class="brand-workspace" data-testid="workspace-name">{user.workspace_name}</span>
            </div>
            <ul class="sidenav-links">
                <li><A href="/contacts">"Contacts"</A></li>
                <Show when=move || is_admin>
                    <li><A href="/settings">"Settings"</A></li>
                </Show>
            </ul>
            <div class="sidenav-account">
                <span class="account-email" data-testid="signed-in-user">{user.email}</span>
                <span class="account-role">{user.role.label()}</span>
                <A href="/account">"Account"</A>
                <ActionForm action=sign_out>
                    <button type="submit" class="button button-quiet">"Sign out"</button>
                </ActionForm>
            </div>
        </nav>
    }
}
