//! Changes applied but not yet committed to tantivy, and queries evaluated over them.
//!
//! A tantivy commit costs milliseconds of fixed work (a new segment, merges, reopening
//! readers) whatever its size, too much to pay on every write when a write answers only
//! once searchable. So the engine applies each change here first, where it is searchable
//! at once, and commits what accumulated to tantivy in the background every fraction of a
//! second. A search runs the query on tantivy with the documents present here masked out,
//! runs it here too, and merges the two sorted lists. The matching here follows what the
//! tantivy query compiled from the same AST matches (terms are the whitespace-separated
//! tokens of the flattened content, compared byte-wise).

use std::collections::HashMap;
use std::ops::Bound;
use std::sync::Arc;

use super::engine::{IndexedDoc, SearchError};
use super::flatten::SEP;
use super::query::{Occur, Piece, Query, Text};

/// tantivy drops longer tokens when indexing (`tantivy::tokenizer::MAX_TOKEN_LEN`).
const MAX_TOKEN_LEN: usize = u16::MAX as usize - 5;

/// A document as applied, with its distinct tokens for lookups.
#[derive(Debug)]
pub struct RecentDoc {
    pub doc: IndexedDoc,
    /// Byte spans of the distinct tokens in `doc.content`, sorted by token text.
    terms: Vec<(u32, u32)>,
}

fn tokens(content: &str) -> impl Iterator<Item = (usize, &str)> {
    content
        .split(|c: char| c.is_ascii_whitespace())
        .filter(|t| !t.is_empty())
        .enumerate()
}

impl RecentDoc {
    pub fn new(doc: IndexedDoc) -> RecentDoc {
        let base = doc.content.as_ptr() as usize;
        let mut terms: Vec<(u32, u32)> = tokens(&doc.content)
            .filter(|(_, t)| t.len() <= MAX_TOKEN_LEN)
            .map(|(_, t)| {
                let start = t.as_ptr() as usize - base;
                (start as u32, (start + t.len()) as u32)
            })
            .collect();
        let text = |s: &(u32, u32)| &doc.content[s.0 as usize..s.1 as usize];
        terms.sort_unstable_by(|a, b| text(a).cmp(text(b)));
        terms.dedup_by(|a, b| text(a) == text(b));
        RecentDoc { doc, terms }
    }

    fn term(&self, i: usize) -> &str {
        let (a, b) = self.terms[i];
        &self.doc.content[a as usize..b as usize]
    }

    /// Index of the first term not below `bound`.
    fn lower(&self, bound: &str) -> usize {
        self.terms.partition_point(|s| {
            let t = &self.doc.content[s.0 as usize..s.1 as usize];
            t < bound
        })
    }

    fn has(&self, t: &str) -> bool {
        let i = self.lower(t);
        i < self.terms.len() && self.term(i) == t
    }

    /// The terms starting with `prefix`.
    fn with_prefix<'a>(&'a self, prefix: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        (self.lower(prefix)..self.terms.len())
            .map(|i| self.term(i))
            .take_while(move |t| t.starts_with(prefix))
    }

    fn any_in_range(&self, lower: &Bound<String>, upper: &Bound<String>) -> bool {
        let start = match lower {
            Bound::Included(l) => self.lower(l),
            Bound::Excluded(l) => {
                let i = self.lower(l);
                if i < self.terms.len() && self.term(i) == l {
                    i + 1
                } else {
                    i
                }
            }
            Bound::Unbounded => 0,
        };
        start < self.terms.len()
            && match upper {
                Bound::Included(u) => self.term(start) <= u.as_str(),
                Bound::Excluded(u) => self.term(start) < u.as_str(),
                Bound::Unbounded => true,
            }
    }

    /// Positions of `term` in the token stream, as the tokenizer numbers them.
    fn positions(&self, term: &str) -> Vec<u32> {
        tokens(&self.doc.content)
            .filter(|(_, t)| *t == term)
            .map(|(i, _)| i as u32)
            .collect()
    }
}

/// One key's latest change: the document, or `None` once deleted.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The change-log sequence of the batch that applied it.
    pub seq: i64,
    pub doc: Option<Arc<RecentDoc>>,
}

/// The changes not yet in tantivy, by document key.
#[derive(Debug, Default)]
pub struct Recent {
    pub entries: HashMap<String, Entry>,
    /// Every change up to this sequence is applied (here or in tantivy).
    pub seq: i64,
}

/// Range bounds over the terms of `field`, as both engines compare them. An open lower
/// end starts at the field's first possible token; an open upper end stops past its last
/// (`__=_` followed by the byte after `_`).
pub fn range_bounds(
    field: &str,
    lower: &Option<String>,
    upper: &Option<String>,
    lower_inclusive: bool,
    upper_inclusive: bool,
) -> (Bound<String>, Bound<String>) {
    let prefix = format!("{field}{SEP}");
    let lo = match lower {
        None => Bound::Included(prefix.clone()),
        Some(a) if lower_inclusive => Bound::Included(format!("{prefix}{a}")),
        Some(a) => Bound::Excluded(format!("{prefix}{a}")),
    };
    let hi = match upper {
        None => Bound::Excluded(format!("{field}__=_`")),
        Some(b) if upper_inclusive => Bound::Included(format!("{prefix}{b}")),
        Some(b) => Bound::Excluded(format!("{prefix}{b}")),
    };
    (lo, hi)
}

