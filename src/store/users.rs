//! Users: global actors, shared by every API family.

use chrono::{DateTime, Utc};

use super::{execute, on_db, Store, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub email: Option<String>,
    pub external_authentication_uid: Option<String>,
    pub recovery_authentication_enabled: bool,
    pub password_hash: Option<String>,
    pub superuser: bool,
    /// The user's profile fields (display_name, first_name, …) as a JSON object.
    pub serialized_object: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const USER_COLUMNS: &str = "id, username, email, external_authentication_uid, \
    recovery_authentication_enabled, password_hash, superuser, serialized_object, \
    created_at, updated_at";

impl Store {
    pub async fn user_by_name(&self, name: &str) -> Result<Option<UserRow>, sqlx::Error> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(name).fetch_optional(p).await)
    }

    pub async fn user_by_id(&self, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)
    }

    pub async fn list_users(&self) -> Result<Vec<UserRow>, sqlx::Error> {
        let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
        on_db!(self.pool(), p => sqlx::query_as(&sql).fetch_all(p).await)
    }

    pub async fn count_users(&self) -> Result<i64, sqlx::Error> {
        on_db!(self.pool(), p => sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(p).await)
    }

    /// Creates a user, its optional first key, and its own ACL, in one transaction: the
    /// user and its creator hold every permission on it, `server-admins` all but grant.
    pub async fn create_user(
        &self,
        user: &UserRow,
        key: Option<&super::keys::KeyRow>,
        creator: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        use super::acls::{self, GLOBAL_ORG_ID, SERVER_ADMINS};
        let mut tx = self.begin().await?;
        insert_user(&mut tx, user).await?;
        if let Some(k) = key {
            super::keys::insert_key(&mut tx, k).await?;
        }
        acls::grant_all(&mut tx, &user.id, "actor", &user.id).await?;
        if let Some(creator) = creator {
            acls::grant_all(&mut tx, &user.id, "actor", creator).await?;
        }
        let admins = acls::group_id(&mut tx, GLOBAL_ORG_ID, SERVER_ADMINS).await?;
        for perm in ["create", "read", "update", "delete"] {
            acls::add_entry(&mut tx, &user.id, perm, "group", &admins).await?;
        }
        tx.commit().await
    }

    /// Saves changed fields (and a rename), optionally replacing the default key.
    pub async fn update_user(
        &self,
        user: &UserRow,
        replace_default_key: Option<&super::keys::KeyRow>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        let sql = "UPDATE users SET username = $2, email = $3, external_authentication_uid = $4, \
                   recovery_authentication_enabled = $5, password_hash = $6, \
                   serialized_object = $7, updated_at = $8 WHERE id = $1";
        execute!(
            tx.conn(),
            sqlx::query(sql)
                .bind(&user.id)
                .bind(&user.username)
                .bind(&user.email)
                .bind(&user.external_authentication_uid)
                .bind(user.recovery_authentication_enabled)
                .bind(&user.password_hash)
                .bind(&user.serialized_object)
                .bind(user.updated_at)
        )?;
        if let Some(k) = replace_default_key {
            super::keys::upsert_key(&mut tx, k).await?;
        }
        tx.commit().await
    }

    /// Removes the user with its keys, memberships and ACL entries.
    pub async fn delete_user(&self, id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        super::keys::delete_actor_keys(&mut tx, id).await?;
        super::acls::forget_entity(&mut tx, id).await?;
        execute!(
            tx.conn(),
            sqlx::query("DELETE FROM compliance_profiles WHERE owner_id = $1").bind(id)
        )?;
        execute!(
            tx.conn(),
            sqlx::query("DELETE FROM users WHERE id = $1").bind(id)
        )?;
        tx.commit().await
    }

    /// Names of the organizations the user is associated with.
    pub async fn user_org_names(&self, user_id: &str) -> Result<Vec<String>, sqlx::Error> {
        let sql = "SELECT o.name FROM orgs o JOIN org_users ou ON ou.org_id = o.id \
                   WHERE ou.user_id = $1 ORDER BY o.name";
        on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(user_id).fetch_all(p).await)
    }

    pub async fn is_org_member(&self, org_id: &str, user_id: &str) -> Result<bool, sqlx::Error> {
        let sql = "SELECT COUNT(*) FROM org_users WHERE org_id = $1 AND user_id = $2";
        let n: i64 = on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(org_id).bind(user_id).fetch_one(p).await)?;
        Ok(n > 0)
    }

    /// Associates a user with an org: membership, the `users` group and, through the
    /// org's read-access group, read permission on the user for the org's members.
    pub async fn add_org_user(&self, org_id: &str, user_id: &str) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        add_org_user(&mut tx, org_id, user_id).await?;
        tx.commit().await
    }
}

pub(crate) async fn insert_user(tx: &mut Tx, user: &UserRow) -> Result<(), sqlx::Error> {
    let sql = format!(
        "INSERT INTO users ({USER_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
    );
    execute!(
        tx.conn(),
        sqlx::query(&sql)
            .bind(&user.id)
            .bind(&user.username)
            .bind(&user.email)
            .bind(&user.external_authentication_uid)
            .bind(user.recovery_authentication_enabled)
            .bind(&user.password_hash)
            .bind(user.superuser)
            .bind(&user.serialized_object)
            .bind(user.created_at)
            .bind(user.updated_at)
    )?;
    Ok(())
}

pub(crate) async fn add_org_user(
    tx: &mut Tx,
    org_id: &str,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    execute!(
        tx.conn(),
        sqlx::query("INSERT INTO org_users (org_id, user_id) VALUES ($1, $2)")
            .bind(org_id)
            .bind(user_id)
    )?;
    let users = super::acls::group_id(tx, org_id, "users").await?;
    super::acls::add_member(tx, &users, "user", user_id).await?;
    if let Some(read_access) = super::acls::read_access_group_id(tx, org_id).await? {
        super::acls::add_entry(tx, user_id, "read", "group", &read_access).await?;
    }
    Ok(())
}

/// `add_org_user` unless the user is a member already.
pub(crate) async fn add_org_user_tx(
    tx: &mut Tx,
    org_id: &str,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM org_users WHERE org_id = $1 AND user_id = $2";
    let n: i64 = on_db!(tx.conn(), c => sqlx::query_scalar(sql).bind(org_id).bind(user_id).fetch_one(c).await)?;
    if n == 0 {
        add_org_user(tx, org_id, user_id).await?;
    }
    Ok(())
}
