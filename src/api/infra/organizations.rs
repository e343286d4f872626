//! `/organizations` and `/organizations/NAME`: list, create (with the validator client, the
//! default groups, containers, ACLs and `_default` environment), show, update, delete.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::{created, reply};
use crate::api::{opt_str, BaseUrl, JsonObject};
use crate::auth::{authz, Requestor};
use crate::error::{Error, Result};
use crate::model::names;
use crate::state::AppState;
use crate::store::now;
use crate::store::orgs::OrgRow;

pub fn render(org: &OrgRow) -> Value {
    json!({ "name": org.name, "full_name": org.full_name, "guid": org.id })
}

fn validate(body: &Map<String, Value>) -> Result<(String, String)> {
    let name = opt_str(body, "name")?.ok_or_else(|| Error::bad_request("Field 'name' missing"))?;
    if !names::is_org_name(name) {
        return Err(Error::bad_request("Field 'name' invalid"));
    }
    let full_name = opt_str(body, "full_name")?
        .ok_or_else(|| Error::bad_request("Field 'full_name' missing"))?;
    if !names::is_org_full_name(full_name) {
        return Err(Error::bad_request("Field 'full_name' invalid"));
    }
    Ok((name.to_string(), full_name.to_string()))
}

pub async fn list_orgs(
    State(state): State<AppState>,
    who: Requestor,
    base: BaseUrl,
) -> Result<Response> {
    authz::require_superuser(&who, "read")?;
    let out: Map<String, Value> = state
        .store
        .list_orgs()
        .await?
        .into_iter()
        .map(|o| {
            let url = base.join(&format!("/organizations/{}", o.name));
            (o.name, Value::String(url))
        })
        .collect();
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

pub async fn create_org(
    State(state): State<AppState>,
    who: Requestor,
    base: BaseUrl,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    authz::require_superuser(&who, "create")?;
    let (name, full_name) = validate(&body)?;
    if state.store.org_by_name(&name).await?.is_some() {
        return Err(crate::ops::org_exists());
    }
    let (org, private_key) =
        crate::ops::create_org(&state.store, &name, &full_name, &who.id, who.superuser).await?;
    let uri = base.join(&format!("/organizations/{}", org.name));
    let body = json!({ "uri": uri, "clientname": format!("{}-validator", org.name), "private_key": private_key });
    Ok(created(&uri, body))
}

async fn load_org(state: &AppState, name: &str) -> Result<OrgRow> {
    state
        .store
        .org_by_name(name)
        .await?
        .ok_or_else(|| Error::not_found(format!("organization '{name}' does not exist.")))
}

/// Users must belong to the org to see it (the superuser excepted).
async fn authorize(state: &AppState, who: &Requestor, org: &OrgRow, perm: &str) -> Result<()> {
    if who.is_user() && !who.superuser && !state.store.is_org_member(&org.id, &who.id).await? {
        return Err(Error::forbidden(format!(
            "'{}' not associated with organization '{}'",
            who.name, org.name
        )));
    }
    authz::require(&state.store, who, &org.id, perm).await
}

pub async fn show_org(
    State(state): State<AppState>,
    who: Requestor,
    Path(name): Path<String>,
) -> Result<Response> {
    let org = load_org(&state, &name).await?;
    authorize(&state, &who, &org, "read").await?;
    Ok(reply(StatusCode::OK, render(&org)))
}

pub async fn update_org(
    State(state): State<AppState>,
    who: Requestor,
    Path(name): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let mut org = load_org(&state, &name).await?;
    authorize(&state, &who, &org, "update").await?;
    if body.contains_key("private_key") {
        return Err(Error::bad_request(
            "Field 'private_key' is not supported: organization keys are not updated by PUT",
        ));
    }
    match opt_str(&body, "name")? {
        Some(n) if n == org.name => {}
        Some(_) => return Err(Error::bad_request("Field 'name' invalid")),
        None => return Err(Error::bad_request("Field 'name' missing")),
    }
    match opt_str(&body, "full_name")? {
        Some(f) if names::is_org_full_name(f) => org.full_name = f.to_string(),
        Some(_) => return Err(Error::bad_request("Field 'full_name' invalid")),
        None => return Err(Error::bad_request("Field 'full_name' missing")),
    }
    org.updated_at = now();
    state.store.update_org(&org).await?;
    // erchef echoes the request body (with the stored name and full name).
    let mut out = body;
    out.insert("name".into(), Value::String(org.name.clone()));
    out.insert("full_name".into(), Value::String(org.full_name.clone()));
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

pub async fn delete_org(
    State(state): State<AppState>,
    who: Requestor,
    Path(name): Path<String>,
) -> Result<Response> {
    let org = load_org(&state, &name).await?;
    authorize(&state, &who, &org, "delete").await?;
    state.store.delete_org(&org.id).await?;
    Ok(reply(StatusCode::OK, render(&org)))
}
