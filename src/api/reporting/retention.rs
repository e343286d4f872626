//! The retention task: every `reporting.purge_interval_secs`, runs that started more than
//! `reporting.retention_days` ago are deleted (`Store::purge_report_runs`).

use std::time::Duration;

use crate::periodic::Periodic;
use crate::state::AppState;

/// Starts the purge loop (the first pass runs at once); nothing runs when retention is 0.
pub fn spawn_retention(state: AppState) -> Periodic {
    let days = state.config.reporting.retention_days;
    if days == 0 {
        return Periodic::none();
    }
    let every = Duration::from_secs(state.config.reporting.purge_interval_secs.max(1));
    Periodic::spawn(every, move || {
        let store = state.store.clone();
        async move {
            let cutoff = chrono::Utc::now().timestamp() - i64::from(days) * 86_400;
            match store.purge_report_runs(cutoff).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(runs = n, days, "purged old reporting runs"),
                Err(e) => tracing::error!(error = %e, "reporting purge failed"),
            }
        }
    })
}
