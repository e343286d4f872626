//! API clients (`/clients`, `/clients/NAME`) and their keys (`/clients/NAME/keys[/KEY]`),
//! including the validator registration flow chef-client uses.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::documents::require_container;
use super::keys::{self as key_api, chef_key_json, KeyOwner};
use super::{created, reply};
use crate::api::{ApiVersion, BaseUrl, JsonObject};
use crate::auth::extract::Org;
use crate::auth::{authz, keygen, Requestor};
use crate::error::{Error, Result};
use crate::model::client;
use crate::model::key;
use crate::state::AppState;
use crate::store::clients::ClientRow;
use crate::store::keys::KeyRow;
use crate::store::{new_id, now};

fn client_url(base: &BaseUrl, org: &Org, name: &str) -> String {
    base.join(&format!("/organizations/{}/clients/{name}", org.0.name))
}

fn exists() -> Error {
    Error::conflict("Client already exists")
}

async fn load(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    name: &str,
    perm: &str,
) -> Result<ClientRow> {
    let c = s
        .store
        .client_by_name(&org.0.id, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("Cannot load client {name}")))?;
    authz::require(&s.store, who, &c.id, perm).await?;
    Ok(c)
}

async fn default_key(s: &AppState, c: &ClientRow, version: u8) -> Result<Option<String>> {
    if version > 0 {
        return Ok(None);
    }
    Ok(s.store
        .actor_key(&c.id, "default")
        .await?
        .map(|k| k.public_key))
}

pub async fn list_clients(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
) -> Result<Response> {
    require_container(&s, &who, &org, "clients", "read").await?;
    let out: Map<String, Value> = s
        .store
        .client_names(&org.0.id)
        .await?
        .into_iter()
        .map(|n| {
            let url = client_url(&base, &org, &n);
            (n, Value::String(url))
        })
        .collect();
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

/// Validators may create (non-validator) clients without an ACL entry, as erchef allows.
pub async fn create_client(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    ApiVersion(version): ApiVersion,
    base: BaseUrl,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let input = client::parse(&body, None)?;
    let wants_validator = input.validator.unwrap_or(false);
    if who.validator {
        if wants_validator {
            return Err(Error::missing_permission("create"));
        }
    } else {
        require_container(&s, &who, &org, "clients", "create").await?;
    }
    let key_request = key::creation_request(&body, version)?;
    if s.store
        .client_by_name(&org.0.id, &input.name)
        .await?
        .is_some()
    {
        return Err(exists());
    }
    let ts = now();
    let row = ClientRow {
        id: new_id(),
        org_id: org.0.id.clone(),
        name: input.name.clone(),
        validator: wants_validator,
        admin: input.admin.unwrap_or(false),
        created_at: ts,
        updated_at: ts,
    };
    let material = keygen::fulfil(&key_request).await?;
    let key_row = material
        .as_ref()
        .map(|(public, _)| KeyRow::default_key(&row.id, public, ts));
    let creator = (!who.validator && !who.superuser).then_some(who.id.as_str());
    s.store
        .create_client(&row, key_row.as_ref(), creator)
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => exists(),
            other => other,
        })?;
    let uri = client_url(&base, &org, &row.name);
    let mut out = json!({ "uri": uri });
    if let Some((public, private)) = material {
        if version == 0 {
            out["public_key"] = Value::String(public);
            if let Some(p) = private {
                out["private_key"] = Value::String(p);
            }
        } else {
            out["chef_key"] = chef_key_json(
                &format!("{uri}/keys/default"),
                "default",
                &public,
                None,
                private.as_deref(),
            );
        }
    }
    Ok(created(&uri, out))
}

pub async fn show_client(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    ApiVersion(version): ApiVersion,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    let c = load(&s, &who, &org, &name, "read").await?;
    let pk = default_key(&s, &c, version).await?;
    Ok(reply(
        StatusCode::OK,
        client::render(&c, &org.0.name, pk.as_deref()),
    ))
}

