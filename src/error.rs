//! The one error type of the server. Handlers and the store return `Error`; each API family
//! renders it in its own envelope (the Infra and Reporting families use `{"error": [...]}`).
//! Internal failures are logged once, inside the request span, and never reach the client.

use axum::http::StatusCode;
use serde_json::{json, Value};

/// An error message as the real server shapes it: most bodies carry a list of strings, some
/// a bare string, and a few (406, 412) a whole JSON document.
#[derive(Debug, Clone, PartialEq)]
pub enum Message {
    List(String),
    Bare(String),
    Json(Value),
}

impl std::fmt::Display for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Message::List(m) | Message::Bare(m) => f.write_str(m),
            Message::Json(v) => write!(f, "{v}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("bad request: {0}")]
    BadRequest(Message),
    #[error("unauthorized: {0}")]
    Unauthorized(Message),
    #[error("forbidden: {0}")]
    Forbidden(Message),
    #[error("not found: {0}")]
    NotFound(Message),
    #[error("method not allowed")]
    MethodNotAllowed,
    /// A 405 with an explanation (erchef's `_default` environment).
    #[error("method not allowed: {0}")]
    MethodNotAllowedWith(String),
    #[error("not acceptable: {0}")]
    NotAcceptable(Message),
    #[error("conflict: {0}")]
    Conflict(Message),
    #[error("gone: {0}")]
    Gone(Message),
    #[error("precondition failed: {0}")]
    PreconditionFailed(Message),
    #[error("unprocessable: {0}")]
    Unprocessable(String),
    #[error("payload too large: {0}")]
    PayloadTooLarge(Message),
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(Message),
    #[error("service unavailable: {0}")]
    ServiceUnavailable(Message),
    #[error("internal error: {0:#}")]
    Internal(#[from] anyhow::Error),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn bad_request(m: impl Into<String>) -> Self {
        Error::BadRequest(Message::List(m.into()))
    }
    pub fn forbidden(m: impl Into<String>) -> Self {
        Error::Forbidden(Message::List(m.into()))
    }
    pub fn not_found(m: impl Into<String>) -> Self {
        Error::NotFound(Message::List(m.into()))
    }
    pub fn conflict(m: impl Into<String>) -> Self {
        Error::Conflict(Message::List(m.into()))
    }
    pub fn unauthorized(m: impl Into<String>) -> Self {
        Error::Unauthorized(Message::List(m.into()))
    }
    /// The permission error erchef gives when an ACL check fails.
    pub fn missing_permission(perm: &str) -> Self {
        Error::forbidden(format!("missing {perm} permission"))
    }

    pub fn status(&self) -> StatusCode {
        match self {
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::MethodNotAllowed | Error::MethodNotAllowedWith(_) => {
                StatusCode::METHOD_NOT_ALLOWED
            }
            Error::NotAcceptable(_) => StatusCode::NOT_ACCEPTABLE,
            Error::Conflict(_) => StatusCode::CONFLICT,
            Error::Gone(_) => StatusCode::GONE,
            Error::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            Error::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Unprocessable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Error::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Error::ServiceUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The message a client may see; internal details are replaced by a generic text.
    pub fn public_message(&self) -> Option<&Message> {
        match self {
            Error::BadRequest(m)
            | Error::Unauthorized(m)
            | Error::Forbidden(m)
            | Error::NotFound(m)
            | Error::NotAcceptable(m)
            | Error::Conflict(m)
            | Error::Gone(m)
            | Error::PreconditionFailed(m)
            | Error::PayloadTooLarge(m)
            | Error::UnsupportedMediaType(m)
            | Error::ServiceUnavailable(m) => Some(m),
            Error::MethodNotAllowed
            | Error::MethodNotAllowedWith(_)
            | Error::Unprocessable(_)
            | Error::Internal(_) => None,
        }
    }

    /// Logs internal errors once; client errors are part of normal traffic.
    pub fn log(&self) {
        if let Error::Internal(e) = self {
            tracing::error!(error = %format!("{e:#}"), "internal error");
        }
    }

    /// The Infra/Reporting envelope: `{"error": ["..."]}` or the bare/JSON forms.
    pub fn infra_body(&self) -> Option<Value> {
        if let Error::MethodNotAllowedWith(m) | Error::Unprocessable(m) = self {
            return Some(json!({ "error": [m] }));
        }
        match self.public_message() {
            Some(Message::List(m)) => Some(json!({ "error": [m] })),
            Some(Message::Bare(m)) => Some(json!({ "error": m })),
            Some(Message::Json(v)) => Some(v.clone()),
            None if matches!(self, Error::Internal(_)) => {
                Some(json!({ "error": ["internal service error"] }))
            }
            None => None,
        }
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => Error::not_found("not found"),
            sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation => {
                Error::conflict("already exists")
            }
            _ => Error::Internal(e.into()),
        }
    }
}

impl axum::response::IntoResponse for Error {
    fn into_response(self) -> axum::response::Response {
        crate::api::infra::render_error(self)
    }
}

impl Error {
    /// The Infra rendering as a response (for layers outside the routers).
    pub fn into_response_infra(self) -> axum::response::Response {
        crate::api::infra::render_error(self)
    }
}
