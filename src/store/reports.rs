//! Reporting data: chef-client runs (`report_runs`, one row per run id) and the resources
//! each run updated (`report_resources`, by position). Times are Unix seconds; listings,
//! time buckets and duration buckets are computed in SQL so a wide window costs one
//! grouped scan, not a row per run.

use super::{execute, on_db, Store};
use crate::model::report::DURATION_BOUNDS;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ReportRunRow {
    pub org_id: String,
    pub run_id: String,
    pub node_name: String,
    pub status: String,
    pub start_time: i64,
    pub end_time: Option<i64>,
    pub total_res_count: i64,
    pub updated_res_count: i64,
    /// JSON object: `run_list`, `expanded_run_list`, `data` of the end post.
    pub detail: String,
    pub created_at: i64,
    pub updated_at: i64,
}

const RUN_COLUMNS: &str = "org_id, run_id, node_name, status, start_time, end_time, \
     total_res_count, updated_res_count, detail, created_at, updated_at";

/// What a run-start post did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartOutcome {
    Created,
    /// The run was already recorded for this node (a repeated post); nothing changed.
    Exists,
    /// The run id belongs to another node.
    OtherNode,
}

/// What a run-end post did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndOutcome {
    /// The run had no start post; the end post's `start_time` created it.
    Created,
    Updated,
    /// The run id belongs to another node.
    OtherNode,
    /// Neither a start post nor a `start_time` in the end post.
    Unknown,
}

/// The end of a run as stored (validated by `model::report::parse_end`).
#[derive(Debug, Clone)]
pub struct RunEndRecord<'a> {
    pub status: &'a str,
    pub start_time: Option<i64>,
    pub end_time: i64,
    pub total_res_count: i64,
    pub detail: String,
    /// Resource records as JSON text, in the order sent.
    pub resources: Vec<String>,
}

/// Which runs a listing or a statistic covers: start time in `[from, until]`.
#[derive(Debug, Clone, Default)]
pub struct RunFilter {
    pub node: Option<String>,
    pub status: Option<String>,
    pub from: i64,
    pub until: i64,
}

/// Runs per time bucket and status: (bucket index from the window's first boundary,
/// status, count).
pub type BucketCount = (i64, String, i64);

/// One duration bucket and status: (bucket index into `DURATION_BOUNDS`, status, count,
/// min, max and sum of durations in seconds).
pub type DurationCount = (i64, String, i64, i64, i64, i64);

/// Resource rows are inserted this many per statement (4 parameters each).
const RESOURCE_CHUNK: usize = 100;

impl Store {
    pub async fn report_run(
        &self,
        org_id: &str,
        run_id: &str,
    ) -> Result<Option<ReportRunRow>, sqlx::Error> {
        let sql =
            format!("SELECT {RUN_COLUMNS} FROM report_runs WHERE org_id = $1 AND run_id = $2");
        on_db!(self.pool(), p => sqlx::query_as(&sql).bind(org_id).bind(run_id).fetch_optional(p).await)
    }

    /// Records a run start; a repeated post for the same node changes nothing.
    pub async fn start_report_run(
        &self,
        org_id: &str,
        node: &str,
        run_id: &str,
        start_time: i64,
    ) -> Result<StartOutcome, sqlx::Error> {
        let mut tx = self.begin().await?;
        let now = chrono::Utc::now().timestamp();
        let sql = format!(
            "INSERT INTO report_runs ({RUN_COLUMNS}) \
             VALUES ($1, $2, $3, 'started', $4, NULL, 0, 0, '{{}}', $5, $5) \
             ON CONFLICT (org_id, run_id) DO NOTHING"
        );
        let n = execute!(
            tx.conn(),
            sqlx::query(&sql)
                .bind(org_id)
                .bind(run_id)
                .bind(node)
                .bind(start_time)
                .bind(now)
        )?;
        let outcome = if n == 1 {
            StartOutcome::Created
        } else {
            let sql = "SELECT node_name FROM report_runs WHERE org_id = $1 AND run_id = $2";
            let owner: String = on_db!(tx.conn(), c => sqlx::query_scalar(sql)
                .bind(org_id).bind(run_id).fetch_one(c).await)?;
            if owner == node {
                StartOutcome::Exists
            } else {
                StartOutcome::OtherNode
            }
        };
        tx.commit().await?;
        Ok(outcome)
    }

