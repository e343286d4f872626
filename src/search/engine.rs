//! The `SearchIndex` trait and its default engine, an embedded tantivy index under
//! `<data_dir>/index`. Each document is one object: its key, org, index name, name, and
//! the flattened `content` (tokens split on whitespace, case kept, as erchef's Solr
//! schema). Changes are searchable as soon as they are applied (`recent`) and committed
//! to tantivy by `flush`; the last change-log sequence committed is the commit payload,
//! so the index knows where to resume after a restart.

use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

use anyhow::Context;
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::DirectoryLock;
use tantivy::merge_policy::LogMergePolicy;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, InvertedIndexRangeQuery, Occur as TOccur,
    PhraseQuery, Query as TQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{doc, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Term};

use super::budget::{Cancel, Stoppable, StoppableRegexQuery};
use super::directory::{self, LazyDirectory};
use super::query::{Occur, Query, Text};
use super::recent::{range_bounds, wildcard_regex, Entry, Matcher, Recent, RecentDoc};

/// One object as the engine stores it.
#[derive(Debug, Clone)]
pub struct IndexedDoc {
    pub org_id: String,
    /// `node`, `role`, `client`, `environment`, or `data_bag:<bag>`.
    pub index: String,
    pub name: String,
    /// Flattened tokens joined with spaces (`flatten::content`).
    pub content: String,
}

impl IndexedDoc {
    pub fn key(org_id: &str, index: &str, name: &str) -> String {
        format!("{org_id}\u{1f}{index}\u{1f}{name}")
    }
}

/// A change to apply, in change-log order.
#[derive(Debug, Clone)]
pub enum IndexOp {
    /// Replaces the document with the same key.
    Upsert(IndexedDoc),
    Delete {
        key: String,
    },
    /// Removes every document of an organization.
    PurgeOrg {
        org_id: String,
    },
    /// Removes everything (a rebuild starts with this).
    PurgeAll,
}

/// Names of the matching objects, sorted by name, and how many matched in all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hits {
    pub total: usize,
    pub names: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The query cannot be run (an impossible wildcard pattern, say): a client error.
    #[error("invalid query: {0}")]
    BadQuery(String),
    /// The query's `Cancel` flag was set (its time budget ran out, or its client left).
    #[error("query stopped")]
    Stopped,
    /// The query ran out of its time budget (`search.query_timeout_ms`) and was stopped.
    #[error("query stopped after {0:?}")]
    TimedOut(std::time::Duration),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A search engine fed from the change log. Calls block; callers run them off the async
/// threads.
pub trait SearchIndex: Send + Sync + 'static {
    /// The last change-log sequence whose effects are searchable.
    fn applied_seq(&self) -> i64;
    /// Applies `ops` (the change log up to `seq`) and makes them searchable at once; they
    /// may reach durable storage later (`flush`).
    fn apply(&self, ops: Vec<IndexOp>, seq: i64) -> anyhow::Result<()>;
    /// Applies `ops` straight to storage in one commit recording `seq` (a rebuild).
    fn apply_bulk(&self, ops: Vec<IndexOp>, seq: i64) -> anyhow::Result<()> {
        self.apply(ops, seq)
    }
    /// Changes applied but not yet in storage.
    fn pending(&self) -> usize {
        0
    }
    /// Commits the pending changes to storage.
    fn flush(&self) -> anyhow::Result<()> {
        Ok(())
    }
    /// Objects of one org and index matching `query`; `rows` names from `start`.
    fn search(
        &self,
        org_id: &str,
        index: &str,
        query: &Query,
        start: usize,
        rows: usize,
    ) -> Result<Hits, SearchError> {
        self.search_until(org_id, index, query, start, rows, &Cancel::default())
    }
    /// `search`, giving up with `SearchError::Stopped` soon after `cancel` is set.
    fn search_until(
        &self,
        org_id: &str,
        index: &str,
        query: &Query,
        start: usize,
        rows: usize,
        cancel: &Cancel,
    ) -> Result<Hits, SearchError>;
    /// Bytes the index takes on disk (0 when unknown).
    fn size_on_disk(&self) -> u64;
    /// Makes what was applied so far survive a crash of the machine (commits need only
    /// survive the process: the change log replays the rest).
    fn checkpoint(&self) -> anyhow::Result<()> {
        Ok(())
    }
}

