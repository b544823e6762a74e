//! The state every handler and server function shares.

use crate::db::{self, Db};
use crate::error::AppError;
use crate::server::config::Config;
use crate::server::disk::DiskReservations;
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Shared by the axum router and, through Leptos context, by server functions.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Leptos' own settings (site root, output name, address).
    pub leptos_options: LeptosOptions,
    /// The database.
    pub db: Db,
    /// The server's configuration.
    pub config: Arc<Config>,
    /// Disk space promised to uploads still arriving.
    pub disk: Arc<DiskReservations>,
    /// Wakes the importer when an upload is queued.
    pub import_wakeup: Arc<tokio::sync::Notify>,
    /// Requests per API key, counted against `CONTACTS_API_RATE_LIMIT`.
    pub api_rate: Arc<crate::server::v1::rate::KeyRates>,
    /// Cancelled on SIGTERM: `/readyz` answers 503, the importer takes no more
    /// uploads, and requests in flight get `CONTACTS_DRAIN_SECONDS` to finish.
    pub drain: tokio_util::sync::CancellationToken,
    /// Set once the first workspace exists; it never goes back, so it is cached.
    workspace_created: Arc<AtomicBool>,
    /// The key that signs the API's list cursors (an install secret, read once).
    cursor_key: Arc<tokio::sync::OnceCell<Vec<u8>>>,
}

impl AppState {
    /// Builds the state around an open, migrated pool.
    pub fn new(leptos_options: LeptosOptions, db: Db, config: Config) -> Self {
        let api_rate = Arc::new(crate::server::v1::rate::KeyRates::new(
            config.api_rate_limit,
        ));
        AppState {
            leptos_options,
            db,
            config: Arc::new(config),
            disk: Arc::default(),
            import_wakeup: Arc::default(),
            api_rate,
            drain: tokio_util::sync::CancellationToken::new(),
            workspace_created: Arc::default(),
            cursor_key: Arc::default(),
        }
    }

    /// The key that signs the API's list cursors.
    pub async fn cursor_key(&self) -> Result<&[u8], AppError> {
        self.cursor_key
            .get_or_try_init(|| db::secrets::get_or_create(&self.db, "cursor"))
            .await
            .map(Vec::as_slice)
    }

    /// Whether the install has been set up (asks the database until it has).
    pub async fn has_workspace(&self) -> Result<bool, AppError> {
        if self.workspace_created.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let exists = db::workspaces::any_exists(&self.db).await?;
        if exists {
            self.workspace_created.store(true, Ordering::Relaxed);
        }
        Ok(exists)
    }
}