    /// Records a run's end and replaces its resources, in one transaction. Posting the
    /// same end again leaves the same state.
    pub async fn end_report_run(
        &self,
        org_id: &str,
        node: &str,
        run_id: &str,
        end: &RunEndRecord<'_>,
    ) -> Result<EndOutcome, sqlx::Error> {
        let mut tx = self.begin().await?;
        let sql = "SELECT node_name FROM report_runs WHERE org_id = $1 AND run_id = $2";
        let owner: Option<String> = on_db!(tx.conn(), c => sqlx::query_scalar(sql)
            .bind(org_id).bind(run_id).fetch_optional(c).await)?;
        let outcome = match (&owner, end.start_time) {
            (Some(o), _) if o != node => return Ok(EndOutcome::OtherNode),
            (Some(_), _) => EndOutcome::Updated,
            (None, Some(_)) => EndOutcome::Created,
            (None, None) => return Ok(EndOutcome::Unknown),
        };
        let now = chrono::Utc::now().timestamp();
        // The start post's start_time stands; the end post's only fills a missing start.
        let sql = format!(
            "INSERT INTO report_runs ({RUN_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10) \
             ON CONFLICT (org_id, run_id) DO UPDATE SET status = excluded.status, \
               end_time = excluded.end_time, total_res_count = excluded.total_res_count, \
               updated_res_count = excluded.updated_res_count, detail = excluded.detail, \
               updated_at = excluded.updated_at"
        );
        execute!(
            tx.conn(),
            sqlx::query(&sql)
                .bind(org_id)
                .bind(run_id)
                .bind(node)
                .bind(end.status)
                .bind(end.start_time.unwrap_or(end.end_time))
                .bind(end.end_time)
                .bind(end.total_res_count)
                .bind(end.resources.len() as i64)
                .bind(&end.detail)
                .bind(now)
        )?;
        execute!(
            tx.conn(),
            sqlx::query("DELETE FROM report_resources WHERE org_id = $1 AND run_id = $2")
                .bind(org_id)
                .bind(run_id)
        )?;
        for (chunk_no, chunk) in end.resources.chunks(RESOURCE_CHUNK).enumerate() {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let b = i * 4;
                    format!("(${}, ${}, ${}, ${})", b + 1, b + 2, b + 3, b + 4)
                })
                .collect();
            let sql = format!(
                "INSERT INTO report_resources (org_id, run_id, seq, body) VALUES {}",
                values.join(", ")
            );
            let first = chunk_no * RESOURCE_CHUNK;
            on_db!(tx.conn(), c => {
                let mut q = sqlx::query(&sql);
                for (i, body) in chunk.iter().enumerate() {
                    q = q.bind(org_id).bind(run_id).bind((first + i) as i64).bind(body);
                }
                q.execute(c).await.map(|_| ())
            })?;
        }
        tx.commit().await?;
        Ok(outcome)
    }

    /// Runs matching `filter`, newest first, one page of them, and how many match in all.
    pub async fn list_report_runs(
        &self,
        org_id: &str,
        filter: &RunFilter,
        rows: i64,
        start: i64,
    ) -> Result<(Vec<ReportRunRow>, i64), sqlx::Error> {
        let cond = "org_id = $1 AND start_time >= $2 AND start_time <= $3 \
                    AND ($4 IS NULL OR node_name = $4) AND ($5 IS NULL OR status = $5)";
        let sql = format!(
            "SELECT {RUN_COLUMNS} FROM report_runs WHERE {cond} \
             ORDER BY start_time DESC, run_id LIMIT $6 OFFSET $7"
        );
        let runs: Vec<ReportRunRow> = on_db!(self.pool(), p => sqlx::query_as(&sql)
            .bind(org_id).bind(filter.from).bind(filter.until)
            .bind(filter.node.as_deref()).bind(filter.status.as_deref())
            .bind(rows).bind(start)
            .fetch_all(p).await)?;
        let sql = format!("SELECT COUNT(*) FROM report_runs WHERE {cond}");
        let total: i64 = on_db!(self.pool(), p => sqlx::query_scalar(&sql)
            .bind(org_id).bind(filter.from).bind(filter.until)
            .bind(filter.node.as_deref()).bind(filter.status.as_deref())
            .fetch_one(p).await)?;
        Ok((runs, total))
    }

    /// One page of a run's resources as (position, JSON text), in the order sent.
    pub async fn report_resources(
        &self,
        org_id: &str,
        run_id: &str,
        rows: i64,
        start: i64,
    ) -> Result<Vec<(i64, String)>, sqlx::Error> {
        let sql = "SELECT seq, body FROM report_resources WHERE org_id = $1 AND run_id = $2 \
                   ORDER BY seq LIMIT $3 OFFSET $4";
        on_db!(self.pool(), p => sqlx::query_as(sql)
            .bind(org_id).bind(run_id).bind(rows).bind(start).fetch_all(p).await)
    }

    pub async fn report_resource(
        &self,
        org_id: &str,
        run_id: &str,
        seq: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        let sql =
            "SELECT body FROM report_resources WHERE org_id = $1 AND run_id = $2 AND seq = $3";
        on_db!(self.pool(), p => sqlx::query_scalar(sql)
            .bind(org_id).bind(run_id).bind(seq).fetch_optional(p).await)
    }

    /// Runs per time bucket and status. Buckets are `width` seconds wide, counted from
    /// `base` (a boundary at or before `filter.from`).
    pub async fn count_report_runs(
        &self,
        org_id: &str,
        filter: &RunFilter,
        base: i64,
        width: i64,
    ) -> Result<Vec<BucketCount>, sqlx::Error> {
        let sql = "SELECT (start_time - $4) / $5, status, COUNT(*) FROM report_runs \
                   WHERE org_id = $1 AND start_time >= $2 AND start_time <= $3 \
                   AND ($6 IS NULL OR node_name = $6) GROUP BY 1, 2 ORDER BY 1, 2";
        on_db!(self.pool(), p => sqlx::query_as(sql)
            .bind(org_id).bind(filter.from).bind(filter.until).bind(base).bind(width)
            .bind(filter.node.as_deref())
            .fetch_all(p).await)
    }

    /// Finished runs per duration bucket (`DURATION_BOUNDS`) and status.
    pub async fn report_run_durations(
        &self,
        org_id: &str,
        filter: &RunFilter,
    ) -> Result<Vec<DurationCount>, sqlx::Error> {
        // The bucket index is cast: PostgreSQL types bare integer literals as INT4.
        let mut case = String::from("CAST(CASE");
        for (i, bound) in DURATION_BOUNDS.iter().enumerate() {
            case.push_str(&format!(" WHEN d < {bound} THEN {i}"));
        }
        case.push_str(&format!(" ELSE {} END AS BIGINT)", DURATION_BOUNDS.len()));
        let sql = format!(
            "SELECT {case}, status, COUNT(*), MIN(d), MAX(d), CAST(SUM(d) AS BIGINT) FROM \
               (SELECT end_time - start_time AS d, status FROM report_runs \
                WHERE org_id = $1 AND end_time IS NOT NULL AND start_time >= $2 \
                AND start_time <= $3 AND ($4 IS NULL OR node_name = $4)) AS runs \
             GROUP BY 1, 2 ORDER BY 1, 2"
        );
        on_db!(self.pool(), p => sqlx::query_as(&sql)
            .bind(org_id).bind(filter.from).bind(filter.until).bind(filter.node.as_deref())
            .fetch_all(p).await)
    }

    /// Deletes every run (and its resources) that started before `cutoff` (Unix
    /// seconds), in one transaction; returns how many runs went.
    pub async fn purge_report_runs(&self, cutoff: i64) -> Result<u64, sqlx::Error> {
        let mut tx = self.begin().await?;
        execute!(
            tx.conn(),
            sqlx::query(
                "DELETE FROM report_resources WHERE (org_id, run_id) IN \
                 (SELECT org_id, run_id FROM report_runs WHERE start_time < $1)"
            )
            .bind(cutoff)
        )?;
        let n = execute!(
            tx.conn(),
            sqlx::query("DELETE FROM report_runs WHERE start_time < $1").bind(cutoff)
        )?;
        tx.commit().await?;
        Ok(n)
    }
}
