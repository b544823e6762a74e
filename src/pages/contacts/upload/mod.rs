//! The Upload contacts tab: drop a CSV, preview its first rows in the browser, tag the
//! columns, choose a group, start processing; below, the uploads with live status.

#[cfg(feature = "hydrate")]
mod browser;
mod form;
mod preview_table;
mod uploads_list;

use crate::components::user::use_user;
use crate::import::ImportOptions;
use form::UploadForm;
use leptos::prelude::*;
use leptos_meta::Title;
use uploads_list::UploadsList;

/// The file the user chose (only the browser has one).
#[cfg(feature = "hydrate")]
pub type ChosenFile = web_sys::File;
/// The file the user chose (only the browser has one).
#[cfg(not(feature = "hydrate"))]
pub type ChosenFile = ();

/// Sends the chosen file; `Err` holds the message to show.
async fn send(file: Option<ChosenFile>, options: ImportOptions) -> Result<(), String> {
    #[cfg(feature = "hydrate")]
    if let Some(file) = file {
        return browser::send_upload(file, options).await;
    }
    let _ = (file, options);
    Err("Choose a file to upload.".into())
}

/// The tab: the upload form for editors, the uploads list for everyone. An upload is an
/// action: the list reloads when its version moves.
#[component]
pub fn UploadTab() -> impl IntoView {
    let user = use_user();
    let file = StoredValue::new_local(None::<ChosenFile>);
    let upload =
        Action::new_local(move |options: &ImportOptions| send(file.get_value(), options.clone()));
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
