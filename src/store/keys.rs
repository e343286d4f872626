//! Public keys of users and clients (the `/keys` APIs and authentication).

use chrono::{DateTime, Utc};

use super::{execute, on_db, Store, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct KeyRow {
    pub actor_id: String,
    pub name: String,
    pub public_key: String,
    /// `None` is "infinity".
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl KeyRow {
    /// The `default` key created with an actor; it never expires.
    pub fn default_key(actor_id: &str, public_key: &str, created_at: DateTime<Utc>) -> KeyRow {
        KeyRow {
            actor_id: actor_id.to_string(),
            name: "default".into(),
            public_key: public_key.to_string(),
            expires_at: None,
            created_at,
        }
    }

    pub fn is_expired(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_some_and(|e| e <= now)
    }
}

/// One actor that may have signed a request, with its keys.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthCandidate {
    /// "user" or "client"
    pub kind: String,
    pub actor_id: String,
    pub key_name: String,
    pub public_key: String,
    pub expires_at: Option<DateTime<Utc>>,
}

impl Store {
    pub async fn actor_keys(&self, actor_id: &str) -> Result<Vec<KeyRow>, sqlx::Error> {
        let sql = "SELECT actor_id, name, public_key, expires_at, created_at FROM keys \
                   WHERE actor_id = $1 ORDER BY name";
        on_db!(self.pool(), p => sqlx::query_as(sql).bind(actor_id).fetch_all(p).await)
    }

    pub async fn actor_key(
        &self,
        actor_id: &str,
        name: &str,
    ) -> Result<Option<KeyRow>, sqlx::Error> {
        let sql = "SELECT actor_id, name, public_key, expires_at, created_at FROM keys \
                   WHERE actor_id = $1 AND name = $2";
        on_db!(self.pool(), p => sqlx::query_as(sql).bind(actor_id).bind(name).fetch_optional(p).await)
    }

    pub async fn create_key(&self, key: &KeyRow) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        insert_key(&mut tx, key).await?;
        tx.commit().await
    }

    /// Replaces key `old_name` of the actor with `key` (which may carry a new name).
    pub async fn update_key(&self, old_name: &str, key: &KeyRow) -> Result<(), sqlx::Error> {
        let sql = "UPDATE keys SET name = $3, public_key = $4, expires_at = $5 \
                   WHERE actor_id = $1 AND name = $2";
        execute!(
            self.pool(),
            sqlx::query(sql)
                .bind(&key.actor_id)
                .bind(old_name)
                .bind(&key.name)
                .bind(&key.public_key)
                .bind(key.expires_at)
        )?;
        Ok(())
    }

    pub async fn delete_key(&self, actor_id: &str, name: &str) -> Result<(), sqlx::Error> {
        execute!(
            self.pool(),
            sqlx::query("DELETE FROM keys WHERE actor_id = $1 AND name = $2")
                .bind(actor_id)
                .bind(name)
        )?;
        Ok(())
    }

    /// Every key of the user named `name` and, within `org_id`, of the client of that name;
    /// user keys first, as erchef tries them.
    pub async fn auth_candidates(
        &self,
        org_id: Option<&str>,
        name: &str,
    ) -> Result<Vec<AuthCandidate>, sqlx::Error> {
        let sql = "SELECT 'user' AS kind, u.id AS actor_id, k.name AS key_name, k.public_key, k.expires_at \
                   FROM users u JOIN keys k ON k.actor_id = u.id WHERE u.username = $1 \
                   UNION ALL \
                   SELECT 'client' AS kind, c.id AS actor_id, k.name AS key_name, k.public_key, k.expires_at \
                   FROM clients c JOIN keys k ON k.actor_id = c.id WHERE c.name = $1 AND c.org_id = $2 \
                   ORDER BY kind DESC, key_name";
        on_db!(self.pool(), p => sqlx::query_as(sql).bind(name).bind(org_id.unwrap_or("")).fetch_all(p).await)
    }
}

pub(crate) async fn insert_key(tx: &mut Tx, key: &KeyRow) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO keys (actor_id, name, public_key, expires_at, created_at) \
               VALUES ($1, $2, $3, $4, $5)";
    execute!(
        tx.conn(),
        sqlx::query(sql)
            .bind(&key.actor_id)
            .bind(&key.name)
            .bind(&key.public_key)
            .bind(key.expires_at)
            .bind(key.created_at)
    )?;
    Ok(())
}

pub(crate) async fn upsert_key(tx: &mut Tx, key: &KeyRow) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO keys (actor_id, name, public_key, expires_at, created_at) \
               VALUES ($1, $2, $3, $4, $5) \
               ON CONFLICT (actor_id, name) DO UPDATE SET public_key = excluded.public_key, \
               expires_at = excluded.expires_at";
    execute!(
        tx.conn(),
        sqlx::query(sql)
            .bind(&key.actor_id)
            .bind(&key.name)
            .bind(&key.public_key)
            .bind(key.expires_at)
            .bind(key.created_at)
    )?;
    Ok(())
}

pub(crate) async fn delete_actor_keys(tx: &mut Tx, actor_id: &str) -> Result<(), sqlx::Error> {
    execute!(
        tx.conn(),
        sqlx::query("DELETE FROM keys WHERE actor_id = $1").bind(actor_id)
    )?;
    Ok(())
}
