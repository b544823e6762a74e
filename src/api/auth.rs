//! Create workspace, sign in, sign out, and who is signed in.

use crate::error::AppError;
use crate::model::CurrentUser;
use leptos::prelude::*;

/// Creates the install's first workspace with its admin, and signs the admin in.
#[server(endpoint = "create_workspace")]
pub async fn create_workspace(
    workspace_name: String,
    default_country: String,
    email: String,
    password: String,
) -> Result<(), AppError> {
    use crate::db;
    use crate::model::account::validate_new_workspace;
    use crate::server::password::hash_password;
    super::ssr::respond(async move {
        let state = super::ssr::state()?;
        if state.has_workspace().await? {
            return Err(AppError::Conflict(
                "This Contacts install already has a workspace. Sign in instead.".into(),
            ));
        }
        let new = validate_new_workspace(&workspace_name, &default_country, &email, &password)?;
        let hash = hash_password(new.password.clone()).await?;
        let created = db::workspaces::create_first(&state.pool, &new, &hash).await?;
        tracing::info!(workspace = created.workspace_id, "workspace created");
        start::start_session(&state, created.workspace_id, created.user_id).await
    })
    .await
}

/// Signs in with email and password. The message is the same for an unknown email and a
/// wrong password, so the form does not reveal who has an account.
#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    use crate::db;
    use crate::server::password::verify_password;
    use crate::server::throttle::wait_message;
    use std::time::Instant;
    super::ssr::respond(async move {
        let state = super::ssr::state()?;
        let ip = super::ssr::client_ip();
        if let Some(wait) = state.throttle.wait_before_attempt(ip, Instant::now()) {
            return Err(AppError::TooManyRequests(wait_message(wait)));
        }
        let email = email.trim().to_lowercase();
        let credentials = db::users::credentials_by_email(&state.pool, &email).await?;
        let stored = credentials.as_ref().map(|c| c.password_hash.clone());
        if !verify_password(password, stored).await? {
            state.throttle.record_failure(ip, Instant::now());
            return Err(AppError::invalid("password", "Wrong email or password."));
        }
        let Some(credentials) = credentials else {
            return Err(AppError::invalid("password", "Wrong email or password."));
        };
        state.throttle.record_success(ip);
        start::start_session(&state, credentials.workspace_id, credentials.id).await
    })
    .await
}

/// Ends the current session and clears the cookie.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::db;
    use crate::server::session::{clear_cookie, cookie_is_secure};
    super::ssr::respond(async move {
        let state = super::ssr::state()?;
        if let Some(session) = super::ssr::session() {
            db::sessions::delete(&state.pool, &session.token_hash).await?;
        }
        let secure = cookie_is_secure(state.config.cookie_security, &super::ssr::headers()?);
        super::ssr::set_cookie(&clear_cookie(secure))
    })
    .await
}

/// The signed-in user and their workspace.
#[server(name = FetchCurrentUser, endpoint = "current_user")]
pub async fn current_user() -> Result<CurrentUser, AppError> {
    super::ssr::respond(async move { super::ssr::require_user() }).await
}

#[cfg(feature = "ssr")]
mod start {
    use crate::api::ssr::{headers, set_cookie};
    use crate::db;
    use crate::error::AppError;
    use crate::server::session::{cookie_is_secure, new_token, session_cookie, token_hash};
    use crate::server::state::AppState;

    /// Stores a new session and sets its cookie.
    pub async fn start_session(
        state: &AppState,
        workspace_id: i64,
        user_id: i64,
    ) -> Result<(), AppError> {
        let token = new_token();
        let max_age = state.config.session_days * 24 * 3600;
        db::sessions::create(
            &state.pool,
            &token_hash(&token),
            workspace_id,
            user_id,
            db::now() + max_age,
        )
        .await?;
        let secure = cookie_is_secure(state.config.cookie_security, &headers()?);
        set_cookie(&session_cookie(&token, max_age, secure))
    }
}
