//! The background sweep: abandoned sandboxes and uploads no cookbook ever referenced are
//! forgotten, then blob files that no org holds are deleted. It never runs on a request
//! path; `grace` keeps files of uploads still in progress.

use std::time::{Duration, SystemTime};

use crate::blobs::Blobs;
use crate::store::Store;

/// What one sweep removed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub blobs_deleted: usize,
}

pub async fn sweep_once(
    store: &Store,
    blobs: &Blobs,
    grace: Duration,
) -> anyhow::Result<SweepReport> {
    let cutoff = chrono::Utc::now() - chrono::Duration::from_std(grace)?;
    let held: std::collections::HashSet<String> = store
        .sweep_checksums(cutoff)
        .await?
        .into_iter()
        .map(|(org_id, sum)| super::cookbook_key(&org_id, &sum))
        .collect();
    let old = SystemTime::now() - grace;
    let mut report = SweepReport::default();
    for (key, modified) in blobs.list().await? {
        // Only cookbook files are the sweep's; other namespaces have owners of their own.
        if !key.starts_with("org-") {
            continue;
        }
        if modified < old && !held.contains(&key) {
            blobs.delete(&key).await?;
            report.blobs_deleted += 1;
        }
    }
    Ok(report)
}

/// Runs `sweep_once` every `every` until the process ends.
pub fn spawn(store: Store, blobs: Blobs, every: Duration, grace: Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match sweep_once(&store, &blobs, grace).await {
                Ok(r) if r.blobs_deleted > 0 => {
                    tracing::info!(deleted = r.blobs_deleted, "blob sweep")
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "blob sweep failed"),
            }
        }
    });
}
