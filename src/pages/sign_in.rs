//! Sign in with email and password.

use crate::api::auth::SignIn;
use crate::components::form::{FormError, action_error, load_page};
use leptos::prelude::*;
use leptos_meta::Title;

/// The sign-in form.
#[component]
pub fn SignInPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    let error = action_error(sign_in);
    let pending = sign_in.pending();
    Effect::new(move |_| {
        if let Some(Ok(())) = sign_in.value().get() {
            load_page("/contacts");
        }
    });
    view! {
        <Title text="Sign in"/>
        <div class="auth-page">
            <section class="auth-card" aria-labelledby="sign-in-title">
                <h1 id="sign-in-title">"Sign in to Contacts"</h1>
                <ActionForm action=sign_in attr:class="form">
                    <label for="email">"Email"</label>
                    <input id="email" name="email" type="email" required autocomplete="username"/>
                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" required
                        autocomplete="current-password"/>
                    <FormError error/>
                    <button type="submit" class="button button-primary" disabled=pending>
                        {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
                <p class="muted small">"No account? Ask an admin of your workspace to add you."</p>
            </section>
        </div>
    }
}
