//! Type to find groups, tick existing ones, or create one from what was typed.
//! Used by Add to Groups and by the contact dialog's Groups field.

use crate::api::groups::list_groups;
use crate::components::search::settled;
use crate::model::group::{GroupSummary, group_name_key};
use leptos::prelude::*;

/// A chosen group: an existing one, or a name to create on save.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupPick {
    /// An existing group.
    Existing {
        /// Its id.
        id: i64,
        /// Its name.
        name: String,
        /// Whether it is blacklisted.
        blacklisted: bool,
    },
    /// A group to create with this name.
    New(String),
}

impl GroupPick {
    /// The group's name.
    pub fn name(&self) -> &str {
        match self {
            GroupPick::Existing { name, .. } | GroupPick::New(name) => name,
        }
    }
}

/// Existing group ids and names of groups to create.
pub fn split_picks(picks: Vec<GroupPick>) -> (Vec<i64>, Vec<String>) {
    let mut ids = Vec::new();
    let mut names = Vec::new();
    for pick in picks {
        match pick {
            GroupPick::Existing { id, .. } => ids.push(id),
            GroupPick::New(name) => names.push(name),
        }
    }
    (ids, names)
}

/// The picker: a name box, the chosen groups as removable chips, and the matches.
#[component]
pub fn GroupPicker(picks: RwSignal<Vec<GroupPick>>, label: &'static str) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let settled = settled(typed);
    let matches = Resource::new(move || settled.get(), list_groups);
    let is_picked = move |id: i64| {
        picks.with(|p| {
            p.iter()
                .any(|x| matches!(x, GroupPick::Existing { id: i, .. } if *i == id))
        })
    };
    let toggle = move |g: &GroupSummary| {
        let id = g.id;
        if is_picked(id) {
            picks.update(|p| {
                p.retain(|x| !matches!(x, GroupPick::Existing { id: i, .. } if *i == id))
            });
        } else {
            let pick = GroupPick::Existing {
                id,
                name: g.name.clone(),
                blacklisted: g.blacklisted,
            };
            picks.update(|p| p.push(pick));
        }
    };
    let create_typed = move || {
        let name = typed.get_untracked().trim().to_string();
        if !name.is_empty()
            && !picks.with_untracked(|p| {
                p.iter()
                    .any(|x| group_name_key(x.name()) == group_name_key(&name))
            })
        {
            picks.update(|p| p.push(GroupPick::New(name)));
        }
        typed.set(String::new());
    };
    view! {
        <div class="group-picker">
            <label for="group-picker" class="field-label">{label}</label>
            <input id="group-picker" type="text" autocomplete="off" placeholder="Type to find or create a group"
                prop:value=move || typed.get()
                on:input=move |ev| typed.set(event_target_value(&ev))
                on:keydown=move |ev| if ev.key() == "Enter" { ev.prevent_default(); create_typed(); }/>
            <div class="chips" aria-label="Chosen groups" role="list">
                {move || picks.get().into_iter().map(|pick| {
                    let label = match &pick {
                        GroupPick::New(n) => format!("{n} (new)"),
                        GroupPick::Existing { name, .. } => name.clone(),
                    };
                    let danger = matches!(pick, GroupPick::Existing { blacklisted: true, .. });
                    view! {
                        <span class="chip" class:chip-danger=danger role="listitem">{label.clone()}
                            <button type="button" class="chip-remove" aria-label=format!("Remove {label}")
                                on:click=move |_| picks.update(|p| p.retain(|x| x != &pick))>"×"</button>
                        </span>
                    }
                }).collect_view()}
            </div>
            <Transition>
                {move || Suspend::new(async move {
                    let found: Vec<GroupSummary> = matches.await.unwrap_or_default();
                    let text = typed.get_untracked().trim().to_string();
                    let exact = found.iter().any(|g| group_name_key(&g.name) == group_name_key(&text));
                    view! {
                        <ul class="pick-list" aria-label="Matching groups">
                            {found.into_iter().map(|g| {
                                let id = g.id;
                                let name = g.name.clone();
                                let members = crate::model::contact::contacts_label(g.member_count);
                                let blacklisted = g.blacklisted;
                                view! {
                                    <li>
                                        <label class="checkbox-label">
                                            <input type="checkbox" prop:checked=move || is_picked(id)
                                                on:change=move |_| toggle(&g)/>
                                            {name}
                                            <span class="muted small">{format!(" · {members}")}</span>
                                            {blacklisted.then(|| view! { <span class="badge badge-danger">"Blacklisted"</span> })}
                                        </label>
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        {(!text.is_empty() && !exact).then(|| view! {
                            <button type="button" class="button" on:click=move |_| create_typed()>
                                {format!("Create group \"{text}\"")}
                            </button>
                        })}
                    }
                })}
            </Transition>
        </div>
    }
}
