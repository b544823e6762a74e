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
use crate::server::limits::MAX_BODY_BYTES;
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

/// The fingerprint of a request: its method and path, then its body. A body already in
/// memory (every route's but the upload's) is hashed at once; an upload's as it is read,
/// complete once as many bytes as its `Content-Length` said have passed (the multipart
/// reader stops at the closing boundary, before the stream's end).
#[derive(Clone)]
struct Fingerprint(Arc<Mutex<Hashing>>);

/// The hash while the body is read (gone if reading failed), the bytes hashed, the
/// bytes declared, then the digest.
struct Hashing {
    hash: Option<Sha256>,
    read: u64,
    declared: Option<u64>,
    digest: Option<Vec<u8>>,
}

impl Hashing {
    /// Finishes the hash, once: a body that reached its declared length ends again at
    /// its stream's end.
    fn end(&mut self) {
        if let Some(hash) = self.hash.take() {
            self.digest = Some(hash.finalize().to_vec());
        }
    }
}

impl Fingerprint {
    fn new(method: &Method, uri: &http::Uri, declared: Option<u64>) -> Self {
        let mut hash = Sha256::new();
        hash.update(method.as_str().as_bytes());
        hash.update(b" ");
        hash.update(uri.path_and_query().map_or("", |p| p.as_str()).as_bytes());
        hash.update(b"\n");
        Fingerprint(Arc::new(Mutex::new(Hashing {
            hash: Some(hash),
            read: 0,
            declared,
            digest: None,
        })))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Hashing> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The body, hashed: at once if it is small and its size known (every route's body
    /// but the upload's is read into memory before it gets here, and a handler that
    /// takes no body never reads it), else as it passes (an upload is never held).
    async fn tap(&self, body: Body) -> Body {
        let small = axum::body::HttpBody::size_hint(&body)
            .exact()
            .is_some_and(|size| size <= MAX_BODY_BYTES as u64);
        if small {
            let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
                self.lock().hash = None;
                return Body::empty();
            };
            let mut state = self.lock();
            if let Some(hash) = state.hash.as_mut() {
                hash.update(&bytes);
            }
            state.end();
            return Body::from(bytes);
        }
        let (reading, ending) = (self.clone(), self.clone());
        let read = body.into_data_stream().map(move |chunk| {
            let mut state = reading.lock();
            match &chunk {
                Ok(bytes) => {
                    if let Some(hash) = state.hash.as_mut() {
                        hash.update(bytes);
                    }
                    state.read += bytes.len() as u64;
                    if state.declared == Some(state.read) {
                        state.end();
                    }
                }
                Err(_) => state.hash = None,
            }
            chunk
        });
        let end = futures::stream::once(async move { ending.lock().end() })
            .filter_map(|()| async { None::<Result<Bytes, axum::Error>> });
        Body::from_stream(read.chain(end))
    }

    /// The fingerprint, if the whole body was read.
    fn finish(&self) -> Option<Vec<u8>> {
        self.lock().digest.clone()
    }
}

/// Lets go of the key if the first request is dropped before it answers (its client
/// went away): a retry then runs at once instead of waiting for the key to be taken as
/// abandoned.
struct Holding {
    state: Option<(AppState, i64, i64, String)>,
}

impl Drop for Holding {
    fn drop(&mut self) {
        if let Some((state, workspace, key_id, key)) = self.state.take() {
            tokio::spawn(async move {
                let _ = idempotency::release(&state.db, workspace, key_id, &key).await;
            });
        }
    }
}

/// Replays, refuses or records POSTs that carry an `Idempotency-Key` (see the module
/// documentation). Other requests pass as they are, as do requests without a valid API
/// key (the handler refuses them with 401).
pub async fn replay_or_record(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(KeyCaller(api_key)) = request.extensions().get::<KeyCaller>().cloned() else {
        return next.run(request).await;
    };
    let Some(value) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    let key = match read_key(value) {
        Ok(key) => key,
        Err(error) => return error.into_response(),
    };
    let (workspace, key_id) = (api_key.workspace_id, api_key.id);
    let earlier =
        match idempotency::begin(&state.db, workspace, key_id, &key, crate::db::now()).await {
            Ok(earlier) => earlier,
            Err(error) => return ApiError::from(error).into_response(),
        };
    let declared = request
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    let fingerprint = Fingerprint::new(request.method(), request.uri(), declared);
    let (parts, body) = request.into_parts();
    match earlier {
        Earlier::Running => ApiError::new(
            409,
            "request_in_progress",
            "A request with this Idempotency-Key is still running: retry once it has answered.",
        )
        .into_response(),
        Earlier::Done(stored) => {
            // Read the retry's body to the end to compare it with the first's.
            let body = fingerprint.tap(body).await;
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
            let mut holding = Holding {
                state: Some((state.clone(), workspace, key_id, key.clone())),
            };
            let body = fingerprint.tap(body).await;
            let response = next.run(Request::from_parts(parts, body)).await;
            holding.state = None;
            record(&state, workspace, key_id, &key, &fingerprint, response).await
        }
    }
}

/// Keeps the first response for its retries, unless a retry should run again: a server
/// error, a conflict that says "send it again", or a body not read to its end. Returns
/// the response.
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
    let keep = !parts.status.is_server_error() && parts.status != StatusCode::CONFLICT;
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
    async fn a_body_in_memory_is_hashed_at_once_and_a_stream_once_read() {
        let uri: http::Uri = "/api/v1/contacts".parse().unwrap();
        let print = |body: &'static str| {
            let fingerprint = Fingerprint::new(&Method::POST, &uri, None);
            (fingerprint, body)
        };
        let (a, body) = print("{\"x\":1}");
        let _ = a.tap(Body::from(body)).await;
        let (b, body) = print("{\"x\":1}");
        let _ = b.tap(Body::from(body)).await;
        let (c, body) = print("{\"x\":2}");
        let _ = c.tap(Body::from(body)).await;
        assert!(a.finish().is_some(), "in memory: hashed at once");
        assert_eq!(a.finish(), b.finish());
        assert_ne!(a.finish(), c.finish());

        // A streamed body: known once its declared length has passed, even if the
        // stream's end is never asked for.
        let streamed = Fingerprint::new(&Method::POST, &uri, Some(7));
        let chunks = futures::stream::iter([Ok::<_, std::io::Error>(Bytes::from("{\"x\":1}"))]);
        let body = streamed.tap(Body::from_stream(chunks)).await;
        assert_eq!(streamed.finish(), None, "nothing read yet");
        let mut stream = body.into_data_stream();
        stream.next().await;
        assert_eq!(
            streamed.finish(),
            a.finish(),
            "the same as the body in memory"
        );

        // A large body is never held, even when its size is known (an upload).
        let large = Fingerprint::new(&Method::POST, &uri, Some(2 << 20));
        let body = large.tap(Body::from(vec![b'x'; 2 << 20])).await;
        assert_eq!(large.finish(), None, "not read ahead of its reader");
        let _ = axum::body::to_bytes(body, usize::MAX).await.unwrap();
        assert!(large.finish().is_some(), "hashed as it passed");
    }
}
