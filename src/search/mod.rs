//! Chef search: the query language (`query`), what objects index as (`flatten`), the
//! engine behind the `SearchIndex` trait (`engine`, tantivy under `<data_dir>/index`),
//! and the feed that keeps it in step with the database's change log.
//!
//! The database is the source of truth. Every searchable write appends a change row in
//! its own transaction; one tailer task per index applies new rows in sequence order, many
//! at a time (group commit), making them searchable at once (`recent`); a flusher task
//! commits them to tantivy in the background, recording the last sequence committed, and
//! checkpoints the files when idle (`directory`). Writes that appended a change wait (see
//! `wait_for`) until the index has applied the log head as of their commit, so a write's
//! response means its change is searchable; searches wait for the head too, which keeps
//! several processes on one PostgreSQL consistent with each other. After a restart the
//! index replays the log from tantivy's last commit.

pub mod directory;
pub mod engine;
pub mod feed;
pub mod flatten;
pub mod log_retention;
pub mod prune;
pub mod query;
pub mod recent;
pub mod rows;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::{Duration, Instant};

use tokio::sync::{watch, Notify};

use crate::store::Store;
use engine::{Hits, IndexOp, SearchError, SearchIndex, TantivyIndex};

/// How often a tailer looks for changes written by other processes.
const POLL: Duration = Duration::from_millis(200);
/// Longest a request waits for the index before answering anyway.
const WAIT_LIMIT: Duration = Duration::from_secs(10);
/// Change rows applied per commit at most.
const BATCH: i64 = 2000;
/// Applied changes are committed to storage this often…
const FLUSH_EVERY: Duration = Duration::from_millis(500);
/// …or as soon as this many are pending.
const FLUSH_AT: usize = 512;
/// A checkpoint (see `directory`) follows this much idleness after a commit…
const CHECKPOINT_IDLE: Duration = Duration::from_secs(1);
/// …or this long after the last one under a steady stream of writes.
const CHECKPOINT_MAX: Duration = Duration::from_secs(60);

struct Inner {
    engine: Arc<dyn SearchIndex>,
    store: Store,
    applied: watch::Sender<i64>,
    wake: Notify,
    flush_wake: Notify,
}

/// The search service in `AppState`: cheap to clone.
#[derive(Clone)]
pub struct Search {
    inner: Option<Arc<Inner>>,
}

/// Indexes open in this process by folder, so two states over one data directory (a test
/// restarting a listener, say) share one writer.
fn registry() -> &'static Mutex<HashMap<PathBuf, Weak<Inner>>> {
    static OPEN: OnceLock<Mutex<HashMap<PathBuf, Weak<Inner>>>> = OnceLock::new();
    OPEN.get_or_init(Default::default)
}

impl Search {
    /// Opens the index under `dir` (shared when this process has it open already) and
    /// starts its tailer on the current tokio runtime.
    pub fn open(dir: &Path, store: Store) -> anyhow::Result<Search> {
        crate::private_fs::create_dir(dir)?;
        let key = dir.canonicalize()?;
        let mut open = registry()
            .lock()
            .map_err(|_| anyhow::anyhow!("search registry poisoned"))?;
        if let Some(inner) = open.get(&key).and_then(Weak::upgrade) {
            return Ok(Search { inner: Some(inner) });
        }
        let engine: Arc<dyn SearchIndex> = Arc::new(TantivyIndex::open(&key)?);
        let (applied, _) = watch::channel(engine.applied_seq());
        let inner = Arc::new(Inner {
            engine,
            store,
            applied,
            wake: Notify::new(),
            flush_wake: Notify::new(),
        });
        open.insert(key, Arc::downgrade(&inner));
        tokio::spawn(tail(Arc::downgrade(&inner)));
        tokio::spawn(flusher(Arc::downgrade(&inner)));
        Ok(Search { inner: Some(inner) })
    }

    /// A service whose searches fail (the index could not be opened); writes still work.
    pub fn unavailable() -> Search {
        Search { inner: None }
    }

