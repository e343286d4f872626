//! The clause solver (batsat, through `sat`) and the cardinality encoding on their own:
//! brute force, pigeonholes, retractable assumptions, the deadline, preferred phases.

use std::time::{Duration, Instant};

use super::encode::Encoding;
use super::problem::Problem;
use super::sat::{Answer, Lit, Solver};
use super::tests::{items, universe};
use super::{Request, Universe};

fn later() -> Instant {
    Instant::now() + Duration::from_secs(10)
}

fn vars(s: &mut Solver, n: usize) -> Vec<Lit> {
    (0..n).map(|_| s.new_var(true)).collect()
}

/// A small deterministic generator for the random formulas below.
fn rng(seed: &mut u64) -> u64 {
    *seed = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *seed >> 33
}

/// `pigeons` pigeons, each in one of `holes` holes, no two sharing one.
fn pigeonholes(s: &mut Solver, pigeons: usize, holes: usize) {
    // p[i][h]: pigeon i in hole h.
    let p: Vec<Vec<Lit>> = (0..pigeons).map(|_| vars(s, holes)).collect();
    for row in &p {
        s.add(row);
    }
    for h in 0..holes {
        let hole: Vec<Lit> = p.iter().map(|row| row[h]).collect();
        for (i, &a) in hole.iter().enumerate() {
            for &b in &hole[i + 1..] {
                s.add(&[!a, !b]);
            }
        }
    }
}

#[test]
fn pigeons_do_not_fit_in_fewer_holes() {
    let mut s = Solver::default();
    pigeonholes(&mut s, 5, 4);
    assert!(matches!(s.solve(&[], later()), Answer::Unsat));
}

#[test]
fn the_deadline_stops_a_search_and_leaves_the_solver_usable() {
    // Far too many conflicts to finish: the deadline has to stop it.
    let mut s = Solver::default();
    pigeonholes(&mut s, 12, 11);
    let started = Instant::now();
    let answer = s.solve(&[], started + Duration::from_millis(20));
    assert!(matches!(answer, Answer::Unknown));
    assert!(started.elapsed() < Duration::from_secs(2));
    // A deadline already passed stops it before the first decision; a later one
    // gets the answer.
    let mut s = Solver::default();
    pigeonholes(&mut s, 5, 4);
    assert!(matches!(s.solve(&[], Instant::now()), Answer::Unknown));
    assert!(matches!(s.solve(&[], later()), Answer::Unsat));
}

#[test]
fn fresh_variables_lean_the_way_they_prefer() {
    // With nothing forcing them, the first model shows each variable's preference.
    let mut s = Solver::default();
    let (yes, no) = (s.new_var(true), s.new_var(false));
    s.add(&[yes, no]);
    assert!(matches!(s.solve(&[], later()), Answer::Sat));
    assert!(s.model(yes));
    assert!(!s.model(no));
}

#[test]
fn random_formulas_agree_with_brute_force() {
    let mut seed = 7;
    for _ in 0..300 {
        let n = 1 + (rng(&mut seed) % 9) as usize;
        let m = (rng(&mut seed) % 40) as usize;
        let clauses: Vec<Vec<(usize, bool)>> = (0..m)
            .map(|_| {
                (0..1 + rng(&mut seed) % 3)
                    .map(|_| {
                        (
                            (rng(&mut seed) % n as u64) as usize,
                            rng(&mut seed).is_multiple_of(2),
                        )
                    })
                    .collect()
            })
            .collect();
        let holds = |bits: u32, c: &[(usize, bool)]| {
            c.iter().any(|&(v, neg)| ((bits >> v) & 1 == 1) != neg)
        };
        let brute = (0..1u32 << n).any(|b| clauses.iter().all(|c| holds(b, c)));
        let mut s = Solver::default();
        let x = vars(&mut s, n);
        for c in &clauses {
            let lits: Vec<Lit> = c
                .iter()
                .map(|&(v, neg)| if neg { !x[v] } else { x[v] })
                .collect();
            s.add(&lits);
        }
        match s.solve(&[], later()) {
            Answer::Sat => {
                assert!(brute);
                let bits = (0..n).fold(0, |acc, v| acc | (u32::from(s.model(x[v])) << v));
                assert!(
                    clauses.iter().all(|c| holds(bits, c)),
                    "model breaks a clause"
                );
            }
            Answer::Unsat => assert!(!brute),
            Answer::Unknown => panic!("no deadline should pass here"),
        }
    }
}

