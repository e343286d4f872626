//! What one query may cost, checked on the query string and on its parsed form before
//! anything runs (`search.max_*`). Wildcard and fuzzy terms are the expensive part: each
//! is expanded over the index's term dictionary, and one whose field name has a wildcard
//! (or, without a field, that starts with one) walks all of it. Each error is the 400
//! message that names the limit.

use super::query::{Piece, Query, Text};
use crate::config::SearchConfig;

/// The query string's length, in bytes.
pub fn check_length(q: &str, c: &SearchConfig) -> Result<(), String> {
    if q.len() > c.max_query_length {
        return Err(format!(
            "Search query is {} bytes long, more than the {} allowed",
            q.len(),
            c.max_query_length
        ));
    }
    Ok(())
}

#[derive(Default)]
struct Counts {
    clauses: usize,
    wildcard_terms: usize,
    wildcard_field_terms: usize,
}

/// The clause and wildcard limits of a parsed query.
pub fn check(q: &Query, c: &SearchConfig) -> Result<(), String> {
    let mut n = Counts::default();
    walk(q, c, &mut n)?;
    if n.clauses > c.max_clauses {
        return Err(format!(
            "Search query has {} clauses, more than the {} allowed",
            n.clauses, c.max_clauses
        ));
    }
    if n.wildcard_terms > c.max_wildcard_terms {
        return Err(format!(
            "Search query has {} wildcard or fuzzy terms, more than the {} allowed",
            n.wildcard_terms, c.max_wildcard_terms
        ));
    }
    if n.wildcard_field_terms > c.max_wildcard_field_terms {
        return Err(format!(
            "Search query has {} terms with a wildcard in the field name or a leading \
             wildcard, more than the {} allowed",
            n.wildcard_field_terms, c.max_wildcard_field_terms
        ));
    }
    Ok(())
}

fn walk(q: &Query, c: &SearchConfig, n: &mut Counts) -> Result<(), String> {
    match q {
        Query::Bool(clauses) => {
            for (_, sub) in clauses {
                walk(sub, c, n)?;
            }
        }
        Query::Boost(inner, _) => walk(inner, c, n)?,
        Query::Term { field, value } => {
            n.clauses += 1;
            let token = Query::token(field, value);
            let wildcards = token
                .0
                .iter()
                .filter(|p| !matches!(p, Piece::Lit(_)))
                .count();
            if wildcards > 0 {
                n.wildcard_terms += 1;
                if wildcards > c.max_wildcards_per_term {
                    return Err(format!(
                        "Search query term '{}' has {wildcards} wildcards, more than the {} allowed",
                        shorten(field, value),
                        c.max_wildcards_per_term
                    ));
                }
                if scans_every_term(field, value) {
                    n.wildcard_field_terms += 1;
                }
            }
        }
        Query::Fuzzy { .. } => {
            n.clauses += 1;
            n.wildcard_terms += 1;
        }
        Query::All | Query::Phrase { .. } | Query::Range { .. } => n.clauses += 1,
    }
    Ok(())
}

/// Whether a wildcard term's literal prefix stops before its field name ends.
fn scans_every_term(field: &Option<Text>, value: &Text) -> bool {
    match field {
        Some(f) => f.has_wildcards(),
        None => !matches!(value.0.first(), Some(Piece::Lit(_))),
    }
}

/// A term for a message, as written (without escapes), cut at 40 characters.
fn shorten(field: &Option<Text>, value: &Text) -> String {
    let s = match field {
        Some(f) => format!("{}:{}", f.as_string(), value.as_string()),
        None => value.as_string(),
    };
    match s.char_indices().nth(40) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::query::parse;

    fn checked(q: &str) -> Result<(), String> {
        let c = SearchConfig::default();
        check_length(q, &c)?;
        check(&parse(q).unwrap(), &c)
    }

    #[test]
    fn queries_clients_send_pass() {
        for q in [
            "*:*",
            "name:web*",
            "role:web AND chef_environment:prod",
            "recipes:apache2\\:\\:default",
            "*_ipaddress:10.*",
            "name:w?b?",
            "platform:ubuntu* AND platform_version:2?.04 AND tags:db*",
            "name:foo~",
            "memory_total:[1000 TO 2000]",
            "description:\"a b c\"",
            "NOT name:web*",
        ] {
            assert_eq!(checked(q), Ok(()), "{q}");
        }
        // A thousand names is within the clause limit, not within the length limit.
        let many = (0..1000)
            .map(|i| format!("name:server-node{i}"))
            .collect::<Vec<_>>()
            .join(" OR ");
        assert!(checked(&many).unwrap_err().contains("bytes long"));
        let c = SearchConfig {
            max_query_length: 100_000,
            ..SearchConfig::default()
        };
        assert_eq!(check(&parse(&many).unwrap(), &c), Ok(()));
    }

    #[test]
    fn each_limit_has_its_message() {
        let bomb = vec![format!("*:*{}", "a*".repeat(41)); 200].join(" OR ");
        assert_eq!(
            checked(&bomb).unwrap_err(),
            "Search query is 17796 bytes long, more than the 16384 allowed"
        );
        let c = SearchConfig {
            max_query_length: 100_000,
            ..SearchConfig::default()
        };
        let err = |q: &str| check(&parse(q).unwrap(), &c).unwrap_err();
        assert_eq!(
            err(&bomb),
            "Search query term '*:*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a…' has 43 wildcards, \
             more than the 8 allowed"
        );
        let clauses = vec!["a:b"; 1025].join(" OR ");
        assert_eq!(
            err(&clauses),
            "Search query has 1025 clauses, more than the 1024 allowed"
        );
        let wild = vec!["name:a*b*"; 65].join(" OR ");
        assert_eq!(
            err(&wild),
            "Search query has 65 wildcard or fuzzy terms, more than the 64 allowed"
        );
        for q in [
            "*:*a* OR *:*b* OR x*:1 OR *y OR *_ip:1*",
            "*a OR *b OR *c OR *d OR ?e",
        ] {
            assert_eq!(
                err(q),
                "Search query has 5 terms with a wildcard in the field name or a leading \
                 wildcard, more than the 4 allowed",
                "{q}"
            );
        }
    }
}
