//! The Upload contacts tab: drop a CSV file or a spreadsheet, preview its first rows in
//! the browser, tag the columns, choose a group, start processing; below, the uploads
//! with live status.

#[cfg(feature = "hydrate")]
mod browser;
mod form;
mod preview_table;
mod undo;
mod uploads_list;

use crate::components::user::use_user;
use crate::import::ImportOptions;
use form::UploadForm;
use leptos::prelude::*;
use leptos_meta::Title;
use uploads_list::UploadsList;

/// Where the file the user chose is kept. Only the browser has one: a browser-only
/// value, which must never exist on the server (dropped on another thread, it panics).
#[cfg(feature = "hydrate")]
pub type FileSlot = StoredValue<Option<web_sys::File>, LocalStorage>;
/// Where the file the user chose is kept (nothing, on the server).
#[cfg(not(feature = "hydrate"))]
pub type FileSlot = StoredValue<Option<()>>;

/// The upload: sends the chosen file with these settings; `Err` holds the message to
/// show. In the browser it runs `fetch`; on the server, where nothing is ever chosen, it
/// is a plain action with nothing to send.
fn upload_action(file: FileSlot) -> Action<ImportOptions, Result<(), String>> {
    #[cfg(feature = "hydrate")]
    {
        Action::new_local(move |options: &ImportOptions| {
            let (chosen, options) = (file.get_value(), options.clone());
            async move {
                match chosen {
                    Some(chosen) => browser::send_upload(chosen, options).await,
                    None => Err("Choose a file to upload.".to_string()),
                }
            }
        })
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = file;
        Action::new(|_: &ImportOptions| async { Err("Choose a file to upload.".to_string()) })
    }
}

/// The tab: the upload form for editors, the uploads list for everyone. An upload is an
/// action: the list reloads when its version moves.
#[component]
pub fn UploadTab() -> impl IntoView {
    let user = use_user();
    #[cfg(feature = "hydrate")]
    let file: FileSlot = StoredValue::new_local(None);
    #[cfg(not(feature = "hydrate"))]
    let file: FileSlot = StoredValue::new(None);
    let upload = upload_action(file);
    let started = Signal::derive(move || upload.version().get());
    view! {
        <Title text="Upload contacts"/>
        <Suspense>
            {move || Suspend::new(async move {
                let user = user.await.ok()?;
                user.role.can_edit().then(|| view! {
                    <UploadForm upload file default_country=user.default_country.clone()/>
                })
            })}
        </Suspense>
        <UploadsList started/>
    }
}
