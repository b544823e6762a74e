//! Session cookies: a random token in an HttpOnly cookie, its SHA-256 in the database.
//!
//! A middleware resolves the cookie once per request and puts the [`Session`] into the
//! request's extensions, where server functions and page renders find it. The same
//! middleware sends visitors who are not signed in to the sign-in page.

use crate::db;
use crate::error::AppError;
use crate::model::CurrentUser;
use crate::server::config::{Config, CookieSecurity};
use crate::server::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, Method, header};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The page where users change their password (and must, after an admin set it).
pub const ACCOUNT_PAGE: &str = "/account";

/// The cookie that carries the session token.
pub const COOKIE_NAME: &str = "contacts_session";

/// A signed-in request: who it is and which stored session it uses.
#[derive(Clone, Debug)]
pub struct Session {
    /// The user and their workspace.
    pub user: CurrentUser,
    /// The hash of the token, to end this session on sign-out.
    pub token_hash: [u8; 32],
}

/// Plain axum handlers take the session as an extractor: without one, the request is
/// answered `AppError::Unauthorized` the way server functions answer it.
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Session {
    type Rejection = AppError;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        _state: &S,
    ) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or(AppError::Unauthorized)
    }
}

impl Session {
    /// The signed-in user, if they may change contacts and groups.
    pub fn editor(&self) -> Result<&CurrentUser, AppError> {
        if self.user.role.can_edit() {
            Ok(&self.user)
        } else {
            Err(AppError::Forbidden)
        }
    }
}

/// A new unguessable session token (256 random bits, hex).
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the database stores for a token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The session token from the request's cookies, if any.
pub fn token_from_headers(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim().to_string())
        .filter(|token| !token.is_empty())
}

/// Whether the browser reached the app over https: a public origin that is https, or
/// `X-Forwarded-Proto: https` from the proxy that terminated TLS. (A client that sends
/// the header itself over plain http only changes its own response: a `Secure` cookie
/// its browser will not send back, and an HSTS header browsers ignore over http.)
pub fn is_https(config: &Config, headers: &HeaderMap) -> bool {
    config
        .public_origin
        .as_deref()
        .is_some_and(|origin| origin.starts_with("https://"))
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https"))
}

/// Whether the cookie should be `Secure` for a request with these headers.
pub fn cookie_is_secure(config: &Config, headers: &HeaderMap) -> bool {
    match config.cookie_security {
        CookieSecurity::Always => true,
        CookieSecurity::Never => false,
        CookieSecurity::Auto => is_https(config, headers),
    }
}

/// The `Set-Cookie` value that signs a browser in.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{COOKIE_NAME}={token}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}")
}

/// The `Set-Cookie` value that signs a browser out.
pub fn clear_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// Who is asking for a page, as far as where it may go is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Visitor {
    /// Not signed in.
    Anonymous,
    /// Signed in.
    SignedIn,
    /// Signed in with a password an admin set, not yet replaced.
    MustChangePassword,
}

/// Where a page request must go instead, if anywhere.
///
/// Only page loads are redirected; server functions answer 401 themselves, and static
/// files (anything with a dot in its last segment, or under `/pkg/`) pass through.
pub fn page_redirect(
    method: &Method,
    path: &str,
    visitor: Visitor,
    has_workspace: bool,
) -> Option<&'static str> {
    let is_page = method == Method::GET
        && !path.starts_with("/api/")
        && !path.starts_with("/pkg/")
        && path != "/healthz"
        && !path.rsplit('/').next().unwrap_or_default().contains('.');
    if !is_page {
        return None;
    }
    match (path, visitor, has_workspace) {
        ("/setup", _, false) => None,
        (_, _, false) => Some("/setup"),
        ("/login", Visitor::Anonymous, true) => None,
        (_, Visitor::Anonymous, true) => Some("/login"),
        (ACCOUNT_PAGE, Visitor::MustChangePassword, true) => None,
        (_, Visitor::MustChangePassword, true) => Some(ACCOUNT_PAGE),
        ("/" | "/login" | "/setup", Visitor::SignedIn, true) => Some("/contacts"),
        _ => None,
    }
}

