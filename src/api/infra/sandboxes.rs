//! Sandboxes: `POST /sandboxes` announces the checksums of an upload and answers which
//! files the server still needs (with a pre-signed upload URL each); `PUT /sandboxes/ID`
//! commits it once every file has arrived.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::documents::require_container;
use super::{created, reply};
use crate::api::{BaseUrl, JsonObject};
use crate::auth::extract::Org;
use crate::auth::{file_url, Requestor};
use crate::error::{Error, Message, Result};
use crate::state::AppState;
use crate::store::sandboxes::SandboxRow;
use crate::store::{new_id, now};

/// A checksum as clients send it: 32 hex digits (MD5).
pub fn is_checksum(s: &str) -> bool {
    s.len() == 32 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

fn announced(body: &Map<String, Value>) -> Result<Vec<String>> {
    let bad = || Error::bad_request("Bad checksums!");
    let sums = match body.get("checksums") {
        None => return Err(Error::bad_request("Field 'checksums' missing")),
        Some(Value::Object(m)) if !m.is_empty() => m,
        Some(_) => return Err(bad()),
    };
    let mut out = Vec::with_capacity(sums.len());
    for (sum, v) in sums {
        if !v.is_null() || !is_checksum(sum) {
            return Err(bad());
        }
        out.push(sum.clone());
    }
    Ok(out)
}

pub async fn create_sandbox(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    require_container(&s, &who, &org, "sandboxes", "create").await?;
    let sums = announced(&body)?;
    let known = s.store.known_checksums(&org.0.id, &sums).await?;
    let mut checksums = Map::new();
    for sum in &sums {
        let entry = if known.contains(sum) {
            json!({ "needs_upload": false })
        } else {
            let url = file_url::signed_url(&s, &base.0, "PUT", &org.0.name, sum).await?;
            json!({ "url": url, "needs_upload": true })
        };
        checksums.insert(sum.clone(), entry);
    }
    let awaited: Vec<String> = sums
        .iter()
        .filter(|x| !known.contains(*x))
        .cloned()
        .collect();
    let row = SandboxRow {
        id: new_id(),
        org_id: org.0.id.clone(),
        checksums: Value::from(sums).to_string(),
        created_at: now(),
    };
    s.store.create_sandbox(&row, &awaited).await?;
    let uri = base.join(&format!(
        "/organizations/{}/sandboxes/{}",
        org.0.name, row.id
    ));
    let body = json!({ "sandbox_id": row.id, "uri": uri, "checksums": checksums });
    Ok(created(&uri, body))
}

pub async fn commit_sandbox(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, id)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    require_container(&s, &who, &org, "sandboxes", "create").await?;
    if body.get("is_completed") != Some(&Value::Bool(true)) {
        return Err(Error::bad_request("Field 'is_completed' invalid"));
    }
    let sb = s
        .store
        .sandbox(&org.0.id, &id)
        .await?
        .ok_or_else(|| Error::not_found(format!("No such sandbox '{id}'.")))?;
    let sums: Vec<String> = serde_json::from_str(&sb.checksums)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored sandbox {id}: {e}")))?;
    let mut missing = s.store.missing_checksums(&org.0.id, &sums).await?;
    if !missing.is_empty() {
        missing.sort();
        return Err(Error::ServiceUnavailable(Message::List(format!(
            "Cannot update sandbox {id}: the following checksums have not been uploaded: {}",
            missing.join(", ")
        ))));
    }
    s.store.delete_sandbox(&sb.id).await?;
    Ok(reply(
        StatusCode::OK,
        json!({
            "guid": sb.id,
            "name": sb.id,
            "checksums": sums,
            "create_time": sb.created_at.format("%Y-%m-%dT%H:%M:%S+00:00").to_string(),
            "is_completed": true,
        }),
    ))
}
