//! `/api/orgs[/ORG]`: the Infra organizations seen the Compliance way (`login` is the short
//! name, `name` the full name). Creating one here builds the same org as
//! `POST /organizations` (groups, containers, validator, `_default` environment), with the
//! creator in its `owners` team.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::access::{find_org, forbidden, org_access};
use super::{Body, CError, CResult, ComplianceUser};
use crate::error::Error;
use crate::model::names;
use crate::state::AppState;
use crate::store::now;
use crate::store::orgs::OrgRow;

fn render(o: &OrgRow) -> Value {
    json!({ "id": o.id, "name": o.full_name, "login": o.name })
}

fn string<'a>(body: &'a Value, name: &str) -> CResult<Option<&'a str>> {
    match body.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(CError(Error::bad_request(format!(
            "'{name}' must be a string"
        )))),
    }
}

pub async fn list_orgs(State(s): State<AppState>, who: ComplianceUser) -> CResult<Response> {
    let all = s.store.list_orgs().await?;
    let mut out = Vec::new();
    for o in &all {
        if org_access(&s, &who, o).await?.member {
            out.push(render(o));
        }
    }
    Ok(Json(out).into_response())
}

pub async fn create_org(
    State(s): State<AppState>,
    who: ComplianceUser,
    Body(body): Body,
) -> CResult<Response> {
    if !(who.site_admin() || who.perms.org_admin) {
        return Err(forbidden(
            "create organizations (org_admin or site_admin only)",
        ));
    }
    let full_name =
        string(&body, "name")?.ok_or_else(|| CError(Error::bad_request("'name' is required")))?;
    if !names::is_org_full_name(full_name) {
        return Err(CError(Error::bad_request(
            "'name' is not a valid organization name",
        )));
    }
    let login = match string(&body, "login")? {
        Some(l) => l.to_string(),
        None => full_name
            .to_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect(),
    };
    if !names::is_org_name(&login) {
        return Err(CError(Error::bad_request(
            "'login' may only contain a-z, 0-9, _ and - (and must start with a letter or digit)",
        )));
    }
    if s.store.org_by_name(&login).await?.is_some() {
        return Err(CError(Error::conflict(format!(
            "organization '{login}' exists"
        ))));
    }
    let (org, _validator_key) = crate::ops::create_org(
        &s.store,
        &login,
        full_name,
        &who.user.id,
        who.user.superuser,
    )
    .await?;
    s.store
        .add_org_owners(&org.id, std::slice::from_ref(&who.user.id))
        .await?;
    Ok(Json(render(&org)).into_response())
}

pub async fn show_org(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path(key): Path<String>,
) -> CResult<Response> {
    let org = find_org(&s, &key).await?;
    if !org_access(&s, &who, &org).await?.member {
        return Err(forbidden("see this organization"));
    }
    Ok(Json(render(&org)).into_response())
}

pub async fn update_org(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path(key): Path<String>,
    Body(body): Body,
) -> CResult<Response> {
    let mut org = find_org(&s, &key).await?;
    if !org_access(&s, &who, &org).await?.owner {
        return Err(forbidden("change this organization (owners only)"));
    }
    if let Some(login) = string(&body, "login")? {
        if login != org.name {
            return Err(CError(Error::bad_request(
                "an organization's login cannot be changed",
            )));
        }
    }
    let full_name =
        string(&body, "name")?.ok_or_else(|| CError(Error::bad_request("'name' is required")))?;
    if !names::is_org_full_name(full_name) {
        return Err(CError(Error::bad_request(
            "'name' is not a valid organization name",
        )));
    }
    org.full_name = full_name.to_string();
    org.updated_at = now();
    s.store.update_org(&org).await?;
    Ok(StatusCode::OK.into_response())
}

pub async fn delete_org(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path(key): Path<String>,
) -> CResult<Response> {
    let org = find_org(&s, &key).await?;
    if !org_access(&s, &who, &org).await?.owner {
        return Err(forbidden("delete this organization (owners only)"));
    }
    s.store.delete_org(&org.id).await?;
    Ok(StatusCode::OK.into_response())
}
