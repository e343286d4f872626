//! `POST …/reports/nodes/NODE/runs` (run start) and `POST …/runs/RUN_ID` (run end, usually
//! a gzip body — the gate inflates it after checking the signature over the compressed
//! bytes). Both are idempotent: a repeated post leaves the same run behind.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::{access, run_path};
use crate::api::infra::{created, reply};
use crate::api::{BaseUrl, JsonObject};
use crate::auth::extract::Org;
use crate::auth::Requestor;
use crate::error::{Error, Result};
use crate::model::names;
use crate::model::report::{self, parse_end, parse_start};
use crate::state::AppState;
use crate::store::reports::{EndOutcome, RunEndRecord, StartOutcome};

/// The node name is checked before who may post for it (`access::require_post`).
async fn authorize_post(state: &AppState, org: &Org, who: &Requestor, node: &str) -> Result<()> {
    if !names::is_key_name(node) {
        return Err(Error::bad_request(format!("Invalid node name '{node}'")));
    }
    access::require_post(state, org, who, node).await
}

fn other_node(run_id: &str) -> Error {
    Error::conflict(format!("Run '{run_id}' belongs to another node"))
}

pub async fn start_run(
    State(state): State<AppState>,
    Path((_, node)): Path<(String, String)>,
    org: Org,
    who: Requestor,
    base: BaseUrl,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    // Body errors come before permission errors, in erchef's order.
    let start = parse_start(&body)?;
    authorize_post(&state, &org, &who, &node).await?;
    let outcome = state
        .store
        .start_report_run(&org.0.id, &node, &start.run_id, start.start_time)
        .await?;
    let uri = base.join(&run_path(&org.0.name, &node, &start.run_id));
    let body = json!({ "uri": uri, "run_id": start.run_id });
    match outcome {
        StartOutcome::Created => Ok(created(&uri, body)),
        StartOutcome::Exists => Ok(reply(StatusCode::OK, body)),
        StartOutcome::OtherNode => Err(other_node(&start.run_id)),
    }
}

pub async fn end_run(
    State(state): State<AppState>,
    Path((_, node, run_id)): Path<(String, String, String)>,
    org: Org,
    who: Requestor,
    base: BaseUrl,
    JsonObject(body): JsonObject,
) -> Result<Response> {
    if !report::is_run_id(&run_id) {
        return Err(Error::bad_request(format!(
            "Invalid run id '{run_id}': run ids are UUIDs"
        )));
    }
    let run_id = run_id.to_ascii_lowercase();
    let end = parse_end(&body)?;
    authorize_post(&state, &org, &who, &node).await?;
    let record = RunEndRecord {
        status: &end.status,
        start_time: end.start_time,
        end_time: end.end_time,
        total_res_count: end.total_res_count,
        detail: Value::Object(end.detail).to_string(),
        resources: end
            .resources
            .into_iter()
            .map(|r| Value::Object(r).to_string())
            .collect(),
    };
    let outcome = state
        .store
        .end_report_run(&org.0.id, &node, &run_id, &record)
        .await?;
    let uri = base.join(&run_path(&org.0.name, &node, &run_id));
    let body = json!({ "uri": uri, "run_id": run_id });
    match outcome {
        EndOutcome::Created => Ok(created(&uri, body)),
        EndOutcome::Updated => Ok(reply(StatusCode::OK, body)),
        EndOutcome::OtherNode => Err(other_node(&run_id)),
        EndOutcome::Unknown => Err(Error::not_found(format!(
            "No run '{run_id}' for node '{node}': post the run start first, or send start_time"
        ))),
    }
}
