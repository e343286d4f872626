//! Policyfile cookbook artifacts: `/cookbook_artifacts[/NAME[/IDENTIFIER]]`. An artifact
//! (`cookbook_artifact`, ACL from the `cookbook_artifacts` container) holds immutable
//! versions keyed by identifier (`cookbook_artifact_version`, bag = name).
//!
//! File content arrives through sandboxes; a version may only name checksums the org has
//! uploaded, and is answered in the request's API shape with a download URL per file.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::cookbook_versions::annotate_files;
use super::documents::require_container;
use super::policies::{body_of, new_doc, update_or_create};
use super::{created, reply};
use crate::api::{ApiVersion, BaseUrl, JsonObject};
use crate::auth::extract::Org;
use crate::auth::{authz, Requestor};
use crate::error::{Error, Message, Result};
use crate::model::cookbook;
use crate::model::names::{is_cookbook_name, is_policy_name};
use crate::state::AppState;
use crate::store::objects::ObjectRow;
use crate::store::policies::DocWrite;

const ARTIFACT: &str = "cookbook_artifact";
const VERSION: &str = "cookbook_artifact_version";

fn artifact_url(base: &BaseUrl, org: &Org, name: &str) -> String {
    base.join(&format!(
        "/organizations/{}/cookbook_artifacts/{name}",
        org.0.name
    ))
}

fn not_found() -> Error {
    Error::not_found("not_found")
}

async fn listing(
    s: &AppState,
    org: &Org,
    base: &BaseUrl,
    only: Option<&str>,
) -> Result<Map<String, Value>> {
    let mut out = Map::new();
    for a in s.store.objects(&org.0.id, ARTIFACT, "").await? {
        if only.is_some_and(|n| n != a.name) {
            continue;
        }
        let url = artifact_url(base, org, &a.name);
        let versions: Vec<Value> = s
            .store
            .objects(&org.0.id, VERSION, &a.name)
            .await?
            .into_iter()
            .map(|v| json!({ "url": format!("{url}/{}", v.name), "identifier": v.name }))
            .collect();
        out.insert(a.name.clone(), json!({ "url": url, "versions": versions }));
    }
    Ok(out)
}

pub async fn list_artifacts(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
) -> Result<Response> {
    require_container(&s, &who, &org, "cookbook_artifacts", "read").await?;
    Ok(reply(
        StatusCode::OK,
        Value::Object(listing(&s, &org, &base, None).await?),
    ))
}

pub async fn show_artifact(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    require_container(&s, &who, &org, "cookbook_artifacts", "read").await?;
    let out = listing(&s, &org, &base, Some(&name)).await?;
    if out.is_empty() {
        return Err(not_found());
    }
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

/// The artifact and one of its versions, after checking `perm` on the artifact.
async fn load(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    name: &str,
    id: &str,
    perm: &str,
) -> Result<(ObjectRow, ObjectRow)> {
    let a = s
        .store
        .object(&org.0.id, ARTIFACT, "", name)
        .await?
        .ok_or_else(not_found)?;
    authz::require(&s.store, who, &a.id, perm).await?;
    let v = s
        .store
        .object(&org.0.id, VERSION, name, id)
        .await?
        .ok_or_else(not_found)?;
    Ok((a, v))
}

/// The stored artifact in the request's API shape, without `json_class`, with file URLs.
async fn rendered(
    s: &AppState,
    base: &BaseUrl,
    org: &Org,
    v: &ObjectRow,
    api: u8,
) -> Result<Value> {
    let mut doc = match body_of(v) {
        Value::Object(m) => cookbook::for_api(m, api),
        _ => Map::new(),
    };
    doc.remove("json_class");
    annotate_files(s, base, org, &mut doc).await?;
    Ok(Value::Object(doc))
}

pub async fn show_version(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    ApiVersion(api): ApiVersion,
    Path((_, name, id)): Path<(String, String, String)>,
) -> Result<Response> {
    let (_, v) = load(&s, &who, &org, &name, &id, "read").await?;
    Ok(reply(
        StatusCode::OK,
        rendered(&s, &base, &org, &v, api).await?,
    ))
}

pub async fn delete_version(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    ApiVersion(api): ApiVersion,
    Path((_, name, id)): Path<(String, String, String)>,
) -> Result<Response> {
    let (a, v) = load(&s, &who, &org, &name, &id, "delete").await?;
    let body = rendered(&s, &base, &org, &v, api).await?;
    let mut writes = vec![DocWrite::Delete { id: v.id.clone() }];
    // The last version takes the artifact (and its ACL) with it, as erchef does.
    if s.store.objects(&org.0.id, VERSION, &name).await?.len() <= 1 {
        writes.push(DocWrite::Delete { id: a.id });
    }
    s.store.write_documents(&writes, &who.id).await?;
    Ok(reply(StatusCode::OK, body))
}

fn check_field(
    body: &Map<String, Value>,
    field: &str,
    url: &str,
    valid: fn(&str) -> bool,
) -> Result<()> {
    match body.get(field) {
        None => Err(Error::bad_request(format!("Field '{field}' missing"))),
        Some(Value::String(v)) if !valid(v) => {
            Err(Error::bad_request(format!("Field '{field}' invalid")))
        }
        Some(Value::String(v)) if v != url => Err(Error::bad_request(format!(
            "Field '{field}' invalid : {url} does not match {v}"
        ))),
        Some(Value::String(_)) => Ok(()),
        Some(_) => Err(Error::bad_request(format!("Field '{field}' invalid"))),
    }
}

pub async fn put_version(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, name, id)): Path<(String, String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    check_field(&body, "name", &name, is_cookbook_name)?;
    check_field(&body, "identifier", &id, is_policy_name)?;
    let sums = cookbook::checksums(&body);
    if !s
        .store
        .missing_checksums(&org.0.id, &sums)
        .await?
        .is_empty()
    {
        return Err(Error::bad_request(
            "Manifest has a checksum that hasn't been uploaded.",
        ));
    }
    let mut writes = Vec::new();
    update_or_create(
        &s,
        &who,
        &org,
        (ARTIFACT, &name),
        "cookbook_artifacts",
        &mut writes,
    )
    .await?;
    if s.store
        .object(&org.0.id, VERSION, &name, &id)
        .await?
        .is_some()
    {
        return Err(Error::Conflict(Message::Bare(
            "Cookbook artifact already exists".into(),
        )));
    }
    let doc = Value::Object(body);
    let obj = new_doc(&org, VERSION, &name, &id, &doc);
    writes.push(DocWrite::FileRefs {
        org_id: org.0.id.clone(),
        owner: obj.id.clone(),
        checksums: sums,
    });
    writes.push(DocWrite::Create { obj, acl: None });
    s.store.write_documents(&writes, &who.id).await?;
    let url = format!("{}/{id}", artifact_url(&base, &org, &name));
    Ok(created(&url, doc))
}
