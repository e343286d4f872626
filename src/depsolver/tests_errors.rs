//! The 412 bodies, with expected values copied from oc-chef-pedant's
//! `spec/api/depsolver_spec.rb`, and the timeout.

use std::time::Duration;

use serde_json::{json, Value};

use super::tests::{items, run, universe, Spec};
use super::*;

/// The pedant environment: constraints that filter nothing in these cases.
const ENV: &[(&str, &str)] = &[("qux", "> 4.0.0"), ("foo", ">= 0.1.0"), ("bar", "< 4.0.0")];

fn body(spec: Spec, run_list: &[&str], env: &[(&str, &str)]) -> Value {
    run(&universe(spec), run_list, env).unwrap_err().body()
}

const FOO: Spec = &[("foo", &[("1.2.3", &[])])];

#[test]
fn non_existent_cookbook() {
    assert_eq!(
        body(FOO, &["this_does_not_exist"], ENV),
        json!({"error": [{
            "message": "Run list contains invalid items: no such cookbook this_does_not_exist.",
            "non_existent_cookbooks": ["this_does_not_exist"],
            "cookbooks_with_no_versions": []
        }]})
    );
}

#[test]
fn two_non_existent_cookbooks() {
    assert_eq!(
        body(FOO, &["this_does_not_exist", "also_this_one"], ENV),
        json!({"error": [{
            "message": "Run list contains invalid items: no such cookbooks this_does_not_exist, also_this_one.",
            "non_existent_cookbooks": ["this_does_not_exist", "also_this_one"],
            "cookbooks_with_no_versions": []
        }]})
    );
}

#[test]
fn cookbook_filtered_out_by_environment() {
    let env = &[("foo", "= 400.0.0"), ("bar", "> 400.0.0")];
    assert_eq!(
        body(FOO, &["foo"], env),
        json!({"error": [{
            "message": "Run list contains invalid items: no versions match the constraints on cookbook (foo >= 0.0.0).",
            "non_existent_cookbooks": [],
            "cookbooks_with_no_versions": ["(foo >= 0.0.0)"]
        }]})
    );
}

#[test]
fn pinned_version_that_does_not_exist() {
    assert_eq!(
        body(FOO, &["foo@2.0.0"], ENV),
        json!({"error": [{
            "message": "Run list contains invalid items: no versions match the constraints on cookbook (foo = 2.0.0).",
            "non_existent_cookbooks": [],
            "cookbooks_with_no_versions": ["(foo = 2.0.0)"]
        }]})
    );
    let two: Spec = &[("foo", &[("1.2.3", &[])]), ("bar", &[("2.0.0", &[])])];
    assert_eq!(
        body(two, &["bar@2.0.0", "foo@3.0.0"], ENV),
        json!({"error": [{
            "message": "Run list contains invalid items: no versions match the constraints on cookbook (foo = 3.0.0).",
            "non_existent_cookbooks": [],
            "cookbooks_with_no_versions": ["(foo = 3.0.0)"]
        }]})
    );
    // Several at once: erchef's plural.
    assert_eq!(
        body(two, &["bar@1.0", "foo@3.0.0"], ENV)["error"][0]["message"],
        "Run list contains invalid items: no versions match the constraints on cookbooks (bar = 1.0.0), (foo = 3.0.0)."
    );
}

#[test]
fn missing_cookbook_wins_over_missing_version() {
    assert_eq!(
        body(FOO, &["this_does_not_exist", "foo@2.0.0"], ENV),
        json!({"error": [{
            "message": "Run list contains invalid items: no such cookbook this_does_not_exist.",
            "non_existent_cookbooks": ["this_does_not_exist"],
            "cookbooks_with_no_versions": []
        }]})
    );
}

#[test]
fn dependency_that_does_not_exist() {
    let spec: Spec = &[("foo", &[("1.2.3", &[("this_does_not_exist", ">= 0.0.0")])])];
    assert_eq!(
        body(spec, &["foo"], ENV),
        json!({"error": [{
            "message": "Unable to satisfy constraints on package this_does_not_exist, which does not exist, due to solution constraint (foo >= 0.0.0). Solution constraints that may result in a constraint on this_does_not_exist: [(foo = 1.2.3) -> (this_does_not_exist >= 0.0.0)]",
            "unsatisfiable_run_list_item": "(foo >= 0.0.0)",
            "non_existent_cookbooks": ["this_does_not_exist"],
            "most_constrained_cookbooks": []
        }]})
    );
}