#[test]
fn assumptions_are_retractable() {
    let mut s = Solver::default();
    let x = vars(&mut s, 3);
    s.add(&[!x[0], x[1]]);
    s.add(&[!x[1], x[2]]);
    assert!(matches!(s.solve(&[x[0], !x[2]], later()), Answer::Unsat));
    // The failed assumptions left nothing behind.
    assert!(matches!(s.solve(&[x[0]], later()), Answer::Sat));
    assert!(s.model(x[2]));
    assert!(matches!(s.solve(&[!x[2]], later()), Answer::Sat));
    assert!(!s.model(x[0]));
}

#[test]
fn at_most_counts_exactly_up_to_its_cap() {
    let u = universe(&[("a", &[("1.0.0", &[])])]);
    let p = Problem::build(
        &Request {
            universe: &u,
            run_list: items(&["a"]),
            environment: Default::default(),
            timeout: Duration::from_secs(1),
        },
        &items(&["a"]),
    );
    for n in 1..7 {
        let mut e = Encoding::new(&p, 0);
        let x: Vec<Lit> = (0..n).map(|_| e.sat.new_var(true)).collect();
        let cap = 3;
        let outs = e.at_most(&x, cap);
        for (m, &out) in outs.iter().enumerate() {
            for bits in 0..1u32 << n {
                let mut ask: Vec<Lit> = (0..n)
                    .map(|i| if bits >> i & 1 == 1 { x[i] } else { !x[i] })
                    .collect();
                ask.push(!out);
                let sat = matches!(e.sat.solve(&ask, later()), Answer::Sat);
                assert_eq!(
                    sat,
                    bits.count_ones() as usize <= m,
                    "n {n} m {m} bits {bits:b}"
                );
            }
        }
    }
}

#[test]
fn encoding_matches_the_dependency_semantics() {
    // app 2.0 needs lib 1.x; lib 2.0 needs a missing cookbook, so is unusable.
    let u: Universe = universe(&[
        ("app", &[("1.0.0", &[]), ("2.0.0", &[("lib", "~> 1.0")])]),
        (
            "lib",
            &[
                ("1.0.0", &[]),
                ("1.5.0", &[]),
                ("2.0.0", &[("ghost", ">= 0.0")]),
            ],
        ),
    ]);
    let run_list = items(&["app"]);
    let req = Request {
        universe: &u,
        run_list: run_list.clone(),
        environment: Default::default(),
        timeout: Duration::from_secs(1),
    };
    let p = Problem::build(&req, &run_list);
    let k = |name: &str| p.pkgs.iter().position(|k| k.name == name).unwrap();
    let (app, lib) = (k("app"), k("lib"));
    let mut e = Encoding::new(&p, 1);
    let mut ask = Vec::new();
    e.assume_at(lib, 2, &mut ask);
    assert!(matches!(e.sat.solve(&ask, later()), Answer::Unsat));
    let mut ask = Vec::new();
    e.assume_at(app, 1, &mut ask);
    assert!(matches!(e.sat.solve(&ask, later()), Answer::Sat));
    assert_eq!(e.chosen(app), Some(1));
    assert!(matches!(e.chosen(lib), Some(0 | 1)));
    // The run list is imposed: app cannot be left out.
    assert!(matches!(
        e.sat.solve(&[!e.used(app)], later()),
        Answer::Unsat
    ));
}