pub async fn update_client(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    ApiVersion(version): ApiVersion,
    base: BaseUrl,
    Path((_, name)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let existing = load(&s, &who, &org, &name, "update").await?;
    let input = client::parse(&body, Some(&name))?;
    // Unlike erchef, `update` on a client (which a client holds on itself) does not let it
    // raise its own privileges: only an org admin may turn `validator` or `admin` on.
    let raises = |new: Option<bool>, old: bool| new == Some(true) && !old;
    for (field, new, old) in [
        ("validator", input.validator, existing.validator),
        ("admin", input.admin, existing.admin),
    ] {
        if raises(new, old) && !authz::is_org_admin(&s.store, &who, &org.0.id).await? {
            return Err(Error::forbidden(format!(
                "Only an organization admin may set '{field}' to true on a client"
            )));
        }
    }
    // v0 takes `private_key` as a strict boolean: an explicit null is refused too.
    if version == 0 && body.get("private_key") == Some(&Value::Null) {
        return Err(Error::bad_request("Field 'private_key' invalid"));
    }
    let key_change = key::update_request(&body, version)?;
    let renamed = input.name != name;
    if renamed
        && s.store
            .client_by_name(&org.0.id, &input.name)
            .await?
            .is_some()
    {
        return Err(exists());
    }
    let ts = now();
    let row = ClientRow {
        name: input.name.clone(),
        validator: input.validator.unwrap_or(existing.validator),
        admin: input.admin.unwrap_or(existing.admin),
        updated_at: ts,
        ..existing
    };
    let material = match &key_change {
        Some(r) => keygen::fulfil(r).await?,
        None => None,
    };
    let key_row = material
        .as_ref()
        .map(|(public, _)| KeyRow::default_key(&row.id, public, ts));
    s.store.update_client(&row, &name, key_row.as_ref()).await?;
    // v0 echoes the key in force and whether a private key was generated (`false` if not).
    let mut out = client::render(&row, &org.0.name, None);
    if version == 0 {
        out["public_key"] = default_key(&s, &row, version).await?.into();
        out["private_key"] = Value::Bool(false);
    }
    if let Some((public, private)) = material {
        out["public_key"] = Value::String(public);
        if let Some(p) = private {
            out["private_key"] = Value::String(p);
        }
    }
    if renamed {
        return Ok(created(&client_url(&base, &org, &row.name), out));
    }
    Ok(reply(StatusCode::OK, out))
}

pub async fn delete_client(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    ApiVersion(version): ApiVersion,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    let c = load(&s, &who, &org, &name, "delete").await?;
    let pk = default_key(&s, &c, version).await?;
    s.store.delete_client(&c).await?;
    Ok(reply(
        StatusCode::OK,
        client::render(&c, &org.0.name, pk.as_deref()),
    ))
}

/// Key reads inside an org need membership of `public_key_read_access`; changes need
/// update on the client.
async fn key_owner(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    base: &BaseUrl,
    name: &str,
    write: bool,
) -> Result<KeyOwner> {
    let c = s
        .store
        .client_by_name(&org.0.id, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("Cannot load client {name}")))?;
    if write {
        authz::require(&s.store, who, &c.id, "update").await?;
    } else if !who.superuser
        && !s
            .store
            .in_group(&who.id, &org.0.id, "public_key_read_access")
            .await?
    {
        return Err(Error::missing_permission("read"));
    }
    Ok(KeyOwner {
        actor_id: c.id,
        name: c.name.clone(),
        uri: client_url(base, org, &c.name),
    })
}

pub async fn list_client_keys(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, c)): Path<(String, String)>,
) -> Result<Response> {
    let owner = key_owner(&s, &who, &org, &base, &c, false).await?;
    key_api::list_keys(&s, &owner).await
}

pub async fn create_client_key(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, c)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let owner = key_owner(&s, &who, &org, &base, &c, true).await?;
    key_api::create_key(&s, &owner, &body).await
}

pub async fn show_client_key(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, c, k)): Path<(String, String, String)>,
) -> Result<Response> {
    let owner = key_owner(&s, &who, &org, &base, &c, false).await?;
    key_api::show_key(&s, &owner, &k).await
}

pub async fn update_client_key(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, c, k)): Path<(String, String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let owner = key_owner(&s, &who, &org, &base, &c, true).await?;
    key_api::update_key(&s, &who, &owner, &k, &body).await
}

pub async fn delete_client_key(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, c, k)): Path<(String, String, String)>,
) -> Result<Response> {
    let owner = key_owner(&s, &who, &org, &base, &c, true).await?;
    key_api::delete_key(&s, &who, &owner, &k).await
}
