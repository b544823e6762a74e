//! The Contacts tab: search, sort, page size (all in the URL), keyset paging, selection
//! and the Action items menu.

use super::contact_dialog::{ContactDialog, DialogMode};
use super::membership_dialogs::{MembershipDialog, membership_dialog};
use super::writes::ContactWrites;
use crate::api::contacts::{DeleteContacts, count_contacts, list_contacts};
use crate::api::groups::list_groups;
use crate::components::dialog::ConfirmDialog;
use crate::components::empty_state::EmptyState;
use crate::components::search::settled;
use crate::components::toast::use_toasts;
use crate::components::user::{UserResource, can_edit};
use crate::model::contact::{
    ContactFilter, ContactPage, ContactRow, ContactSort, PAGE_SIZES, PageRequest, Selection,
    contacts_label,
};
use crate::model::date::format_date;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use std::collections::BTreeSet;

/// The contacts table with its toolbar.
#[component]
pub fn ContactsTab() -> impl IntoView {
    let writes = expect_context::<ContactWrites>();
    let user = expect_context::<UserResource>();
    let toasts = use_toasts();
    let query = use_query_map();
    let search = Memo::new(move |_| query.read().get("q").unwrap_or_default());
    let sort =
        Memo::new(move |_| ContactSort::from_param(&query.read().get("sort").unwrap_or_default()));
    let size = Memo::new(move |_| {
        query
            .read()
            .get("size")
            .and_then(|s| s.parse::<u32>().ok())
            .filter(|s| PAGE_SIZES.contains(s))
            .unwrap_or(50)
    });
    let group = Memo::new(move |_| {
        query
            .read()
            .get("group")
            .and_then(|g| g.parse::<i64>().ok())
    });
    let blacklisted = Memo::new(move |_| match query.read().get("blacklisted").as_deref() {
        Some("yes") => Some(true),
        Some("no") => Some(false),
        _ => None,
    });
    let filter = Memo::new(move |_| ContactFilter {
        search: search.get(),
        sort: sort.get(),
        group: group.get(),
        blacklisted: blacklisted.get(),
    });
    let page_request = RwSignal::new(PageRequest::First);
    let selected = RwSignal::new(BTreeSet::<i64>::new());
    let all_matching = RwSignal::new(false);
    Effect::watch(
        move || (filter.get(), size.get()),
        move |_, _, _| {
            page_request.set(PageRequest::First);
            selected.set(BTreeSet::new());
            all_matching.set(false);
        },
        false,
    );
    let page = Resource::new(
        move || {
            (
                filter.get(),
                page_request.get(),
                size.get(),
                writes.version(),
            )
        },
        |(filter, request, size, _)| list_contacts(filter, request, size),
    );
    let groups = Resource::new(move || writes.version(), |_| list_groups(String::new()));
    let total = Resource::new(
        move || (filter.get(), writes.version()),
        |(filter, _)| count_contacts(filter),
    );
    // The count as the labels outside the Transition read it. An effect copies it there:
    // reading the resource itself outside a Transition is not hydration-safe.
    let total_now = RwSignal::new(None::<i64>);
    Effect::new(move |_| total_now.set(total.get().and_then(Result::ok)));
    let total_now: Signal<Option<i64>> = total_now.into();
    let selection = Signal::derive(move || {
        if all_matching.get() {
            Selection::AllMatching(filter.get())
        } else {
            Selection::Ids(selected.get().into_iter().collect())
        }
    });
    let selected_count = Signal::derive(move || {
        if all_matching.get() {
            total_now.get().unwrap_or(0)
        } else {
            selected.with(|s| s.len() as i64)
        }
    });

    let navigate = use_navigate();
    let set_param = StoredValue::new(move |key: &'static str, value: String| {
        let mut params = query.get_untracked();
        if value.is_empty() {
            params.remove(key);
        } else {
            params.replace(key, value);
        }
        let qs = params.to_query_string();
        navigate(
            &format!("/contacts{qs}"),
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    });

    // The search box writes the URL once typing pauses (one request for "tan", not
    // three), and follows the URL when it changes otherwise (back, links).
    let typed = RwSignal::new(search.get_untracked());
    let settled = settled(typed);
    Effect::watch(
        move || settled.get(),
        move |text, _, _| {
            if *text != search.get_untracked() {
                set_param.get_value()("q", text.clone());
            }
        },
        false,
    );
    Effect::watch(
        move || search.get(),
        move |q, _, _| typed.set(q.clone()),
        false,
    );

    let delete = writes.delete_selected;
    let confirming_delete = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(result) = delete.value().get() {
            confirming_delete.set(false);
            match result {
                Ok(n) => {
                    toasts.show(format!("{} deleted", contacts_label(n as i64)));
                    selected.set(BTreeSet::new());
                    all_matching.set(false);
                    page_request.set(PageRequest::First);
                }
                Err(e) => toasts.show(e.to_string()),
            }
        }
    });
    let menu_open = RwSignal::new(false);
    let membership = RwSignal::new(None::<MembershipDialog>);
    let membership_close = Callback::new(move |()| membership.set(None));

    view! {
        <Title text="Contacts"/>
        <div class="toolbar">
            <label class="visually-hidden" for="contact-search">"Search contacts"</label>
            <input id="contact-search" type="search" class="search"
                placeholder="Search name, number or email"
                prop:value=move || typed.get()
                on:input=move |ev| typed.set(event_target_value(&ev))/>
            <label class="toolbar-label" for="contact-sort">"Sort"</label>
            <select id="contact-sort" disabled=move || !search.get().trim().is_empty()
                title=move || if search.get().trim().is_empty() { "" } else { "Search results come in order of the matched text" }
                on:change=move |ev| set_param.get_value()("sort", event_target_value(&ev))>
                {ContactSort::ALL.into_iter().map(|s| view! {
                    <option value=s.as_str() selected=move || sort.get() == s>{s.label()}</option>
                }).collect_view()}
            </select>
            <label class="toolbar-label" for="contact-size">"Per page"</label>
            <select id="contact-size" on:change=move |ev| set_param.get_value()("size", event_target_value(&ev))>
                {PAGE_SIZES.into_iter().map(|n| view! {
                    <option value=n.to_string() selected=move || size.get() == n>{n}</option>
                }).collect_view()}
            </select>
            <label class="toolbar-label" for="contact-group">"Group"</label>
            <Transition>
                {move || Suspend::new(async move {
                    let list = groups.await.unwrap_or_default();
                    view! {
                        <select id="contact-group" on:change=move |ev| set_param.get_value()("group", event_target_value(&ev))>
                            <option value="" selected=move || group.get().is_none()>"All groups"</option>
                            {list.into_iter().map(|g| {
                                let id = g.id;
                                view! { <option value=id.to_string() selected=move || group.get() == Some(id)>{g.name}</option> }
                            }).collect_view()}
                        </select>
                    }
                })}
            </Transition>
            <label class="toolbar-label" for="contact-blacklisted">"Status"</label>
            <select id="contact-blacklisted" on:change=move |ev| set_param.get_value()("blacklisted", event_target_value(&ev))>
                <option value="" selected=move || blacklisted.get().is_none()>"Everyone"</option>
                <option value="no" selected=move || blacklisted.get() == Some(false)>"Not blacklisted"</option>
                <option value="yes" selected=move || blacklisted.get() == Some(true)>"Blacklisted"</option>
            </select>
            <span class="toolbar-spacer"></span>
            <Transition>
                <span class="muted" data-testid="match-count">
                    {move || Suspend::new(async move { total.await.ok().map(contacts_label) })}
                </span>
            </Transition>
            <ActionItems menu_open selection filter selected_count total=total_now
                on_delete=Callback::new(move |()| { menu_open.set(false); confirming_delete.set(true); })
                on_add=Callback::new(move |()| { menu_open.set(false); membership.set(Some(MembershipDialog::Add)); })
                on_remove=Callback::new(move |()| { menu_open.set(false); membership.set(Some(MembershipDialog::Remove)); })/>
        </div>
        <Transition fallback=|| view! { <p class="muted">"Loading contacts…"</p> }>
            {move || Suspend::new(async move {
                let can_edit = can_edit(user).await;
                match page.await {
                    Ok(page_data) => view! {
                        <ContactsTable page_data can_edit selected all_matching total=total_now
                            search=search.into() page_request/>
                    }.into_any(),
                    Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                }
            })}
        </Transition>
        {move || membership.get().map(|which| {
            let selection = selection.get_untracked();
            let count = selected_count.get_untracked();
            view! {
                <Suspense>
                    {move || {
                        let selection = selection.clone();
                        Suspend::new(async move {
                            membership_dialog(which, selection, count, membership_close).await
                        })
                    }}
                </Suspense>
            }
        })}
        <Show when=move || confirming_delete.get()>
            <ConfirmDialog
                title=Signal::derive(move || format!("Delete {}?", contacts_label(selected_count.get())))
                message=Signal::derive(move || format!(
                    "{} will be deleted with their group memberships. This cannot be undone.",
                    contacts_label(selected_count.get())
                ))
                confirm_label="Delete"
                pending=delete.pending()
                on_confirm=Callback::new(move |()| {
                    delete.dispatch(DeleteContacts { selection: selection.get_untracked() });
                })
                on_cancel=Callback::new(move |()| confirming_delete.set(false))
            />
        </Show>
    }
}