struct Fields {
    key: Field,
    org: Field,
    idx: Field,
    name: Field,
    content: Field,
}

const TOKENIZER: &str = "chef_whitespace";
const WRITER_HEAP: usize = 64 * 1024 * 1024;
/// Pending changes past which `apply` commits them itself (the background flush fell
/// behind): bounds the memory they hold.
const PENDING_MAX: usize = 2048;

pub struct TantivyIndex {
    dir: std::path::PathBuf,
    directory: LazyDirectory,
    _lock: DirectoryLock,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    /// Changes applied since tantivy's last commit, searchable from there (see `recent`).
    recent: RwLock<Recent>,
}

/// Segments merge with others of similar size (tantivy's default puts every segment
/// under 10,000 documents in one level, so the frequent small commits kept rewriting the
/// large segments), and a segment is rewritten once half its documents are replaced.
fn merge_policy() -> LogMergePolicy {
    let mut p = LogMergePolicy::default();
    p.set_min_layer_size(64);
    p.set_del_docs_ratio_before_merge(0.5);
    p
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let key = b.add_text_field("key", STRING);
    let org = b.add_text_field("org", STRING);
    let idx = b.add_text_field("idx", STRING);
    let name = b.add_text_field("name", STRING | FAST);
    let content = b.add_text_field(
        "content",
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(TOKENIZER)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        ),
    );
    (
        b.build(),
        Fields {
            key,
            org,
            idx,
            name,
            content,
        },
    )
}

