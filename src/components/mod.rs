//! Reusable pieces of the UI.

pub mod form;
pub mod nav;
pub mod role_gate;
