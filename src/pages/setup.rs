//! First run: "Create workspace".

use crate::api::auth::CreateWorkspace;
use crate::components::form::{FieldMessage, FormError, action_error, field_invalid, load_page};
use crate::model::account::{MAX_WORKSPACE_NAME_LEN, MIN_PASSWORD_LEN};
use crate::model::country::countries_by_name;
use leptos::prelude::*;
use leptos_meta::Title;

const FIELDS: &[&str] = &["workspace_name", "default_country", "email", "password"];

/// The form that creates the install's workspace and its first admin.
#[component]
pub fn SetupPage() -> impl IntoView {
    let create = ServerAction::<CreateWorkspace>::new();
    let error = action_error(create);
    let pending = create.pending();
    Effect::new(move |_| {
        if let Some(Ok(())) = create.value().get() {
            load_page("/contacts");
        }
    });
    let countries = countries_by_name()
        .into_iter()
        .map(|(code, name)| view! { <option value=code>{name}</option> })
        .collect_view();
    view! {
        <Title text="Create workspace"/>
        <div class="auth-page">
            <section class="auth-card" aria-labelledby="setup-title">
                <h1 id="setup-title">"Create workspace"</h1>
                <p class="muted">
                    "Set up Contacts for your business. You will be its admin and can add your team afterwards."
                </p>
                <ActionForm action=create attr:class="form">
                    <label for="workspace_name">"Workspace name"</label>
                    <input id="workspace_name" name="workspace_name" type="text" required
                        maxlength=MAX_WORKSPACE_NAME_LEN autocomplete="organization"
                        aria-invalid=field_invalid(error, "workspace_name")/>
                    <FieldMessage field="workspace_name" error/>

                    <label for="default_country">"Default country"</label>
                    <select id="default_country" name="default_country" required
                        aria-invalid=field_invalid(error, "default_country")
                        aria-describedby="default_country-hint">
                        <option value="">"Choose a country…"</option>
                        {countries}
                    </select>
                    <p class="hint" id="default_country-hint">
                        "Used for phone numbers written without a country code."
                    </p>
                    <FieldMessage field="default_country" error/>

                    <label for="email">"Your email"</label>
                    <input id="email" name="email" type="email" required autocomplete="email"
                        aria-invalid=field_invalid(error, "email")/>
                    <FieldMessage field="email" error/>

                    <label for="password">"Password"</label>
                    <input id="password" name="password" type="password" required
                        minlength=MIN_PASSWORD_LEN autocomplete="new-password"
                        aria-invalid=field_invalid(error, "password")
                        aria-describedby="password-hint"/>
                    <p class="hint" id="password-hint">
                        {format!("At least {MIN_PASSWORD_LEN} characters.")}
                    </p>
                    <FieldMessage field="password" error/>

                    <FormError error fields=FIELDS/>
                    <button type="submit" class="button button-primary" disabled=pending>
                        {move || if pending.get() { "Creating…" } else { "Create workspace" }}
                    </button>
                </ActionForm>
            </section>
        </div>
    }
}
