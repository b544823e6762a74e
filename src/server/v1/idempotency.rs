//! `Idempotency-Key` on POST (the IETF httpapi draft): the first response is kept for 24
//! hours with a fingerprint of the request (method, path, body); a retry with the same
//! key and request gets that response again (`Idempotent-Replayed: true`), the same key
//! with another request gets 422, and a retry while the first still runs gets 409.
//!
//! A first request that failed on the server (5xx), or did not read its whole body, is
//! not kept: its retry runs again.

use super::error::ApiError;
use crate::db::idempotency::{self, Earlier, Stored};
use crate::server::auth::KeyCaller;
use crate::server::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use http::{HeaderName, HeaderValue, Method, StatusCode};
use sha2::{Digest, Sha256};
use std::sync::{Arc, Mutex};

/// The request header.
pub const HEADER: &str = "idempotency-key";

/// The longest key.
pub const MAX_KEY_LEN: usize = 255;

/// The largest response kept for replay (a batch of 1,000 results is ~150 KB).
const MAX_STORED_BODY: usize = 8 << 20;

/// The response headers a replay carries again.
const KEPT_HEADERS: [HeaderName; 3] = [
    http::header::CONTENT_TYPE,
    http::header::LOCATION,
    http::header::ETAG,
];

/// A key as the header carries it: 1–255 visible ASCII characters.
fn read_key(value: &HeaderValue) -> Result<String, ApiError> {
    let bad = || {
        ApiError::new(
            400,
            "bad_request",
            format!("Idempotency-Key must be 1 to {MAX_KEY_LEN} visible ASCII characters."),
        )
        .with_field("Idempotency-Key")
    };
    let text = value.to_str().map_err(|_| bad())?.trim();
    let text = text.trim_matches('"');
    if text.is_empty() || text.len() > MAX_KEY_LEN || !text.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(text.to_string())
}

/// The fingerprint of a request as it arrives: its method and path, then its body as it
/// is read (see [`Fingerprint::finish`]).
#[derive(Clone)]
struct Fingerprint(Arc<Mutex<Hashing>>);

/// The hash while the body is read (gone if reading failed), then its digest.
type Hashing = (Option<Sha256>, Option<Vec<u8>>);

impl Fingerprint {
    fn new(method: &Method, uri: &http::Uri) -> Self {
        let mut hash = Sha256::new();
        hash.update(method.as_str().as_bytes());
        hash.update(b" ");
        hash.update(uri.path_and_query().map_or("", |p| p.as_str()).as_bytes());
        hash.update(b"\n");
        Fingerprint(Arc::new(Mutex::new((Some(hash), None))))
    }

    /// The body, hashed as it passes; the fingerprint is known once it has been read to
    /// its end.
    fn tap(&self, body: Body) -> Body {
        let (reading, ending) = (self.clone(), self.clone());
        let read = body.into_data_stream().map(move |chunk| {
            let mut state = reading.0.lock().unwrap_or_else(|p| p.into_inner());
            match &chunk {
                Ok(bytes) => {
                    if let Some(hash) = state.0.as_mut() {
                        hash.update(bytes);
                    }
                }
                Err(_) => state.0 = None,
            }
            chunk
        });
        let end = futures::stream::once(async move {
            let mut state = ending.0.lock().unwrap_or_else(|p| p.into_inner());
            state.1 = state.0.take().map(|hash| hash.finalize().to_vec());
        })
        .filter_map(|()| async { None::<Result<Bytes, axum::Error>> });
        Body::from_stream(read.chain(end))
    }

    /// The fingerprint, if the whole body was read.
    fn finish(&self) -> Option<Vec<u8>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).1.clone()
    }
}

