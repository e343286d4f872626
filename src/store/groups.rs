//! Groups and containers as API objects, and ACLs rendered with names: the data behind
//! `/groups`, `/containers` and every `_acl` endpoint.

use super::acls;
use super::{execute, on_db, Store};

/// SQL for a group's name as seen from org `$2`: bare for the org's own groups,
/// `ORG::name` for another org's, `::name` for global ones (the placeholder org is
/// named ""). Needs `groups g` and `LEFT JOIN orgs go ON go.id = g.org_id`.
const SCOPED_GROUP_NAME: &str =
    "CASE WHEN g.org_id = $2 THEN g.name ELSE go.name || '::' || g.name END";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Named {
    pub id: String,
    pub name: String,
}

/// One member of a group or ACE, with its kind ("user", "client" or "group").
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Member {
    pub kind: String,
    pub id: String,
    pub name: String,
}

/// One ACL row with names resolved: `kind` is "user", "client" or "group".
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AclRow {
    pub perm: String,
    pub kind: String,
    pub name: String,
}

impl Store {
    /// The org's groups or containers (`table` is "groups" or "containers").
    pub async fn named_entities(
        &self,
        table: &str,
        org_id: &str,
    ) -> Result<Vec<Named>, sqlx::Error> {
        let sql = format!("SELECT id, name FROM {table} WHERE org_id = $1 ORDER BY name");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).fetch_all(p).await)
    }

    /// Resolves a group name as erchef's scoped names do: `name` is a group of
    /// `org_id` (a global group when there is no org, as in user ACLs), `ORG::name` a
    /// group of org ORG, `::name` a global group. Ill-formed names resolve to nothing.
    pub async fn find_group(
        &self,
        org_id: Option<&str>,
        name: &str,
    ) -> Result<Option<String>, sqlx::Error> {
        let valid = |s: &str| {
            s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        };
        let found = match name.split_once("::") {
            Some((org, base)) if valid(org) && valid(base) && !base.is_empty() => {
                let sql = "SELECT g.id FROM groups g JOIN orgs o ON o.id = g.org_id \
                           WHERE o.name = $1 AND g.name = $2";
                on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(org).bind(base).fetch_optional(p).await)?
            }
            None if valid(name) && !name.is_empty() => {
                let org = org_id.unwrap_or(acls::GLOBAL_ORG_ID);
                self.named_entity("groups", org, name).await?.map(|g| g.id)
            }
            _ => None,
        };
        Ok(found)
    }

    pub async fn named_entity(
        &self,
        table: &str,
        org_id: &str,
        name: &str,
    ) -> Result<Option<Named>, sqlx::Error> {
        let sql = format!("SELECT id, name FROM {table} WHERE org_id = $1 AND name = $2");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).bind(name).fetch_optional(p).await)
    }

    /// Direct members of a group, with names (member groups scoped as seen from `org_id`).
    pub async fn group_members(
        &self,
        group_id: &str,
        org_id: &str,
    ) -> Result<Vec<Member>, sqlx::Error> {
        let sql = format!(
            "SELECT gm.member_kind AS kind, gm.member_id AS id, \
               COALESCE(u.username, c.name, {SCOPED_GROUP_NAME}) AS name \
             FROM group_members gm \
             LEFT JOIN users u ON gm.member_kind = 'user' AND u.id = gm.member_id \
             LEFT JOIN clients c ON gm.member_kind = 'client' AND c.id = gm.member_id \
             LEFT JOIN groups g ON gm.member_kind = 'group' AND g.id = gm.member_id \
             LEFT JOIN orgs go ON go.id = g.org_id \
             WHERE gm.group_id = $1 ORDER BY name"
        );
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(group_id).bind(org_id).fetch_all(p).await)
    }

    /// Creates a group (its ACL is the groups container's plus the creator's) or a
    /// container (only the creator: containers do not inherit).
    pub async fn create_named_entity(
        &self,
        table: &str,
        org_id: &str,
        name: &str,
        container: &str,
        creator: &str,
    ) -> Result<String, sqlx::Error> {
        let mut tx = self.begin().await?;
        let id = if table == "groups" {
            acls::create_group(&mut tx, org_id, name).await?
        } else {
            acls::create_container(&mut tx, org_id, name).await?
        };
        if table == "groups" {
            let container_id = super::clients::container_id_tx(&mut tx, org_id, container).await?;
            acls::copy_acl(&mut tx, &container_id, &id).await?;
        }
        acls::grant_all(&mut tx, &id, "actor", creator).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Renames a group and replaces its members.
    pub async fn save_group(
        &self,
        group_id: &str,
        name: &str,
        members: &[(String, String)],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        execute!(
            tx.conn(),
            sqlx::query("UPDATE groups SET name = $2 WHERE id = $1")
                .bind(group_id)
                .bind(name)
        )?;
        execute!(
            tx.conn(),
            sqlx::query("DELETE FROM group_members WHERE group_id = $1").bind(group_id)
        )?;
        for (kind, id) in members {
            acls::add_member(&mut tx, group_id, kind, id).await?;
        }
        tx.commit().await
    }

    pub async fn delete_named_entity(&self, table: &str, id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        acls::forget_entity(&mut tx, id).await?;
        let sql = format!("DELETE FROM {table} WHERE id = $1");
        execute!(tx.conn(), sqlx::query(&sql).bind(id))?;
        tx.commit().await
    }

    /// An object's ACL with member names (users, clients, groups); groups are scoped as
    /// seen from `org_id` (all of them, for the ACL of a user, which has no org).
    pub async fn acl(
        &self,
        target_id: &str,
        org_id: Option<&str>,
    ) -> Result<Vec<AclRow>, sqlx::Error> {
        let sql = format!(
            "SELECT a.perm, CASE WHEN a.member_kind = 'group' THEN 'group' WHEN u.id IS NOT NULL THEN 'user' ELSE 'client' END AS kind, \
               COALESCE(u.username, c.name, {SCOPED_GROUP_NAME}) AS name \
             FROM acl_entries a \
             LEFT JOIN users u ON a.member_kind = 'actor' AND u.id = a.member_id \
             LEFT JOIN clients c ON a.member_kind = 'actor' AND c.id = a.member_id \
             LEFT JOIN groups g ON a.member_kind = 'group' AND g.id = a.member_id \
             LEFT JOIN orgs go ON go.id = g.org_id \
             WHERE a.target_id = $1 AND COALESCE(u.username, c.name, g.name) IS NOT NULL ORDER BY name"
        );
        // No org: compare with a value no org id takes, so every group is scoped.
        let org = org_id.unwrap_or("");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(target_id).bind(org).fetch_all(p).await)
    }

    /// Replaces one permission's ACE: `members` are (kind "actor"|"group", id).
    pub async fn set_ace(
        &self,
        target_id: &str,
        perm: &str,
        members: &[(String, String)],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        let sql = "DELETE FROM acl_entries WHERE target_id = $1 AND perm = $2";
        execute!(tx.conn(), sqlx::query(sql).bind(target_id).bind(perm))?;
        for (kind, id) in members {
            acls::add_entry(&mut tx, target_id, perm, kind, id).await?;
        }
        tx.commit().await
    }

    /// Users associated with the org and clients of the org named `name` (for ACE and
    /// group member resolution).
    pub async fn org_actor_ids(
        &self,
        org_id: &str,
        name: &str,
    ) -> Result<(Option<String>, Option<String>), sqlx::Error> {
        let user_sql = "SELECT u.id FROM users u JOIN org_users ou ON ou.user_id = u.id WHERE ou.org_id = $1 AND u.username = $2";
        let user: Option<String> = on_db!(self.pool(), p => sqlx::query_scalar(user_sql).bind(org_id).bind(name).fetch_optional(p).await)?;
        let client = self.client_by_name(org_id, name).await?.map(|c| c.id);
        Ok((user, client))
    }
}