/// The Action items menu: Export CSV (the selection, or everything matching) and Delete.
#[component]
fn ActionItems(
    menu_open: RwSignal<bool>,
    selection: Signal<Selection>,
    filter: Memo<ContactFilter>,
    selected_count: Signal<i64>,
    total: Signal<Option<i64>>,
    on_delete: Callback<()>,
    on_add: Callback<()>,
    on_remove: Callback<()>,
) -> impl IntoView {
    let user = expect_context::<UserResource>();
    // Nothing selected: export everything that matches.
    let export_selection = Signal::derive(move || match selection.get() {
        Selection::Ids(ids) if ids.is_empty() => Selection::AllMatching(filter.get()),
        other => other,
    });
    let export_json =
        Signal::derive(move || serde_json::to_string(&export_selection.get()).unwrap_or_default());
    let export_label = Signal::derive(move || match selected_count.get() {
        0 => format!(
            "Export CSV (all {})",
            total.get().map(contacts_label).unwrap_or_default()
        ),
        n => format!("Export CSV ({})", contacts_label(n)),
    });
    view! {
        <div class="menu-wrap">
            <button type="button" class="button" aria-haspopup="menu"
                aria-expanded=move || menu_open.get().to_string()
                on:click=move |_| menu_open.update(|o| *o = !*o)>
                "Action items"
                {move || (selected_count.get() > 0).then(|| format!(" ({})", selected_count.get()))}
            </button>
            <Show when=move || menu_open.get()>
                <div class="menu" role="menu" on:keydown=move |ev| if ev.key() == "Escape" { menu_open.set(false) }>
                    <form method="post" action="/contacts/export.csv"
                        // Close after the browser has taken the submission: a form removed
                        // during its submit event is never sent.
                        on:submit=move |_| request_animation_frame(move || menu_open.set(false))>
                        <input type="hidden" name="selection" prop:value=move || export_json.get()/>
                        <button type="submit" role="menuitem" class="menu-item">{export_label}</button>
                    </form>
                    <Suspense>
                        {move || Suspend::new(async move {
                            let can_edit = can_edit(user).await;
                            can_edit.then(|| view! {
                                <button type="button" role="menuitem" class="menu-item"
                                    disabled=move || selected_count.get() == 0
                                    on:click=move |_| on_add.run(())>
                                    "Add to Groups"
                                </button>
                                <button type="button" role="menuitem" class="menu-item"
                                    disabled=move || selected_count.get() == 0
                                    on:click=move |_| on_remove.run(())>
                                    "Remove from group"
                                </button>
                                <button type="button" role="menuitem" class="menu-item menu-item-danger"
                                    disabled=move || selected_count.get() == 0
                                    on:click=move |_| on_delete.run(())>
                                    "Delete"
                                </button>
                            })
                        })}
                    </Suspense>
                </div>
            </Show>
        </div>
    }
}

