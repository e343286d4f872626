//! Organizations, and the default groups, containers and ACLs erchef gives a new org.

use chrono::{DateTime, Utc};

use super::acls::{self, GLOBAL_ORG_ID};
use super::clients::ClientRow;
use super::keys::KeyRow;
use super::objects::ObjectRow;
use super::{execute, on_db, Store, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub full_name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub const CONTAINERS: [&str; 12] = [
    "clients",
    "containers",
    "cookbooks",
    "data",
    "environments",
    "groups",
    "nodes",
    "roles",
    "sandboxes",
    "policies",
    "policy_groups",
    "cookbook_artifacts",
];

pub const GROUPS: [&str; 5] = [
    "admins",
    "billing-admins",
    "clients",
    "users",
    "public_key_read_access",
];

/// Containers the `users` group may create in, read, update and delete.
const USER_WRITABLE: [&str; 8] = [
    "cookbooks",
    "data",
    "nodes",
    "roles",
    "environments",
    "policies",
    "policy_groups",
    "cookbook_artifacts",
];

/// Containers the `clients` group may read.
const CLIENT_READABLE: [&str; 7] = [
    "policies",
    "policy_groups",
    "cookbook_artifacts",
    "data",
    "cookbooks",
    "environments",
    "roles",
];

/// Everything `create_org` needs besides the org row.
pub struct NewOrg<'a> {
    pub org: &'a OrgRow,
    /// The requesting actor (a user), who gets full rights and joins `admins` and
    /// `users`; it is associated with the org only when it is not the superuser.
    pub creator_id: &'a str,
    pub creator_is_superuser: bool,
    pub validator: &'a ClientRow,
    pub validator_key: &'a KeyRow,
    pub default_environment: &'a ObjectRow,
}

const ORG_COLUMNS: &str = "id, name, full_name, created_at, updated_at";

impl Store {
    pub async fn org_by_name(&self, name: &str) -> Result<Option<OrgRow>, sqlx::Error> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM orgs WHERE name = $1 AND id <> $2");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(name).bind(GLOBAL_ORG_ID).fetch_optional(p).await)
    }

    pub async fn org_by_id(&self, id: &str) -> Result<Option<OrgRow>, sqlx::Error> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM orgs WHERE id = $1 AND id <> $2");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(id).bind(GLOBAL_ORG_ID).fetch_optional(p).await)
    }

    pub async fn list_orgs(&self) -> Result<Vec<OrgRow>, sqlx::Error> {
        let sql = format!("SELECT {ORG_COLUMNS} FROM orgs WHERE id <> $1 ORDER BY name");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(GLOBAL_ORG_ID).fetch_all(p).await)
    }

    /// Creates the org with its groups, containers, ACLs, `_default` environment and
    /// validator client, all in one transaction.
    pub async fn create_org(&self, new: &NewOrg<'_>) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        let org = new.org;
        let sql = format!("INSERT INTO orgs ({ORG_COLUMNS}) VALUES ($1, $2, $3, $4, $5)");
        execute!(
            tx.conn(),
            sqlx::query(&sql)
                .bind(&org.id)
                .bind(&org.name)
                .bind(&org.full_name)
                .bind(org.created_at)
                .bind(org.updated_at)
        )?;
        seed_authz(&mut tx, new).await?;
        super::clients::insert_client(&mut tx, new.validator, Some(new.validator_key), None)
            .await?;
        super::objects::insert_object(
            &mut tx,
            new.default_environment,
            "environments",
            Some(new.creator_id),
        )
        .await?;
        for (index, item) in [
            ("client", &new.validator.name),
            ("environment", &new.default_environment.name),
        ] {
            let change = super::objects::SearchChange {
                index: index.into(),
                item: item.clone(),
                deleted: false,
            };
            super::objects::record_change(&mut tx, &org.id, &change).await?;
        }
        tx.commit().await
    }

    pub async fn update_org(&self, org: &OrgRow) -> Result<(), sqlx::Error> {
        let sql = "UPDATE orgs SET full_name = $2, updated_at = $3 WHERE id = $1";
        execute!(
            self.pool(),
            sqlx::query(sql)
                .bind(&org.id)
                .bind(&org.full_name)
                .bind(org.updated_at)
        )?;
        Ok(())
    }

    /// Deletes the org and everything in it (rows cascade; keys and ACL entries of its
    /// entities, and its global read-access group, are removed explicitly).
    pub async fn delete_org(&self, org_id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        let read_access = acls::read_access_group_id(&mut tx, org_id).await?;
        let owned = "SELECT id FROM clients WHERE org_id = $1 UNION SELECT id FROM groups WHERE org_id = $1 \
                     UNION SELECT id FROM containers WHERE org_id = $1 UNION SELECT id FROM objects WHERE org_id = $1";
        let keys_sql =
            "DELETE FROM keys WHERE actor_id IN (SELECT id FROM clients WHERE org_id = $1)";
        execute!(tx.conn(), sqlx::query(keys_sql).bind(org_id))?;
        let profiles = "DELETE FROM compliance_profiles WHERE owner_id = $1";
        execute!(tx.conn(), sqlx::query(profiles).bind(org_id))?;
        let acl_sql = format!(
            "DELETE FROM acl_entries WHERE target_id = $1 OR member_id = $1 OR target_id IN ({owned}) OR member_id IN ({owned})"
        );
        execute!(tx.conn(), sqlx::query(&acl_sql).bind(org_id))?;
        let members_sql = format!("DELETE FROM group_members WHERE member_id IN ({owned})");
        execute!(tx.conn(), sqlx::query(&members_sql).bind(org_id))?;
        if let Some(group) = read_access {
            acls::forget_entity(&mut tx, &group).await?;
            execute!(
                tx.conn(),
                sqlx::query("DELETE FROM groups WHERE id = $1").bind(&group)
            )?;
        }
        execute!(
            tx.conn(),
            sqlx::query("DELETE FROM orgs WHERE id = $1").bind(org_id)
        )?;
        super::search::record_org_purge(&mut tx, org_id).await?;
        tx.commit().await
    }
}

