//! The HTTP API families. Each has its own router, auth layer and error envelope; their
//! paths never overlap. Shared request helpers live here.

pub mod compliance;
pub mod infra;
pub mod reporting;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use serde_json::{Map, Value};

use crate::error::Error;
use crate::state::AppState;

/// The negotiated Infra API version (0–2), set by the version layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct ApiVersion(pub u8);

impl<S: Send + Sync> FromRequestParts<S> for ApiVersion {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Error> {
        Ok(parts
            .extensions
            .get::<ApiVersion>()
            .copied()
            .unwrap_or(ApiVersion(0)))
    }
}

/// Scheme, host and port for absolute URLs: `external_url` when configured, else the
/// request's `X-Forwarded-Proto`/`X-Forwarded-Host`/`Host`.
#[derive(Debug, Clone)]
pub struct BaseUrl(pub String);

impl BaseUrl {
    pub fn join(&self, path: &str) -> String {
        format!("{}{}", self.0, path)
    }
}

impl FromRequestParts<AppState> for BaseUrl {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Error> {
        let configured = state.config.external_url.trim_end_matches('/');
        if !configured.is_empty() {
            return Ok(BaseUrl(configured.to_string()));
        }
        let header = |name: &str| {
            parts
                .headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let tls = state.config.tls.self_signed || state.config.tls.cert.is_some();
        let scheme = header("x-forwarded-proto")
            .and_then(|p| p.split(',').next().map(|s| s.trim().to_string()))
            .unwrap_or_else(|| if tls { "https" } else { "http" }.to_string());
        let host = header("x-forwarded-host")
            .or_else(|| header("host"))
            .or_else(|| parts.uri.authority().map(|a| a.to_string()))
            .unwrap_or_else(|| state.config.listen.clone());
        Ok(BaseUrl(format!("{scheme}://{host}")))
    }
}

/// A request body that must be a JSON object; erchef's 400 texts otherwise.
pub struct JsonObject(pub Map<String, Value>);

/// Bodies up to this size are parsed on the async worker; larger ones on a blocking thread.
const PARSE_INLINE_MAX: usize = 64 * 1024;

impl<S: Send + Sync> FromRequest<S> for JsonObject {
    type Rejection = Error;
    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let bytes = bytes::Bytes::from_request(req, state)
            .await
            .map_err(|_| Error::bad_request("invalid JSON"))?;
        let small = bytes.len() <= PARSE_INLINE_MAX;
        let parse = move || match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => Ok(JsonObject(m)),
            Ok(_) => Err(Error::bad_request("Incorrect JSON type for request body")),
            Err(_) => Err(Error::bad_request("invalid JSON")),
        };
        if small {
            parse()
        } else {
            off_async(parse).await
        }
    }
}

/// Runs CPU-bound work on a whole request body (parsing, validating, serialising) on a
/// blocking thread, so the async workers keep answering other requests meanwhile.
pub async fn off_async<T, F>(work: F) -> Result<T, Error>
where
    F: FnOnce() -> Result<T, Error> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Internal(anyhow::anyhow!("blocking task: {e}")))?
}

/// Reads an optional string field; a present non-string is a 400.
pub fn opt_str<'a>(body: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, Error> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::bad_request(format!("Field '{field}' invalid"))),
    }
}

/// Reads an optional boolean field; a present non-boolean is a 400.
pub fn opt_bool(body: &Map<String, Value>, field: &str) -> Result<Option<bool>, Error> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(Error::bad_request(format!("Field '{field}' invalid"))),
    }
}
