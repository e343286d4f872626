//! The Compliance API (the former Chef Compliance server): `/api/version`, login with JWT
//! access tokens and refresh tokens, users, orgs, teams, InSpec profiles and the server
//! configuration. Requests carry `Authorization: Bearer ACCESS_TOKEN`; errors use
//! `{"error": "<short reason>", "message": "<what went wrong>"}`. JSON bodies are read
//! whatever their `Content-Type` (InSpec and `curl -d` send form-urlencoded).
//!
//! The routes are served at `/api/...` and again under `compliance.prefix` (default
//! `/chef-compliance`), where nothing else answers, so that InSpec's server detection
//! (`/dex/auth`, `/compliance/version`, `/api/version`) finds a Compliance server there
//! whatever the main base says.

mod access;
mod error;
mod login;
mod orgs;
mod profiles;
mod server;
mod teams;
mod users;

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::routing::{any, get, post};
use axum::Router;
use serde_json::Value;

pub use error::{CError, CResult};

use crate::auth::jwt;
use crate::error::Error;
use crate::state::AppState;
use crate::store::compliance::Permissions;
use crate::store::users::UserRow;

/// The family's routes, rooted at `/api`; uploads may be `max_file_bytes` long.
pub fn routes(max_file_bytes: usize) -> Router<AppState> {
    let file_limit = axum::extract::DefaultBodyLimit::max(max_file_bytes);
    Router::new()
        .route("/api/version", get(login::show_version))
        .route(
            "/api/login",
            post(login::create_login).delete(login::delete_login),
        )
        .route("/api/access_token", post(login::create_access_token))
        .route(
            "/api/user/refresh_tokens",
            get(login::list_refresh_tokens).post(login::create_refresh_token),
        )
        .route(
            "/api/user/refresh_tokens/{id}",
            axum::routing::delete(login::delete_refresh_token),
        )
        .route(
            "/api/users",
            get(users::list_users).post(users::create_user),
        )
        .route(
            "/api/users/{user}",
            get(users::show_user)
                .patch(users::update_user)
                .delete(users::delete_user),
        )
        .route("/api/orgs", get(orgs::list_orgs).post(orgs::create_org))
        .route(
            "/api/orgs/{org}",
            get(orgs::show_org)
                .patch(orgs::update_org)
                .delete(orgs::delete_org),
        )
        .route(
            "/api/orgs/{org}/teams",
            get(teams::list_teams).post(teams::create_team),
        )
        .route(
            "/api/orgs/{org}/teams/{team}",
            get(teams::show_team)
                .patch(teams::update_team)
                .delete(teams::delete_team),
        )
        .route(
            "/api/orgs/{org}/teams/{team}/members",
            get(teams::show_team).post(teams::add_members),
        )
        .route(
            "/api/orgs/{org}/teams/{team}/members/{member}",
            axum::routing::patch(teams::add_member).delete(teams::remove_member),
        )
        .route("/api/user/compliance", get(profiles::list_all))
        .route(
            "/api/owners/{owner}/compliance",
            get(profiles::list_owner)
                .post(profiles::upload)
                .layer(file_limit),
        )
        .route(
            "/api/owners/{owner}/compliance/{profile}",
            get(profiles::show_profile).delete(profiles::delete_profile),
        )
        .route(
            "/api/owners/{owner}/compliance/{profile}/tar",
            get(profiles::download).post(profiles::upload_named),
        )
        .route(
            "/api/owners/{owner}/compliance/{profile}/zip",
            post(profiles::upload_named),
        )
        .route(
            "/api/server/config",
            get(server::show_config).patch(server::update_config),
        )
        .route("/api/{*rest}", any(not_found))
}

/// The routes at `/api/...` and under the configured prefix.
pub fn router(state: &AppState) -> Router<AppState> {
    let prefix = state.config.compliance.prefix.trim_end_matches('/');
    let max = state.config.limits.max_file_bytes;
    let mut r = routes(max);
    if !prefix.is_empty() {
        let nested = routes(max).fallback(not_found);
        r = r.nest(prefix, nested);
    }
    r
}

async fn not_found() -> CError {
    CError(Error::not_found("no such Compliance API resource"))
}

/// A JSON request body, read whatever its `Content-Type` says.
pub struct Body(pub Value);

impl FromRequest<AppState> for Body {
    type Rejection = CError;
    async fn from_request(req: Request, state: &AppState) -> Result<Self, CError> {
        let limit = state.config.limits.max_json_bytes;
        let bytes = axum::body::to_bytes(req.into_body(), limit)
            .await
            .map_err(|_| {
                Error::PayloadTooLarge(crate::error::Message::List(format!(
                    "request body over {limit} bytes"
                )))
            })?;
        Ok(Body(parse_json(&bytes)?))
    }
}

/// Parses a body as JSON; the spec's `{["bob"]}` (a list in braces) reads as the list.
/// An empty body is `null`.
pub fn parse_json(bytes: &[u8]) -> Result<Value, Error> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(Value::Null);
    }
    if let Ok(v) = serde_json::from_slice::<Value>(bytes) {
        return Ok(v);
    }
    let text = std::str::from_utf8(bytes).unwrap_or("").trim();
    if let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) {
        if let Ok(v @ Value::Array(_)) = serde_json::from_str::<Value>(inner.trim()) {
            return Ok(v);
        }
    }
    Err(Error::bad_request("the request body is not valid JSON"))
}

/// The user a valid, unrevoked access token names, with their permissions.
#[derive(Debug, Clone)]
pub struct ComplianceUser {
    pub user: UserRow,
    pub perms: Permissions,
    /// The token row the access token came from.
    pub sid: String,
}

impl ComplianceUser {
    pub fn site_admin(&self) -> bool {
        self.perms.site_admin || self.user.superuser
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let v = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?;
    let (scheme, token) = v.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

impl FromRequestParts<AppState> for ComplianceUser {
    type Rejection = CError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, CError> {
        let unauthorized = || CError(Error::unauthorized("a valid access token is required"));
        let token = bearer(&parts.headers).ok_or_else(unauthorized)?;
        let secret = state.compliance_secret().await?;
        let claims = jwt::verify(&secret, token).ok_or_else(unauthorized)?;
        if !state.store.token_active(&claims.sid, &claims.sub).await? {
            return Err(unauthorized());
        }
        let user = state
            .store
            .user_by_id(&claims.sub)
            .await?
            .ok_or_else(unauthorized)?;
        let perms = state.store.user_permissions(&user.id).await?;
        Ok(ComplianceUser {
            user,
            perms,
            sid: claims.sid,
        })
    }
}

/// Permission flags as the Compliance server shows them: `"true"`/`"false"` strings.
pub fn flag(b: bool) -> Value {
    Value::String(if b { "true" } else { "false" }.into())
}

/// Reads a permission flag sent as `"true"`/`"false"` or a boolean.
pub fn read_flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Some(true),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Some(false),
        _ => None,
    }
}
