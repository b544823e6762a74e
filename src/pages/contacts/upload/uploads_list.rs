//! The list of the workspace's uploads, with live status while one runs.

use super::undo::UndoCell;
use crate::api::imports::{UndoImport, list_imports};
use crate::components::empty_state::EmptyState;
use crate::components::toast::use_toasts;
use crate::components::user::use_user;
use crate::import::{ImportStatus, ImportSummary, UndoProgress, format_size};
use crate::model::date::format_date;
use leptos::prelude::*;

/// The workspace's uploads; refreshed every second while one is queued or processing.
#[component]
pub fn UploadsList(
    /// Uploads started from this page; the list reloads when one is accepted.
    started: Signal<usize>,
) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let undo = ServerAction::<UndoImport>::new();
    let uploads = Resource::new(
        move || (started.get(), tick.get(), undo.version().get()),
        |_| list_imports(),
    );
    let toasts = use_toasts();
    Effect::new(move |_| {
        if let Some(Err(e)) = undo.value().get() {
            toasts.show(e.to_string());
        }
    });
    let user = use_user();
    let active = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(list)) = uploads.get() {
            active.set(list.iter().any(|i| {
                i.status.is_active() || i.undo.as_ref().is_some_and(UndoProgress::is_running)
            }));
        }
    });
    #[cfg(feature = "hydrate")]
    {
        if let Ok(handle) = set_interval_with_handle(
            move || {
                if active.get_untracked() {
                    tick.update(|t| *t += 1);
                }
            },
            std::time::Duration::from_secs(1),
        ) {
            on_cleanup(move || handle.clear());
        }
    }
    view! {
        <section class="uploads" aria-labelledby="uploads-title">
            <h2 id="uploads-title">"Uploads"</h2>
            <Transition fallback=|| view! { <p class="muted">"Loading uploads…"</p> }>
                {move || Suspend::new(async move {
                    let can_undo = user.await.is_ok_and(|u| u.role.is_admin());
                    match uploads.await {
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState title="No uploads yet">
                                "Upload a CSV file with a column of mobile numbers; its uploads will be listed here."
                            </EmptyState>
                        }.into_any(),
                        Ok(list) => view! { <UploadsTable uploads=list can_undo undo/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn UploadsTable(
    uploads: Vec<ImportSummary>,
    can_undo: bool,
    undo: ServerAction<UndoImport>,
) -> impl IntoView {
    let rows = uploads
        .into_iter()
        .map(|upload| {
            let c = upload.counts;
            let rejected = c.duplicates + c.invalid;
            let status = match upload.status {
                ImportStatus::Processing => view! {
                    <div class="progress-cell">
                        <span class="badge">"Processing"</span>
                        <progress max="100" value=format!("{:.0}", upload.progress() * 100.0)
                            aria-label=format!("{} processing", upload.file_name)></progress>
                        <span class="small muted">{format!("{} rows", c.rows_read)}</span>
                    </div>
                }
                .into_any(),
                ImportStatus::Failed => view! {
                    <div>
                        <span class="badge badge-danger">"Failed"</span>
                        <p class="small danger-text">{upload.error.clone().unwrap_or_default()}</p>
                    </div>
                }
                .into_any(),
                ImportStatus::Completed => view! { <span class="badge badge-success">"Completed"</span> }.into_any(),
                ImportStatus::Queued => view! { <span class="badge">"Queued"</span> }.into_any(),
            };
            view! {
                <tr data-testid="upload-row" data-status=upload.status.label()>
                    <td>
                        <span class="row-name">{upload.file_name.clone()}</span>
                        <span class="small muted">{format!(" · {}", format_size(upload.file_size as u64))}</span>
                        {upload.group_name.clone().map(|g| view! { <div class="small muted">{format!("Group: {g}")}</div> })}
                    </td>
                    <td>
                        <div>{if upload.user_email.is_empty() { "Removed user".to_string() } else { upload.user_email.clone() }}</div>
                        <div class="small muted">{format_date(upload.created_at)}</div>
                    </td>
                    <td data-testid="upload-status">{status}</td>
                    <td class="num" data-testid="rows-read">{c.rows_read}</td>
                    <td class="num" data-testid="created">{c.created}</td>
                    <td class="num" data-testid="matched">{c.matched}</td>
                    <td class="num" data-testid="duplicates">{c.duplicates}</td>
                    <td class="num" data-testid="invalid">{c.invalid}</td>
                    <td>
                        {match (rejected > 0, upload.report_deleted) {
                            (false, _) => None,
                            (true, true) => Some(view! {
                                <span class="small muted">"Report of rejected rows deleted"</span>
                            }.into_any()),
                            (true, false) => Some(view! {
                                <a href=format!("/imports/{}/rejected.csv", upload.id) download rel="external">
                                    "Download rejected rows"
                                </a>
                            }.into_any()),
                        }}
                    </td>
                    <td><UndoCell upload=upload.clone() can_undo action=undo/></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table uploads-table">
                <thead>
                    <tr>
                        <th scope="col">"File"</th>
                        <th scope="col">"Uploaded by"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col" class="num">"Rows read"</th>
                        <th scope="col" class="num">"Created"</th>
                        <th scope="col" class="num">"Existing matched"</th>
                        <th scope="col" class="num">"Duplicates in file"</th>
                        <th scope="col" class="num">"Invalid"</th>
                        <th scope="col"><span class="visually-hidden">"Report"</span></th>
                        <th scope="col"><span class="visually-hidden">"Undo"</span></th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
