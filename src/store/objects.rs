//! Org-scoped JSON documents (environments, nodes, roles, data bags and their items),
//! stored as key columns plus the object's JSON text, as erchef's schema does.

use chrono::{DateTime, Utc};

use super::{execute, on_db, Store, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ObjectRow {
    pub id: String,
    pub org_id: String,
    pub kind: String,
    pub bag: String,
    pub name: String,
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const OBJECT_COLUMNS: &str = "id, org_id, kind, bag, name, body, created_at, updated_at";

impl Store {
    pub async fn object(
        &self,
        org_id: &str,
        kind: &str,
        bag: &str,
        name: &str,
    ) -> Result<Option<ObjectRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} FROM objects WHERE org_id = $1 AND kind = $2 AND bag = $3 AND name = $4"
        );
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).bind(kind).bind(bag).bind(name).fetch_optional(p).await)
    }

    pub async fn count_objects(&self, kind: &str) -> Result<i64, sqlx::Error> {
        let sql = "SELECT COUNT(*) FROM objects WHERE kind = $1";
        on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(kind).fetch_one(p).await)
    }
}

/// Inserts a document whose ACL is its container's plus the creator's full rights.
pub(crate) async fn insert_object(
    tx: &mut Tx,
    obj: &ObjectRow,
    container: &str,
    creator: Option<&str>,
) -> Result<(), sqlx::Error> {
    let sql =
        format!("INSERT INTO objects ({OBJECT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)");
    execute!(
        tx.conn(),
        sqlx::query(&sql)
            .bind(&obj.id)
            .bind(&obj.org_id)
            .bind(&obj.kind)
            .bind(&obj.bag)
            .bind(&obj.name)
            .bind(&obj.body)
            .bind(obj.created_at)
            .bind(obj.updated_at)
    )?;
    let container_id = super::clients::container_id_tx(tx, &obj.org_id, container).await?;
    super::acls::copy_acl(tx, &container_id, &obj.id).await?;
    if let Some(creator) = creator {
        super::acls::grant_all(tx, &obj.id, "actor", creator).await?;
    }
    Ok(())
}
