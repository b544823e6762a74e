//! The preview table: the file's first rows, a menu over each column to tag what it
//! holds, and what the import will do with each row.

use crate::import::RowVerdict;
use crate::import::columns::{self, Columns, Field, Tag};
use crate::import::preview::Table;
use crate::import::sniff::FileProblem;
use crate::model::channel::Channel;
use leptos::prelude::*;

/// The menu value of a custom field.
const CUSTOM: &str = "custom";
/// The menu's value for "opted out of" a channel: this and the channel's name.
const OPT_OUT: &str = "opted-out:";

/// The first rows with a tag menu over each column and each row's verdict.
#[component]
pub fn PreviewTable(
    table: Memo<Option<Result<Table, FileProblem>>>,
    columns: RwSignal<Columns>,
    verdicts: Resource<Option<Vec<RowVerdict>>>,
) -> impl IntoView {
    move || match table.get() {
        None => ().into_any(),
        Some(Err(problem)) => {
            view! { <p class="form-error" role="alert">{problem.to_string()}</p> }.into_any()
        }
        Some(Ok(table)) => {
            let count = table.rows.len();
            let width = table.headers.len();
            let head = table
                .headers
                .iter()
                .enumerate()
                .map(|(index, header)| view! { <ColumnHead index header=header.clone() columns/> })
                .collect_view();
            let body = table
                .rows
                .into_iter()
                .enumerate()
                .map(|(i, row)| {
                    let cells = match row.fields {
                        Ok(fields) => (0..width)
                            .map(|c| {
                                let value = fields.get(c).cloned().unwrap_or_default();
                                view! { <td class:tagged=move || columns.with(|t| t.tag_of(c).is_some())>{value}</td> }
                            })
                            .collect_view()
                            .into_any(),
                        Err(_) => view! { <td colspan=width class="muted">"(not shown)"</td> }.into_any(),
                    };
                    view! {
                        <tr>
                            <td class="num muted">{row.line}</td>
                            {cells}
                            <td class="will-import" data-testid="row-verdict">
                                {move || verdict_view(verdicts.get().flatten().and_then(|v| v.get(i).cloned()))}
                            </td>
                        </tr>
                    }
                })
                .collect_view();
            view! {
                <p class="muted small">
                    {format!("The first {count} rows. Tag the column with the mobile number (required), \
                        and any other column to import it as a contact field or a custom field.")}
                </p>
                <div class="table-wrap preview-wrap">
                    <table class="table preview-table" aria-label="File preview">
                        <thead>
                            <tr>
                                <th scope="col" class="num">"Line"</th>
                                {head}
                                <th scope="col">"Will be"</th>
                            </tr>
                        </thead>
                        <tbody>{body}</tbody>
                    </table>
                </div>
            }
            .into_any()
        }
    }
}

fn verdict_view(verdict: Option<RowVerdict>) -> AnyView {
    match verdict {
        Some(RowVerdict::Contact(e164)) => view! { <span class="ok-text">{e164}</span> }.into_any(),
        Some(RowVerdict::Duplicate(line)) => {
            view! { <span class="muted">{format!("Same number as line {line}: counted once")}</span> }.into_any()
        }
        Some(RowVerdict::Invalid(why)) => view! { <span class="danger-text">{why}</span> }.into_any(),
        None => view! { <span class="muted">"—"</span> }.into_any(),
    }
}

/// A column's header: its name, the menu of what it holds, and for a custom field its
/// name (the header's, editable).
#[component]
fn ColumnHead(index: usize, header: String, columns: RwSignal<Columns>) -> impl IntoView {
    let label = format!("Column {}: {header}", index + 1);
    let key_label = format!("Custom field name for column {}", index + 1);
    let tag = move || columns.with(|c| c.tag_of(index));
    let selected = move |value: &str| {
        let current = match tag() {
            None => String::new(),
            Some(Tag::Field(field)) => field.key().to_string(),
            Some(Tag::Custom(_)) => CUSTOM.to_string(),
            Some(Tag::OptOut(channel)) => format!("{OPT_OUT}{}", channel.name()),
        };
        current == value
    };
    let default_key = header.clone();
    let on_change = move |ev: leptos::ev::Event| {
        let value = event_target_value(&ev);
        let tag = match value.as_str() {
            "" => None,
            CUSTOM => Some(Tag::Custom(default_key.clone())),
            key => match key.strip_prefix(OPT_OUT) {
                Some(channel) => Channel::parse(channel).map(Tag::OptOut),
                None => Field::from_key(key).map(Tag::Field),
            },
        };
        columns.update(|c| c.set(index, tag));
    };
    view! {
        <th scope="col">
            <div class="column-head">
                <span class="column-name">{header}</span>
                <select aria-label=label class="tag-select" on:change=on_change>
                    <option value="" selected=move || selected("")>"Not imported"</option>
                    {columns::menu().map(|field| view! {
                        <option value=field.key() selected=move || selected(field.key())>{field.label()}</option>
                    }).collect_view()}
                    <option value=CUSTOM selected=move || selected(CUSTOM)>"Custom field"</option>
                    {Channel::all().map(|channel| {
                        let value = format!("{OPT_OUT}{}", channel.name());
                        let is = value.clone();
                        view! {
                            <option value=value selected=move || selected(&is)>
                                {format!("Opted out of {} (yes / no)", channel.label())}
                            </option>
                        }
                    }).collect_view()}
                </select>
                {move || match tag() {
                    Some(Tag::Custom(key)) => Some(view! {
                        <input type="text" class="custom-key" aria-label=key_label.clone() maxlength="200"
                            prop:value=key
                            on:change=move |ev| {
                                let key = event_target_value(&ev);
                                columns.update(|c| c.set(index, Some(Tag::Custom(key))));
                            }/>
                    }),
                    _ => None,
                }}
            </div>
        </th>
    }
}
