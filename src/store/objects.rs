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

pub(crate) const OBJECT_COLUMNS: &str = "id, org_id, kind, bag, name, body, created_at, updated_at";

impl Store {
    /// The sequence number of the newest search change (0 when there is none).
    pub async fn search_change_head(&self) -> Result<i64, sqlx::Error> {
        let sql = "SELECT COALESCE(MAX(seq), 0) FROM search_changes";
        let n: i64 = on_db!(self.pool(), p => sqlx::query_scalar(sql).fetch_one(p).await)?;
        Ok(n)
    }

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
/// Inserts a document row alone (no ACL: data bag items, policy revisions, …).
pub(crate) async fn insert_row(tx: &mut Tx, obj: &ObjectRow) -> Result<(), sqlx::Error> {
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
    Ok(())
}

pub(crate) async fn insert_object(
    tx: &mut Tx,
    obj: &ObjectRow,
    container: &str,
    creator: Option<&str>,
) -> Result<(), sqlx::Error> {
    insert_row(tx, obj).await?;
    let container_id = super::clients::container_id_tx(tx, &obj.org_id, container).await?;
    super::acls::copy_acl(tx, &container_id, &obj.id).await?;
    if let Some(creator) = creator {
        super::acls::grant_all(tx, &obj.id, "actor", creator).await?;
    }
    Ok(())
}

/// Which search index a document belongs to, recorded with each write (the search
/// engine consumes the log).
#[derive(Debug, Clone)]
pub struct SearchChange {
    /// `node`, `role`, `client`, `environment`, or the data bag's name.
    pub index: String,
    pub item: String,
    pub deleted: bool,
}

pub(crate) async fn record_change(
    tx: &mut Tx,
    org_id: &str,
    change: &SearchChange,
) -> Result<(), sqlx::Error> {
    super::search::prepare_append(tx).await?;
    let sql = "INSERT INTO search_changes (org_id, idx, item, op, created_at) VALUES ($1, $2, $3, $4, $5)";
    let op = if change.deleted { "delete" } else { "upsert" };
    execute!(
        tx.conn(),
        sqlx::query(sql)
            .bind(org_id)
            .bind(&change.index)
            .bind(&change.item)
            .bind(op)
            .bind(super::now())
    )?;
    Ok(())
}

impl Store {
    /// Names of an org's documents of one kind (and data bag), sorted.
    pub async fn object_names(
        &self,
        org_id: &str,
        kind: &str,
        bag: &str,
    ) -> Result<Vec<String>, sqlx::Error> {
        let sql =
            "SELECT name FROM objects WHERE org_id = $1 AND kind = $2 AND bag = $3 ORDER BY name";
        on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(org_id).bind(kind).bind(bag).fetch_all(p).await)
    }

    pub async fn objects(
        &self,
        org_id: &str,
        kind: &str,
        bag: &str,
    ) -> Result<Vec<ObjectRow>, sqlx::Error> {
        let sql = format!("SELECT {OBJECT_COLUMNS} FROM objects WHERE org_id = $1 AND kind = $2 AND bag = $3 ORDER BY name");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).bind(kind).bind(bag).fetch_all(p).await)
    }

    /// Creates a document (ACL from `container` plus the creator) and its search change.
    pub async fn create_object(
        &self,
        obj: &ObjectRow,
        container: &str,
        creator: &str,
        change: Option<&SearchChange>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        insert_object(&mut tx, obj, container, Some(creator)).await?;
        if let Some(c) = change {
            record_change(&mut tx, &obj.org_id, c).await?;
        }
        tx.commit().await
    }

    /// Saves a document's new name and body (a rename keeps its id and ACL).
    pub async fn update_object(
        &self,
        obj: &ObjectRow,
        changes: &[SearchChange],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        let sql = "UPDATE objects SET name = $2, body = $3, updated_at = $4 WHERE id = $1";
        execute!(
            tx.conn(),
            sqlx::query(sql)
                .bind(&obj.id)
                .bind(&obj.name)
                .bind(&obj.body)
                .bind(obj.updated_at)
        )?;
        for c in changes {
            record_change(&mut tx, &obj.org_id, c).await?;
        }
        tx.commit().await
    }

    /// Deletes documents (a data bag with its items, say) and their ACLs.
    pub async fn delete_objects(
        &self,
        org_id: &str,
        ids: &[String],
        changes: &[SearchChange],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        for id in ids {
            super::acls::forget_entity(&mut tx, id).await?;
            execute!(
                tx.conn(),
                sqlx::query("DELETE FROM objects WHERE id = $1").bind(id)
            )?;
        }
        for c in changes {
            record_change(&mut tx, org_id, c).await?;
        }
        tx.commit().await
    }
}

impl Store {
    /// Creates a data bag item: items have no ACL of their own (the bag's applies).
    pub async fn create_item(
        &self,
        obj: &ObjectRow,
        change: &SearchChange,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        insert_row(&mut tx, obj).await?;
        record_change(&mut tx, &obj.org_id, change).await?;
        tx.commit().await
    }
}
