//! The Create/Edit Contact dialog: three tabs over one form, so switching tabs never
//! loses what was typed; server errors appear next to their fields and mark their tab.

use super::contact_changes::{HistoryPanel, OptOutsPanel};
use super::writes::ContactWrites;
use crate::api::contacts::{DeleteContacts, EraseContact, SaveContact, get_contact};
use crate::components::dialog::Modal;
use crate::components::form::{FieldMessage, TextField};
use crate::components::group_picker::{GroupPick, GroupPicker, split_picks};
use crate::components::toast::use_toasts;
use crate::components::user::UserResource;
use crate::error::AppError;
use crate::model::channel::Channel;
use crate::model::contact::{Attribute, ContactInput, FormTab, Selection, attribute_field};
use crate::model::country::countries_by_name;
use crate::model::field::{ContactField, FieldKind};
use crate::model::group::GroupRef;
use crate::model::opt_out::OptOut;
use leptos::prelude::*;

/// What the dialog is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialogMode {
    /// Creating a new contact.
    Create,
    /// Editing this contact.
    Edit(i64),
}

/// The contact dialog's state, shared by the page header (Create) and the table (Edit).
#[derive(Clone, Copy)]
pub struct ContactDialog {
    /// Open, and for what; `None` when closed.
    pub mode: RwSignal<Option<DialogMode>>,
}

impl ContactDialog {
    /// A closed dialog.
    pub fn new() -> Self {
        ContactDialog {
            mode: RwSignal::new(None),
        }
    }
}

impl Default for ContactDialog {
    fn default() -> Self {
        Self::new()
    }
}

/// Mounts the dialog while `state.mode` is set.
#[component]
pub fn ContactDialogHost(state: ContactDialog) -> impl IntoView {
    let user = expect_context::<UserResource>();
    move || {
        state.mode.get().map(|mode| match mode {
            DialogMode::Create => view! {
                <Suspense>
                    {move || Suspend::new(async move {
                        // New contacts start in the workspace's country.
                        let country = user.await.map(|u| u.default_country).unwrap_or_default();
                        let input = ContactInput::default().with(ContactField::Country, country);
                        contact_form(state, mode, input, Vec::new(), Vec::new(), false).await
                    })}
                </Suspense>
            }
            .into_any(),
            DialogMode::Edit(id) => view! { <LoadContact state id/> }.into_any(),
        })
    }
}

#[component]
fn LoadContact(state: ContactDialog, id: i64) -> impl IntoView {
    let user = expect_context::<UserResource>();
    let contact = Resource::new(move || id, get_contact);
    let close = Callback::new(move |()| state.mode.set(None));
    view! {
        <Suspense fallback=move || view! {
            <Modal title="Edit contact".to_string() on_close=close>
                <p class="muted">"Loading…"</p>
            </Modal>
        }>
            {move || Suspend::new(async move {
                match contact.await {
                    Ok(detail) => {
                        let can_erase = user.await.is_ok_and(|u| u.role.is_admin());
                        let mode = DialogMode::Edit(detail.id);
                        contact_form(state, mode, detail.input, detail.groups, detail.opt_outs, can_erase).await
                    }
                    Err(error) => view! {
                        <Modal title="Edit contact".to_string() on_close=close>
                            <p class="form-error" role="alert">{error.to_string()}</p>
                            <div class="modal-actions">
                                <button type="button" class="button" on:click=move |_| close.run(())>"Close"</button>
                            </div>
                        </Modal>
                    }
                    .into_any(),
                }
            })}
        </Suspense>
    }
}

/// One editable custom field row.
#[derive(Clone, Copy)]
struct AttributeRow {
    id: u64,
    key: RwSignal<String>,
    value: RwSignal<String>,
}

/// The form's fields as signals, one per contact field.
#[derive(Clone, Copy)]
struct Fields {
    values: [RwSignal<String>; ContactField::COUNT],
    attributes: RwSignal<Vec<AttributeRow>>,
    next_row: StoredValue<u64>,
}

impl Fields {
    fn new(input: ContactInput) -> Self {
        let next_row = StoredValue::new(input.attributes.len() as u64);
        Fields {
            values: ContactField::ALL.map(|f| RwSignal::new(input.get(f).to_string())),
            attributes: RwSignal::new(
                input
                    .attributes
                    .into_iter()
                    .enumerate()
                    .map(|(i, a)| AttributeRow {
                        id: i as u64,
                        key: RwSignal::new(a.key),
                        value: RwSignal::new(a.value),
                    })
                    .collect(),
            ),
            next_row,
        }
    }

    fn value(&self, field: ContactField) -> RwSignal<String> {
        self.values[field.index()]
    }

    fn add_row(&self) {
        let id = self.next_row.get_value();
        self.next_row.set_value(id + 1);
        self.attributes.update(|rows| {
            rows.push(AttributeRow {
                id,
                key: RwSignal::new(String::new()),
                value: RwSignal::new(String::new()),
            })
        });
    }

