//! The Chef Infra Server API: global routes (`/users`, `/organizations`, `/_status`, …) and
//! organization routes. Every response carries `X-Ops-Server-API-Version`; errors use the
//! `{"error": [...]}` envelope.

mod acl_members;
mod acls;
mod clients;
mod cookbook_artifacts;
mod cookbook_versions;
mod cookbooks;
mod data_bags;
mod depsolver;
mod documents;
mod env_cookbooks;
mod environments;
mod file_store;
mod groups;
mod internal;
mod keys;
mod org_users;
mod organizations;
mod policies;
mod policy_groups;
mod sandboxes;
mod search;
mod status;
mod users;

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post, put, MethodRouter};
use axum::{Extension, Json, Router};
use serde_json::{json, Value};

use super::ApiVersion;
use crate::auth::extract::{signed_request, BodyCheck};
use crate::error::Error;
use crate::state::AppState;

pub const MIN_API_VERSION: u8 = 0;
pub const MAX_API_VERSION: u8 = 2;
const VERSION_HEADER: &str = "x-ops-server-api-version";

pub fn router(state: AppState) -> Router<AppState> {
    // The gate wraps each route's methods only, so an unsupported method is a 405
    // before authentication, as erchef answers.
    let gate = |mr: MethodRouter<AppState>| {
        mr.route_layer(middleware::from_fn_with_state(
            state.clone(),
            signed_request,
        ))
    };
    let signed = Router::new()
        .route(
            "/server_api_version",
            gate(get(status::show_server_api_version)),
        )
        .route("/license", gate(get(status::show_license)))
        .route(
            "/authenticate_user",
            gate(post(users::authenticate_user))
                .route_layer(Extension(BodyCheck(users::check_authenticate_body))),
        )
        .route("/system_recovery", gate(post(internal::system_recovery)))
        .route(
            "/organizations/{org}/controls",
            gate(get(internal::controls).post(internal::controls)),
        )
        .route(
            "/organizations/{org}/validate/{*path}",
            gate(
                get(internal::validate)
                    .post(internal::validate)
                    .put(internal::validate)
                    .delete(internal::validate),
            )
            .layer(middleware::from_fn(internal::validate_target)),
        )
        .route(
            "/users",
            gate(get(users::list_users).post(users::create_user)),
        )
        .route(
            "/users/{user}",
            gate(
                get(users::show_user)
                    .put(users::update_user)
                    .delete(users::delete_user),
            ),
        )
        .route(
            "/users/{user}/organizations",
            gate(get(users::list_user_orgs)),
        )
        .route(
            "/users/{user}/keys",
            gate(get(keys::list_user_keys).post(keys::create_user_key)),
        )
        .route(
            "/users/{user}/keys/{key}",
            gate(
                get(keys::show_user_key)
                    .put(keys::update_user_key)
                    .delete(keys::delete_user_key),
            ),
        )
        .route(
            "/organizations",
            gate(get(organizations::list_orgs).post(organizations::create_org)),
        )
        .route(
            "/organizations/{org}",
            gate(
                get(organizations::show_org)
                    .put(organizations::update_org)
                    .delete(organizations::delete_org),
            ),
        )
        .route(
            "/organizations/{org}/nodes",
            gate(get(documents::list_nodes).post(documents::create_node)),
        )
        .route(
            "/organizations/{org}/nodes/{name}",
            gate(
                get(documents::show_node)
                    .head(documents::head_node)
                    .put(documents::update_node)
                    .delete(documents::delete_node),
            ),
        )
        .route(
            "/organizations/{org}/roles",
            gate(get(documents::list_roles).post(documents::create_role)),
        )
        .route(
            "/organizations/{org}/roles/{name}",
            gate(
                get(documents::show_role)
                    .put(documents::update_role)
                    .delete(documents::delete_role),
            ),
        )
        .route(
            "/organizations/{org}/environments",
            gate(get(documents::list_environments).post(documents::create_environment)),
        )
        .route(
            "/organizations/{org}/environments/{name}",
            gate(
                get(documents::show_environment)
                    .put(documents::update_environment)
                    .delete(documents::delete_environment),
            ),
        )
        .route(
            "/organizations/{org}/clients",
            gate(get(clients::list_clients).post(clients::create_client)),
        )
        .route(
            "/organizations/{org}/clients/{name}",
            gate(
                get(clients::show_client)
                    .put(clients::update_client)
                    .delete(clients::delete_client),
            ),
        )
        .route(
            "/organizations/{org}/clients/{name}/keys",
            gate(get(clients::list_client_keys).post(clients::create_client_key)),
        )
        .route(
            "/organizations/{org}/clients/{name}/keys/{key}",
            gate(
                get(clients::show_client_key)
                    .put(clients::update_client_key)
                    .delete(clients::delete_client_key),
            ),
        )
        .route(
            "/organizations/{org}/groups",
            gate(get(groups::list_groups).post(groups::create_group)),
        )
        .route(
            "/organizations/{org}/groups/{name}",
            gate(
                get(groups::show_group)
                    .put(groups::update_group)
                    .delete(groups::delete_group),
            ),
        )
        .route(
            "/organizations/{org}/containers",
            gate(get(groups::list_containers).post(groups::create_container)),
        )
        .route(
            "/organizations/{org}/containers/{name}",
            gate(get(groups::show_container).delete(groups::delete_container)),
        )
        .route(
            "/organizations/{org}/sandboxes",
            gate(post(sandboxes::create_sandbox)),
        )
        .route(
            "/organizations/{org}/sandboxes/{id}",
            gate(put(sandboxes::commit_sandbox)),
        )
        .route(
            "/organizations/{org}/file_store/checksums/{checksum}",
            get(file_store::get_file)
                .put(file_store::put_file)
                .route_layer(middleware::from_fn_with_state(
                    state.clone(),
                    file_store::file_auth,
                ))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/organizations/{org}/cookbooks",
            gate(get(cookbooks::list_cookbooks)),
        )
        .route(
            "/organizations/{org}/cookbooks/_latest",
            gate(get(cookbooks::latest_cookbooks)),
        )
        .route(
            "/organizations/{org}/cookbooks/_recipes",
            gate(get(cookbooks::list_recipes)),
        )
        .route(
            "/organizations/{org}/cookbooks/{name}",
            gate(get(cookbooks::show_cookbook)),
        )
        .route(
            "/organizations/{org}/cookbooks/{name}/_acl",
            gate(get(acls::show_acl)),
        )
        .route(
            "/organizations/{org}/cookbooks/{name}/_acl/{perm}",
            gate(put(acls::update_ace)),
        )
        .route(
            "/organizations/{org}/cookbooks/{name}/{version}",
            gate(
                get(cookbook_versions::show_version)
                    .put(cookbook_versions::put_version)
                    .delete(cookbook_versions::delete_version),
            ),
        )
        .route(
            "/organizations/{org}/universe",
            gate(get(cookbooks::universe)),
        )
        .route(
            "/organizations/{org}/environments/{name}/cookbooks",
            gate(get(env_cookbooks::list_cookbooks)),
        )
        .route(
            "/organizations/{org}/environments/{name}/cookbooks/{cookbook}",
            gate(get(env_cookbooks::show_cookbook)),
        )
        .route(
            "/organizations/{org}/environments/{name}/recipes",
            gate(get(env_cookbooks::list_recipes)),
        )
        .route(
            "/organizations/{org}/environments/{name}/cookbook_versions",
            gate(post(depsolver::solve)),
        )
        .route(
            "/organizations/{org}/cookbook_artifacts",
            gate(get(cookbook_artifacts::list_artifacts)),
        )
        .route(
            "/organizations/{org}/cookbook_artifacts/{name}",
            gate(get(cookbook_artifacts::show_artifact)),
        )
        .route(
            "/organizations/{org}/cookbook_artifacts/{name}/_acl",
            gate(get(acls::show_acl)),
        )
        .route(
            "/organizations/{org}/cookbook_artifacts/{name}/_acl/{perm}",
            gate(put(acls::update_ace)),
        )
        .route(
            "/organizations/{org}/cookbook_artifacts/{name}/{id}",
            gate(
                get(cookbook_artifacts::show_version)
                    .put(cookbook_artifacts::put_version)
                    .delete(cookbook_artifacts::delete_version),
            ),
        )
        .route(
            "/organizations/{org}/policies",
            gate(get(policies::list_policies)),
        )
        .route(
            "/organizations/{org}/policies/{name}",
            gate(get(policies::show_policy).delete(policies::delete_policy)),
        )
        .route(
            "/organizations/{org}/policies/{name}/revisions",
            gate(post(policies::create_revision)),
        )
        .route(
            "/organizations/{org}/policies/{name}/revisions/{revision}",
            gate(get(policies::show_revision).delete(policies::delete_revision)),
        )
        .route(
            "/organizations/{org}/policy_groups",
            gate(get(policy_groups::list_groups)),
        )
        .route(
            "/organizations/{org}/policy_groups/{name}",
            gate(get(policy_groups::show_group).delete(policy_groups::delete_group)),
        )
        .route(
            "/organizations/{org}/policy_groups/{group}/policies/{name}",
            gate(
                get(policy_groups::show_group_policy)
                    .put(policy_groups::put_group_policy)
                    .delete(policy_groups::delete_group_policy),
            ),
        )
        .route(
            "/organizations/{org}/policies/{name}/_acl",
            gate(get(acls::show_acl)),
        )
        .route(
            "/organizations/{org}/policies/{name}/_acl/{perm}",
            gate(put(acls::update_ace)),
        )
        .route(
            "/organizations/{org}/policy_groups/{name}/_acl",
            gate(get(acls::show_acl)),
        )
        .route(
            "/organizations/{org}/policy_groups/{name}/_acl/{perm}",
            gate(put(acls::update_ace)),
        )
        .route(
            "/organizations/{org}/nodes/{name}/_acl",
            gate(get(acls::show_acl)),
        )
        .route(
            "/organizations/{org}/nodes/{name}/_acl/{perm}",
            gate(put(acls::update_ace)),
        )
        .route(
            "/organizations/{org}/roles/{name}/_acl",
            gate(get(acls::show_acl)),
        )
        .route(
            "/organizations/{org}/roles/{name}/_acl/{perm}",
            gate(put(acls::update_ace)),
        )
        .route(
            "/organizations/{org}/environments/{name}/_acl",
            gate(get(acls::show_acl)),
        )
        .route(
            "/organizations/{org}/environments/{name}/_acl/{perm}",
            gate(put(acls::update_ace)),
        )
        .route(
            "/organizations/{org}/data/{name}/_acl",
            gate(get(acls::show_acl)),
        )
        .route(
            "/organizations/{org}/data/{name}/_acl/{perm}",
            gate(put(acls::update_ace)),
        )
        .route(
            "/organizations/{org}/clients/{name}/_acl",
            gate(get(acls::show_acl)),
        )
        .route(
            "/organizations/{org}/clients/{name}/_acl/{perm}",
            gate(put(acls::update_ace)),
        )
        .route(
            "/organizations/{org}/groups/{name}/_acl",
            gate(get(acls::show_acl)),
        )
        .route(
            "/organizations/{org}/groups/{name}/_acl/{perm}",
            gate(put(acls::update_ace)),
        )
        .route(
            "/organizations/{org}/containers/{name}/_acl",
            gate(get(acls::show_acl)),
        )
        .route(
            "/organizations/{org}/containers/{name}/_acl/{perm}",
            gate(put(acls::update_ace)),
        )
        .route(
            "/organizations/{org}/organizations/_acl",
            gate(get(acls::show_acl)),
        )
        .route(
            "/organizations/{org}/organizations/_acl/{perm}",
            gate(put(acls::update_ace)),
        )
        .route("/users/{user}/_acl", gate(get(acls::show_acl)))
        .route("/users/{user}/_acl/{perm}", gate(put(acls::update_ace)))
        .route(
            "/organizations/{org}/users",
            gate(get(org_users::list_org_users).post(org_users::add_org_user)),
        )
        .route(
            "/organizations/{org}/users/{name}",
            gate(get(org_users::show_org_user).delete(org_users::remove_org_user)),
        )
        .route(
            "/organizations/{org}/users/{name}/keys",
            gate(get(org_users::list_member_keys)),
        )
        .route(
            "/organizations/{org}/users/{name}/keys/{key}",
            gate(get(org_users::show_member_key)),
        )
        .route(
            "/organizations/{org}/association_requests",
            gate(get(org_users::list_org_invitations).post(org_users::invite)),
        )
        .route(
            "/organizations/{org}/association_requests/{id}",
            gate(axum::routing::delete(org_users::cancel_invitation)),
        )
        .route(
            "/users/{user}/association_requests",
            gate(get(org_users::list_user_invitations)),
        )
        .route(
            "/users/{user}/association_requests/count",
            gate(get(org_users::count_user_invitations)),
        )
        .route(
            "/users/{user}/association_requests/{id}",
            gate(put(org_users::answer_invitation)),
        )
        .route(
            "/organizations/{org}/environments/{name}/nodes",
            gate(get(environments::environment_nodes)),
        )
        .route(
            "/organizations/{org}/environments/{name}/roles/{role}",
            gate(get(environments::environment_role)),
        )
        .route(
            "/organizations/{org}/roles/{name}/environments",
            gate(get(environments::role_environments)),
        )
        .route(
            "/organizations/{org}/roles/{name}/environments/{env}",
            gate(get(environments::role_environment)),
        )
        .route(
            "/organizations/{org}/data",
            gate(get(data_bags::list_bags).post(data_bags::create_bag)),
        )
        .route(
            "/organizations/{org}/data/{bag}",
            gate(
                get(data_bags::show_bag)
                    .post(data_bags::create_item)
                    .delete(data_bags::delete_bag),
            ),
        )
        .route(
            "/organizations/{org}/data/{bag}/{item}",
            gate(
                get(data_bags::show_item)
                    .put(data_bags::update_item)
                    .delete(data_bags::delete_item),
            ),
        )
        .route(
            "/organizations/{org}/search",
            gate(get(search::list_indexes)),
        )
        .route(
            "/organizations/{org}/search/{index}",
            gate(get(search::search).post(search::partial_search)),
        )
        .route(
            "/organizations/{org}/{*rest}",
            any(unknown_org_route).layer(middleware::from_fn_with_state(
                state.clone(),
                signed_request,
            )),
        );
    Router::new()
        .route("/_status", get(status::show_status))
        .route(
            "/organizations/{org}/principals/{name}",
            get(environments::show_principal),
        )
        .route(
            "/organizations/{org}/nodes/{name}/_identifiers",
            get(environments::node_identifiers),
        )
        .route(
            "/organizations/{org}/principals",
            get(|| async { Error::not_found("principal name missing") }),
        )
        .route(
            "/organizations/{org}/required_recipe",
            any(environments::required_recipe),
        )
        .merge(signed)
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            search::read_your_writes,
        ))
        .layer(middleware::from_fn(api_version))
}

