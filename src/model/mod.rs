//! Types and validation shared by the server and the browser: what crosses the wire.

pub mod account;
pub mod api_key;
pub mod channel;
pub mod contact;
pub mod country;
pub mod date;
pub mod field;
pub mod group;
pub mod history;
pub mod opt_out;
pub mod user;
pub mod webhook;

pub use user::{CurrentUser, Role, UserSummary};
