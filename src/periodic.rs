//! Background jobs that repeat on a timer for as long as the server runs (the reporting
//! purge, the search change-log retention). Each process behind a load balancer may run
//! them; the jobs are idempotent.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;

/// A running job; dropping it stops the job.
pub struct Periodic(Option<JoinHandle<()>>);

impl Drop for Periodic {
    fn drop(&mut self) {
        if let Some(h) = &self.0 {
            h.abort();
        }
    }
}

impl Periodic {
    /// Runs `job` every `every`, the first time at once; missed ticks are not made up.
    pub fn spawn<F, Fut>(every: Duration, mut job: F) -> Periodic
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send,
    {
        Periodic(Some(tokio::spawn(async move {
            let mut tick = tokio::time::interval(every.max(Duration::from_millis(1)));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                job().await;
            }
        })))
    }

    /// A job that is switched off.
    pub fn none() -> Periodic {
        Periodic(None)
    }
}