    fn input(&self) -> ContactInput {
        let mut input = ContactInput::default();
        for field in ContactField::ALL {
            input.set(field, self.value(field).get_untracked());
        }
        input.attributes = self
            .attributes
            .get_untracked()
            .iter()
            .map(|row| Attribute {
                key: row.key.get_untracked(),
                value: row.value.get_untracked(),
            })
            .collect();
        input
    }
}

/// The input of one field, as its kind asks: a country picker, or a text box of the
/// right type with the field's label, hint and autocomplete token.
fn field_input(
    field: ContactField,
    value: RwSignal<String>,
    error: Signal<Option<AppError>>,
) -> AnyView {
    let spec = field.spec();
    if field.kind() == FieldKind::Country {
        let countries = countries_by_name()
            .into_iter()
            .map(|(code, name)| view! { <option value=code>{format!("{name} ({code})")}</option> })
            .collect_view();
        let id = format!("field-{}", spec.key);
        return view! {
            <div class="field">
                <label for=id.clone()>{spec.label}</label>
                <select id=id name=spec.key bind:value=value
                    aria-invalid=move || error.get().and_then(|e| e.field_message(spec.key)).is_some().to_string()>
                    {countries}
                </select>
                <FieldMessage field=spec.key error/>
            </div>
        }
        .into_any();
    }
    let input_type = match field.kind() {
        FieldKind::Phone => "tel",
        FieldKind::Email => "email",
        _ => "text",
    };
    match (spec.hint, spec.autocomplete) {
        (Some(hint), _) => view! {
            <TextField label=spec.label name=spec.key value error input_type hint/>
        }
        .into_any(),
        (None, Some(autocomplete)) => view! {
            <TextField label=spec.label name=spec.key value error input_type autocomplete/>
        }
        .into_any(),
        (None, None) => view! {
            <TextField label=spec.label name=spec.key value error input_type/>
        }
        .into_any(),
    }
}

/// The form, fetched with its code the first time a contact is opened (the build splits
/// it into a file of its own: the table does not need it to show).
#[lazy]
async fn contact_form(
    state: ContactDialog,
    mode: DialogMode,
    input: ContactInput,
    groups: Vec<GroupRef>,
    opt_outs: Vec<OptOut>,
    can_erase: bool,
) -> AnyView {
    view! { <ContactForm state mode input groups opt_outs can_erase/> }.into_any()
}

/// What the dialog asks to confirm: deleting the contact, or erasing the person.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Removal {
    Delete,
    Erase,
}

/// A tab of the dialog: one of the form's, or the contact's history.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Tab {
    Fields(FormTab),
    History,
}

