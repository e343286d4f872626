//! Solver behaviour: operators, environment filter, closure, optimisation, pins.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use super::*;

/// `("a", &[("1.0.0", &[("b", ">= 1.0")])])`: cookbooks, versions, dependencies.
pub type Spec<'a> = &'a [(&'a str, &'a [(&'a str, &'a [(&'a str, &'a str)])])];

pub fn universe(spec: Spec) -> Universe {
    spec.iter()
        .map(|(name, versions)| {
            let cands = versions
                .iter()
                .map(|(v, deps)| Candidate {
                    version: v.to_string(),
                    dependencies: deps
                        .iter()
                        .map(|(d, c)| (d.to_string(), c.to_string()))
                        .collect(),
                })
                .collect();
            (name.to_string(), cands)
        })
        .collect()
}

/// Run-list items as a client writes them: `foo`, `foo@1.0.0`.
pub fn items(run_list: &[&str]) -> Vec<(String, Option<String>)> {
    run_list
        .iter()
        .map(|i| match i.split_once('@') {
            Some((n, v)) => (n.to_string(), Some(v.to_string())),
            None => (i.to_string(), None),
        })
        .collect()
}

pub fn run(
    u: &Universe,
    run_list: &[&str],
    env: &[(&str, &str)],
) -> Result<BTreeMap<String, String>, SolveError> {
    solve(&Request {
        universe: u,
        run_list: items(run_list),
        environment: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<HashMap<_, _>>(),
        timeout: Duration::from_secs(5),
    })
}

