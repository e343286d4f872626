//! Resolving the actor names of an ACE update to ids, with erchef's rules and messages:
//! `actors` (users of the org or its clients, never both under one name; any user in a
//! user's own ACL), or separate `users` (any user) and `clients` (the org's only).

use crate::error::{Error, Result};
use crate::state::AppState;

/// Names single-quoted and comma-joined, as erchef's messages list them.
pub fn quoted(names: &[String]) -> String {
    names
        .iter()
        .map(|n| format!("'{n}'"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// ACE members as (kind "actor" or "group", id).
pub type Members = Vec<(String, String)>;

/// The legacy `actors` list: users of the org (any user, for a user's own ACL) or
/// clients of the org, never both under one name.
pub async fn actors(s: &AppState, org_id: Option<&str>, names: &[String]) -> Result<Members> {
    let scoped: Vec<String> = names.iter().filter(|n| n.contains("::")).cloned().collect();
    if !scoped.is_empty() {
        return Err(Error::bad_request(format!(
            "Scoped actor names are not allowed in this context: {}",
            quoted(&scoped)
        )));
    }
    let (mut members, mut missing, mut ambiguous) = (Vec::new(), Vec::new(), Vec::new());
    for a in names {
        let user = resolve_user(s, org_id, a).await?;
        let client = match org_id {
            Some(o) => s.store.client_by_name(o, a).await?.map(|c| c.id),
            None => None,
        };
        match (user, client) {
            (Some(_), Some(_)) => ambiguous.push(a.clone()),
            (Some(id), None) | (None, Some(id)) => members.push(("actor".to_string(), id)),
            (None, None) => missing.push(a.clone()),
        }
    }
    if !missing.is_empty() {
        let m = match org_id {
            Some(_) => format!(
                "The actor(s) {} do not exist in this organization as clients or users.",
                quoted(&missing)
            ),
            None => format!(
                "The actor(s) {} is not a valid user (clients are not allowed in this context).",
                quoted(&missing)
            ),
        };
        return Err(Error::bad_request(m));
    }
    if !ambiguous.is_empty() {
        return Err(Error::Unprocessable(format!("The following actor(s) exist as both clients and users within this organization: {}. To perform this update, supply separate 'clients' and 'users' fields in your request, and use an empty array for the value of 'actors'.", quoted(&ambiguous))));
    }
    Ok(members)
}

/// Separate `users` (any user) and `clients` (of the org; none in a global ACL).
pub async fn users_and_clients(
    s: &AppState,
    org_id: Option<&str>,
    users: &[String],
    clients: &[String],
) -> Result<Members> {
    let mut members = Vec::new();
    let mut missing = Vec::new();
    for u in users {
        match s.store.user_by_name(u).await? {
            Some(user) => members.push(("actor".to_string(), user.id)),
            None => missing.push(u.clone()),
        }
    }
    if !missing.is_empty() {
        let m = match (org_id, missing.len()) {
            (Some(_), _) => format!(
                "The user(s) {} do not exist in this organization.",
                quoted(&missing)
            ),
            (None, 1) => format!("The user {} does not exist.", quoted(&missing)),
            (None, _) => format!("The users {} do not exist.", quoted(&missing)),
        };
        return Err(Error::bad_request(m));
    }
    if clients.is_empty() {
        return Ok(members);
    }
    let Some(org_id) = org_id else {
        return Err(Error::bad_request(
            "Clients can not be added to global ACL entries.",
        ));
    };
    for c in clients {
        match s.store.client_by_name(org_id, c).await? {
            Some(cl) => members.push(("actor".to_string(), cl.id)),
            None => missing.push(c.clone()),
        }
    }
    if !missing.is_empty() {
        return Err(Error::bad_request(format!(
            "The client(s) {} do not exist in this organization.",
            quoted(&missing)
        )));
    }
    Ok(members)
}

/// Users in an ACE's `actors` must belong to the org (any user, for a user's own ACL);
/// the superuser, which org creation puts in every ACL, always resolves.
async fn resolve_user(s: &AppState, org_id: Option<&str>, name: &str) -> Result<Option<String>> {
    if let Some(o) = org_id {
        if let Some(id) = s.store.org_actor_ids(o, name).await?.0 {
            return Ok(Some(id));
        }
    }
    Ok(s.store
        .user_by_name(name)
        .await?
        .filter(|u| org_id.is_none() || u.superuser)
        .map(|u| u.id))
}
