//! Who may do what in the Compliance API. Server-wide: `site_admin` may do everything,
//! `user_admin` manages users, `org_admin` creates and manages every org. In an org: its
//! `owners` team (the Infra `admins` group) manages the org, its teams and its profiles;
//! members of a team with `manage` may change the org's profiles; every org member may
//! read them. A user's own profiles are theirs (and site admins').

use serde_json::{Map, Value};

use super::{read_flag, CError, CResult, ComplianceUser};
use crate::error::Error;
use crate::state::AppState;
use crate::store::orgs::OrgRow;
use crate::store::users::UserRow;

/// The team permissions, in the order the API shows them.
pub const TEAM_PERMISSIONS: [&str; 4] = ["harden", "manage", "patch", "scan"];

/// What a user may do in one org.
#[derive(Debug, Clone, Copy, Default)]
pub struct OrgAccess {
    pub member: bool,
    pub owner: bool,
    pub manage: bool,
}

pub async fn org_access(s: &AppState, who: &ComplianceUser, org: &OrgRow) -> CResult<OrgAccess> {
    if who.site_admin() || who.perms.org_admin {
        return Ok(OrgAccess {
            member: true,
            owner: true,
            manage: true,
        });
    }
    let member = s.store.is_org_member(&org.id, &who.user.id).await?;
    let owner = s.store.in_group(&who.user.id, &org.id, "admins").await?;
    let mut manage = owner;
    for perms in s.store.user_team_permissions(&org.id, &who.user.id).await? {
        let p: Value = serde_json::from_str(&perms).unwrap_or(Value::Null);
        manage |= p.get("manage").and_then(read_flag).unwrap_or(false);
    }
    Ok(OrgAccess {
        member: member || owner,
        owner,
        manage,
    })
}

pub fn forbidden(what: &str) -> CError {
    CError(Error::forbidden(format!("you may not {what}")))
}

/// An org by its login (short name) or id; 404 otherwise.
pub async fn find_org(s: &AppState, key: &str) -> CResult<OrgRow> {
    if let Some(o) = s.store.org_by_name(key).await? {
        return Ok(o);
    }
    s.store
        .org_by_id(key)
        .await?
        .filter(|o| !o.name.is_empty())
        .ok_or_else(|| CError(Error::not_found(format!("organization '{key}' not found"))))
}

/// A user by login or id; 404 otherwise.
pub async fn find_user(s: &AppState, key: &str) -> CResult<UserRow> {
    if let Some(u) = s.store.user_by_name(key).await? {
        return Ok(u);
    }
    s.store
        .user_by_id(key)
        .await?
        .ok_or_else(|| CError(Error::not_found(format!("user '{key}' not found"))))
}

/// Who owns profiles: a user or an org, named by login or id (a user wins a tie, as the
/// signed-in user is InSpec's default owner).
#[derive(Debug, Clone)]
pub enum Owner {
    User(UserRow),
    Org(OrgRow),
}

impl Owner {
    pub fn id(&self) -> &str {
        match self {
            Owner::User(u) => &u.id,
            Owner::Org(o) => &o.id,
        }
    }
    pub fn login(&self) -> &str {
        match self {
            Owner::User(u) => &u.username,
            Owner::Org(o) => &o.name,
        }
    }
}

pub async fn find_owner(s: &AppState, key: &str) -> CResult<Owner> {
    if let Ok(u) = find_user(s, key).await {
        return Ok(Owner::User(u));
    }
    match find_org(s, key).await {
        Ok(o) => Ok(Owner::Org(o)),
        Err(_) => Err(CError(Error::not_found(format!("owner '{key}' not found")))),
    }
}

/// Whether `who` may read / change `owner`'s profiles.
pub async fn owner_access(
    s: &AppState,
    who: &ComplianceUser,
    owner: &Owner,
) -> CResult<(bool, bool)> {
    match owner {
        Owner::User(u) => {
            let mine = u.id == who.user.id || who.site_admin();
            Ok((true, mine))
        }
        Owner::Org(o) => {
            let a = org_access(s, who, o).await?;
            Ok((a.member, a.manage))
        }
    }
}

/// Reads a `permissions` object of team flags; unknown names and values are a 400.
pub fn team_permissions(v: &Value) -> CResult<Map<String, Value>> {
    let obj = v
        .as_object()
        .ok_or_else(|| CError(Error::bad_request("'permissions' must be an object")))?;
    let mut out = Map::new();
    for (k, val) in obj {
        if !TEAM_PERMISSIONS.contains(&k.as_str()) {
            return Err(CError(Error::bad_request(format!(
                "unknown team permission '{k}' (use harden, manage, patch or scan)"
            ))));
        }
        let b = read_flag(val).ok_or_else(|| {
            CError(Error::bad_request(format!(
                "permission '{k}' must be \"true\" or \"false\""
            )))
        })?;
        if b {
            out.insert(k.clone(), super::flag(true));
        }
    }
    Ok(out)
}
