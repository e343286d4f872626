//! Nodes, roles and environments share one lifecycle: list and create under the org's
//! container, show/update/delete under the object's own ACL, with erchef's per-type
//! messages. Environment- and role-specific routes live in `environments.rs`.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::{created, created_text, reply, reply_text};
use crate::api::{off_async, BaseUrl, JsonObject};
use crate::auth::extract::Org;
use crate::auth::{authz, Requestor};
use crate::error::{Error, Result};
use crate::model::objects::{self, Kind};
use crate::state::AppState;
use crate::store::objects::{ObjectRow, SearchChange};
use crate::store::{new_id, now};

/// The URL segment and container of a kind (they coincide for these three).
pub fn segment(kind: Kind) -> &'static str {
    match kind {
        Kind::Node => "nodes",
        Kind::Role => "roles",
        Kind::Environment => "environments",
    }
}

pub fn not_found(kind: Kind, name: &str) -> Error {
    match kind {
        Kind::Node => Error::not_found(format!("node '{name}' not found")),
        Kind::Role => Error::not_found(format!("Cannot load role {name}")),
        Kind::Environment => Error::not_found(format!("Cannot load environment {name}")),
    }
}

fn conflict(kind: Kind) -> Error {
    Error::conflict(format!("{} already exists", kind.title()))
}

fn default_env_immutable() -> Error {
    Error::MethodNotAllowedWith("The '_default' environment cannot be modified.".into())
}

pub fn change(kind: Kind, name: &str, deleted: bool) -> SearchChange {
    SearchChange {
        index: kind.as_str().into(),
        item: name.into(),
        deleted,
    }
}

/// Loads a document, then checks `perm` on it (404 before 403, as erchef).
pub async fn load(
    state: &AppState,
    who: &Requestor,
    org: &Org,
    kind: Kind,
    name: &str,
    perm: &str,
) -> Result<ObjectRow> {
    let row = state
        .store
        .object(&org.0.id, kind.as_str(), "", name)
        .await?
        .ok_or_else(|| not_found(kind, name))?;
    authz::require(&state.store, who, &row.id, perm).await?;
    Ok(row)
}

pub fn body_of(row: &ObjectRow) -> Result<Value> {
    serde_json::from_str(&row.body).map_err(|e| Error::Internal(e.into()))
}

pub async fn require_container(
    state: &AppState,
    who: &Requestor,
    org: &Org,
    container: &str,
    perm: &str,
) -> Result<()> {
    let id = state
        .store
        .container_id(&org.0.id, container)
        .await?
        .ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "org {} has no {container} container",
                org.0.name
            ))
        })?;
    authz::require(&state.store, who, &id, perm).await
}

pub async fn list(
    state: &AppState,
    who: &Requestor,
    org: &Org,
    base: &BaseUrl,
    kind: Kind,
) -> Result<Response> {
    require_container(state, who, org, segment(kind), "read").await?;
    let names = state
        .store
        .object_names(&org.0.id, kind.as_str(), "")
        .await?;
    let out: Map<String, Value> = names
        .into_iter()
        .map(|n| {
            let url = base.join(&format!(
                "/organizations/{}/{}/{n}",
                org.0.name,
                segment(kind)
            ));
            (n, Value::String(url))
        })
        .collect();
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

pub async fn create(
    state: &AppState,
    who: &Requestor,
    org: &Org,
    base: &BaseUrl,
    kind: Kind,
    body: Map<String, Value>,
) -> Result<Response> {
    require_container(state, who, org, segment(kind), "create").await?;
    let (body, text) = validated(state, kind, body, None).await?;
    let name = body["name"].as_str().unwrap_or_default().to_string();
    if state
        .store
        .object(&org.0.id, kind.as_str(), "", &name)
        .await?
        .is_some()
    {
        return Err(conflict(kind));
    }
    let ts = now();
    let row = ObjectRow {
        id: new_id(),
        org_id: org.0.id.clone(),
        kind: kind.as_str().into(),
        bag: String::new(),
        name: name.clone(),
        body: text,
        created_at: ts,
        updated_at: ts,
    };
    state
        .store
        .create_object(
            &row,
            segment(kind),
            &who.id,
            Some(&change(kind, &name, false)),
        )
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => conflict(kind),
            other => other,
        })?;
    let uri = base.join(&format!(
        "/organizations/{}/{}/{name}",
        org.0.name,
        segment(kind)
    ));
    Ok(created(&uri, json!({ "uri": uri })))
}

pub async fn show(
    state: &AppState,
    who: &Requestor,
    org: &Org,
    kind: Kind,
    name: &str,
) -> Result<Response> {
    let row = load(state, who, org, kind, name, "read").await?;
    // Stored as validated: answered as it is, without parsing it again.
    Ok(reply_text(StatusCode::OK, row.body))
}

