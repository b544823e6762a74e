//! Reusable pieces of the UI.

pub mod dialog;
pub mod empty_state;
pub mod form;
pub mod group_picker;
pub mod nav;
pub mod role_gate;
pub mod search;
pub mod toast;
pub mod user;
