//! API clients: per-org actors (nodes' identities and validators).

use chrono::{DateTime, Utc};

use super::keys::KeyRow;
use super::{execute, on_db, Store, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ClientRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub validator: bool,
    pub admin: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const CLIENT_COLUMNS: &str = "id, org_id, name, validator, admin, created_at, updated_at";

impl Store {
    pub async fn client_by_name(
        &self,
        org_id: &str,
        name: &str,
    ) -> Result<Option<ClientRow>, sqlx::Error> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE org_id = $1 AND name = $2");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).bind(name).fetch_optional(p).await)
    }

    pub async fn client_by_id(&self, id: &str) -> Result<Option<ClientRow>, sqlx::Error> {
        let sql = format!("SELECT {CLIENT_COLUMNS} FROM clients WHERE id = $1");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(id).fetch_optional(p).await)
    }
}

/// Inserts a client, its key, its ACL (the clients container's plus the creator's), and
/// its membership of the `clients` group. A client also holds every permission on
/// itself, except validators, which erchef leaves out of their own ACL.
pub(crate) async fn insert_client(
    tx: &mut Tx,
    client: &ClientRow,
    key: Option<&super::keys::KeyRow>,
    creator: Option<&str>,
) -> Result<(), sqlx::Error> {
    let sql = format!("INSERT INTO clients ({CLIENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)");
    execute!(
        tx.conn(),
        sqlx::query(&sql)
            .bind(&client.id)
            .bind(&client.org_id)
            .bind(&client.name)
            .bind(client.validator)
            .bind(client.admin)
            .bind(client.created_at)
            .bind(client.updated_at)
    )?;
    if let Some(k) = key {
        super::keys::insert_key(tx, k).await?;
    }
    let container = container_id_tx(tx, &client.org_id, "clients").await?;
    super::acls::copy_acl(tx, &container, &client.id).await?;
    if let Some(creator) = creator {
        super::acls::grant_all(tx, &client.id, "actor", creator).await?;
    }
    if client.validator {
        super::acls::remove_entry(tx, &client.id, "actor", &client.id).await?;
    } else {
        super::acls::grant_all(tx, &client.id, "actor", &client.id).await?;
    }
    let clients = super::acls::group_id(tx, &client.org_id, "clients").await?;
    super::acls::add_member(tx, &clients, "client", &client.id).await?;
    Ok(())
}

pub(crate) async fn container_id_tx(
    tx: &mut Tx,
    org_id: &str,
    name: &str,
) -> Result<String, sqlx::Error> {
    let sql = "SELECT id FROM containers WHERE org_id = $1 AND name = $2";
    on_db!(tx.conn(), c => sqlx::query_scalar(sql).bind(org_id).bind(name).fetch_one(c).await)
}

impl Store {
    pub async fn client_names(&self, org_id: &str) -> Result<Vec<String>, sqlx::Error> {
        let sql = "SELECT name FROM clients WHERE org_id = $1 ORDER BY name";
        on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(org_id).fetch_all(p).await)
    }

    /// Creates a client with its key, ACL and group membership, and its search change.
    pub async fn create_client(
        &self,
        client: &ClientRow,
        key: Option<&KeyRow>,
        creator: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        insert_client(&mut tx, client, key, creator).await?;
        super::objects::record_change(&mut tx, &client.org_id, &client_change(&client.name, false))
            .await?;
        tx.commit().await
    }

    /// Saves a client's name and flags, optionally replacing its default key.
    pub async fn update_client(
        &self,
        client: &ClientRow,
        old_name: &str,
        key: Option<&KeyRow>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        let sql = "UPDATE clients SET name = $2, validator = $3, admin = $4, updated_at = $5 WHERE id = $1";
        execute!(
            tx.conn(),
            sqlx::query(sql)
                .bind(&client.id)
                .bind(&client.name)
                .bind(client.validator)
                .bind(client.admin)
                .bind(client.updated_at)
        )?;
        if let Some(k) = key {
            super::keys::upsert_key(&mut tx, k).await?;
        }
        if old_name != client.name {
            super::objects::record_change(&mut tx, &client.org_id, &client_change(old_name, true))
                .await?;
        }
        super::objects::record_change(&mut tx, &client.org_id, &client_change(&client.name, false))
            .await?;
        tx.commit().await
    }

    pub async fn delete_client(&self, client: &ClientRow) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        super::keys::delete_actor_keys(&mut tx, &client.id).await?;
        super::acls::forget_entity(&mut tx, &client.id).await?;
        execute!(
            tx.conn(),
            sqlx::query("DELETE FROM clients WHERE id = $1").bind(&client.id)
        )?;
        super::objects::record_change(&mut tx, &client.org_id, &client_change(&client.name, true))
            .await?;
        tx.commit().await
    }
}

fn client_change(name: &str, deleted: bool) -> super::objects::SearchChange {
    super::objects::SearchChange {
        index: "client".into(),
        item: name.into(),
        deleted,
    }
}
