//! Settings (admins only): the workspace's users (adding them, changing roles, setting a
//! temporary password for one who forgot theirs, removing them), then its API keys
//! ([`crate::pages::api_keys`]) and webhooks ([`crate::pages::webhooks`]).

use crate::api::users::{AddUser, ChangeRole, RemoveUser, ResetPassword, list_users};
use crate::components::dialog::{ConfirmDialog, Modal};
use crate::components::form::{FieldMessage, FormError, action_error, field_invalid};
use crate::components::role_gate::RoleGate;
use crate::components::toast::use_toasts;
use crate::components::user::use_user;
use crate::model::account::MIN_PASSWORD_LEN;
use crate::model::{Role, UserSummary};
use leptos::html;
use leptos::prelude::*;
use leptos_meta::Title;

/// The Settings page; other roles are told it is for admins.
#[component]
pub fn SettingsPage() -> impl IntoView {
    view! {
        <Title text="Settings"/>
        <header class="page-header">
            <h1>"Settings"</h1>
        </header>
        <RoleGate
            allow=Role::is_admin
            fallback=|| view! {
                <div class="notice" role="alert">"Only admins can open Settings."</div>
            }
        >
            <UsersSettings/>
            <crate::pages::api_keys::ApiKeysSettings/>
            <crate::pages::webhooks::WebhooksSettings/>
        </RoleGate>
    }
}

/// What the admin is about to do to one user.
#[derive(Clone, Debug, PartialEq, Eq)]
enum UserAction {
    Remove(UserSummary),
    ResetPassword(UserSummary),
}

