//! The keys APIs (`/users/U/keys[/K]`; client keys reuse the same actions): list, add,
//! show, update, rename and delete an actor's named public keys.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::{created, reply};
use crate::api::{opt_bool, opt_str, BaseUrl, JsonObject};
use crate::auth::{authz, keygen, Requestor};
use crate::error::{Error, Message, Result};
use crate::model::key::{self, format_expiration, parse_expiration, KeyRequest};
use crate::model::names;
use crate::state::AppState;
use crate::store::keys::KeyRow;
use crate::store::now;

/// Whose keys a request addresses.
pub struct KeyOwner {
    pub actor_id: String,
    /// Name used in messages ("There is no key named K associated with OWNER.").
    pub name: String,
    /// Absolute URL of the owner (`…/users/U`), under which `/keys/K` lives.
    pub uri: String,
}

pub fn chef_key_json(
    uri: &str,
    name: &str,
    public: &str,
    expires: Option<chrono::DateTime<chrono::Utc>>,
    private: Option<&str>,
) -> Value {
    let mut v = json!({
        "uri": uri,
        "name": name,
        "public_key": public,
        "expiration_date": format_expiration(expires),
    });
    if let Some(p) = private {
        v["private_key"] = Value::String(p.to_string());
    }
    v
}

fn bare(status: fn(Message) -> Error, m: String) -> Error {
    status(Message::Bare(m))
}

fn no_such_key(owner: &KeyOwner, key: &str) -> Error {
    bare(
        Error::NotFound,
        format!(
            "There is no key named {key} associated with {}.",
            owner.name
        ),
    )
}

fn conflict(key: &str) -> Error {
    bare(
        Error::Conflict,
        format!("a key with the name '{key}' already exists for this actor."),
    )
}

fn in_use(who: &Requestor, owner: &KeyOwner, key: &str) -> Result<()> {
    if who.id == owner.actor_id && who.key_name == key {
        return Err(bare(
            Error::Forbidden,
            format!("The key '{key}' was used to authenticate this request and cannot be modified or deleted."),
        ));
    }
    Ok(())
}

fn key_name_field(body: &Map<String, Value>) -> Result<Option<String>> {
    match opt_str(body, "name")? {
        Some(n) if names::is_key_name(n) => Ok(Some(n.to_string())),
        Some(n) => Err(Error::bad_request(format!(
            "Field 'name' invalid : {n} does not match ^[-[:alnum:]_.:]+$"
        ))),
        None => Ok(None),
    }
}

/// `public_key` or `create_key: true`, never both, never `private_key`.
fn key_material(body: &Map<String, Value>, required: bool) -> Result<Option<KeyRequest>> {
    if body.contains_key("private_key") {
        return Err(Error::bad_request(
            "Please use create_key: true instead of private_key: true",
        ));
    }
    let public = opt_str(body, "public_key")?;
    let create = opt_bool(body, "create_key")?.unwrap_or(false);
    match (public, create) {
        (Some(_), true) => Err(Error::bad_request(
            "You must specify either create_key or public_key, but not both",
        )),
        (Some(pem), false) => {
            key::check_public_key(pem).map(|_| Some(KeyRequest::Provided(pem.to_string())))
        }
        (None, true) => Ok(Some(KeyRequest::Generate)),
        (None, false) if required => Err(Error::bad_request(
            "You must either provide a valid value for 'public_key', or specify 'create_key': true",
        )),
        (None, false) => Ok(None),
    }
}

pub async fn list_keys(state: &AppState, owner: &KeyOwner) -> Result<Response> {
    let t = now();
    let keys: Vec<Value> = state
        .store
        .actor_keys(&owner.actor_id)
        .await?
        .iter()
        .map(|k| json!({ "uri": format!("{}/keys/{}", owner.uri, k.name), "name": k.name, "expired": k.is_expired(t) }))
        .collect();
    Ok(reply(StatusCode::OK, Value::Array(keys)))
}

pub async fn create_key(
    state: &AppState,
    owner: &KeyOwner,
    body: &Map<String, Value>,
) -> Result<Response> {
    let name = key_name_field(body)?.ok_or_else(|| Error::bad_request("Field 'name' missing"))?;
    let material = key_material(body, true)?.expect("required key material");
    let expires = match opt_str(body, "expiration_date")? {
        Some(s) => parse_expiration(s)?,
        None => return Err(Error::bad_request("Field 'expiration_date' missing")),
    };
    if state
        .store
        .actor_key(&owner.actor_id, &name)
        .await?
        .is_some()
    {
        return Err(conflict(&name));
    }
    let (public, private) = keygen::fulfil(&material)
        .await?
        .expect("a key was asked for");
    let row = KeyRow {
        actor_id: owner.actor_id.clone(),
        name: name.clone(),
        public_key: public,
        expires_at: expires,
        created_at: now(),
    };
    state
        .store
        .create_key(&row)
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => conflict(&name),
            other => other,
        })?;
    let uri = format!("{}/keys/{}", owner.uri, name);
    let mut out = json!({ "uri": uri });
    if let Some(p) = private {
        out["private_key"] = Value::String(p);
    }
    Ok(created(&uri, out))
}

