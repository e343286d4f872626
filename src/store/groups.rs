//! Groups and containers as API objects, and ACLs rendered with names: the data behind
//! `/groups`, `/containers` and every `_acl` endpoint.

use super::acls::{self, READ_ACCESS_GROUP};
use super::{execute, on_db, Store};

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
    /// The org's groups or containers (`table` is "groups" or "containers"), hidden
    /// groups excluded.
    pub async fn named_entities(
        &self,
        table: &str,
        org_id: &str,
    ) -> Result<Vec<Named>, sqlx::Error> {
        let sql =
            format!("SELECT id, name FROM {table} WHERE org_id = $1 AND name <> $2 ORDER BY name");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).bind(READ_ACCESS_GROUP).fetch_all(p).await)
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

    /// Direct members of a group, with names.
    pub async fn group_members(&self, group_id: &str) -> Result<Vec<Member>, sqlx::Error> {
        let sql = "SELECT gm.member_kind AS kind, gm.member_id AS id, COALESCE(u.username, c.name, g.name) AS name \
                   FROM group_members gm \
                   LEFT JOIN users u ON gm.member_kind = 'user' AND u.id = gm.member_id \
                   LEFT JOIN clients c ON gm.member_kind = 'client' AND c.id = gm.member_id \
                   LEFT JOIN groups g ON gm.member_kind = 'group' AND g.id = gm.member_id \
                   WHERE gm.group_id = $1 ORDER BY name";
        on_db!(self.pool(), p => sqlx::query_as(sql).bind(group_id).fetch_all(p).await)
    }

    /// Creates a group or container whose ACL is its container's plus the creator's.
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
        let container_id = super::clients::container_id_tx(&mut tx, org_id, container).await?;
        acls::copy_acl(&mut tx, &container_id, &id).await?;
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

    /// An object's ACL with member names (users, clients, groups).
    pub async fn acl(&self, target_id: &str) -> Result<Vec<AclRow>, sqlx::Error> {
        let sql = "SELECT a.perm, CASE WHEN a.member_kind = 'group' THEN 'group' WHEN u.id IS NOT NULL THEN 'user' ELSE 'client' END AS kind, \
                   COALESCE(u.username, c.name, g.name) AS name \
                   FROM acl_entries a \
                   LEFT JOIN users u ON a.member_kind = 'actor' AND u.id = a.member_id \
                   LEFT JOIN clients c ON a.member_kind = 'actor' AND c.id = a.member_id \
                   LEFT JOIN groups g ON a.member_kind = 'group' AND g.id = a.member_id \
                   WHERE a.target_id = $1 AND COALESCE(u.username, c.name, g.name) IS NOT NULL ORDER BY name";
        on_db!(self.pool(), p => sqlx::query_as(sql).bind(target_id).fetch_all(p).await)
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