/// PUT: nodes and roles keep their name; environments may be renamed (201).
pub async fn update(
    state: &AppState,
    who: &Requestor,
    org: &Org,
    base: &BaseUrl,
    kind: Kind,
    name: &str,
    body: Map<String, Value>,
) -> Result<Response> {
    if kind == Kind::Environment && name == "_default" {
        return Err(default_env_immutable());
    }
    let row = load(state, who, org, kind, name, "update").await?;
    let url_name = (kind != Kind::Environment).then(|| name.to_string());
    let (body, text) = validated(state, kind, body, url_name).await?;
    let new_name = body["name"].as_str().unwrap_or(name).to_string();
    let renamed = new_name != name;
    if renamed
        && state
            .store
            .object(&org.0.id, kind.as_str(), "", &new_name)
            .await?
            .is_some()
    {
        return Err(conflict(kind));
    }
    let mut changes = vec![change(kind, &new_name, false)];
    if renamed {
        changes.push(change(kind, name, true));
    }
    let updated = ObjectRow {
        name: new_name.clone(),
        body: text.clone(),
        updated_at: now(),
        ..row
    };
    state.store.update_object(&updated, &changes).await?;
    if renamed {
        let uri = base.join(&format!(
            "/organizations/{}/{}/{new_name}",
            org.0.name,
            segment(kind)
        ));
        return Ok(created_text(&uri, text));
    }
    Ok(reply_text(StatusCode::OK, text))
}

/// Validates and serialises a body on a blocking thread: a body may be megabytes.
async fn validated(
    state: &AppState,
    kind: Kind,
    body: Map<String, Value>,
    url_name: Option<String>,
) -> Result<(Map<String, Value>, String)> {
    let max_run_list = state.config.limits.max_run_list_items;
    off_async(move || {
        let body = objects::validate(kind, body, url_name.as_deref(), max_run_list)?;
        let text = serde_json::to_string(&body).map_err(|e| Error::Internal(e.into()))?;
        Ok((body, text))
    })
    .await
}

pub async fn delete(
    state: &AppState,
    who: &Requestor,
    org: &Org,
    kind: Kind,
    name: &str,
) -> Result<Response> {
    if kind == Kind::Environment && name == "_default" {
        return Err(default_env_immutable());
    }
    let row = load(state, who, org, kind, name, "delete").await?;
    state
        .store
        .delete_objects(
            &org.0.id,
            std::slice::from_ref(&row.id),
            &[change(kind, name, true)],
        )
        .await?;
    Ok(reply_text(StatusCode::OK, row.body))
}

/// Generates the five handlers of one kind.
macro_rules! document_routes {
    ($kind:expr, $list:ident, $create:ident, $show:ident, $update:ident, $delete:ident) => {
        pub async fn $list(
            State(s): State<AppState>,
            who: Requestor,
            org: Org,
            base: BaseUrl,
        ) -> Result<Response> {
            list(&s, &who, &org, &base, $kind).await
        }
        pub async fn $create(
            State(s): State<AppState>,
            who: Requestor,
            org: Org,
            base: BaseUrl,
            JsonObject(b): JsonObject,
        ) -> Result<Response> {
            create(&s, &who, &org, &base, $kind, b).await
        }
        pub async fn $show(
            State(s): State<AppState>,
            who: Requestor,
            org: Org,
            Path((_, n)): Path<(String, String)>,
        ) -> Result<Response> {
            show(&s, &who, &org, $kind, &n).await
        }
        pub async fn $update(
            State(s): State<AppState>,
            who: Requestor,
            org: Org,
            base: BaseUrl,
            Path((_, n)): Path<(String, String)>,
            JsonObject(b): JsonObject,
        ) -> Result<Response> {
            update(&s, &who, &org, &base, $kind, &n, b).await
        }
        pub async fn $delete(
            State(s): State<AppState>,
            who: Requestor,
            org: Org,
            Path((_, n)): Path<(String, String)>,
        ) -> Result<Response> {
            delete(&s, &who, &org, $kind, &n).await
        }
    };
}

document_routes!(
    Kind::Node,
    list_nodes,
    create_node,
    show_node,
    update_node,
    delete_node
);
document_routes!(
    Kind::Role,
    list_roles,
    create_role,
    show_role,
    update_role,
    delete_role
);
document_routes!(
    Kind::Environment,
    list_environments,
    create_environment,
    show_environment,
    update_environment,
    delete_environment
);

/// HEAD on a node: 200 or 404 without a body.
pub async fn head_node(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, n)): Path<(String, String)>,
) -> Result<StatusCode> {
    load(&s, &who, &org, Kind::Node, &n, "read").await?;
    Ok(StatusCode::OK)
}
