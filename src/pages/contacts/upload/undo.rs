//! An upload's undo in the uploads list: the button (admins) with a confirmation, then
//! its progress and counts, and what it kept with the reason.

use crate::api::imports::{UndoImport, list_undo_kept};
use crate::import::{ImportStatus, ImportSummary};
use leptos::prelude::*;

/// The undo cell of an upload's row.
#[component]
pub fn UndoCell(
    upload: ImportSummary,
    /// Whether the user may undo uploads (admins).
    can_undo: bool,
    action: ServerAction<UndoImport>,
) -> impl IntoView {
    let id = upload.id;
    match upload.undo {
        Some(undo) if undo.status == "completed" => {
            let counts = format!(
                "{} removed · {} restored · {} kept",
                undo.removed, undo.restored, undo.kept
            );
            view! {
                <div data-testid="undo-status">
                    <span class="badge">"Undone"</span>
                    <div class="small muted">{counts}</div>
                    {(undo.kept > 0).then(|| view! { <KeptList id/> })}
                </div>
            }
            .into_any()
        }
        Some(undo) if undo.is_running() => {
            view! { <span class="badge" data-testid="undo-status">"Undoing…"</span> }.into_any()
        }
        Some(undo) => view! {
            <div data-testid="undo-status">
                <span class="badge badge-danger">"Undo failed"</span>
                <div class="small muted">{format!(
                    "{} removed · {} restored before it stopped; ask your administrator to check the server's log.",
                    undo.removed, undo.restored
                )}</div>
            </div>
        }.into_any(),
        None if can_undo && !upload.status.is_active() && upload.status != ImportStatus::Queued => {
            let confirming = RwSignal::new(false);
            let question = format!(
                "Undo {}? The {} contacts it created are removed and the {} it matched get back \
                 their values and groups from before it, except what was changed since.",
                upload.file_name, upload.counts.created, upload.counts.matched
            );
            view! {
                {move || if confirming.get() {
                    let question = question.clone();
                    view! {
                        <div class="inline-confirm" role="alert">
                            <span>{question}</span>
                            <button type="button" class="button" on:click=move |_| confirming.set(false)>"Keep"</button>
                            <button type="button" class="button button-danger" disabled=action.pending()
                                on:click=move |_| { action.dispatch(UndoImport { id }); }>"Undo upload"</button>
                        </div>
                    }.into_any()
                } else {
                    view! {
                        <button type="button" class="button button-quiet" on:click=move |_| confirming.set(true)>
                            "Undo…"
                        </button>
                    }.into_any()
                }}
            }
            .into_any()
        }
        None => ().into_any(),
    }
}

/// The contacts an undo kept and why, read when first opened.
#[component]
fn KeptList(id: i64) -> impl IntoView {
    let load = Action::new(move |_: &()| list_undo_kept(id));
    view! {
        <details on:toggle=move |_| if load.value().get_untracked().is_none() && !load.pending().get_untracked() {
            load.dispatch(());
        }>
            <summary class="small">"What was kept, and why"</summary>
            {move || match load.value().get() {
                None => view! { <p class="small muted">"Loading…"</p> }.into_any(),
                Some(Err(e)) => view! { <p class="small form-error">{e.to_string()}</p> }.into_any(),
                Some(Ok(list)) => view! {
                    <ul class="kept-list small">
                        {list.into_iter().map(|k| view! {
                            <li>{format!("Contact #{}: {}", k.contact_id, k.reason)}</li>
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </details>
    }
}
