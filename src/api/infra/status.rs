//! `/_status` (unsigned health), `/server_api_version` and `/license`.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use super::{reply, MAX_API_VERSION, MIN_API_VERSION};
use crate::auth::{keygen, Requestor};
use crate::error::Result;
use crate::state::AppState;

/// Live checks of what the server depends on; 500 with the same shape when one fails.
pub async fn show_status(State(state): State<AppState>) -> Response {
    let db = match state.store.ping().await {
        Ok(()) => "pong",
        Err(e) => {
            tracing::error!(error = %e, "status: database check failed");
            "fail"
        }
    };
    let head = state.store.search_change_head().await.ok();
    let ok = db == "pong";
    let (ready, target) = keygen::pool_stats();
    // erchef's shape; the version is left out as erchef does by default.
    let body = json!({
        "status": if ok { "pong" } else { "fail" },
        "upstreams": { "chef_sql": db },
        "keygen": { "keys": ready, "max": target },
        "indexing": { "mode": "changelog", "last_change": head },
    });
    reply(
        if ok {
            StatusCode::OK
        } else {
            StatusCode::INTERNAL_SERVER_ERROR
        },
        body,
    )
}

pub async fn show_server_api_version(_: Requestor) -> Response {
    reply(
        StatusCode::OK,
        json!({ "min_api_version": MIN_API_VERSION, "max_api_version": MAX_API_VERSION }),
    )
}

/// The live node count against the configured (informational) license.
pub async fn show_license(State(state): State<AppState>, _: Requestor) -> Result<Response> {
    let nodes = state.store.count_objects("node").await?;
    let license = &state.config.license;
    Ok(reply(
        StatusCode::OK,
        json!({
            "limit_exceeded": u64::try_from(nodes).unwrap_or(0) > license.nodes,
            "node_license": license.nodes,
            "node_count": nodes,
            "upgrade_url": license.upgrade_url,
        }),
    ))
}
