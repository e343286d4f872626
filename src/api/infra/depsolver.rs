//! `POST /environments/E/cookbook_versions`: the cookbooks (and versions) a run list
//! needs in an environment, as chef-client asks at the start of every run. The solving
//! is `crate::depsolver`; this handler loads the universe, checks read on the
//! environment and on every chosen cookbook, and renders each chosen version in the
//! solver's "minimal" form (no metadata attributes or long description).

use std::collections::HashMap;
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::cookbook_versions::render;
use super::env_cookbooks::constraints;
use super::reply;
use crate::api::{ApiVersion, BaseUrl, JsonObject};
use crate::auth::extract::Org;
use crate::auth::Requestor;
use crate::depsolver::{self, Candidate, Universe};
use crate::error::{Error, Message, Result};
use crate::model::{run_list, version};
use crate::state::AppState;

fn bad_run_list() -> Error {
    Error::bad_request("Field 'run_list' is not a valid run list")
}

/// The run list's cookbooks: `recipe[cb::r@v]` → (`cb`, `Some(v)`), in order.
fn run_list_cookbooks(
    body: &Map<String, Value>,
    max_items: usize,
) -> Result<Vec<(String, Option<String>)>> {
    let Some(items) = body.get("run_list") else {
        return Ok(Vec::new());
    };
    let items = items.as_array().ok_or_else(bad_run_list)?;
    if items.len() > max_items {
        return Err(Error::bad_request(format!(
            "Field 'run_list' has a run list of {} entries, more than the {max_items} allowed",
            items.len()
        )));
    }
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let raw = item.as_str().ok_or_else(bad_run_list)?;
        let normal = run_list::normalize_item(raw).ok_or_else(bad_run_list)?;
        let Some(recipe) = normal
            .strip_prefix("recipe[")
            .and_then(|r| r.strip_suffix(']'))
        else {
            return Err(bad_run_list());
        };
        let (recipe, pin) = match recipe.split_once('@') {
            Some((r, v)) => (r, Some(v.to_string())),
            None => (recipe, None),
        };
        let cookbook = recipe.split("::").next().unwrap_or(recipe);
        out.push((cookbook.to_string(), pin));
    }
    Ok(out)
}

async fn universe(s: &AppState, org: &Org) -> Result<(Universe, HashMap<String, String>)> {
    let mut universe: Universe = HashMap::new();
    let mut ids = HashMap::new();
    for r in s.store.cookbook_summaries(&org.0.id, None).await? {
        let deps: Map<String, Value> = serde_json::from_str(&r.dependencies).unwrap_or_default();
        let dependencies = deps
            .into_iter()
            .filter_map(|(k, v)| v.as_str().map(|c| (k, c.to_string())))
            .collect();
        ids.insert(r.name.clone(), r.cookbook_id.clone());
        universe.entry(r.name.clone()).or_default().push(Candidate {
            version: r.version_string(),
            dependencies,
        });
    }
    Ok((universe, ids))
}

pub async fn solve(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    ApiVersion(api): ApiVersion,
    Path((_, env)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    let run_list = run_list_cookbooks(&body, s.config.limits.max_run_list_items)?;
    // erchef's solver resource words a missing environment its own way.
    let environment = match constraints(&s, &who, &org, &env).await {
        Err(Error::NotFound(_)) => {
            return Err(Error::not_found(format!("environment '{env}' not found")))
        }
        other => other?,
    };
    let (universe, ids) = universe(&s, &org).await?;
    let timeout = Duration::from_millis(s.config.limits.depsolver_timeout_ms);
    // The search is CPU-bound; keep it off the request threads.
    let outcome = tokio::task::spawn_blocking(move || {
        depsolver::solve(&depsolver::Request {
            universe: &universe,
            run_list,
            environment,
            timeout,
        })
    })
    .await
    .map_err(|e| Error::Internal(anyhow::anyhow!("solver task: {e}")))?;
    let chosen = outcome.map_err(|e| Error::PreconditionFailed(Message::Json(e.body())))?;

    let mut unauthorized = Vec::new();
    for name in chosen.keys() {
        let id = ids.get(name).map(String::as_str).unwrap_or_default();
        if !who.superuser && !s.store.has_permission(&who.id, id, "read").await? {
            unauthorized.push(name.clone());
        }
    }
    if !unauthorized.is_empty() {
        return Err(Error::Forbidden(Message::Json(json!({"error": [{
            "message": "Read permission is not granted for one or more cookbooks",
            "unauthorized_cookbooks": unauthorized,
        }]}))));
    }
    let mut out = Map::new();
    for (name, v) in &chosen {
        let parsed = version::parse(v)
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("solver chose {name} {v}")))?;
        let row = s
            .store
            .cookbook_version(&org.0.id, name, parsed)
            .await?
            .ok_or_else(|| Error::Internal(anyhow::anyhow!("{name} {v} vanished")))?;
        out.insert(
            name.clone(),
            render(&s, &base, &org, &row, api, true).await?,
        );
    }
    Ok(reply(StatusCode::OK, Value::Object(out)))
}