#[component]
fn ContactForm(
    state: ContactDialog,
    mode: DialogMode,
    input: ContactInput,
    groups: Vec<GroupRef>,
    opt_outs: Vec<OptOut>,
    /// Whether the user may erase the contact as a person (admins).
    can_erase: bool,
) -> impl IntoView {
    // The channels the saved contact can be opted out of: those it has an address on.
    let saved_channels: Vec<Channel> = Channel::all()
        .filter(|c| !input.get(c.field()).trim().is_empty())
        .collect();
    let fields = Fields::new(input);
    let picks = RwSignal::new(
        groups
            .into_iter()
            .map(|g| GroupPick::Existing {
                id: g.id,
                name: g.name,
                blacklisted: g.blacklisted,
            })
            .collect::<Vec<_>>(),
    );
    let blacklisted_by = move || {
        picks.with(|p| {
            p.iter()
                .filter(|g| {
                    matches!(
                        g,
                        GroupPick::Existing {
                            blacklisted: true,
                            ..
                        }
                    )
                })
                .map(|g| g.name().to_string())
                .collect::<Vec<_>>()
        })
    };
    let tab = RwSignal::new(Tab::Fields(FormTab::Basic));
    let toasts = use_toasts();
    let writes = expect_context::<ContactWrites>();
    let save = writes.save;
    // The page's actions outlive this form: start without the last form's answers.
    save.clear();
    let error: Signal<Option<AppError>> =
        Signal::derive(move || save.value().get().and_then(Result::err));
    let close = Callback::new(move |()| state.mode.set(None));
    Effect::new(move |_| {
        match save.value().get() {
            Some(Ok(_)) => {
                toasts.show(match mode {
                    DialogMode::Create => "Contact created",
                    DialogMode::Edit(_) => "Contact saved",
                });
                state.mode.set(None);
            }
            // Show the first tab that holds an error.
            Some(Err(error)) => {
                let fields = error.fields();
                if let Some(first) = [FormTab::Basic, FormTab::Channels, FormTab::Additional]
                    .into_iter()
                    .find(|t| fields.iter().any(|f| FormTab::of_field(f) == *t))
                    && !fields
                        .iter()
                        .any(|f| Tab::Fields(FormTab::of_field(f)) == tab.get_untracked())
                {
                    tab.set(Tab::Fields(first));
                }
            }
            _ => {}
        }
    });
    let confirming = RwSignal::new(None::<Removal>);
    let delete = writes.delete_one;
    delete.clear();
    Effect::new(move |_| match delete.value().get() {
        Some(Ok(_)) => {
            toasts.show("Contact deleted");
            state.mode.set(None);
        }
        Some(Err(e)) => toasts.show(e.to_string()),
        None => {}
    });
    let erase = writes.erase;
    erase.clear();
    Effect::new(move |_| match erase.value().get() {
        Some(Ok(())) => {
            toasts.show("Contact erased");
            state.mode.set(None);
        }
        Some(Err(e)) => toasts.show(e.to_string()),
        None => {}
    });
    let tab_has_error = move |t: Tab| {
        error.get().is_some_and(|e| {
            e.fields()
                .iter()
                .any(|f| Tab::Fields(FormTab::of_field(f)) == t)
        })
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let id = match mode {
            DialogMode::Create => None,
            DialogMode::Edit(id) => Some(id),
        };
        let (group_ids, new_groups) = split_picks(picks.get_untracked());
        save.dispatch(SaveContact {
            id,
            input: fields.input(),
            group_ids,
            new_groups,
        });
    };
    let title = match mode {
        DialogMode::Create => "Create contact",
        DialogMode::Edit(_) => "Edit contact",
    };
    let tab_button = move |t: Tab, label: &'static str, id: &'static str| {
        view! {
            <button type="button" role="tab" id=format!("tab-{id}")
                aria-controls=format!("panel-{id}")
                aria-selected=move || (tab.get() == t).to_string()
                tabindex=move || if tab.get() == t { "0" } else { "-1" }
                class="dialog-tab"
                data-has-error=move || tab_has_error(t).to_string()
                on:click=move |_| tab.set(t)>
                {label}
                <Show when=move || tab_has_error(t)>
                    <span class="tab-error-mark" aria-hidden="true">"!"</span>
                    <span class="visually-hidden">" (has errors)"</span>
                </Show>
            </button>
        }
    };
    let attribute_rows = move || {
        fields
            .attributes
            .get()
            .into_iter()
            .enumerate()
            .collect::<Vec<_>>()
    };
    let tab_fields = move |t: FormTab| {
        ContactField::of_tab(t)
            .map(|field| field_input(field, fields.value(field), error))
            .collect_view()
    };
    view! {
        <Modal title=title.to_string() on_close=close class="modal-wide">
            <form class="contact-form" on:submit=submit novalidate>
                <div role="tablist" class="dialog-tabs" aria-label="Contact details">
                    {tab_button(Tab::Fields(FormTab::Basic), "Basic information", "basic")}
                    {tab_button(Tab::Fields(FormTab::Channels), "Channels", "channels")}
                    {tab_button(Tab::Fields(FormTab::Additional), "Additional information", "additional")}
                    {matches!(mode, DialogMode::Edit(_)).then(|| tab_button(Tab::History, "History", "history"))}
                </div>

                <div role="tabpanel" id="panel-basic" aria-labelledby="tab-basic" class="dialog-panel"
                    hidden=move || tab.get() != Tab::Fields(FormTab::Basic)>
                    <div class="field-grid">
                        {tab_fields(FormTab::Basic)}
                    </div>
                    <GroupPicker picks label="Groups"/>
                    {move || {
                        let by = blacklisted_by();
                        (!by.is_empty()).then(|| view! {
                            <p class="notice-danger" role="note">
                                {format!("Blacklisted by: {}. This contact is never messaged while in these groups.", by.join(", "))}
                            </p>
                        })
                    }}
                </div>

                <div role="tabpanel" id="panel-channels" aria-labelledby="tab-channels" class="dialog-panel"
                    hidden=move || tab.get() != Tab::Fields(FormTab::Channels)>
                    <div class="field-grid">
                        <div class="field">
                            <span class="field-label">"SMS"</span>
                            <p class="readonly-value" data-testid="sms-number">
                                {move || {
                                    let m = fields.value(ContactField::Mobile).get();
                                    if m.trim().is_empty() { "The mobile number (none yet)".to_string() } else { m }
                                }}
                            </p>
                        </div>
                        {tab_fields(FormTab::Channels)}
                    </div>
                    {match mode {
                        DialogMode::Edit(id) if !saved_channels.is_empty() => Some(view! {
                            <OptOutsPanel id channels=saved_channels.clone() opt_outs=opt_outs.clone()/>
                        }),
                        _ => None,
                    }}
                </div>

                <div role="tabpanel" id="panel-additional" aria-labelledby="tab-additional" class="dialog-panel"
                    hidden=move || tab.get() != Tab::Fields(FormTab::Additional)>
                    <p class="hint">"Custom fields: any key and value. Keys are unique per contact."</p>
                    <FieldMessage field="attributes" error/>
                    <div class="attribute-rows">
                        <For each=attribute_rows
                            key=|(i, row)| (*i, row.id) let((index, row))>
                            <AttributeEditor index row error on_remove=Callback::new(move |()| {
                                fields.attributes.update(|rows| rows.retain(|r| r.id != row.id))
                            })/>
                        </For>
                    </div>
                    <button type="button" class="button" on:click=move |_| fields.add_row()>"+ Add field"</button>
                </div>

                {match mode {
                    DialogMode::Edit(id) => Some(view! {
                        <div role="tabpanel" id="panel-history" aria-labelledby="tab-history" class="dialog-panel"
                            hidden=move || tab.get() != Tab::History>
                            <HistoryPanel id shown=Signal::derive(move || tab.get() == Tab::History)/>
                        </div>
                    }),
                    DialogMode::Create => None,
                }}

                {move || error.get().filter(|e| e.fields().is_empty()).map(|e| view! {
                    <p class="form-error" role="alert">{e.to_string()}</p>
                })}
                {move || match (confirming.get(), mode) {
                    (Some(Removal::Delete), DialogMode::Edit(id)) => Some(view! {
                        <div class="inline-confirm" role="alert">
                            <span>"Delete this contact? This cannot be undone."</span>
                            <button type="button" class="button" on:click=move |_| confirming.set(None)>"Keep"</button>
                            <button type="button" class="button button-danger" disabled=delete.pending()
                                on:click=move |_| {
                                    delete.dispatch(DeleteContacts { selection: Selection::Ids(vec![id]) });
                                }>"Delete contact"</button>
                        </div>
                    }.into_any()),
                    (Some(Removal::Erase), DialogMode::Edit(id)) => Some(view! {
                        <div class="inline-confirm" role="alert">
                            <span>"Erase this person? The contact, its history and opt-outs, and every \
                                stored copy of its addresses (rejected rows of uploads, kept API answers) are \
                                deleted for good; only a line saying that contact " {format!("#{id}")} " was erased stays."</span>
                            <button type="button" class="button" on:click=move |_| confirming.set(None)>"Keep"</button>
                            <button type="button" class="button button-danger" disabled=erase.pending()
                                on:click=move |_| { erase.dispatch(EraseContact { id }); }>"Erase person"</button>
                        </div>
                    }.into_any()),
                    _ => None,
                }}
                <div class="modal-actions">
                    {matches!(mode, DialogMode::Edit(_)).then(|| view! {
                        <button type="button" class="button button-quiet danger-text push-left"
                            on:click=move |_| confirming.set(Some(Removal::Delete))>"Delete…"</button>
                    })}
                    {(can_erase && matches!(mode, DialogMode::Edit(_))).then(|| view! {
                        <button type="button" class="button button-quiet danger-text"
                            on:click=move |_| confirming.set(Some(Removal::Erase))>"Erase person…"</button>
                    })}
                    <button type="button" class="button" on:click=move |_| close.run(())>"Cancel"</button>
                    <button type="submit" class="button button-primary" disabled=save.pending()>
                        {match mode { DialogMode::Create => "Create contact", DialogMode::Edit(_) => "Save changes" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

#[component]
fn AttributeEditor(
    index: usize,
    row: AttributeRow,
    error: Signal<Option<AppError>>,
    on_remove: Callback<()>,
) -> impl IntoView {
    let key_field = attribute_field(index, "key");
    let value_field = attribute_field(index, "value");
    let key_id = format!("attr-key-{}", row.id);
    let value_id = format!("attr-value-{}", row.id);
    let key_error = Signal::derive(move || error.get().and_then(|e| e.field_message(&key_field)));
    let value_error =
        Signal::derive(move || error.get().and_then(|e| e.field_message(&value_field)));
    view! {
        <div class="attribute-row" data-testid="attribute-row">
            <div class="field">
                <label for=key_id.clone()>{format!("Field {} name", index + 1)}</label>
                <input id=key_id type="text" bind:value=row.key
                    aria-invalid=move || key_error.get().is_some().to_string()/>
                {move || key_error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </div>
            <div class="field">
                <label for=value_id.clone()>{format!("Field {} value", index + 1)}</label>
                <input id=value_id type="text" bind:value=row.value
                    aria-invalid=move || value_error.get().is_some().to_string()/>
                {move || value_error.get().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </div>
            <button type="button" class="button button-quiet remove-row"
                aria-label=format!("Remove field {}", index + 1)
                on:click=move |_| on_remove.run(())>"Remove"</button>
        </div>
    }
}