/// A token pattern with `*` / `?` as a regular expression over whole tokens.
pub fn wildcard_regex(t: &Text) -> String {
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

/// A query prepared for evaluation over recent documents.
#[derive(Debug)]
pub enum Matcher {
    All,
    Term(String),
    Pattern {
        prefix: String,
        re: regex::Regex,
    },
    Phrase {
        terms: Vec<String>,
        slop: u32,
    },
    Range {
        lower: Bound<String>,
        upper: Bound<String>,
    },
    Fuzzy {
        term: String,
        distance: u8,
    },
    Bool(Vec<(Occur, Matcher)>),
}

impl Matcher {
    pub fn new(q: &Query) -> Result<Matcher, SearchError> {
        Ok(match q {
            Query::All => Matcher::All,
            Query::Term { field, value } => {
                let token = Query::token(field, value);
                if token.has_wildcards() {
                    let prefix: String = token
                        .0
                        .iter()
                        .map_while(|p| match p {
                            Piece::Lit(c) => Some(*c),
                            _ => None,
                        })
                        .collect();
                    let re = regex::Regex::new(&format!("^(?:{})$", wildcard_regex(&token)))
                        .map_err(|e| SearchError::BadQuery(e.to_string()))?;
                    Matcher::Pattern { prefix, re }
                } else {
                    Matcher::Term(token.as_string())
                }
            }
            Query::Phrase { field, words, slop } => {
                let mut terms = vec![Query::token(field, &Text::literal(&words[0])).as_string()];
                terms.extend(words[1..].iter().cloned());
                if terms.len() == 1 {
                    Matcher::Term(terms.remove(0))
                } else {
                    Matcher::Phrase { terms, slop: *slop }
                }
            }
            Query::Range {
                field,
                lower,
                upper,
                lower_inclusive,
                upper_inclusive,
            } => {
                let (lower, upper) =
                    range_bounds(field, lower, upper, *lower_inclusive, *upper_inclusive);
                Matcher::Range { lower, upper }
            }
            Query::Fuzzy {
                field,
                value,
                distance,
            } => Matcher::Fuzzy {
                term: Query::token(field, &Text::literal(value)).as_string(),
                distance: *distance,
            },
            Query::Bool(clauses) => {
                let mut out = Vec::with_capacity(clauses.len() + 1);
                for (occur, sub) in clauses {
                    out.push((*occur, Matcher::new(sub)?));
                }
                if clauses.iter().all(|(o, _)| *o == Occur::MustNot) {
                    out.push((Occur::Must, Matcher::All));
                }
                Matcher::Bool(out)
            }
            Query::Boost(inner, _) => Matcher::new(inner)?,
        })
    }

    pub fn matches(&self, d: &RecentDoc) -> bool {
        match self {
            Matcher::All => true,
            Matcher::Term(t) => d.has(t),
            Matcher::Pattern { prefix, re } => d.with_prefix(prefix).any(|t| re.is_match(t)),
            Matcher::Phrase { terms, slop } => phrase(d, terms, *slop),
            Matcher::Range { lower, upper } => d.any_in_range(lower, upper),
            Matcher::Fuzzy { term, distance } => {
                let want: Vec<char> = term.chars().collect();
                (0..d.terms.len()).any(|i| within(&want, d.term(i), *distance as usize))
            }
            Matcher::Bool(clauses) => {
                let of = |o: Occur| clauses.iter().filter(move |(c, _)| *c == o);
                if of(Occur::MustNot).any(|(_, m)| m.matches(d)) {
                    return false;
                }
                if of(Occur::Must).next().is_some() {
                    of(Occur::Must).all(|(_, m)| m.matches(d))
                } else {
                    of(Occur::Should).any(|(_, m)| m.matches(d))
                }
            }
        }
    }
}

/// The terms in order, each term's position less its place in the phrase within `slop`
/// of the previous one's in total (tantivy's phrase matching).
fn phrase(d: &RecentDoc, terms: &[String], slop: u32) -> bool {
    let mut reached: Vec<(i64, u32)> = d
        .positions(&terms[0])
        .into_iter()
        .map(|p| (p as i64, 0))
        .collect();
    for (i, t) in terms.iter().enumerate().skip(1) {
        let next: Vec<(i64, u32)> = d
            .positions(t)
            .into_iter()
            .filter_map(|p| {
                let p = p as i64 - i as i64;
                reached
                    .iter()
                    .map(|(q, spent)| spent + q.abs_diff(p) as u32)
                    .min()
                    .filter(|cost| *cost <= slop)
                    .map(|cost| (p, cost))
            })
            .collect();
        if next.is_empty() {
            return false;
        }
        reached = next;
    }
    !reached.is_empty()
}

/// Whether `t` is within `max` edits of `want` (insertions, deletions, substitutions and
/// transpositions of neighbours, by character).
fn within(want: &[char], t: &str, max: usize) -> bool {
    let t: Vec<char> = t.chars().collect();
    if t.len().abs_diff(want.len()) > max {
        return false;
    }
    let (n, m) = (want.len(), t.len());
    let mut d = vec![vec![0usize; m + 1]; n + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=n {
        for j in 1..=m {
            let cost = usize::from(want[i - 1] != t[j - 1]);
            let mut v = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && want[i - 1] == t[j - 2] && want[i - 2] == t[j - 1] {
                v = v.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = v;
        }
    }
    d[n][m] <= max
}
