//! Settings → Webhooks (admins): the endpoints the workspace's changes are sent to,
//! adding one (its signing secret is shown this once), deleting one, and each one's
//! delivery log.

use crate::api::webhooks::{CreateWebhook, DeleteWebhook, list_webhooks, webhook_deliveries};
use crate::components::dialog::ConfirmDialog;
use crate::components::form::{FieldMessage, FormError, action_error, field_invalid};
use crate::components::toast::use_toasts;
use crate::model::date::{format_date, format_timestamp};
use crate::model::webhook::{Delivery, DeliveryStatus, WebhookEndpoint, WebhookEvent};
use leptos::prelude::*;

/// The webhooks section of Settings.
#[component]
pub fn WebhooksSettings() -> impl IntoView {
    let create = ServerAction::<CreateWebhook>::new();
    let delete = ServerAction::<DeleteWebhook>::new();
    let endpoints = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_webhooks(),
    );
    let deleting = RwSignal::new(None::<WebhookEndpoint>);
    // The endpoint whose delivery log is open.
    let log = RwSignal::new(None::<i64>);
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(result) = delete.value().get() {
            deleting.set(None);
            toasts.show(match result {
                Ok(()) => "Endpoint deleted. Nothing more is sent to it.".to_string(),
                Err(e) => e.to_string(),
            });
        }
    });
    view! {
        <section class="card" aria-labelledby="webhooks-title">
            <h2 id="webhooks-title">"Webhooks"</h2>
            <p class="hint">
                "Other systems hear about changes here as they happen: each event is sent as a signed POST "
                "(Standard Webhooks: check the webhook-signature header with the endpoint's secret), "
                "retried for three days until the endpoint answers 2xx."
            </p>
            <Transition fallback=|| view! { <p class="muted">"Loading endpoints…"</p> }>
                {move || Suspend::new(async move {
                    match endpoints.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"No endpoints yet. Add one below."</p>
                        }.into_any(),
                        Ok(list) => view! { <EndpointsTable endpoints=list deleting log/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
            {move || log.get().map(|id| view! { <DeliveryLog id/> })}
        </section>
        <CreateEndpointForm create/>
        {move || deleting.get().map(|endpoint| {
            let id = endpoint.id;
            view! {
                <ConfirmDialog
                    title=format!("Delete the endpoint {}?", endpoint.url)
                    message="Nothing more is sent to it, and its delivery log goes with it.".to_string()
                    confirm_label="Delete endpoint"
                    pending=delete.pending()
                    on_confirm=Callback::new(move |()| {
                        log.update(|open| if *open == Some(id) { *open = None });
                        delete.dispatch(DeleteWebhook { id });
                    })
                    on_cancel=Callback::new(move |()| deleting.set(None))
                />
            }
        })}
    }
}

#[component]
fn EndpointsTable(
    endpoints: Vec<WebhookEndpoint>,
    deleting: RwSignal<Option<WebhookEndpoint>>,
    log: RwSignal<Option<i64>>,
) -> impl IntoView {
    let rows = endpoints
        .into_iter()
        .map(|endpoint| {
            let id = endpoint.id;
            let events: Vec<&str> = endpoint.events.iter().map(|e| e.name()).collect();
            let for_delete = endpoint.clone();
            view! {
                <tr data-testid="webhook-row">
                    <td class="break-all">{endpoint.url.clone()}</td>
                    <td>{events.join(", ")}</td>
                    <td>{format_date(endpoint.created_at)}</td>
                    <td>{match endpoint.disabled.clone() {
                        Some(why) => view! { <span class="badge badge-danger" title=why>"Stopped"</span> }.into_any(),
                        None => view! { <span class="badge">"Active"</span> }.into_any(),
                    }}</td>
                    <td class="row-actions">
                        <button type="button" class="button button-quiet"
                            aria-label=format!("Deliveries to {}", endpoint.url)
                            aria-pressed=move || (log.get() == Some(id)).to_string()
                            on:click=move |_| log.update(|open| {
                                *open = if *open == Some(id) { None } else { Some(id) }
                            })>
                            "Deliveries"
                        </button>
                        <button type="button" class="button button-quiet danger-text"
                            aria-label=format!("Delete {}", endpoint.url)
                            on:click=move |_| deleting.set(Some(for_delete.clone()))>
                            "Delete"
                        </button>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"URL"</th>
                    <th scope="col">"Events"</th>
                    <th scope="col">"Added"</th>
                    <th scope="col">"Status"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// What an attempt got, for people.
fn answer(d: &Delivery) -> String {
    match (d.last_status, &d.last_error) {
        (Some(status), Some(error)) => format!("HTTP {status}: {error}"),
        (Some(status), None) => format!("HTTP {status}"),
        (None, Some(error)) => error.clone(),
        (None, None) => "Not tried yet".into(),
    }
}

/// The newest deliveries to one endpoint.
#[component]
fn DeliveryLog(id: i64) -> impl IntoView {
    let refresh = RwSignal::new(0u32);
    let deliveries = Resource::new(
        move || (id, refresh.get()),
        |(id, _)| webhook_deliveries(id),
    );
    view! {
        <div class="delivery-log" data-testid="delivery-log">
            <h3 class="section-title">"Deliveries, newest first"</h3>
            <button type="button" class="button" on:click=move |_| refresh.update(|n| *n += 1)>"Refresh"</button>
            <Transition fallback=|| view! { <p class="muted">"Loading deliveries…"</p> }>
                {move || Suspend::new(async move {
                    match deliveries.await {
                        Ok(list) if list.is_empty() => view! {
                            <p class="muted">"Nothing sent yet: events appear here as changes happen."</p>
                        }.into_any(),
                        Ok(list) => view! {
                            <table class="table">
                                <thead>
                                    <tr>
                                        <th scope="col">"Event"</th>
                                        <th scope="col">"Contact"</th>
                                        <th scope="col">"Status"</th>
                                        <th scope="col">"Attempts"</th>
                                        <th scope="col">"Last answer"</th>
                                        <th scope="col">"Next attempt"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|d| view! {
                                        <tr data-testid="delivery-row">
                                            <td><code>{d.event.name()}</code></td>
                                            <td>{d.contact_id.map(|c| c.to_string()).unwrap_or_default()}</td>
                                            <td>{match d.status {
                                                DeliveryStatus::Pending => "Pending",
                                                DeliveryStatus::Delivered => "Delivered",
                                                DeliveryStatus::Failed => "Failed",
                                            }}</td>
                                            <td>{d.attempts}</td>
                                            <td>{answer(&d)}</td>
                                            <td>{d.next_attempt_at.map(format_timestamp).unwrap_or_default()}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </div>
    }
}

#[component]
fn CreateEndpointForm(create: ServerAction<CreateWebhook>) -> impl IntoView {
    let error = action_error(create);
    let url = RwSignal::new(String::new());
    let events = RwSignal::new(WebhookEvent::ALL.to_vec());
    // The new endpoint's secret, shown until the admin says it is copied.
    let secret = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if let Some(Ok(made)) = create.value().get() {
            secret.set(Some(made.secret));
            url.set(String::new());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateWebhook {
            url: url.get_untracked(),
            events: events.get_untracked(),
        });
    };
    view! {
        <section class="card" aria-labelledby="create-webhook-title">
            <h2 id="create-webhook-title">"Add endpoint"</h2>
            {move || secret.get().map(|value| view! {
                <div class="notice" role="status" data-testid="new-webhook-secret">
                    <p><strong>"Copy the signing secret now: it is not shown again."</strong></p>
                    <label for="new-webhook-secret">"Signing secret"</label>
                    <input id="new-webhook-secret" type="text" readonly class="secret" value=value/>
                    <button type="button" class="button" on:click=move |_| secret.set(None)>"I have copied it"</button>
                </div>
            })}
            <form class="form" on:submit=submit novalidate>
                <div>
                    <label for="new-webhook-url">"Endpoint URL"</label>
                    <input id="new-webhook-url" type="url" required autocomplete="off"
                        placeholder="https://example.com/hooks/contacts"
                        prop:value=move || url.get()
                        on:input=move |ev| url.set(event_target_value(&ev))
                        aria-invalid=field_invalid(error, "url")/>
                    <FieldMessage field="url" error/>
                </div>
                <fieldset>
                    <legend>"Events to send"</legend>
                    {WebhookEvent::ALL.into_iter().map(|event| {
                        let id = format!("webhook-event-{}", event.name());
                        view! {
                            <div class="checkbox-row">
                                <input type="checkbox" id=id.clone()
                                    prop:checked=move || events.with(|list| list.contains(&event))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        events.update(|list| {
                                            list.retain(|e| *e != event);
                                            if on { list.push(event); }
                                        });
                                    }/>
                                <label for=id>{event.label()}" "<code>{event.name()}</code></label>
                            </div>
                        }
                    }).collect_view()}
                    <FieldMessage field="events" error/>
                </fieldset>
                <button type="submit" class="button button-primary" disabled=create.pending()>
                    "Add endpoint"
                </button>
            </form>
            <FormError error fields=&["url", "events"]/>
        </section>
    }
}
