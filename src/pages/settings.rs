//! Settings (admins only): the workspace's users, adding users and changing roles.

use crate::api::users::{AddUser, ChangeRole, list_users};
use crate::components::form::{FieldMessage, FormError, action_error, field_invalid};
use crate::components::role_gate::RoleGate;
use crate::components::toast::use_toasts;
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
        </RoleGate>
    }
}

#[component]
fn UsersSettings() -> impl IntoView {
    let add_user = ServerAction::<AddUser>::new();
    let change_role = ServerAction::<ChangeRole>::new();
    let users = Resource::new(
        move || (add_user.version().get(), change_role.version().get()),
        |_| list_users(),
    );
    let role_error = action_error(change_role);
    view! {
        <section class="card" aria-labelledby="users-title">
            <h2 id="users-title">"Users"</h2>
            <FormError error=role_error/>
            <Transition fallback=|| view! { <p class="muted">"Loading users…"</p> }>
                {move || Suspend::new(async move {
                    match users.await {
                        Ok(list) => view! { <UsersTable users=list change_role/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
        <AddUserForm add_user/>
    }
}

#[component]
fn UsersTable(users: Vec<UserSummary>, change_role: ServerAction<ChangeRole>) -> impl IntoView {
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
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table">
            <thead>
                <tr><th scope="col">"Email"</th><th scope="col">"Role"</th><th scope="col">"Added"</th></tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
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
                "Added {email}. Give them the temporary password to sign in."
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
