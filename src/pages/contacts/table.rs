//! The Contacts tab: the table of one page of contacts, with keyset paging and
//! selection. Its toolbar (search, filters, Action items) is in [`super::toolbar`]; what
//! the URL asks for is [`TableQuery`], read once here and shared through [`ContactsView`].

use super::contact_dialog::{ContactDialog, DialogMode};
use super::membership_dialogs::{MembershipDialog, membership_dialog};
use super::selection::TableSelection;
use super::toolbar::Toolbar;
use super::writes::ContactWrites;
use crate::api::contacts::{DeleteContacts, count_contacts, list_contacts};
use crate::components::dialog::ConfirmDialog;
use crate::components::empty_state::EmptyState;
use crate::components::toast::use_toasts;
use crate::components::user::{UserResource, can_edit};
use crate::model::contact::{
    ContactFilter, ContactPage, ContactRow, PageRequest, TableQuery, Total, contacts_label,
};
use crate::model::date::format_date;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use std::sync::Arc;

/// What the Contacts tab shows, shared by its parts through context.
#[derive(Clone, Copy)]
pub struct ContactsView {
    /// What the URL asks for.
    pub query: Memo<TableQuery>,
    /// Which page of it.
    pub page_request: RwSignal<PageRequest>,
    /// The selected rows.
    pub selection: TableSelection,
    /// How many contacts match the filter, once counted.
    pub total: Signal<Option<Total>>,
    /// Whether the count goes past its bound, to every match (asked for by the user, and
    /// by selecting all matching); the filter changing ends it.
    pub exact_count: RwSignal<bool>,
    /// Which membership dialog is open.
    pub membership: RwSignal<Option<MembershipDialog>>,
    /// Whether "Delete" waits for its confirmation.
    pub confirming_delete: RwSignal<bool>,
}

impl ContactsView {
    /// The filter (tracked).
    pub fn filter(&self) -> ContactFilter {
        self.query.with(|q| q.filter.clone())
    }

    /// How many contacts are selected (tracked).
    pub fn selected_count(&self) -> Total {
        self.selection.count(self.total.get())
    }
}

