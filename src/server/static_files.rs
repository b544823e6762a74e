//! Static files (the WASM, its JS, the CSS, the favicon) served as a production site
//! serves them: precompressed when the build wrote `.br` and `.gz` beside them
//! (`cargo leptos build --release --precompress`), and, when their names carry a content
//! hash, cached by browsers for a year. Everything else the server answers (pages,
//! server functions, downloads) is compressed on the fly when large, and never cached.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::{HeaderValue, header};
use tower_http::compression::CompressionLayer;
use tower_http::compression::predicate::{
    DefaultPredicate, NotForContentType, Predicate, SizeAbove,
};
use tower_http::services::ServeDir;

/// Responses smaller than this are sent as they are: compressing them saves little.
const COMPRESS_ABOVE: u16 = 1024;

/// A year, for files whose name changes with their content.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The site's files under `site_root`, precompressed variants preferred.
pub fn serve_dir(site_root: &str) -> ServeDir {
    ServeDir::new(site_root)
        .precompressed_br()
        .precompressed_gzip()
        .append_index_html_on_directories(false)
}

/// Compresses large dynamic responses with brotli or gzip, as the browser accepts. CSV
/// downloads are streamed as they are: browsers cancelled them when compressed on the fly.
pub fn compression() -> CompressionLayer<impl Predicate> {
    CompressionLayer::new().br(true).gzip(true).compress_when(
        DefaultPredicate::new()
            .and(SizeAbove::new(COMPRESS_ABOVE))
            .and(NotForContentType::const_new("text/csv")),
    )
}

/// How long a response may be cached: a year for the hashed files under `/pkg/` (when the
/// build hashes their names); the spreadsheet reader (its names carry no hash) kept but
/// checked with the server before each use; nothing else at all (pages and data are the
/// signed-in user's). A response that says otherwise (a download) is left alone.
pub fn cache_control(path: &str, hashed: bool) -> &'static str {
    if hashed && path.starts_with("/pkg/") {
        IMMUTABLE
    } else if path.starts_with("/sheet-reader/") {
        "no-cache"
    } else {
        "no-store"
    }
}

/// Sets `Cache-Control` on every response (see [`cache_control`]).
pub async fn cache_headers(
    axum::extract::State(hashed): axum::extract::State<bool>,
    request: Request,
    next: Next,
) -> Response {
    let value = cache_control(request.uri().path(), hashed);
    let mut response = next.run(request).await;
    let success = response.status().is_success();
    let headers = response.headers_mut();
    if success && !headers.contains_key(header::CACHE_CONTROL) {
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_hashed_files_are_cached() {
        assert_eq!(cache_control("/pkg/contacts.a1b2c3.wasm", true), IMMUTABLE);
        assert_eq!(cache_control("/pkg/contacts.wasm", false), "no-store");
        assert_eq!(cache_control("/contacts", true), "no-store");
        assert_eq!(
            cache_control("/sheet-reader/sheet_reader_bg.wasm", true),
            "no-cache"
        );
        assert_eq!(cache_control("/favicon.svg", true), "no-store");
    }
}
