//! The Reporting API (`/organizations/ORG/reports/…`, `/reports/status`): chef-client posts
//! the start and the end of each run; knife-reporting and people read runs, resources and
//! statistics. Every route needs `X-Ops-Reporting-Protocol-Version: 0.1.0` (absent: 404,
//! so chef-client quietly turns reporting off; another value: 406). Org routes sit behind
//! the signed-request gate; errors use the `{"error": [...]}` envelope, and responses carry
//! `X-Ops-Server-API-Version` like every Infra response, since chef-client reads it from
//! each answer it gets. Who may post and read which runs: `access`.

mod access;
mod ingest;
mod retention;
mod runs;
mod stats;
mod status;

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, MethodRouter};
use axum::Router;

pub use retention::spawn_retention;

use crate::auth::extract::signed_request;
use crate::error::{Error, Message};
use crate::state::AppState;

pub const PROTOCOL_HEADER: &str = "x-ops-reporting-protocol-version";
pub const PROTOCOL_VERSION: &str = "0.1.0";

pub fn router(state: AppState) -> Router<AppState> {
    let gate = |mr: MethodRouter<AppState>| {
        mr.route_layer(middleware::from_fn_with_state(
            state.clone(),
            signed_request,
        ))
    };
    Router::new()
        .route("/reports/status", get(status::show_status))
        .route(
            "/organizations/{org}/reports/nodes/{node}/runs",
            gate(get(runs::list_node_runs).post(ingest::start_run)),
        )
        .route(
            "/organizations/{org}/reports/nodes/{node}/runs/{run_id}",
            gate(get(runs::show_run).post(ingest::end_run)),
        )
        .route(
            "/organizations/{org}/reports/nodes/{node}/runs/{run_id}/{resource}",
            gate(get(runs::show_resource)),
        )
        .route(
            "/organizations/{org}/reports/org/runs",
            gate(get(runs::list_org_runs)),
        )
        .route(
            "/organizations/{org}/reports/runs/counts",
            gate(get(stats::run_counts)),
        )
        .route(
            "/organizations/{org}/reports/runs/durations",
            gate(get(stats::run_durations)),
        )
        .route_layer(middleware::from_fn(protocol_version))
        .layer(middleware::from_fn(super::infra::api_version))
}

/// The reporting protocol check, before authentication: a server (or org) without
/// reporting must look like one to chef-client, which only tolerates 404 and 406 here.
async fn protocol_version(req: Request, next: Next) -> Response {
    match req.headers().get(PROTOCOL_HEADER).map(|v| v.to_str()) {
        None => Error::not_found(format!(
            "Reporting requests need the X-Ops-Reporting-Protocol-Version header ({PROTOCOL_VERSION})"
        ))
        .into_response(),
        Some(Ok(v)) if v.trim() == PROTOCOL_VERSION => next.run(req).await,
        Some(v) => Error::NotAcceptable(Message::List(format!(
            "Reporting protocol version '{}' is not supported; this server speaks {PROTOCOL_VERSION}",
            v.unwrap_or("")
        )))
        .into_response(),
    }
}

/// The query string as name → value (the last one wins); a malformed query is a 400 in
/// the family's envelope.
pub struct Params(pub HashMap<String, String>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).map(String::as_str)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = Error;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        Query::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map(|Query(q)| Params(q))
            .map_err(|_| Error::bad_request("invalid query string"))
    }
}

/// The path of a run under its org and node.
fn run_path(org: &str, node: &str, run_id: &str) -> String {
    format!("/organizations/{org}/reports/nodes/{node}/runs/{run_id}")
}