/// Signed requests for org paths no route serves; `TYPE/NAME/_identifiers` names the type
/// as erchef does.
async fn unknown_org_route(
    axum::extract::Path((_, rest)): axum::extract::Path<(String, String)>,
) -> Error {
    let parts: Vec<&str> = rest.split('/').collect();
    if let [kind, _, "_identifiers"] = parts.as_slice() {
        return Error::not_found(format!("Unsupported object type: '{kind}'."));
    }
    Error::not_found("not found")
}

async fn not_found() -> Error {
    Error::not_found("not found")
}

/// Negotiates the API version (406 for an unsupported one, before anything else) and
/// stamps the version header on every response.
pub async fn api_version(mut req: Request, next: Next) -> Response {
    if let Some(low) = old_chef_version(&req) {
        let body = json!({
            "error": format!("400 - Bad Request: Chef Client version 10 or higher required (X-Chef-Version is {low})")
        });
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let raw = req
        .headers()
        .get(VERSION_HEADER)
        .map(|v| v.to_str().unwrap_or("").trim().to_string());
    let parsed: Option<i64> = match &raw {
        None => Some(0),
        Some(s) => s.parse().ok(),
    };
    let mut response = match parsed {
        Some(v) if (MIN_API_VERSION as i64..=MAX_API_VERSION as i64).contains(&v) => {
            req.extensions_mut().insert(ApiVersion(v as u8));
            let mut r = next.run(req).await;
            set_version_header(&mut r, &v.to_string(), &v.to_string());
            return r;
        }
        _ => {
            let shown = raw.clone().unwrap_or_default();
            let body = json!({
                "error": "invalid-x-ops-server-api-version",
                "message": format!("Specified version {shown} not supported"),
                "min_version": MIN_API_VERSION,
                "max_version": MAX_API_VERSION,
            });
            (StatusCode::NOT_ACCEPTABLE, Json(body)).into_response()
        }
    };
    let requested = parsed.map(|v| v.to_string()).unwrap_or_else(|| "-1".into());
    set_version_header(&mut response, &requested, "-1");
    response
}

/// An `X-Chef-Version` older than 10 (the real server's front end refuses those).
fn old_chef_version(req: &Request) -> Option<String> {
    let v = req.headers().get("x-chef-version")?.to_str().ok()?.trim();
    let major: u64 = v.split('.').next()?.parse().ok()?;
    (major < 10).then(|| v.to_string())
}

/// erchef's `Allow` lists the methods a resource declares, comma-and-space separated,
/// without the HEAD the router adds for every GET. The router sets `Allow` outside every
/// router layer, so this wraps the whole application (see `crate::serve`).
pub fn erchef_allow(mut r: Response) -> Response {
    if r.status() != StatusCode::METHOD_NOT_ALLOWED {
        return r;
    }
    let Some(allow) = r.headers().get(axum::http::header::ALLOW) else {
        return r;
    };
    let methods: Vec<&str> = allow
        .to_str()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|m| !m.is_empty() && *m != "HEAD")
        .collect();
    if let Ok(v) = HeaderValue::from_str(&methods.join(", ")) {
        r.headers_mut().insert(axum::http::header::ALLOW, v);
    }
    r
}

