//! Sandboxes (a client's upload session: the checksums it announced), the per-org
//! register of uploaded checksums, file references from cookbook versions and artifacts,
//! and server-wide settings.

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::{execute, on_db, Store, Tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SandboxRow {
    pub id: String,
    pub org_id: String,
    /// JSON array of the announced checksums, in request order.
    pub checksums: String,
    pub created_at: DateTime<Utc>,
}

impl Store {
    /// Stores the sandbox and the checksums it awaits (`sums`), in one transaction.
    pub async fn create_sandbox(
        &self,
        sb: &SandboxRow,
        sums: &[String],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        let sql =
            "INSERT INTO sandboxes (id, org_id, checksums, created_at) VALUES ($1, $2, $3, $4)";
        execute!(
            tx.conn(),
            sqlx::query(sql)
                .bind(&sb.id)
                .bind(&sb.org_id)
                .bind(&sb.checksums)
                .bind(sb.created_at)
        )?;
        for sum in sums {
            let sql = "INSERT INTO sandbox_checksums (sandbox_id, org_id, checksum) \
                       VALUES ($1, $2, $3) ON CONFLICT DO NOTHING";
            execute!(
                tx.conn(),
                sqlx::query(sql).bind(&sb.id).bind(&sb.org_id).bind(sum)
            )?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn sandbox(&self, org_id: &str, id: &str) -> Result<Option<SandboxRow>, sqlx::Error> {
        let sql =
            "SELECT id, org_id, checksums, created_at FROM sandboxes WHERE org_id = $1 AND id = $2";
        on_db!(self.pool(), p => sqlx::query_as(sql).bind(org_id).bind(id).fetch_optional(p).await)
    }

    /// A committed sandbox is gone, as in erchef (its checksums are registered already).
    pub async fn delete_sandbox(&self, id: &str) -> Result<(), sqlx::Error> {
        let sql = "DELETE FROM sandboxes WHERE id = $1";
        on_db!(self.pool(), p => sqlx::query(sql).bind(id).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// Which of `sums` the org has uploaded.
    pub async fn known_checksums(
        &self,
        org_id: &str,
        sums: &[String],
    ) -> Result<HashSet<String>, sqlx::Error> {
        let mut found = HashSet::new();
        for chunk in sums.chunks(200) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT checksum FROM checksums WHERE org_id = $1 AND checksum IN ({})",
                marks.join(", ")
            );
            let rows: Vec<String> = on_db!(self.pool(), p => {
                let mut q = sqlx::query_scalar(&sql).bind(org_id);
                for s in chunk {
                    q = q.bind(s);
                }
                q.fetch_all(p).await
            })?;
            found.extend(rows);
        }
        Ok(found)
    }

    /// The subset of `sums` the org has not uploaded, in their order.
    pub async fn missing_checksums(
        &self,
        org_id: &str,
        sums: &[String],
    ) -> Result<Vec<String>, sqlx::Error> {
        let known = self.known_checksums(org_id, sums).await?;
        Ok(sums
            .iter()
            .filter(|s| !known.contains(*s))
            .cloned()
            .collect())
    }

    /// Records that the org's file with this checksum is in the blob store.
    pub async fn add_checksum(&self, org_id: &str, checksum: &str) -> Result<(), sqlx::Error> {
        let sql = "INSERT INTO checksums (org_id, checksum, created_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (org_id, checksum) DO NOTHING";
        on_db!(self.pool(), p => sqlx::query(sql).bind(org_id).bind(checksum).bind(super::now()).execute(p).await.map(|_| ()))?;
        Ok(())
    }

    /// A server-wide setting, created with `default` by the first process that asks.
    pub async fn setting_or_init(&self, name: &str, default: &str) -> Result<String, sqlx::Error> {
        let insert =
            "INSERT INTO settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
        on_db!(self.pool(), p => sqlx::query(insert).bind(name).bind(default).execute(p).await.map(|_| ()))?;
        let sql = "SELECT value FROM settings WHERE name = $1";
        on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(name).fetch_one(p).await)
    }

    /// The background sweep's database half: forgets sandboxes and unreferenced uploads
    /// older than `before`, then returns every (org id, checksum) still held.
    pub async fn sweep_checksums(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<(String, String)>, sqlx::Error> {
        let mut tx = self.begin().await?;
        execute!(
            tx.conn(),
            sqlx::query("DELETE FROM sandboxes WHERE created_at < $1").bind(before)
        )?;
        let orphans = "DELETE FROM checksums WHERE created_at < $1 AND NOT EXISTS \
                       (SELECT 1 FROM file_refs r WHERE r.org_id = checksums.org_id AND r.checksum = checksums.checksum)";
        execute!(tx.conn(), sqlx::query(orphans).bind(before))?;
        tx.commit().await?;
        let sql = "SELECT org_id, checksum FROM checksums";
        on_db!(self.pool(), p => sqlx::query_as(sql).fetch_all(p).await)
    }

    /// The orgs that hold a checksum (to move a file of the old shared layout to each).
    pub async fn checksum_holders(&self, checksum: &str) -> Result<Vec<String>, sqlx::Error> {
        let sql = "SELECT org_id FROM checksums WHERE checksum = $1";
        on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(checksum).fetch_all(p).await)
    }

    /// Whether an open (uncommitted) sandbox of the org announced this checksum: only
    /// then may its file be uploaded.
    pub async fn checksum_awaited(
        &self,
        org_id: &str,
        checksum: &str,
    ) -> Result<bool, sqlx::Error> {
        let sql = "SELECT COUNT(*) FROM sandbox_checksums WHERE org_id = $1 AND checksum = $2";
        let n: i64 = on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(org_id).bind(checksum).fetch_one(p).await)?;
        Ok(n > 0)
    }
}

/// Forgets every file `owner` references (it is being deleted), as `set_file_refs`
/// with none.
pub(crate) async fn clear_file_refs(tx: &mut Tx, owner: &str) -> Result<(), sqlx::Error> {
    let org: Option<String> = on_db!(tx.conn(), c => sqlx::query_scalar("SELECT org_id FROM file_refs WHERE owner_id = $1 LIMIT 1").bind(owner).fetch_optional(c).await)?;
    match org {
        Some(org) => set_file_refs(tx, &org, owner, &[]).await,
        None => Ok(()),
    }
}

/// Replaces the files `owner` references; checksums it no longer references and nothing
/// else in the org does are forgotten (their URLs answer 404 from then on).
pub(crate) async fn set_file_refs(
    tx: &mut Tx,
    org_id: &str,
    owner: &str,
    sums: &[String],
) -> Result<(), sqlx::Error> {
    let old: Vec<String> = on_db!(tx.conn(), c => sqlx::query_scalar("SELECT checksum FROM file_refs WHERE owner_id = $1").bind(owner).fetch_all(c).await)?;
    execute!(
        tx.conn(),
        sqlx::query("DELETE FROM file_refs WHERE owner_id = $1").bind(owner)
    )?;
    for s in sums {
        let sql = "INSERT INTO file_refs (owner_id, org_id, checksum) VALUES ($1, $2, $3) \
                   ON CONFLICT (owner_id, checksum) DO NOTHING";
        execute!(tx.conn(), sqlx::query(sql).bind(owner).bind(org_id).bind(s))?;
    }
    for s in old.iter().filter(|s| !sums.contains(s)) {
        let sql = "DELETE FROM checksums WHERE org_id = $1 AND checksum = $2 AND NOT EXISTS \
                   (SELECT 1 FROM file_refs WHERE org_id = $1 AND checksum = $2)";
        execute!(tx.conn(), sqlx::query(sql).bind(org_id).bind(s))?;
    }
    Ok(())
}