#[component]
fn ContactsTable(
    page_data: ContactPage,
    can_edit: bool,
    selected: RwSignal<BTreeSet<i64>>,
    all_matching: RwSignal<bool>,
    total: Signal<Option<i64>>,
    search: Signal<String>,
    page_request: RwSignal<PageRequest>,
) -> impl IntoView {
    let dialog = expect_context::<ContactDialog>();
    if page_data.rows.is_empty() {
        let searching = !search.get_untracked().trim().is_empty();
        return if searching {
            view! {
                <EmptyState title="No matching contacts">
                    {format!("No contact's name, number or email starts with “{}”.", search.get_untracked().trim())}
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
    let ids: Vec<i64> = page_data.rows.iter().map(|r| r.id).collect();
    let page_ids = StoredValue::new(ids);
    let all_on_page = Signal::derive(move || {
        all_matching.get()
            || selected.with(|s| page_ids.with_value(|ids| ids.iter().all(|id| s.contains(id))))
    });
    let toggle_page = move |_| {
        let select = !all_on_page.get_untracked();
        all_matching.set(false);
        selected.update(|s| {
            page_ids.with_value(|ids| {
                for id in ids {
                    if select {
                        s.insert(*id);
                    } else {
                        s.remove(id);
                    }
                }
            })
        });
    };
    let previous = page_data.previous.clone();
    let next = page_data.next.clone();
    let row_count = page_data.rows.len();
    let rows = page_data
        .rows
        .into_iter()
        .map(|row| view! { <ContactTableRow row can_edit selected all_matching dialog/> })
        .collect_view();
    view! {
        <Show when=move || all_on_page.get() && total.get().is_some_and(|t| t > row_count as i64)>
            <div class="selection-banner" role="status">
                {move || if all_matching.get() {
                    view! {
                        <span>{format!("All {} matching are selected.", total.get().map(contacts_label).unwrap_or_default())}</span>
                        <button type="button" class="link-button" on:click=move |_| { all_matching.set(false); selected.set(BTreeSet::new()); }>
                            "Clear selection"
                        </button>
                    }.into_any()
                } else {
                    view! {
                        <span>{format!("All {row_count} on this page are selected.")}</span>
                        <button type="button" class="link-button" on:click=move |_| all_matching.set(true)>
                            {move || format!("Select all {} matching", total.get().unwrap_or_default())}
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
                                prop:checked=move || all_on_page.get() on:change=toggle_page/>
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
    selected: RwSignal<BTreeSet<i64>>,
    all_matching: RwSignal<bool>,
    dialog: ContactDialog,
) -> impl IntoView {
    let id = row.id;
    let name = row.display_name();
    let blacklisted_by: Vec<String> = row
        .blacklisted_by()
        .into_iter()
        .map(str::to_string)
        .collect();
    let is_selected =
        Signal::derive(move || all_matching.get() || selected.with(|s| s.contains(&id)));
    let open = move || {
        if can_edit {
            dialog.mode.set(Some(DialogMode::Edit(id)));
        }
    };
    view! {
        <tr aria-selected=move || is_selected.get().to_string() class:clickable=can_edit
            on:click=move |_| open()>
            <td class="col-check" on:click=|ev| ev.stop_propagation()>
                <input type="checkbox" aria-label=format!("Select {name}")
                    prop:checked=move || is_selected.get()
                    on:change=move |_| {
                        if all_matching.get_untracked() {
                            return; // "all matching" is cleared from the banner
                        }
                        selected.update(|s| if !s.remove(&id) { s.insert(id); });
                    }/>
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
            </td>
            <td class="nowrap">{format_date(row.created_at)}</td>
        </tr>
    }
}
