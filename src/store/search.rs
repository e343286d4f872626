//! What the search index reads from the database: the change log, the objects it names
//! (in batches), and the ACL answers that filter result rows.

use std::cell::Cell;
use std::collections::HashSet;
use std::future::Future;

use chrono::{DateTime, Utc};

use super::clients::ClientRow;
use super::objects::{ObjectRow, OBJECT_COLUMNS};
use super::{execute, on_db, Store, Tx};

/// One row of the search change log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangeRow {
    pub seq: i64,
    pub org_id: String,
    pub idx: String,
    pub item: String,
    /// `upsert`, `delete`, or `purge` (the whole org).
    pub op: String,
}

/// The `settings` row holding the change-log pruning watermark.
const PRUNED_THROUGH: &str = "search_changes_pruned_through";

/// Rows per `IN (…)` list, well under both backends' bind limits.
const CHUNK: usize = 500;

fn placeholders(from: usize, n: usize) -> String {
    (from..from + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Records that an org's documents are gone (its deletion).
pub(crate) async fn record_org_purge(tx: &mut Tx, org_id: &str) -> Result<(), sqlx::Error> {
    prepare_append(tx).await?;
    let sql = "INSERT INTO search_changes (org_id, idx, item, op, created_at) VALUES ($1, '', '', 'purge', $2)";
    execute!(tx.conn(), sqlx::query(sql).bind(org_id).bind(super::now()))?;
    Ok(())
}

tokio::task_local! {
    static APPENDED: Cell<bool>;
}

/// Runs `f` (a request) and tells whether it appended to the change log (so the
/// read-your-writes layer waits only for requests that changed something searchable).
pub async fn tracking_appends<F: Future>(f: F) -> (F::Output, bool) {
    APPENDED
        .scope(Cell::new(false), async {
            let out = f.await;
            (out, APPENDED.with(Cell::get))
        })
        .await
}

/// Runs before each append to the change log. It notes the append for
/// `tracking_appends`. And on PostgreSQL, concurrent transactions could commit their
/// change rows out of sequence order, and a reader that has passed sequence N would then
/// miss a late N-1: a transaction-scoped advisory lock taken before appending makes
/// commit order follow sequence order (held only from the append to the commit). SQLite
/// has one writer.
pub(crate) async fn prepare_append(tx: &mut Tx) -> Result<(), sqlx::Error> {
    let _ = APPENDED.try_with(|a| a.set(true));
    if let super::Db::Postgres(c) = tx.conn() {
        sqlx::query("SELECT pg_advisory_xact_lock(7316827)")
            .execute(c)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Change-log rows after `after`, oldest first.
    pub async fn search_changes_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<ChangeRow>, sqlx::Error> {
        let sql = "SELECT seq, org_id, idx, item, op FROM search_changes WHERE seq > $1 ORDER BY seq LIMIT $2";
        on_db!(self.pool(), p => sqlx::query_as(sql).bind(after).bind(limit).fetch_all(p).await)
    }

    /// Forgets change-log rows written before `before`, always keeping the newest row (so
    /// the head never goes back), and records the highest sequence forgotten: an index
    /// that has not applied that far can no longer replay and must be rebuilt. Returns
    /// that watermark and how many rows went.
    pub async fn prune_search_changes(
        &self,
        before: DateTime<Utc>,
    ) -> Result<(i64, u64), sqlx::Error> {
        let mut tx = self.begin().await?;
        let sql = "SELECT MAX(seq) FROM search_changes WHERE created_at < $1 \
                   AND seq < (SELECT MAX(seq) FROM search_changes)";
        let mark: Option<i64> =
            on_db!(tx.conn(), c => sqlx::query_scalar(sql).bind(before).fetch_one(c).await)?;
        let Some(mark) = mark else {
            return Ok((self.search_changes_pruned_through().await?, 0));
        };
        let sql = "INSERT INTO settings (name, value) VALUES ($1, $2) \
                   ON CONFLICT (name) DO UPDATE SET value = excluded.value";
        execute!(
            tx.conn(),
            sqlx::query(sql).bind(PRUNED_THROUGH).bind(mark.to_string())
        )?;
        let n = execute!(
            tx.conn(),
            sqlx::query("DELETE FROM search_changes WHERE seq <= $1").bind(mark)
        )?;
        tx.commit().await?;
        Ok((mark, n))
    }

    /// The highest change-log sequence pruned so far (0: none).
    pub async fn search_changes_pruned_through(&self) -> Result<i64, sqlx::Error> {
        let sql = "SELECT value FROM settings WHERE name = $1";
        let v: Option<String> = on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(PRUNED_THROUGH).fetch_optional(p).await)?;
        Ok(v.and_then(|v| v.parse().ok()).unwrap_or(0))
    }

    /// Documents of one kind (and bag) by name; missing names are left out. Without
    /// `with_body`, bodies are left empty (not read).
    pub async fn search_objects_named(
        &self,
        org_id: &str,
        kind: &str,
        bag: &str,
        names: &[String],
        with_body: bool,
    ) -> Result<Vec<ObjectRow>, sqlx::Error> {
        let columns = if with_body {
            OBJECT_COLUMNS
        } else {
            "id, org_id, kind, bag, name, '' AS body, created_at, updated_at"
        };
        let mut out = Vec::with_capacity(names.len());
        for chunk in names.chunks(CHUNK) {
            let sql = format!(
                "SELECT {columns} FROM objects WHERE org_id = $1 AND kind = $2 AND bag = $3 AND name IN ({})",
                placeholders(4, chunk.len())
            );
            let rows: Vec<ObjectRow> = on_db!(self.pool(), p => {
                let mut q = sqlx::query_as(&sql).bind(org_id).bind(kind).bind(bag);
                for n in chunk {
                    q = q.bind(n);
                }
                q.fetch_all(p).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// Clients of an org by name; missing names are left out.
    pub async fn clients_named(
        &self,
        org_id: &str,
        names: &[String],
    ) -> Result<Vec<ClientRow>, sqlx::Error> {
        let mut out = Vec::with_capacity(names.len());
        for chunk in names.chunks(CHUNK) {
            let sql = format!(
                "SELECT id, org_id, name, validator, admin, created_at, updated_at FROM clients \
                 WHERE org_id = $1 AND name IN ({})",
                placeholders(2, chunk.len())
            );
            let rows: Vec<ClientRow> = on_db!(self.pool(), p => {
                let mut q = sqlx::query_as(&sql).bind(org_id);
                for n in chunk {
                    q = q.bind(n);
                }
                q.fetch_all(p).await
            })?;
            out.extend(rows);
        }
        Ok(out)
    }

    /// The subset of `targets` on which the actor holds `perm`, directly or through groups.
    pub async fn permitted_targets(
        &self,
        actor_id: &str,
        targets: &[String],
        perm: &str,
    ) -> Result<HashSet<String>, sqlx::Error> {
        let mut out = HashSet::new();
        for chunk in targets.chunks(CHUNK) {
            let sql = format!(
                "WITH RECURSIVE g(id) AS ( \
                   SELECT group_id FROM group_members WHERE member_kind <> 'group' AND member_id = $1 \
                   UNION \
                   SELECT gm.group_id FROM group_members gm JOIN g ON gm.member_kind = 'group' AND gm.member_id = g.id \
                 ) \
                 SELECT DISTINCT a.target_id FROM acl_entries a WHERE a.perm = $2 AND a.target_id IN ({}) AND \
                   ((a.member_kind = 'actor' AND a.member_id = $1) OR \
                    (a.member_kind = 'group' AND a.member_id IN (SELECT id FROM g)))",
                placeholders(3, chunk.len())
            );
            let ids: Vec<String> = on_db!(self.pool(), p => {
                let mut q = sqlx::query_scalar(&sql).bind(actor_id).bind(perm);
                for t in chunk {
                    q = q.bind(t);
                }
                q.fetch_all(p).await
            })?;
            out.extend(ids);
        }
        Ok(out)
    }

    /// A page of every indexable document (for a rebuild), in id order after `after_id`.
    pub async fn indexable_objects_page(
        &self,
        after_id: &str,
        limit: i64,
    ) -> Result<Vec<ObjectRow>, sqlx::Error> {
        let sql = format!(
            "SELECT {OBJECT_COLUMNS} FROM objects WHERE kind IN ('node', 'role', 'environment', 'data_bag_item') \
             AND id > $1 ORDER BY id LIMIT $2"
        );
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(after_id).bind(limit).fetch_all(p).await)
    }

    /// Every client with its org's name (for a rebuild).
    pub async fn all_clients_with_org(&self) -> Result<Vec<(ClientRow, String)>, sqlx::Error> {
        #[derive(sqlx::FromRow)]
        struct Row {
            #[sqlx(flatten)]
            client: ClientRow,
            orgname: String,
        }
        let sql = "SELECT c.id, c.org_id, c.name, c.validator, c.admin, c.created_at, c.updated_at, o.name AS orgname \
                   FROM clients c JOIN orgs o ON o.id = c.org_id ORDER BY c.id";
        let rows: Vec<Row> = on_db!(self.pool(), p => sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|r| (r.client, r.orgname)).collect())
    }

    pub async fn org_name_by_id(&self, org_id: &str) -> Result<Option<String>, sqlx::Error> {
        let sql = "SELECT name FROM orgs WHERE id = $1";
        on_db!(self.pool(), p => sqlx::query_scalar(sql).bind(org_id).fetch_optional(p).await)
    }
}
