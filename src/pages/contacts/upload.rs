//! The Upload contacts tab: drop a CSV, preview its first rows in the browser, tag the
//! columns, choose a group, start processing; below, the uploads with live status.

use super::EmptyState;
use crate::api::groups::list_groups;
use crate::api::imports::{check_numbers, list_imports, upload_limit};
use crate::components::toast::use_toasts;
use crate::components::user::UserResource;
use crate::import::columns::{Columns, Tag};
use crate::import::sniff::{Delimiter, Encoding, FileProblem, PREVIEW_ROWS, decode, parse_rows};
use crate::import::{ImportOptions, ImportStatus, ImportSummary, NumberCheck, format_size};
use crate::model::country::countries_by_name;
use crate::model::date::format_date;
use leptos::prelude::*;
use leptos_meta::Title;
use std::sync::Arc;

/// The beginning of the chosen file, as read for the preview.
#[derive(Clone, Debug, PartialEq)]
struct Preview {
    name: String,
    size: u64,
    head: Arc<Vec<u8>>,
    /// Whether `head` is the whole file.
    whole: bool,
}

/// The preview's rows as the current settings read them.
#[derive(Clone, Debug, PartialEq)]
struct Table {
    headers: Vec<String>,
    rows: Vec<Vec<String>>,
}

fn read_table(
    preview: &Preview,
    encoding: Encoding,
    delimiter: Delimiter,
    header: bool,
) -> Result<Table, FileProblem> {
    let text = decode(&preview.head, encoding);
    let mut rows = parse_rows(&text, delimiter, PREVIEW_ROWS + 1, preview.whole)?;
    if rows.is_empty() {
        return Err(FileProblem::Empty);
    }
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let headers = if header {
        let mut first = rows.remove(0);
        first.resize(width, String::new());
        first
            .into_iter()
            .enumerate()
            .map(|(i, h)| {
                if h.trim().is_empty() {
                    format!("Column {}", i + 1)
                } else {
                    h
                }
            })
            .collect()
    } else {
        rows.truncate(PREVIEW_ROWS);
        (1..=width).map(|i| format!("Column {i}")).collect()
    };
    Ok(Table { headers, rows })
}

/// The tab: the upload form for editors, the uploads list for everyone.
#[component]
pub fn UploadTab() -> impl IntoView {
    let user = expect_context::<UserResource>();
    let refresh = RwSignal::new(0u32);
    view! {
        <Title text="Upload contacts"/>
        <Suspense>
            {move || Suspend::new(async move {
                let user = user.await.ok()?;
                user.role.can_edit().then(|| view! {
                    <UploadForm refresh default_country=user.default_country.clone()/>
                })
            })}
        </Suspense>
        <UploadsList refresh/>
    }
}

