//! Policy groups: `/policy_groups`, `/policy_groups/G` and the revision a group uses for a
//! policy, `/policy_groups/G/policies/P` (a PUT creates the group, the policy and the
//! revision as needed, as chef's `push` relies on).

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::documents::require_container;
use super::policies::{body_of, new_doc, policy_url, update_or_create};
use super::{created, reply};
use crate::api::{BaseUrl, JsonObject};
use crate::auth::extract::Org;
use crate::auth::{authz, Requestor};
use crate::error::{Error, Result};
use crate::model::policy;
use crate::state::AppState;
use crate::store::objects::ObjectRow;
use crate::store::policies::{DocWrite, ASSIGNMENT, GROUP, POLICY, REVISION};

fn group_url(base: &BaseUrl, org: &Org, name: &str) -> String {
    base.join(&format!(
        "/organizations/{}/policy_groups/{name}",
        org.0.name
    ))
}

async fn load_group(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    name: &str,
    perm: &str,
) -> Result<ObjectRow> {
    let g = s
        .store
        .object(&org.0.id, GROUP, "", name)
        .await?
        .ok_or_else(|| Error::not_found(format!("policy_group '{name}' not found")))?;
    authz::require(&s.store, who, &g.id, perm).await?;
    Ok(g)
}

fn assigned(rows: Vec<ObjectRow>) -> Map<String, Value> {
    rows.into_iter()
        .map(|a| {
            let rev = body_of(&a)["revision_id"].clone();
            (a.name, json!({ "revision_id": rev }))
        })
        .collect()
}

pub async fn list_groups(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
) -> Result<Response> {
    require_container(&s, &who, &org, "policy_groups", "read").await?;
    let mut by_group: BTreeMap<String, Vec<ObjectRow>> = BTreeMap::new();
    for a in s.store.objects_of_kind(&org.0.id, ASSIGNMENT).await? {
        by_group.entry(a.bag.clone()).or_default().push(a);
    }
    let mut out = Map::new();
    for g in s.store.objects(&org.0.id, GROUP, "").await? {
        let mut entry = json!({ "uri": group_url(&base, &org, &g.name) });
        if let Some(rows) = by_group.remove(&g.name) {
            entry["policies"] = Value::Object(assigned(rows));
        }
        out.insert(g.name, entry);
    }
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

async fn group_body(s: &AppState, org: &Org, base: &BaseUrl, name: &str) -> Result<Value> {
    let rows = s.store.objects(&org.0.id, ASSIGNMENT, name).await?;
    Ok(json!({ "uri": group_url(base, org, name), "policies": assigned(rows) }))
}

pub async fn show_group(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    load_group(&s, &who, &org, &name, "read").await?;
    Ok(reply(
        StatusCode::OK,
        group_body(&s, &org, &base, &name).await?,
    ))
}

pub async fn delete_group(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    let g = load_group(&s, &who, &org, &name, "delete").await?;
    let out = group_body(&s, &org, &base, &name).await?;
    let mut writes: Vec<DocWrite> = s
        .store
        .objects(&org.0.id, ASSIGNMENT, &name)
        .await?
        .into_iter()
        .map(|a| DocWrite::Delete { id: a.id })
        .collect();
    writes.push(DocWrite::Delete { id: g.id });
    s.store.write_documents(&writes, &who.id).await?;
    Ok(reply(StatusCode::OK, out))
}

/// The group's assignment for a policy, after checking `perm` on both.
async fn load_assignment(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    group: &str,
    name: &str,
    perm: &str,
) -> Result<(ObjectRow, ObjectRow)> {
    let missing = || Error::not_found(format!("Cannot load policy {name} in policy group {group}"));
    let g = s
        .store
        .object(&org.0.id, GROUP, "", group)
        .await?
        .ok_or_else(missing)?;
    let p = s
        .store
        .object(&org.0.id, POLICY, "", name)
        .await?
        .ok_or_else(missing)?;
    authz::require(&s.store, who, &p.id, perm).await?;
    authz::require(&s.store, who, &g.id, perm).await?;
    let a = s
        .store
        .object(&org.0.id, ASSIGNMENT, group, name)
        .await?
        .ok_or_else(missing)?;
    let rev_id = body_of(&a)["revision_id"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let rev = s
        .store
        .object(&org.0.id, REVISION, name, &rev_id)
        .await?
        .ok_or_else(missing)?;
    Ok((a, rev))
}

pub async fn show_group_policy(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, group, name)): Path<(String, String, String)>,
) -> Result<Response> {
    let (_, rev) = load_assignment(&s, &who, &org, &group, &name, "read").await?;
    Ok(reply(StatusCode::OK, body_of(&rev)))
}

pub async fn delete_group_policy(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, group, name)): Path<(String, String, String)>,
) -> Result<Response> {
    let (a, rev) = load_assignment(&s, &who, &org, &group, &name, "delete").await?;
    s.store
        .write_documents(&[DocWrite::Delete { id: a.id }], &who.id)
        .await?;
    Ok(reply(StatusCode::OK, body_of(&rev)))
}

pub async fn put_group_policy(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, group, name)): Path<(String, String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    if !crate::model::names::is_policy_name(&group) {
        return Err(Error::bad_request("Field 'policy_group' invalid"));
    }
    let revision = policy::validate_revision(&body, &name)?;
    let doc = Value::Object(body);
    let mut writes = Vec::new();
    update_or_create(
        &s,
        &who,
        &org,
        (GROUP, &group),
        "policy_groups",
        &mut writes,
    )
    .await?;
    update_or_create(&s, &who, &org, (POLICY, &name), "policies", &mut writes).await?;
    match s
        .store
        .object(&org.0.id, REVISION, &name, &revision)
        .await?
    {
        Some(r) => writes.push(DocWrite::Update {
            id: r.id,
            body: doc.to_string(),
        }),
        None => {
            let obj = new_doc(&org, REVISION, &name, &revision, &doc);
            writes.push(DocWrite::Create { obj, acl: None });
        }
    }
    let choice = json!({ "revision_id": revision });
    let existing = s.store.object(&org.0.id, ASSIGNMENT, &group, &name).await?;
    let is_new = existing.is_none();
    match existing {
        Some(a) => writes.push(DocWrite::Update {
            id: a.id,
            body: choice.to_string(),
        }),
        None => {
            let obj = new_doc(&org, ASSIGNMENT, &group, &name, &choice);
            writes.push(DocWrite::Create { obj, acl: None });
        }
    }
    s.store.write_documents(&writes, &who.id).await?;
    if is_new {
        return Ok(created(&policy_url(&base, &org, &name), doc));
    }
    Ok(reply(StatusCode::OK, doc))
}
