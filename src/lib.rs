//! Contacts: manage the people a business messages.
//!
//! One crate, two builds: `ssr` (the axum server, with the database) and `hydrate` (the
//! browser's WASM). Shared code (models, validation, components) compiles into both.

#![recursion_limit = "256"]

pub mod api;
pub mod app;
pub mod components;
pub mod error;
pub mod import;
pub mod model;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod db;
#[cfg(feature = "ssr")]
pub mod normalize;
#[cfg(feature = "ssr")]
pub mod phone;
#[cfg(feature = "ssr")]
pub mod server;

/// Entry point of the WASM bundle: takes over the server-rendered page. Screens whose
/// code is split into files of their own are fetched first when the page is one of them,
/// so hydration waits for them (`hydrate_lazy` does the same, without telling us when).
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    use leptos::prelude::document;
    console_error_panic_hook::set_once();
    let Some(body) = document().body() else {
        return;
    };
    wasm_bindgen_futures::spawn_local(async move {
        let owner = leptos::mount::hydrate_from_async(body.clone(), app::App).await;
        owner.forget();
        // Lets end-to-end tests wait until the page reacts to clicks.
        let _ = body.set_attribute("data-hydrated", "true");
    });
}
