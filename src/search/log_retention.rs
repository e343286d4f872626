//! Change-log retention: rows older than `search.change_log_retention_hours` are deleted
//! every hour (`Store::prune_search_changes`), so the log does not grow without end. An
//! index that was offline for longer than that finds the rows it missed gone (the
//! pruning watermark is past what it applied) and rebuilds from the tables instead of
//! replaying.

use std::time::Duration;

use crate::periodic::Periodic;
use crate::store::Store;

const EVERY: Duration = Duration::from_secs(3600);

/// Starts the hourly pruning (the first pass runs at once); nothing runs when `hours` is 0.
pub fn spawn(store: Store, hours: u64) -> Periodic {
    if hours == 0 {
        return Periodic::none();
    }
    Periodic::spawn(EVERY, move || {
        let store = store.clone();
        async move {
            let keep = chrono::Duration::hours(i64::try_from(hours).unwrap_or(i64::MAX / 3600));
            let before = chrono::Utc::now() - keep;
            match store.prune_search_changes(before).await {
                Ok((_, 0)) => {}
                Ok((mark, n)) => {
                    tracing::info!(rows = n, through = mark, "pruned the search change log")
                }
                Err(e) => tracing::error!(error = %e, "pruning the search change log failed"),
            }
        }
    })
}