/// erchef's org creator: default groups, containers and their ACLs (facts §A.2.1).
async fn seed_authz(tx: &mut Tx, new: &NewOrg<'_>) -> Result<(), sqlx::Error> {
    let org_id = &new.org.id;
    let creator = new.creator_id;
    let mut group_ids = std::collections::HashMap::new();
    for name in GROUPS {
        group_ids.insert(name, acls::create_group(tx, org_id, name).await?);
    }
    let g = |n: &str| group_ids[n].clone();
    let read_access = acls::read_access_group_name(&new.org.name);
    let read_access = acls::create_group(tx, GLOBAL_ORG_ID, &read_access).await?;
    acls::add_member(tx, &read_access, "group", &g("admins")).await?;
    acls::add_member(tx, &read_access, "group", &g("users")).await?;
    acls::add_member(tx, &g("admins"), "user", creator).await?;
    acls::add_member(tx, &g("users"), "user", creator).await?;
    if !new.creator_is_superuser {
        super::users::add_org_user(tx, org_id, creator).await?;
    }
    acls::add_member(tx, &g("public_key_read_access"), "group", &g("users")).await?;
    acls::add_member(tx, &g("public_key_read_access"), "group", &g("clients")).await?;

    // The org itself.
    acls::grant_all(tx, org_id, "actor", creator).await?;
    acls::grant_all(tx, org_id, "group", &g("admins")).await?;
    acls::add_entry(tx, org_id, "read", "group", &g("users")).await?;

    for name in CONTAINERS {
        let id = acls::create_container(tx, org_id, name).await?;
        acls::grant_all(tx, &id, "actor", creator).await?;
        acls::grant_all(tx, &id, "group", &g("admins")).await?;
        let users_perms: &[&str] = if USER_WRITABLE.contains(&name) {
            &["create", "read", "update", "delete"]
        } else {
            match name {
                "clients" => &["read", "delete"],
                "groups" | "containers" => &["read"],
                "sandboxes" => &["create"],
                _ => &[],
            }
        };
        for perm in users_perms {
            acls::add_entry(tx, &id, perm, "group", &g("users")).await?;
        }
        let clients_perms: &[&str] = if name == "nodes" {
            &["read", "create"]
        } else if CLIENT_READABLE.contains(&name) {
            &["read"]
        } else {
            &[]
        };
        for perm in clients_perms {
            acls::add_entry(tx, &id, perm, "group", &g("clients")).await?;
        }
    }

    // The groups' own ACLs.
    for name in ["admins", "clients", "users"] {
        acls::grant_all(tx, &g(name), "actor", creator).await?;
        acls::grant_all(tx, &g(name), "group", &g("admins")).await?;
    }
    for perm in ["read", "update"] {
        acls::add_entry(tx, &g("billing-admins"), perm, "actor", creator).await?;
        acls::add_entry(
            tx,
            &g("billing-admins"),
            perm,
            "group",
            &g("billing-admins"),
        )
        .await?;
        acls::add_entry(
            tx,
            &g("public_key_read_access"),
            perm,
            "group",
            &g("admins"),
        )
        .await?;
    }
    acls::grant_all(tx, &g("public_key_read_access"), "actor", creator).await?;
    Ok(())
}
