//! Search (`/search`, `/search/INDEX` GET and partial-search POST), and the layer that
//! holds a write's response until its change is searchable (read-your-writes).

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Map, Value};
use std::time::Duration;

use super::reply;
use crate::api::{ApiVersion, BaseUrl};
use crate::auth::extract::Org;
use crate::auth::{authz, Requestor};
use crate::config::SearchConfig;
use crate::error::{Error, Result};
use crate::search::engine::SearchError;
use crate::search::feed::BUILT_IN;
use crate::search::rows::{self, IndexName, Paths};
use crate::search::{limits, query};
use crate::state::AppState;
use crate::store::search::tracking_appends;

/// `GET /search`: the built-in indexes and one per data bag.
pub async fn list_indexes(State(s): State<AppState>, org: Org, base: BaseUrl) -> Result<Response> {
    let mut names: Vec<String> = BUILT_IN.iter().map(|n| n.to_string()).collect();
    names.extend(s.store.object_names(&org.0.id, "data_bag", "").await?);
    let out: Map<String, Value> = names
        .into_iter()
        .map(|n| {
            let url = base.join(&format!("/organizations/{}/search/{n}", org.0.name));
            (n, Value::String(url))
        })
        .collect();
    Ok(reply(StatusCode::OK, Value::Object(out)))
}

type Params = std::result::Result<Query<Vec<(String, String)>>, QueryRejection>;

/// `q`, `start` and `rows` as erchef reads them (`sort` is accepted and ignored).
struct SearchParams {
    query: query::Query,
    start: usize,
    rows: usize,
}

fn parse_params(params: Params, limits: &SearchConfig) -> Result<SearchParams> {
    let Query(pairs) = params.map_err(|_| Error::bad_request("invalid search query string"))?;
    let get = |k: &str| {
        pairs
            .iter()
            .rev()
            .find(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
    };
    let int = |k: &str, default: usize| match get(k) {
        None => Ok(default),
        Some(v) => query::decode_again(v)
            .trim()
            .parse::<usize>()
            .map_err(|_| Error::bad_request(format!("invalid '{k}' value: '{v}'"))),
    };
    let q = match get("q") {
        None => "*:*".to_string(),
        Some(q) => query::decode_again(q),
    };
    limits::check_length(&q, limits).map_err(Error::bad_request)?;
    let parsed =
        query::parse(&q).map_err(|_| Error::bad_request(format!("invalid search query: '{q}'")))?;
    limits::check(&parsed, limits).map_err(Error::bad_request)?;
    Ok(SearchParams {
        query: parsed,
        start: int("start", 0)?,
        rows: int("rows", 1000)?,
    })
}

pub async fn search(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    ApiVersion(version): ApiVersion,
    base: BaseUrl,
    Path((_, index)): Path<(String, String)>,
    params: Params,
) -> Result<Response> {
    let p = parse_params(params, &s.config.search)?;
    run(&s, &who, &org, version, &base, &index, p, None).await
}

#[allow(clippy::too_many_arguments)]
pub async fn partial_search(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    ApiVersion(version): ApiVersion,
    base: BaseUrl,
    Path((_, index)): Path<(String, String)>,
    params: Params,
    body: Bytes,
) -> Result<Response> {
    let p = parse_params(params, &s.config.search)?;
    let paths = rows::parse_paths(&body)
        .ok_or_else(|| Error::bad_request("invalid partial search request body"))?;
    run(&s, &who, &org, version, &base, &index, p, Some(paths)).await
}

#[allow(clippy::too_many_arguments)]
async fn run(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    version: u8,
    base: &BaseUrl,
    index: &str,
    p: SearchParams,
    paths: Option<Paths>,
) -> Result<Response> {
    let index = IndexName::parse(index);
    let mut bag_id = None;
    let mut bag_readable = true;
    if let IndexName::Bag(bag) = &index {
        let row = s
            .store
            .object(&org.0.id, "data_bag", "", bag)
            .await?
            .ok_or_else(|| {
                Error::not_found(format!(
                    "I don't know how to search for {bag} data objects."
                ))
            })?;
        bag_readable = authz::require(&s.store, who, &row.id, "read").await.is_ok();
        bag_id = Some(row.id);
    }
    s.search.catch_up().await?;
    let budget = Duration::from_millis(s.config.search.query_timeout_ms);
    let hits = s
        .search
        .query_within(&org.0.id, &index.engine(), p.query, p.start, p.rows, budget)
        .await
        .map_err(|e| match e {
            SearchError::BadQuery(m) => Error::bad_request(format!("invalid search query: {m}")),
            // A 400, not a 5xx: clients retry 5xx answers, which would run it again.
            SearchError::TimedOut(_) | SearchError::Stopped => Error::bad_request(format!(
                "Search query stopped: it ran longer than the {} ms allowed; \
                 make it more selective (fewer wildcards, longer literal prefixes)",
                budget.as_millis()
            )),
            SearchError::Internal(e) => Error::Internal(e),
        })?;
    let loaded = if bag_readable {
        rows::load(
            &s.store,
            &org.0.id,
            &org.0.name,
            &index,
            bag_id.as_deref(),
            &hits.names,
            version,
            rows::needs_body(&index, paths.as_ref()),
        )
        .await?
    } else {
        Vec::new()
    };
    let permitted = rows::readable(&s.store, who, loaded).await?;
    let text = rows::render(
        permitted,
        paths.as_ref(),
        &base.0,
        &org.0.name,
        &index,
        hits.total,
        p.start,
    );
    Ok(([(CONTENT_TYPE, "application/json")], text).into_response())
}

/// Holds a successful write's response until the search index has applied the change
/// log as of that write, so what a client just saved is what it finds next. Requests that
/// appended nothing to the change log (reads, file uploads, ACL changes…) pass straight on.
pub async fn read_your_writes(State(s): State<AppState>, req: Request, next: Next) -> Response {
    let (response, appended) = tracking_appends(next.run(req)).await;
    if appended && response.status().is_success() && s.search.is_available() {
        match s.store.search_change_head().await {
            Ok(head) => s.search.wait_for(head).await,
            Err(e) => tracing::warn!(error = %e, "reading the search change head failed"),
        }
    }
    response
}