/// The contacts table with its toolbar.
#[component]
pub fn ContactsTab() -> impl IntoView {
    let writes = expect_context::<ContactWrites>();
    let user = expect_context::<UserResource>();
    let params = use_query_map();
    let query = Memo::new(move |_| TableQuery::from_params(|key| params.read().get(key)));
    let page_request = RwSignal::new(PageRequest::First);
    let selection = TableSelection::new();
    let exact_count = RwSignal::new(false);
    Effect::watch(
        move || query.get(),
        move |_, _, _| {
            page_request.set(PageRequest::First);
            selection.clear();
            exact_count.set(false);
        },
        false,
    );
    let page = Resource::new(
        move || (query.get(), page_request.get(), writes.version()),
        |(query, request, _)| list_contacts(query.filter, request, query.size),
    );
    let filter = Memo::new(move |_| query.with(|q| q.filter.clone()));
    let total = Resource::new(
        move || (filter.get(), exact_count.get(), writes.version()),
        |(filter, exact, _)| count_contacts(filter, exact),
    );
    // The count as the labels outside the Transition read it. An effect copies it there:
    // reading the resource itself outside a Transition is not hydration-safe.
    let total_now = RwSignal::new(None::<Total>);
    // An exact count that failed leaves the bounded one ("10,000+") in place: the
    // toolbar says why, and "select all matching" still names a number.
    Effect::new(move |_| match total.get() {
        Some(Ok(counted)) => total_now.set(Some(counted)),
        Some(Err(_)) if exact_count.get_untracked() => {}
        _ => total_now.set(None),
    });
    let view = ContactsView {
        query,
        page_request,
        selection,
        total: total_now.into(),
        exact_count,
        membership: RwSignal::new(None),
        confirming_delete: RwSignal::new(false),
    };
    provide_context(view);
    view! {
        <Title text="Contacts"/>
        <Toolbar count=total/>
        <Transition fallback=|| view! { <p class="muted">"Loading contacts…"</p> }>
            {move || Suspend::new(async move {
                let can_edit = can_edit(user).await;
                match page.await {
                    Ok(page_data) => view! { <ContactsTable page_data can_edit/> }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        <SelectionDialogs/>
    }
}

/// The dialogs that act on the selection: Add to Groups / Remove from group, and the
/// confirmation of Delete.
#[component]
fn SelectionDialogs() -> impl IntoView {
    let view = expect_context::<ContactsView>();
    let writes = expect_context::<ContactWrites>();
    let toasts = use_toasts();
    let delete = writes.delete_selected;
    Effect::new(move |_| {
        if let Some(result) = delete.value().get() {
            view.confirming_delete.set(false);
            match result {
                Ok(n) => {
                    toasts.show(format!("{} deleted", contacts_label(n as i64)));
                    view.selection.clear();
                    view.page_request.set(PageRequest::First);
                }
                Err(e) => toasts.show(e.to_string()),
            }
        }
    });
    let close = Callback::new(move |()| view.membership.set(None));
    let count = Signal::derive(move || view.selected_count());
    view! {
        {move || view.membership.get().map(|which| {
            let selection = view.selection.selection(view.filter());
            let count = count.get_untracked();
            view! {
                <Suspense>
                    {move || {
                        let selection = selection.clone();
                        Suspend::new(async move {
                            membership_dialog(which, selection, count, close).await
                        })
                    }}
                </Suspense>
            }
        })}
        <Show when=move || view.confirming_delete.get()>
            <ConfirmDialog
                title=Signal::derive(move || format!("Delete {}?", count.get().label()))
                message=Signal::derive(move || format!(
                    "{} will be deleted with their group memberships. This cannot be undone.",
                    count.get().label()
                ))
                confirm_label="Delete"
                pending=delete.pending()
                on_confirm=Callback::new(move |()| {
                    let selection = view.selection.selection(view.filter());
                    delete.dispatch(DeleteContacts { selection });
                })
                on_cancel=Callback::new(move |()| view.confirming_delete.set(false))
            />
        </Show>
    }
}

#[component]
fn ContactsTable(page_data: ContactPage, can_edit: bool) -> impl IntoView {
    let dialog = expect_context::<ContactDialog>();
    let view = expect_context::<ContactsView>();
    let (selection, total) = (view.selection, view.total);
    if page_data.rows.is_empty() {
        let search = view
            .query
            .with_untracked(|q| q.filter.search.trim().to_string());
        return if !search.is_empty() {
            view! {
                <EmptyState title="No matching contacts">
                    {format!("No contact's name, number or email starts with “{search}”.")}
                </EmptyState>
            }
            .into_any()
        } else {
            view! {
                <EmptyState title="No contacts yet">
                    {if can_edit { "Create a contact with the button above, or " } else { "Contacts will appear here once your team adds them, for example by " }}
                    <A href="/contacts/upload">"uploading a CSV file"</A>
                    "."
                </EmptyState>
            }
            .into_any()
        };
    }
    // Plain closures over the page's ids, not signals of this view's owner: the old
    // table stays on screen while the next page loads, after that owner is gone.
    let page_ids: Arc<[i64]> = page_data.rows.iter().map(|r| r.id).collect();
    let all_on_page = {
        let ids = page_ids.clone();
        move || selection.contains_all(&ids)
    };
    let toggle_page = {
        let (ids, all_on_page) = (page_ids.clone(), all_on_page.clone());
        move |_| selection.set_page(&ids, !all_on_page())
    };
    let page_request = view.page_request;
    let previous = page_data.previous.clone();
    let next = page_data.next.clone();
    let row_count = page_data.rows.len();
    let rows = page_data
        .rows
        .into_iter()
        .map(|row| view! { <ContactTableRow row can_edit selection dialog/> })
        .collect_view();
    view! {
        <Show when={
            let all_on_page = all_on_page.clone();
            move || all_on_page() && total.get().is_some_and(|t| t.more || t.count > row_count as i64)
        }>
            <div class="selection-banner" role="status">
                {move || if selection.is_all_matching() {
                    view! {
                        <span>{format!("All {} matching are selected.", total.get().map(Total::label).unwrap_or_default())}</span>
                        <button type="button" class="link-button" on:click=move |_| selection.clear()>
                            "Clear selection"
                        </button>
                    }.into_any()
                } else {
                    view! {
                        <span>{format!("All {row_count} on this page are selected.")}</span>
                        // What an action on all of them will act on is then counted exactly.
                        <button type="button" class="link-button" on:click=move |_| {
                            selection.select_all_matching();
                            view.exact_count.set(true);
                        }>
                            {move || format!("Select all {} matching", total.get().unwrap_or_default().number())}
                        </button>
                    }.into_any()
                }}
            </div>
        </Show>
        <div class="table-wrap">
            <table class="table contacts-table">
                <thead>
                    <tr>
                        <th scope="col" class="col-check">
                            <input type="checkbox" aria-label="Select all on this page"
                                prop:checked=all_on_page on:change=toggle_page/>
                        </th>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Mobile number"</th>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Groups"</th>
                        <th scope="col">"Created"</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
        <nav class="pager" aria-label="Pages">
            <button type="button" class="button" disabled=previous.is_none()
                on:click={
                    let previous = previous.clone();
                    move |_| if let Some(c) = previous.clone() { page_request.set(PageRequest::Before(c)) }
                }>
                "Previous"
            </button>
            <button type="button" class="button" disabled=next.is_none()
                on:click={
                    let next = next.clone();
                    move |_| if let Some(c) = next.clone() { page_request.set(PageRequest::After(c)) }
                }>
                "Next"
            </button>
        </nav>
    }
    .into_any()
}

#[component]
fn ContactTableRow(
    row: ContactRow,
    can_edit: bool,
    selection: TableSelection,
    dialog: ContactDialog,
) -> impl IntoView {
    let id = row.id;
    let name = row.display_name();
    let blacklisted_by: Vec<String> = row
        .blacklisted_by()
        .into_iter()
        .map(str::to_string)
        .collect();
    let is_selected = move || selection.contains(id);
    let open = move || {
        if can_edit {
            dialog.mode.set(Some(DialogMode::Edit(id)));
        }
    };
    view! {
        <tr aria-selected=move || is_selected().to_string() class:clickable=can_edit
            on:click=move |_| open()>
            <td class="col-check" on:click=|ev| ev.stop_propagation()>
                <input type="checkbox" aria-label=format!("Select {name}")
                    prop:checked=is_selected
                    on:change=move |_| selection.toggle(id)/>
            </td>
            <td>
                {if can_edit {
                    view! {
                        <button type="button" class="link-button row-name"
                            on:click=move |ev| { ev.stop_propagation(); open(); }>{name.clone()}</button>
                    }.into_any()
                } else {
                    view! { <span class="row-name">{name.clone()}</span> }.into_any()
                }}
            </td>
            <td class="nowrap">{row.mobile}</td>
            <td>{row.email}</td>
            <td>
                <span class="chips">
                    {row.groups.iter().map(|g| view! {
                        <span class="chip" class:chip-danger=g.blacklisted>{g.name.clone()}</span>
                    }).collect_view()}
                </span>
                {(!blacklisted_by.is_empty()).then(|| {
                    let why = format!("Blacklisted by: {}", blacklisted_by.join(", "));
                    view! { <span class="badge badge-danger" title=why.clone() aria-label=why>"Blacklisted"</span> }
                })}
                {row.opted_out.iter().map(|c| {
                    let why = format!("Opted out of {}", c.label());
                    view! { <span class="badge badge-warning" title=why.clone() aria-label=why>{format!("No {}", c.label())}</span> }
                }).collect_view()}
            </td>
            <td class="nowrap">{format_date(row.created_at)}</td>
        </tr>
    }
}
