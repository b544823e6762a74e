//! Add to Groups and Remove from group, from the Contacts tab's Action items.

use super::writes::ContactWrites;
use crate::api::groups::{AddToGroups, RemoveFromGroup, list_groups};
use crate::components::dialog::Modal;
use crate::components::group_picker::{GroupPick, GroupPicker, split_picks};
use crate::components::toast::use_toasts;
use crate::error::AppError;
use crate::model::contact::{Selection, Total, contacts_label};
use crate::model::group::MembershipChange;
use leptos::prelude::*;

/// Which membership dialog is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MembershipDialog {
    /// Add to Groups.
    Add,
    /// Remove from group.
    Remove,
}

/// "3 contacts added to VIP, Leads (1 was already a member)."
pub fn added_message(change: &MembershipChange) -> String {
    let mut text = format!(
        "{} added to {}",
        contacts_label(change.changed),
        change.groups.join(", ")
    );
    match change.unchanged {
        0 => {}
        1 => text.push_str(" (1 was already a member)"),
        n => text.push_str(&format!(" ({n} were already members)")),
    }
    text
}

/// "2 contacts removed from VIP."
pub fn removed_message(change: &MembershipChange) -> String {
    format!(
        "{} removed from {}",
        contacts_label(change.changed),
        change.groups.join(", ")
    )
}

/// The dialog for `which`, fetched with its code the first time one is opened (the
/// build splits it into a file of its own).
#[lazy]
pub async fn membership_dialog(
    which: MembershipDialog,
    selection: Selection,
    count: Total,
    on_close: Callback<()>,
) -> AnyView {
    match which {
        MembershipDialog::Add => view! { <AddToGroupsDialog selection count on_close/> }.into_any(),
        MembershipDialog::Remove => {
            view! { <RemoveFromGroupDialog selection count on_close/> }.into_any()
        }
    }
}

/// Type a name, pick existing groups or create one from what was typed, then Confirm.
#[component]
pub fn AddToGroupsDialog(
    selection: Selection,
    count: Total,
    on_close: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let picks = RwSignal::new(Vec::<GroupPick>::new());
    let confirm = expect_context::<ContactWrites>().add_to_groups;
    // The page's action outlives this dialog: start without the last one's answer.
    confirm.clear();
    let error: Signal<Option<AppError>> =
        Signal::derive(move || confirm.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(change)) = confirm.value().get() {
            toasts.show(added_message(&change));
            on_close.run(());
        }
    });
    let selection = StoredValue::new(selection);
    view! {
        <Modal title="Add to groups".to_string() on_close>
            <p class="muted">{format!("Add {} to the groups you choose.", count.label())}</p>
            <GroupPicker picks label="Group name"/>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
            <div class="modal-actions">
                <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="button" class="button button-primary"
                    disabled=move || picks.with(Vec::is_empty) || confirm.pending().get()
                    on:click=move |_| {
                        let (ids, names) = split_picks(picks.get_untracked());
                        confirm.dispatch(AddToGroups {
                            group_ids: ids,
                            new_groups: names,
                            selection: selection.get_value(),
                        });
                    }>"Confirm"</button>
            </div>
        </Modal>
    }
}

/// Pick one group and remove the selection from it.
#[component]
pub fn RemoveFromGroupDialog(
    selection: Selection,
    count: Total,
    on_close: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let groups = Resource::new(|| (), |_| list_groups(String::new()));
    let chosen = RwSignal::new(String::new());
    let remove = expect_context::<ContactWrites>().remove_from_group;
    remove.clear();
    let error: Signal<Option<AppError>> =
        Signal::derive(move || remove.value().get().and_then(Result::err));
    Effect::new(move |_| {
        if let Some(Ok(change)) = remove.value().get() {
            toasts.show(removed_message(&change));
            on_close.run(());
        }
    });
    let selection = StoredValue::new(selection);
    view! {
        <Modal title="Remove from group".to_string() on_close>
            <p class="muted">{format!("Remove {} from a group. The contacts themselves are kept.", count.label())}</p>
            <label for="remove-group" class="field-label">"Group"</label>
            <Suspense>
                {move || Suspend::new(async move {
                    let list = groups.await.unwrap_or_default();
                    view! {
                        <select id="remove-group" on:change=move |ev| chosen.set(event_target_value(&ev))>
                            <option value="">"Choose a group…"</option>
                            {list.into_iter().map(|g| view! { <option value=g.id.to_string()>{g.name}</option> }).collect_view()}
                        </select>
                    }
                })}
            </Suspense>
            {move || error.get().map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })}
            <div class="modal-actions">
                <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="button" class="button button-primary"
                    disabled=move || chosen.with(String::is_empty) || remove.pending().get()
                    on:click=move |_| {
                        if let Ok(group) = chosen.get_untracked().parse::<i64>() {
                            remove.dispatch(RemoveFromGroup {
                                group_id: group,
                                selection: selection.get_value(),
                            });
                        }
                    }>"Confirm"</button>
            </div>
        </Modal>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_read_as_sentences() {
        let change = MembershipChange {
            groups: vec!["Unsubscribed".into()],
            changed: 3,
            unchanged: 0,
        };
        assert_eq!(added_message(&change), "3 contacts added to Unsubscribed");
        let change = MembershipChange {
            groups: vec!["VIP".into(), "Leads".into()],
            changed: 1,
            unchanged: 2,
        };
        assert_eq!(
            added_message(&change),
            "1 contact added to VIP, Leads (2 were already members)"
        );
        assert_eq!(
            removed_message(&change),
            "1 contact removed from VIP, Leads"
        );
    }
}
