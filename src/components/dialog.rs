//! An accessible modal dialog on the native `<dialog>` element.
//!
//! `showModal()` makes the rest of the page inert (so focus stays inside), closes on Esc
//! and dims the page through `::backdrop`; the title labels the dialog.

use leptos::html;
use leptos::prelude::*;

/// A modal dialog, open while it is rendered; `on_close` runs on Esc or Cancel.
#[component]
pub fn Modal(
    /// The heading, which also names the dialog for assistive technology.
    #[prop(into)]
    title: Signal<String>,
    /// Called when the user dismisses the dialog (Esc).
    on_close: Callback<()>,
    /// Extra class for sizing (`modal-wide`).
    #[prop(optional)]
    class: &'static str,
    /// The body.
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let title_id = format!("dialog-title-{}", next_id());
    let labelled_by = title_id.clone();
    Effect::new(move |_| {
        if let Some(element) = dialog.get() {
            open_when_connected(element, 0);
        }
    });
    view! {
        <dialog
            node_ref=dialog
            class=format!("modal {class}")
            aria-labelledby=labelled_by
            on:cancel=move |ev: leptos::ev::Event| {
                // Esc: let the owner decide (it unmounts the dialog).
                ev.prevent_default();
                on_close.run(());
            }
        >
            <h2 class="modal-title" id=title_id>{title}</h2>
            {children()}
        </dialog>
    }
}

/// `showModal()` needs the element in the document; inside a `<Suspense>` it is built
/// before it is attached, so wait a frame at a time (at most a second).
fn open_when_connected(element: leptos::web_sys::HtmlDialogElement, frames: u32) {
    if element.open() {
        return;
    }
    if element.is_connected() {
        let _ = element.show_modal();
    } else if frames < 60 {
        request_animation_frame(move || open_when_connected(element, frames + 1));
    }
}

/// A short unique number for element ids within the page.
fn next_id() -> usize {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// "Delete 3 contacts?" with Cancel and a confirming button.
#[component]
pub fn ConfirmDialog(
    /// The question.
    #[prop(into)]
    title: Signal<String>,
    /// What happens, in a sentence.
    #[prop(into)]
    message: Signal<String>,
    /// The confirming button's label.
    confirm_label: &'static str,
    /// Whether the work is running (the button is disabled).
    #[prop(into)]
    pending: Signal<bool>,
    /// Confirmed.
    on_confirm: Callback<()>,
    /// Cancelled.
    on_cancel: Callback<()>,
) -> impl IntoView {
    view! {
        <Modal title on_close=on_cancel>
            <p>{message}</p>
            <div class="modal-actions">
                <button type="button" class="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button type="button" class="button button-danger" disabled=pending
                    on:click=move |_| on_confirm.run(())>
                    {confirm_label}
                </button>
            </div>
        </Modal>
    }
}
