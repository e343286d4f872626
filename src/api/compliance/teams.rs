//! `/api/orgs/ORG/teams[/TEAM[/members[/MEMBER]]]`. Every org has the team `owners`: the
//! org's Infra `admins` group, with every permission; it cannot be deleted, renamed or
//! left without a member. Other teams carry harden/manage/patch/scan permissions.
//! Members are named by login or user id; adding one also makes them a member of the org.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Map, Value};

use super::access::{
    find_org, find_user, forbidden, org_access, team_permissions, TEAM_PERMISSIONS,
};
use super::{flag, Body, CError, CResult, ComplianceUser};
use crate::error::Error;
use crate::state::AppState;
use crate::store::compliance::TeamRow;
use crate::store::now;
use crate::store::orgs::OrgRow;

const OWNERS: &str = "owners";

/// A team as the API shows it: `owners` or a stored team.
enum Team {
    Owners,
    Stored(TeamRow),
}

async fn find_team(s: &AppState, org: &OrgRow, key: &str) -> CResult<Team> {
    if key == OWNERS {
        return Ok(Team::Owners);
    }
    s.store
        .team(&org.id, key)
        .await?
        .map(Team::Stored)
        .ok_or_else(|| CError(Error::not_found(format!("team '{key}' not found"))))
}

async fn render(s: &AppState, org: &OrgRow, team: &Team) -> CResult<Value> {
    Ok(match team {
        Team::Owners => {
            let all: Map<String, Value> = TEAM_PERMISSIONS
                .iter()
                .map(|p| (p.to_string(), flag(true)))
                .collect();
            json!({
                "id": OWNERS, "org": org.id, "name": "Owners",
                "members": s.store.org_owner_ids(&org.id).await?,
                "permissions": all,
            })
        }
        Team::Stored(t) => json!({
            "id": t.id, "org": org.id, "name": t.name,
            "members": s.store.team_members(&t.id).await?,
            "permissions": serde_json::from_str::<Value>(&t.permissions).unwrap_or(json!({})),
        }),
    })
}

/// The org, after checking that `who` may see (or, with `manage`, change) its teams.
async fn org_for(s: &AppState, who: &ComplianceUser, key: &str, manage: bool) -> CResult<OrgRow> {
    let org = find_org(s, key).await?;
    let access = org_access(s, who, &org).await?;
    if manage && !access.owner {
        return Err(forbidden("change this organization's teams (owners only)"));
    }
    if !access.member {
        return Err(forbidden("see this organization"));
    }
    Ok(org)
}

pub async fn list_teams(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path(org): Path<String>,
) -> CResult<Response> {
    let org = org_for(&s, &who, &org, false).await?;
    let mut out = vec![json!({ "id": OWNERS, "org": org.id, "name": "Owners" })];
    for t in s.store.teams(&org.id).await? {
        out.push(json!({ "id": t.id, "org": org.id, "name": t.name }));
    }
    Ok(Json(out).into_response())
}

fn team_name(body: &Value) -> CResult<Option<String>> {
    match body.get("name") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(n)) if !n.trim().is_empty() && n.chars().count() <= 100 => {
            if n.eq_ignore_ascii_case(OWNERS) {
                return Err(CError(Error::conflict(
                    "the team 'owners' exists in every org",
                )));
            }
            Ok(Some(n.trim().to_string()))
        }
        Some(_) => Err(CError(Error::bad_request(
            "'name' must be a non-empty string of at most 100 characters",
        ))),
    }
}

pub async fn create_team(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path(org): Path<String>,
    Body(body): Body,
) -> CResult<Response> {
    let org = org_for(&s, &who, &org, true).await?;
    let name = team_name(&body)?.ok_or_else(|| CError(Error::bad_request("'name' is required")))?;
    let perms = match body.get("permissions") {
        None | Some(Value::Null) => Map::new(),
        Some(p) => team_permissions(p)?,
    };
    if s.store.team(&org.id, &name).await?.is_some() {
        return Err(CError(Error::conflict(format!("team '{name}' exists"))));
    }
    let row = TeamRow {
        id: uuid::Uuid::new_v4().to_string(),
        org_id: org.id.clone(),
        name,
        permissions: Value::Object(perms.clone()).to_string(),
        created_at: now(),
    };
    s.store.create_team(&row).await?;
    let out = json!({ "org": org.id, "name": row.name, "permissions": perms, "id": row.id });
    Ok(Json(out).into_response())
}

