//! What the Edit contact dialog shows of a contact's record beyond its fields: its
//! opt-outs, which are changed at once (they belong to the saved address, not to the
//! form), and its history.

use super::writes::ContactWrites;
use crate::api::contacts::{SetOptOut, contact_history};
use crate::components::toast::use_toasts;
use crate::model::channel::Channel;
use crate::model::date::format_date;
use crate::model::history::HistoryEntry;
use crate::model::opt_out::{OptOut, OptOutReason};
use leptos::prelude::*;

/// The contact's channels that have a saved address, each opted out (with why, by whom
/// and when, and a way back in) or not (with a way out and a reason).
#[component]
pub fn OptOutsPanel(
    id: i64,
    /// The channels the saved contact has an address on.
    channels: Vec<Channel>,
    opt_outs: Vec<OptOut>,
) -> impl IntoView {
    let writes = expect_context::<ContactWrites>();
    let action = writes.opt_out;
    action.clear();
    let current = RwSignal::new(opt_outs);
    let toasts = use_toasts();
    Effect::new(move |_| match action.value().get() {
        Some(Ok(list)) => current.set(list),
        Some(Err(error)) => toasts.show(error.to_string()),
        None => {}
    });
    let rows = channels
        .into_iter()
        .map(|channel| {
            let reason = RwSignal::new(OptOutReason::Unsubscribed.key().to_string());
            let opt_out = move || current.with(|list| list.iter().find(|o| o.channel == channel).cloned());
            let select_id = format!("opt-out-reason-{}", channel.name());
            view! {
                <li class="opt-out-row" data-testid=format!("opt-out-{}", channel.name())>
                    <span class="opt-out-channel">{channel.label()}</span>
                    {move || match opt_out() {
                        Some(o) => view! {
                            <span class="badge badge-warning">"Opted out"</span>
                            <span class="muted">{format!("{} · {} · {}", o.reason.label(), o.by, format_date(o.at))}</span>
                            <button type="button" class="button" disabled=action.pending()
                                on:click=move |_| {
                                    action.dispatch(SetOptOut { id, channel, reason: None });
                                }>{format!("Opt back into {}", channel.label())}</button>
                        }.into_any(),
                        None => {
                            let select_id = select_id.clone();
                            view! {
                                <span class="muted">"Receives messages"</span>
                                <label class="visually-hidden" for=select_id.clone()>{format!("Why opt out of {}", channel.label())}</label>
                                <select id=select_id bind:value=reason>
                                    {OptOutReason::ALL.into_iter().map(|r| view! {
                                        <option value=r.key()>{r.label()}</option>
                                    }).collect_view()}
                                </select>
                                <button type="button" class="button" disabled=action.pending()
                                    on:click=move |_| {
                                        let reason = OptOutReason::parse(&reason.get_untracked());
                                        action.dispatch(SetOptOut { id, channel, reason });
                                    }>{format!("Opt out of {}", channel.label())}</button>
                            }.into_any()
                        }
                    }}
                </li>
            }
        })
        .collect_view();
    view! {
        <section class="opt-outs" aria-labelledby="opt-outs-title">
            <h3 id="opt-outs-title" class="section-title">"Opt-outs"</h3>
            <p class="hint">"An opt-out belongs to the saved address: the contact is not messaged there on that channel. It changes at once."</p>
            <ul class="opt-out-list">{rows}</ul>
        </section>
    }
}

/// The contact's history, newest first, a page at a time; read when the tab is first
/// shown, and again after an opt-out changes.
#[component]
pub fn HistoryPanel(id: i64, shown: Signal<bool>) -> impl IntoView {
    let writes = expect_context::<ContactWrites>();
    let entries = RwSignal::new(Vec::<HistoryEntry>::new());
    let next = RwSignal::new(None::<i64>);
    let load = Action::new(move |before: &Option<i64>| contact_history(id, *before));
    let started = RwSignal::new(false);
    Effect::new(move |_| {
        // Read again from the newest when shown, and after each opt-out change.
        writes.opt_out.version().get();
        if shown.get() {
            started.set(true);
            entries.set(Vec::new());
            load.dispatch(None);
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(page)) = load.value().get() {
            entries.update(|list| list.extend(page.entries));
            next.set(page.next);
        }
    });
    let error = move || {
        load.value()
            .get()
            .and_then(Result::err)
            .map(|e| e.to_string())
    };
    view! {
        <div class="history-panel">
            {move || error().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            <ol class="history" aria-label="History, newest first">
                <For each=move || entries.get() key=|e| e.id let(entry)>
                    <li data-testid="history-entry">
                        <span class="history-what">{entry.describe()}</span>
                        <span class="history-meta">
                            {format!("{} · {} {}", format_date(entry.at), entry.by, entry.source.label())}
                        </span>
                    </li>
                </For>
            </ol>
            {move || (started.get() && !load.pending().get() && entries.with(Vec::is_empty) && error().is_none())
                .then(|| view! { <p class="muted">"No changes recorded yet."</p> })}
            {move || next.get().map(|before| view! {
                <button type="button" class="button" disabled=load.pending()
                    on:click=move |_| { load.dispatch(Some(before)); }>"Show older"</button>
            })}
        </div>
    }
}