    pub fn is_available(&self) -> bool {
        self.inner.is_some()
    }

    pub fn applied_seq(&self) -> i64 {
        self.inner.as_ref().map_or(0, |i| *i.applied.borrow())
    }

    /// Waits until the index has applied change `seq` (bounded by `WAIT_LIMIT`).
    pub async fn wait_for(&self, seq: i64) {
        let Some(inner) = &self.inner else { return };
        if *inner.applied.borrow() >= seq {
            return;
        }
        inner.wake.notify_one();
        let mut rx = inner.applied.subscribe();
        if tokio::time::timeout(WAIT_LIMIT, rx.wait_for(|v| *v >= seq))
            .await
            .is_err()
        {
            tracing::warn!(
                seq,
                "search index is behind the change log; answering anyway"
            );
        }
    }

    /// Waits until everything committed so far is searchable.
    pub async fn catch_up(&self) -> Result<(), sqlx::Error> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        let head = inner.store.search_change_head().await?;
        self.wait_for(head).await;
        Ok(())
    }

    /// Runs a query on one org's index (`engine::IndexedDoc::index` naming).
    pub async fn query(
        &self,
        org_id: &str,
        index: &str,
        q: query::Query,
        start: usize,
        rows: usize,
    ) -> Result<Hits, SearchError> {
        let Some(inner) = &self.inner else {
            return Err(SearchError::Internal(anyhow::anyhow!(
                "search index unavailable"
            )));
        };
        let engine = inner.engine.clone();
        let (org, index) = (org_id.to_string(), index.to_string());
        tokio::task::spawn_blocking(move || engine.search(&org, &index, &q, start, rows))
            .await
            .map_err(|e| SearchError::Internal(e.into()))?
    }

    pub fn size_on_disk(&self) -> u64 {
        self.inner.as_ref().map_or(0, |i| i.engine.size_on_disk())
    }
}

/// The tailer: applies new change rows until the service is dropped.
async fn tail(weak: Weak<Inner>) {
    let mut failures = 0u32;
    loop {
        let Some(inner) = weak.upgrade() else { return };
        match step(&inner).await {
            Ok(true) => {
                failures = 0;
                if inner.engine.pending() >= FLUSH_AT {
                    inner.flush_wake.notify_one();
                }
                continue;
            }
            Ok(false) => failures = 0,
            Err(e) => {
                failures += 1;
                tracing::error!(error = %e, "applying search changes failed");
            }
        }
        let pause = POLL * failures.clamp(1, 25);
        tokio::select! {
            _ = inner.wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
        }
    }
}

/// Commits applied changes to the engine's storage in the background (every
/// `FLUSH_EVERY`, or sooner once `FLUSH_AT` are pending), and checkpoints the index
/// once it has been idle for `CHECKPOINT_IDLE` (or every `CHECKPOINT_MAX` under load).
async fn flusher(weak: Weak<Inner>) {
    let mut last_flush = Instant::now();
    let mut last_checkpoint = Instant::now();
    let mut dirty = false;
    loop {
        let Some(inner) = weak.upgrade() else { return };
        let engine = inner.engine.clone();
        if engine.pending() > 0 {
            match tokio::task::spawn_blocking(move || engine.flush()).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "committing search changes failed"),
                Err(e) => tracing::error!(error = %e, "committing search changes failed"),
            }
            dirty = true;
            last_flush = Instant::now();
        }
        if dirty
            && (last_flush.elapsed() >= CHECKPOINT_IDLE
                || last_checkpoint.elapsed() >= CHECKPOINT_MAX)
        {
            let engine = inner.engine.clone();
            match tokio::task::spawn_blocking(move || engine.checkpoint()).await {
                Ok(Ok(())) => dirty = false,
                Ok(Err(e)) => tracing::warn!(error = %e, "checkpointing the search index failed"),
                Err(e) => tracing::warn!(error = %e, "checkpointing the search index failed"),
            }
            last_checkpoint = Instant::now();
        }
        tokio::select! {
            _ = inner.flush_wake.notified() => {}
            _ = tokio::time::sleep(FLUSH_EVERY) => {}
        }
    }
}

