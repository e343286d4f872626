//! The Chef search query language (the Solr/Lucene subset erchef accepts, facts §A.8.2)
//! parsed into an AST. The engine compiles the AST; nothing here knows about tantivy.
//!
//! The grammar is a little more permissive than erchef's PEG (any non-special character
//! may appear in a term, `+field:value` is accepted), because a stricter parser breaks
//! cookbooks; boolean operators combine as Lucene's classic parser does (default `OR`,
//! `AND` makes both neighbours required, `NOT`/`-` prohibit, `+` requires).

use std::fmt;

/// How a clause takes part in a boolean query.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occur {
    Should,
    Must,
    MustNot,
}

/// One character of a term: a literal, or the `*` / `?` wildcards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Piece {
    Lit(char),
    Star,
    Question,
}

/// A term's text after unescaping, with its unescaped wildcards kept apart.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Text(pub Vec<Piece>);

impl Text {
    pub fn literal(s: &str) -> Text {
        Text(s.chars().map(Piece::Lit).collect())
    }

    pub fn has_wildcards(&self) -> bool {
        self.0.iter().any(|p| !matches!(p, Piece::Lit(_)))
    }

    /// The text with wildcards shown as `*` and `?` (exact for literal text).
    pub fn as_string(&self) -> String {
        self.0
            .iter()
            .map(|p| match p {
                Piece::Lit(c) => *c,
                Piece::Star => '*',
                Piece::Question => '?',
            })
            .collect()
    }

    fn push_str(&mut self, s: &str) {
        self.0.extend(s.chars().map(Piece::Lit));
    }

    fn extend(&mut self, other: &Text) {
        self.0.extend_from_slice(&other.0);
    }
}

/// A range bound: `None` is the open bound `*`.
pub type Bound = Option<String>;

#[derive(Debug, Clone, PartialEq)]
pub enum Query {
    /// `*:*`
    All,
    /// `field:value`, or a bare `value` (no field): matches the indexed token
    /// `field__=__value` (wildcards allowed in both parts).
    Term {
        field: Option<Text>,
        value: Text,
    },
    /// `field:"some words"`: the words in order.
    Phrase {
        field: Option<Text>,
        words: Vec<String>,
        slop: u32,
    },
    /// `field:[a TO b]` / `field:{a TO b}` (each end inclusive or not).
    Range {
        field: String,
        lower: Bound,
        upper: Bound,
        lower_inclusive: bool,
        upper_inclusive: bool,
    },
    /// `field:value~N`
    Fuzzy {
        field: Option<Text>,
        value: String,
        distance: u8,
    },
    Bool(Vec<(Occur, Query)>),
    Boost(Box<Query>, f32),
}