impl TantivyIndex {
    /// Opens (or creates) the index in `dir`. An index that cannot be opened with this
    /// schema is discarded: it is a cache of the database, rebuilt from the change log.
    pub fn open(dir: &Path) -> anyhow::Result<TantivyIndex> {
        let (directory, lock) = LazyDirectory::open(dir)
            .with_context(|| format!("opening the search index in {}", dir.display()))?;
        let (schema, fields) = schema();
        let index = match Self::open_index(&directory, &schema) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, dir = %dir.display(), "search index unreadable; recreating it");
                directory::clear(dir)?;
                Self::open_index(&directory, &schema)?
            }
        };
        index.tokenizers().register(
            TOKENIZER,
            TextAnalyzer::builder(WhitespaceTokenizer::default()).build(),
        );
        let applied = index
            .load_metas()?
            .payload
            .and_then(|p| p.parse().ok())
            .unwrap_or(0);
        let writer: IndexWriter = index
            .writer_with_num_threads(1, WRITER_HEAP)
            .context("locking the search index (is another server using this data directory?)")?;
        writer.set_merge_policy(Box::new(merge_policy()));
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(TantivyIndex {
            dir: dir.to_path_buf(),
            directory,
            _lock: lock,
            reader,
            writer: Mutex::new(writer),
            fields,
            recent: RwLock::new(Recent {
                entries: Default::default(),
                seq: applied,
            }),
        })
    }

    fn open_index(directory: &LazyDirectory, schema: &Schema) -> anyhow::Result<Index> {
        let index = Index::open_or_create(directory.clone(), schema.clone())?;
        if index.schema() != *schema {
            anyhow::bail!("schema changed");
        }
        // Fail here, not at the first search, when a segment file is missing.
        let _: IndexReader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(index)
    }

    fn term(&self, field: Field, text: &str) -> Term {
        Term::from_field_text(field, text)
    }

    fn lock_writer(&self) -> anyhow::Result<MutexGuard<'_, IndexWriter>> {
        self.writer
            .lock()
            .map_err(|_| anyhow::anyhow!("index writer poisoned"))
    }

    fn read_recent(&self) -> anyhow::Result<RwLockReadGuard<'_, Recent>> {
        self.recent
            .read()
            .map_err(|_| anyhow::anyhow!("recent changes poisoned"))
    }

    fn write_recent(&self) -> anyhow::Result<RwLockWriteGuard<'_, Recent>> {
        self.recent
            .write()
            .map_err(|_| anyhow::anyhow!("recent changes poisoned"))
    }

    /// Replaces (or, with no document, deletes) the document stored under `key`.
    fn write_one(
        &self,
        w: &mut IndexWriter,
        key: String,
        doc: Option<IndexedDoc>,
    ) -> anyhow::Result<()> {
        let f = &self.fields;
        w.delete_term(self.term(f.key, &key));
        if let Some(d) = doc {
            w.add_document(doc!(
                f.key => key,
                f.org => d.org_id,
                f.idx => d.index,
                f.name => d.name,
                f.content => d.content,
            ))?;
        }
        Ok(())
    }

    /// Commits what the writer holds, recording `seq` as applied.
    fn commit(&self, w: &mut IndexWriter, seq: i64) -> anyhow::Result<()> {
        let mut commit = w.prepare_commit()?;
        commit.set_payload(&seq.to_string());
        commit.commit()?;
        Ok(())
    }

    fn compile(&self, q: &Query, cancel: &Cancel) -> Result<Box<dyn TQuery>, SearchError> {
        let content = self.fields.content;
        Ok(match q {
            Query::All => Box::new(AllQuery),
            Query::Term { field, value } => {
                let token = Query::token(field, value);
                if token.has_wildcards() {
                    // Building the automaton is much of a wildcard term's cost.
                    if cancel.is_cancelled() {
                        return Err(SearchError::Stopped);
                    }
                    let re = StoppableRegexQuery::new(&wildcard_regex(&token), content, cancel)
                        .map_err(SearchError::BadQuery)?;
                    Box::new(re)
                } else {
                    Box::new(TermQuery::new(
                        self.term(content, &token.as_string()),
                        IndexRecordOption::Basic,
                    ))
                }
            }
            Query::Phrase { field, words, slop } => {
                let first = Query::token(field, &Text::literal(&words[0])).as_string();
                let mut terms = vec![self.term(content, &first)];
                terms.extend(words[1..].iter().map(|w| self.term(content, w)));
                if terms.len() == 1 {
                    Box::new(TermQuery::new(terms.remove(0), IndexRecordOption::Basic))
                } else {
                    let mut pq = PhraseQuery::new(terms);
                    pq.set_slop(*slop);
                    Box::new(pq)
                }
            }
            Query::Range {
                field,
                lower,
                upper,
                lower_inclusive,
                upper_inclusive,
            } => {
                let (lo, hi) =
                    range_bounds(field, lower, upper, *lower_inclusive, *upper_inclusive);
                let term = |b: Bound<String>| b.map(|t| self.term(content, &t));
                Box::new(InvertedIndexRangeQuery::new(term(lo), term(hi)))
            }
            Query::Fuzzy {
                field,
                value,
                distance,
            } => {
                let token = Query::token(field, &Text::literal(value)).as_string();
                Box::new(FuzzyTermQuery::new(
                    self.term(content, &token),
                    *distance,
                    true,
                ))
            }
            Query::Bool(clauses) => {
                let mut out = Vec::with_capacity(clauses.len() + 1);
                for (occur, sub) in clauses {
                    let o = match occur {
                        Occur::Should => TOccur::Should,
                        Occur::Must => TOccur::Must,
                        Occur::MustNot => TOccur::MustNot,
                    };
                    out.push((o, self.compile(sub, cancel)?));
                }
                // A purely negative query means "everything except", as Solr reads it.
                if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
                    out.push((TOccur::Must, Box::new(AllQuery) as Box<dyn TQuery>));
                }
                Box::new(BooleanQuery::new(out))
            }
            Query::Boost(inner, b) => Box::new(BoostQuery::new(self.compile(inner, cancel)?, *b)),
        })
    }
}

impl SearchIndex for TantivyIndex {
    fn applied_seq(&self) -> i64 {
        self.read_recent().map_or(0, |r| r.seq)
    }