fn set_version_header(r: &mut Response, requested: &str, used: &str) {
    let value = json!({
        "min_version": MIN_API_VERSION.to_string(),
        "max_version": MAX_API_VERSION.to_string(),
        "request_version": requested,
        "response_version": used,
    });
    if let Ok(v) = HeaderValue::from_str(&value.to_string()) {
        r.headers_mut().insert(VERSION_HEADER, v);
    }
}

/// Renders an error in the Infra envelope (401s also carry `WWW-Authenticate`).
pub fn render_error(e: Error) -> Response {
    e.log();
    let status = e.status();
    let mut r = match e.infra_body() {
        Some(body) => (status, Json(body)).into_response(),
        None => status.into_response(),
    };
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            axum::http::header::WWW_AUTHENTICATE,
            HeaderValue::from_static("X-Ops-Sign version=\"1.0\" version=\"1.1\" version=\"1.3\""),
        );
    }
    r
}

/// A JSON response with a status.
pub fn reply(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

/// A JSON answer already serialised (a stored document, say).
pub fn reply_text(status: StatusCode, json: String) -> Response {
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        json,
    )
        .into_response()
}

/// 201 with `Location`, as erchef answers creations and renames.
pub fn created(location: &str, body: Value) -> Response {
    with_location(reply(StatusCode::CREATED, body), location)
}

/// `created` for a body already serialised.
pub fn created_text(location: &str, json: String) -> Response {
    with_location(reply_text(StatusCode::CREATED, json), location)
}

fn with_location(mut r: Response, location: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(axum::http::header::LOCATION, v);
    }
    r
}