/// Resolves the session cookie and gates page loads (see [`page_redirect`]).
pub async fn resolve_session(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let session = match token_from_headers(request.headers()) {
        Some(token) => {
            let hash = token_hash(&token);
            match db::sessions::user_for_token(&state.db, &hash, db::now()).await {
                Ok(user) => user.map(|user| Session {
                    user,
                    token_hash: hash,
                }),
                Err(_) => {
                    return (
                        http::StatusCode::SERVICE_UNAVAILABLE,
                        "The database is unavailable.",
                    )
                        .into_response();
                }
            }
        }
        None => None,
    };
    let has_workspace = match state.has_workspace().await {
        Ok(has) => has,
        Err(_) => {
            return (
                http::StatusCode::SERVICE_UNAVAILABLE,
                "The database is unavailable.",
            )
                .into_response();
        }
    };
    let visitor = match &session {
        None => Visitor::Anonymous,
        Some(s) if s.user.must_change_password => Visitor::MustChangePassword,
        Some(_) => Visitor::SignedIn,
    };
    if let Some(to) = page_redirect(
        request.method(),
        request.uri().path(),
        visitor,
        has_workspace,
    ) {
        return Redirect::to(to).into_response();
    }
    if let Some(session) = session {
        request.extensions_mut().insert(session);
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    #[test]
    fn tokens_are_random_and_hashes_stable() {
        let a = new_token();
        let b = new_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_hash(&a), token_hash(&a));
        assert_ne!(token_hash(&a), token_hash(&b));
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("theme=dark; contacts_session=abc123 ; other=1"),
        );
        assert_eq!(token_from_headers(&headers).as_deref(), Some("abc123"));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("contacts_session="),
        );
        assert_eq!(token_from_headers(&headers), None);
    }

    #[test]
    fn the_cookie_is_http_only_and_lax_and_secure_over_https() {
        let cookie = session_cookie("t", 60, false);
        assert!(cookie.contains("HttpOnly"));
        assert!(cookie.contains("SameSite=Lax"));
        assert!(!cookie.contains("Secure"));
        assert!(session_cookie("t", 60, true).ends_with("; Secure"));

        let config = |security| {
            let mut config = Config::from_lookup(|_| None).unwrap();
            config.cookie_security = security;
            config
        };
        let mut headers = HeaderMap::new();
        assert!(!cookie_is_secure(&config(CookieSecurity::Auto), &headers));
        assert!(cookie_is_secure(&config(CookieSecurity::Always), &headers));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(cookie_is_secure(&config(CookieSecurity::Auto), &headers));
        assert!(!cookie_is_secure(&config(CookieSecurity::Never), &headers));
        let mut public = config(CookieSecurity::Auto);
        public.public_origin = Some("https://contacts.example.com".into());
        assert!(cookie_is_secure(&public, &HeaderMap::new()));
    }

    #[test]
    fn pages_send_visitors_where_they_belong() {
        use Visitor::*;
        let get = Method::GET;
        // A fresh install: everything leads to set-up.
        assert_eq!(
            page_redirect(&get, "/contacts", Anonymous, false),
            Some("/setup")
        );
        assert_eq!(page_redirect(&get, "/setup", Anonymous, false), None);
        // Set up, signed out: sign in first.
        assert_eq!(
            page_redirect(&get, "/setup", Anonymous, true),
            Some("/login")
        );
        assert_eq!(
            page_redirect(&get, "/contacts/groups", Anonymous, true),
            Some("/login")
        );
        assert_eq!(page_redirect(&get, "/login", Anonymous, true), None);
        // Signed in: straight to the contacts.
        assert_eq!(page_redirect(&get, "/", SignedIn, true), Some("/contacts"));
        assert_eq!(
            page_redirect(&get, "/login", SignedIn, true),
            Some("/contacts")
        );
        assert_eq!(page_redirect(&get, "/settings", SignedIn, true), None);
        assert_eq!(page_redirect(&get, ACCOUNT_PAGE, SignedIn, true), None);
        // An admin-set password: every page leads to changing it.
        for path in ["/", "/contacts", "/settings", "/login"] {
            assert_eq!(
                page_redirect(&get, path, MustChangePassword, true),
                Some(ACCOUNT_PAGE),
                "{path}"
            );
        }
        assert_eq!(
            page_redirect(&get, ACCOUNT_PAGE, MustChangePassword, true),
            None
        );
        // Not pages.
        assert_eq!(
            page_redirect(&get, "/pkg/contacts.wasm", Anonymous, true),
            None
        );
        assert_eq!(page_redirect(&get, "/favicon.ico", Anonymous, true), None);
        assert_eq!(
            page_redirect(&Method::POST, "/api/sign_in", Anonymous, true),
            None
        );
    }
}