#[component]
fn UsersSettings() -> impl IntoView {
    let add_user = ServerAction::<AddUser>::new();
    let change_role = ServerAction::<ChangeRole>::new();
    let remove_user = ServerAction::<RemoveUser>::new();
    let reset_password = ServerAction::<ResetPassword>::new();
    let users = Resource::new(
        move || {
            (
                add_user.version().get(),
                change_role.version().get(),
                remove_user.version().get(),
            )
        },
        |_| list_users(),
    );
    let role_error = action_error(change_role);
    let acting = RwSignal::new(None::<UserAction>);
    let toasts = use_toasts();
    Effect::new(move |_| match remove_user.value().get() {
        Some(Ok(())) => {
            acting.set(None);
            toasts.show("User removed. They were signed out.");
        }
        Some(Err(e)) => {
            acting.set(None);
            toasts.show(e.to_string());
        }
        None => {}
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = reset_password.value().get() {
            acting.set(None);
            toasts.show("Temporary password set. They choose their own at their next sign-in.");
        }
    });
    view! {
        <section class="card" aria-labelledby="users-title">
            <h2 id="users-title">"Users"</h2>
            <FormError error=role_error/>
            <Transition fallback=|| view! { <p class="muted">"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(list) => view! { <UsersTable users=list change_role acting/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <AddUserForm add_user/>
        {move || acting.get().map(|action| match action {
            UserAction::Remove(user) => {
                let id = user.id;
                view! {
                    <ConfirmDialog
                        title=format!("Remove {}?", user.email)
                        message="They are signed out at once and can no longer sign in. \
                            Their uploads stay, shown as by a removed user.".to_string()
                        confirm_label="Remove user"
                        pending=remove_user.pending()
                        on_confirm=Callback::new(move |()| {
                            remove_user.dispatch(RemoveUser { user_id: id });
                        })
                        on_cancel=Callback::new(move |()| acting.set(None))
                    />
                }.into_any()
            }
            UserAction::ResetPassword(user) => view! {
                <ResetPasswordDialog user reset_password on_close=Callback::new(move |()| acting.set(None))/>
            }.into_any(),
        })}
    }
}

#[component]
fn UsersTable(
    users: Vec<UserSummary>,
    change_role: ServerAction<ChangeRole>,
    acting: RwSignal<Option<UserAction>>,
) -> impl IntoView {
    let me = use_user();
    let rows = users
        .into_iter()
        .map(|user| {
            let select_id = format!("role-{}", user.id);
            let options = Role::ALL
                .iter()
                .map(|role| {
                    view! {
                        <option value=role.as_str() selected=*role == user.role>{role.label()}</option>
                    }
                })
                .collect_view();
            let id = user.id;
            let for_reset = user.clone();
            let for_remove = user.clone();
            let is_me = move || me.get().and_then(Result::ok).is_some_and(|u| u.id == id);
            view! {
                <tr>
                    <td>{user.email.clone()}</td>
                    <td>
                        <ActionForm action=change_role attr:class="inline-form">
                            <input type="hidden" name="user_id" value=user.id/>
                            <label class="visually-hidden" for=select_id.clone()>
                                {format!("Role of {}", user.email)}
                            </label>
                            <select id=select_id name="role">{options}</select>
                            <button type="submit" class="button button-quiet">"Save role"</button>
                        </ActionForm>
                    </td>
                    <td>{crate::model::date::format_date(user.created_at)}</td>
                    <td class="row-actions">
                        <Transition>
                            {move || (!is_me()).then(|| {
                                let (for_reset, for_remove) = (for_reset.clone(), for_remove.clone());
                                view! {
                                    <button type="button" class="button button-quiet"
                                        on:click=move |_| acting.set(Some(UserAction::ResetPassword(for_reset.clone())))>
                                        "Set password"
                                    </button>
                                    <button type="button" class="button button-quiet danger-text"
                                        on:click=move |_| acting.set(Some(UserAction::Remove(for_remove.clone())))>
                                        "Remove"
                                    </button>
                                }
                            })}
                        </Transition>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"Email"</th>
                    <th scope="col">"Role"</th>
                    <th scope="col">"Added"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// Sets a temporary password for a user who forgot theirs.
#[component]
fn ResetPasswordDialog(
    user: UserSummary,
    reset_password: ServerAction<ResetPassword>,
    on_close: Callback<()>,
) -> impl IntoView {
    let error = action_error(reset_password);
    view! {
        <Modal title=format!("Set a temporary password for {}", user.email) on_close>
            <ActionForm action=reset_password attr:class="form">
                <input type="hidden" name="user_id" value=user.id/>
                <label for="reset-password">"Temporary password"</label>
                <input id="reset-password" name="password" type="text" required
                    minlength=MIN_PASSWORD_LEN autocomplete="off"
                    aria-invalid=field_invalid(error, "password")/>
                <span class="hint">"They are signed out, and choose their own password at their next sign-in."</span>
                <FieldMessage field="password" error/>
                <FormError error fields=&["password"]/>
                <div class="modal-actions">
                    <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="button button-primary" disabled=reset_password.pending()>
                        "Set password"
                    </button>
                </div>
            </ActionForm>
        </Modal>
    }
}

#[component]
fn AddUserForm(add_user: ServerAction<AddUser>) -> impl IntoView {
    let error = action_error(add_user);
    let form = NodeRef::<html::Form>::new();
    let toasts = use_toasts();
    // A new user is entered in a blank form.
    Effect::new(move |_| {
        if let Some(Ok(email)) = add_user.value().get() {
            toasts.show(format!(
                "Added {email}. Give them the temporary password: they choose their own at first sign-in."
            ));
            if let Some(form) = form.get() {
                form.reset();
            }
        }
    });
    view! {
        <section class="card" aria-labelledby="add-user-title">
            <h2 id="add-user-title">"Add user"</h2>
            <ActionForm action=add_user node_ref=form attr:class="form form-row">
                <div>
                    <label for="new-user-email">"Email"</label>
                    <input id="new-user-email" name="email" type="email" required autocomplete="off"
                        aria-invalid=field_invalid(error, "email")/>
                    <FieldMessage field="email" error/>
                </div>
                <div>
                    <label for="new-user-password">"Temporary password"</label>
                    <input id="new-user-password" name="password" type="text" required
                        minlength=MIN_PASSWORD_LEN autocomplete="off"
                        aria-invalid=field_invalid(error, "password")/>
                    <FieldMessage field="password" error/>
                </div>
                <div>
                    <label for="new-user-role">"Role"</label>
                    <select id="new-user-role" name="role">
                        <option value="editor">"Editor"</option>
                        <option value="viewer">"Viewer"</option>
                        <option value="admin">"Admin"</option>
                    </select>
                </div>
                <button type="submit" class="button button-primary" disabled=add_user.pending()>
                    "Add user"
                </button>
            </ActionForm>
            <FormError error fields=&["email", "password"]/>
        </section>
    }
}
