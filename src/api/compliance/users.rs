//! `/api/users[/USER]`: the Infra server's users seen the Compliance way (`login` is the
//! username, `name` the display name), with their server-wide permissions. Creating one
//! here makes the same user `/users` shows, with an argon2 password that both
//! `/api/login` and `/authenticate_user` check.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::access::{find_user, forbidden};
use super::{flag, read_flag, Body, CError, CResult, ComplianceUser};
use crate::auth::password;
use crate::error::Error;
use crate::model::names;
use crate::state::AppState;
use crate::store::compliance::Permissions;
use crate::store::users::UserRow;
use crate::store::{new_id, now};

fn display_name(u: &UserRow) -> String {
    let profile: Map<String, Value> =
        serde_json::from_str(&u.serialized_object).unwrap_or_default();
    profile
        .get("display_name")
        .and_then(Value::as_str)
        .unwrap_or(&u.username)
        .to_string()
}

pub async fn list_users(State(s): State<AppState>, _who: ComplianceUser) -> CResult<Response> {
    let out: Vec<Value> = s
        .store
        .list_users()
        .await?
        .iter()
        .map(|u| json!({ "name": display_name(u), "login": u.username, "id": u.id }))
        .collect();
    Ok(Json(out).into_response())
}

pub async fn show_user(
    State(s): State<AppState>,
    _who: ComplianceUser,
    Path(key): Path<String>,
) -> CResult<Response> {
    let u = find_user(&s, &key).await?;
    let p = s.store.user_permissions(&u.id).await?;
    Ok(Json(json!({
        "name": display_name(&u),
        "login": u.username,
        "id": u.id,
        "preferences": null,
        "permissions": {
            "org_admin": flag(p.org_admin),
            "site_admin": flag(p.site_admin || u.superuser),
            "user_admin": flag(p.user_admin),
        },
    }))
    .into_response())
}

fn str_field<'a>(body: &'a Map<String, Value>, name: &str) -> CResult<Option<&'a str>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(CError(Error::bad_request(format!(
            "'{name}' must be a string"
        )))),
    }
}

fn check_password(p: &str) -> CResult<()> {
    if p.chars().count() < 6 {
        return Err(CError(Error::bad_request(
            "the password must have at least 6 characters",
        )));
    }
    Ok(())
}

/// Reads `permissions`; only a site admin may grant them.
fn permissions(
    body: &Map<String, Value>,
    who: &ComplianceUser,
    current: Permissions,
) -> CResult<Permissions> {
    let Some(v) = body.get("permissions").filter(|v| !v.is_null()) else {
        return Ok(current);
    };
    let obj = v
        .as_object()
        .ok_or_else(|| CError(Error::bad_request("'permissions' must be an object")))?;
    let mut p = current;
    for (k, val) in obj {
        let b = read_flag(val).ok_or_else(|| {
            CError(Error::bad_request(format!(
                "permission '{k}' must be \"true\" or \"false\""
            )))
        })?;
        match k.as_str() {
            "site_admin" => p.site_admin = b,
            "org_admin" => p.org_admin = b,
            "user_admin" => p.user_admin = b,
            _ => {
                return Err(CError(Error::bad_request(format!(
                    "unknown permission '{k}' (use site_admin, org_admin or user_admin)"
                ))))
            }
        }
    }
    if p != current && !who.site_admin() {
        return Err(forbidden("change permissions (site_admin only)"));
    }
    Ok(p)
}

fn object(body: Value) -> CResult<Map<String, Value>> {
    match body {
        Value::Object(m) => Ok(m),
        _ => Err(CError(Error::bad_request("the body must be a JSON object"))),
    }
}

pub async fn create_user(
    State(s): State<AppState>,
    who: ComplianceUser,
    Body(body): Body,
) -> CResult<Response> {
    if !(who.site_admin() || who.perms.user_admin) {
        return Err(forbidden("create users (user_admin or site_admin only)"));
    }
    let body = object(body)?;
    let login = str_field(&body, "login")?
        .ok_or_else(|| CError(Error::bad_request("'login' is required")))?;
    if !names::is_user_name(login) {
        return Err(CError(Error::bad_request(
            "'login' may only contain a-z, 0-9, _ and -",
        )));
    }
    let pass = str_field(&body, "password")?
        .ok_or_else(|| CError(Error::bad_request("'password' is required")))?;
    check_password(pass)?;
    let name = str_field(&body, "name")?.unwrap_or(login);
    let email = match str_field(&body, "email")? {
        Some(e) if names::is_email(e) => Some(e.to_lowercase()),
        Some(_) => {
            return Err(CError(Error::bad_request(
                "'email' is not an email address",
            )))
        }
        None => None,
    };
    let perms = permissions(&body, &who, Permissions::default())?;
    if s.store.user_by_name(login).await?.is_some() {
        return Err(CError(Error::conflict(format!("user '{login}' exists"))));
    }
    let ts = now();
    let row = UserRow {
        id: new_id(),
        username: login.into(),
        email,
        external_authentication_uid: None,
        recovery_authentication_enabled: false,
        password_hash: Some(password::hash(pass.to_string()).await?),
        superuser: false,
        serialized_object: json!({ "display_name": name }).to_string(),
        created_at: ts,
        updated_at: ts,
    };
    s.store
        .create_user(&row, None, Some(&who.user.id))
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => Error::conflict(format!("user '{login}' or its email exists")),
            other => other,
        })?;
    s.store.set_user_permissions(&row.id, perms).await?;
    Ok(Json(json!({ "id": row.id })).into_response())
}

pub async fn update_user(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path(key): Path<String>,
    Body(body): Body,
) -> CResult<Response> {
    let mut u = find_user(&s, &key).await?;
    let admin = who.site_admin() || who.perms.user_admin;
    if u.id != who.user.id && !admin {
        return Err(forbidden(
            "change other users (user_admin or site_admin only)",
        ));
    }
    let body = object(body)?;
    let current = s.store.user_permissions(&u.id).await?;
    let perms = permissions(&body, &who, current)?;
    let mut profile: Map<String, Value> =
        serde_json::from_str(&u.serialized_object).unwrap_or_default();
    if let Some(name) = str_field(&body, "name")? {
        profile.insert("display_name".into(), Value::String(name.into()));
    }
    let new_password = str_field(&body, "password")?;
    if let Some(p) = new_password {
        check_password(p)?;
        u.password_hash = Some(password::hash(p.to_string()).await?);
    }
    u.serialized_object = Value::Object(profile).to_string();
    u.updated_at = now();
    s.store.update_user(&u, None).await?;
    if perms != current {
        s.store.set_user_permissions(&u.id, perms).await?;
    }
    if new_password.is_some() {
        // A new password ends every login of the user but the one making the change.
        s.store.revoke_user_tokens_except(&u.id, &who.sid).await?;
    }
    Ok(StatusCode::OK.into_response())
}

pub async fn delete_user(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path(key): Path<String>,
) -> CResult<Response> {
    if !(who.site_admin() || who.perms.user_admin) {
        return Err(forbidden("delete users (user_admin or site_admin only)"));
    }
    let u = find_user(&s, &key).await?;
    if u.superuser {
        return Err(forbidden("delete the superuser"));
    }
    if u.id == who.user.id {
        return Err(CError(Error::bad_request("you cannot delete yourself")));
    }
    s.store.delete_user(&u.id).await?;
    Ok(StatusCode::OK.into_response())
}
