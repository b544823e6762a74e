//! `AppError`: the one error type of the app, shared by server functions and the UI.
//!
//! It crosses the wire as JSON, so the browser can put a validation message next to its
//! field. Database and internal failures are logged on the server with their detail and
//! reach the browser only as a plain sentence ("log, don't leak").

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

/// A problem with one field of a form.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The form field's name, e.g. `email`.
    pub field: String,
    /// What is wrong, written for the person who typed it.
    pub message: String,
}

/// Every outcome other than success, with what the user should read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum AppError {
    /// No valid session: the user must sign in (again).
    #[error("Your session has ended. Please sign in again.")]
    Unauthorized,
    /// Signed in, but the role does not allow this.
    #[error("You don't have permission to do that.")]
    Forbidden,
    /// Signed in with a password an admin set: it must be changed before anything else.
    #[error("Choose a new password first: the one you signed in with was set by an admin.")]
    PasswordChangeRequired,
    /// A state-changing request that did not come from the app's own pages.
    #[error(
        "This request did not come from a Contacts page, so it was refused. Open Contacts and try again."
    )]
    CrossOrigin,
    /// The thing asked for does not exist in this workspace.
    #[error("{0}")]
    NotFound(String),
    /// One or more fields are invalid; each message belongs next to its field.
    #[error("{}", invalid_summary(.0))]
    Invalid(Vec<FieldError>),
    /// The request clashes with the current state (e.g. sign-up after set-up).
    #[error("{0}")]
    Conflict(String),
    /// A value that must be unique (a mobile number) belongs to another record already.
    #[error("{message}")]
    Taken {
        /// The form field's name.
        field: String,
        /// What is wrong, naming who has the value.
        message: String,
        /// The id of the record that has it.
        id: i64,
    },
    /// A write named a version of the record (`If-Match`) that is no longer current.
    #[error("{0}")]
    PreconditionFailed(String),
    /// The request's body is in a format the route does not take.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Too many attempts; the message says how long to wait.
    #[error("{0}")]
    TooManyRequests(String),
    /// The request was not one the app sends (malformed, or from another site).
    #[error("{0}")]
    BadRequest(String),
    /// The request's body is larger than its route accepts; the message names the limit.
    #[error("{0}")]
    TooLarge(String),
    /// The server cannot take this on now (e.g. its disk is nearly full); try later.
    #[error("{0}")]
    Unavailable(String),
    /// Something failed on the server; the detail is in the server's log only.
    #[error("Something went wrong on our side. Please try again.")]
    Internal,
    /// The browser could not reach the server.
    #[error("Could not reach the server. Check your connection and try again.")]
    Network,
}

fn invalid_summary(errors: &[FieldError]) -> String {
    match errors {
        [one] => one.message.clone(),
        _ => "Please correct the highlighted fields.".to_string(),
    }
}

impl AppError {
    /// A validation error on a single field.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        AppError::Invalid(vec![FieldError {
            field: field.to_string(),
            message: message.into(),
        }])
    }

    /// The HTTP status that goes with this outcome.
    pub fn status_code(&self) -> u16 {
        match self {
            AppError::Unauthorized => 401,
            AppError::Forbidden | AppError::CrossOrigin | AppError::PasswordChangeRequired => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) | AppError::Taken { .. } => 409,
            AppError::PreconditionFailed(_) => 412,
            AppError::UnsupportedMediaType(_) => 415,
            AppError::Invalid(_) => 422,
            AppError::TooManyRequests(_) => 429,
            AppError::BadRequest(_) => 400,
            AppError::TooLarge(_) => 413,
            AppError::Internal => 500,
            AppError::Network | AppError::Unavailable(_) => 503,
        }
    }

    /// The message for one form field, if this error has one.
    pub fn field_message(&self, field: &str) -> Option<String> {
        match self {
            AppError::Invalid(errors) => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.message.clone()),
            AppError::Taken {
                field: taken,
                message,
                ..
            } if taken == field => Some(message.clone()),
            _ => None,
        }
    }

    /// The form fields this error is about, in order.
    pub fn fields(&self) -> Vec<&str> {
        match self {
            AppError::Invalid(errors) => errors.iter().map(|e| e.field.as_str()).collect(),
            AppError::Taken { field, .. } => vec![field.as_str()],
            _ => Vec::new(),
        }
    }

    /// Logs an internal failure with its detail and returns the plain error for the client.
    #[cfg(feature = "ssr")]
    pub fn internal(context: &str, detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "{context}");
        AppError::Internal
    }
}

/// What a request that the app's own pages never send gets: its arguments did not decode.
pub const MALFORMED: &str = "The request was malformed. Reload the page and try again.";

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        let error = match value {
            ServerFnErrorErr::Request(_) => AppError::Network,
            // The caller's fault, not ours: a warning, and a 400 rather than a 500.
            ServerFnErrorErr::Args(detail)
            | ServerFnErrorErr::Deserialization(detail)
            | ServerFnErrorErr::MissingArg(detail) => {
                #[cfg(feature = "ssr")]
                tracing::warn!(%detail, "malformed server function request");
                #[cfg(not(feature = "ssr"))]
                leptos::logging::warn!("malformed server function response: {detail}");
                AppError::BadRequest(MALFORMED.into())
            }
            other => {
                #[cfg(feature = "ssr")]
                tracing::error!(error = %other, "server function failed");
                #[cfg(not(feature = "ssr"))]
                leptos::logging::error!("server function failed: {other}");
                AppError::Internal
            }
        };
        // A server function whose arguments failed to decode never runs its body, so the
        // status is set here; otherwise server_fn answers every error with a 500.
        #[cfg(feature = "ssr")]
        if let Some(response) = leptos::prelude::use_context::<leptos_axum::ResponseOptions>()
            && let Ok(status) = http::StatusCode::from_u16(error.status_code())
        {
            response.set_status(status);
        }
        error
    }
}

/// Every plain axum route answers its errors as server functions do: the status, and
/// the error as JSON (which the browser's code reads with the same type).
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let status = http::StatusCode::from_u16(self.status_code())
            .unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
        (status, axum::Json(self)).into_response()
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        AppError::internal("database error", error)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_field_error_reads_as_its_message() {
        let error = AppError::invalid("email", "Enter an email address.");
        assert_eq!(error.to_string(), "Enter an email address.");
        assert_eq!(
            error.field_message("email").as_deref(),
            Some("Enter an email address.")
        );
        assert_eq!(error.field_message("password"), None);
        assert_eq!(error.status_code(), 422);
    }

    #[test]
    fn internal_errors_say_nothing_about_their_cause() {
        let error = AppError::from_server_fn_error(ServerFnErrorErr::ServerError(
            "no such table: users".into(),
        ));
        assert_eq!(error, AppError::Internal);
        assert!(!error.to_string().contains("users"));
    }

    #[test]
    fn errors_survive_the_wire() {
        let error = AppError::Invalid(vec![
            FieldError {
                field: "email".into(),
                message: "Taken.".into(),
            },
            FieldError {
                field: "password".into(),
                message: "Too short.".into(),
            },
        ]);
        let json = serde_json::to_string(&error).unwrap();
        let back: AppError = serde_json::from_str(&json).unwrap();
        assert_eq!(back, error);
        assert_eq!(back.to_string(), "Please correct the highlighted fields.");
    }
}
