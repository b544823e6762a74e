//! Server functions: thin wrappers that check who is asking, call the data layer and map
//! errors. The browser calls them over HTTP; during server rendering they run in place.

pub mod auth;
#[cfg(feature = "ssr")]
pub mod contact_form;
pub mod contacts;
pub mod groups;
pub mod imports;
pub mod keys;
pub mod users;
pub mod webhooks;

/// Server-side helpers used inside `#[server]` bodies.
#[cfg(feature = "ssr")]
pub(crate) mod ssr {
    use crate::error::AppError;
    use crate::model::CurrentUser;
    use crate::server::auth::{Access, Caller};
    use crate::server::client::Client;
    use crate::server::session::Session;
    use crate::server::state::AppState;
    use http::request::Parts;
    use leptos::prelude::*;

    /// The shared state, provided as context by the router.
    pub fn state() -> Result<AppState, AppError> {
        use_context::<AppState>()
            .ok_or_else(|| AppError::internal("server function context", "AppState missing"))
    }

    fn parts() -> Result<Parts, AppError> {
        use_context::<Parts>()
            .ok_or_else(|| AppError::internal("server function context", "request parts missing"))
    }

    /// The request's session, resolved by the authentication middleware.
    pub fn session() -> Option<Session> {
        use_context::<Parts>().and_then(|parts| parts.extensions.get::<Session>().cloned())
    }

    /// The signed-in user, even one who must still change an admin-set password: only
    /// for showing the page frame, changing the password and signing out.
    pub fn signed_in_user() -> Result<CurrentUser, AppError> {
        session().map(|s| s.user).ok_or(AppError::Unauthorized)
    }

    /// The request's caller if its role allows `access` (see [`crate::server::auth`]).
    pub fn require(access: Access) -> Result<Caller, AppError> {
        crate::server::auth::caller(&parts()?.extensions)?.require(access)
    }

    /// The caller, whatever its role: every role reads.
    pub fn require_user() -> Result<Caller, AppError> {
        require(Access::Read)
    }

    /// The caller if they may change contacts and groups.
    pub fn require_editor() -> Result<Caller, AppError> {
        require(Access::Edit)
    }

    /// The caller if they are an admin.
    pub fn require_admin() -> Result<Caller, AppError> {
        require(Access::Admin)
    }

    /// The client: its address and whether it came over https.
    pub fn client() -> Result<Client, AppError> {
        Ok(Client::from_extensions(&parts()?.extensions))
    }

    /// Adds a `Set-Cookie` header to the response.
    pub fn set_cookie(value: &str) -> Result<(), AppError> {
        let response = use_context::<leptos_axum::ResponseOptions>().ok_or_else(|| {
            AppError::internal("server function context", "ResponseOptions missing")
        })?;
        let value = http::HeaderValue::from_str(value)
            .map_err(|e| AppError::internal("bad Set-Cookie value", e))?;
        response.append_header(http::header::SET_COOKIE, value);
        Ok(())
    }

    /// Runs a server function body and gives a failed response the error's HTTP status.
    pub async fn respond<T>(
        body: impl Future<Output = Result<T, AppError>>,
    ) -> Result<T, AppError> {
        let result = body.await;
        if let Err(error) = &result
            && let Some(response) = use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = http::StatusCode::from_u16(error.status_code())
        {
            response.set_status(status);
        }
        result
    }
}
