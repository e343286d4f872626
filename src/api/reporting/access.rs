//! Who may post and read run reports. Reports hold resource diffs and `final_state`
//! (file contents, templates' variables, secrets at times), so they are guarded more
//! narrowly than the node objects whose ACLs erchef seeds with read for every client:
//!
//! - **post** runs of node N: N's own client (a non-validator client named N, as
//!   chef-client's node_name is its client name), an org admin (the `admins` group), or a
//!   requestor with `update` on node N when it exists;
//! - **read** node N's runs (`nodes/N/runs`, `…/runs/ID`, `…/runs/ID/RES`): N's own
//!   client, an org admin, or a *user* with `read` on node N (on the `nodes` container
//!   while N does not exist) — other clients, the validator included, are refused even
//!   though the `clients` group may read the node itself;
//! - **read** the org's runs and statistics (`org/runs`, `runs/counts`,
//!   `runs/durations`): an org admin or a user in the org's `users` group; clients are
//!   refused.
//!
//! Refusals are 403 with erchef's `missing <perm> permission`.

use crate::auth::extract::Org;
use crate::auth::{authz, Requestor, RequestorKind};
use crate::error::{Error, Result};
use crate::state::AppState;

/// The node's own client: chef-client signs with the client whose name is its node_name.
fn is_own_client(who: &Requestor, node: &str) -> bool {
    who.kind == RequestorKind::Client && !who.validator && who.name == node
}

pub async fn require_post(state: &AppState, org: &Org, who: &Requestor, node: &str) -> Result<()> {
    if is_own_client(who, node) || authz::is_org_admin(&state.store, who, &org.0.id).await? {
        return Ok(());
    }
    match state.store.object(&org.0.id, "node", "", node).await? {
        Some(n) => authz::require(&state.store, who, &n.id, "update").await,
        None => Err(Error::missing_permission("update")),
    }
}

pub async fn require_node_read(
    state: &AppState,
    org: &Org,
    who: &Requestor,
    node: &str,
) -> Result<()> {
    if is_own_client(who, node) || authz::is_org_admin(&state.store, who, &org.0.id).await? {
        return Ok(());
    }
    if !who.is_user() {
        return Err(Error::missing_permission("read"));
    }
    let target = match state.store.object(&org.0.id, "node", "", node).await? {
        Some(n) => n.id,
        None => state
            .store
            .container_id(&org.0.id, "nodes")
            .await?
            .ok_or_else(|| Error::missing_permission("read"))?,
    };
    authz::require(&state.store, who, &target, "read").await
}

pub async fn require_org_read(state: &AppState, org: &Org, who: &Requestor) -> Result<()> {
    let allowed = authz::is_org_admin(&state.store, who, &org.0.id).await?
        || (who.is_user() && state.store.in_group(&who.id, &org.0.id, "users").await?);
    if allowed {
        Ok(())
    } else {
        Err(Error::missing_permission("read"))
    }
}
