//! The Contacts tab's toolbar: the search box, sort, page size, group and status filters
//! (each written to the URL, so reload and back keep them), the count of matches and the
//! Action items menu on the selection.

use super::membership_dialogs::MembershipDialog;
use super::table::ContactsView;
use super::writes::ContactWrites;
use crate::api::groups::list_groups;
use crate::components::search::settled;
use crate::components::user::{UserResource, can_edit};
use crate::error::AppError;
use crate::model::channel::Channel;
use crate::model::contact::{ContactSort, PAGE_SIZES, Selection, TableQuery, Total};
use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};

/// The toolbar above the table; `count` is how many contacts match.
#[component]
pub fn Toolbar(count: Resource<Result<Total, AppError>>) -> impl IntoView {
    let view = expect_context::<ContactsView>();
    let writes = expect_context::<ContactWrites>();
    let query = view.query;
    let groups = Resource::new(move || writes.version(), |_| list_groups(String::new()));
    let params = use_query_map();
    let navigate = use_navigate();
    let set_param = StoredValue::new(move |key: &'static str, value: String| {
        let mut params = params.get_untracked();
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
    let search = Memo::new(move |_| query.with(|q| q.filter.search.clone()));
    let sort = Memo::new(move |_| query.with(|q| q.filter.sort));
    let group = Memo::new(move |_| query.with(|q| q.filter.group));
    let blacklisted = Memo::new(move |_| query.with(|q| q.filter.blacklisted));
    let opted_out = Memo::new(move |_| query.with(|q| q.filter.opted_out));
    let size = Memo::new(move |_| query.with(|q| q.size));

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
    let blacklisted_option = move |value: Option<bool>, label: &'static str| {
        view! {
            <option value=TableQuery::blacklisted_param(value) selected=move || blacklisted.get() == value>{label}</option>
        }
    };
    view! {
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
                {blacklisted_option(None, "Everyone")}
                {blacklisted_option(Some(false), "Not blacklisted")}
                {blacklisted_option(Some(true), "Blacklisted")}
            </select>
            <label class="toolbar-label" for="contact-opted-out">"Opted out of"</label>
            <select id="contact-opted-out" on:change=move |ev| set_param.get_value()("optedOut", event_target_value(&ev))>
                <option value="" selected=move || opted_out.get().is_none()>"Any channel or none"</option>
                {Channel::all().map(|c| view! {
                    <option value=c.name() selected=move || opted_out.get() == Some(c)>{c.label()}</option>
                }).collect_view()}
            </select>
            <span class="toolbar-spacer"></span>
            <Transition>
                {move || Suspend::new(async move { view! { <MatchCount count=count.await/> } })}
            </Transition>
            <ActionItems/>
        </div>
    }
}

/// How many contacts match: "10,000+ contacts" past the bound, with a button that counts
/// every one (or says why it could not).
#[component]
fn MatchCount(count: Result<Total, AppError>) -> impl IntoView {
    let view = expect_context::<ContactsView>();
    match count {
        Ok(total) => view! {
            <span class="muted" data-testid="match-count">{total.label()}</span>
            {total.more.then(|| view! {
                <button type="button" class="link-button" on:click=move |_| view.exact_count.set(true)>
                    "Count all"
                </button>
            })}
        }
        .into_any(),
        Err(e) => view! { <span class="form-error" role="alert">{e.to_string()}</span> }.into_any(),
    }
}

/// The Action items menu: Export CSV (the selection, or everything matching) and Delete.
#[component]
fn ActionItems() -> impl IntoView {
    let user = expect_context::<UserResource>();
    let view = expect_context::<ContactsView>();
    let menu_open = RwSignal::new(false);
    let selected_count = Signal::derive(move || view.selected_count());
    let total = view.total;
    let open = move |dialog: Option<MembershipDialog>| {
        menu_open.set(false);
        match dialog {
            Some(which) => view.membership.set(Some(which)),
            None => view.confirming_delete.set(true),
        }
    };
    // Nothing selected: export everything that matches.
    let export_selection = Signal::derive(move || match view.selection.selection(view.filter()) {
        Selection::Ids(ids) if ids.is_empty() => Selection::AllMatching(view.filter()),
        other => other,
    });
    let export_json =
        Signal::derive(move || serde_json::to_string(&export_selection.get()).unwrap_or_default());
    let export_label = move |format: &'static str| match selected_count.get() {
        Total { count: 0, .. } => format!(
            "Export {format} (all {})",
            total.get().map(Total::label).unwrap_or_default()
        ),
        n => format!("Export {format} ({})", n.label()),
    };
    view! {
        <div class="menu-wrap">
            <button type="button" class="button" aria-haspopup="menu"
                aria-expanded=move || menu_open.get().to_string()
                on:click=move |_| menu_open.update(|o| *o = !*o)>
                "Action items"
                {move || (selected_count.get().count > 0).then(|| format!(" ({})", selected_count.get().number()))}
            </button>
            <Show when=move || menu_open.get()>
                <div class="menu" role="menu" on:keydown=move |ev| if ev.key() == "Escape" { menu_open.set(false) }>
                    {[("/contacts/export.csv", "CSV"), ("/contacts/export.xlsx", "Excel")]
                        .map(|(action, format)| view! {
                            <form method="post" action=action
                                // Close after the browser has taken the submission: a form
                                // removed during its submit event is never sent.
                                on:submit=move |_| request_animation_frame(move || menu_open.set(false))>
                                <input type="hidden" name="selection" prop:value=move || export_json.get()/>
                                <button type="submit" role="menuitem" class="menu-item">
                                    {move || export_label(format)}
                                </button>
                            </form>
                        })}
                    <Suspense>
                        {move || Suspend::new(async move {
                            let can_edit = can_edit(user).await;
                            can_edit.then(|| view! {
                                <button type="button" role="menuitem" class="menu-item"
                                    disabled=move || selected_count.get().count == 0
                                    on:click=move |_| open(Some(MembershipDialog::Add))>
                                    "Add to Groups"
                                </button>
                                <button type="button" role="menuitem" class="menu-item"
                                    disabled=move || selected_count.get().count == 0
                                    on:click=move |_| open(Some(MembershipDialog::Remove))>
                                    "Remove from group"
                                </button>
                                <button type="button" role="menuitem" class="menu-item menu-item-danger"
                                    disabled=move || selected_count.get().count == 0
                                    on:click=move |_| open(None)>
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
