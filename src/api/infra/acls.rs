//! `_acl` endpoints: `GET …/_acl` shows an object's five ACEs with names, and
//! `PUT …/_acl/PERM` replaces one. Both need `grant` on the object. The object's type comes
//! from the matched route (`/organizations/{org}/nodes/{name}/_acl`, …). Groups outside
//! the org are named `ORG::group` (another org's) and `::group` (global ones).

use std::collections::HashMap;

use axum::extract::{MatchedPath, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Map, Value};

use super::{acl_members, reply};
use crate::api::JsonObject;
use crate::auth::extract::Org;
use crate::auth::{authz, Requestor};
use crate::error::{Error, Result};
use crate::state::AppState;
use crate::store::acls::PERMS;

/// The authorization id of the object a route names.
async fn target(
    s: &AppState,
    org: Option<&Org>,
    route: &str,
    params: &HashMap<String, String>,
) -> Result<String> {
    let name = params.get("name").cloned().unwrap_or_default();
    let Some(org) = org else {
        let user = params.get("user").cloned().unwrap_or_default();
        let u = s.store.user_by_name(&user).await?;
        return u.map(|u| u.id).ok_or_else(|| {
            Error::NotFound(crate::error::Message::Bare(format!(
                "Could not find user {user}"
            )))
        });
    };
    let kind = route.split('/').nth(3).unwrap_or_default();
    let org_id = &org.0.id;
    let found = match kind {
        "organizations" => Some(org_id.clone()),
        "nodes" | "roles" | "environments" => {
            let k = kind.trim_end_matches('s');
            s.store.object(org_id, k, "", &name).await?.map(|o| o.id)
        }
        "data" => s
            .store
            .object(org_id, "data_bag", "", &name)
            .await?
            .map(|o| o.id),
        "clients" => s.store.client_by_name(org_id, &name).await?.map(|c| c.id),
        "policies" | "policy_groups" | "cookbook_artifacts" | "cookbooks" => {
            let k = match kind {
                "policies" => "policy",
                "policy_groups" => "policy_group",
                "cookbooks" => "cookbook",
                _ => "cookbook_artifact",
            };
            s.store.object(org_id, k, "", &name).await?.map(|o| o.id)
        }
        "groups" | "containers" => s
            .store
            .named_entity(kind, org_id, &name)
            .await?
            .map(|g| g.id),
        _ => None,
    };
    found.ok_or_else(|| {
        Error::not_found(format!("Cannot load {} {name}", kind.trim_end_matches('s')))
    })
}

#[derive(serde::Deserialize)]
pub struct AclQuery {
    detail: Option<String>,
}

