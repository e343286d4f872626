//! Cookbook listings: `/cookbooks` (`num_versions`), `/cookbooks/_latest`,
//! `/cookbooks/_recipes`, `/cookbooks/NAME`, and `/universe`. All need read on the
//! `cookbooks` container, as in erchef.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::documents::require_container;
use super::reply;
use crate::api::BaseUrl;
use crate::auth::extract::Org;
use crate::auth::Requestor;
use crate::error::{Error, Result};
use crate::model::cookbook;
use crate::state::AppState;
use crate::store::cookbooks::{CookbookVersionRow, VersionSummary};

/// How many versions of each cookbook a listing shows.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumVersions {
    All,
    Count(usize),
}

impl NumVersions {
    /// Reads `num_versions` (absent: `default`).
    pub fn from_query(q: &HashMap<String, String>, default: NumVersions) -> Result<NumVersions> {
        match q.get("num_versions").map(String::as_str) {
            None => Ok(default),
            Some("all") => Ok(NumVersions::All),
            Some(n) => n.parse::<usize>().map(NumVersions::Count).map_err(|_| {
                Error::bad_request(
                    "You have requested an invalid number of versions (x >= 0 || 'all')",
                )
            }),
        }
    }

    fn take(self, n: usize) -> usize {
        match self {
            NumVersions::All => n,
            NumVersions::Count(c) => c.min(n),
        }
    }
}

pub fn cookbook_url(base: &BaseUrl, org: &Org, name: &str) -> String {
    base.join(&format!("/organizations/{}/cookbooks/{name}", org.0.name))
}

/// `{name: {url, versions: [{version, url}]}}` from summaries already ordered by name,
/// newest first.
pub fn version_listing<'a>(
    base: &BaseUrl,
    org: &Org,
    rows: impl IntoIterator<Item = &'a VersionSummary>,
    num: NumVersions,
) -> Map<String, Value> {
    let mut grouped: Vec<(String, Vec<String>)> = Vec::new();
    for r in rows {
        match grouped.last_mut() {
            Some((name, versions)) if *name == r.name => versions.push(r.version_string()),
            _ => grouped.push((r.name.clone(), vec![r.version_string()])),
        }
    }
    let mut out = Map::new();
    for (name, versions) in grouped {
        let url = cookbook_url(base, org, &name);
        let shown: Vec<Value> = versions
            .iter()
            .take(num.take(versions.len()))
            .map(|v| json!({ "url": format!("{url}/{v}"), "version": v }))
            .collect();
        out.insert(name, json!({ "url": url, "versions": shown }));
    }
    out
}

pub async fn list_cookbooks(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let num = NumVersions::from_query(&q, NumVersions::Count(1))?;
    require_container(&s, &who, &org, "cookbooks", "read").await?;
    let rows = s.store.cookbook_summaries(&org.0.id, None).await?;
    let out = version_listing(&base, &org, &rows, num);
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

pub async fn show_cookbook(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let num = NumVersions::from_query(&q, NumVersions::All)?;
    require_container(&s, &who, &org, "cookbooks", "read").await?;
    let rows = s.store.cookbook_summaries(&org.0.id, Some(&name)).await?;
    if rows.is_empty() {
        return Err(Error::not_found(format!(
            "Cannot find a cookbook named {name}"
        )));
    }
    let out = version_listing(&base, &org, &rows, num);
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

pub async fn latest_cookbooks(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
) -> Result<Response> {
    require_container(&s, &who, &org, "cookbooks", "read").await?;
    let mut out = Map::new();
    for r in s.store.cookbook_summaries(&org.0.id, None).await? {
        if !out.contains_key(&r.name) {
            let url = format!(
                "{}/{}",
                cookbook_url(&base, &org, &r.name),
                r.version_string()
            );
            out.insert(r.name.clone(), Value::String(url));
        }
    }
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

/// Sorted qualified recipe names of the given versions.
pub fn recipes_of(rows: &[CookbookVersionRow]) -> Result<Vec<String>> {
    let mut names = Vec::new();
    for r in rows {
        let doc: Map<String, Value> = serde_json::from_str(&r.body)
            .map_err(|e| Error::Internal(anyhow::anyhow!("stored cookbook {}: {e}", r.name)))?;
        names.extend(cookbook::recipe_names(&r.name, &doc));
    }
    names.sort();
    Ok(names)
}

pub async fn list_recipes(State(s): State<AppState>, who: Requestor, org: Org) -> Result<Response> {
    require_container(&s, &who, &org, "cookbooks", "read").await?;
    let rows = s.store.latest_cookbook_versions(&org.0.id).await?;
    Ok(reply(StatusCode::OK, json!(recipes_of(&rows)?)))
}

pub async fn universe(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
) -> Result<Response> {
    require_container(&s, &who, &org, "cookbooks", "read").await?;
    let mut out = Map::new();
    for r in s.store.cookbook_summaries(&org.0.id, None).await? {
        let deps: Value = serde_json::from_str(&r.dependencies).unwrap_or_else(|_| json!({}));
        let mut rendered = Map::new();
        for (dep, c) in deps.as_object().into_iter().flatten() {
            let c = c.as_str().unwrap_or(">= 0.0.0");
            let c = if c.contains(' ') {
                c.to_string()
            } else {
                format!("= {c}")
            };
            rendered.insert(dep.clone(), Value::String(c));
        }
        let v = r.version_string();
        let location = format!("{}/{v}", cookbook_url(&base, &org, &r.name));
        let entry = out
            .entry(r.name.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        entry[v.as_str()] = json!({
            "location_path": location,
            "location_type": "chef_server",
            "dependencies": rendered,
        });
    }
    Ok(reply(StatusCode::OK, Value::Object(out)))
}
