//! The retention task: every `reporting.purge_interval_secs`, runs that started more than
//! `reporting.retention_days` ago are deleted (`Store::purge_report_runs`). Each process
//! behind a load balancer may run it; the deletes are idempotent.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::state::AppState;

/// The running purge loop; dropping it stops the loop.
pub struct RetentionTask(JoinHandle<()>);

impl Drop for RetentionTask {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Starts the purge loop (the first pass runs at once); a no-op task when retention is 0.
pub fn spawn_retention(state: AppState) -> RetentionTask {
    let days = state.config.reporting.retention_days;
    let every = Duration::from_secs(state.config.reporting.purge_interval_secs.max(1));
    RetentionTask(tokio::spawn(async move {
        if days == 0 {
            return;
        }
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let cutoff = chrono::Utc::now().timestamp() - i64::from(days) * 86_400;
            match state.store.purge_report_runs(cutoff).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(runs = n, days, "purged old reporting runs"),
                Err(e) => tracing::error!(error = %e, "reporting purge failed"),
            }
        }
    }))
}
