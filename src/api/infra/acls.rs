//! `_acl` endpoints: `GET …/_acl` shows an object's five ACEs with names, and
//! `PUT …/_acl/PERM` replaces one. Both need `grant` on the object. The object's type comes
//! from the matched route (`/organizations/{org}/nodes/{name}/_acl`, …).

use std::collections::HashMap;

use axum::extract::{MatchedPath, Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Map, Value};

use super::reply;
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
    let rows = s.store.acl(&id).await?;
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

fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
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
    let id = target(&s, org.as_deref(), route.as_str(), &params).await?;
    authz::require(&s.store, &who, &id, "grant").await?;
    let ace = match body.get(&perm) {
        Some(Value::Object(m)) if body.len() == 1 => m.clone(),
        _ => return Err(Error::bad_request(format!("Field '{perm}' missing"))),
    };
    let actors = string_list(ace.get("actors"), "actors")?
        .ok_or_else(|| Error::bad_request("Field 'actors' missing"))?;
    let groups = string_list(ace.get("groups"), "groups")?
        .ok_or_else(|| Error::bad_request("Field 'groups' missing"))?;
    let users = string_list(ace.get("users"), "users")?;
    let clients = string_list(ace.get("clients"), "clients")?;
    let mut members = Vec::new();
    let mut missing = Vec::new();
    let mut ambiguous = Vec::new();
    let org_id = org.as_deref().map(|o| o.0.id.clone());
    match (users, clients) {
        (Some(users), Some(clients)) => {
            if !actors.is_empty() {
                return Err(Error::bad_request("When providing 'users' and 'clients' fields, the 'actors' field must have a value of []."));
            }
            for u in users {
                match resolve_user(&s, org_id.as_deref(), &u).await? {
                    Some(id) => members.push(("actor".to_string(), id)),
                    None => missing.push(u),
                }
            }
            for c in clients {
                match org_id.as_deref() {
                    Some(o) => match s.store.client_by_name(o, &c).await? {
                        Some(cl) => members.push(("actor".to_string(), cl.id)),
                        None => missing.push(c),
                    },
                    None => missing.push(c),
                }
            }
        }
        (Some(_), None) => return Err(Error::bad_request("You provided 'users' with your request. Including this field also requires that you provide 'clients'")),
        (None, Some(_)) => return Err(Error::bad_request("You provided 'clients' with your request. Including this field also requires that you provide 'users'")),
        (None, None) => {
            for a in actors {
                let user = resolve_user(&s, org_id.as_deref(), &a).await?;
                let client = match org_id.as_deref() {
                    Some(o) => s.store.client_by_name(o, &a).await?.map(|c| c.id),
                    None => None,
                };
                match (user, client) {
                    (Some(_), Some(_)) => ambiguous.push(a),
                    (Some(id), None) | (None, Some(id)) => members.push(("actor".to_string(), id)),
                    (None, None) => missing.push(a),
                }
            }
        }
    }
    if !missing.is_empty() {
        return Err(Error::bad_request(format!(
            "The actor(s) {} do not exist in this organization as clients or users.",
            quoted(&missing)
        )));
    }
    if !ambiguous.is_empty() {
        return Err(Error::Unprocessable(format!("The following actor(s) exist as both clients and users within this organization: {}. To perform this update, supply separate 'clients' and 'users' fields in your request, and use an empty array for the value of 'actors'.", quoted(&ambiguous))));
    }
    let mut missing_groups = Vec::new();
    for g in groups {
        let found = match org_id.as_deref() {
            Some(o) => s.store.named_entity("groups", o, &g).await?,
            None => None,
        };
        match found {
            Some(n) => members.push(("group".to_string(), n.id)),
            None => missing_groups.push(g),
        }
    }
    if !missing_groups.is_empty() {
        return Err(Error::bad_request(format!(
            "The group(s) {} do not exist in this organization.",
            quoted(&missing_groups)
        )));
    }
    s.store.set_ace(&id, &perm, &members).await?;
    Ok(reply(StatusCode::OK, json!({})))
}

/// Users in an ACE must belong to the org (any user, for a user's own ACL); the
/// superuser, which org creation puts in every ACL, always resolves.
async fn resolve_user(s: &AppState, org_id: Option<&str>, name: &str) -> Result<Option<String>> {
    if let Some(o) = org_id {
        if let Some(id) = s.store.org_actor_ids(o, name).await?.0 {
            return Ok(Some(id));
        }
    }
    Ok(s.store
        .user_by_name(name)
        .await?
        .filter(|u| org_id.is_none() || u.superuser)
        .map(|u| u.id))
}