/// Drop zone, preview, tags, options and "Start processing".
#[component]
fn UploadForm(refresh: RwSignal<u32>, default_country: String) -> impl IntoView {
    let toasts = use_toasts();
    let limit = Resource::new(|| (), |_| upload_limit());
    let preview = RwSignal::new(None::<Preview>);
    let problem = RwSignal::new(None::<String>);
    let dragging = RwSignal::new(false);
    let encoding = RwSignal::new(Encoding::Utf8);
    let delimiter = RwSignal::new(Delimiter::Comma);
    let has_header = RwSignal::new(true);
    let columns = RwSignal::new(Columns::default());
    let country = RwSignal::new(default_country.clone());
    let group = RwSignal::new(String::new());
    let update_names = RwSignal::new(false);
    let uploading = RwSignal::new(false);
    let submit_error = RwSignal::new(None::<String>);
    #[cfg(feature = "hydrate")]
    let file = StoredValue::new_local(None::<web_sys::File>);

    let table = Memo::new(move |_| {
        preview.with(|p| {
            p.as_ref()
                .map(|p| read_table(p, encoding.get(), delimiter.get(), has_header.get()))
        })
    });
    let samples = Memo::new(move |_| {
        let mobile = columns.get().mobile?;
        table.with(|t| match t {
            Some(Ok(t)) => Some(
                t.rows
                    .iter()
                    .map(|row| row.get(mobile).cloned().unwrap_or_default())
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        })
    });
    let checks = Resource::new(
        move || (samples.get(), country.get()),
        |(samples, country)| async move {
            match samples {
                Some(values) if !values.is_empty() => check_numbers(values, country).await.ok(),
                _ => None,
            }
        },
    );
    let groups = Resource::new(|| (), |_| list_groups(String::new()));

    // Reading the file's first slice and sniffing it happen in the browser.
    #[cfg(feature = "hydrate")]
    let choose = move |chosen: web_sys::File| {
        use crate::import::columns::suggest;
        use crate::import::sniff::{PREVIEW_BYTES, sniff};
        use crate::import::{accepted_file_name, not_csv_message};
        let name = chosen.name();
        let size = chosen.size() as u64;
        submit_error.set(None);
        preview.set(None);
        if !accepted_file_name(&name) {
            problem.set(Some(not_csv_message(&name)));
            return;
        }
        if let Some(Ok(max)) = limit.get_untracked()
            && size > max
        {
            problem.set(Some(format!(
                "\"{name}\" is {}; the most this server accepts is {}. Split it into smaller files.",
                format_size(size),
                format_size(max)
            )));
            return;
        }
        problem.set(None);
        file.set_value(Some(chosen.clone()));
        leptos::task::spawn_local(async move {
            let end = PREVIEW_BYTES.min(size as usize);
            let head = match read_slice(&chosen, end).await {
                Some(head) => head,
                None => {
                    problem.set(Some(format!(
                        "\"{name}\" could not be read. Choose it again."
                    )));
                    return;
                }
            };
            let whole = size as usize <= PREVIEW_BYTES;
            match sniff(&head, whole) {
                Ok(found) => {
                    encoding.set(found.encoding);
                    delimiter.set(found.delimiter);
                    has_header.set(found.has_header);
                    preview.set(Some(Preview {
                        name,
                        size,
                        head: Arc::new(head),
                        whole,
                    }));
                    // Tags are suggested from the header row the preview table just read.
                    let suggested = table.with_untracked(|t| match t {
                        Some(Ok(t)) if found.has_header => suggest(&t.headers),
                        _ => Columns::default(),
                    });
                    columns.set(suggested);
                }
                Err(found) => problem.set(Some(format!("\"{name}\": {found}"))),
            }
        });
    };

    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        if let Some(chosen) = ev
            .data_transfer()
            .and_then(|d| d.files())
            .and_then(|f| f.get(0))
        {
            choose(chosen);
        }
    };
    let on_change = move |ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(input) = ev
                .target()
                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                if let Some(chosen) = input.files().and_then(|f| f.get(0)) {
                    choose(chosen);
                }
                input.set_value(""); // choosing the same file again still fires
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = ev;
    };

    let reset = move || {
        preview.set(None);
        columns.set(Columns::default());
        group.set(String::new());
        update_names.set(false);
        submit_error.set(None);
        #[cfg(feature = "hydrate")]
        file.set_value(None);
    };

    let start = move |_| {
        if columns.get_untracked().mobile.is_none() {
            submit_error.set(Some("Tag the column that holds the mobile number.".into()));
            return;
        }
        let options = ImportOptions {
            encoding: encoding.get_untracked(),
            delimiter: delimiter.get_untracked(),
            has_header: has_header.get_untracked(),
            columns: columns.get_untracked(),
            country: country.get_untracked(),
            group: Some(group.get_untracked().trim().to_string()).filter(|g| !g.is_empty()),
            update_names: update_names.get_untracked(),
        };
        #[cfg(feature = "hydrate")]
        {
            let Some(chosen) = file.get_value() else {
                return;
            };
            let name = chosen.name();
            uploading.set(true);
            submit_error.set(None);
            leptos::task::spawn_local(async move {
                let result = send_upload(chosen, &options).await;
                uploading.set(false);
                match result {
                    Ok(()) => {
                        toasts.show(format!("Upload of {name} started."));
                        reset();
                        refresh.update(|n| *n += 1);
                    }
                    Err(message) => submit_error.set(Some(message)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (options, toasts, refresh, reset);
    };

    view! {
        <section class="card upload-card" aria-labelledby="upload-title">
            <h2 id="upload-title">"Upload contacts"</h2>
            <div class="drop-zone" class:drag-over=move || dragging.get() data-testid="drop-zone"
                on:dragenter=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
                on:dragleave=move |_| dragging.set(false)
                on:drop=on_drop>
                <input type="file" id="upload-file" class="visually-hidden"
                    accept=".csv,.tsv,.txt,text/csv,text/tab-separated-values,text/plain"
                    on:change=on_change/>
                <label for="upload-file" class="drop-zone-label">
                    <strong>"Drag a CSV file here"</strong>" or "<span class="link-text">"click to upload"</span>
                </label>
                <p class="muted small">
                    ".csv, .tsv or .txt with a column of mobile numbers"
                    {move || limit.get().and_then(Result::ok).map(|max| format!(" — up to {}", format_size(max)))}
                </p>
            </div>
            {move || problem.get().map(|p| view! { <p class="form-error" role="alert">{p}</p> })}
            {move || preview.get().map(|p| view! {
                <div class="upload-preview">
                    <p class="file-facts">
                        <strong data-testid="file-name">{p.name.clone()}</strong>
                        <span class="muted">{format!(" · {}", format_size(p.size))}</span>
                    </p>
                    <div class="form-row upload-settings">
                        <div class="field">
                            <label for="upload-encoding">"Encoding"</label>
                            <select id="upload-encoding"
                                on:change=move |ev| if let Some(e) = Encoding::ALL.into_iter().find(|e| e.label() == event_target_value(&ev)) { encoding.set(e) }>
                                {Encoding::ALL.into_iter().map(|e| view! {
                                    <option value=e.label() selected=move || encoding.get() == e>{e.label()}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <div class="field">
                            <label for="upload-delimiter">"Delimiter"</label>
                            <select id="upload-delimiter"
                                on:change=move |ev| if let Some(d) = Delimiter::ALL.into_iter().find(|d| d.label() == event_target_value(&ev)) { delimiter.set(d) }>
                                {Delimiter::ALL.into_iter().map(|d| view! {
                                    <option value=d.label() selected=move || delimiter.get() == d>{d.label()}</option>
                                }).collect_view()}
                            </select>
                        </div>
                        <label class="checkbox-label">
                            <input type="checkbox" prop:checked=move || has_header.get()
                                on:change=move |ev| has_header.set(event_target_checked(&ev))/>
                            "First row is a header"
                        </label>
                    </div>
                    <PreviewTable table columns checks/>
                </div>
            })}
            {move || preview.with(Option::is_some).then(|| view! {
                <div class="form-row upload-settings">
                    <div class="field">
                        <label for="upload-country">"Default country"</label>
                        <select id="upload-country" on:change=move |ev| country.set(event_target_value(&ev))>
                            {countries_by_name().into_iter().map(|(code, name)| view! {
                                <option value=code selected=move || country.get() == code>{format!("{name} ({code})")}</option>
                            }).collect_view()}
                        </select>
                        <span class="hint">"For numbers written without a country code."</span>
                    </div>
                    <div class="field">
                        <label for="upload-group">"Add to group (optional)"</label>
                        <input id="upload-group" type="text" list="upload-group-names" autocomplete="off"
                            maxlength="100" placeholder="Pick a group or type a new name"
                            prop:value=move || group.get() on:input=move |ev| group.set(event_target_value(&ev))/>
                        <datalist id="upload-group-names">
                            <Suspense>
                                {move || Suspend::new(async move {
                                    groups.await.unwrap_or_default().into_iter()
                                        .map(|g| view! { <option value=g.name.clone()></option> })
                                        .collect_view()
                                })}
                            </Suspense>
                        </datalist>
                        <span class="hint">"A new name creates the group when processing starts."</span>
                    </div>
                    <label class="checkbox-label">
                        <input type="checkbox" prop:checked=move || update_names.get()
                            on:change=move |ev| update_names.set(event_target_checked(&ev))/>
                        "Update names of existing contacts"
                    </label>
                </div>
                <div class="form-actions">
                    <button type="button" class="button button-primary"
                        disabled=move || uploading.get() || columns.get().mobile.is_none()
                        on:click=start>
                        {move || if uploading.get() { "Uploading…" } else { "Start processing" }}
                    </button>
                    <button type="button" class="button button-quiet" on:click=move |_| reset()
                        disabled=move || uploading.get()>"Cancel"</button>
                    {move || columns.get().mobile.is_none().then(|| view! {
                        <span class="hint">"Tag the column that holds the mobile number."</span>
                    })}
                </div>
                {move || submit_error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            })}
        </section>
    }
}

/// The first rows with a tag menu over each column and, for the mobile column, what
/// each number will become.
#[component]
fn PreviewTable(
    table: Memo<Option<Result<Table, FileProblem>>>,
    columns: RwSignal<Columns>,
    checks: Resource<Option<Vec<NumberCheck>>>,
) -> impl IntoView {
    move || match table.get() {
        None => ().into_any(),
        Some(Err(problem)) => {
            view! { <p class="form-error" role="alert">{problem.to_string()}</p> }.into_any()
        }
        Some(Ok(table)) => {
            let count = table.rows.len();
            let headers = table.headers.clone();
            let head = headers.iter().enumerate().map(|(index, header)| {
                let label = format!("Column {}: {header}", index + 1);
                view! {
                    <th scope="col">
                        <div class="column-head">
                            <span class="column-name">{header.clone()}</span>
                            <select aria-label=label class="tag-select"
                                on:change=move |ev| {
                                    let value = event_target_value(&ev);
                                    let tag = Tag::ALL.into_iter().find(|t| t.label() == value);
                                    columns.update(|c| c.set(index, tag));
                                }>
                                <option value="" selected=move || columns.get().tag_of(index).is_none()>"Not imported"</option>
                                {Tag::ALL.into_iter().map(|tag| view! {
                                    <option value=tag.label() selected=move || columns.get().tag_of(index) == Some(tag)>{tag.label()}</option>
                                }).collect_view()}
                            </select>
                        </div>
                    </th>
                }
            }).collect_view();
            let width = headers.len();
            let body = table.rows.into_iter().enumerate().map(|(i, row)| {
                let cells = (0..width).map(|c| {
                    let value = row.get(c).cloned().unwrap_or_default();
                    view! { <td class:tagged=move || columns.get().tag_of(c).is_some()>{value}</td> }
                }).collect_view();
                view! {
                    <tr>
                        {cells}
                        <td class="will-import" data-testid="number-check">
                            {move || match checks.get().flatten().and_then(|c| c.get(i).cloned()) {
                                Some(NumberCheck::Valid(e164)) => view! { <span class="ok-text">{e164}</span> }.into_any(),
                                Some(NumberCheck::Invalid(why)) => view! { <span class="danger-text">{why}</span> }.into_any(),
                                None => view! { <span class="muted">"—"</span> }.into_any(),
                            }}
                        </td>
                    </tr>
                }
            }).collect_view();
            view! {
                <p class="muted small">{format!("The first {count} rows. Tag the mobile number column (required) and, if the file has them, the name columns.")}</p>
                <div class="table-wrap preview-wrap">
                    <table class="table preview-table" aria-label="File preview">
                        <thead><tr>{head}<th scope="col">"Mobile number will be"</th></tr></thead>
                        <tbody>{body}</tbody>
                    </table>
                </div>
            }.into_any()
        }
    }
}

/// The first `end` bytes of a file, read without reading the rest.
///
/// `Blob.slice().arrayBuffer()` rather than gloo-file's FileReader: its event callbacks
/// take borrowed JS values, whose glue uses `table.fill`, which the wasm-opt on our
/// machines (binaryen 108) cannot parse.
#[cfg(feature = "hydrate")]
async fn read_slice(file: &web_sys::File, end: usize) -> Option<Vec<u8>> {
    let slice = file.slice_with_f64_and_f64(0.0, end as f64).ok()?;
    let buffer = wasm_bindgen_futures::JsFuture::from(slice.array_buffer())
        .await
        .ok()?;
    Some(js_sys::Uint8Array::new(&buffer).to_vec())
}

/// Sends the file and its settings; `Err` holds the message to show.
#[cfg(feature = "hydrate")]
async fn send_upload(file: web_sys::File, options: &ImportOptions) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let offline = || crate::error::AppError::Network.to_string();
    let json = serde_json::to_string(options).map_err(|_| offline())?;
    let form = web_sys::FormData::new().map_err(|_| offline())?;
    form.append_with_str("options", &json)
        .map_err(|_| offline())?;
    form.append_with_blob_and_filename("file", &file, &file.name())
        .map_err(|_| offline())?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&form);
    let response = JsFuture::from(window().fetch_with_str_and_init("/imports", &init))
        .await
        .map_err(|_| offline())?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| offline())?;
    if response.status() == 202 {
        return Ok(());
    }
    let text = match response.text() {
        Ok(promise) => JsFuture::from(promise)
            .await
            .ok()
            .and_then(|t| t.as_string()),
        Err(_) => None,
    };
    // Refusals come as the app's error type, as from server functions.
    let error = text
        .and_then(|t| serde_json::from_str::<crate::error::AppError>(&t).ok())
        .unwrap_or(crate::error::AppError::Internal);
    Err(error.to_string())
}

/// The workspace's uploads; refreshed every second while one is queued or processing.
#[component]
fn UploadsList(refresh: RwSignal<u32>) -> impl IntoView {
    let tick = RwSignal::new(0u32);
    let uploads = Resource::new(move || (refresh.get(), tick.get()), |_| list_imports());
    let active = RwSignal::new(false);
    Effect::new(move |_| {
        if let Some(Ok(list)) = uploads.get() {
            active.set(list.iter().any(|i| i.status.is_active()));
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
                    match uploads.await {
                        Ok(list) if list.is_empty() => view! {
                            <EmptyState title="No uploads yet">
                                "Upload a CSV file with a column of mobile numbers; its uploads will be listed here."
                            </EmptyState>
                        }.into_any(),
                        Ok(list) => view! { <UploadsTable uploads=list/> }.into_any(),
                        Err(e) => view! { <p class="form-error" role="alert">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn UploadsTable(uploads: Vec<ImportSummary>) -> impl IntoView {
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
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}
