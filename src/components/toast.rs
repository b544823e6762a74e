//! Toasts: short results ("3 contacts deleted") announced politely and gone after a while.

use leptos::prelude::*;

/// The toasts of the page, provided as context by [`ToastRegion`].
#[derive(Clone, Copy)]
pub struct Toasts {
    messages: RwSignal<Vec<(u64, String)>>,
    next: StoredValue<u64>,
}

impl Toasts {
    /// Shows a message for a few seconds.
    pub fn show(&self, message: impl Into<String>) {
        let id = self.next.get_value();
        self.next.set_value(id + 1);
        self.messages.update(|m| m.push((id, message.into())));
        let messages = self.messages;
        set_timeout(
            move || messages.update(|m| m.retain(|(i, _)| *i != id)),
            std::time::Duration::from_secs(5),
        );
    }
}

/// The toasts from context (a no-op holder if no region is mounted).
pub fn use_toasts() -> Toasts {
    use_context::<Toasts>().unwrap_or_else(|| Toasts {
        messages: RwSignal::new(Vec::new()),
        next: StoredValue::new(0),
    })
}

/// Where toasts appear; provides [`Toasts`] to everything inside it.
#[component]
pub fn ToastRegion(children: Children) -> impl IntoView {
    let toasts = Toasts {
        messages: RwSignal::new(Vec::new()),
        next: StoredValue::new(0),
    };
    provide_context(toasts);
    view! {
        {children()}
        <div class="toasts" role="status" aria-live="polite">
            <For each=move || toasts.messages.get() key=|(id, _)| *id let((_, message))>
                <div class="toast">{message}</div>
            </For>
        </div>
    }
}
