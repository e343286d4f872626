//! Small endpoints outside the object model: `POST /system_recovery` (password login for
//! users flagged for recovery, superuser only), `/organizations/ORG/validate/PATH` (checks a
//! signature made for PATH and names the requestor) and the retired `controls` endpoint.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::reply;
use crate::auth::extract::SignedPath;
use crate::auth::{authz, password, Requestor};
use crate::error::{Error, Message, Result};
use crate::model::user;
use crate::state::AppState;

pub async fn system_recovery(
    State(state): State<AppState>,
    who: Requestor,
    body: bytes::Bytes,
) -> Result<Response> {
    let body: Map<String, Value> = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(m)) => m,
        _ => return Err(Error::bad_request("Invalid system recovery request")),
    };
    let field = |name: &str| -> Result<String> {
        match body.get(name) {
            None => Err(Error::bad_request(format!("Field '{name}' missing"))),
            Some(Value::String(v)) if !v.trim().is_empty() => Ok(v.clone()),
            Some(_) => Err(Error::bad_request(format!("Field '{name}' invalid"))),
        }
    };
    let name = field("username")?;
    let pass = field("password")?;
    authz::require_superuser(&who, "create")?;
    let disabled = || Error::forbidden("System recovery disabled for this user");
    let Some(u) = state.store.user_by_name(&name).await? else {
        return Err(disabled());
    };
    if u.superuser || !u.recovery_authentication_enabled {
        return Err(disabled());
    }
    let Some(hash) = u.password_hash.clone() else {
        return Err(disabled());
    };
    if !password::verify(pass, hash).await {
        return Err(Error::unauthorized(
            "Failed to authenticate: Username and password incorrect",
        ));
    }
    let mut out = user::render(&u, None);
    out["recovery_authentication_enabled"] = Value::Bool(true);
    Ok(reply(StatusCode::OK, out))
}

/// Runs before the signature gate of `/organizations/{org}/validate/{*path}`: the
/// signature is checked against `/{path}`, the request it was made for.
pub async fn validate_target(mut req: Request, next: Next) -> Response {
    let path = req.uri().path();
    if let Some(i) = path.find("/validate/") {
        let target = path[i + "/validate".len()..].to_string();
        req.extensions_mut().insert(SignedPath(target));
    }
    next.run(req).await
}

pub async fn validate(who: Requestor) -> Response {
    let kind = if who.is_user() { "user" } else { "client" };
    reply(
        StatusCode::OK,
        json!({ "requestor_name": who.name, "requestor_type": kind }),
    )
}

/// The analytics `controls` endpoint is gone from the real server too: 410 to every
/// method, with a bare-string error.
pub async fn controls(_: Requestor) -> Error {
    Error::Gone(Message::Bare(
        "Resource gone: the controls endpoint (analytics) is not supported".into(),
    ))
}
