//! The HTTP server: state, router, middleware and start-up (compiled with `ssr` only).

pub mod auth;
pub mod cli;
pub mod client;
pub mod config;
pub mod csv_file;
pub mod disk;
pub mod export;
pub mod headers;
pub mod health;
pub mod importer;
pub mod keys;
pub mod limits;
pub mod metrics;
pub mod origin;
pub mod password;
pub mod receive;
pub mod servers;
pub mod session;
pub mod sheet_reader;
pub mod state;
pub mod static_files;
pub mod store;
pub mod throttle;
pub mod upload;
pub mod v1;
pub mod webhooks;
pub mod xlsx_file;

use crate::app::{App, shell};
use crate::db;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{MethodRouter, get, post};
use config::Config;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use state::AppState;
use std::net::SocketAddr;
use std::time::Duration;

/// A route other than the pages, the server functions and the static files.
pub struct Route {
    /// Its method (what the route answers, beside HEAD for a GET).
    pub method: http::Method,
    /// Its path, with `{name}` for each parameter.
    pub path: &'static str,
    handler: MethodRouter<AppState>,
}

/// Every such route: the router is built from this list, and tests go through it, so a
/// new route is tested for who may call it without anyone adding it to a test.
pub fn routes(state: &AppState) -> Vec<Route> {
    let upload_limit = usize::try_from(state.config.max_upload_bytes + receive::FORM_OVERHEAD)
        .unwrap_or(usize::MAX);
    let route = |method, path, handler| Route {
        method,
        path,
        handler,
    };
    use http::Method;
    vec![
        route(Method::GET, "/healthz", get(health::livez)),
        route(Method::GET, "/livez", get(health::livez)),
        route(Method::GET, "/readyz", get(health::readyz)),
        route(
            Method::POST,
            "/contacts/export.csv",
            post(export::export_contacts),
        ),
        route(
            Method::POST,
            "/contacts/export.xlsx",
            post(export::export_contacts_xlsx),
        ),
        route(
            Method::POST,
            "/imports",
            post(upload::upload).layer(DefaultBodyLimit::max(upload_limit)),
        ),
        route(
            Method::GET,
            "/imports/{id}/rejected.csv",
            get(upload::rejected_rows),
        ),
        route(Method::GET, "/api/docs", get(v1::docs::page)),
    ]
}

/// Builds the whole application router (pages, server functions, static files).
pub fn router(state: AppState) -> Router {
    let pages = generate_route_list(App);
    let context = {
        let state = state.clone();
        move || {
            provide_context(state.clone());
            headers::page_policy();
        }
    };
    let page = {
        let options = state.leptos_options.clone();
        move || shell(options.clone())
    };
    let plain = routes(&state)
        .into_iter()
        .fold(Router::new(), |router, route| {
            router.route(route.path, route.handler)
        });
    plain
        .nest("/api/v1", v1::router(&state))
        .leptos_routes_with_context(&state, pages, context.clone(), page)
        // Static files first; what is not one gets the app's "not found" page.
        .fallback_service(
            static_files::serve_dir(&state.leptos_options.site_root).fallback(
                axum::handler::Handler::with_state(
                    leptos_axum::file_and_error_handler_with_context::<AppState, _>(context, shell),
                    state.clone(),
                ),
            ),
        )
        // Listed innermost first: a request is identified (address, https), passes the
        // security headers, the origin check, the body limit, then authentication;
        // whatever refuses it, the answer gets the security headers.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            limits::limit_bodies,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            origin::refuse_cross_origin,
        ))
        .layer(static_files::compression())
        .layer(axum::middleware::from_fn_with_state(
            state.leptos_options.hash_files,
            static_files::cache_headers,
        ))
        .layer(axum::middleware::from_fn(headers::security_headers))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            client::identify,
        ))
        .layer(axum::middleware::from_fn(metrics::track))
        .with_state(state)
}

/// Leptos settings for running outside cargo-leptos (tests and benchmarks).
pub fn test_leptos_options() -> LeptosOptions {
    LeptosOptions::builder()
        .output_name("contacts")
        .site_root("target/site")
        .build()
}