/// Replays, refuses or records POSTs that carry an `Idempotency-Key` (see the module
/// documentation). Other requests pass as they are.
pub async fn replay_or_record(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(value) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match read_key(value) {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    let Some(KeyCaller(api_key)) = request.extensions().get::<KeyCaller>().cloned() else {
        return next.run(request).await;
    };
    let (workspace, key_id) = (api_key.workspace_id, api_key.id);
    let earlier =
        match idempotency::begin(&state.db, workspace, key_id, &key, crate::db::now()).await {
            Ok(earlier) => earlier,
            Err(error) => return ApiError::from(error).into_response(),
        };
    let fingerprint = Fingerprint::new(request.method(), request.uri());
    let (parts, body) = request.into_parts();
    let body = fingerprint.tap(body);
    match earlier {
        Earlier::Running => ApiError::new(
            409,
            "request_in_progress",
            "A request with this Idempotency-Key is still running: retry once it has answered.",
        )
        .into_response(),
        Earlier::Done(stored) => {
            // Read the retry's body to the end to compare it with the first's.
            let mut stream = body.into_data_stream();
            while let Some(chunk) = stream.next().await {
                if chunk.is_err() {
                    return ApiError::new(400, "bad_request", "The body could not be read.")
                        .into_response();
                }
            }
            if fingerprint.finish().as_deref() == Some(stored.fingerprint.as_slice()) {
                replay(stored)
            } else {
                ApiError::new(
                    422,
                    "idempotency_key_reused",
                    "This Idempotency-Key was used for another request: use a new key for a new request.",
                )
                .with_field("Idempotency-Key")
                .into_response()
            }
        }
        Earlier::None => {
            let response = next.run(Request::from_parts(parts, body)).await;
            record(&state, workspace, key_id, &key, &fingerprint, response).await
        }
    }
}

/// Keeps the first response for its retries (unless it is a server error, or the body
/// was not read whole), and returns it.
async fn record(
    state: &AppState,
    workspace: i64,
    key_id: i64,
    key: &str,
    fingerprint: &Fingerprint,
    response: Response,
) -> Response {
    let (parts, body) = response.into_parts();
    let body = match axum::body::to_bytes(body, MAX_STORED_BODY).await {
        Ok(body) => body,
        Err(_) => {
            let _ = idempotency::release(&state.db, workspace, key_id, key).await;
            return ApiError::new(500, "internal_error", "The response could not be kept.")
                .into_response();
        }
    };
    let keep = !parts.status.is_server_error();
    match fingerprint.finish().filter(|_| keep) {
        Some(fingerprint) => {
            let headers: Vec<(String, String)> = KEPT_HEADERS
                .iter()
                .filter_map(|name| {
                    let value = parts.headers.get(name)?.to_str().ok()?;
                    Some((name.to_string(), value.to_string()))
                })
                .collect();
            let stored = Stored {
                fingerprint,
                status: parts.status.as_u16(),
                headers: serde_json::to_string(&headers).unwrap_or_else(|_| "[]".into()),
                body: body.to_vec(),
            };
            if let Err(error) =
                idempotency::finish(&state.db, workspace, key_id, key, &stored).await
            {
                tracing::warn!(%error, "could not keep an idempotent response");
            }
        }
        None => {
            let _ = idempotency::release(&state.db, workspace, key_id, key).await;
        }
    }
    Response::from_parts(parts, Body::from(body))
}

/// The kept response, as it was, marked as a replay.
fn replay(stored: Stored) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers: Vec<(String, String)> = serde_json::from_str(&stored.headers).unwrap_or_default();
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            response.headers_mut().insert(name, value);
        }
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_short_visible_text() {
        assert_eq!(
            read_key(&HeaderValue::from_static("abc-123")).unwrap(),
            "abc-123"
        );
        assert_eq!(
            read_key(&HeaderValue::from_static("\"quoted\"")).unwrap(),
            "quoted"
        );
        assert!(read_key(&HeaderValue::from_static("")).is_err());
        assert!(read_key(&HeaderValue::from_str(&"k".repeat(256)).unwrap()).is_err());
        assert!(read_key(&HeaderValue::from_static("a b")).is_err());
    }

    #[tokio::test]
    async fn a_body_read_to_its_end_has_a_fingerprint() {
        let uri: http::Uri = "/api/v1/contacts".parse().unwrap();
        let print = |body: &'static str| {
            let fingerprint = Fingerprint::new(&Method::POST, &uri);
            let tapped = fingerprint.tap(Body::from(body));
            (fingerprint, tapped)
        };
        let (a, body) = print("{\"x\":1}");
        assert_eq!(a.finish(), None, "nothing read yet");
        axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let (b, body) = print("{\"x\":1}");
        axum::body::to_bytes(body, 1 << 20).await.unwrap();
        let (c, body) = print("{\"x\":2}");
        axum::body::to_bytes(body, 1 << 20).await.unwrap();
        assert!(a.finish().is_some());
        assert_eq!(a.finish(), b.finish());
        assert_ne!(a.finish(), c.finish());
    }
}