pub async fn show_team(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path((org, team)): Path<(String, String)>,
) -> CResult<Response> {
    let org = org_for(&s, &who, &org, false).await?;
    let team = find_team(&s, &org, &team).await?;
    Ok(Json(render(&s, &org, &team).await?).into_response())
}

pub async fn update_team(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path((org, team)): Path<(String, String)>,
    Body(body): Body,
) -> CResult<Response> {
    let org = org_for(&s, &who, &org, true).await?;
    let Team::Stored(mut row) = find_team(&s, &org, &team).await? else {
        return Err(CError(Error::bad_request(
            "the owners team keeps its name and every permission",
        )));
    };
    if let Some(name) = team_name(&body)? {
        if name != row.name && s.store.team(&org.id, &name).await?.is_some() {
            return Err(CError(Error::conflict(format!("team '{name}' exists"))));
        }
        row.name = name;
    }
    if let Some(p) = body.get("permissions").filter(|p| !p.is_null()) {
        row.permissions = Value::Object(team_permissions(p)?).to_string();
    }
    s.store.update_team(&row).await?;
    Ok(StatusCode::OK.into_response())
}

pub async fn delete_team(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path((org, team)): Path<(String, String)>,
) -> CResult<Response> {
    let org = org_for(&s, &who, &org, true).await?;
    match find_team(&s, &org, &team).await? {
        Team::Owners => Err(CError(Error::forbidden(
            "the owners team cannot be deleted",
        ))),
        Team::Stored(t) => {
            s.store.delete_team(&t.id).await?;
            Ok(StatusCode::OK.into_response())
        }
    }
}

/// The user ids named by a members body: `["bob", …]`, `{["bob"]}` or `{"users": [...]}`.
async fn member_ids(s: &AppState, body: &Value) -> CResult<Vec<String>> {
    let list = match body {
        Value::Array(a) => a,
        Value::Object(m) => match m.get("users") {
            Some(Value::Array(a)) => a,
            _ => {
                return Err(CError(Error::bad_request(
                    "send an array of user logins or ids",
                )))
            }
        },
        _ => {
            return Err(CError(Error::bad_request(
                "send an array of user logins or ids",
            )))
        }
    };
    if list.is_empty() {
        return Err(CError(Error::bad_request("no users named")));
    }
    let mut ids = Vec::with_capacity(list.len());
    for v in list {
        let key = v
            .as_str()
            .ok_or_else(|| CError(Error::bad_request("user logins or ids must be strings")))?;
        ids.push(find_user(s, key).await?.id);
    }
    Ok(ids)
}

async fn add_ids(s: &AppState, org: &OrgRow, team: &Team, ids: &[String]) -> CResult<()> {
    match team {
        Team::Owners => s.store.add_org_owners(&org.id, ids).await?,
        Team::Stored(t) => s.store.add_team_members(t, ids).await?,
    }
    Ok(())
}

pub async fn add_members(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path((org, team)): Path<(String, String)>,
    Body(body): Body,
) -> CResult<Response> {
    let org = org_for(&s, &who, &org, true).await?;
    let team = find_team(&s, &org, &team).await?;
    let ids = member_ids(&s, &body).await?;
    add_ids(&s, &org, &team, &ids).await?;
    Ok(StatusCode::OK.into_response())
}

pub async fn add_member(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path((org, team, member)): Path<(String, String, String)>,
) -> CResult<Response> {
    let org = org_for(&s, &who, &org, true).await?;
    let team = find_team(&s, &org, &team).await?;
    let id = find_user(&s, &member).await?.id;
    add_ids(&s, &org, &team, &[id]).await?;
    Ok(StatusCode::OK.into_response())
}

pub async fn remove_member(
    State(s): State<AppState>,
    who: ComplianceUser,
    Path((org, team, member)): Path<(String, String, String)>,
) -> CResult<Response> {
    let org = org_for(&s, &who, &org, true).await?;
    let team = find_team(&s, &org, &team).await?;
    let id = find_user(&s, &member).await?.id;
    let removed = match &team {
        Team::Owners => {
            let owners = s.store.org_owner_ids(&org.id).await?;
            if owners == [id.clone()] {
                return Err(CError(Error::conflict(
                    "the owners team must keep at least one member",
                )));
            }
            s.store.remove_org_owner(&org.id, &id).await?
        }
        Team::Stored(t) => s.store.remove_team_member(&t.id, &id).await?,
    };
    if !removed {
        return Err(CError(Error::not_found(format!(
            "'{member}' is not a member of this team"
        ))));
    }
    Ok(StatusCode::OK.into_response())
}
