//! Form helpers: messages next to fields, a form-level alert, and leaving a page.

use crate::error::AppError;
use leptos::prelude::*;

/// The error of a server action, if its last run failed.
pub fn action_error<I, O>(action: ServerAction<I>) -> Signal<Option<AppError>>
where
    I: leptos::server_fn::ServerFn<Output = O, Error = AppError> + Clone + Send + Sync + 'static,
    O: Clone + Send + Sync + 'static,
{
    Signal::derive(move || action.value().get().and_then(Result::err))
}

/// The message for `field` under its input, announced to screen readers.
#[component]
pub fn FieldMessage(
    /// The form field's name.
    field: &'static str,
    /// The form's current error.
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    move || {
        error
            .get()
            .and_then(|e| e.field_message(field))
            .map(|message| {
                view! {
                    <p class="field-error" id=format!("{field}-error") role="alert">
                        {message}
                    </p>
                }
            })
    }
}

/// Whether `field` currently has an error (for `aria-invalid`).
pub fn field_invalid(error: Signal<Option<AppError>>, field: &'static str) -> Signal<&'static str> {
    Signal::derive(move || {
        if error.get().and_then(|e| e.field_message(field)).is_some() {
            "true"
        } else {
            "false"
        }
    })
}

/// An error that belongs to no single field (or to fields the form does not show).
#[component]
pub fn FormError(
    /// The form's current error.
    error: Signal<Option<AppError>>,
    /// Fields that show their own message, so it is not repeated here.
    #[prop(optional)]
    fields: &'static [&'static str],
) -> impl IntoView {
    move || {
        error
            .get()
            .filter(|e| !fields.iter().any(|f| e.field_message(f).is_some()))
            .map(|e| view! { <p class="form-error" role="alert">{e.to_string()}</p> })
    }
}

/// Loads `path` as a new page: used after signing in or out, so every piece of state
/// from the previous session is dropped.
pub fn load_page(path: &str) {
    #[cfg(feature = "hydrate")]
    {
        if let Err(e) = window().location().set_href(path) {
            leptos::logging::error!("cannot navigate to {path}: {e:?}");
        }
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = path;
}

/// A labelled text input with its hint and its field's server error.
#[component]
pub fn TextField(
    label: &'static str,
    name: &'static str,
    value: RwSignal<String>,
    error: Signal<Option<AppError>>,
    #[prop(optional)] input_type: Option<&'static str>,
    #[prop(optional)] hint: Option<&'static str>,
    #[prop(optional)] autocomplete: Option<&'static str>,
) -> impl IntoView {
    let id = format!("field-{name}");
    let hint_id = format!("{id}-hint");
    view! {
        <div class="field">
            <label for=id.clone()>{label}</label>
            <input id=id name=name type=input_type.unwrap_or("text") bind:value=value
                autocomplete=autocomplete.unwrap_or("off")
                aria-describedby=hint.map(|_| hint_id.clone())
                aria-invalid=move || error.get().and_then(|e| e.field_message(name)).is_some().to_string()/>
            {hint.map(|h| view! { <p class="hint" id=hint_id>{h}</p> })}
            <FieldMessage field=name error/>
        </div>
    }
}
