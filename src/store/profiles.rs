//! InSpec profiles: every uploaded version of a profile, per owner (a user or an org). The
//! archive itself is a blob, `profiles/<sha256>` (the SHA-256 of the tar.gz that `/tar`
//! serves); the row keeps the metadata read from it.

use chrono::{DateTime, Utc};

use super::{execute, on_db, Store};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ProfileRow {
    pub id: String,
    pub owner_id: String,
    pub name: String,
    pub version: String,
    pub sha256: String,
    pub content_sha256: String,
    /// inspec.yml's fields and the rules, as JSON.
    pub metadata: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str =
    "id, owner_id, name, version, sha256, content_sha256, metadata, created_at, updated_at";

/// The blob key of a profile archive.
pub fn profile_blob_key(sha256: &str) -> String {
    format!("profiles/{sha256}")
}

impl Store {
    /// Stores a version, replacing an earlier upload of the same owner, name and version;
    /// returns the archive sha256 it replaced, if any.
    pub async fn save_profile(&self, row: &ProfileRow) -> Result<Option<String>, sqlx::Error> {
        let mut tx = self.begin().await?;
        let old: Option<String> = on_db!(tx.conn(), c => sqlx::query_scalar(
            "SELECT sha256 FROM compliance_profiles WHERE owner_id = $1 AND name = $2 AND version = $3")
            .bind(&row.owner_id).bind(&row.name).bind(&row.version).fetch_optional(c).await)?;
        let sql = format!(
            "INSERT INTO compliance_profiles ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (owner_id, name, version) DO UPDATE SET sha256 = excluded.sha256, \
             content_sha256 = excluded.content_sha256, metadata = excluded.metadata, \
             updated_at = excluded.updated_at"
        );
        execute!(
            tx.conn(),
            sqlx::query(&sql)
                .bind(&row.id)
                .bind(&row.owner_id)
                .bind(&row.name)
                .bind(&row.version)
                .bind(&row.sha256)
                .bind(&row.content_sha256)
                .bind(&row.metadata)
                .bind(row.created_at)
                .bind(row.updated_at)
        )?;
        tx.commit().await?;
        Ok(old.filter(|s| *s != row.sha256))
    }

    /// Every version of every profile of these owners.
    pub async fn owner_profiles(
        &self,
        owner_ids: &[String],
    ) -> Result<Vec<ProfileRow>, sqlx::Error> {
        let mut out = Vec::new();
        for chunk in owner_ids.chunks(200) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT {COLUMNS} FROM compliance_profiles WHERE owner_id IN ({}) ORDER BY name",
                marks.join(", ")
            );
            let rows: Vec<ProfileRow> = on_db!(self.pool(), p => {
                let mut q = sqlx::query_as(&sql);
                for id in chunk {
                    q = q.bind(id);
                }
                q.fetch_all(p).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Every stored version of one profile.
    pub async fn profile_versions(
        &self,
        owner_id: &str,
        name: &str,
    ) -> Result<Vec<ProfileRow>, sqlx::Error> {
        let sql =
            format!("SELECT {COLUMNS} FROM compliance_profiles WHERE owner_id = $1 AND name = $2");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(owner_id).bind(name).fetch_all(p).await)
    }

    /// Deletes one version, or every version when `version` is None; returns the archive
    /// sha256s no profile row references any more (their blobs may go).
    pub async fn delete_profiles(
        &self,
        owner_id: &str,
        name: &str,
        version: Option<&str>,
    ) -> Result<(usize, Vec<String>), sqlx::Error> {
        let mut tx = self.begin().await?;
        let sums: Vec<String> = on_db!(tx.conn(), c => sqlx::query_scalar(
            "SELECT sha256 FROM compliance_profiles WHERE owner_id = $1 AND name = $2 AND (CAST($3 AS TEXT) IS NULL OR version = $3)")
            .bind(owner_id).bind(name).bind(version).fetch_all(c).await)?;
        execute!(
            tx.conn(),
            sqlx::query("DELETE FROM compliance_profiles WHERE owner_id = $1 AND name = $2 AND (CAST($3 AS TEXT) IS NULL OR version = $3)")
                .bind(owner_id)
                .bind(name)
                .bind(version)
        )?;
        tx.commit().await?;
        let mut unused = Vec::new();
        for s in &sums {
            if !self.profile_archive_in_use(s).await? && !unused.contains(s) {
                unused.push(s.clone());
            }
        }
        Ok((sums.len(), unused))
    }

    pub async fn profile_archive_in_use(&self, sha256: &str) -> Result<bool, sqlx::Error> {
        let sql = "SELECT COUNT(*) FROM compliance_profiles WHERE sha256 = $1";
        let n: i64 =
            on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(sha256).fetch_one(p).await)?;
        Ok(n > 0)
    }
}