/// Opens the database and applies the migrations; refuses to go on if either fails.
pub async fn open_database(config: &Config) -> Result<db::Db, StartError> {
    std::fs::create_dir_all(&config.data_dir).map_err(|e| StartError::DataDir {
        path: config.data_dir.display().to_string(),
        source: e,
    })?;
    Ok(db::open(&config.database(), config.database_pool).await?)
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// An environment variable was unusable.
    #[error("configuration: {0}")]
    Config(#[from] config::ConfigError),
    /// Leptos' settings could not be read.
    #[error("leptos configuration: {0}")]
    Leptos(String),
    /// The data folder could not be created.
    #[error("cannot create the data folder {path}: {source}")]
    DataDir {
        /// The folder.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The database could not be opened or migrated; the server does not run on a
    /// half-migrated schema or one newer than it knows.
    #[error("cannot open the database: {0}")]
    Database(#[from] db::OpenError),
    /// The listen address could not be bound, or serving failed.
    #[error("cannot serve on {addr}: {source}")]
    Serve {
        /// The address.
        addr: SocketAddr,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// Starts the server and runs it until Ctrl-C or SIGTERM.
pub async fn serve() -> Result<(), StartError> {
    let config = Config::from_env()?;
    let leptos_options = get_configuration(None)
        .map_err(|e| StartError::Leptos(e.to_string()))?
        .leptos_options;
    let addr = leptos_options.site_addr;
    let pool = open_database(&config).await?;
    tracing::info!(database = %config.database(), "database ready");
    tracing::info!(store = ?config.uploads, "uploads wait in the store");

    let state = AppState::new(leptos_options, pool.clone(), config);
    spawn_sweeper(state.clone());
    let heart = servers::spawn(state.clone());
    let importer = importer::spawn_worker(state.clone());
    let webhooks = webhooks::spawn_worker(state.clone());
    if let Some(addr) = state.config.metrics_addr {
        serve_metrics(state.clone(), addr).await?;
    }
    let drain = state.drain.clone();
    let limit = Duration::from_secs(state.config.drain_seconds);
    let app = router(state);

    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Serve { addr, source })?;
    tracing::info!("Contacts is running at http://{addr}");
    println!("Contacts is running at http://{addr}");
    tokio::spawn({
        let drain = drain.clone();
        async move {
            shutdown_signal().await;
            drain.cancel();
        }
    });
    let serving = async {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(drain.clone().cancelled_owned())
        .await
        .map_err(|source| StartError::Serve { addr, source })?;
        // The workers end once drained (the importer hands its import back); the pool
        // closes after them, so none of them meets a closed pool.
        for (worker, name) in [
            (importer, "importer"),
            (webhooks, "webhooks"),
            (heart, "heartbeat"),
        ] {
            if let Err(e) = worker.await {
                tracing::error!(error = %e, worker = name, "a worker failed");
            }
        }
        pool.close().await;
        Ok::<_, StartError>(())
    };
    let overdue = async {
        drain.cancelled().await;
        tokio::time::sleep(limit).await;
    };
    tokio::select! {
        served = serving => served?,
        () = overdue => tracing::warn!(
            seconds = limit.as_secs(),
            "requests still running when the drain time ran out: stopping anyway"
        ),
    }
    tracing::info!("stopped");
    Ok(())
}

/// Serves `GET /metrics` on `addr` (see [`metrics`]) until the process ends.
async fn serve_metrics(state: AppState, addr: SocketAddr) -> Result<(), StartError> {
    metrics::handle();
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| StartError::Serve { addr, source })?;
    tracing::info!("metrics at http://{addr}/metrics");
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, metrics::router(state)).await {
            tracing::error!(error = %e, "the metrics listener failed");
        }
    });
    Ok(())
}

/// How long the delivery log keeps a delivery that ended.
pub const WEBHOOK_LOG_DAYS: i64 = 30;

/// Once an hour: deletes expired sessions, the rejected-row reports of imports that ended
/// longer ago than `CONTACTS_REJECTS_RETENTION_DAYS`, contacts' history entries older
/// than `CONTACTS_HISTORY_RETENTION_DAYS`, what uploads older than `CONTACTS_UNDO_DAYS`
/// met (only an undo needs it), and the API's idempotent responses older than
/// a day, webhook deliveries sent or given up more than [`WEBHOOK_LOG_DAYS`] ago, and
/// what stops left in the upload store (the first time at start-up).
fn spawn_sweeper(state: AppState) {
    tokio::spawn(async move {
        let mut every_hour = tokio::time::interval(Duration::from_secs(3600));
        loop {
            every_hour.tick().await;
            let now = db::now();
            // Errors are logged by AppError; the next hour tries again.
            if let Ok(n @ 1..) = db::sessions::delete_expired(&state.db, now).await {
                tracing::info!(sessions = n, "removed expired sessions");
            }
            let cutoff = now - state.config.rejects_retention_days * 24 * 3600;
            if let Ok(n @ 1..) = db::imports::purge_rejects(&state.db, cutoff).await {
                tracing::info!(imports = n, "removed old reports of rejected rows");
            }
            let cutoff = now - state.config.undo_days * 24 * 3600;
            if let Ok(n @ 1..) = db::imports::purge_undo_notes(&state.db, cutoff).await {
                tracing::info!(notes = n, "forgot what uploads past their undo window met");
            }
            let cutoff = now - state.config.history_retention_days * 24 * 3600;
            if let Ok(n @ 1..) = db::history::purge(&state.db, cutoff).await {
                tracing::info!(entries = n, "removed old history entries");
            }
            let cutoff = now - WEBHOOK_LOG_DAYS * 24 * 3600;
            if let Ok(n @ 1..) = db::webhooks::purge(&state.db, cutoff).await {
                tracing::info!(messages = n, "removed old webhook deliveries");
            }
            if let Err(e) = importer::sweep_uploads(&state).await {
                tracing::warn!(error = %e, "sweeping the upload store");
            }
            if let Ok(n @ 1..) = throttle::purge(&state.db).await {
                tracing::info!(keys = n, "forgot failed sign-ins past the window");
            }
            if let Ok(n @ 1..) = db::idempotency::purge(&state.db, now).await {
                tracing::info!(
                    responses = n,
                    "forgot idempotent responses older than a day"
                );
            }
        }
    });
}

/// Resolves on Ctrl-C or SIGTERM: the server drains (see [`state::AppState::drain`]).
async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(e) => tracing::error!(error = %e, "cannot listen for SIGTERM"),
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}

/// Logs to stderr, as text or one JSON object a line (`CONTACTS_LOG_FORMAT`; a value
/// that is neither is reported when the configuration is read, and text is used until
/// then); `RUST_LOG` sets the level (default `info`).
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Where stderr went away (its reader closed), reporting that on stderr panicked
        // whatever task logged next: the signal handler's, which then never drained.
        .log_internal_errors(false);
    match config::LogFormat::from_lookup(|name| std::env::var(name).ok()) {
        Ok(config::LogFormat::Json) => logs.json().init(),
        _ => logs.init(),
    }
}