pub async fn show_acl(
    State(s): State<AppState>,
    who: Requestor,
    org: Option<Extension<Org>>,
    route: MatchedPath,
    Path(params): Path<HashMap<String, String>>,
    Query(q): Query<AclQuery>,
) -> Result<Response> {
    let id = target(&s, org.as_deref(), route.as_str(), &params).await?;
    authz::require(&s.store, &who, &id, "grant").await?;
    let granular = q.detail.as_deref() == Some("granular");
    let org_id = org.as_deref().map(|o| o.0.id.as_str());
    let rows = s.store.acl(&id, org_id).await?;
    let mut out = Map::new();
    for perm in PERMS {
        let names = |kinds: &[&str]| -> Vec<String> {
            rows.iter()
                .filter(|r| r.perm == perm && kinds.contains(&r.kind.as_str()))
                .map(|r| r.name.clone())
                .collect()
        };
        let ace = if granular {
            json!({ "actors": [], "users": names(&["user"]), "clients": names(&["client"]), "groups": names(&["group"]) })
        } else {
            json!({ "actors": names(&["user", "client"]), "groups": names(&["group"]) })
        };
        out.insert(perm.to_string(), ace);
    }
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

fn string_list(v: Option<&Value>, field: &str) -> Result<Option<Vec<String>>> {
    match v {
        None => Ok(None),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str().map(str::to_string).ok_or_else(|| {
                    Error::bad_request(format!("Field '{field}' is not a list of strings"))
                })
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(_) => Err(Error::bad_request(format!(
            "Field '{field}' is not a list of strings"
        ))),
    }
}

/// One ACE as sent: `actors`, or `users` + `clients` (with `actors` empty), and `groups`.
struct AceInput {
    actors: Vec<String>,
    users_clients: Option<(Vec<String>, Vec<String>)>,
    groups: Vec<String>,
}

fn parse_ace(body: &Map<String, Value>, perm: &str) -> Result<AceInput> {
    let ace = match body.get(perm) {
        Some(Value::Object(m)) if body.len() == 1 => m,
        _ => return Err(Error::bad_request(format!("Field '{perm}' missing"))),
    };
    let actors = string_list(ace.get("actors"), "actors")?
        .ok_or_else(|| Error::bad_request("Field 'actors' missing"))?;
    let groups = string_list(ace.get("groups"), "groups")?
        .ok_or_else(|| Error::bad_request("Field 'groups' missing"))?;
    let users = string_list(ace.get("users"), "users")?;
    let clients = string_list(ace.get("clients"), "clients")?;
    let users_clients = match (users, clients) {
        (None, None) => None,
        (Some(_), None) => return Err(Error::bad_request("You provided 'users' with your request. Including this field also requires that you provide 'clients'")),
        (None, Some(_)) => return Err(Error::bad_request("You provided 'clients' with your request. Including this field also requires that you provide 'users'")),
        (Some(_), Some(_)) if !actors.is_empty() => return Err(Error::bad_request("When providing 'users' and 'clients' fields, the 'actors' field must have a value of [].")),
        (Some(u), Some(c)) => Some((u, c)),
    };
    Ok(AceInput {
        actors,
        users_clients,
        groups,
    })
}

pub async fn update_ace(
    State(s): State<AppState>,
    who: Requestor,
    org: Option<Extension<Org>>,
    route: MatchedPath,
    Path(params): Path<HashMap<String, String>>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let perm = params.get("perm").cloned().unwrap_or_default();
    if !PERMS.contains(&perm.as_str()) {
        return Err(Error::not_found(format!("Unknown permission {perm}")));
    }
    let ace = parse_ace(&body, &perm)?;
    let id = target(&s, org.as_deref(), route.as_str(), &params).await?;
    let org_id = org.as_deref().map(|o| o.0.id.as_str());
    if perm == "grant" && !who.superuser && removes_admins(&s, &id, org_id, &ace).await? {
        return Err(Error::forbidden(
            "Admin group cannot be removed from the Grant ACE",
        ));
    }
    authz::require(&s.store, &who, &id, "grant").await?;
    let mut members = match &ace.users_clients {
        Some((users, clients)) => {
            acl_members::users_and_clients(&s, org_id, users, clients).await?
        }
        None => acl_members::actors(&s, org_id, &ace.actors).await?,
    };
    let mut missing_groups = Vec::new();
    for g in &ace.groups {
        match s.store.find_group(org_id, g).await? {
            Some(id) => members.push(("group".to_string(), id)),
            None => missing_groups.push(g.clone()),
        }
    }
    if !missing_groups.is_empty() {
        return Err(Error::bad_request(format!(
            "The group(s) {} do not exist in this organization.",
            acl_members::quoted(&missing_groups)
        )));
    }
    s.store.set_ace(&id, &perm, &members).await?;
    Ok(reply(StatusCode::OK, json!({})))
}

/// erchef's one ACL constraint: only the superuser may take `admins` out of a grant ACE
/// that has it.
async fn removes_admins(
    s: &AppState,
    target: &str,
    org_id: Option<&str>,
    ace: &AceInput,
) -> Result<bool> {
    let has_admins = s
        .store
        .acl(target, org_id)
        .await?
        .iter()
        .any(|r| r.perm == "grant" && r.kind == "group" && r.name == "admins");
    Ok(has_admins && !ace.groups.iter().any(|g| g == "admins"))
}
