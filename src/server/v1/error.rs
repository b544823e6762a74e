//! The API's one error shape, `{code, message, field?, errorId}`, made from the app's one
//! error type ([`AppError`]): the same outcomes the browser gets, named for programs.

use crate::error::AppError;
use crate::model::field::{ApiName, ContactField};
use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde::Serialize;
use utoipa::ToSchema;

/// What went wrong, for the program that sent the request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiError {
    /// What happened, for programs: `unauthorized`, `forbidden`, `not_found`,
    /// `validation_failed`, `conflict`, `msisdn_taken`, `precondition_failed`,
    /// `unsupported_media_type`, `payload_too_large`, `malformed_json`, `bad_request`,
    /// `rate_limited`, `idempotency_key_reused`, `request_in_progress`, `unavailable`,
    /// `internal_error`.
    pub code: &'static str,
    /// What happened, for people.
    pub message: String,
    /// The field of the request the error is about, as the API names it (e.g.
    /// `addresses.msisdn`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// The contact that has the number, for `msisdn_taken`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_id: Option<i64>,
    /// Quote it when asking about this error: the server's log has the same id.
    #[serde(serialize_with = "hex_id")]
    #[schema(value_type = String)]
    pub error_id: u64,
    #[serde(skip)]
    status: u16,
    #[serde(skip)]
    retry_after: Option<u64>,
}

impl ApiError {
    /// An error with its status, code and message.
    pub fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            field: None,
            contact_id: None,
            error_id: rand::random(),
            status,
            retry_after: None,
        }
    }

    /// The error about one field (named as the API names it).
    pub fn with_field(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// A 429 that says when to try again.
    pub fn rate_limited(retry_after_secs: u64) -> Self {
        let mut error = ApiError::new(
            429,
            "rate_limited",
            format!("Too many requests with this key. Try again in {retry_after_secs} s."),
        );
        error.retry_after = Some(retry_after_secs);
        error
    }

    /// 400: the body is not JSON.
    pub fn malformed_json(detail: impl std::fmt::Display) -> Self {
        ApiError::new(
            400,
            "malformed_json",
            format!("The body is not valid JSON: {detail}."),
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }
}

/// An error's id as it is shown and logged: 16 hex digits.
fn hex_id<S: serde::Serializer>(id: &u64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format!("{id:016x}"))
}

/// A form field's name as the API names it: `mobile` → `addresses.msisdn`, a custom
/// field's → `customAttributes`, a group list → `groupIds`.
pub fn api_field(form_field: &str) -> String {
    if let Some(field) = ContactField::from_key(form_field) {
        return match field.spec().api {
            ApiName::Top(name) => name.to_string(),
            ApiName::Address(name) => format!("addresses.{name}"),
        };
    }
    if form_field.starts_with("attributes") {
        return "customAttributes".to_string();
    }
    match form_field {
        "groups" => "groupIds".to_string(),
        other => other.to_string(),
    }
}

impl From<AppError> for ApiError {
    fn from(error: AppError) -> Self {
        let status = error.status_code();
        let message = error.to_string();
        match error {
            AppError::Unauthorized | AppError::PasswordChangeRequired => ApiError::new(
                401,
                "unauthorized",
                "Send a valid API key: Authorization: Bearer ck_…",
            ),
            AppError::Forbidden | AppError::CrossOrigin => ApiError::new(
                403,
                "forbidden",
                "This key's role does not allow that (viewer keys only read).",
            ),
            AppError::NotFound(_) => ApiError::new(status, "not_found", message),
            AppError::Invalid(errors) => {
                let field = errors.first().map(|e| api_field(&e.field));
                let message = errors
                    .iter()
                    .map(|e| format!("{}: {}", api_field(&e.field), e.message))
                    .collect::<Vec<_>>()
                    .join(" ");
                let mut error = ApiError::new(status, "validation_failed", message);
                error.field = field;
                error
            }
            AppError::Taken { field, id, .. } => {
                let mut error =
                    ApiError::new(status, "msisdn_taken", message).with_field(api_field(&field));
                error.contact_id = Some(id);
                error
            }
            AppError::Conflict(_) => ApiError::new(status, "conflict", message),
            AppError::PreconditionFailed(_) => {
                ApiError::new(status, "precondition_failed", message)
            }
            AppError::UnsupportedMediaType(_) => {
                ApiError::new(status, "unsupported_media_type", message)
            }
            AppError::TooManyRequests(_) => ApiError::new(status, "rate_limited", message),
            AppError::BadRequest(_) => ApiError::new(status, "bad_request", message),
            AppError::TooLarge(_) => ApiError::new(status, "payload_too_large", message),
            AppError::Unavailable(_) | AppError::Network => {
                ApiError::new(503, "unavailable", message)
            }
            AppError::Internal => ApiError::new(500, "internal_error", message),
        }
    }
}

/// A refusal made before a route runs (a body over its limit, the database down), in the
/// API's shape for the API's paths and in the browser's for the rest.
pub fn refusal(path: &str, error: AppError) -> Response {
    if crate::server::auth::is_api_path(path) {
        ApiError::from(error).into_response()
    } else {
        error.into_response()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        if status.is_server_error() {
            tracing::warn!(error_id = %format!("{:016x}", self.error_id), code = self.code, "API request failed");
        } else {
            tracing::debug!(error_id = %format!("{:016x}", self.error_id), code = self.code, message = %self.message, "API request refused");
        }
        let retry_after = self.retry_after;
        let mut response = (status, Json(self)).into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_named_as_the_api_names_them() {
        assert_eq!(api_field("mobile"), "addresses.msisdn");
        assert_eq!(api_field("first_name"), "firstName");
        assert_eq!(api_field("messenger_id"), "addresses.facebookUserId");
        assert_eq!(api_field("attributes.3.key"), "customAttributes");
        assert_eq!(api_field("groups"), "groupIds");
        assert_eq!(api_field("name"), "name");
    }

    #[test]
    fn every_error_has_its_shape_and_internal_ones_say_nothing() {
        let invalid: ApiError = AppError::invalid("mobile", "Enter a mobile number.").into();
        assert_eq!((invalid.status(), invalid.code), (422, "validation_failed"));
        assert_eq!(invalid.field.as_deref(), Some("addresses.msisdn"));
        let json = serde_json::to_value(&invalid).unwrap();
        assert!(json["errorId"].as_str().is_some_and(|id| id.len() == 16));
        let internal: ApiError = AppError::Internal.into();
        assert_eq!(internal.status(), 500);
        assert!(!internal.message.contains("sql"));
        let taken: ApiError = AppError::Taken {
            field: "mobile".into(),
            message: "This number already belongs to Ann.".into(),
            id: 7,
        }
        .into();
        assert_eq!((taken.status(), taken.contact_id), (409, Some(7)));
    }
}