    fn apply(&self, ops: Vec<IndexOp>, seq: i64) -> anyhow::Result<()> {
        if ops
            .iter()
            .any(|o| matches!(o, IndexOp::PurgeOrg { .. } | IndexOp::PurgeAll))
        {
            return self.apply_bulk(ops, seq);
        }
        // Tokenized before taking the lock: searches wait on it.
        let entries: Vec<(String, Option<Arc<RecentDoc>>)> = ops
            .into_iter()
            .filter_map(|op| match op {
                IndexOp::Upsert(d) => {
                    let key = IndexedDoc::key(&d.org_id, &d.index, &d.name);
                    Some((key, Some(Arc::new(RecentDoc::new(d)))))
                }
                IndexOp::Delete { key } => Some((key, None)),
                IndexOp::PurgeOrg { .. } | IndexOp::PurgeAll => None,
            })
            .collect();
        let pending = {
            let mut r = self.write_recent()?;
            for (key, doc) in entries {
                r.entries.insert(key, Entry { seq, doc });
            }
            r.seq = r.seq.max(seq);
            r.entries.len()
        };
        if pending > PENDING_MAX {
            self.flush()?;
        }
        Ok(())
    }

    fn apply_bulk(&self, ops: Vec<IndexOp>, seq: i64) -> anyhow::Result<()> {
        let mut w = self.lock_writer()?;
        // What is pending goes first: the bulk operations come after it in the log.
        let pending: Vec<(String, Entry)> = self
            .read_recent()?
            .entries
            .iter()
            .map(|(k, e)| (k.clone(), e.clone()))
            .collect();
        for (key, e) in pending {
            self.write_one(&mut w, key, e.doc.map(|d| d.doc.clone()))?;
        }
        for op in ops {
            match op {
                IndexOp::Upsert(d) => {
                    let key = IndexedDoc::key(&d.org_id, &d.index, &d.name);
                    self.write_one(&mut w, key, Some(d))?;
                }
                IndexOp::Delete { key } => self.write_one(&mut w, key, None)?,
                IndexOp::PurgeOrg { org_id } => {
                    w.delete_term(self.term(self.fields.org, &org_id));
                }
                IndexOp::PurgeAll => {
                    w.delete_all_documents()?;
                }
            }
        }
        self.commit(&mut w, seq)?;
        let mut r = self.write_recent()?;
        self.reader.reload()?;
        r.entries.clear();
        r.seq = seq;
        Ok(())
    }

    fn pending(&self) -> usize {
        self.read_recent().map_or(0, |r| r.entries.len())
    }

    fn flush(&self) -> anyhow::Result<()> {
        let mut w = self.lock_writer()?;
        let (pending, seq) = {
            let r = self.read_recent()?;
            let pending: Vec<(String, Entry)> = r
                .entries
                .iter()
                .map(|(k, e)| (k.clone(), e.clone()))
                .collect();
            (pending, r.seq)
        };
        if pending.is_empty() {
            return Ok(());
        }
        for (key, e) in pending {
            self.write_one(&mut w, key, e.doc.map(|d| d.doc.clone()))?;
        }
        self.commit(&mut w, seq)?;
        // The new reader and the pruned changes are swapped in together, so a search
        // sees each document exactly once.
        let mut r = self.write_recent()?;
        self.reader.reload()?;
        r.entries.retain(|_, e| e.seq > seq);
        Ok(())
    }

