//! Session cookies: a random token in an HttpOnly cookie, its SHA-256 in the database.
//!
//! Over https the cookie is named `__Host-contacts_session`: browsers accept a cookie of
//! that name only if it is `Secure`, for the whole site and not set by another
//! subdomain, so a sibling subdomain cannot plant a session of its choosing.

use crate::model::CurrentUser;
use http::{HeaderMap, Method, header};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// The page where users change their password (and must, after an admin set it).
pub const ACCOUNT_PAGE: &str = "/account";

/// The cookie that carries the session token over plain http.
pub const COOKIE_NAME: &str = "contacts_session";

/// The cookie that carries the session token over https.
pub const SECURE_COOKIE_NAME: &str = "__Host-contacts_session";

/// The name of the session cookie, `Secure` or not.
pub fn cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_COOKIE_NAME
    } else {
        COOKIE_NAME
    }
}

/// A signed-in browser: who it is and which stored session it uses.
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
    hex(&bytes)
}

/// Bytes as lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What the database stores for a token.
pub fn token_hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The session token from the request's cookies, if any: only the `Secure` cookie's
/// over https, only the plain one over http.
pub fn token_from_headers(headers: &HeaderMap, secure: bool) -> Option<String> {
    let name = cookie_name(secure);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(cookie, _)| *cookie == name)
        .map(|(_, value)| value.trim().to_string())
        .filter(|token| !token.is_empty())
}

/// The `Set-Cookie` value that signs a browser in.
pub fn session_cookie(token: &str, max_age_secs: i64, secure: bool) -> String {
    let name = cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={token}; Path=/; Max-Age={max_age_secs}; HttpOnly; SameSite=Lax{secure}")
}

/// The `Set-Cookie` value that signs a browser out.
pub fn clear_cookie(secure: bool) -> String {
    session_cookie("", 0, secure)
}

/// The calls a session may make before it has replaced an admin-set password: the page
/// frame's, changing the password and signing out.
pub const CALLS_BEFORE_PASSWORD_CHANGE: [&str; 4] = [
    "/api/current_user",
    "/api/change_password",
    "/api/sign_out",
    "/api/sign_out_everywhere",
];

/// Whether a session that must still replace an admin-set password may make this request:
/// the account page, its static files (under `/pkg/`, or a file at the top such as
/// `/favicon.ico`) and [`CALLS_BEFORE_PASSWORD_CHANGE`]. Everything else is refused,
/// so a route added later is refused too without anyone listing it.
pub fn allowed_before_password_change(method: &Method, path: &str) -> bool {
    let read = matches!(*method, Method::GET | Method::HEAD);
    let top_level_file = path.matches('/').count() == 1 && path.contains('.');
    (read && (path == ACCOUNT_PAGE || path.starts_with("/pkg/") || top_level_file))
        || CALLS_BEFORE_PASSWORD_CHANGE.contains(&path)
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
        && !crate::server::health::PROBES.contains(&path)
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
        assert_eq!(
            token_from_headers(&headers, false).as_deref(),
            Some("abc123")
        );
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("contacts_session="),
        );
        assert_eq!(token_from_headers(&headers, false), None);
    }

    #[test]
    fn over_https_only_the_host_prefixed_cookie_counts() {
        let mut headers = HeaderMap::new();
        // A cookie planted by a sibling subdomain cannot carry the `__Host-` prefix.
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("contacts_session=planted"),
        );
        assert_eq!(token_from_headers(&headers, true), None);
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("contacts_session=planted; __Host-contacts_session=mine"),
        );
        assert_eq!(token_from_headers(&headers, true).as_deref(), Some("mine"));
        assert_eq!(
            token_from_headers(&headers, false).as_deref(),
            Some("planted")
        );
    }

    #[test]
    fn the_cookie_is_http_only_and_lax_and_secure_over_https() {
        let cookie = session_cookie("t", 60, false);
        assert!(cookie.starts_with("contacts_session=t;"));
        assert!(cookie.contains("HttpOnly"));
        assert!(cookie.contains("SameSite=Lax"));
        assert!(!cookie.contains("Secure"));
        let secure = session_cookie("t", 60, true);
        assert!(secure.starts_with("__Host-contacts_session=t; Path=/;"));
        assert!(secure.ends_with("; Secure"));
        assert!(!secure.contains("Domain"));
    }

    #[test]
    fn before_the_password_change_only_the_account_page_works() {
        let get = Method::GET;
        let post = Method::POST;
        assert!(allowed_before_password_change(&get, ACCOUNT_PAGE));
        assert!(allowed_before_password_change(
            &get,
            "/pkg/contacts-1a2b.wasm"
        ));
        assert!(allowed_before_password_change(&get, "/favicon.ico"));
        assert!(allowed_before_password_change(
            &post,
            "/api/change_password"
        ));
        assert!(!allowed_before_password_change(&post, "/api/list_contacts"));
        assert!(!allowed_before_password_change(
            &post,
            "/contacts/export.csv"
        ));
        assert!(!allowed_before_password_change(
            &get,
            "/imports/3/rejected.csv"
        ));
        assert!(!allowed_before_password_change(&post, ACCOUNT_PAGE));
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
