//! Settings → API keys (admins): the workspace's keys, making one (its secret is shown
//! this once, to copy) and revoking one.

use crate::api::keys::{CreateApiKey, RevokeApiKey, list_api_keys};
use crate::components::dialog::ConfirmDialog;
use crate::components::form::{FieldMessage, FormError, action_error, field_invalid};
use crate::components::toast::use_toasts;
use crate::model::api_key::{ApiKeySummary, KEY_ROLES};
use crate::model::date::format_date;
use leptos::html;
use leptos::prelude::*;

/// The API keys section of Settings.
#[component]
pub fn ApiKeysSettings() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    let revoking = RwSignal::new(None::<ApiKeySummary>);
    let toasts = use_toasts();
    Effect::new(move |_| match revoke.value().get() {
        Some(Ok(())) => {
            revoking.set(None);
            toasts.show("Key revoked. Requests with it are refused from now on.");
        }
        Some(Err(e)) => {
            revoking.set(None);
            toasts.show(e.to_string());
        }
        None => {}
    });
    view! {
        <section class="card" aria-labelledby="keys-title">
            <h2 id="keys-title">"API keys"</h2>
            <p class="hint">
                "Programs use a key to reach this workspace's contacts through the "
                <a href="/api/docs">"Contacts API"</a>
                ". A key acts with its role: an editor key changes contacts and groups, a viewer key only reads."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading keys…"</p> }>
                {move || Suspend::new(async move {
                    match keys.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"No keys yet. Create one below for each program that needs access."</p>
                        }.into_any(),
                        Ok(list) => view! { <KeysTable keys=list revoking/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <CreateKeyForm create/>
        {move || revoking.get().map(|key| {
            let id = key.id;
            view! {
                <ConfirmDialog
                    title=format!("Revoke \"{}\"?", key.name)
                    message="Every request with this key is refused from now on. This cannot be undone: \
                        a program that still needs access needs a new key.".to_string()
                    confirm_label="Revoke key"
                    pending=revoke.pending()
                    on_confirm=Callback::new(move |()| { revoke.dispatch(RevokeApiKey { id }); })
                    on_cancel=Callback::new(move |()| revoking.set(None))
                />
            }
        })}
    }
}

#[component]
fn KeysTable(keys: Vec<ApiKeySummary>, revoking: RwSignal<Option<ApiKeySummary>>) -> impl IntoView {
    let rows = keys
        .into_iter()
        .map(|key| {
            let revoked = key.revoked_at.is_some();
            let for_revoke = key.clone();
            view! {
                <tr data-testid="api-key-row" class:muted=revoked>
                    <td>{key.name.clone()}</td>
                    <td>{key.role.label()}</td>
                    <td><code>{format!("{}…", key.prefix)}</code></td>
                    <td>{format_date(key.created_at)}</td>
                    <td>{if key.created_by.is_empty() { "—".to_string() } else { key.created_by.clone() }}</td>
                    <td>{key.last_used_at.map_or_else(|| "Never".to_string(), format_date)}</td>
                    <td class="row-actions">
                        {if revoked {
                            view! { <span class="badge">"Revoked"</span> }.into_any()
                        } else {
                            view! {
                                <button type="button" class="button button-quiet danger-text"
                                    aria-label=format!("Revoke {}", key.name)
                                    on:click=move |_| revoking.set(Some(for_revoke.clone()))>
                                    "Revoke"
                                </button>
                            }.into_any()
                        }}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Key"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col">"Created by"</th>
                    <th scope="col">"Last used"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn CreateKeyForm(create: ServerAction<CreateApiKey>) -> impl IntoView {
    let error = action_error(create);
    let form = NodeRef::<html::Form>::new();
    // The new key's secret, shown until the admin says it is copied.
    let secret = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(key)) = create.value().get() {
            secret.set(Some(key.secret));
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    view! {
        <section class="card" aria-labelledby="create-key-title">
            <h2 id="create-key-title">"Create key"</h2>
            {move || secret.get().map(|value| view! {
                <div class="notice" role="status" data-testid="new-api-key">
                    <p><strong>"Copy the key now: it is not shown again."</strong></p>
                    <label for="new-key-secret">"The new key"</label>
                    <input id="new-key-secret" type="text" readonly class="secret" value=value/>
                    <button type="button" class="button" on:click=move |_| secret.set(None)>"I have copied it"</button>
                </div>
            })}
            <ActionForm action=create node_ref=form attr:class="form form-row">
                <div>
                    <label for="new-key-name">"Key name"</label>
                    <input id="new-key-name" name="name" type="text" required autocomplete="off"
                        placeholder="e.g. Shop sign-ups"
                        aria-invalid=field_invalid(error, "name")/>
                    <FieldMessage field="name" error/>
                </div>
                <div>
                    <label for="new-key-role">"Key role"</label>
                    <select id="new-key-role" name="role">
                        {KEY_ROLES.into_iter().map(|role| view! {
                            <option value=role.as_str()>{role.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <button type="submit" class="button button-primary" disabled=create.pending()>
                    "Create key"
                </button>
            </ActionForm>
            <FormError error fields=&["name"]/>
        </section>
    }
}
