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
