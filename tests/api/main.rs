//! The HTTP API, driven through the real router against a fresh database per test.
//!
//! One test binary for all of them: each binary links the whole app, so one keeps builds small.

mod auth;
mod changes;
mod common;
mod contacts;
mod corpus;
mod erasure;
mod hardening;
mod health;
mod imports;
mod restart;
mod schema;
mod security;
mod sheets;
mod store;
mod undo;
mod v1;
mod webhooks;
