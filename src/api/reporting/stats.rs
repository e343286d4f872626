//! Run statistics for dashboards: `GET …/reports/runs/counts` (runs per minute, hour, day
//! or week, split by status) and `GET …/reports/runs/durations` (finished runs by how
//! long they took). Both cover runs that started in `[from, until]`, optionally one
//! node's (`node=`), and list every bucket, empty ones included.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::{access, Params};
use crate::api::infra::reply;
use crate::auth::extract::Org;
use crate::auth::Requestor;
use crate::error::{Error, Result};
use crate::model::report::{format_time, Granularity, Window, DURATION_BOUNDS, STATUSES};
use crate::state::AppState;
use crate::store::reports::RunFilter;

/// The most buckets one counts answer lists.
pub const MAX_BUCKETS: i64 = 10_000;

/// Durations without `from` cover the last 24 hours.
const DEFAULT_DURATION_SPAN: i64 = 86_400;

fn zero_counts() -> Map<String, Value> {
    let mut m = Map::new();
    m.insert("total".into(), json!(0));
    for s in STATUSES {
        m.insert(s.into(), json!(0));
    }
    m
}

fn add(m: &mut Map<String, Value>, key: &str, n: i64) {
    let old = m.get(key).and_then(Value::as_i64).unwrap_or(0);
    m.insert(key.into(), json!(old + n));
}

fn node_filter(q: &Params) -> Option<String> {
    q.get("node").filter(|n| !n.is_empty()).map(str::to_string)
}

pub async fn run_counts(
    State(state): State<AppState>,
    org: Org,
    who: Requestor,
    q: Params,
) -> Result<Response> {
    access::require_org_read(&state, &org, &who).await?;
    let g = Granularity::parse(q.get("granularity"))?;
    let now = chrono::Utc::now().timestamp();
    let window = Window::parse(q.get("from"), q.get("until"), now, g.default_span())?;
    let first = g.floor(window.from);
    let buckets = (g.floor(window.until) - first) / g.seconds() + 1;
    if buckets > MAX_BUCKETS {
        return Err(Error::bad_request(format!(
            "The window holds {buckets} {} buckets; at most {MAX_BUCKETS} are served. \
             Narrow 'from'/'until' or choose a coarser granularity",
            g.name()
        )));
    }
    let filter = RunFilter {
        node: node_filter(&q),
        status: None,
        from: window.from,
        until: window.until,
    };
    let rows = state
        .store
        .count_report_runs(&org.0.id, &filter, first, g.seconds())
        .await?;
    let mut counts: Vec<Map<String, Value>> = (0..buckets)
        .map(|i| {
            let mut m = Map::new();
            m.insert("start".into(), json!(format_time(first + i * g.seconds())));
            m.extend(zero_counts());
            m
        })
        .collect();
    let mut total = 0;
    for (bucket, status, n) in rows {
        if let Some(m) = usize::try_from(bucket).ok().and_then(|b| counts.get_mut(b)) {
            add(m, "total", n);
            add(m, &status, n);
            total += n;
        }
    }
    Ok(reply(
        StatusCode::OK,
        json!({
            "granularity": g.name(),
            "from": format_time(window.from),
            "until": format_time(window.until),
            "total": total,
            "counts": counts,
        }),
    ))
}

pub async fn run_durations(
    State(state): State<AppState>,
    org: Org,
    who: Requestor,
    q: Params,
) -> Result<Response> {
    access::require_org_read(&state, &org, &who).await?;
    let now = chrono::Utc::now().timestamp();
    let window = Window::parse(q.get("from"), q.get("until"), now, DEFAULT_DURATION_SPAN)?;
    let filter = RunFilter {
        node: node_filter(&q),
        status: None,
        from: window.from,
        until: window.until,
    };
    let rows = state.store.report_run_durations(&org.0.id, &filter).await?;
    let mut buckets: Vec<Map<String, Value>> = (0..=DURATION_BOUNDS.len())
        .map(|i| {
            let mut m = Map::new();
            let low = if i == 0 { 0 } else { DURATION_BOUNDS[i - 1] };
            m.insert("min_seconds".into(), json!(low));
            m.insert("max_seconds".into(), json!(DURATION_BOUNDS.get(i)));
            m.extend(zero_counts());
            m.remove("started");
            m
        })
        .collect();
    let (mut total, mut sum) = (0i64, 0i64);
    let (mut min, mut max): (Option<i64>, Option<i64>) = (None, None);
    for (bucket, status, n, lo, hi, s) in rows {
        if let Some(m) = usize::try_from(bucket)
            .ok()
            .and_then(|b| buckets.get_mut(b))
        {
            add(m, "total", n);
            add(m, &status, n);
        }
        total += n;
        sum += s;
        min = Some(min.map_or(lo, |m| m.min(lo)));
        max = Some(max.map_or(hi, |m| m.max(hi)));
    }
    let mean = (total > 0).then(|| sum as f64 / total as f64);
    Ok(reply(
        StatusCode::OK,
        json!({
            "from": format_time(window.from),
            "until": format_time(window.until),
            "total": total,
            "min_seconds": min,
            "max_seconds": max,
            "mean_seconds": mean,
            "durations": buckets,
        }),
    ))
}
