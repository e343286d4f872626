//! Authorization data: groups and their members, containers, and ACL entries (one row per
//! object, permission and member). Group membership is transitive (groups may contain
//! groups); `has_permission` resolves it in one recursive query.
//!
//! Besides each org's own groups there are global groups (`server-admins`, and one
//! `<org>_read_access_group` per org). Like erchef, we keep them under a placeholder org:
//! a reserved `orgs` row named `""` that org lookups and listings never return, so a group
//! is always addressed as (org, name) and `ORG::name` / `::name` resolve by one join.

use super::{execute, on_db, Store, Tx};

pub const PERMS: [&str; 5] = ["create", "read", "update", "delete", "grant"];

/// The placeholder org holding the global groups (erchef's `GLOBAL_PLACEHOLDER_ORG_ID`).
pub const GLOBAL_ORG_ID: &str = "00000000000000000000000000000000";

/// The global group of server administrators; the superuser is a member.
pub const SERVER_ADMINS: &str = "server-admins";

/// The global group whose members (the org's `admins` and `users` groups) may read the
/// org's users: every member's read ACE names it.
pub fn read_access_group_name(org_name: &str) -> String {
    format!("{org_name}_read_access_group")
}

impl Store {
    /// Whether `actor_id` holds `perm` on `target_id`, directly or through groups.
    pub async fn has_permission(
        &self,
        actor_id: &str,
        target_id: &str,
        perm: &str,
    ) -> Result<bool, sqlx::Error> {
        let sql = "WITH RECURSIVE g(id) AS ( \
                     SELECT group_id FROM group_members WHERE member_kind <> 'group' AND member_id = $1 \
                     UNION \
                     SELECT gm.group_id FROM group_members gm JOIN g ON gm.member_kind = 'group' AND gm.member_id = g.id \
                   ) \
                   SELECT COUNT(*) FROM acl_entries a WHERE a.target_id = $2 AND a.perm = $3 AND \
                     ((a.member_kind = 'actor' AND a.member_id = $1) OR \
                      (a.member_kind = 'group' AND a.member_id IN (SELECT id FROM g)))";
        let n: i64 = on_db!(self.pool(), p => sqlx::query_scalar(sql)
            .bind(actor_id).bind(target_id).bind(perm).fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// Whether the actor is, transitively, a member of the org's group `group`.
    pub async fn in_group(
        &self,
        actor_id: &str,
        org_id: &str,
        group: &str,
    ) -> Result<bool, sqlx::Error> {
        let sql = "WITH RECURSIVE g(id) AS ( \
                     SELECT group_id FROM group_members WHERE member_kind <> 'group' AND member_id = $1 \
                     UNION \
                     SELECT gm.group_id FROM group_members gm JOIN g ON gm.member_kind = 'group' AND gm.member_id = g.id \
                   ) \
                   SELECT COUNT(*) FROM groups WHERE org_id = $2 AND name = $3 AND id IN (SELECT id FROM g)";
        let n: i64 = on_db!(self.pool(), p => sqlx::query_scalar(sql)
            .bind(actor_id).bind(org_id).bind(group).fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// Creates the placeholder org and `server-admins` when missing. Idempotent; run at
    /// every start, before the superuser is created.
    pub async fn ensure_global_groups(&self) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        let sql = "INSERT INTO orgs (id, name, full_name, created_at, updated_at) \
                   VALUES ($1, '', 'Global groups', $2, $2) ON CONFLICT DO NOTHING";
        execute!(
            tx.conn(),
            sqlx::query(sql).bind(GLOBAL_ORG_ID).bind(super::now())
        )?;
        let sql =
            "INSERT INTO groups (id, org_id, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
        execute!(
            tx.conn(),
            sqlx::query(sql)
                .bind(super::new_id())
                .bind(GLOBAL_ORG_ID)
                .bind(SERVER_ADMINS)
        )?;
        tx.commit().await
    }

    /// Makes a user a member of `server-admins` (idempotent).
    pub async fn add_server_admin(&self, user_id: &str) -> Result<(), sqlx::Error> {
        self.add_group_member(GLOBAL_ORG_ID, SERVER_ADMINS, "user", user_id)
            .await
    }

    pub async fn container_id(
        &self,
        org_id: &str,
        name: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let sql = "SELECT id FROM containers WHERE org_id = $1 AND name = $2";
        on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(org_id).bind(name).fetch_optional(p).await)
    }
}

pub(crate) async fn group_id(tx: &mut Tx, org_id: &str, name: &str) -> Result<String, sqlx::Error> {
    let sql = "SELECT id FROM groups WHERE org_id = $1 AND name = $2";
    on_db!(tx.conn(), c => sqlx::query_scalar(sql).bind(org_id).bind(name).fetch_one(c).await)
}

/// The id of the org's global read-access group.
pub(crate) async fn read_access_group_id(
    tx: &mut Tx,
    org_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    let sql = "SELECT g.id FROM groups g JOIN orgs o ON o.id = $1 \
               WHERE g.org_id = $2 AND g.name = o.name || '_read_access_group'";
    on_db!(tx.conn(), c => sqlx::query_scalar(sql).bind(org_id).bind(GLOBAL_ORG_ID).fetch_optional(c).await)
}

pub(crate) async fn create_group(
    tx: &mut Tx,
    org_id: &str,
    name: &str,
) -> Result<String, sqlx::Error> {
    let id = super::new_id();
    execute!(
        tx.conn(),
        sqlx::query("INSERT INTO groups (id, org_id, name) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(org_id)
            .bind(name)
    )?;
    Ok(id)
}

pub(crate) async fn create_container(
    tx: &mut Tx,
    org_id: &str,
    name: &str,
) -> Result<String, sqlx::Error> {
    let id = super::new_id();
    execute!(
        tx.conn(),
        sqlx::query("INSERT INTO containers (id, org_id, name) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(org_id)
            .bind(name)
    )?;
    Ok(id)
}

/// `kind` is "user", "client" or "group".
pub(crate) async fn add_member(
    tx: &mut Tx,
    group_id: &str,
    kind: &str,
    member_id: &str,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO group_members (group_id, member_kind, member_id) VALUES ($1, $2, $3) \
               ON CONFLICT DO NOTHING";
    execute!(
        tx.conn(),
        sqlx::query(sql).bind(group_id).bind(kind).bind(member_id)
    )?;
    Ok(())
}

/// `kind` is "actor" or "group".
pub(crate) async fn add_entry(
    tx: &mut Tx,
    target: &str,
    perm: &str,
    kind: &str,
    member: &str,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO acl_entries (target_id, perm, member_kind, member_id) VALUES ($1, $2, $3, $4) \
               ON CONFLICT DO NOTHING";
    execute!(
        tx.conn(),
        sqlx::query(sql)
            .bind(target)
            .bind(perm)
            .bind(kind)
            .bind(member)
    )?;
    Ok(())
}

pub(crate) async fn grant_all(
    tx: &mut Tx,
    target: &str,
    kind: &str,
    member: &str,
) -> Result<(), sqlx::Error> {
    for perm in PERMS {
        add_entry(tx, target, perm, kind, member).await?;
    }
    Ok(())
}

/// Seeds a new object's ACL from its container's (erchef's container inheritance).
pub(crate) async fn copy_acl(tx: &mut Tx, from: &str, to: &str) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO acl_entries (target_id, perm, member_kind, member_id) \
               SELECT $2, perm, member_kind, member_id FROM acl_entries WHERE target_id = $1";
    execute!(tx.conn(), sqlx::query(sql).bind(from).bind(to))?;
    Ok(())
}

pub(crate) async fn remove_entry(
    tx: &mut Tx,
    target: &str,
    kind: &str,
    member: &str,
) -> Result<(), sqlx::Error> {
    let sql =
        "DELETE FROM acl_entries WHERE target_id = $1 AND member_kind = $2 AND member_id = $3";
    execute!(
        tx.conn(),
        sqlx::query(sql).bind(target).bind(kind).bind(member)
    )?;
    Ok(())
}

/// Drops an entity's own ACL, every ACL entry naming it, and its group memberships.
pub(crate) async fn forget_entity(tx: &mut Tx, id: &str) -> Result<(), sqlx::Error> {
    execute!(
        tx.conn(),
        sqlx::query("DELETE FROM acl_entries WHERE target_id = $1 OR member_id = $1").bind(id)
    )?;
    execute!(
        tx.conn(),
        sqlx::query("DELETE FROM group_members WHERE member_id = $1").bind(id)
    )?;
    Ok(())
}

impl Store {
    /// Adds a member to the org's group `group` (used by bootstrap and group APIs).
    pub async fn add_group_member(
        &self,
        org_id: &str,
        group: &str,
        kind: &str,
        member_id: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        let gid = group_id(&mut tx, org_id, group).await?;
        add_member(&mut tx, &gid, kind, member_id).await?;
        tx.commit().await
    }
}
