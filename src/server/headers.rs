//! Security headers on every response.
//!
//! Pages get a Content-Security-Policy that allows only the app's own scripts: the
//! inline scripts Leptos writes (the hydration entry point, resolved resources) carry
//! the page's nonce, which Leptos makes per render and [`page_policy`] names. Every other
//! response gets the same policy without a nonce. The WASM is compiled by the browser,
//! which the policy must allow (`'wasm-unsafe-eval'`).

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, header};

/// The policy of every response; `nonce` allows a page's own inline scripts.
pub fn content_security_policy(nonce: Option<&str>, live_reload: bool) -> String {
    let inline = nonce.map_or(String::new(), |n| format!(" 'nonce-{n}'"));
    // `cargo leptos watch` reloads pages through a websocket of its own.
    let connect = if live_reload { " ws:" } else { "" };
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{inline}; \
         style-src 'self'; img-src 'self' data:; connect-src 'self'{connect}; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Whether `cargo leptos watch` is serving (its live reload needs a websocket).
pub fn live_reload() -> bool {
    std::env::var_os("LEPTOS_WATCH").is_some()
}

/// Sets a page's policy with the nonce of its render; called while the page renders.
pub fn page_policy() {
    use leptos::prelude::use_context;
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(value) =
        HeaderValue::from_str(&content_security_policy(Some(&nonce), live_reload()))
    {
        response.insert_header(header::CONTENT_SECURITY_POLICY, value);
    }
}

/// Adds the security headers to every response (a page's own policy is kept).
pub async fn security_headers(request: Request, next: Next) -> Response {
    let https = crate::server::client::Client::from_extensions(request.extensions()).https;
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY)
        && let Ok(value) = HeaderValue::from_str(&content_security_policy(None, live_reload()))
    {
        headers.insert(header::CONTENT_SECURITY_POLICY, value);
    }
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if https {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_allows_only_own_scripts_and_no_framing() {
        let page = content_security_policy(Some("abc123"), false);
        assert!(page.contains("script-src 'self' 'wasm-unsafe-eval' 'nonce-abc123';"));
        assert!(page.contains("frame-ancestors 'none'"));
        assert!(!page.contains("unsafe-inline"));
        let other = content_security_policy(None, false);
        assert!(!other.contains("nonce"));
        assert!(!other.contains("ws:"));
        assert!(content_security_policy(None, true).contains("connect-src 'self' ws:"));
    }
}
