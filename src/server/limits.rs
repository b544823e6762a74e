//! Request body limits per route, enforced before any handler reads a byte.
//!
//! Server functions read their whole body into memory before they run (and before they
//! look at the session), so every route but the upload gets a small limit here, checked
//! against `Content-Length` at once and against the bytes as they arrive otherwise.
//! The uploads (`POST /imports`, and the API's `createContacts`) stream to disk: they get
//! the upload limit, enforced by the multipart reader as the file arrives.

use crate::error::AppError;
use crate::server::receive::{FORM_OVERHEAD, too_large};
use crate::server::state::AppState;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::{Method, header};
use http_body_util::{BodyExt, LengthLimitError, Limited};

/// The largest body of a server function, or of any route but the upload.
pub const MAX_BODY_BYTES: usize = 1 << 20;

/// The largest body of the forms that carry a password: a few short fields.
pub const MAX_ACCOUNT_FORM_BYTES: usize = 16 << 10;

/// The server functions that take a password (their bodies are hashed, so kept small).
const ACCOUNT_FORMS: [&str; 5] = [
    "/api/sign_in",
    "/api/create_workspace",
    "/api/change_password",
    "/api/add_user",
    "/api/reset_password",
];

/// How much a request may send, and how that is enforced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyLimit {
    /// Read into memory here, at most this many bytes.
    Buffered(usize),
    /// Streamed by the handler, which enforces the limit as the bytes arrive.
    Streamed(u64),
}

/// The routes that take a file: the browser's upload and the API's.
pub const UPLOAD_ROUTES: [&str; 2] = ["/imports", "/api/v1/contacts/batches/createContacts"];

/// The limit of a route.
pub fn limit_for(method: &Method, path: &str, upload_limit: u64) -> BodyLimit {
    if method == Method::POST && UPLOAD_ROUTES.contains(&path) {
        BodyLimit::Streamed(upload_limit.saturating_add(FORM_OVERHEAD))
    } else if ACCOUNT_FORMS.contains(&path) {
        BodyLimit::Buffered(MAX_ACCOUNT_FORM_BYTES)
    } else {
        BodyLimit::Buffered(MAX_BODY_BYTES)
    }
}

fn request_too_large() -> AppError {
    AppError::TooLarge("The request is larger than this form accepts.".into())
}

/// Refuses bodies over their route's limit with 413, before the handler reads them.
pub async fn limit_bodies(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let upload_limit = state.config.max_upload_bytes;
    let path = request.uri().path().to_string();
    let refuse = |error: AppError| crate::server::v1::error::refusal(&path, error);
    let limit = limit_for(request.method(), &path, upload_limit);
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match limit {
        BodyLimit::Streamed(max) => {
            if declared.is_some_and(|n| n > max) {
                return refuse(too_large(upload_limit));
            }
            next.run(request).await
        }
        BodyLimit::Buffered(max) => {
            if declared.is_some_and(|n| n > max as u64) {
                return refuse(request_too_large());
            }
            let (parts, body) = request.into_parts();
            match Limited::new(body, max).collect().await {
                Ok(collected) => {
                    let request = Request::from_parts(parts, Body::from(collected.to_bytes()));
                    next.run(request).await
                }
                Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => {
                    refuse(request_too_large())
                }
                Err(_) => refuse(AppError::BadRequest(
                    "The request was interrupted before it arrived in full.".into(),
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_upload_streams_and_password_forms_are_smallest() {
        let post = Method::POST;
        assert_eq!(
            limit_for(&post, "/imports", 1 << 30),
            BodyLimit::Streamed((1 << 30) + FORM_OVERHEAD)
        );
        assert_eq!(
            limit_for(&post, "/api/sign_in", 1 << 30),
            BodyLimit::Buffered(MAX_ACCOUNT_FORM_BYTES)
        );
        assert_eq!(
            limit_for(&post, "/api/list_contacts", 1 << 30),
            BodyLimit::Buffered(MAX_BODY_BYTES)
        );
        assert_eq!(
            limit_for(&Method::GET, "/imports", 1 << 30),
            BodyLimit::Buffered(MAX_BODY_BYTES)
        );
    }
}
