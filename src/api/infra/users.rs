//! Global users: `/users`, `/users/NAME`, `/users/NAME/organizations`, `/authenticate_user`.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::keys::chef_key_json;
use super::{created, reply};
use crate::api::{ApiVersion, BaseUrl, JsonObject};
use crate::auth::{authz, keygen, password, Requestor};
use crate::error::{Error, Message, Result};
use crate::model::key;
use crate::model::user;
use crate::state::AppState;
use crate::store::keys::KeyRow;
use crate::store::users::UserRow;
use crate::store::{new_id, now};

fn user_not_found(name: &str) -> Error {
    Error::NotFound(Message::Bare(format!("Could not find user {name}")))
}

fn in_use() -> Error {
    Error::conflict("Username or email address already in use.")
}

async fn load_user(state: &AppState, name: &str) -> Result<UserRow> {
    state
        .store
        .user_by_name(name)
        .await?
        .ok_or_else(|| user_not_found(name))
}

#[derive(Deserialize)]
pub struct ListQuery {
    email: Option<String>,
    external_authentication_uid: Option<String>,
    verbose: Option<String>,
}

pub async fn list_users(
    State(state): State<AppState>,
    who: Requestor,
    base: BaseUrl,
    Query(q): Query<ListQuery>,
) -> Result<Response> {
    authz::require_superuser(&who, "read")?;
    let verbose = q.verbose.as_deref() == Some("true");
    let mut out = Map::new();
    for u in state.store.list_users().await? {
        if q.email
            .as_ref()
            .is_some_and(|e| u.email.as_deref() != Some(&e.to_lowercase()))
        {
            continue;
        }
        if q.external_authentication_uid.is_some()
            && u.external_authentication_uid != q.external_authentication_uid
        {
            continue;
        }
        let value = if verbose {
            let p = user::stored_profile(&u);
            json!({
                "email": u.email,
                "first_name": p.get("first_name"),
                "last_name": p.get("last_name"),
                "display_name": p.get("display_name"),
            })
        } else {
            Value::String(base.join(&format!("/users/{}", u.username)))
        };
        out.insert(u.username, value);
    }
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

pub async fn create_user(
    State(state): State<AppState>,
    who: Requestor,
    ApiVersion(version): ApiVersion,
    base: BaseUrl,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    authz::require_superuser(&who, "create")?;
    let input = user::parse(&body, None)?;
    let key_request = key::creation_request(&body, version)?;
    if state.store.user_by_name(&input.username).await?.is_some() {
        return Err(in_use());
    }
    let password_hash = match input.password.clone() {
        Some(p) => Some(password::hash(p).await?),
        None => None,
    };
    let ts = now();
    let row = UserRow {
        id: new_id(),
        username: input.username.clone(),
        email: input.email.clone(),
        external_authentication_uid: input.external_authentication_uid.clone(),
        recovery_authentication_enabled: input.recovery_authentication_enabled.unwrap_or(false),
        password_hash,
        superuser: false,
        serialized_object: Value::Object(input.profile.clone()).to_string(),
        created_at: ts,
        updated_at: ts,
    };
    let material = keygen::fulfil(&key_request).await?;
    let key_row = material
        .as_ref()
        .map(|(public, _)| KeyRow::default_key(&row.id, public, ts));
    state
        .store
        .create_user(&row, key_row.as_ref(), Some(&who.id))
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => in_use(),
            other => other,
        })?;
    let uri = base.join(&format!("/users/{}", row.username));
    let mut out = json!({ "uri": uri });
    if let Some((public, private)) = material {
        if version == 0 {
            if let Some(p) = private {
                out["private_key"] = Value::String(p);
            }
        } else {
            let key_uri = format!("{uri}/keys/default");
            out["chef_key"] = chef_key_json(&key_uri, "default", &public, None, private.as_deref());
        }
    }
    Ok(created(&uri, out))
}

pub async fn show_user(
    State(state): State<AppState>,
    who: Requestor,
    ApiVersion(version): ApiVersion,
    Path(name): Path<String>,
) -> Result<Response> {
    let u = load_user(&state, &name).await?;
    authz::require(&state.store, &who, &u.id, "read").await?;
    let public_key = if version == 0 {
        state
            .store
            .actor_key(&u.id, "default")
            .await?
            .map(|k| k.public_key)
    } else {
        None
    };
    Ok(reply(
        StatusCode::OK,
        user::render(&u, public_key.as_deref()),
    ))
}

