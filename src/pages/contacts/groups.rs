//! The Contact Groups tab: the groups with their member counts, create, edit (including
//! the Blacklisted flag) and delete.

use crate::api::groups::{DeleteGroup, SaveGroup, list_groups};
use crate::components::dialog::{ConfirmDialog, Modal};
use crate::components::empty_state::EmptyState;
use crate::components::form::FieldMessage;
use crate::components::search::settled;
use crate::components::toast::use_toasts;
use crate::components::user::{UserResource, can_edit};
use crate::error::AppError;
use crate::model::date::format_date;
use crate::model::group::{
    GroupInput, GroupSummary, MAX_GROUP_DESCRIPTION_LEN, MAX_GROUP_NAME_LEN,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;

/// What the group dialog is doing.
#[derive(Clone, Debug, PartialEq)]
enum GroupDialog {
    Create,
    Edit(GroupSummary),
    Delete(GroupSummary),
}

/// "1 contact" / "3 contacts", for member counts.
fn members_label(n: i64) -> String {
    crate::model::contact::contacts_label(n)
}

/// The groups table with its toolbar and dialogs.
#[component]
pub fn GroupsTab() -> impl IntoView {
    let user = expect_context::<UserResource>();
    let search = RwSignal::new(String::new());
    let settled = settled(search);
    let dialog = RwSignal::new(None::<GroupDialog>);
    // The dialogs' writes live here: the list refetches through their versions.
    let save = ServerAction::<SaveGroup>::new();
    let delete = ServerAction::<DeleteGroup>::new();
    let groups = Resource::new(
        move || (settled.get(), save.version().get(), delete.version().get()),
        |(search, _, _)| list_groups(search),
    );
    view! {
        <Title text="Contact Groups"/>
        <div class="toolbar">
            <label class="visually-hidden" for="group-search">"Search groups"</label>
            <input id="group-search" type="search" class="search" placeholder="Search group names"
                on:input=move |ev| search.set(event_target_value(&ev))/>
            <span class="toolbar-spacer"></span>
            <Suspense>
                {move || Suspend::new(async move {
                    can_edit(user).await.then(|| view! {
                        <button type="button" class="button button-primary"
                            on:click=move |_| dialog.set(Some(GroupDialog::Create))>"Create group"</button>
                    })
                })}
            </Suspense>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading groups…"</p> }>
            {move || Suspend::new(async move {
                let can_edit = can_edit(user).await;
                match groups.await {
                    Ok(list) if list.is_empty() && search.get_untracked().is_empty() => view! {
                        <EmptyState title="No groups yet">
                            "Groups sort your contacts, for example by campaign. Blacklist a group to stop messages to its members."
                        </EmptyState>
                    }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <EmptyState title="No matching groups">"No group name starts with that."</EmptyState>
                    }.into_any(),
                    Ok(list) => view! { <GroupsTable groups=list can_edit dialog/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || dialog.get().map(|mode| match mode {
            GroupDialog::Create => view! { <GroupForm group=None dialog save/> }.into_any(),
            GroupDialog::Edit(g) => view! { <GroupForm group=Some(g) dialog save/> }.into_any(),
            GroupDialog::Delete(g) => view! { <DeleteGroupDialog group=g dialog delete/> }.into_any(),
        })}
    }
}

#[component]
fn GroupsTable(
    groups: Vec<GroupSummary>,
    can_edit: bool,
    dialog: RwSignal<Option<GroupDialog>>,
) -> impl IntoView {
    let rows = groups
        .into_iter()
        .map(|g| {
            let edit = g.clone();
            let delete = g.clone();
            view! {
                <tr>
                    <td class="row-name">{g.name.clone()}</td>
                    <td class="muted">{g.description.clone()}</td>
                    <td class="nowrap">
                        <A href=format!("/contacts?group={}", g.id) attr:aria-label=format!("{} in {}", members_label(g.member_count), g.name)>
                            {members_label(g.member_count)}
                        </A>
                    </td>
                    <td>{g.blacklisted.then(|| view! { <span class="badge badge-danger">"Blacklisted"</span> })}</td>
                    <td class="nowrap">{format_date(g.created_at)}</td>
                    <td class="nowrap actions">
                        {can_edit.then(|| view! {
                            <button type="button" class="button button-quiet"
                                aria-label=format!("Edit {}", g.name)
                                on:click=move |_| dialog.set(Some(GroupDialog::Edit(edit.clone())))>"Edit"</button>
                            <button type="button" class="button button-quiet danger-text"
                                aria-label=format!("Delete {}", g.name)
                                on:click=move |_| dialog.set(Some(GroupDialog::Delete(delete.clone())))>"Delete"</button>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Description"</th>
                        <th scope="col">"Members"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Created"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn GroupForm(
    group: Option<GroupSummary>,
    dialog: RwSignal<Option<GroupDialog>>,
    save: ServerAction<SaveGroup>,
) -> impl IntoView {
    let toasts = use_toasts();
    // The tab's action outlives this form: start without the last form's answer.
    save.clear();
    let id = group.as_ref().map(|g| g.id);
    let name = RwSignal::new(group.as_ref().map(|g| g.name.clone()).unwrap_or_default());
    let description = RwSignal::new(
        group
            .as_ref()
            .map(|g| g.description.clone())
            .unwrap_or_default(),
    );
    let blacklisted = RwSignal::new(group.as_ref().is_some_and(|g| g.blacklisted));
    let error: Signal<Option<AppError>> =
        Signal::derive(move || save.value().get().and_then(Result::err));
    let close = Callback::new(move |()| dialog.set(None));
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            let name = name.get_untracked();
            toasts.show(if id.is_some() {
                format!("Group \"{name}\" saved")
            } else {
                format!("Group \"{name}\" created")
            });
            dialog.set(None);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(SaveGroup {
            id,
            input: GroupInput {
                name: name.get_untracked(),
                description: description.get_untracked(),
                blacklisted: blacklisted.get_untracked(),
            },
        });
    };
    let title = if id.is_some() {
        "Edit group"
    } else {
        "Create group"
    };
    view! {
        <Modal title=title.to_string() on_close=close>
            <form class="form" on:submit=submit novalidate>
                <label for="group-name">"Name"</label>
                <input id="group-name" type="text" bind:value=name maxlength=MAX_GROUP_NAME_LEN required
                    aria-invalid=move || error.get().and_then(|e| e.field_message("name")).is_some().to_string()/>
                <FieldMessage field="name" error/>
                <label for="group-description">"Description (optional)"</label>
                <textarea id="group-description" rows="3" maxlength=MAX_GROUP_DESCRIPTION_LEN
                    prop:value=move || description.get()
                    on:input=move |ev| description.set(event_target_value(&ev))></textarea>
                <FieldMessage field="description" error/>
                {id.is_some().then(|| view! {
                    <label class="checkbox-label">
                        <input type="checkbox" bind:checked=blacklisted/>
                        "Blacklisted"
                    </label>
                    <p class="hint">"Members of a blacklisted group are never messaged, whatever other groups they are in."</p>
                })}
                {move || error.get().filter(|e| !matches!(e, AppError::Invalid(_))).map(|e| view! {
                    <p class="form-error" role="alert">{e.to_string()}</p>
                })}
                <div class="modal-actions">
                    <button type="button" class="button" on:click=move |_| close.run(())>"Cancel"</button>
                    <button type="submit" class="button button-primary" disabled=save.pending()>
                        {if id.is_some() { "Save" } else { "Create group" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn DeleteGroupDialog(
    group: GroupSummary,
    dialog: RwSignal<Option<GroupDialog>>,
    delete: ServerAction<DeleteGroup>,
) -> impl IntoView {
    let toasts = use_toasts();
    delete.clear();
    let name = group.name.clone();
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(())) => {
            toasts.show(format!("Group \"{name}\" deleted"));
            dialog.set(None);
        }
        Some(Err(e)) => {
            toasts.show(e.to_string());
            dialog.set(None);
        }
        None => {}
    });
    let id = group.id;
    view! {
        <ConfirmDialog
            title=format!("Delete group \"{}\"?", group.name)
            message=format!(
                "It holds {}. They are kept; only the group and their membership in it are deleted.",
                members_label(group.member_count)
            )
            confirm_label="Delete group"
            pending=delete.pending()
            on_confirm=Callback::new(move |()| { delete.dispatch(DeleteGroup { id }); })
            on_cancel=Callback::new(move |()| dialog.set(None))
        />
    }
}
