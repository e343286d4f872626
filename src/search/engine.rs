//! The `SearchIndex` trait and its default engine, an embedded tantivy index under
//! `<data_dir>/index`. Each document is one object: its key, org, index name, name, and
//! the flattened `content` (tokens split on whitespace, case kept, as erchef's Solr
//! schema). The last change-log sequence applied is the commit payload, so the index
//! knows where to resume after a restart.

use std::ops::Bound;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Mutex;

use anyhow::Context;
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, FuzzyTermQuery, InvertedIndexRangeQuery, Occur as TOccur,
    PhraseQuery, Query as TQuery, RegexQuery, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, FAST, STRING,
};
use tantivy::tokenizer::{TextAnalyzer, WhitespaceTokenizer};
use tantivy::{doc, Index, IndexReader, IndexWriter, Order, ReloadPolicy, Term};

use super::flatten::SEP;
use super::query::{Occur, Piece, Query, Text};

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
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A search engine fed from the change log. Calls block; callers run them off the async
/// threads.
pub trait SearchIndex: Send + Sync + 'static {
    /// The last change-log sequence whose effects are searchable.
    fn applied_seq(&self) -> i64;
    /// Applies `ops` and makes them searchable in one commit that records `seq`.
    fn apply(&self, ops: Vec<IndexOp>, seq: i64) -> anyhow::Result<()>;
    /// Objects of one org and index matching `query`; `rows` names from `start`.
    fn search(
        &self,
        org_id: &str,
        index: &str,
        query: &Query,
        start: usize,
        rows: usize,
    ) -> Result<Hits, SearchError>;
    /// Bytes the index takes on disk (0 when unknown).
    fn size_on_disk(&self) -> u64;
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

pub struct TantivyIndex {
    dir: std::path::PathBuf,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
    applied: AtomicI64,
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
        std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
        let (schema, fields) = schema();
        let index = match Self::open_dir(dir, &schema) {
            Ok(i) => i,
            Err(e) => {
                tracing::warn!(error = %e, dir = %dir.display(), "search index unreadable; recreating it");
                std::fs::remove_dir_all(dir).ok();
                std::fs::create_dir_all(dir)?;
                Self::open_dir(dir, &schema)?
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
        let writer = index
            .writer_with_num_threads(1, WRITER_HEAP)
            .context("locking the search index (is another server using this data directory?)")?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(TantivyIndex {
            dir: dir.to_path_buf(),
            reader,
            writer: Mutex::new(writer),
            fields,
            applied: AtomicI64::new(applied),
        })
    }

    fn open_dir(dir: &Path, schema: &Schema) -> anyhow::Result<Index> {
        let mmap = MmapDirectory::open(dir)?;
        let index = Index::open_or_create(mmap, schema.clone())?;
        if index.schema() != *schema {
            anyhow::bail!("schema changed");
        }
        Ok(index)
    }

    fn term(&self, field: Field, text: &str) -> Term {
        Term::from_field_text(field, text)
    }

    fn compile(&self, q: &Query) -> Result<Box<dyn TQuery>, SearchError> {
        let content = self.fields.content;
        Ok(match q {
            Query::All => Box::new(AllQuery),
            Query::Term { field, value } => {
                let token = Query::token(field, value);
                if token.has_wildcards() {
                    let re = RegexQuery::from_pattern(&wildcard_regex(&token), content)
                        .map_err(|e| SearchError::BadQuery(e.to_string()))?;
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
                let prefix = format!("{field}{SEP}");
                let lower = match lower {
                    None => Bound::Included(self.term(content, &prefix)),
                    Some(a) => {
                        let t = self.term(content, &format!("{prefix}{a}"));
                        if *lower_inclusive {
                            Bound::Included(t)
                        } else {
                            Bound::Excluded(t)
                        }
                    }
                };
                let upper = match upper {
                    // Past every token of the field: `__=_` followed by the byte after `_`.
                    None => Bound::Excluded(self.term(content, &format!("{field}__=_`"))),
                    Some(b) => {
                        let t = self.term(content, &format!("{prefix}{b}"));
                        if *upper_inclusive {
                            Bound::Included(t)
                        } else {
                            Bound::Excluded(t)
                        }
                    }
                };
                Box::new(InvertedIndexRangeQuery::new(lower, upper))
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
                    out.push((o, self.compile(sub)?));
                }
                // A purely negative query means "everything except", as Solr reads it.
                if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
                    out.push((TOccur::Must, Box::new(AllQuery) as Box<dyn TQuery>));
                }
                Box::new(BooleanQuery::new(out))
            }
            Query::Boost(inner, b) => Box::new(BoostQuery::new(self.compile(inner)?, *b)),
        })
    }
}

/// A token pattern with `*` / `?` as a regular expression over whole tokens.
fn wildcard_regex(t: &Text) -> String {
    let mut re = String::from("(?s)");
    let mut buf = [0u8; 4];
    for p in &t.0 {
        match p {
            Piece::Star => re.push_str(".*"),
            Piece::Question => re.push('.'),
            Piece::Lit(c) => re.push_str(&regex::escape(c.encode_utf8(&mut buf))),
        }
    }
    re
}

