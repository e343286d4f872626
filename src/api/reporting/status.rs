//! `GET /reports/status`: live checks of what Reporting depends on. Unsigned, like
//! `/_status`, so it can still answer when the database (and with it authentication) is
//! down. Brigade has no search index yet, so there is no `index` entry to report.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::api::infra::reply;
use crate::state::AppState;

pub async fn show_status(State(state): State<AppState>) -> Response {
    let db = match state.store.ping().await {
        Ok(()) => "online",
        Err(e) => {
            tracing::error!(error = %e, "reports status: database check failed");
            "offline"
        }
    };
    let code = if db == "online" {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    reply(code, json!({ "rest_api": "online", "sql_db": db }))
}
