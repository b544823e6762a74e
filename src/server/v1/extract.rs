//! What API handlers take from a request, refused in the API's error shape: the caller
//! (by the one function that authorises every request), a JSON body, query parameters
//! and ids in the path.

use super::error::ApiError;
use crate::server::auth::{self, Access, Caller};
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use http::header;
use http::request::Parts;
use serde::de::DeserializeOwned;

/// The API key's caller (see [`crate::server::auth::caller`]).
pub struct ApiCaller(pub Caller);

impl ApiCaller {
    /// The caller if its key's role allows `access`.
    pub fn require(self, access: Access) -> Result<Caller, ApiError> {
        Ok(self.0.require(access)?)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ApiCaller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(ApiCaller(auth::caller(&parts.extensions)?))
    }
}

/// Whether a content type is JSON (`application/json`, or `…+json` such as
/// `application/merge-patch+json`).
pub fn is_json(content_type: &str) -> bool {
    let media = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    media == "application/json" || (media.starts_with("application/") && media.ends_with("+json"))
}

/// The request's media type, lower case, without parameters.
pub fn media_type(parts: &Parts) -> String {
    parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase()
}

/// Reads JSON into `T`: malformed JSON is 400; a value of the wrong type, a missing
/// member or an unknown one is 422 naming its path.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            return ApiError::malformed_json(inner);
        }
        let message = inner.to_string();
        // serde's own words, without its position in the text.
        let message = message
            .split(" at line ")
            .next()
            .unwrap_or(&message)
            .to_string();
        // The path names the member at fault; an unknown member a visitor of ours
        // refused is named by the message.
        let field = match unknown_field(&message) {
            Some(name) if !path.ends_with(&name) => {
                if path == "." || path.is_empty() {
                    name
                } else {
                    format!("{path}.{name}")
                }
            }
            _ => path,
        };
        let error = ApiError::new(422, "validation_failed", message);
        if field == "." || field.is_empty() {
            error
        } else {
            error.with_field(field)
        }
    })?;
    deserializer
        .end()
        .map_err(|e| ApiError::malformed_json(format!("{e}")))?;
    Ok(value)
}

/// `unknown field `foo`, expected …` → `foo`.
fn unknown_field(message: &str) -> Option<String> {
    let rest = message.strip_prefix("unknown field `")?;
    Some(rest.split('`').next()?.to_string())
}

/// A JSON body (`application/json` or another `+json` type), read as [`from_json`] says.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = request.into_parts();
        let media = media_type(&parts);
        if !is_json(&media) {
            return Err(ApiError::new(
                415,
                "unsupported_media_type",
                "Send the body as JSON (Content-Type: application/json).",
            ));
        }
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| ApiError::new(400, "bad_request", "The body could not be read."))?;
        Ok(ApiJson(from_json(&bytes)?))
    }
}

/// Query parameters read into `T`; one it cannot read is 400 naming it.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let query = parts.uri.query().unwrap_or_default();
        let deserializer =
            serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(deserializer)
            .map(ApiQuery)
            .map_err(|error| {
                let path = error.path().to_string();
                let message = error.into_inner().to_string();
                let field = unknown_field(&message).unwrap_or(path);
                ApiError::new(
                    400,
                    "bad_request",
                    format!("Query parameter {field}: {message}"),
                )
                .with_field(field)
            })
    }
}

/// An id in the path; anything that is not one is a 404, as an id that does not exist.
pub struct Id(pub i64);

impl<S: Send + Sync> FromRequestParts<S> for Id {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| not_found())?;
        raw.parse().map(Id).map_err(|_| not_found())
    }
}

/// The 404 of an id that is not one of the workspace's.
pub fn not_found() -> ApiError {
    ApiError::new(
        404,
        "not_found",
        "Nothing with that id exists in this workspace.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        name: String,
        inner: Option<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[test]
    fn json_errors_name_their_field() {
        let malformed = from_json::<Body>(b"{\"name\": ").unwrap_err();
        assert_eq!(
            (malformed.status(), malformed.code),
            (400, "malformed_json")
        );
        let wrong = from_json::<Body>(br#"{"name": 3}"#).unwrap_err();
        assert_eq!(
            (wrong.status(), wrong.field.as_deref()),
            (422, Some("name"))
        );
        let nested = from_json::<Body>(br#"{"name": "a", "inner": {"count": "x"}}"#).unwrap_err();
        assert_eq!(nested.field.as_deref(), Some("inner.count"));
        let unknown = from_json::<Body>(br#"{"name": "a", "nick": "b"}"#).unwrap_err();
        assert_eq!(
            (unknown.status(), unknown.field.as_deref()),
            (422, Some("nick"))
        );
        let deep =
            from_json::<Body>(br#"{"name": "a", "inner": {"count": 1, "x": 2}}"#).unwrap_err();
        assert_eq!(deep.field.as_deref(), Some("inner.x"));
        let trailing = from_json::<Body>(br#"{"name": "a"} x"#).unwrap_err();
        assert_eq!(trailing.status(), 400);
    }

    #[test]
    fn json_media_types_are_recognised() {
        for json in [
            "application/json",
            "application/json; charset=utf-8",
            "application/merge-patch+json",
            "application/json-patch+json",
        ] {
            assert!(is_json(json), "{json}");
        }
        for other in ["text/plain", "multipart/form-data", ""] {
            assert!(!is_json(other), "{other}");
        }
    }
}