#[test]
fn dependency_without_a_new_enough_version() {
    let spec: Spec = &[
        ("foo", &[("1.2.3", &[("bar", "> 2.0.0")])]),
        ("bar", &[("2.0.0", &[])]),
    ];
    assert_eq!(
        body(spec, &["foo"], ENV),
        json!({"error": [{
            "message": "Unable to satisfy constraints on package bar due to solution constraint (foo >= 0.0.0). Solution constraints that may result in a constraint on bar: [(foo = 1.2.3) -> (bar > 2.0.0)]",
            "unsatisfiable_run_list_item": "(foo >= 0.0.0)",
            "non_existent_cookbooks": [],
            "most_constrained_cookbooks": ["bar = 2.0.0 -> []"]
        }]})
    );
}

#[test]
fn impossible_dependency() {
    let spec: Spec = &[
        ("foo", &[("1.2.3", &[("bar", "> 2.0.0")])]),
        ("bar", &[("2.0.0", &[("foo", "> 3.0.0")])]),
    ];
    assert_eq!(
        body(spec, &["foo"], ENV),
        json!({"error": [{
            "message": "Unable to satisfy constraints on package bar due to solution constraint (foo >= 0.0.0). Solution constraints that may result in a constraint on bar: [(foo = 1.2.3) -> (bar > 2.0.0)]",
            "unsatisfiable_run_list_item": "(foo >= 0.0.0)",
            "non_existent_cookbooks": [],
            "most_constrained_cookbooks": ["bar = 2.0.0 -> [(foo > 3.0.0)]"]
        }]})
    );
}

#[test]
fn blames_the_first_run_list_item_that_breaks() {
    // a and b are fine alone; c clashes with a over lib. Paths over adjacent versions
    // of the same cookbook merge, as in dep-selector's report.
    let spec: Spec = &[
        ("a", &[("1.0.0", &[("lib", "= 1.0.0")])]),
        ("b", &[("1.0.0", &[])]),
        (
            "c",
            &[
                ("1.0.0", &[("lib", "= 2.0.0")]),
                ("1.1.0", &[("lib", "= 2.0.0")]),
            ],
        ),
        ("lib", &[("1.0.0", &[]), ("2.0.0", &[])]),
    ];
    let b = body(spec, &["a", "b", "c"], &[]);
    let e = &b["error"][0];
    assert_eq!(e["unsatisfiable_run_list_item"], "(c >= 0.0.0)");
    assert_eq!(e["non_existent_cookbooks"], json!([]));
    assert_eq!(e["most_constrained_cookbooks"].as_array().unwrap().len(), 1);
    let msg = e["message"].as_str().unwrap();
    assert!(
        msg.contains("due to solution constraint (c >= 0.0.0)."),
        "{msg}"
    );
    assert!(
        msg.contains("[(a = 1.0.0) -> (lib = 1.0.0)], [(c = {1.1.0,1.0.0}) -> (lib = 2.0.0)]"),
        "{msg}"
    );
}

/// Many cookbooks, each with versions that each pin a different version of a shared
/// library, and a run list whose only solutions are rare: hard for any search.
fn hard_universe() -> Universe {
    let mut u = Universe::new();
    let n = 40;
    for i in 0..n {
        let cands = (0..12)
            .map(|v| Candidate {
                version: format!("{v}.0.0"),
                dependencies: (0..3)
                    .map(|k| {
                        let lib = (i * 7 + k * 13 + v) % 9;
                        (format!("lib{lib}"), format!("= {}.0.0", (i + v * k) % 7))
                    })
                    .collect(),
            })
            .collect();
        u.insert(format!("cb{i}"), cands);
    }
    for l in 0..9 {
        let cands = (0..7)
            .map(|v| Candidate {
                version: format!("{v}.0.0"),
                dependencies: vec![],
            })
            .collect();
        u.insert(format!("lib{l}"), cands);
    }
    u
}

#[test]
fn timeout_gives_the_alotted_time_body() {
    let u = hard_universe();
    let run_list: Vec<String> = (0..40).map(|i| format!("cb{i}")).collect();
    let refs: Vec<&str> = run_list.iter().map(String::as_str).collect();
    let err = solve(&Request {
        universe: &u,
        run_list: items(&refs),
        environment: Default::default(),
        timeout: Duration::from_millis(1),
    })
    .unwrap_err();
    assert_eq!(err, SolveError::Timeout);
    assert_eq!(
        err.body(),
        json!({"error": [{
            "message": "unable to solve dependencies in alotted time",
            "non_existent_cookbooks": [],
            "most_constrained_cookbooks": []
        }]})
    );
}