fn picks(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn m(c: &str, v: (u64, u64, u64)) -> bool {
    Constraint::parse(c).unwrap().matches(v)
}

#[test]
fn every_operator() {
    assert!(m("= 1.2.3", (1, 2, 3)) && !m("= 1.2.3", (1, 2, 4)));
    assert!(m("1.2", (1, 2, 0)) && !m("1.2", (1, 2, 1)));
    assert!(m("> 1.2.3", (1, 2, 4)) && !m("> 1.2.3", (1, 2, 3)));
    assert!(m(">= 1.2.3", (1, 2, 3)) && !m(">= 1.2.3", (1, 2, 2)));
    assert!(m("< 2.0", (1, 99, 99)) && !m("< 2.0", (2, 0, 0)));
    assert!(m("<= 2.0", (2, 0, 0)) && !m("<= 2.0", (2, 0, 1)));
    assert!(Constraint::parse("~>1.2").is_none());
    assert!(Constraint::parse("=> 1.2").is_none());
}

#[test]
fn pessimistic_two_and_three_parts() {
    // Two parts: same major, minor at least the given one.
    assert!(m("~> 2.1", (2, 1, 0)) && m("~> 2.1", (2, 9, 7)));
    assert!(!m("~> 2.1", (2, 0, 9)) && !m("~> 2.1", (3, 0, 0)));
    // Three parts: same major and minor, patch at least the given one.
    assert!(m("~> 2.1.3", (2, 1, 3)) && m("~> 2.1.3", (2, 1, 40)));
    assert!(!m("~> 2.1.3", (2, 1, 2)) && !m("~> 2.1.3", (2, 2, 0)));
    // One part behaves like three (`x.0.0`).
    assert!(m("~> 2", (2, 0, 5)) && !m("~> 2", (2, 1, 0)));
    assert_eq!(Constraint::parse("~> 2.1").unwrap().to_string(), "~> 2.1.0");
}

const LIB: &[(&str, &[(&str, &str)])] = &[
    ("1.0.0", &[]),
    ("1.5.0", &[]),
    ("2.0.0", &[]),
    ("2.1.0", &[]),
    ("2.1.5", &[]),
    ("3.0.0", &[]),
];

#[test]
fn solver_applies_each_operator() {
    for (c, want) in [
        ("= 1.5.0", "1.5.0"),
        ("> 2.1.0", "3.0.0"),
        (">= 2.0", "3.0.0"),
        ("< 2.1.0", "2.0.0"),
        ("<= 2.1.0", "2.1.0"),
        ("~> 2.0", "2.1.5"),
        ("~> 2.1.0", "2.1.5"),
        ("~> 1.0", "1.5.0"),
        ("~> 1.0.0", "1.0.0"),
        ("2.0.0", "2.0.0"),
    ] {
        let u = universe(&[("app", &[("1.0.0", &[("lib", c)])]), ("lib", LIB)]);
        let got = run(&u, &["app"], &[]).unwrap();
        assert_eq!(got, picks(&[("app", "1.0.0"), ("lib", want)]), "{c}");
    }
}

#[test]
fn environment_prefilters_versions() {
    let u = universe(&[("app", &[("1.0.0", &[("lib", ">= 1.0")])]), ("lib", LIB)]);
    let got = run(&u, &["app"], &[("lib", "~> 2.0")]).unwrap();
    assert_eq!(got["lib"], "2.1.5");
    // The newest *allowed* version is the one preferred.
    let got = run(&u, &["app"], &[("lib", "< 2.0.0"), ("other", "= 9.9.9")]).unwrap();
    assert_eq!(got["lib"], "1.5.0");
}

#[test]
fn result_is_run_list_plus_transitive_closure() {
    let u = universe(&[
        (
            "app",
            &[
                ("1.0.0", &[("mid", ">= 0.0.0")]),
                ("0.9.0", &[("old", ">= 0.0.0")]),
            ],
        ),
        ("mid", &[("1.0.0", &[("leaf", "~> 1.0")])]),
        ("leaf", &[("1.0.0", &[]), ("1.2.0", &[])]),
        ("old", &[("1.0.0", &[])]),
        ("unrelated", &[("1.0.0", &[])]),
    ]);
    let got = run(&u, &["app"], &[]).unwrap();
    assert_eq!(
        got,
        picks(&[("app", "1.0.0"), ("mid", "1.0.0"), ("leaf", "1.2.0")])
    );
}

#[test]
fn optimises_where_newest_first_search_does_not() {
    // Newest first takes a 2.0 (so c 1.0) and then must drop b to 1.0, leaving c old.
    // The optimum keeps one run-list cookbook at its newest either way but also gets c
    // to its newest: a 1.0, b 2.0, c 2.0.
    let u = universe(&[
        ("a", &[("1.0.0", &[]), ("2.0.0", &[("c", "= 1.0.0")])]),
        ("b", &[("1.0.0", &[]), ("2.0.0", &[("c", "= 2.0.0")])]),
        ("c", &[("1.0.0", &[]), ("2.0.0", &[])]),
    ]);
    let got = run(&u, &["a", "b"], &[]).unwrap();
    assert_eq!(
        got,
        picks(&[("a", "1.0.0"), ("b", "2.0.0"), ("c", "2.0.0")])
    );
}

#[test]
fn run_list_cookbooks_outrank_dependencies() {
    // Keeping app at its newest forces lib back to 1.0.0.
    let u = universe(&[
        (
            "app",
            &[
                ("1.0.0", &[("lib", ">= 1.0")]),
                ("2.0.0", &[("lib", "= 1.0.0")]),
            ],
        ),
        ("lib", LIB),
    ]);
    let got = run(&u, &["app"], &[]).unwrap();
    assert_eq!(got, picks(&[("app", "2.0.0"), ("lib", "1.0.0")]));
}

#[test]
fn every_reachable_cookbook_counts_as_dep_selector_does() {
    // dep-selector scores every cookbook reachable from the run list, used or not:
    // holding c at 1.0.0 lets both x and y (reachable through app 1.0.0, not used) sit
    // at their newest, which outscores c alone at 2.0.0.
    let u = universe(&[
        (
            "app",
            &[
                ("1.0.0", &[("x", ">= 0.0"), ("y", ">= 0.0")]),
                ("2.0.0", &[("c", ">= 0.0")]),
            ],
        ),
        ("x", &[("1.0.0", &[("c", "= 1.0.0")])]),
        ("y", &[("1.0.0", &[("c", "= 1.0.0")])]),
        ("c", &[("1.0.0", &[]), ("2.0.0", &[])]),
    ]);
    let got = run(&u, &["app"], &[]).unwrap();
    assert_eq!(got, picks(&[("app", "2.0.0"), ("c", "1.0.0")]));
}

#[test]
fn missing_dependency_makes_a_version_unusable() {
    let u = universe(&[(
        "app",
        &[("1.0.0", &[]), ("2.0.0", &[("ghost", ">= 0.0.0")])],
    )]);
    assert_eq!(run(&u, &["app"], &[]).unwrap(), picks(&[("app", "1.0.0")]));
}

#[test]
fn unmatched_dependency_makes_a_version_unusable() {
    let u = universe(&[
        (
            "app",
            &[
                ("1.0.0", &[("lib", "< 2.0")]),
                ("2.0.0", &[("lib", "> 5.0")]),
            ],
        ),
        ("lib", LIB),
    ]);
    let got = run(&u, &["app"], &[]).unwrap();
    assert_eq!(got, picks(&[("app", "1.0.0"), ("lib", "1.5.0")]));
}

#[test]
fn pinned_run_list_items() {
    let u = universe(&[("lib", LIB)]);
    assert_eq!(
        run(&u, &["lib@2.1.0"], &[]).unwrap(),
        picks(&[("lib", "2.1.0")])
    );
    // `@2.1` is `= 2.1.0`; both items hold at once.
    assert_eq!(
        run(&u, &["lib", "lib@2.1"], &[]).unwrap(),
        picks(&[("lib", "2.1.0")])
    );
}

#[test]
fn run_list_duplicates_are_dropped_in_order() {
    assert_eq!(
        dedupe(&items(&["b", "a", "b", "a@1.0", "a"])),
        items(&["b", "a", "a@1.0"])
    );
    let u = universe(&[("a", LIB), ("b", LIB)]);
    let got = run(&u, &["b", "a", "b", "a"], &[]).unwrap();
    assert_eq!(got, picks(&[("a", "3.0.0"), ("b", "3.0.0")]));
}

#[test]
fn empty_run_list_solves_to_nothing() {
    let u = universe(&[("lib", LIB)]);
    assert_eq!(run(&u, &[], &[]).unwrap(), BTreeMap::new());
}

#[test]
fn cycles_and_stored_version_text() {
    let u = universe(&[
        ("a", &[("1.0", &[("b", ">= 0.0")])]),
        ("b", &[("1.0.0", &[("a", "= 1.0.0")])]),
    ]);
    assert_eq!(
        run(&u, &["a"], &[]).unwrap(),
        picks(&[("a", "1.0"), ("b", "1.0.0")])
    );
}

#[test]
fn deterministic_across_hash_orders() {
    let spec: Spec = &[
        (
            "a",
            &[
                ("1.0.0", &[("c", ">= 1.0")]),
                ("2.0.0", &[("c", "= 1.0.0")]),
            ],
        ),
        (
            "b",
            &[
                ("1.0.0", &[("c", ">= 1.0")]),
                ("2.0.0", &[("c", "= 2.0.0")]),
            ],
        ),
        // With a 3.0.0 neither optimum has c at its newest: a genuine tie.
        ("c", &[("1.0.0", &[]), ("2.0.0", &[]), ("3.0.0", &[])]),
    ];
    let first = run(&universe(spec), &["a", "b"], &[]).unwrap();
    for _ in 0..20 {
        // A fresh HashMap has a fresh hash seed, so a fresh iteration order.
        assert_eq!(run(&universe(spec), &["a", "b"], &[]).unwrap(), first);
    }
}
