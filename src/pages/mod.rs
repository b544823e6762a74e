//! One module per screen.

pub mod account;
pub mod api_keys;
pub mod contacts;
pub mod not_found;
pub mod settings;
pub mod setup;
pub mod sign_in;
pub mod webhooks;
