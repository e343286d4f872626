//! Run reads: a node's runs and the org's runs (`run_history`, newest first, paged), one
//! run's resources (and its detail on request), and one resource's content delta.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::{access, run_path, Params};
use crate::api::infra::reply;
use crate::api::BaseUrl;
use crate::auth::extract::Org;
use crate::auth::Requestor;
use crate::error::{Error, Result};
use crate::model::report::{format_time, parse_status, Page, Window};
use crate::state::AppState;
use crate::store::reports::{ReportRunRow, RunFilter};

/// Listings without `from` look this far back (knife-reporting's longest window, ≈3 months).
const DEFAULT_LIST_SPAN: i64 = 7_889_230;

fn run_summary(base: &BaseUrl, org: &str, r: &ReportRunRow) -> Value {
    json!({
        "run_id": r.run_id,
        "node_name": r.node_name,
        "status": r.status,
        "start_time": format_time(r.start_time),
        "end_time": r.end_time.map(format_time),
        "total_res_count": r.total_res_count,
        "updated_res_count": r.updated_res_count,
        "uri": base.join(&run_path(org, &r.node_name, &r.run_id)),
    })
}

async fn list_runs(
    state: &AppState,
    org: &Org,
    base: &BaseUrl,
    node: Option<String>,
    q: &Params,
) -> Result<Response> {
    let page = Page::parse(q.get("rows"), q.get("start"))?;
    let now = chrono::Utc::now().timestamp();
    let window = Window::parse(q.get("from"), q.get("until"), now, DEFAULT_LIST_SPAN)?;
    let filter = RunFilter {
        node,
        status: parse_status(q.get("status"))?,
        from: window.from,
        until: window.until,
    };
    let (runs, total) = state
        .store
        .list_report_runs(&org.0.id, &filter, page.rows, page.start)
        .await?;
    let history: Vec<Value> = runs
        .iter()
        .map(|r| run_summary(base, &org.0.name, r))
        .collect();
    Ok(reply(
        StatusCode::OK,
        json!({
            "run_history": history,
            "total": total,
            "start": page.start,
            "rows": page.rows,
            "from": format_time(window.from),
            "until": format_time(window.until),
        }),
    ))
}

pub async fn list_node_runs(
    State(state): State<AppState>,
    Path((_, node)): Path<(String, String)>,
    org: Org,
    who: Requestor,
    base: BaseUrl,
    q: Params,
) -> Result<Response> {
    access::require_node_read(&state, &org, &who, &node).await?;
    list_runs(&state, &org, &base, Some(node), &q).await
}

pub async fn list_org_runs(
    State(state): State<AppState>,
    org: Org,
    who: Requestor,
    base: BaseUrl,
    q: Params,
) -> Result<Response> {
    access::require_org_read(&state, &org, &who).await?;
    list_runs(&state, &org, &base, None, &q).await
}

fn run_not_found(node: &str, run_id: &str) -> Error {
    Error::not_found(format!("No run '{run_id}' for node '{node}'"))
}

/// The run named by the path, which must belong to the node in the path.
async fn load_run(state: &AppState, org: &Org, node: &str, run_id: &str) -> Result<ReportRunRow> {
    match state
        .store
        .report_run(&org.0.id, &run_id.to_ascii_lowercase())
        .await?
    {
        Some(r) if r.node_name == node => Ok(r),
        _ => Err(run_not_found(node, run_id)),
    }
}

fn state_of(r: &Map<String, Value>, key: &str) -> Value {
    match r.get(key) {
        Some(v @ Value::Object(_)) => v.clone(),
        _ => json!({}),
    }
}

/// A stored resource record in the documented `run_resources` shape.
fn run_resource(uri: String, r: &Map<String, Value>) -> Value {
    let text = |k: &str| r.get(k).cloned().unwrap_or(Value::Null);
    let duration = match r.get("duration") {
        Some(Value::Number(n)) => Value::String(n.to_string()),
        Some(v @ Value::String(_)) => v.clone(),
        _ => Value::String("0".into()),
    };
    json!({
        "uri": uri,
        "cookbook_name": text("cookbook_name"),
        "cookbook_version": text("cookbook_version"),
        "duration": duration,
        "id": text("id"),
        "type": text("type"),
        "name": text("name"),
        "result": text("result"),
        "initial_state": state_of(r, "before"),
        "final_state": state_of(r, "after"),
    })
}

fn run_detail(r: &ReportRunRow) -> Value {
    let stored: Map<String, Value> = serde_json::from_str(&r.detail).unwrap_or_default();
    let field = |k: &str| stored.get(k).cloned().unwrap_or(Value::Null);
    json!({
        "run_id": r.run_id,
        "node_name": r.node_name,
        "status": r.status,
        "updated_res_count": r.updated_res_count,
        "total_res_count": r.total_res_count,
        "run_list": field("run_list"),
        "expanded_run_list": field("expanded_run_list"),
        "start_time": format_time(r.start_time),
        "end_time": r.end_time.map(format_time),
        "data": stored.get("data").cloned().unwrap_or_else(|| json!({})),
    })
}

pub async fn show_run(
    State(state): State<AppState>,
    Path((_, node, run_id)): Path<(String, String, String)>,
    org: Org,
    who: Requestor,
    base: BaseUrl,
    q: Params,
) -> Result<Response> {
    access::require_node_read(&state, &org, &who, &node).await?;
    let page = Page::parse(q.get("rows"), q.get("start"))?;
    let detail = match q.get("detail") {
        None | Some("false") => false,
        Some("true") => true,
        Some(_) => {
            return Err(Error::bad_request(
                "Parameter 'detail' must be true or false",
            ))
        }
    };
    let run = load_run(&state, &org, &node, &run_id).await?;
    let path = run_path(&org.0.name, &node, &run.run_id);
    let resources: Vec<Value> = state
        .store
        .report_resources(&org.0.id, &run.run_id, page.rows, page.start)
        .await?
        .into_iter()
        .map(|(seq, body)| {
            let r: Map<String, Value> = serde_json::from_str(&body).unwrap_or_default();
            run_resource(base.join(&format!("{path}/{seq}")), &r)
        })
        .collect();
    let mut out = Map::new();
    out.insert("run_resources".into(), Value::Array(resources));
    if detail {
        out.insert("run_detail".into(), run_detail(&run));
    }
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

pub async fn show_resource(
    State(state): State<AppState>,
    Path((_, node, run_id, resource)): Path<(String, String, String, String)>,
    org: Org,
    who: Requestor,
) -> Result<Response> {
    access::require_node_read(&state, &org, &who, &node).await?;
    let run = load_run(&state, &org, &node, &run_id).await?;
    let missing = || Error::not_found(format!("No resource '{resource}' in run '{}'", run.run_id));
    let seq: i64 = resource.parse().map_err(|_| missing())?;
    let body = state
        .store
        .report_resource(&org.0.id, &run.run_id, seq)
        .await?
        .ok_or_else(missing)?;
    let r: Map<String, Value> = serde_json::from_str(&body).unwrap_or_default();
    let delta = match r.get("delta") {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    Ok(reply(
        StatusCode::OK,
        json!({ "resource_detail": { "content_delta": delta } }),
    ))
}
