//! Organization members (`/organizations/ORG/users[/USER]`) and invitations
//! (`/organizations/ORG/association_requests`, `/users/USER/association_requests`).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{json, Value};

use super::keys::{self as key_api, KeyOwner};
use super::{created, reply};
use crate::api::{opt_str, ApiVersion, BaseUrl, JsonObject};
use crate::auth::extract::Org;
use crate::auth::{authz, Requestor};
use crate::error::{Error, Message, Result};
use crate::model::user;
use crate::state::AppState;
use crate::store::new_id;
use crate::store::org_users::Invitation;
use crate::store::users::UserRow;

fn bare(status: fn(Message) -> Error, m: String) -> Error {
    status(Message::Bare(m))
}

fn already_associated() -> Error {
    bare(Error::Conflict, "The association already exists.".into())
}

async fn member(s: &AppState, org: &Org, name: &str) -> Result<UserRow> {
    let missing = || {
        bare(
            Error::NotFound,
            format!("Cannot find a user {name} in organization {}", org.0.name),
        )
    };
    let u = s.store.user_by_name(name).await?.ok_or_else(missing)?;
    if !s.store.is_org_member(&org.0.id, &u.id).await? {
        return Err(missing());
    }
    Ok(u)
}

pub async fn list_org_users(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
) -> Result<Response> {
    authz::require(&s.store, &who, &org.0.id, "read").await?;
    let out: Vec<Value> = s
        .store
        .org_usernames(&org.0.id)
        .await?
        .into_iter()
        .map(|u| json!({ "user": { "username": u } }))
        .collect();
    Ok(reply(StatusCode::OK, Value::Array(out)))
}

/// Force-association, superuser only.
pub async fn add_org_user(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    JsonObject(b): JsonObject,
) -> Result<Response> {
    authz::require_superuser(&who, "create")?;
    let name =
        opt_str(&b, "username")?.ok_or_else(|| Error::bad_request("Field 'username' missing"))?;
    let u = s
        .store
        .user_by_name(name)
        .await?
        .ok_or_else(|| bare(Error::NotFound, format!("Could not find user {name}")))?;
    if s.store.is_org_member(&org.0.id, &u.id).await? {
        return Err(already_associated());
    }
    s.store.add_org_user(&org.0.id, &u.id).await?;
    let uri = base.join(&format!("/organizations/{}/users/{name}", org.0.name));
    Ok(created(&uri, json!({ "uri": uri })))
}

pub async fn show_org_user(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    ApiVersion(v): ApiVersion,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    authz::require(&s.store, &who, &org.0.id, "read").await?;
    let u = member(&s, &org, &name).await?;
    let pk = if v == 0 {
        s.store
            .actor_key(&u.id, "default")
            .await?
            .map(|k| k.public_key)
    } else {
        None
    };
    Ok(reply(StatusCode::OK, user::render(&u, pk.as_deref())))
}

pub async fn remove_org_user(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    let u = member(&s, &org, &name).await?;
    if who.id != u.id {
        authz::require(&s.store, &who, &org.0.id, "update").await?;
    }
    if s.store.in_group(&u.id, &org.0.id, "admins").await? {
        return Err(bare(Error::Forbidden, format!("Please remove {name} from this organization's admins group before removing him or her from the organization.")));
    }
    s.store.remove_org_user(&org.0.id, &u.id).await?;
    Ok(reply(StatusCode::OK, user::render(&u, None)))
}

/// Member keys, readable by members of `public_key_read_access`.
async fn member_key_owner(
    s: &AppState,
    who: &Requestor,
    org: &Org,
    base: &BaseUrl,
    name: &str,
) -> Result<KeyOwner> {
    let u = member(s, org, name).await?;
    if !who.superuser
        && !s
            .store
            .in_group(&who.id, &org.0.id, "public_key_read_access")
            .await?
    {
        return Err(Error::missing_permission("read"));
    }
    Ok(KeyOwner {
        actor_id: u.id,
        name: u.username.clone(),
        uri: base.join(&format!(
            "/organizations/{}/users/{}",
            org.0.name, u.username
        )),
    })
}

pub async fn list_member_keys(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, name)): Path<(String, String)>,
) -> Result<Response> {
    let owner = member_key_owner(&s, &who, &org, &base, &name).await?;
    key_api::list_keys(&s, &owner).await
}

pub async fn show_member_key(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    Path((_, name, key)): Path<(String, String, String)>,
) -> Result<Response> {
    let owner = member_key_owner(&s, &who, &org, &base, &name).await?;
    key_api::show_key(&s, &owner, &key).await
}

fn no_invitation(id: &str) -> Error {
    bare(
        Error::NotFound,
        format!("Cannot find association request: {id}"),
    )
}

pub async fn list_org_invitations(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
) -> Result<Response> {
    authz::require(&s.store, &who, &org.0.id, "read").await?;
    let out: Vec<Value> = s
        .store
        .org_invitations(&org.0.id)
        .await?
        .into_iter()
        .map(|i| json!({ "id": i.id, "username": i.username }))
        .collect();
    Ok(reply(StatusCode::OK, Value::Array(out)))
}