    fn search_until(
        &self,
        org_id: &str,
        index: &str,
        query: &Query,
        start: usize,
        rows: usize,
        cancel: &Cancel,
    ) -> Result<Hits, SearchError> {
        let f = &self.fields;
        let compiled = self.compile(query, cancel)?;
        let matcher = Matcher::new(query)?;
        let prefix = IndexedDoc::key(org_id, index, "");
        // Taken under the lock, matched outside it: writers wait on it.
        let (searcher, masked, pending) = {
            let r = self.read_recent().map_err(SearchError::Internal)?;
            let mut masked = Vec::new();
            let mut pending = Vec::new();
            for (key, e) in r.entries.iter().filter(|(k, _)| k.starts_with(&prefix)) {
                masked.push(self.term(f.key, key));
                pending.extend(e.doc.clone());
            }
            (self.reader.searcher(), masked, pending)
        };
        let mut recent = Vec::new();
        for d in pending {
            if cancel.is_cancelled() {
                return Err(SearchError::Stopped);
            }
            if matcher.matches(&d) {
                recent.push(d.doc.name.clone());
            }
        }
        let mut clauses: Vec<(TOccur, Box<dyn TQuery>)> = vec![
            (
                TOccur::Must,
                Box::new(TermQuery::new(
                    self.term(f.org, org_id),
                    IndexRecordOption::Basic,
                )),
            ),
            (
                TOccur::Must,
                Box::new(TermQuery::new(
                    self.term(f.idx, index),
                    IndexRecordOption::Basic,
                )),
            ),
            (TOccur::Must, compiled),
        ];
        if !masked.is_empty() {
            clauses.push((TOccur::MustNot, Box::new(TermSetQuery::new(masked))));
        }
        let scoped = Stoppable::new(Box::new(BooleanQuery::new(clauses)), cancel);
        let failed = |e: tantivy::TantivyError| {
            if cancel.is_cancelled() {
                SearchError::Stopped
            } else {
                SearchError::Internal(e.into())
            }
        };
        // The first start + rows names, and the count, in one pass (the wildcard terms
        // are expanded once).
        let wanted = start
            .saturating_add(rows)
            .min(usize::try_from(searcher.num_docs()).unwrap_or(usize::MAX));
        let (stored, mut names) = if wanted == 0 {
            (
                searcher.search(&scoped, &Count).map_err(failed)?,
                Vec::new(),
            )
        } else {
            let top = TopDocs::with_limit(wanted).order_by_string_fast_field("name", Order::Asc);
            let (count, top) = searcher.search(&scoped, &(Count, top)).map_err(failed)?;
            (
                count,
                top.into_iter().filter_map(|(name, _)| name).collect(),
            )
        };
        if cancel.is_cancelled() {
            return Err(SearchError::Stopped);
        }
        let total = stored + recent.len();
        recent.sort_unstable();
        names = merge_sorted(names, recent);
        let names = names.into_iter().skip(start).take(rows).collect();
        Ok(Hits { total, names })
    }