impl Query {
    /// The token text `field__=__value` a term query stands for.
    pub fn token(field: &Option<Text>, value: &Text) -> Text {
        match field {
            Some(f) => {
                let mut t = f.clone();
                t.push_str("__=__");
                t.extend(value);
                t
            }
            None => value.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    pub at: usize,
    pub reason: &'static str,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} at character {}", self.reason, self.at)
    }
}

impl std::error::Error for ParseError {}

/// erchef decodes `q` once more after the framework did (`%41` arrives as `A`);
/// sequences that are not `%` + two hex digits stay as they are.
pub fn decode_again(q: &str) -> String {
    let b = q.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hex = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Parses a query string.
pub fn parse(input: &str) -> Result<Query, ParseError> {
    let mut p = Parser {
        s: input.chars().collect(),
        i: 0,
        depth: 0,
    };
    let q = p.clauses(None)?;
    p.skip_ws();
    if p.i < p.s.len() {
        return Err(p.err("unexpected character"));
    }
    Ok(q)
}

/// Deepest nesting of parentheses accepted (bounds the recursion).
const MAX_DEPTH: usize = 64;

/// Characters that end a term unless escaped.
fn is_special(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '(' | ')' | '[' | ']' | '{' | '}' | '"' | '^' | '~' | ':' | '\\'
        )
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Conj {
    None,
    And,
    Or,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Modifier {
    None,
    Required,
    Prohibited,
}

struct Parser {
    s: Vec<char>,
    i: usize,
    depth: usize,
}

impl Parser {
    fn err(&self, reason: &'static str) -> ParseError {
        ParseError { at: self.i, reason }
    }

    fn peek(&self) -> Option<char> {
        self.s.get(self.i).copied()
    }

    fn peek_at(&self, n: usize) -> Option<char> {
        self.s.get(self.i + n).copied()
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.i += 1;
        }
    }

    fn starts_with(&self, word: &str) -> bool {
        word.chars()
            .enumerate()
            .all(|(k, c)| self.peek_at(k) == Some(c))
    }

    /// A keyword (`AND`, `OR`, `NOT`) stands alone: what follows cannot continue a term.
    fn keyword(&self, word: &str) -> bool {
        self.starts_with(word)
            && self
                .peek_at(word.len())
                .is_none_or(|c| c.is_whitespace() || c == '(' || c == '"')
    }

    /// A sequence of clauses up to `)` or the end, combined as Lucene's classic parser does.
    fn clauses(&mut self, field: Option<&Text>) -> Result<Query, ParseError> {
        let mut clauses: Vec<(Occur, Query)> = Vec::new();
        loop {
            self.skip_ws();
            match self.peek() {
                None | Some(')') => break,
                _ => {}
            }
            let conj = self.conjunction();
            if conj != Conj::None {
                if clauses.is_empty() {
                    return Err(self.err("operator without a left-hand side"));
                }
                self.skip_ws();
            }
            let modifier = self.modifier();
            self.skip_ws();
            if matches!(self.peek(), None | Some(')')) {
                return Err(self.err("operator without a right-hand side"));
            }
            let q = self.clause(field)?;
            if conj == Conj::And {
                if let Some(last) = clauses.last_mut() {
                    if last.0 != Occur::MustNot {
                        last.0 = Occur::Must;
                    }
                }
            }
            let occur = match modifier {
                Modifier::Prohibited => Occur::MustNot,
                Modifier::Required => Occur::Must,
                Modifier::None if conj == Conj::And => Occur::Must,
                Modifier::None => Occur::Should,
            };
            clauses.push((occur, q));
        }
        match clauses.len() {
            0 => Err(self.err("empty query")),
            1 if clauses[0].0 != Occur::MustNot => {
                Ok(clauses.pop().map(|c| c.1).unwrap_or(Query::All))
            }
            _ => Ok(Query::Bool(clauses)),
        }
    }

    fn conjunction(&mut self) -> Conj {
        if self.keyword("AND") {
            self.i += 3;
            Conj::And
        } else if self.keyword("OR") {
            self.i += 2;
            Conj::Or
        } else if self.starts_with("&&") {
            self.i += 2;
            Conj::And
        } else if self.starts_with("||") {
            self.i += 2;
            Conj::Or
        } else {
            Conj::None
        }
    }

    fn modifier(&mut self) -> Modifier {
        if self.keyword("NOT") {
            self.i += 3;
            Modifier::Prohibited
        } else {
            match self.peek() {
                Some('!') => {
                    self.i += 1;
                    Modifier::Prohibited
                }
                Some('-') => {
                    self.i += 1;
                    Modifier::Prohibited
                }
                Some('+') => {
                    self.i += 1;
                    Modifier::Required
                }
                _ => Modifier::None,
            }
        }
    }

    /// One clause: a group, `*:*`, `field:value` or a bare value, with an optional boost.
    fn clause(&mut self, field: Option<&Text>) -> Result<Query, ParseError> {
        let q = if self.peek() == Some('(') {
            self.group(field)?
        } else if field.is_none() && self.starts_with("*:*") && self.ends_term(3) {
            self.i += 3;
            Query::All
        } else if self.peek() == Some('"') {
            self.phrase(field.cloned())?
        } else {
            if self.keyword("AND") || self.keyword("OR") || self.keyword("NOT") {
                return Err(self.err("keyword where a term was expected"));
            }
            let start = self.i;
            let text = self.term()?;
            if self.peek() == Some(':') && field.is_none() {
                if text.0.is_empty() {
                    return Err(self.err("field name expected before ':'"));
                }
                self.i += 1;
                self.field_value(text)?
            } else if self.peek() == Some(':') {
                return Err(self.err("field inside a field group"));
            } else {
                if text.0.is_empty() {
                    self.i = start;
                    return Err(self.err("term expected"));
                }
                self.maybe_fuzzy(field.cloned(), text)?
            }
        };
        self.maybe_boost(q)
    }

    fn ends_term(&self, n: usize) -> bool {
        self.peek_at(n)
            .is_none_or(|c| c.is_whitespace() || c == ')')
    }

    fn group(&mut self, field: Option<&Text>) -> Result<Query, ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.err("too deeply nested"));
        }
        self.i += 1;
        let q = self.clauses(field)?;
        self.skip_ws();
        if self.peek() != Some(')') {
            return Err(self.err("missing ')'"));
        }
        self.i += 1;
        self.depth -= 1;
        Ok(q)
    }

    /// What follows `field:`.
    fn field_value(&mut self, field: Text) -> Result<Query, ParseError> {
        match self.peek() {
            Some('(') => self.group(Some(&field)),
            Some('"') => self.phrase(Some(field)),
            Some('[') | Some('{') => self.range(field),
            _ => {
                let value = self.term()?;
                if value.0.is_empty() {
                    return Err(self.err("value expected after ':'"));
                }
                self.maybe_fuzzy(Some(field), value)
            }
        }
    }

    /// Term characters, unescaping `\x`; stops at whitespace and specials.
    fn term(&mut self) -> Result<Text, ParseError> {
        let mut t = Text::default();
        while let Some(c) = self.peek() {
            if c == '\\' {
                let Some(escaped) = self.peek_at(1) else {
                    return Err(self.err("dangling backslash"));
                };
                t.0.push(Piece::Lit(escaped));
                self.i += 2;
                continue;
            }
            if is_special(c) {
                break;
            }
            // `&&` / `||` end a term as they would start an operator.
            if (c == '&' || c == '|') && self.peek_at(1) == Some(c) {
                break;
            }
            t.0.push(match c {
                '*' => Piece::Star,
                '?' => Piece::Question,
                c => Piece::Lit(c),
            });
            self.i += 1;
        }
        Ok(t)
    }

    fn quoted(&mut self) -> Result<String, ParseError> {
        self.i += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err(self.err("unterminated phrase")),
                Some('"') => {
                    self.i += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    let Some(c) = self.peek_at(1) else {
                        return Err(self.err("dangling backslash"));
                    };
                    out.push(c);
                    self.i += 2;
                }
                Some(c) => {
                    out.push(c);
                    self.i += 1;
                }
            }
        }
    }

    fn phrase(&mut self, field: Option<Text>) -> Result<Query, ParseError> {
        let text = self.quoted()?;
        let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
        if words.is_empty() {
            return Err(self.err("empty phrase"));
        }
        let mut slop = 0;
        if self.peek() == Some('~') {
            self.i += 1;
            slop = self.number().map(|n| n as u32).unwrap_or(0);
        }
        Ok(Query::Phrase { field, words, slop })
    }

    fn range(&mut self, field: Text) -> Result<Query, ParseError> {
        let lower_inclusive = self.peek() == Some('[');
        self.i += 1;
        self.skip_ws();
        let lower = self.range_entry()?;
        self.skip_ws();
        if !(self.starts_with("TO") && self.peek_at(2).is_some_and(char::is_whitespace)) {
            return Err(self.err("'TO' expected in range"));
        }
        self.i += 2;
        self.skip_ws();
        let upper = self.range_entry()?;
        self.skip_ws();
        let upper_inclusive = match self.peek() {
            Some(']') => true,
            Some('}') => false,
            _ => return Err(self.err("range not closed")),
        };
        self.i += 1;
        Ok(Query::Range {
            field: field.as_string(),
            lower,
            upper,
            lower_inclusive,
            upper_inclusive,
        })
    }

    fn range_entry(&mut self) -> Result<Bound, ParseError> {
        if self.peek() == Some('"') {
            return self.quoted().map(Some);
        }
        let t = self.term()?;
        if t.0.is_empty() {
            return Err(self.err("range bound expected"));
        }
        if t.0 == [Piece::Star] {
            return Ok(None);
        }
        Ok(Some(t.as_string()))
    }

    fn number(&mut self) -> Option<f32> {
        let start = self.i;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || c == '.') {
            self.i += 1;
        }
        let s: String = self.s[start..self.i].iter().collect();
        s.parse().ok()
    }

    fn maybe_fuzzy(&mut self, field: Option<Text>, value: Text) -> Result<Query, ParseError> {
        if self.peek() != Some('~') {
            return Ok(Query::Term { field, value });
        }
        self.i += 1;
        // Lucene: `~` alone is 2 edits; a fraction is the old similarity (≥ 0.5 ⇒ 1 edit).
        let distance = match self.number() {
            None => 2,
            Some(n) if n >= 1.0 => n.min(2.0) as u8,
            Some(n) if n >= 0.5 => 1,
            Some(_) => 2,
        };
        Ok(Query::Fuzzy {
            field,
            value: value.as_string(),
            distance,
        })
    }

    fn maybe_boost(&mut self, q: Query) -> Result<Query, ParseError> {
        if self.peek() != Some('^') {
            return Ok(q);
        }
        self.i += 1;
        match self.number() {
            Some(b) => Ok(Query::Boost(Box::new(q), b)),
            None => Err(self.err("boost value expected after '^'")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(field: &str, value: &str) -> Query {
        Query::Term {
            field: Some(Text::literal(field)),
            value: Text::literal(value),
        }
    }

    fn ok(q: &str) -> Query {
        parse(q).unwrap_or_else(|e| panic!("{q}: {e}"))
    }

    fn bad(q: &str) {
        assert!(parse(q).is_err(), "{q} should not parse: {:?}", parse(q));
    }

    #[test]
    fn star_star_and_plain_fields() {
        assert_eq!(ok("*:*"), Query::All);
        assert_eq!(ok("  *:*  "), Query::All);
        assert_eq!(ok("name:web1"), term("name", "web1"));
        assert_eq!(ok("a.b_c:x-y"), term("a.b_c", "x-y"));
        assert_eq!(ok("ipaddress:10.0.0.1"), term("ipaddress", "10.0.0.1"));
        assert_eq!(ok("email:me@example.com"), term("email", "me@example.com"));
        assert_eq!(
            ok("recipe:apache2\\:\\:mod_ssl\\@1.0.0"),
            term("recipe", "apache2::mod_ssl@1.0.0")
        );
        assert_eq!(
            ok("run_list:recipe\\[foo\\]"),
            term("run_list", "recipe[foo]")
        );
    }

    #[test]
    fn bare_terms_have_no_field() {
        assert_eq!(
            ok("foo"),
            Query::Term {
                field: None,
                value: Text::literal("foo")
            }
        );
        // Words that merely start with a keyword are terms.
        assert_eq!(
            ok("ANDroid"),
            Query::Term {
                field: None,
                value: Text::literal("ANDroid")
            }
        );
        assert_eq!(ok("ORG:x"), term("ORG", "x"));
    }

    #[test]
    fn wildcards_and_escaped_wildcards() {
        let Query::Term { value, .. } = ok("platform:ubuntu*") else {
            panic!()
        };
        assert_eq!(value.0.last(), Some(&Piece::Star));
        assert!(value.has_wildcards());
        let Query::Term { value, .. } = ok("name:a?c") else {
            panic!()
        };
        assert_eq!(value.0[1], Piece::Question);
        let Query::Term { value, .. } = ok("name:a\\*") else {
            panic!()
        };
        assert!(!value.has_wildcards());
        assert_eq!(value.as_string(), "a*");
        let Query::Term { field, value } = ok("*_ipaddress:10.*") else {
            panic!()
        };
        assert!(field.unwrap().has_wildcards() && value.has_wildcards());
        assert_eq!(ok("path:foo\\/*"), {
            let mut v = Text::literal("foo/");
            v.0.push(Piece::Star);
            Query::Term {
                field: Some(Text::literal("path")),
                value: v,
            }
        });
    }

    #[test]
    fn phrases() {
        assert_eq!(
            ok("description:\"a b  c\""),
            Query::Phrase {
                field: Some(Text::literal("description")),
                words: vec!["a".into(), "b".into(), "c".into()],
                slop: 0
            }
        );
        assert_eq!(
            ok("\"x \\\" y\"~2"),
            Query::Phrase {
                field: None,
                words: vec!["x".into(), "\"".into(), "y".into()],
                slop: 2
            }
        );
        bad("name:\"unterminated");
        bad("name:\"  \"");
    }

    #[test]
    fn ranges() {
        assert_eq!(
            ok("memory_total:[1000 TO 2000]"),
            Query::Range {
                field: "memory_total".into(),
                lower: Some("1000".into()),
                upper: Some("2000".into()),
                lower_inclusive: true,
                upper_inclusive: true
            }
        );
        assert_eq!(
            ok("name:{a TO *}"),
            Query::Range {
                field: "name".into(),
                lower: Some("a".into()),
                upper: None,
                lower_inclusive: false,
                upper_inclusive: false
            }
        );
        assert!(matches!(
            ok("name:[* TO *]"),
            Query::Range {
                lower: None,
                upper: None,
                ..
            }
        ));
        bad("name:[a TO b");
        bad("name:[a b]");
        bad("name:[a TO ]");
    }

    #[test]
    fn boolean_operators_follow_lucene() {
        let a = || term("a", "1");
        let b = || term("b", "2");
        let c = || term("c", "3");
        assert_eq!(
            ok("a:1 AND b:2"),
            Query::Bool(vec![(Occur::Must, a()), (Occur::Must, b())])
        );
        assert_eq!(ok("a:1 && b:2"), ok("a:1 AND b:2"));
        assert_eq!(
            ok("a:1 OR b:2"),
            Query::Bool(vec![(Occur::Should, a()), (Occur::Should, b())])
        );
        assert_eq!(ok("a:1 || b:2"), ok("a:1 OR b:2"));
        assert_eq!(ok("a:1 b:2"), ok("a:1 OR b:2"));
        assert_eq!(
            ok("a:1 AND NOT b:2"),
            Query::Bool(vec![(Occur::Must, a()), (Occur::MustNot, b())])
        );
        assert_eq!(ok("a:1 AND !b:2"), ok("a:1 AND NOT b:2"));
        assert_eq!(
            ok("a:1 -b:2"),
            Query::Bool(vec![(Occur::Should, a()), (Occur::MustNot, b())])
        );
        assert_eq!(
            ok("+a:1 b:2"),
            Query::Bool(vec![(Occur::Must, a()), (Occur::Should, b())])
        );
        assert_eq!(ok("NOT a:1"), Query::Bool(vec![(Occur::MustNot, a())]));
        // Classic Lucene: AND makes both neighbours required, OR leaves the rest alone.
        assert_eq!(
            ok("a:1 AND b:2 OR c:3"),
            Query::Bool(vec![
                (Occur::Must, a()),
                (Occur::Must, b()),
                (Occur::Should, c())
            ])
        );
        assert_eq!(
            ok("(a:1 OR b:2) AND c:3"),
            Query::Bool(vec![
                (
                    Occur::Must,
                    Query::Bool(vec![(Occur::Should, a()), (Occur::Should, b())])
                ),
                (Occur::Must, c())
            ])
        );
    }

    #[test]
    fn field_groups_distribute_the_field() {
        assert_eq!(
            ok("name:(a OR b)"),
            Query::Bool(vec![
                (Occur::Should, term("name", "a")),
                (Occur::Should, term("name", "b"))
            ])
        );
        bad("name:(other:a)");
    }

    #[test]
    fn fuzzy_and_boost() {
        assert_eq!(
            ok("name:foo~"),
            Query::Fuzzy {
                field: Some(Text::literal("name")),
                value: "foo".into(),
                distance: 2
            }
        );
        assert!(matches!(ok("name:foo~1"), Query::Fuzzy { distance: 1, .. }));
        assert!(matches!(
            ok("name:foo~0.8"),
            Query::Fuzzy { distance: 1, .. }
        ));
        assert_eq!(
            ok("name:foo^2"),
            Query::Boost(Box::new(term("name", "foo")), 2.0)
        );
        bad("name:foo^");
    }

    #[test]
    fn malformed_queries_are_errors() {
        for q in [
            "",
            "   ",
            "name:",
            "name: x",
            ":x",
            "AND",
            "a:1 AND",
            "AND a:1",
            "a:1 OR",
            "NOT",
            "(a:1",
            "a:1)",
            "((a:1)",
            "name:foo\\",
            "a:b:c",
            "\"",
            "name:[",
            "name:{a TO b",
            "a:1 AND AND b:2",
            "()",
            "name:()",
            "^2",
            "a:1 ~",
        ] {
            bad(q);
        }
        let deep = format!("{}a:1{}", "(".repeat(100), ")".repeat(100));
        bad(&deep);
    }

    #[test]
    fn decoding_again() {
        assert_eq!(decode_again("name:%41b"), "name:Ab");
        assert_eq!(decode_again("100%"), "100%");
        assert_eq!(decode_again("%zz%4"), "%zz%4");
        assert_eq!(decode_again("a%5C%3Ab"), "a\\:b");
    }
}