/// Applies one batch; `Ok(true)` when it made progress.
async fn step(inner: &Inner) -> anyhow::Result<bool> {
    let applied = inner.engine.applied_seq();
    if applied > 0 {
        let changes = inner.store.search_changes_after(applied, BATCH).await?;
        // Rows right after `applied` may be missing because they were pruned (see
        // `log_retention`) while this index was not following: replaying would skip them.
        if changes.first().is_some_and(|c| c.seq > applied + 1)
            && inner.store.search_changes_pruned_through().await? > applied
        {
            tracing::warn!(
                applied,
                "search change log pruned past this index; rebuilding it"
            );
            rebuild(inner.engine.clone(), &inner.store).await?;
            inner.applied.send_replace(inner.engine.applied_seq());
            return Ok(true);
        }
        if let Some(last) = changes.last().map(|c| c.seq) {
            let ops = feed::resolve(&inner.store, &changes).await?;
            apply(inner.engine.clone(), ops, last).await?;
            inner.applied.send_replace(inner.engine.applied_seq());
            return Ok(true);
        }
    }
    let head = inner.store.search_change_head().await?;
    if head == applied || (applied > 0 && head > applied) {
        // Nothing new, or rows committed between the two reads (the next step takes them).
        return Ok(head != applied);
    }
    // A new index (or one from another database): build it from the tables instead of
    // replaying the whole log.
    rebuild(inner.engine.clone(), &inner.store).await?;
    inner.applied.send_replace(inner.engine.applied_seq());
    Ok(true)
}

async fn apply(engine: Arc<dyn SearchIndex>, ops: Vec<IndexOp>, seq: i64) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || engine.apply(ops, seq)).await?
}

async fn apply_bulk(
    engine: Arc<dyn SearchIndex>,
    ops: Vec<IndexOp>,
    seq: i64,
) -> anyhow::Result<()> {
    tokio::task::spawn_blocking(move || engine.apply_bulk(ops, seq)).await?
}

/// Rebuilds the index from the object tables: everything is dropped, every indexable
/// object and client is indexed again, and the commit records the log head read before
/// the scan (later changes are then replayed; replays are idempotent).
pub async fn rebuild(engine: Arc<dyn SearchIndex>, store: &Store) -> anyhow::Result<usize> {
    let head = store.search_change_head().await?;
    let mut ops = vec![IndexOp::PurgeAll];
    let mut count = 0;
    for (c, org) in store.all_clients_with_org().await? {
        ops.push(IndexOp::Upsert(feed::client_doc(&c, &org)));
        count += 1;
    }
    let mut after = String::new();
    loop {
        let page = store.indexable_objects_page(&after, 500).await?;
        let Some(last) = page.last() else { break };
        after = last.id.clone();
        ops.extend(
            page.iter()
                .filter_map(feed::object_doc)
                .map(IndexOp::Upsert),
        );
        count += page.len();
        if ops.len() >= 5000 {
            // Intermediate commits keep memory bounded. They record sequence 0, so a
            // crash part-way leaves an index that is rebuilt again on the next start.
            let batch = std::mem::take(&mut ops);
            apply_bulk(engine.clone(), batch, 0).await?;
        }
    }
    apply_bulk(engine, ops, head).await?;
    Ok(count)
}

/// `brigade reindex`: rebuilds the index of a data directory from the database.
pub async fn reindex(config: &crate::Config, store: &Store) -> anyhow::Result<usize> {
    let dir = config.data_dir.join("index");
    crate::private_fs::create_dir(&dir)?;
    let engine: Arc<dyn SearchIndex> = Arc::new(TantivyIndex::open(&dir)?);
    rebuild(engine, store).await
}
