//! The upload form: drop zone, the preview with its settings and column tags, the
//! default country and group, and "Start processing".

use super::FileSlot;
use super::preview_table::PreviewTable;
use crate::api::groups::list_groups;
use crate::api::imports::{check_rows, upload_limit};
use crate::components::toast::use_toasts;
use crate::import::columns::Columns;
use crate::import::encoding::Encoding;
use crate::import::preview::{Preview, read_table, table_of};
use crate::import::sheet::SheetSample;
use crate::import::sniff::Delimiter;
use crate::import::{ImportOptions, format_size};
use crate::model::country::countries_by_name;
use leptos::prelude::*;

/// Drop zone, preview, tags, options and "Start processing".
#[component]
pub fn UploadForm(
    /// Sends the chosen file with these settings.
    upload: Action<ImportOptions, Result<(), String>>,
    /// The file chosen in the drop zone.
    file: FileSlot,
    /// The workspace's default country.
    default_country: String,
) -> impl IntoView {
    let toasts = use_toasts();
    let limit = Resource::new(|| (), |_| upload_limit());
    let preview = RwSignal::new(None::<Preview>);
    let problem = RwSignal::new(None::<String>);
    let dragging = RwSignal::new(false);
    let encoding = RwSignal::new(Encoding::Utf8);
    let delimiter = RwSignal::new(Delimiter::Comma);
    let has_header = RwSignal::new(true);
    let columns = RwSignal::new(Columns::default());
    let country = RwSignal::new(default_country);
    let group = RwSignal::new(String::new());
    let update_existing = RwSignal::new(false);
    // A spreadsheet's sample: its rows, read in the browser.
    let sheet = RwSignal::new(None::<SheetSample>);
    // Each read of the chosen file (or of another of its sheets) is numbered: an answer
    // that comes back after a newer choice (a workbook may take seconds) is dropped.
    let reads = StoredValue::new(0u64);
    let next_read = move || {
        reads.update_value(|n| *n += 1);
        reads.get_value()
    };
    #[cfg(feature = "hydrate")]
    let is_latest = move |read: u64| reads.get_value() == read;

    let table = Memo::new(move |_| {
        if let Some(rows) = sheet.with(|s| s.as_ref().map(|s| s.rows.clone())) {
            return Some(table_of(rows, has_header.get()));
        }
        preview.with(|p| {
            p.as_ref()
                .map(|p| read_table(p, encoding.get(), delimiter.get(), has_header.get()))
        })
    });
    // The server judges the sample rows by the importer's own rule.
    let verdicts = Resource::new(
        move || {
            let sample = table.with(|t| match t {
                Some(Ok(t)) => Some((t.rows.clone(), t.header_width)),
                _ => None,
            });
            (sample, columns.get(), country.get())
        },
        |(sample, columns, country)| async move {
            let (rows, header_width) = sample?;
            columns.get(crate::import::columns::Field::Mobile)?;
            check_rows(rows, header_width, columns, country).await.ok()
        },
    );
    let groups = Resource::new(|| (), |_| list_groups(String::new()));

    let reset = move || {
        next_read();
        preview.set(None);
        sheet.set(None);
        columns.set(Columns::default());
        group.set(String::new());
        update_existing.set(false);
        upload.clear();
        file.set_value(None);
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = upload.value().get() {
            let name = preview.with_untracked(|p| p.as_ref().map(|p| p.name.clone()));
            toasts.show(format!("Upload of {} started.", name.unwrap_or_default()));
            reset();
        }
    });
    let submit_error = Signal::derive(move || upload.value().get().and_then(Result::err));

    // Tags suggested from the header row the preview table just read (none without one).
    #[cfg(feature = "hydrate")]
    let suggest_columns = move |with_header: bool| {
        use crate::import::columns::suggest;
        let suggested = table.with_untracked(|t| match t {
            Some(Ok(t)) if with_header => suggest(&t.headers),
            _ => Columns::default(),
        });
        columns.set(suggested);
    };

    // A sheet's rows shown: its header detected and the columns' tags suggested from it,
    // as for a CSV file.
    #[cfg(feature = "hydrate")]
    let show_sample = move |sample: SheetSample| {
        use crate::import::sniff::detect_header;
        let with_header = detect_header(&sample.rows);
        has_header.set(with_header);
        sheet.set(Some(sample));
        suggest_columns(with_header);
    };

    // Reading the file's first slice and sniffing it happen in the browser.
    #[cfg(feature = "hydrate")]
    let choose = move |chosen: web_sys::File| {
        use crate::import::sheet::MAX_WORKBOOK_BYTES;
        use crate::import::sniff::{PREVIEW_BYTES, sniff};
        use crate::import::{accepted_file_name, is_spreadsheet_name, not_csv_message};
        use std::sync::Arc;
        let name = chosen.name();
        let size = chosen.size() as u64;
        let read = next_read();
        upload.clear();
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
        sheet.set(None);
        file.set_value(Some(chosen.clone()));
        if is_spreadsheet_name(&name) {
            if size > MAX_WORKBOOK_BYTES {
                problem.set(Some(format!(
                    "\"{name}\" is {}; the most this server reads from a spreadsheet is {}. \
                     Save it as CSV and choose that file.",
                    format_size(size),
                    format_size(MAX_WORKBOOK_BYTES)
                )));
                return;
            }
            leptos::task::spawn_local(async move {
                let answer = super::browser::read_sheet_of(&chosen, None).await;
                if !is_latest(read) {
                    return;
                }
                match answer {
                    Ok(sample) => {
                        preview.set(Some(Preview {
                            name,
                            size,
                            head: Arc::new(Vec::new()),
                            whole: true,
                        }));
                        show_sample(sample);
                    }
                    Err(message) => problem.set(Some(format!("\"{name}\": {message}"))),
                }
            });
            return;
        }
        leptos::task::spawn_local(async move {
            let end = (PREVIEW_BYTES as u64).min(size);
            let head = super::browser::read_start(&chosen, end).await;
            if !is_latest(read) {
                return;
            }
            let Some(head) = head else {
                problem.set(Some(format!(
                    "\"{name}\" could not be read. Choose it again."
                )));
                return;
            };
            let whole = size <= PREVIEW_BYTES as u64;
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
                    suggest_columns(found.has_header);
                }
                Err(found) => problem.set(Some(format!("\"{name}\": {found}"))),
            }
        });
    };

    // Another sheet of the workbook: the file is read again (a workbook can be large, so
    // its bytes are not kept).
    let choose_sheet = move |name: String| {
        #[cfg(feature = "hydrate")]
        if let Some(chosen) = file.get_value() {
            let read = next_read();
            leptos::task::spawn_local(async move {
                let answer = super::browser::read_sheet_of(&chosen, Some(name)).await;
                if !is_latest(read) {
                    return;
                }
                match answer {
                    Ok(sample) => {
                        problem.set(None);
                        show_sample(sample);
                    }
                    // The sheet read before stays shown (and is what an upload reads).
                    Err(message) => problem.set(Some(message)),
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = name;
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

    let tag_problem = Signal::derive(move || columns.with(Columns::problem));
    let start = move |_| {
        if tag_problem.get_untracked().is_some() {
            return;
        }
        upload.dispatch(ImportOptions {
            encoding: encoding.get_untracked(),
            delimiter: delimiter.get_untracked(),
            has_header: has_header.get_untracked(),
            columns: columns.get_untracked(),
            country: country.get_untracked(),
            group: Some(group.get_untracked().trim().to_string()).filter(|g| !g.is_empty()),
            update_existing: update_existing.get_untracked(),
            sheet: sheet.with_untracked(|s| s.as_ref().map(|s| s.sheet.clone())),
        });
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
                    accept=".csv,.tsv,.txt,.xlsx,.xlsm,.xlsb,.xls,.ods,text/csv,text/tab-separated-values,text/plain"
                    on:change=on_change/>
                <label for="upload-file" class="drop-zone-label">
                    <strong>"Drag a CSV file or spreadsheet here"</strong>" or "<span class="link-text">"click to upload"</span>
                </label>
                <p class="muted small">
                    ".csv, .tsv, .txt, .xlsx, .xls or .ods with a column of mobile numbers"
                    <Transition>
                        {move || Suspend::new(async move {
                            limit.await.ok().map(|max| format!(" — up to {}", format_size(max)))
                        })}
                    </Transition>
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
                        {move || sheet.with(|s| s.as_ref().map(|s| s.sheets.clone())).map(|sheets| view! {
                            <div class="field">
                                <label for="upload-sheet">"Sheet"</label>
                                <select id="upload-sheet" on:change=move |ev| choose_sheet(event_target_value(&ev))>
                                    {sheets.into_iter().map(|name| {
                                        let chosen = name.clone();
                                        view! {
                                            <option value=name.clone()
                                                selected=move || sheet.with(|s| s.as_ref().is_some_and(|s| s.sheet == chosen))>
                                                {name.clone()}
                                            </option>
                                        }
                                    }).collect_view()}
                                </select>
                            </div>
                        })}
                        <Show when=move || sheet.with(Option::is_none)>
                        <div class="field">
                            <label for="upload-encoding">"Encoding"</label>
                            <select id="upload-encoding"
                                on:change=move |ev| if let Some(e) = Encoding::ALL.into_iter().find(|e| e.whatwg_name() == event_target_value(&ev)) { encoding.set(e) }>
                                {Encoding::ALL.into_iter().map(|e| view! {
                                    <option value=e.whatwg_name() selected=move || encoding.get() == e>{e.label()}</option>
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
                        </Show>
                        <label class="checkbox-label">
                            <input type="checkbox" prop:checked=move || has_header.get()
                                on:change=move |ev| has_header.set(event_target_checked(&ev))/>
                            "First row is a header"
                        </label>
                    </div>
                    <PreviewTable table columns verdicts/>
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
                        <input type="checkbox" prop:checked=move || update_existing.get()
                            on:change=move |ev| update_existing.set(event_target_checked(&ev))/>
                        "Update existing contacts with the file's values"
                    </label>
                </div>
                <div class="form-actions">
                    <button type="button" class="button button-primary"
                        disabled=move || upload.pending().get() || tag_problem.get().is_some()
                        on:click=start>
                        {move || if upload.pending().get() { "Uploading…" } else { "Start processing" }}
                    </button>
                    <button type="button" class="button button-quiet" on:click=move |_| reset()
                        disabled=move || upload.pending().get()>"Cancel"</button>
                    {move || tag_problem.get().map(|p| view! { <span class="hint">{p}</span> })}
                </div>
                {move || submit_error.get().map(|e| view! { <p class="form-error" role="alert">{e}</p> })}
            })}
        </section>
    }
}
