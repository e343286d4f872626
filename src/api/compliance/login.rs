//! `/api/version`, `/api/login`, `/api/access_token` and the signed-in user's refresh
//! tokens (`/api/user/refresh_tokens`, what the Compliance server's "About" dialogue
//! handed out). A password login answers the bare access token as the whole body, since
//! InSpec stores the body as its token.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::{Body, CError, CResult, ComplianceUser};
use crate::auth::{jwt, password};
use crate::error::Error;
use crate::state::AppState;
use crate::store::compliance::TokenRow;
use crate::store::users::UserRow;
use crate::store::{new_id, now};

/// The API version InSpec reads; 0.16.19 and later mean refresh-token logins.
pub const API_VERSION: &str = "1.6.8";

const REFRESH_FAILED: &str =
    "unable to trade refresh token for access token with issuer: invalid_request";

pub async fn show_version() -> Response {
    Json(json!({ "api": "chef-compliance", "version": API_VERSION })).into_response()
}

fn field<'a>(body: &'a Value, name: &str) -> CResult<Option<&'a str>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(CError(Error::bad_request(format!(
            "'{name}' must be a string"
        )))),
    }
}

async fn access_token(s: &AppState, user: &UserRow, sid: &str) -> CResult<String> {
    let secret = s.compliance_secret().await?;
    let ttl = s.config.compliance.access_token_secs;
    Ok(jwt::issue(&secret, &user.id, &user.username, sid, ttl))
}

/// Trades a refresh token for an access token; the spec's text when it cannot.
async fn trade_refresh(s: &AppState, token: &str) -> CResult<Response> {
    let refused = || (StatusCode::UNAUTHORIZED, REFRESH_FAILED).into_response();
    let Some(row) = s
        .store
        .refresh_token_by_hash(&jwt::token_hash(token))
        .await?
    else {
        return Ok(refused());
    };
    let Some(user) = s.store.user_by_id(&row.user_id).await? else {
        return Ok(refused());
    };
    s.store.touch_token(&row.id).await?;
    let t = access_token(s, &user, &row.id).await?;
    Ok(Json(json!({ "access_token": t })).into_response())
}

pub async fn create_login(State(s): State<AppState>, Body(body): Body) -> CResult<Response> {
    if let Some(token) = field(&body, "token")? {
        return trade_refresh(&s, token).await;
    }
    let (Some(login), Some(pass)) = (field(&body, "userid")?, field(&body, "password")?) else {
        return Err(CError(Error::bad_request(
            "send {\"userid\", \"password\"} or {\"token\": REFRESH_TOKEN}",
        )));
    };
    let refused = || CError(Error::unauthorized("wrong user name or password"));
    let user = s.store.user_by_name(login).await?.ok_or_else(refused)?;
    let Some(hash) = user.password_hash.clone() else {
        return Err(refused());
    };
    if !password::verify(pass.to_string(), hash).await {
        return Err(refused());
    }
    let session = TokenRow {
        id: new_id(),
        user_id: user.id.clone(),
        kind: "session".into(),
        description: "password login".into(),
        created_at: now(),
        last_used_at: None,
        revoked_at: None,
    };
    s.store.create_token(&session, None).await?;
    let t = access_token(&s, &user, &session.id).await?;
    Ok(([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], t).into_response())
}

pub async fn create_access_token(State(s): State<AppState>, Body(body): Body) -> CResult<Response> {
    match field(&body, "token")? {
        Some(token) => trade_refresh(&s, token).await,
        None => Err(CError(Error::bad_request("'token' is required"))),
    }
}

/// Revokes a refresh token (the token itself is the credential).
pub async fn delete_login(State(s): State<AppState>, Body(body): Body) -> CResult<Response> {
    let token = field(&body, "token")?.ok_or_else(|| Error::bad_request("'token' is required"))?;
    let row = s
        .store
        .refresh_token_by_hash(&jwt::token_hash(token))
        .await?
        .ok_or_else(|| Error::not_found("no such refresh token"))?;
    s.store.revoke_token(&row.user_id, &row.id).await?;
    Ok(Json(json!({ "status": "success" })).into_response())
}

fn render_token(t: &TokenRow) -> Value {
    json!({
        "id": t.id,
        "description": t.description,
        "created_at": t.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "last_used_at": t.last_used_at.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "revoked": t.revoked_at.is_some(),
    })
}

pub async fn list_refresh_tokens(
    State(s): State<AppState>,
    who: ComplianceUser,
) -> CResult<Response> {
    let rows = s.store.refresh_tokens(&who.user.id).await?;
    let out: Vec<Value> = rows.iter().map(render_token).collect();
    Ok(Json(out).into_response())
}

/// Creates a refresh token for the signed-in user; its secret is shown only here.
pub async fn create_refresh_token(
    State(s): State<AppState>,
    who: ComplianceUser,
    Body(body): Body,
) -> CResult<Response> {
    let description = field(&body, "description")?.unwrap_or("refresh token");
    if description.chars().count() > 200 {
        return Err(CError(Error::bad_request(
            "'description' is longer than 200 characters",
        )));
    }
    let (row, token) = crate::ops::issue_refresh_token(&s.store, &who.user.id, description).await?;
    let mut out = render_token(&row);
    out["token"] = Value::String(token);
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

pub async fn delete_refresh_token(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path(id): Path<String>,
) -> CResult<Response> {
    if !s.store.revoke_token(&who.user.id, &id).await? {
        return Err(CError(Error::not_found("no such refresh token")));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
