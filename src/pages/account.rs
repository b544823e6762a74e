//! Account: change your own password, sign out everywhere. A user whose password an
//! admin set is sent here until they have chosen their own.

use crate::api::auth::{ChangePassword, SignOutEverywhere};
use crate::components::form::{FieldMessage, FormError, action_error, field_invalid, load_page};
use crate::components::toast::use_toasts;
use crate::components::user::use_user;
use crate::model::account::MIN_PASSWORD_LEN;
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;

/// The Account page.
#[component]
pub fn AccountPage() -> impl IntoView {
    let user = use_user();
    let change = ServerAction::<ChangePassword>::new();
    let everywhere = ServerAction::<SignOutEverywhere>::new();
    let error = action_error(change);
    let everywhere_error = action_error(everywhere);
    let toasts = use_toasts();
    let form = NodeRef::<html::Form>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = change.value().get() {
            let forced = user
                .get_untracked()
                .and_then(Result::ok)
                .is_some_and(|u| u.must_change_password);
            if forced {
                // The rest of the app opens now: load it afresh.
                load_page("/contacts");
            } else {
                toasts.show("Password changed. Your other sessions were signed out.");
                if let Some(form) = form.get() {
                    form.reset();
                }
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = everywhere.value().get() {
            load_page("/login");
        }
    });
    view! {
        <Title text="Account"/>
        <header class="page-header">
            <h1>"Account"</h1>
        </header>
        <Suspense>
            {move || Suspend::new(async move {
                let forced = user.await.is_ok_and(|u| u.must_change_password);
                forced.then(|| view! {
                    <div class="notice" role="alert" data-testid="password-notice">
                        "Your password was set by an admin. Choose your own to continue."
                    </div>
                })
            })}
        </Suspense>
        <section class="card" aria-labelledby="password-title">
            <h2 id="password-title">"Change password"</h2>
            <ActionForm action=change node_ref=form attr:class="form form-narrow">
                <label for="current-password">"Current password"</label>
                <input id="current-password" name="current_password" type="password" required
                    autocomplete="current-password"
                    aria-invalid=field_invalid(error, "current_password")/>
                <FieldMessage field="current_password" error/>
                <label for="new-password">"New password"</label>
                <input id="new-password" name="new_password" type="password" required
                    minlength=MIN_PASSWORD_LEN autocomplete="new-password"
                    aria-invalid=field_invalid(error, "new_password")/>
                <span class="hint">{format!("At least {MIN_PASSWORD_LEN} characters.")}</span>
                <FieldMessage field="new_password" error/>
                <FormError error fields=&["current_password", "new_password"]/>
                <button type="submit" class="button button-primary" disabled=change.pending()>
                    "Change password"
                </button>
            </ActionForm>
        </section>
        <section class="card" aria-labelledby="sessions-title">
            <h2 id="sessions-title">"Sessions"</h2>
            <p class="muted">
                "Signed in on a computer you no longer use? Sign out everywhere, this browser included."
            </p>
            <ActionForm action=everywhere>
                <button type="submit" class="button" disabled=everywhere.pending()>
                    "Sign out everywhere"
                </button>
            </ActionForm>
            <FormError error=everywhere_error/>
        </section>
    }
}
