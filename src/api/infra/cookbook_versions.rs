//! One cookbook version: `GET/PUT/DELETE /cookbooks/NAME/VERSION`. The version's ACL is
//! its cookbook's. Documents are stored as uploaded and answered in the shape of the
//! request's API version (segments for v0/v1, `all_files` for v2), with a pre-signed
//! download URL on every file.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

use super::reply;
use crate::api::{ApiVersion, BaseUrl, JsonObject};
use crate::auth::extract::Org;
use crate::auth::{authz, file_url, Requestor};
use crate::error::{Error, Message, Result};
use crate::model::cookbook;
use crate::state::AppState;
use crate::store::cookbooks::{CookbookVersionRow, COOKBOOK};
use crate::store::objects::ObjectRow;
use crate::store::{new_id, now};

fn version_not_found(name: &str, version: &str) -> Error {
    Error::not_found(format!(
        "Cannot find a cookbook named {name} with version {version}"
    ))
}

/// The version a GET or DELETE names (`_latest` and `latest` included), 404 first.
async fn find(s: &AppState, org: &Org, name: &str, version: &str) -> Result<CookbookVersionRow> {
    let row = if version == "_latest" || version == "latest" {
        s.store.latest_cookbook_version(&org.0.id, name).await?
    } else {
        let v = cookbook::parse_url_version(version)?;
        s.store.cookbook_version(&org.0.id, name, v).await?
    };
    row.ok_or_else(|| version_not_found(name, version))
}

/// The stored document as an API version reads it, with `frozen?` and file URLs.
pub async fn render(
    s: &AppState,
    base: &BaseUrl,
    org: &Org,
    row: &CookbookVersionRow,
    api: u8,
    minimal: bool,
) -> Result<Value> {
    let stored: Map<String, Value> = serde_json::from_str(&row.body)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored cookbook {}: {e}", row.name)))?;
    let mut doc = cookbook::for_api(stored, api);
    doc.insert("frozen?".into(), Value::Bool(row.frozen));
    // erchef keeps these metadata parts in columns of their own and always puts them
    // back (the solver's "minimal" form leaves out the two bulky ones).
    if let Some(Value::Object(meta)) = doc.get_mut("metadata") {
        meta.entry("dependencies")
            .or_insert_with(|| Value::Object(Map::new()));
        if minimal {
            meta.remove("attributes");
            meta.remove("long_description");
        } else {
            meta.entry("attributes")
                .or_insert_with(|| Value::Object(Map::new()));
            meta.entry("long_description")
                .or_insert_with(|| Value::from(""));
        }
    }
    annotate_files(s, base, org, &mut doc).await?;
    Ok(Value::Object(doc))
}

/// Puts a pre-signed download URL on every file of a cookbook document.
pub async fn annotate_files(
    s: &AppState,
    base: &BaseUrl,
    org: &Org,
    doc: &mut Map<String, Value>,
) -> Result<()> {
    let mut urls = HashMap::new();
    for sum in cookbook::checksums(doc) {
        let url = file_url::signed_url(s, &base.0, "GET", &org.0.name, &sum).await?;
        urls.insert(sum, url);
    }
    cookbook::annotate_urls(doc, |sum| urls.get(sum).cloned().unwrap_or_default());
    Ok(())
}

pub async fn show_version(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    ApiVersion(api): ApiVersion,
    Path((_, name, version)): Path<(String, String, String)>,
) -> Result<Response> {
    let row = find(&s, &org, &name, &version).await?;
    authz::require(&s.store, &who, &row.cookbook_id, "read").await?;
    Ok(reply(
        StatusCode::OK,
        render(&s, &base, &org, &row, api, false).await?,
    ))
}

pub async fn delete_version(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, name, version)): Path<(String, String, String)>,
) -> Result<Response> {
    let row = find(&s, &org, &name, &version).await?;
    authz::require(&s.store, &who, &row.cookbook_id, "delete").await?;
    // erchef answers a deletion in the segment shape whatever the API version.
    let body = render(&s, &base, &org, &row, 0, false).await?;
    s.store.delete_cookbook_version(&row).await?;
    Ok(reply(StatusCode::OK, body))
}

fn forced(q: &HashMap<String, String>) -> bool {
    q.get("force").is_some_and(|v| v != "false")
}

pub async fn put_version(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    ApiVersion(api): ApiVersion,
    Path((_, name, version)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let v = cookbook::check_url(&name, &version)?;
    let mut doc = cookbook::validate(body, &name, &version, api >= 2)?;
    let existing = s.store.cookbook_version(&org.0.id, &name, v).await?;
    let cookbook_obj = s.store.object(&org.0.id, COOKBOOK, "", &name).await?;
    match &cookbook_obj {
        Some(cb) => authz::require(&s.store, &who, &cb.id, "update").await?,
        None => super::documents::require_container(&s, &who, &org, "cookbooks", "create").await?,
    }
    let sent_frozen = doc.get("frozen?").and_then(Value::as_bool).unwrap_or(false);
    if let Some(old) = &existing {
        if old.frozen && !forced(&q) {
            return Err(Error::Conflict(Message::List(format!(
                "The cookbook {name} at version {} is frozen. Use the 'force' option to override.",
                old.version_string()
            ))));
        }
    }
    let frozen = existing.as_ref().is_some_and(|o| o.frozen) || sent_frozen;
    doc.insert("frozen?".into(), Value::Bool(frozen));

    let sums = cookbook::checksums(&doc);
    let missing = s.store.missing_checksums(&org.0.id, &sums).await?;
    if let Some(first) = missing.first() {
        return Err(Error::bad_request(if existing.is_some() {
            format!("Manifest has checksum {first} but it hasn't yet been uploaded")
        } else {
            "Manifest has a checksum that hasn't been uploaded.".to_string()
        }));
    }

    let t = now();
    let new_cookbook = match &cookbook_obj {
        Some(_) => None,
        None => Some(ObjectRow {
            id: new_id(),
            org_id: org.0.id.clone(),
            kind: COOKBOOK.into(),
            bag: String::new(),
            name: name.clone(),
            body: "{}".into(),
            created_at: t,
            updated_at: t,
        }),
    };
    let cookbook_id = cookbook_obj
        .as_ref()
        .or(new_cookbook.as_ref())
        .map(|c| c.id.clone())
        .unwrap_or_default();
    let dependencies = doc
        .get("metadata")
        .and_then(|m| m.get("dependencies"))
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let doc = Value::Object(doc);
    let row = CookbookVersionRow {
        id: existing
            .as_ref()
            .map(|e| e.id.clone())
            .unwrap_or_else(new_id),
        org_id: org.0.id.clone(),
        cookbook_id,
        name: name.clone(),
        major: v.0 as i64,
        minor: v.1 as i64,
        patch: v.2 as i64,
        frozen,
        dependencies: dependencies.to_string(),
        body: doc.to_string(),
        created_at: existing.as_ref().map(|e| e.created_at).unwrap_or(t),
        updated_at: t,
    };
    s.store
        .save_cookbook_version(&row, new_cookbook.as_ref(), &sums, &who.id)
        .await?;
    let status = if existing.is_some() {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok(reply(status, doc))
}
