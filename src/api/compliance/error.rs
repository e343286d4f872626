//! The Compliance envelope: `{"error": "<short reason>", "message": "<text>"}`, with a
//! `WWW-Authenticate: Bearer` challenge on 401. Internal errors are logged once and shown
//! as a generic message.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::error::Error;

/// An `Error` rendered in this family's envelope.
#[derive(Debug)]
pub struct CError(pub Error);

pub type CResult<T> = Result<T, CError>;

impl From<Error> for CError {
    fn from(e: Error) -> Self {
        CError(e)
    }
}

impl From<sqlx::Error> for CError {
    fn from(e: sqlx::Error) -> Self {
        CError(e.into())
    }
}

impl From<anyhow::Error> for CError {
    fn from(e: anyhow::Error) -> Self {
        CError(e.into())
    }
}

impl IntoResponse for CError {
    fn into_response(self) -> Response {
        let e = self.0;
        e.log();
        let status = e.status();
        let short = status
            .canonical_reason()
            .unwrap_or("error")
            .to_ascii_lowercase();
        let message = match e.public_message() {
            Some(m) => m.to_string(),
            None if status == StatusCode::INTERNAL_SERVER_ERROR => "internal server error".into(),
            None => short.clone(),
        };
        let mut r = (status, Json(json!({ "error": short, "message": message }))).into_response();
        if status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}
