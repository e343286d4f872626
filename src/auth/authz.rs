//! Authorization checks against object ACLs. The superuser passes every check.

use super::Requestor;
use crate::error::{Error, Result};
use crate::store::Store;

/// Fails with erchef's `missing <perm> permission` unless the requestor holds `perm` on
/// the object whose authorization id is `target`.
pub async fn require(store: &Store, who: &Requestor, target: &str, perm: &str) -> Result<()> {
    if who.superuser || store.has_permission(&who.id, target, perm).await? {
        Ok(())
    } else {
        Err(Error::missing_permission(perm))
    }
}

/// Whether the requestor administers the org: the superuser, or a member (directly or
/// through groups) of the org's `admins` group.
pub async fn is_org_admin(store: &Store, who: &Requestor, org_id: &str) -> Result<bool> {
    Ok(who.superuser || store.in_group(&who.id, org_id, "admins").await?)
}

/// For operations reserved to the superuser (global containers, forced association).
pub fn require_superuser(who: &Requestor, perm: &str) -> Result<()> {
    if who.superuser {
        Ok(())
    } else {
        Err(Error::missing_permission(perm))
    }
}

/// Maps an HTTP method to the ACL permission erchef checks for it.
pub fn perm_for_method(method: &axum::http::Method) -> &'static str {
    match *method {
        axum::http::Method::POST => "create",
        axum::http::Method::PUT => "update",
        axum::http::Method::DELETE => "delete",
        _ => "read",
    }
}