async fn load_key(state: &AppState, owner: &KeyOwner, name: &str) -> Result<KeyRow> {
    state
        .store
        .actor_key(&owner.actor_id, name)
        .await?
        .ok_or_else(|| no_such_key(owner, name))
}

fn key_json(k: &KeyRow) -> Value {
    json!({ "name": k.name, "public_key": k.public_key, "expiration_date": format_expiration(k.expires_at) })
}

pub async fn show_key(state: &AppState, owner: &KeyOwner, name: &str) -> Result<Response> {
    let k = load_key(state, owner, name).await?;
    Ok(reply(StatusCode::OK, key_json(&k)))
}

pub async fn update_key(
    state: &AppState,
    who: &Requestor,
    owner: &KeyOwner,
    name: &str,
    body: &Map<String, Value>,
) -> Result<Response> {
    let existing = load_key(state, owner, name).await?;
    in_use(who, owner, name)?;
    let new_name = key_name_field(body)?;
    let material = key_material(body, false)?;
    let expires = opt_str(body, "expiration_date")?
        .map(parse_expiration)
        .transpose()?;
    if new_name.is_none() && material.is_none() && expires.is_none() {
        return Err(bare(
            Error::BadRequest,
            "At least one of 'name', 'expiration_date', or 'public_key' must be specified".into(),
        ));
    }
    let renamed = new_name.as_ref().is_some_and(|n| n != name);
    if renamed
        && state
            .store
            .actor_key(&owner.actor_id, new_name.as_deref().unwrap_or_default())
            .await?
            .is_some()
    {
        return Err(conflict(new_name.as_deref().unwrap_or_default()));
    }
    let (public, private) = match &material {
        Some(m) => keygen::fulfil(m)
            .await?
            .unwrap_or((existing.public_key.clone(), None)),
        None => (existing.public_key.clone(), None),
    };
    let row = KeyRow {
        name: new_name.unwrap_or_else(|| existing.name.clone()),
        public_key: public,
        expires_at: expires.unwrap_or(existing.expires_at),
        ..existing
    };
    state.store.update_key(name, &row).await?;
    // erchef echoes the request (less `create_key`), plus the generated pair.
    let mut out = body.clone();
    out.remove("create_key");
    if let Some(p) = private {
        out.insert("public_key".into(), Value::String(row.public_key.clone()));
        out.insert("private_key".into(), Value::String(p));
    }
    Ok(if renamed {
        created(
            &format!("{}/keys/{}", owner.uri, row.name),
            Value::Object(out),
        )
    } else {
        reply(StatusCode::OK, Value::Object(out))
    })
}

pub async fn delete_key(
    state: &AppState,
    who: &Requestor,
    owner: &KeyOwner,
    name: &str,
) -> Result<Response> {
    let k = load_key(state, owner, name).await?;
    in_use(who, owner, name)?;
    state.store.delete_key(&owner.actor_id, name).await?;
    Ok(reply(StatusCode::OK, key_json(&k)))
}

/// Loads user `name` as a key owner, after checking `perm` on the user.
async fn user_owner(
    state: &AppState,
    who: &Requestor,
    base: &BaseUrl,
    name: &str,
    perm: &str,
) -> Result<KeyOwner> {
    let u = state
        .store
        .user_by_name(name)
        .await?
        .ok_or_else(|| bare(Error::NotFound, format!("Could not find user {name}")))?;
    authz::require(&state.store, who, &u.id, perm).await?;
    Ok(KeyOwner {
        actor_id: u.id,
        name: u.username.clone(),
        uri: base.join(&format!("/users/{}", u.username)),
    })
}

pub async fn list_user_keys(
    State(state): State<AppState>,
    who: Requestor,
    base: BaseUrl,
    Path(user): Path<String>,
) -> Result<Response> {
    let owner = user_owner(&state, &who, &base, &user, "read").await?;
    list_keys(&state, &owner).await
}

pub async fn create_user_key(
    State(state): State<AppState>,
    who: Requestor,
    base: BaseUrl,
    Path(user): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let owner = user_owner(&state, &who, &base, &user, "update").await?;
    create_key(&state, &owner, &body).await
}

pub async fn show_user_key(
    State(state): State<AppState>,
    who: Requestor,
    base: BaseUrl,
    Path((user, key)): Path<(String, String)>,
) -> Result<Response> {
    let owner = user_owner(&state, &who, &base, &user, "read").await?;
    show_key(&state, &owner, &key).await
}

pub async fn update_user_key(
    State(state): State<AppState>,
    who: Requestor,
    base: BaseUrl,
    Path((user, key)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let owner = user_owner(&state, &who, &base, &user, "update").await?;
    update_key(&state, &who, &owner, &key, &body).await
}

pub async fn delete_user_key(
    State(state): State<AppState>,
    who: Requestor,
    base: BaseUrl,
    Path((user, key)): Path<(String, String)>,
) -> Result<Response> {
    let owner = user_owner(&state, &who, &base, &user, "update").await?;
    delete_key(&state, &who, &owner, &key).await
}