impl SearchIndex for TantivyIndex {
    fn applied_seq(&self) -> i64 {
        self.applied.load(Ordering::Acquire)
    }

    fn apply(&self, ops: Vec<IndexOp>, seq: i64) -> anyhow::Result<()> {
        let f = &self.fields;
        let mut w = self
            .writer
            .lock()
            .map_err(|_| anyhow::anyhow!("index writer poisoned"))?;
        for op in ops {
            match op {
                IndexOp::Upsert(d) => {
                    let key = IndexedDoc::key(&d.org_id, &d.index, &d.name);
                    w.delete_term(self.term(f.key, &key));
                    w.add_document(doc!(
                        f.key => key,
                        f.org => d.org_id,
                        f.idx => d.index,
                        f.name => d.name,
                        f.content => d.content,
                    ))?;
                }
                IndexOp::Delete { key } => {
                    w.delete_term(self.term(f.key, &key));
                }
                IndexOp::PurgeOrg { org_id } => {
                    w.delete_term(self.term(f.org, &org_id));
                }
                IndexOp::PurgeAll => {
                    w.delete_all_documents()?;
                }
            }
        }
        let mut commit = w.prepare_commit()?;
        commit.set_payload(&seq.to_string());
        commit.commit()?;
        drop(w);
        self.reader.reload()?;
        self.applied.store(seq, Ordering::Release);
        Ok(())
    }

    fn search(
        &self,
        org_id: &str,
        index: &str,
        query: &Query,
        start: usize,
        rows: usize,
    ) -> Result<Hits, SearchError> {
        let f = &self.fields;
        let scoped = BooleanQuery::new(vec![
            (
                TOccur::Must,
                Box::new(TermQuery::new(
                    self.term(f.org, org_id),
                    IndexRecordOption::Basic,
                )) as Box<dyn TQuery>,
            ),
            (
                TOccur::Must,
                Box::new(TermQuery::new(
                    self.term(f.idx, index),
                    IndexRecordOption::Basic,
                )),
            ),
            (TOccur::Must, self.compile(query)?),
        ]);
        let searcher = self.reader.searcher();
        let total = searcher
            .search(&scoped, &Count)
            .map_err(|e| SearchError::Internal(e.into()))?;
        let wanted = rows.min(total.saturating_sub(start));
        if wanted == 0 {
            return Ok(Hits {
                total,
                names: Vec::new(),
            });
        }
        let top = TopDocs::with_limit(wanted)
            .and_offset(start)
            .order_by_string_fast_field("name", Order::Asc);
        let found = searcher
            .search(&scoped, &top)
            .map_err(|e| SearchError::Internal(e.into()))?;
        Ok(Hits {
            total,
            names: found.into_iter().filter_map(|(name, _)| name).collect(),
        })
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
        assert_eq!(find(&ix, "id:foo-bar"), ["foo-bar"]);
        assert_eq!(find(&ix, "id:foo* AND NOT bar"), ["foo", "foo-bar"]);
        assert_eq!(find(&ix, "path:foo\\/*"), ["foo"]);
        assert_eq!(find(&ix, "role:web AND env:prod"), ["foo"]);
        assert_eq!(find(&ix, "role:web OR role:db"), ["foo", "foo-bar"]);
        assert_eq!(find(&ix, "NOT env:prod"), ["baz"]);
        assert_eq!(find(&ix, "languages:ruby"), ["baz"]);
        assert_eq!(find(&ix, "languages_ruby:*"), ["baz"]);
        assert_eq!(find(&ix, "d:\"Hello big World\""), ["foo-bar"]);
        assert!(find(&ix, "d:\"Hello World\"").is_empty());
        assert!(find(&ix, "d:hello").is_empty(), "case-sensitive");
        assert_eq!(find(&ix, "n:[10 TO 20]"), ["foo", "foo-bar"]);
        assert_eq!(find(&ix, "n:{10 TO 30}"), ["foo-bar"]);
        assert_eq!(find(&ix, "n:[25 TO *]"), ["baz"]);
        assert_eq!(find(&ix, "n:[* TO *]").len(), 3);
        assert_eq!(find(&ix, "*:*").len(), 3);
        assert_eq!(find(&ix, "i?:ba?"), ["baz"]);
        assert_eq!(find(&ix, "id:fo~1"), ["foo"]);
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
        assert_eq!(find(&ix, "*:*"), ["baz", "foo-bar"]);
        assert_eq!(find(&ix, "id:baz2"), ["baz"]);
        drop(ix);
        let ix = TantivyIndex::open(dir.path()).unwrap();
        assert_eq!(ix.applied_seq(), 9, "resumes from the committed sequence");
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
    fn ranges_across_segments() {
        let dir = tempfile::tempdir().unwrap();
        let ix = TantivyIndex::open(dir.path()).unwrap();
        for (i, (n, m)) in [("a", "2048"), ("b", "4096"), ("c", "8192")]
            .iter()
            .enumerate()
        {
            ix.apply(vec![doc(n, json!({"memory": {"total": m}}))], i as i64 + 1)
                .unwrap();
        }
        assert_eq!(find(&ix, "memory_total:[3000 TO 9000]"), ["b", "c"]);
        assert_eq!(find(&ix, "total:[* TO 5000]"), ["a", "b"]);
    }
}