pub async fn update_user(
    State(state): State<AppState>,
    who: Requestor,
    ApiVersion(version): ApiVersion,
    base: BaseUrl,
    Path(name): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let existing = load_user(&state, &name).await?;
    authz::require(&state.store, &who, &existing.id, "update").await?;
    if (body.contains_key("external_authentication_uid")
        || body.contains_key("recovery_authentication_enabled"))
        && !who.superuser
    {
        return Err(Error::missing_permission("update"));
    }
    let input = user::parse(&body, Some(&existing))?;
    let key_change = key::update_request(&body, version)?;
    let renamed = input.username != existing.username;
    if renamed && state.store.user_by_name(&input.username).await?.is_some() {
        return Err(Error::conflict(format!(
            "User '{}' already exists",
            input.username
        )));
    }
    let password_hash = match input.password.clone() {
        Some(p) => Some(password::hash(p).await?),
        None => existing.password_hash.clone(),
    };
    let ts = now();
    let row = UserRow {
        username: input.username.clone(),
        email: input.email.clone(),
        external_authentication_uid: input.external_authentication_uid.clone(),
        recovery_authentication_enabled: input
            .recovery_authentication_enabled
            .unwrap_or(existing.recovery_authentication_enabled),
        password_hash,
        serialized_object: Value::Object(input.profile.clone()).to_string(),
        updated_at: ts,
        ..existing.clone()
    };
    let material = match &key_change {
        Some(req) => keygen::fulfil(req).await?,
        None => None,
    };
    let key_row = material
        .as_ref()
        .map(|(public, _)| KeyRow::default_key(&row.id, public, ts));
    state
        .store
        .update_user(&row, key_row.as_ref())
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => in_use(),
            other => other,
        })?;
    let uri = base.join(&format!("/users/{}", row.username));
    let mut out = json!({ "uri": uri });
    if let Some((_, Some(private))) = material {
        out["private_key"] = Value::String(private);
    }
    Ok(if renamed {
        created(&uri, out)
    } else {
        reply(StatusCode::OK, out)
    })
}

pub async fn delete_user(
    State(state): State<AppState>,
    who: Requestor,
    ApiVersion(version): ApiVersion,
    Path(name): Path<String>,
) -> Result<Response> {
    let u = load_user(&state, &name).await?;
    authz::require(&state.store, &who, &u.id, "delete").await?;
    let public_key = if version == 0 {
        state
            .store
            .actor_key(&u.id, "default")
            .await?
            .map(|k| k.public_key)
    } else {
        None
    };
    state.store.delete_user(&u.id).await?;
    Ok(reply(
        StatusCode::OK,
        user::render(&u, public_key.as_deref()),
    ))
}

pub async fn list_user_orgs(
    State(state): State<AppState>,
    who: Requestor,
    Path(name): Path<String>,
) -> Result<Response> {
    let u = load_user(&state, &name).await?;
    authz::require(&state.store, &who, &u.id, "read").await?;
    let mut out = Vec::new();
    for org_name in state.store.user_org_names(&u.id).await? {
        if let Some(org) = state.store.org_by_name(&org_name).await? {
            out.push(json!({ "organization": super::organizations::render(&org) }));
        }
    }
    Ok(reply(StatusCode::OK, Value::Array(out)))
}

/// The `/authenticate_user` body: `(username, password)`, both non-blank strings.
fn authenticate_body(body: &[u8]) -> Result<(String, String)> {
    let body: Map<String, Value> = match serde_json::from_slice::<Value>(body) {
        _ if body.iter().all(u8::is_ascii_whitespace) => {
            return Err(Error::bad_request("invalid user authentication request"))
        }
        Ok(Value::Object(m)) => m,
        Ok(_) => return Err(Error::bad_request("invalid user authentication request")),
        Err(_) => return Err(Error::bad_request("invalid JSON")),
    };
    let field = |name: &str| -> Result<String> {
        match body.get(name) {
            None => Err(Error::bad_request(format!("Field '{name}' missing"))),
            Some(Value::String(v)) if !v.trim().is_empty() => Ok(v.clone()),
            Some(_) => Err(Error::bad_request(format!("Field '{name}' invalid"))),
        }
    };
    let pass = field("password")?;
    Ok((field("username")?, pass))
}

/// Checked before the signature, as erchef does: a malformed body is a 400 for anyone.
pub fn check_authenticate_body(body: &[u8]) -> Result<()> {
    authenticate_body(body).map(drop)
}

/// Password check for other services (chef-manage): superuser only, never for the
/// superuser itself. An unknown user and a wrong password answer alike.
pub async fn authenticate_user(
    State(state): State<AppState>,
    who: Requestor,
    body: bytes::Bytes,
) -> Result<Response> {
    let (name, pass) = authenticate_body(&body)?;
    authz::require_superuser(&who, "create")?;
    let failed = || Error::unauthorized("Failed to authenticate: Username and password incorrect");
    let Some(u) = state.store.user_by_name(&name).await? else {
        return Err(failed());
    };
    if u.superuser {
        return Err(Error::missing_permission("create"));
    }
    let Some(hash) = u.password_hash.clone() else {
        return Err(failed());
    };
    if !password::verify(pass, hash).await {
        return Err(failed());
    }
    Ok(reply(
        StatusCode::OK,
        json!({ "status": "linked", "user": user::render(&u, None) }),
    ))
}
