//! Cross-site request forgery: every state-changing request must come from the app's own
//! pages.
//!
//! The session cookie is `SameSite=Lax`, which stops cross-site form posts but not those
//! from a sibling subdomain, and not a forced sign-in. So every request that is not a
//! GET, HEAD or OPTIONS is checked where browsers say where it comes from, in the order
//! Go's `net/http.CrossOriginProtection` uses: `Sec-Fetch-Site` (sent by every current
//! browser), else `Origin`, else `Referer`. A request with none of them is not from a
//! browser, so no cookie was sent on a user's behalf, and it passes.

use crate::error::AppError;
use crate::server::state::AppState;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, Method, header};

/// What the browser said about where a request comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// From the app's own pages, or not from a browser at all.
    Allowed,
    /// From another site or origin.
    CrossOrigin,
}

/// Decides whether a request with these headers may change anything. `public_origin` is
/// the configured origin of installs behind a proxy (e.g. `https://contacts.example.com`).
pub fn check(method: &Method, headers: &HeaderMap, public_origin: Option<&str>) -> Verdict {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return Verdict::Allowed;
    }
    let header = |name| headers.get(name).and_then(|v| v.to_str().ok());
    let origin = header(header::ORIGIN);
    // A configured public origin is trusted whatever else the request says.
    if let (Some(origin), Some(public)) = (origin, public_origin)
        && origin.eq_ignore_ascii_case(public)
    {
        return Verdict::Allowed;
    }
    if let Some(site) = header(http::HeaderName::from_static("sec-fetch-site")) {
        return match site {
            "same-origin" | "none" => Verdict::Allowed,
            _ => Verdict::CrossOrigin,
        };
    }
    let host = header(header::HOST);
    let source = origin.or_else(|| header(header::REFERER));
    match (source, host) {
        (None, _) => Verdict::Allowed,
        (Some(source), Some(host))
            if host_of(source).is_some_and(|h| h.eq_ignore_ascii_case(host)) =>
        {
            Verdict::Allowed
        }
        _ => Verdict::CrossOrigin,
    }
}

/// `https://a.test:8443/page` → `a.test:8443`.
fn host_of(url: &str) -> Option<&str> {
    let (_, rest) = url.split_once("://")?;
    Some(rest.split(['/', '?', '#']).next().unwrap_or(rest))
}

/// Refuses state-changing requests from other sites with 403 (see [`check`]). The
/// integration API is not checked: it never reads a cookie, so a request from another
/// site carries no one's authority but the key it names itself.
pub async fn refuse_cross_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if crate::server::auth::is_api_path(request.uri().path()) {
        return next.run(request).await;
    }
    let verdict = check(
        request.method(),
        request.headers(),
        state.config.public_origin.as_deref(),
    );
    if verdict == Verdict::CrossOrigin {
        tracing::warn!(
            method = %request.method(),
            path = request.uri().path(),
            origin = ?request.headers().get(header::ORIGIN),
            "cross-origin request refused"
        );
        return AppError::CrossOrigin.into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    const POST: Method = Method::POST;

    #[test]
    fn reads_are_never_refused() {
        let evil = headers(&[("sec-fetch-site", "cross-site")]);
        assert_eq!(check(&Method::GET, &evil, None), Verdict::Allowed);
    }

    #[test]
    fn fetch_metadata_decides_first() {
        let same = headers(&[("sec-fetch-site", "same-origin"), ("host", "a.test")]);
        assert_eq!(check(&POST, &same, None), Verdict::Allowed);
        let typed = headers(&[("sec-fetch-site", "none")]);
        assert_eq!(check(&POST, &typed, None), Verdict::Allowed);
        // A sibling subdomain is "same-site", not "same-origin".
        let sibling = headers(&[
            ("sec-fetch-site", "same-site"),
            ("origin", "https://evil.a.test"),
            ("host", "a.test"),
        ]);
        assert_eq!(check(&POST, &sibling, None), Verdict::CrossOrigin);
        let cross = headers(&[("sec-fetch-site", "cross-site")]);
        assert_eq!(check(&POST, &cross, None), Verdict::CrossOrigin);
    }

    #[test]
    fn without_fetch_metadata_the_origin_must_name_the_host() {
        let own = headers(&[
            ("origin", "http://127.0.0.1:3000"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert_eq!(check(&POST, &own, None), Verdict::Allowed);
        let evil = headers(&[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert_eq!(check(&POST, &evil, None), Verdict::CrossOrigin);
        let other_port = headers(&[
            ("origin", "http://127.0.0.1:4000"),
            ("host", "127.0.0.1:3000"),
        ]);
        assert_eq!(check(&POST, &other_port, None), Verdict::CrossOrigin);
        // An opaque origin is nobody's, whatever the Referer or the public origin say.
        let opaque = headers(&[
            ("origin", "null"),
            ("referer", "http://a.test/contacts"),
            ("host", "a.test"),
        ]);
        assert_eq!(check(&POST, &opaque, None), Verdict::CrossOrigin);
        assert_eq!(
            check(&POST, &opaque, Some("http://a.test")),
            Verdict::CrossOrigin
        );
        // No Origin: the Referer is checked the same way.
        let referer = headers(&[("referer", "https://evil.example/x"), ("host", "a.test")]);
        assert_eq!(check(&POST, &referer, None), Verdict::CrossOrigin);
        let own_referer = headers(&[
            ("referer", "http://a.test/contacts?q=1"),
            ("host", "a.test"),
        ]);
        assert_eq!(check(&POST, &own_referer, None), Verdict::Allowed);
        // Not from a browser at all (curl, scripts): no cookie was sent on anyone's behalf.
        assert_eq!(
            check(&POST, &headers(&[("host", "a.test")]), None),
            Verdict::Allowed
        );
    }

    #[test]
    fn behind_a_proxy_the_public_origin_is_the_own_origin() {
        let proxied = headers(&[
            ("origin", "https://contacts.example.com"),
            ("host", "10.0.0.5:3000"),
        ]);
        assert_eq!(check(&POST, &proxied, None), Verdict::CrossOrigin);
        assert_eq!(
            check(&POST, &proxied, Some("https://contacts.example.com")),
            Verdict::Allowed
        );
        let evil = headers(&[
            ("origin", "https://evil.example"),
            ("host", "10.0.0.5:3000"),
        ]);
        assert_eq!(
            check(&POST, &evil, Some("https://contacts.example.com")),
            Verdict::CrossOrigin
        );
    }
}
