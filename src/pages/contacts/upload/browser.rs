//! The browser's side of an upload: reading the first bytes of the chosen file (without
//! reading the rest) and sending the file with its settings.

use crate::error::AppError;
use crate::import::ImportOptions;
use leptos::prelude::window;

/// The first `end` bytes of a file.
pub async fn read_start(file: &web_sys::File, end: u64) -> Option<Vec<u8>> {
    let file = gloo_file::File::from(file.clone());
    let start = file.slice(0, end);
    gloo_file::futures::read_as_bytes(&start).await.ok()
}

/// Where the spreadsheet reader's worker is served from (`make` builds it, with the
/// reader's WASM module, into `public/sheet-reader/`).
const SHEET_WORKER: &str = "/sheet-reader/worker.js";

/// How long the reader may take before the preview gives up on a file.
const SHEET_TIMEOUT_MS: i32 = 60_000;

/// The first rows of a spreadsheet's sheet (its first with a value unless one is named),
/// read by the server's own reader (`contacts_sheets`, built into a WASM module of its
/// own) in a Web Worker: fetched only when a spreadsheet is chosen, off the page's
/// thread, and a new one each time, so a file that breaks it takes nothing else down.
/// A workbook is a zip, read from its end, so the worker reads the whole file.
pub async fn read_sheet_of(
    file: &web_sys::File,
    sheet: Option<String>,
) -> Result<crate::import::sheet::SheetSample, String> {
    use crate::import::sheet::{BOUNDS, SAMPLE_ROWS, SheetSample};
    use js_sys::Reflect;
    use wasm_bindgen::JsValue;
    use wasm_bindgen_futures::JsFuture;
    let failed = || {
        "The spreadsheet could not be read here. Save it as CSV and choose that file.".to_string()
    };
    let options = web_sys::WorkerOptions::new();
    options.set_type(web_sys::WorkerType::Module);
    let worker = web_sys::Worker::new_with_options(SHEET_WORKER, &options).map_err(|_| failed())?;
    // Settled by the worker's answer, its failing to load, or the time running out.
    let answer = js_sys::Promise::new(&mut |settle, _| {
        worker.set_onmessage(Some(&settle));
        worker.set_onerror(Some(&settle));
        let _ = window()
            .set_timeout_with_callback_and_timeout_and_arguments_0(&settle, SHEET_TIMEOUT_MS);
    });
    let message = js_sys::Object::new();
    let fields: [(&str, JsValue); 5] = [
        ("file", file.into()),
        ("sheet", sheet.into()),
        ("maxCells", BOUNDS.max_cells.into()),
        ("maxBytes", BOUNDS.max_bytes.into()),
        ("count", SAMPLE_ROWS.into()),
    ];
    for (name, value) in fields {
        Reflect::set(&message, &name.into(), &value).map_err(|_| failed())?;
    }
    worker.post_message(&message).map_err(|_| failed())?;
    let answer = JsFuture::from(answer).await;
    worker.terminate();
    let data = answer
        .and_then(|event| Reflect::get(&event, &"data".into()))
        .map_err(|_| failed())?;
    let field = |name: &str| Reflect::get(&data, &name.into()).ok()?.as_string();
    if let Some(sample) = field("sample") {
        let sample: contacts_sheets::Sample =
            serde_json::from_str(&sample).map_err(|_| failed())?;
        return Ok(SheetSample::from(sample));
    }
    Err(field("error").unwrap_or_else(failed))
}

/// Sends the file and its settings to `POST /imports`; `Err` holds the message to show.
pub async fn send_upload(file: web_sys::File, options: ImportOptions) -> Result<(), String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    let offline = || AppError::Network.to_string();
    let json = serde_json::to_string(&options).map_err(|_| offline())?;
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
        .and_then(|t| serde_json::from_str::<AppError>(&t).ok())
        .unwrap_or(AppError::Internal);
    Err(error.to_string())
}
