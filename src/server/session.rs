//! Session cookies: a random token in an HttpOnly cookie, its SHA-256 in the database.
//!
//! A middleware resolves the cookie once per request and puts the [`Session`] into the
//! request's extensions, where server functions and page renders find it. The same
//! middleware sends visitors who are not signed in to the sign-in page.

use crate::db;
use crate::model::CurrentUser;
use crate::server::config::CookieSecurity;
use crate::server::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, Method, header};
use rand::RngCore;
use sha2::{Digest, Sha256};

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

/// Whether the cookie should be `Secure` for a request with these headers.
pub fn cookie_is_secure(security: CookieSecurity, headers: &HeaderMap) -> bool {
    match security {
        CookieSecurity::Always => true,
        CookieSecurity::Never => false,
        CookieSecurity::Auto => headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|proto| proto.eq_ignore_ascii_case("https")),
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

/// Where a page request must go instead, if anywhere.
///
/// Only page loads are redirected; server functions answer 401 themselves, and static
/// files (anything with a dot in its last segment, or under `/pkg/`) pass through.
pub fn page_redirect(
    method: &Method,
    path: &str,
    signed_in: bool,
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
    match (path, signed_in, has_workspace) {
        ("/setup", _, false) => None,
        (_, _, false) => Some("/setup"),
        ("/login", false, true) => None,
        (_, false, true) => Some("/login"),
        ("/" | "/login" | "/setup", true, true) => Some("/contacts"),
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
            match db::sessions::user_for_token(&state.pool, &hash, db::now()).await {
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
    if let Some(to) = page_redirect(
        request.method(),
        request.uri().path(),
        session.is_some(),
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

        let mut headers = HeaderMap::new();
        assert!(!cookie_is_secure(CookieSecurity::Auto, &headers));
        headers.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(cookie_is_secure(CookieSecurity::Auto, &headers));
        assert!(!cookie_is_secure(CookieSecurity::Never, &headers));
    }

    #[test]
    fn pages_send_visitors_where_they_belong() {
        let get = Method::GET;
        // A fresh install: everything leads to set-up.
        assert_eq!(
            page_redirect(&get, "/contacts", false, false),
            Some("/setup")
        );
        assert_eq!(page_redirect(&get, "/setup", false, false), None);
        // Set up, signed out: sign in first.
        assert_eq!(page_redirect(&get, "/setup", false, true), Some("/login"));
        assert_eq!(
            page_redirect(&get, "/contacts/groups", false, true),
            Some("/login")
        );
        assert_eq!(page_redirect(&get, "/login", false, true), None);
        // Signed in: straight to the contacts.
        assert_eq!(page_redirect(&get, "/", true, true), Some("/contacts"));
        assert_eq!(page_redirect(&get, "/login", true, true), Some("/contacts"));
        assert_eq!(page_redirect(&get, "/settings", true, true), None);
        // Not pages.
        assert_eq!(page_redirect(&get, "/pkg/contacts.wasm", false, true), None);
        assert_eq!(page_redirect(&get, "/favicon.ico", false, true), None);
        assert_eq!(
            page_redirect(&Method::POST, "/api/sign_in", false, true),
            None
        );
    }
}
