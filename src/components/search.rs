//! Search as you type, without a request per keystroke.

use leptos::prelude::*;
use leptos_use_signal_debounce_throttle::signal_debounced;

/// How long typing must pause before a search is sent.
pub const SEARCH_PAUSE_MS: f64 = 200.0;

/// What is typed in a search box, once typing pauses for [`SEARCH_PAUSE_MS`]: typing
/// "tan" sends one search, not three.
pub fn settled(typed: RwSignal<String>) -> Signal<String> {
    signal_debounced(typed, SEARCH_PAUSE_MS)
}