    fn size_on_disk(&self) -> u64 {
        fn walk(p: &Path) -> u64 {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .map(|e| match e.metadata() {
                            Ok(m) if m.is_dir() => walk(&e.path()),
                            Ok(m) => m.len(),
                            Err(_) => 0,
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        walk(&self.dir)
    }

    fn checkpoint(&self) -> anyhow::Result<()> {
        let _commits_held = self.lock_writer()?;
        self.directory.checkpoint()?;
        Ok(())
    }
}

/// Two ascending lists as one.
fn merge_sorted(a: Vec<String>, b: Vec<String>) -> Vec<String> {
    if b.is_empty() {
        return a;
    }
    let mut out = Vec::with_capacity(a.len() + b.len());
    let (mut a, mut b) = (a.into_iter().peekable(), b.into_iter().peekable());
    while let (Some(x), Some(y)) = (a.peek(), b.peek()) {
        if x <= y {
            out.extend(a.next());
        } else {
            out.extend(b.next());
        }
    }
    out.extend(a);
    out.extend(b);
    out
}

impl Drop for TantivyIndex {
    fn drop(&mut self) {
        if let Err(e) = self.flush() {
            tracing::warn!(error = %e, "committing pending search changes failed");
        }
        if let Err(e) = SearchIndex::checkpoint(self) {
            tracing::warn!(error = %e, "checkpointing the search index failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{flatten, query};
    use serde_json::json;

    fn doc(name: &str, v: serde_json::Value) -> IndexOp {
        IndexOp::Upsert(IndexedDoc {
            org_id: "o1".into(),
            index: "node".into(),
            name: name.into(),
            content: flatten::content(&v),
        })
    }

    fn find(ix: &TantivyIndex, q: &str) -> Vec<String> {
        let parsed = query::parse(q).unwrap();
        ix.search("o1", "node", &parsed, 0, 100).unwrap().names
    }

    fn first_batch(ix: &TantivyIndex) {
        assert_eq!(find(ix, "id:foo-bar"), ["foo-bar"]);
        assert_eq!(find(ix, "id:foo* AND NOT bar"), ["foo", "foo-bar"]);
        assert_eq!(find(ix, "path:foo\\/*"), ["foo"]);
        assert_eq!(find(ix, "role:web AND env:prod"), ["foo"]);
        assert_eq!(find(ix, "role:web OR role:db"), ["foo", "foo-bar"]);
        assert_eq!(find(ix, "NOT env:prod"), ["baz"]);
        assert_eq!(find(ix, "env:prod -role:db"), ["foo"]);
        assert_eq!(find(ix, "languages:ruby"), ["baz"]);
        assert_eq!(find(ix, "languages_ruby:*"), ["baz"]);
        assert_eq!(find(ix, "*_version:3"), ["baz"]);
        assert_eq!(find(ix, "d:\"Hello big World\""), ["foo-bar"]);
        assert!(find(ix, "d:\"Hello World\"").is_empty());
        assert_eq!(find(ix, "d:\"Hello World\"~1"), ["foo-bar"]);
        assert_eq!(find(ix, "big"), ["foo-bar"]);
        assert!(find(ix, "d:hello").is_empty(), "case-sensitive");
        assert_eq!(find(ix, "n:[10 TO 20]"), ["foo", "foo-bar"]);
        assert_eq!(find(ix, "n:{10 TO 30}"), ["foo-bar"]);
        assert_eq!(find(ix, "n:[25 TO *]"), ["baz"]);
        assert_eq!(find(ix, "n:[* TO *]").len(), 3);
        assert_eq!(find(ix, "*:*").len(), 3);
        assert_eq!(find(ix, "i?:ba?"), ["baz"]);
        assert_eq!(find(ix, "id:fo~1"), ["foo"]);
        assert_eq!(find(ix, "id:oof~2"), ["foo"]);
        let all = query::parse("*:*").unwrap();
        let page = ix.search("o1", "node", &all, 1, 1).unwrap();
        assert_eq!(
            page,
            Hits {
                total: 3,
                names: vec!["foo".into()]
            }
        );
        assert_eq!(ix.search("o1", "node", &all, 5, 10).unwrap().names.len(), 0);
        assert_eq!(ix.search("o1", "node", &all, 0, 0).unwrap().total, 3);
        assert_eq!(ix.search("o2", "node", &all, 0, 10).unwrap().total, 0);
        assert_eq!(ix.search("o1", "role", &all, 0, 10).unwrap().total, 0);
    }

    fn second_batch(ix: &TantivyIndex) {
        assert_eq!(find(ix, "*:*"), ["baz", "foo-bar"]);
        assert_eq!(find(ix, "id:baz2"), ["baz"]);
        assert!(
            find(ix, "id:baz").is_empty(),
            "the replaced version is gone"
        );
        assert!(
            find(ix, "id:foo").is_empty(),
            "the deleted document is gone"
        );
    }

    /// The same answers from pending changes, from tantivy, and from both mixed.
    #[test]
    fn engine_semantics() {
        let dir = tempfile::tempdir().unwrap();
        let ix = TantivyIndex::open(dir.path()).unwrap();
        assert_eq!(ix.applied_seq(), 0);
        ix.apply(
            vec![
                doc("foo", json!({"id": "foo", "path": "foo/bar", "role": ["web"], "env": "prod", "n": "10"})),
                doc("foo-bar", json!({"id": "foo-bar", "role": ["db"], "env": "prod", "d": "Hello big World", "n": "20"})),
                doc("baz", json!({"id": "baz", "languages": {"ruby": {"version": "3"}}, "n": "30"})),
            ],
            7,
        )
        .unwrap();
        assert_eq!(ix.applied_seq(), 7);
        assert_eq!(ix.pending(), 3);
        first_batch(&ix);
        ix.flush().unwrap();
        assert_eq!(ix.pending(), 0);
        first_batch(&ix);

        ix.apply(
            vec![
                IndexOp::Delete {
                    key: IndexedDoc::key("o1", "node", "foo"),
                },
                doc("baz", json!({"id": "baz2"})),
            ],
            9,
        )
        .unwrap();
        second_batch(&ix);
        drop(ix);
        let ix = TantivyIndex::open(dir.path()).unwrap();
        assert_eq!(ix.applied_seq(), 9, "resumes from the committed sequence");
        second_batch(&ix);
        ix.apply(
            vec![IndexOp::PurgeOrg {
                org_id: "o1".into(),
            }],
            10,
        )
        .unwrap();
        assert!(find(&ix, "*:*").is_empty());
        assert!(ix.size_on_disk() > 0);
    }

    #[test]
    fn pages_merge_stored_and_pending_documents() {
        let dir = tempfile::tempdir().unwrap();
        let ix = TantivyIndex::open(dir.path()).unwrap();
        let batch = |names: &[&str]| -> Vec<IndexOp> {
            names.iter().map(|n| doc(n, json!({"k": "v"}))).collect()
        };
        ix.apply(batch(&["a", "c", "e", "g"]), 1).unwrap();
        ix.flush().unwrap();
        ix.apply(batch(&["b", "d", "f"]), 2).unwrap();
        // Deleting a stored document while it is pending.
        ix.apply(
            vec![IndexOp::Delete {
                key: IndexedDoc::key("o1", "node", "c"),
            }],
            3,
        )
        .unwrap();
        let all = query::parse("k:v").unwrap();
        let page = |start, rows| ix.search("o1", "node", &all, start, rows).unwrap();
        assert_eq!(page(0, 10).names, ["a", "b", "d", "e", "f", "g"]);
        assert_eq!(page(0, 10).total, 6);
        assert_eq!(page(1, 3).names, ["b", "d", "e"]);
        assert_eq!(page(5, 3).names, ["g"]);
        assert!(page(6, 3).names.is_empty());
    }

    #[test]
    fn ranges_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let ix = TantivyIndex::open(dir.path()).unwrap();
        for (i, (n, m)) in [("a", "2048"), ("b", "4096"), ("c", "8192")]
            .iter()
            .enumerate()
        {
            ix.apply(vec![doc(n, json!({"memory": {"total": m}}))], i as i64 + 1)
                .unwrap();
            if i < 2 {
                ix.flush().unwrap();
            }
        }
        assert_eq!(find(&ix, "memory_total:[3000 TO 9000]"), ["b", "c"]);
        assert_eq!(find(&ix, "total:[* TO 5000]"), ["a", "b"]);
    }

    /// A clause bomb (leading-wildcard patterns over a large term dictionary) stops soon
    /// after its flag is set; run to the end it takes tens of seconds here.
    #[test]
    fn a_cancelled_query_stops_its_work() {
        let dir = tempfile::tempdir().unwrap();
        let ix = TantivyIndex::open(dir.path()).unwrap();
        let ops = (0..10_000)
            .map(|i| {
                let attrs: serde_json::Map<String, serde_json::Value> = (0..10)
                    .map(|k| (format!("attr{k}"), json!(format!("v{i}x{k}"))))
                    .collect();
                doc(&format!("n{i}"), serde_json::Value::Object(attrs))
            })
            .collect();
        ix.apply_bulk(ops, 1).unwrap();
        let bomb = vec![format!("*:*{}", "a*".repeat(41)); 200].join(" OR ");
        let q = query::parse(&bomb).unwrap();

        let cancel = Cancel::default();
        cancel.cancel();
        let r = ix.search_until("o1", "node", &q, 0, 10, &cancel);
        assert!(matches!(r, Err(SearchError::Stopped)), "{r:?}");

        let cancel = Cancel::default();
        let t = std::time::Instant::now();
        let r = std::thread::scope(|scope| {
            scope.spawn(|| {
                std::thread::sleep(std::time::Duration::from_millis(100));
                cancel.cancel();
            });
            ix.search_until("o1", "node", &q, 0, 10, &cancel)
        });
        assert!(matches!(r, Err(SearchError::Stopped)), "{r:?}");
        assert!(
            t.elapsed() < std::time::Duration::from_secs(3),
            "{:?}",
            t.elapsed()
        );
        // The same engine answers the next query.
        assert_eq!(find(&ix, "attr3:v42x3"), ["n42"]);
    }
}