pub async fn invite(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    base: BaseUrl,
    JsonObject(b): JsonObject,
) -> Result<Response> {
    authz::require(&s.store, &who, &org.0.id, "update").await?;
    let name = opt_str(&b, "user")?.ok_or_else(|| Error::bad_request("Field 'user' missing"))?;
    let u = s
        .store
        .user_by_name(name)
        .await?
        .ok_or_else(|| bare(Error::NotFound, format!("Could not find user {name}")))?;
    if s.store.is_org_member(&org.0.id, &u.id).await? {
        return Err(already_associated());
    }
    let id = new_id();
    s.store
        .create_invitation(&id, &org.0.id, &u.id, &who.id)
        .await
        .map_err(|e| match Error::from(e) {
            Error::Conflict(_) => bare(Error::Conflict, "The invite already exists.".into()),
            other => other,
        })?;
    let uri = base.join(&format!(
        "/organizations/{}/association_requests/{id}",
        org.0.name
    ));
    let p = user::stored_profile(&u);
    let body = json!({
        "uri": uri,
        "organization_user": { "username": who.name },
        "organization": { "name": org.0.name },
        "user": { "email": u.email, "first_name": p.get("first_name") },
    });
    Ok(created(&uri, body))
}

fn invitation_json(i: &Invitation) -> Value {
    json!({
        "id": i.id, "orgname": i.org_name, "username": i.username,
        "organization": { "deprecated": true, "name": i.org_name },
        "user": "deprecated", "organization_admin_actor_id": "deprecated",
    })
}

pub async fn cancel_invitation(
    State(s): State<AppState>,
    who: Requestor,
    org: Org,
    Path((_, id)): Path<(String, String)>,
) -> Result<Response> {
    authz::require(&s.store, &who, &org.0.id, "update").await?;
    let i = s
        .store
        .invitation(&id)
        .await?
        .filter(|i| i.org_id == org.0.id)
        .ok_or_else(|| no_invitation(&id))?;
    s.store.delete_invitation(&id).await?;
    Ok(reply(StatusCode::OK, invitation_json(&i)))
}

/// The user itself or the superuser.
async fn invitee(s: &AppState, who: &Requestor, name: &str) -> Result<UserRow> {
    let u = s
        .store
        .user_by_name(name)
        .await?
        .ok_or_else(|| bare(Error::NotFound, format!("Could not find user {name}")))?;
    if who.id != u.id && !who.superuser {
        return Err(Error::missing_permission("read"));
    }
    Ok(u)
}

pub async fn list_user_invitations(
    State(s): State<AppState>,
    who: Requestor,
    Path(name): Path<String>,
) -> Result<Response> {
    let u = invitee(&s, &who, &name).await?;
    let out: Vec<Value> = s
        .store
        .user_invitations(&u.id)
        .await?
        .into_iter()
        .map(|i| json!({ "id": i.id, "orgname": i.org_name }))
        .collect();
    Ok(reply(StatusCode::OK, Value::Array(out)))
}

pub async fn count_user_invitations(
    State(s): State<AppState>,
    who: Requestor,
    Path(name): Path<String>,
) -> Result<Response> {
    let u = invitee(&s, &who, &name).await?;
    Ok(reply(
        StatusCode::OK,
        json!({ "value": s.store.user_invitations(&u.id).await?.len() }),
    ))
}

/// erchef performs the association as the inviting admin, so an invitation dies with
/// the inviter's right to create groups in the org (say, once out of `admins`).
async fn inviter_may_still_add_users(s: &AppState, i: &Invitation) -> Result<bool> {
    if let Some(u) = s.store.user_by_id(&i.requester_id).await? {
        if u.superuser {
            return Ok(true);
        }
    }
    let Some(groups) = s.store.container_id(&i.org_id, "groups").await? else {
        return Ok(false);
    };
    Ok(s.store
        .has_permission(&i.requester_id, &groups, "create")
        .await?)
}

pub async fn answer_invitation(
    State(s): State<AppState>,
    who: Requestor,
    Path((name, id)): Path<(String, String)>,
    JsonObject(b): JsonObject,
) -> Result<Response> {
    let u = invitee(&s, &who, &name).await?;
    let i = s
        .store
        .invitation(&id)
        .await?
        .filter(|i| i.user_id == u.id)
        .ok_or_else(|| no_invitation(&id))?;
    match opt_str(&b, "response")? {
        Some("accept") => {
            if !inviter_may_still_add_users(&s, &i).await? {
                return Err(bare(Error::Forbidden, "This invitation is no longer valid. Please notify an administrator and request to be re-invited to the organization.".into()));
            }
            s.store.accept_invitation(&i).await?
        }
        Some("reject") => s.store.delete_invitation(&id).await?,
        _ => {
            return Err(Error::bad_request(
                "Param response must be either 'accept' or 'reject'",
            ))
        }
    }
    Ok(reply(StatusCode::OK, invitation_json(&i)))
}
