//! Brigade: one binary serving the Chef Infra Server, Reporting, Compliance and Automate
//! APIs over one store. `build_app` assembles the HTTP service; `serve` runs it on a
//! listener (tests pass a `127.0.0.1:0` listener).

pub mod api;
pub mod auth;
pub mod blobs;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod depsolver;
pub mod error;
pub mod model;
pub mod ops;
pub mod periodic;
pub mod private_fs;
pub mod profile_library;
pub mod profiles;
pub mod run;
pub mod search;
pub mod state;
pub mod store;
mod tls;

use std::future::Future;
use std::time::Duration;

use axum::extract::Request;
use axum::http::HeaderName;
use axum::Router;
use tower::ServiceExt;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

pub use config::Config;
pub use state::AppState;

/// Paths served from the default org when it is configured (erchef's OSC 11 routes).
const DEFAULT_ORG_RESOURCES: [&str; 12] = [
    "cookbooks",
    "clients",
    "data",
    "environments",
    "nodes",
    "principals",
    "roles",
    "sandboxes",
    "search",
    "runs",
    "groups",
    "containers",
];

/// Connects the store, applies migrations, and creates the global groups and the
/// superuser when missing.
pub async fn init_state(config: Config) -> anyhow::Result<AppState> {
    private_fs::prepare_data_dir(&config.data_dir)?;
    let store = store::Store::connect(&config.effective_database_url()).await?;
    store.migrate().await?;
    store.ensure_global_groups().await?;
    bootstrap::ensure_superuser(&store, &config).await?;
    auth::keygen::warm_up();
    let fs_blobs = blobs::FsBlobStore::new(config.data_dir.join("blobs"));
    fs_blobs.create_dirs()?;
    let moved = fs_blobs
        .adopt_legacy(|sum| {
            let store = store.clone();
            async move { Ok(store.checksum_holders(&sum).await?) }
        })
        .await?;
    if moved > 0 {
        tracing::info!(moved, "cookbook files moved to per-org blob namespaces");
    }
    let search = search::Search::open(&config.index_dir(), store.clone())?;
    let mut state = AppState::with_search(config, store, search);
    state.load_webui_key()?;
    Ok(state)
}

/// The whole HTTP application.
pub fn build_app(state: AppState) -> Router {
    let request_id = HeaderName::from_static("x-request-id");
    Router::new()
        .merge(api::infra::router(state.clone()))
        .merge(api::reporting::router(state.clone()))
        .merge(api::compliance::router(&state))
        .with_state(state.clone())
        .layer(RequestBodyLimitLayer::new(state.config.limits.max_file_bytes))
        .layer(CatchPanicLayer::custom(|_| {
            error::Error::Internal(anyhow::anyhow!("handler panicked")).into_response_infra()
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(request_id, MakeRequestUuid))
}

/// `/users/` is `/users`, as on the real server (knife posts to `users/`). Signatures
/// still verify: the canonical path drops trailing slashes too.
fn strip_trailing_slash(mut req: Request) -> Request {
    let path = req.uri().path();
    if path.len() > 1 && path.ends_with('/') {
        let trimmed = path.trim_end_matches('/');
        let trimmed = if trimmed.is_empty() { "/" } else { trimmed };
        let pq = match req.uri().query() {
            Some(q) => format!("{trimmed}?{q}"),
            None => trimmed.to_string(),
        };
        if let Ok(uri) = pq.parse() {
            *req.uri_mut() = uri;
        }
    }
    req
}

/// Rewrites Chef 11 style paths (`/nodes/…`) to the default org before routing, keeping
/// the path the client signed.
fn default_org_rewrite(default_org: String) -> impl Fn(Request) -> Request + Clone {
    move |req: Request| {
        let mut req = strip_trailing_slash(req);
        if default_org.is_empty() {
            return req;
        }
        let path = req.uri().path().to_string();
        let first = path.trim_start_matches('/').split('/').next().unwrap_or("");
        if DEFAULT_ORG_RESOURCES.contains(&first) {
            let pq = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or(&path);
            if let Ok(uri) = format!("/organizations/{default_org}{pq}").parse() {
                req.extensions_mut().insert(auth::extract::SignedPath(path));
                *req.uri_mut() = uri;
            }
        }
        req
    }
}

/// Serves the application on `listener` until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = state.config.clone();
    let _retention = api::reporting::spawn_retention(state.clone());
    let _log_retention = search::log_retention::spawn(
        state.store.clone(),
        config.search.change_log_retention_hours,
    );
    let rewrite = default_org_rewrite(config.default_org.clone());
    let app = build_app(state)
        .map_request(rewrite)
        .map_response(api::infra::erchef_allow);
    match tls::server_config(&config).await? {
        None => {
            let svc = axum::ServiceExt::<Request>::into_make_service(app);
            axum::serve(listener, svc)
                .with_graceful_shutdown(shutdown)
                .await?;
        }
        Some(rustls) => {
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                shutdown.await;
                h.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            let app =
                app.map_request(|r: Request<hyper::body::Incoming>| r.map(axum::body::Body::new));
            let svc = axum::ServiceExt::<Request<hyper::body::Incoming>>::into_make_service(app);
            axum_server::from_tcp_rustls(listener.into_std()?, rustls)
                .handle(handle)
                .serve(svc)
                .await?;
        }
    }
    Ok(())
}
