//! Cookbooks as an environment sees them: its `cookbook_versions` constraints filter
//! which versions exist. `/environments/E/cookbooks[/NAME]`, `/environments/E/recipes`.
//! All need read on the environment, as in erchef.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::cookbooks::{recipes_of, version_listing, NumVersions};
use super::reply;
use crate::api::BaseUrl;
use crate::auth::extract::Org;
use crate::auth::{authz, Requestor};
use crate::error::{Error, Result};
use crate::model::cookbook;
use crate::state::AppState;
use crate::store::cookbooks::VersionSummary;

/// The environment's `cookbook_versions` constraints, after a read check on it.
pub async fn constraints(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    env: &str,
) -> Result<HashMap<String, String>> {
    let row = s
        .store
        .object(&org.0.id, "environment", "", env)
        .await?
        .ok_or_else(|| Error::not_found(format!("Cannot load environment {env}")))?;
    authz::require(&s.store, who, &row.id, "read").await?;
    let body: Value = serde_json::from_str(&row.body)
        .map_err(|e| Error::Internal(anyhow::anyhow!("stored environment {env}: {e}")))?;
    Ok(body["cookbook_versions"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| v.as_str().map(|c| (k.clone(), c.to_string())))
        .collect())
}

/// Whether the environment allows this version.
pub fn allowed(pins: &HashMap<String, String>, name: &str, v: (u64, u64, u64)) -> bool {
    pins.get(name).is_none_or(|c| cookbook::satisfies(c, v))
}

fn version_of(r: &VersionSummary) -> (u64, u64, u64) {
    (r.major as u64, r.minor as u64, r.patch as u64)
}

/// The filtered listing; when the constraints leave nothing at all, every cookbook is
/// still named with no versions, as erchef answers.
fn filtered(
    base: &BaseUrl,
    org: &Org,
    rows: &[VersionSummary],
    pins: &HashMap<String, String>,
    num: NumVersions,
) -> Map<String, Value> {
    let kept: Vec<&VersionSummary> = rows
        .iter()
        .filter(|r| allowed(pins, &r.name, version_of(r)))
        .collect();
    if kept.is_empty() {
        let mut out = version_listing(base, org, rows, NumVersions::Count(0));
        for v in out.values_mut() {
            v["versions"] = json!([]);
        }
        return out;
    }
    version_listing(base, org, kept, num)
}

pub async fn list_cookbooks(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, env)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let num = NumVersions::from_query(&q, NumVersions::Count(1))?;
    let pins = constraints(&s, &who, &org, &env).await?;
    let rows = s.store.cookbook_summaries(&org.0.id, None).await?;
    let out = filtered(&base, &org, &rows, &pins, num);
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

pub async fn show_cookbook(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, env, name)): Path<(String, String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response> {
    let num = NumVersions::from_query(&q, NumVersions::All)?;
    let pins = constraints(&s, &who, &org, &env).await?;
    let rows = s.store.cookbook_summaries(&org.0.id, Some(&name)).await?;
    if rows.is_empty() {
        return Err(Error::not_found(format!(
            "Cannot find a cookbook named {name}"
        )));
    }
    let out = filtered(&base, &org, &rows, &pins, num);
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

pub async fn list_recipes(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, env)): Path<(String, String)>,
) -> Result<Response> {
    let pins = constraints(&s, &who, &org, &env).await?;
    let mut picks: Vec<(String, (u64, u64, u64))> = Vec::new();
    for r in s.store.cookbook_summaries(&org.0.id, None).await? {
        let v = version_of(&r);
        if picks.last().is_some_and(|(n, _)| *n == r.name) || !allowed(&pins, &r.name, v) {
            continue;
        }
        picks.push((r.name.clone(), v));
    }
    let rows = s.store.cookbook_versions_in(&org.0.id, &picks).await?;
    Ok(reply(StatusCode::OK, json!(recipes_of(&rows)?)))
}
