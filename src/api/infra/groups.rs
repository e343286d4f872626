//! Groups (`/groups[/NAME]`) and containers (`/containers[/NAME]`). Group bodies take
//! members nested under `actors` and show them flat.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::documents::require_container;
use super::{created, reply};
use crate::api::{opt_str, BaseUrl, JsonObject};
use crate::auth::extract::Org;
use crate::auth::{authz, Requestor};
use crate::error::{Error, Result};
use crate::model::names;
use crate::state::AppState;
use crate::store::groups::Named;

fn url(base: &BaseUrl, org: &Org, table: &str, name: &str) -> String {
    base.join(&format!("/organizations/{}/{table}/{name}", org.0.name))
}

async fn load(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    table: &str,
    name: &str,
    perm: &str,
) -> Result<Named> {
    let kind = table.trim_end_matches('s');
    let n = s
        .store
        .named_entity(table, &org.0.id, name)
        .await?
        .ok_or_else(|| Error::not_found(format!("Cannot load {kind} {name}")))?;
    authz::require(&s.store, who, &n.id, perm).await?;
    Ok(n)
}

async fn list(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    base: &BaseUrl,
    table: &str,
) -> Result<Response> {
    require_container(s, who, org, table, "read").await?;
    let out: Map<String, Value> = s
        .store
        .named_entities(table, &org.0.id)
        .await?
        .into_iter()
        .map(|n| {
            let u = url(base, org, table, &n.name);
            (n.name, Value::String(u))
        })
        .collect();
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

async fn create(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    base: &BaseUrl,
    table: &str,
    name: Option<&str>,
) -> Result<Response> {
    require_container(s, who, org, table, "create").await?;
    let kind = table.trim_end_matches('s');
    let name = name.ok_or_else(|| Error::bad_request(format!("Field '{kind}name' missing")))?;
    if !names::is_user_name(name) {
        return Err(Error::bad_request(format!("Invalid {kind} name.")));
    }
    let exists = || {
        Error::conflict(format!(
            "{}{} already exists",
            kind[..1].to_uppercase(),
            &kind[1..]
        ))
    };
    if s.store
        .named_entity(table, &org.0.id, name)
        .await?
        .is_some()
    {
        return Err(exists());
    }
    s.store
        .create_named_entity(table, &org.0.id, name, table, &who.id)
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => exists(),
            other => other,
        })?;
    let uri = url(base, org, table, name);
    Ok(created(&uri, json!({ "uri": uri })))
}

pub async fn list_groups(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
) -> Result<Response> {
    list(&s, &who, &org, &base, "groups").await
}

pub async fn create_group(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    JsonObject(b): JsonObject,
) -> Result<Response> {
    let name = opt_str(&b, "id")?.or(opt_str(&b, "groupname")?);
    create(&s, &who, &org, &base, "groups", name).await
}

async fn group_json(s: &AppState, org: &Org, g: &Named) -> Result<Value> {
    let members = s.store.group_members(&g.id, &org.0.id).await?;
    let of = |k: &str| -> Vec<String> {
        members
            .iter()
            .filter(|m| m.kind == k)
            .map(|m| m.name.clone())
            .collect()
    };
    let (users, clients, groups) = (of("user"), of("client"), of("group"));
    let actors: Vec<String> = clients.iter().chain(users.iter()).cloned().collect();
    Ok(
        json!({ "actors": actors, "users": users, "clients": clients, "groups": groups, "orgname": org.0.name, "name": g.name, "groupname": g.name }),
    )
}

pub async fn show_group(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    let g = load(&s, &who, &org, "groups", &name, "read").await?;
    Ok(reply(StatusCode::OK, group_json(&s, &org, &g).await?))
}

