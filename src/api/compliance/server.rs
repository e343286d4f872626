//! `/api/server/config`: the settings the Compliance server exposed, kept in the database
//! (so every process shares them). Any signed-in user may read them; site admins change
//! them, and every value is checked.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::access::forbidden;
use super::{Body, CError, CResult, ComplianceUser};
use crate::error::Error;
use crate::state::AppState;

const SETTING: &str = "compliance.server_config";

fn defaults(s: &AppState) -> Map<String, Value> {
    let v = json!({
        "port": null, "host": null, "colors": null,
        "detectTimeout": 30, "scanTimeout": 1800, "updateTimeout": 1800,
        "home": null, "licensedNodeCount": s.config.license.nodes,
    });
    v.as_object().cloned().unwrap_or_default()
}

async fn current(s: &AppState) -> CResult<Map<String, Value>> {
    let mut cfg = defaults(s);
    if let Some(stored) = s.store.setting(SETTING).await? {
        if let Ok(Value::Object(m)) = serde_json::from_str::<Value>(&stored) {
            cfg.extend(m);
        }
    }
    Ok(cfg)
}

/// Checks one setting; the reason when it is not acceptable.
fn check(key: &str, v: &Value) -> Result<(), String> {
    let int_in = |lo: u64, hi: u64| v.as_u64().is_some_and(|n| (lo..=hi).contains(&n));
    let ok = match key {
        "detectTimeout" | "scanTimeout" | "updateTimeout" => int_in(1, 86_400),
        "licensedNodeCount" => int_in(0, 10_000_000),
        "port" => v.is_null() || int_in(1, 65_535),
        "colors" => v.is_null() || v.is_boolean(),
        "host" | "home" => v.is_null() || v.as_str().is_some_and(|s| s.len() <= 1024),
        _ => return Err(format!("unknown setting '{key}'")),
    };
    if ok {
        Ok(())
    } else {
        Err(format!("invalid value for '{key}': {v}"))
    }
}

pub async fn show_config(State(s): State<AppState>, _who: ComplianceUser) -> CResult<Response> {
    Ok(Json(Value::Object(current(&s).await?)).into_response())
}

pub async fn update_config(
    State(s): State<AppState>,
    who: ComplianceUser,
    Body(body): Body,
) -> CResult<Response> {
    if !who.site_admin() {
        return Err(forbidden(
            "change the server configuration (site_admin only)",
        ));
    }
    let Value::Object(changes) = body else {
        return Err(CError(Error::bad_request("the body must be a JSON object")));
    };
    for (k, v) in &changes {
        check(k, v).map_err(|m| CError(Error::bad_request(m)))?;
    }
    let mut cfg = current(&s).await?;
    cfg.extend(changes);
    s.store
        .set_setting(SETTING, &Value::Object(cfg).to_string())
        .await?;
    Ok(StatusCode::OK.into_response())
}

#[cfg(test)]
mod tests {
    use super::check;
    use serde_json::json;

    #[test]
    fn settings_are_checked() {
        assert!(check("scanTimeout", &json!(600)).is_ok());
        assert!(check("scanTimeout", &json!(0)).is_err());
        assert!(check("scanTimeout", &json!("600")).is_err());
        assert!(check("port", &json!(null)).is_ok());
        assert!(check("port", &json!(70000)).is_err());
        assert!(check("colors", &json!(true)).is_ok());
        assert!(check("nope", &json!(1)).is_err());
    }
}
