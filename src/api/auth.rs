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
        let created = db::workspaces::create_first(&state.db, &new, &hash).await?;
        tracing::info!(workspace = created.workspace_id, "workspace created");
        start::start_session(&state, created.workspace_id, created.user_id).await
    })
    .await
}

/// Signs in with email and password. The message is the same for an unknown email and a
/// wrong password, so the form does not reveal who has an account. The attempt is
/// counted against the address and the account before the password is checked.
#[server(endpoint = "sign_in")]
pub async fn sign_in(email: String, password: String) -> Result<(), AppError> {
    use crate::db;
    use crate::server::password::verify_password;
    use crate::server::throttle;
    super::ssr::respond(async move {
        let state = super::ssr::state()?;
        let ip = super::ssr::client()?.ip;
        let email = email.trim().to_lowercase();
        let attempt = throttle::reserve(&state.db, ip, &email).await?;
        let credentials = db::users::credentials_by_email(&state.db, &email).await?;
        let stored = credentials.as_ref().map(|c| c.password_hash.clone());
        let wrong = || AppError::invalid("password", "Wrong email or password.");
        if !verify_password(password, stored).await? {
            return Err(wrong());
        }
        let credentials = credentials.ok_or_else(wrong)?;
        throttle::succeeded(&state.db, attempt).await?;
        start::start_session(&state, credentials.workspace_id, credentials.id).await
    })
    .await
}

/// Ends the current session and clears the cookie.
#[server(endpoint = "sign_out")]
pub async fn sign_out() -> Result<(), AppError> {
    use crate::db;
    super::ssr::respond(async move {
        let state = super::ssr::state()?;
        if let Some(session) = super::ssr::session() {
            db::sessions::delete(&state.db, &session.token_hash).await?;
        }
        start::clear_session_cookie(&state)
    })
    .await
}

/// Ends every session of the signed-in user, this one included.
#[server(endpoint = "sign_out_everywhere")]
pub async fn sign_out_everywhere() -> Result<(), AppError> {
    use crate::db;
    super::ssr::respond(async move {
        let state = super::ssr::state()?;
        let user = super::ssr::signed_in_user()?;
        let mut tx = state.db.begin_write().await?;
        db::sessions::end_all_of_user(tx.conn(), user.id, None).await?;
        tx.commit().await?;
        start::clear_session_cookie(&state)
    })
    .await
}

/// Replaces the signed-in user's password (the current one is required); every other
/// session of theirs ends, this one stays signed in. Guesses of the current password are
/// counted as failed sign-ins are, so a borrowed session cannot try passwords freely.
#[server(endpoint = "change_password")]
pub async fn change_password(
    current_password: String,
    new_password: String,
) -> Result<(), AppError> {
    use crate::db;
    use crate::db::users::PasswordOwner;
    use crate::model::account::check_new_password;
    use crate::server::password::{hash_password, verify_password};
    use crate::server::throttle;
    super::ssr::respond(async move {
        let state = super::ssr::state()?;
        let session = super::ssr::session().ok_or(AppError::Unauthorized)?;
        let user = &session.user;
        let ip = super::ssr::client()?.ip;
        if let Err(message) = check_new_password(&new_password) {
            return Err(AppError::invalid("new_password", message));
        }
        if new_password == current_password {
            return Err(AppError::invalid(
                "new_password",
                "Choose a password different from the current one.",
            ));
        }
        let attempt = throttle::reserve(&state.db, ip, &user.email).await?;
        let stored = db::users::password_hash(&state.db, user.workspace_id, user.id).await?;
        if !verify_password(current_password, Some(stored)).await? {
            return Err(AppError::invalid(
                "current_password",
                "That is not your current password.",
            ));
        }
        throttle::succeeded(&state.db, attempt).await?;
        let hash = hash_password(new_password).await?;
        db::users::set_password(
            &state.db,
            user.workspace_id,
            user.id,
            &hash,
            PasswordOwner::User,
            Some(&session.token_hash),
        )
        .await
    })
    .await
}

/// The signed-in user and their workspace (also while an admin-set password waits to be
/// changed: the page frame shows who is signed in).
#[server(name = FetchCurrentUser, endpoint = "current_user")]
pub async fn current_user() -> Result<CurrentUser, AppError> {
    super::ssr::respond(async move { super::ssr::signed_in_user() }).await
}

#[cfg(feature = "ssr")]
mod start {
    use crate::api::ssr::{client, session, set_cookie};
    use crate::db;
    use crate::error::AppError;
    use crate::server::session::{clear_cookie, new_token, session_cookie, token_hash};
    use crate::server::state::AppState;

    /// Stores a new session and sets its cookie. The session the browser's old cookie
    /// named, if any, ends: one browser, one session.
    pub async fn start_session(
        state: &AppState,
        workspace_id: i64,
        user_id: i64,
    ) -> Result<(), AppError> {
        if let Some(old) = session() {
            db::sessions::delete(&state.db, &old.token_hash).await?;
        }
        let token = new_token();
        let max_age = state.config.session_days * 24 * 3600;
        db::sessions::create(
            &state.db,
            &token_hash(&token),
            workspace_id,
            user_id,
            db::now() + max_age,
        )
        .await?;
        let secure = client()?.secure_cookie(&state.config);
        set_cookie(&session_cookie(&token, max_age, secure))
    }

    /// Tells the browser to forget its session cookie.
    pub fn clear_session_cookie(state: &AppState) -> Result<(), AppError> {
        let secure = client()?.secure_cookie(&state.config);
        set_cookie(&clear_cookie(secure))
    }
}
