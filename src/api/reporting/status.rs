//! `GET /reports/status`: live checks of what Reporting depends on. Unsigned, like
//! `/_status`, so it can still answer when the database (and with it authentication) is
//! down. `index` is the search index, checked with a real (empty) query.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;

use crate::api::infra::reply;
use crate::search::query::Query;
use crate::state::AppState;

fn online(ok: bool) -> &'static str {
    if ok {
        "online"
    } else {
        "offline"
    }
}

pub async fn show_status(State(state): State<AppState>) -> Response {
    let db = match state.store.ping().await {
        Ok(()) => true,
        Err(e) => {
            tracing::error!(error = %e, "reports status: database check failed");
            false
        }
    };
    // No org has an empty id, so this touches the engine without matching anything.
    let index = match state.search.query("", "node", Query::All, 0, 0).await {
        Ok(_) => true,
        Err(e) => {
            tracing::error!(error = %e, "reports status: search index check failed");
            false
        }
    };
    let code = if db && index {
        StatusCode::OK
    } else {
        StatusCode::INTERNAL_SERVER_ERROR
    };
    reply(
        code,
        json!({ "rest_api": "online", "sql_db": online(db), "index": online(index) }),
    )
}
