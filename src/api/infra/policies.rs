//! Policyfile policies and their revisions: `/policies`, `/policies/NAME`,
//! `/policies/NAME/revisions[/ID]`. Documents live in the store's `objects` table (see
//! `store::policies`); a policy's ACL covers its revisions.

use std::collections::BTreeMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::documents::require_container;
use super::{created, reply};
use crate::api::{BaseUrl, JsonObject};
use crate::auth::extract::Org;
use crate::auth::{authz, Requestor};
use crate::error::{Error, Message, Result};
use crate::model::policy;
use crate::state::AppState;
use crate::store::objects::ObjectRow;
use crate::store::policies::{DocWrite, ASSIGNMENT, POLICY, REVISION};
use crate::store::{new_id, now};

pub(super) fn new_doc(org: &Org, kind: &str, bag: &str, name: &str, body: &Value) -> ObjectRow {
    let ts = now();
    ObjectRow {
        id: new_id(),
        org_id: org.0.id.clone(),
        kind: kind.into(),
        bag: bag.into(),
        name: name.into(),
        body: body.to_string(),
        created_at: ts,
        updated_at: ts,
    }
}

/// The ACL-bearing document `kind`/`name` for a write: `update` on it when it exists;
/// otherwise `create` on `container` and a step creating it with that container's ACL.
pub(super) async fn update_or_create(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    (kind, name): (&str, &str),
    container: &'static str,
    writes: &mut Vec<DocWrite>,
) -> Result<()> {
    match s.store.object(&org.0.id, kind, "", name).await? {
        Some(existing) => authz::require(&s.store, who, &existing.id, "update").await,
        None => {
            require_container(s, who, org, container, "create").await?;
            let obj = new_doc(org, kind, "", name, &json!({}));
            writes.push(DocWrite::Create {
                obj,
                acl: Some(container),
            });
            Ok(())
        }
    }
}

pub(super) fn body_of(row: &ObjectRow) -> Value {
    serde_json::from_str(&row.body).unwrap_or_else(|_| json!({}))
}

pub(super) fn policy_url(base: &BaseUrl, org: &Org, name: &str) -> String {
    base.join(&format!("/organizations/{}/policies/{name}", org.0.name))
}

/// The policy named `name`, after checking `perm` on it.
async fn load(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    name: &str,
    perm: &str,
) -> Result<ObjectRow> {
    let p = s
        .store
        .object(&org.0.id, POLICY, "", name)
        .await?
        .ok_or_else(|| Error::not_found(format!("Cannot load policy {name}")))?;
    authz::require(&s.store, who, &p.id, perm).await?;
    Ok(p)
}

async fn revisions_of(s: &AppState, org: &Org, name: &str) -> Result<Map<String, Value>> {
    let revs = s.store.objects(&org.0.id, REVISION, name).await?;
    Ok(revs.into_iter().map(|r| (r.name, json!({}))).collect())
}

pub async fn list_policies(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
) -> Result<Response> {
    require_container(&s, &who, &org, "policies", "read").await?;
    let mut revisions: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    for r in s.store.objects_of_kind(&org.0.id, REVISION).await? {
        revisions
            .entry(r.bag)
            .or_default()
            .insert(r.name, json!({}));
    }
    let mut out = Map::new();
    for p in s.store.objects(&org.0.id, POLICY, "").await? {
        let revs = revisions.remove(&p.name).unwrap_or_default();
        out.insert(
            p.name.clone(),
            json!({ "uri": policy_url(&base, &org, &p.name), "revisions": revs }),
        );
    }
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

pub async fn show_policy(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    load(&s, &who, &org, &name, "read").await?;
    let revs = revisions_of(&s, &org, &name).await?;
    Ok(reply(StatusCode::OK, json!({ "revisions": revs })))
}

pub async fn delete_policy(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    let p = load(&s, &who, &org, &name, "delete").await?;
    let revs = s.store.objects(&org.0.id, REVISION, &name).await?;
    let assigned = s.store.objects_named(&org.0.id, ASSIGNMENT, &name).await?;
    let mut writes: Vec<DocWrite> = assigned
        .iter()
        .chain(revs.iter())
        .map(|o| DocWrite::Delete { id: o.id.clone() })
        .collect();
    writes.push(DocWrite::Delete { id: p.id });
    s.store.write_documents(&writes, &who.id).await?;
    let listed: Map<String, Value> = revs.into_iter().map(|r| (r.name, json!({}))).collect();
    Ok(reply(StatusCode::OK, json!({ "revisions": listed })))
}

pub async fn create_revision(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, name)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let revision = policy::validate_revision(&body, &name)?;
    let doc = Value::Object(body);
    let mut writes = Vec::new();
    update_or_create(&s, &who, &org, (POLICY, &name), "policies", &mut writes).await?;
    if s.store
        .object(&org.0.id, REVISION, &name, &revision)
        .await?
        .is_some()
    {
        return Err(Error::Conflict(Message::Json(json!(format!(
            "Policy '{name}' with revision_id '{revision} already exists."
        )))));
    }
    let obj = new_doc(&org, REVISION, &name, &revision, &doc);
    writes.push(DocWrite::Create { obj, acl: None });
    s.store.write_documents(&writes, &who.id).await?;
    Ok(created(&policy_url(&base, &org, &name), doc))
}

async fn load_revision(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    name: &str,
    revision: &str,
    perm: &str,
) -> Result<ObjectRow> {
    load(s, who, org, name, perm).await?;
    s.store
        .object(&org.0.id, REVISION, name, revision)
        .await?
        .ok_or_else(|| {
            Error::not_found(format!(
                "Cannot load policy {name} with revision_id {revision}"
            ))
        })
}

pub async fn show_revision(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, name, revision)): Path<(String, String, String)>,
) -> Result<Response> {
    let rev = load_revision(&s, &who, &org, &name, &revision, "read").await?;
    let groups: Vec<String> = s
        .store
        .objects_named(&org.0.id, ASSIGNMENT, &name)
        .await?
        .into_iter()
        .filter(|a| body_of(a)["revision_id"] == revision.as_str())
        .map(|a| a.bag)
        .collect();
    let mut out = body_of(&rev);
    out["policy_group_list"] = json!(groups);
    Ok(reply(StatusCode::OK, out))
}

pub async fn delete_revision(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, name, revision)): Path<(String, String, String)>,
) -> Result<Response> {
    let rev = load_revision(&s, &who, &org, &name, &revision, "delete").await?;
    let mut writes: Vec<DocWrite> = s
        .store
        .objects_named(&org.0.id, ASSIGNMENT, &name)
        .await?
        .into_iter()
        .filter(|a| body_of(a)["revision_id"] == revision.as_str())
        .map(|a| DocWrite::Delete { id: a.id })
        .collect();
    writes.push(DocWrite::Delete { id: rev.id.clone() });
    s.store.write_documents(&writes, &who.id).await?;
    Ok(reply(StatusCode::OK, body_of(&rev)))
}