fn names_in(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|x| x.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Replaces members from `{"actors": {"users": [...], "clients": [...], "groups": [...]}}`
/// (a flat `actors` list is taken as users or clients), and renames with `groupname`.
pub async fn update_group(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, name)): Path<(String, String)>,
    JsonObject(b): JsonObject,
) -> Result<Response> {
    let g = load(&s, &who, &org, "groups", &name, "update").await?;
    let new_name = opt_str(&b, "groupname")?.unwrap_or(&name).to_string();
    if !names::is_user_name(&new_name) {
        return Err(Error::bad_request("Invalid group name."));
    }
    let (users, clients, groups, actors) = match b.get("actors") {
        Some(Value::Object(a)) => (
            names_in(a.get("users")),
            names_in(a.get("clients")),
            names_in(a.get("groups")),
            vec![],
        ),
        Some(v @ Value::Array(_)) => (vec![], vec![], names_in(b.get("groups")), names_in(Some(v))),
        _ => (
            names_in(b.get("users")),
            names_in(b.get("clients")),
            names_in(b.get("groups")),
            vec![],
        ),
    };
    // Names that resolve to nothing are dropped, as erchef does: clients such as pedant's
    // group helper send a group read back with `actors` (users and clients) as `users`.
    let mut members = Vec::new();
    let mut missing = Vec::new();
    // Users are global (erchef looks them up by name alone): the org's creator, the
    // superuser, is in `admins` without being a member of the org.
    for u in users {
        match s.store.user_by_name(&u).await? {
            Some(user) => members.push(("user".to_string(), user.id)),
            None => missing.push(u),
        }
    }
    for c in clients {
        match s.store.client_by_name(&org.0.id, &c).await? {
            Some(cl) => members.push(("client".to_string(), cl.id)),
            None => missing.push(c),
        }
    }
    for a in actors {
        if let Some(user) = s.store.user_by_name(&a).await? {
            members.push(("user".to_string(), user.id));
        } else if let Some(client) = s.store.client_by_name(&org.0.id, &a).await? {
            members.push(("client".to_string(), client.id));
        } else {
            missing.push(a);
        }
    }
    for gname in groups {
        match s.store.find_group(Some(&org.0.id), &gname).await? {
            Some(id) => members.push(("group".to_string(), id)),
            None => missing.push(gname),
        }
    }
    if !missing.is_empty() {
        tracing::debug!(group = %name, missing = ?missing, "group update: unknown members dropped");
    }
    let renamed = new_name != name;
    if renamed
        && s.store
            .named_entity("groups", &org.0.id, &new_name)
            .await?
            .is_some()
    {
        return Err(Error::Conflict(crate::error::Message::Bare(
            "Group already exists".into(),
        )));
    }
    s.store.save_group(&g.id, &new_name, &members).await?;
    let saved = Named {
        id: g.id,
        name: new_name.clone(),
    };
    let body = group_json(&s, &org, &saved).await?;
    if renamed {
        return Ok(created(&url(&base, &org, "groups", &new_name), body));
    }
    Ok(reply(StatusCode::OK, body))
}

pub async fn delete_group(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    let g = load(&s, &who, &org, "groups", &name, "delete").await?;
    let body = group_json(&s, &org, &g).await?;
    s.store.delete_named_entity("groups", &g.id).await?;
    Ok(reply(StatusCode::OK, body))
}

pub async fn list_containers(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
) -> Result<Response> {
    list(&s, &who, &org, &base, "containers").await
}

pub async fn create_container(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    JsonObject(b): JsonObject,
) -> Result<Response> {
    let name = opt_str(&b, "id")?.or(opt_str(&b, "containername")?);
    create(&s, &who, &org, &base, "containers", name).await
}

pub async fn show_container(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    let c = load(&s, &who, &org, "containers", &name, "read").await?;
    Ok(reply(
        StatusCode::OK,
        json!({ "containername": c.name, "containerpath": c.name }),
    ))
}

pub async fn delete_container(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    let c = load(&s, &who, &org, "containers", &name, "delete").await?;
    s.store.delete_named_entity("containers", &c.id).await?;
    Ok(reply(
        StatusCode::OK,
        json!({ "containername": c.name, "containerpath": c.name }),
    ))
}
