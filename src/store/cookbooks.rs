//! Cookbook versions. A cookbook's ACL lives on an `objects` row of kind `cookbook`
//! (shared by all its versions, as in erchef); each version is a `cookbook_versions` row
//! with its version split into integers for ordering and its dependencies kept apart
//! for the solver and the universe.

use chrono::{DateTime, Utc};

use super::objects::{insert_object, ObjectRow};
use super::sandboxes::set_file_refs;
use super::{execute, on_db, Store};

pub const COOKBOOK: &str = "cookbook";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CookbookVersionRow {
    pub id: String,
    pub org_id: String,
    pub cookbook_id: String,
    pub name: String,
    pub major: i64,
    pub minor: i64,
    pub patch: i64,
    pub frozen: bool,
    /// `metadata.dependencies` as JSON text.
    pub dependencies: String,
    /// The document as uploaded.
    pub body: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl CookbookVersionRow {
    pub fn version(&self) -> (u64, u64, u64) {
        (self.major as u64, self.minor as u64, self.patch as u64)
    }

    pub fn version_string(&self) -> String {
        format!("{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// What listings, the universe and the solver need of a version (no document).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VersionSummary {
    pub cookbook_id: String,
    pub name: String,
    pub major: i64,
    pub minor: i64,
    pub patch: i64,
    pub dependencies: String,
}

impl VersionSummary {
    pub fn version_string(&self) -> String {
        format!("{}.{}.{}", self.major, self.minor, self.patch)
    }
}

const COLUMNS: &str = "id, org_id, cookbook_id, name, major, minor, patch, frozen, dependencies, body, created_at, updated_at";
const ORDER: &str = "ORDER BY name, major DESC, minor DESC, patch DESC";

impl Store {
    /// Every version of the org's cookbooks (or of one), by name then newest first.
    pub async fn cookbook_summaries(
        &self,
        org_id: &str,
        name: Option<&str>,
    ) -> Result<Vec<VersionSummary>, sqlx::Error> {
        let cols = "cookbook_id, name, major, minor, patch, dependencies";
        match name {
            Some(n) => {
                let sql = format!(
                    "SELECT {cols} FROM cookbook_versions WHERE org_id = $1 AND name = $2 {ORDER}"
                );
                on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).bind(n).fetch_all(p).await)
            }
            None => {
                let sql = format!("SELECT {cols} FROM cookbook_versions WHERE org_id = $1 {ORDER}");
                on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).fetch_all(p).await)
            }
        }
    }

    /// Full rows of the newest version of each of the org's cookbooks.
    pub async fn latest_cookbook_versions(
        &self,
        org_id: &str,
    ) -> Result<Vec<CookbookVersionRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {COLUMNS} FROM cookbook_versions v WHERE org_id = $1 AND NOT EXISTS \
             (SELECT 1 FROM cookbook_versions w WHERE w.org_id = v.org_id AND w.name = v.name AND \
              (w.major > v.major OR (w.major = v.major AND (w.minor > v.minor OR (w.minor = v.minor AND w.patch > v.patch))))) \
             ORDER BY name"
        );
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).fetch_all(p).await)
    }

    pub async fn cookbook_version(
        &self,
        org_id: &str,
        name: &str,
        v: (u64, u64, u64),
    ) -> Result<Option<CookbookVersionRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {COLUMNS} FROM cookbook_versions WHERE org_id = $1 AND name = $2 AND major = $3 AND minor = $4 AND patch = $5"
        );
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).bind(name).bind(v.0 as i64).bind(v.1 as i64).bind(v.2 as i64).fetch_optional(p).await)
    }

    pub async fn latest_cookbook_version(
        &self,
        org_id: &str,
        name: &str,
    ) -> Result<Option<CookbookVersionRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {COLUMNS} FROM cookbook_versions WHERE org_id = $1 AND name = $2 {ORDER} LIMIT 1"
        );
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).bind(name).fetch_optional(p).await)
    }

    /// Full rows for the chosen `(name, version)` pairs of a solve.
    pub async fn cookbook_versions_in(
        &self,
        org_id: &str,
        picks: &[(String, (u64, u64, u64))],
    ) -> Result<Vec<CookbookVersionRow>, sqlx::Error> {
        let mut out = Vec::with_capacity(picks.len());
        for (name, v) in picks {
            if let Some(row) = self.cookbook_version(org_id, name, *v).await? {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Creates or replaces a version in one transaction: the cookbook's ACL object when
    /// `new_cookbook` is given, the version row, and its file references.
    pub async fn save_cookbook_version(
        &self,
        row: &CookbookVersionRow,
        new_cookbook: Option<&ObjectRow>,
        checksums: &[String],
        creator: &str,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        if let Some(cb) = new_cookbook {
            insert_object(&mut tx, cb, "cookbooks", Some(creator)).await?;
        }
        let sql = format!(
            "INSERT INTO cookbook_versions ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (id) DO UPDATE SET frozen = excluded.frozen, dependencies = excluded.dependencies, \
             body = excluded.body, updated_at = excluded.updated_at"
        );
        execute!(
            tx.conn(),
            sqlx::query(&sql)
                .bind(&row.id)
                .bind(&row.org_id)
                .bind(&row.cookbook_id)
                .bind(&row.name)
                .bind(row.major)
                .bind(row.minor)
                .bind(row.patch)
                .bind(row.frozen)
                .bind(&row.dependencies)
                .bind(&row.body)
                .bind(row.created_at)
                .bind(row.updated_at)
        )?;
        set_file_refs(&mut tx, &row.org_id, &row.id, checksums).await?;
        tx.commit().await
    }

    /// Deletes a version; the last one takes the cookbook and its ACL with it.
    pub async fn delete_cookbook_version(
        &self,
        row: &CookbookVersionRow,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        set_file_refs(&mut tx, &row.org_id, &row.id, &[]).await?;
        execute!(
            tx.conn(),
            sqlx::query("DELETE FROM cookbook_versions WHERE id = $1").bind(&row.id)
        )?;
        let left: i64 = on_db!(tx.conn(), c => sqlx::query_scalar("SELECT COUNT(*) FROM cookbook_versions WHERE cookbook_id = $1").bind(&row.cookbook_id).fetch_one(c).await)?;
        if left == 0 {
            super::acls::forget_entity(&mut tx, &row.cookbook_id).await?;
            execute!(
                tx.conn(),
                sqlx::query("DELETE FROM objects WHERE id = $1").bind(&row.cookbook_id)
            )?;
        }
        tx.commit().await
    }
}
