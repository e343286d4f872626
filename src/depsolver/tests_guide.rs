//! The optimum and the guided search on cases the old clash-pair bound could not see
//! through: conflicts several dependencies deep, and run-list cookbooks that cannot all
//! be at their newest.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::guide::{optimise, Choice, Optimum};
use super::problem::Problem;
use super::tests::{items, run, universe, Spec};
use super::Request;

fn picks(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn transitive_dependency_falls_back_to_an_older_version() {
    // mid 2.0 wants lib 2.0, but app pins lib 1.0: mid has to go back to 1.0.
    let u = universe(&[
        (
            "app",
            &[("1.0.0", &[("mid", ">= 0.0"), ("lib", "= 1.0.0")])],
        ),
        (
            "mid",
            &[
                ("1.0.0", &[("lib", ">= 1.0")]),
                ("2.0.0", &[("lib", "= 2.0.0")]),
            ],
        ),
        ("lib", &[("1.0.0", &[]), ("2.0.0", &[])]),
    ]);
    assert_eq!(
        run(&u, &["app"], &[]).unwrap(),
        picks(&[("app", "1.0.0"), ("mid", "1.0.0"), ("lib", "1.0.0")])
    );
}

/// x 2.0 and y 2.0 clash only through p and q, two steps down.
const DEEP: Spec = &[
    ("x", &[("1.0.0", &[]), ("2.0.0", &[("p", ">= 0.0")])]),
    ("y", &[("1.0.0", &[]), ("2.0.0", &[("q", ">= 0.0")])]),
    ("p", &[("1.0.0", &[("lib", "= 1.0.0")])]),
    ("q", &[("1.0.0", &[("lib", "= 2.0.0")])]),
    ("lib", &[("1.0.0", &[]), ("2.0.0", &[])]),
];

#[test]
fn run_list_cookbooks_conflicting_several_steps_down() {
    // Either x or y at its newest; with y, q and lib are at theirs too (p cannot be),
    // with x only p is: y wins.
    assert_eq!(
        run(&universe(DEEP), &["x", "y"], &[]).unwrap(),
        picks(&[
            ("x", "1.0.0"),
            ("y", "2.0.0"),
            ("q", "1.0.0"),
            ("lib", "2.0.0")
        ])
    );
}

#[test]
fn the_largest_compatible_part_of_the_run_list_stays_newest() {
    // a's newest clashes with both b's and c's; b and c agree.
    let u = universe(&[
        ("a", &[("1.0.0", &[]), ("2.0.0", &[("lib", "= 1.0.0")])]),
        ("b", &[("1.0.0", &[]), ("2.0.0", &[("lib", "= 2.0.0")])]),
        ("c", &[("1.0.0", &[]), ("2.0.0", &[("lib", ">= 2.0")])]),
        ("lib", &[("1.0.0", &[]), ("2.0.0", &[])]),
    ]);
    assert_eq!(
        run(&u, &["a", "b", "c"], &[]).unwrap(),
        picks(&[
            ("a", "1.0.0"),
            ("b", "2.0.0"),
            ("c", "2.0.0"),
            ("lib", "2.0.0")
        ])
    );
}

#[test]
fn the_guide_knows_the_optimum_and_what_cannot_reach_it() {
    let u = universe(DEEP);
    let run_list = items(&["x", "y"]);
    let req = Request {
        universe: &u,
        run_list: run_list.clone(),
        environment: Default::default(),
        timeout: Duration::from_secs(5),
    };
    let p = Problem::build(&req, &run_list);
    let deadline = Instant::now() + Duration::from_secs(5);
    let Optimum::Found(mut g) = optimise(&p, deadline) else {
        panic!("feasible");
    };
    // One run-list cookbook at its newest; q and lib too, of p, q, lib.
    assert_eq!(g.best, (1, 2));
    let k = |name: &str| p.pkgs.iter().position(|k| k.name == name).unwrap();
    assert_eq!(g.reachable(&[Choice::At(k("x"), 1)], deadline), Some(false));
    assert_eq!(
        g.reachable(&[Choice::NotNewest(k("lib"))], deadline),
        Some(false)
    );
    assert_eq!(g.reachable(&[Choice::At(k("x"), 0)], deadline), Some(true));
    assert!(g.agrees(Choice::At(k("y"), 1)));
}

#[test]
fn an_infeasible_run_list_is_reported_as_before() {
    let u = universe(&[
        ("a", &[("1.0.0", &[("lib", "= 1.0.0")])]),
        ("b", &[("1.0.0", &[("lib", "= 2.0.0")])]),
        ("lib", &[("1.0.0", &[]), ("2.0.0", &[])]),
    ]);
    let run_list = items(&["a", "b"]);
    let req = Request {
        universe: &u,
        run_list: run_list.clone(),
        environment: Default::default(),
        timeout: Duration::from_secs(5),
    };
    let p = Problem::build(&req, &run_list);
    assert!(matches!(
        optimise(&p, Instant::now() + Duration::from_secs(5)),
        Optimum::Infeasible
    ));
    let err = run(&u, &["a", "b"], &[]).unwrap_err();
    assert_eq!(
        err.body()["error"][0]["unsatisfiable_run_list_item"],
        "(b >= 0.0.0)"
    );
}

/// A generated org like the benchmark's, smaller: many ties for the search to break.
#[test]
fn generated_universe_solves_well_within_the_timeout() {
    let mut u = super::Universe::new();
    let mut seed = 11u64;
    let mut next = |n: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % n
    };
    for i in 0..80u64 {
        let base: Vec<u64> = (0..next(4))
            .filter(|_| i > 0)
            .map(|_| next(i.max(1)))
            .collect();
        let cands = (0..8u64)
            .map(|v| super::Candidate {
                version: format!("1.{v}.0"),
                dependencies: base
                    .iter()
                    .map(|j| {
                        let t = v.saturating_sub(next(3));
                        let c = match next(4) {
                            0 => format!("= 1.{t}.0"),
                            1 => format!("~> 1.{t}.0"),
                            _ => format!(">= 1.{t}.0"),
                        };
                        (format!("cb{j}"), c)
                    })
                    .collect(),
            })
            .collect();
        u.insert(format!("cb{i}"), cands);
    }
    let names: Vec<String> = (40..80).step_by(4).map(|i| format!("cb{i}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let started = Instant::now();
    let got = run(&u, &refs, &[]);
    assert!(got.is_ok(), "{got:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

/// The search as it ran before it was guided: the run list's best count first, then
/// everything with that count held, each proved by bounds alone.
fn unguided(req: &Request) -> Option<Result<BTreeMap<String, String>, ()>> {
    use super::search::{run as search, Outcome, Settings, Slot};
    let run_list = super::dedupe(&req.run_list);
    let p = Problem::build(req, &run_list);
    if p.roots.iter().any(|r| r.range.is_empty()) {
        return None;
    }
    let mut s = Settings {
        roots: p.roots.len(),
        allow_disable: false,
        first_only: false,
        roots_only: true,
        floor: None,
        deadline: Instant::now() + Duration::from_secs(5),
    };
    let slots = match search(&p, s.clone()) {
        Outcome::Best(slots) => slots,
        Outcome::Infeasible => return Some(Err(())),
        Outcome::TimedOut => return None,
    };
    let mut roots: Vec<usize> = p.roots.iter().map(|r| r.pkg).collect();
    roots.sort_unstable();
    roots.dedup();
    let at_newest = roots
        .iter()
        .filter(|&&k| p.pkgs[k].top().is_some_and(|t| slots[k] == Slot::At(t)))
        .count() as i64;
    s.roots_only = false;
    s.floor = Some([0, 0, 0, at_newest, i64::MIN]);
    match search(&p, s) {
        Outcome::Best(slots) => Some(Ok(super::closure(&p, &slots))),
        _ => None,
    }
}

#[test]
fn guided_and_unguided_searches_pick_the_same_versions() {
    let mut seed = 3u64;
    let mut next = |n: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) % n as u64) as usize
    };
    let ops = [">=", "~>", "=", "<", ">", "<="];
    let mut compared = 0;
    for _ in 0..400 {
        let n = 3 + next(8);
        let counts: Vec<usize> = (0..n).map(|_| 1 + next(4)).collect();
        let mut u = super::Universe::new();
        for (i, &count) in counts.iter().enumerate() {
            let mut cands = Vec::new();
            for v in 0..count {
                let mut dependencies = Vec::new();
                for _ in 0..next(3) {
                    // Index n names a cookbook the org does not have.
                    let j = next(n + 1);
                    let c = format!("{} 1.{}.0", ops[next(ops.len())], next(4));
                    if j != i {
                        dependencies.push((format!("c{j}"), c));
                    }
                }
                cands.push(super::Candidate {
                    version: format!("1.{v}.0"),
                    dependencies,
                });
            }
            u.insert(format!("c{i}"), cands);
        }
        let run_list: Vec<String> = (0..1 + next(3)).map(|_| format!("c{}", next(n))).collect();
        let refs: Vec<&str> = run_list.iter().map(String::as_str).collect();
        let req = Request {
            universe: &u,
            run_list: items(&refs),
            environment: Default::default(),
            timeout: Duration::from_secs(5),
        };
        let Some(want) = unguided(&req) else {
            continue;
        };
        let got = super::solve(&req);
        match want {
            Ok(map) => assert_eq!(got, Ok(map), "{u:?} {run_list:?}"),
            Err(()) => assert!(got.is_err(), "{u:?} {run_list:?}"),
        }
        compared += 1;
    }
    assert!(compared > 300, "only {compared} cases compared");
}
