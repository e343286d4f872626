//! Routes that join environments with nodes and roles (`/environments/E/nodes`,
//! `/environments/E/roles/R`, `/roles/R/environments[/E]`) and `/principals/NAME`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::documents::{body_of, load, not_found, require_container};
use super::reply;
use crate::api::{ApiVersion, BaseUrl};
use crate::auth::extract::Org;
use crate::auth::Requestor;
use crate::error::{Error, Result};
use crate::model::objects::Kind;
use crate::state::AppState;

pub async fn environment_nodes(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, env)): Path<(String, String)>,
) -> Result<Response> {
    if s.store
        .object(&org.0.id, "environment", "", &env)
        .await?
        .is_none()
    {
        return Err(Error::not_found(format!("Cannot load environment '{env}'")));
    }
    require_container(&s, &who, &org, "nodes", "read").await?;
    let mut out = Map::new();
    for n in s.store.objects(&org.0.id, "node", "").await? {
        let body = body_of(&n)?;
        if body["chef_environment"].as_str() == Some(env.as_str()) {
            let url = base.join(&format!("/organizations/{}/nodes/{}", org.0.name, n.name));
            out.insert(n.name, Value::String(url));
        }
    }
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

/// The run list a role has in an environment: its own for `_default`, else the
/// environment's entry (or null).
async fn role_run_list(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    role: &str,
    env: &str,
) -> Result<Response> {
    let r = load(s, who, org, Kind::Role, role, "read").await?;
    if s.store
        .object(&org.0.id, "environment", "", env)
        .await?
        .is_none()
    {
        return Err(not_found(Kind::Environment, env));
    }
    let body = body_of(&r)?;
    let run_list = if env == "_default" {
        body["run_list"].clone()
    } else {
        body["env_run_lists"]
            .get(env)
            .cloned()
            .unwrap_or(Value::Null)
    };
    Ok(reply(StatusCode::OK, json!({ "run_list": run_list })))
}

pub async fn environment_role(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, env, role)): Path<(String, String, String)>,
) -> Result<Response> {
    role_run_list(&s, &who, &org, &role, &env).await
}

pub async fn role_environment(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, role, env)): Path<(String, String, String)>,
) -> Result<Response> {
    role_run_list(&s, &who, &org, &role, &env).await
}

pub async fn role_environments(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, role)): Path<(String, String)>,
) -> Result<Response> {
    let r = load(&s, &who, &org, Kind::Role, &role, "read").await?;
    let body = body_of(&r)?;
    let mut envs: Vec<String> = body["env_run_lists"]
        .as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default();
    if !envs.iter().any(|e| e == "_default") {
        envs.push("_default".into());
    }
    envs.sort();
    Ok(reply(StatusCode::OK, json!(envs)))
}

/// The actors named NAME in the org with their default keys; v0 shows the first alone.
/// Unsigned, as in erchef: public keys are public.
pub async fn show_principal(
    State(s): State<AppState>,
    ApiVersion(v): ApiVersion,
    Path((org_name, name)): Path<(String, String)>,
) -> Result<Response> {
    let Some(org) = s.store.org_by_name(&org_name).await? else {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            json!({ "not_found": "org", "error": format!("Cannot find org {org_name}") }),
        ));
    };
    let org = Org(std::sync::Arc::new(org));
    let mut found = Vec::new();
    if let Some(u) = s.store.user_by_name(&name).await? {
        let pk = s
            .store
            .actor_key(&u.id, "default")
            .await?
            .map(|k| k.public_key);
        let member = s.store.is_org_member(&org.0.id, &u.id).await?;
        found.push(json!({ "name": u.username, "public_key": pk, "type": "user", "authz_id": u.id, "org_member": member }));
    }
    if let Some(c) = s.store.client_by_name(&org.0.id, &name).await? {
        let pk = s
            .store
            .actor_key(&c.id, "default")
            .await?
            .map(|k| k.public_key);
        found.push(json!({ "name": c.name, "public_key": pk, "type": "client", "authz_id": c.id, "org_member": true }));
    }
    if found.is_empty() {
        return Ok(reply(
            StatusCode::NOT_FOUND,
            json!({ "not_found": "principal", "error": format!("Cannot find principal {name}") }),
        ));
    }
    Ok(reply(
        StatusCode::OK,
        if v == 0 {
            found.swap_remove(0)
        } else {
            json!({ "principals": found })
        },
    ))
}

/// `GET /nodes/N/_identifiers`: the node's ids, unsigned as in erchef (an internal route).
pub async fn node_identifiers(
    State(s): State<AppState>,
    Path((org_name, name)): Path<(String, String)>,
) -> Result<Response> {
    let org =
        s.store.org_by_name(&org_name).await?.ok_or_else(|| {
            Error::not_found(format!("organization '{org_name}' does not exist."))
        })?;
    let node = s
        .store
        .object(&org.id, "node", "", &name)
        .await?
        .ok_or_else(|| Error::not_found(format!("No such 'nodes': '{name}'.")))?;
    Ok(reply(
        StatusCode::OK,
        json!({ "id": node.id, "authz_id": node.id, "org_id": org.id }),
    ))
}

/// `required_recipe` is a disabled feature: 404 for every method, signed or not, which
/// chef-client (asking on every run) takes as "none".
pub async fn required_recipe() -> Error {
    Error::not_found("Required recipe is not enabled on this server.")
}
