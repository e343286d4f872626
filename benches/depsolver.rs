//! Solve time on a seeded synthetic org: 1,000 cookbooks × 20 versions, each version
//! depending on 0–5 lower-numbered (mostly popular, low-numbered) cookbooks with mixed
//! constraints (65% `>=`, 25% `~> x.y`, 7% `~> x.y.z`, 3% `=`) on the version the
//! dependency had released at the time, lagging up to two releases; 200 different
//! 20-cookbook run lists. Prints p50/p99/max, how the solves ended (solved, no
//! solution, timeout) and a fingerprint of every answer, to tell whether two builds
//! picked the same versions. The org is realistic in shape: a run
//! list typically reaches 140–200 cookbooks and all 200 have solutions, though rarely
//! with everything at its newest (the lagging `=` and `~>` pins clash), which is what
//! makes proving the optimum costly.
//!
//! `cargo bench --bench depsolver`; `DS_N=20` runs fewer solves.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use brigade::depsolver::{solve, Candidate, Request, SolveError, Universe};

const COOKBOOKS: usize = 1000;
const VERSIONS: usize = 20;
const RUN_LIST: usize = 20;
const SOLVES: usize = 200;
fn solves() -> usize {
    std::env::var("DS_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SOLVES)
}

/// SplitMix64: a fixed, dependency-free generator so every run sees the same org.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Versions in release order: mostly patch bumps, some minor, few major.
fn version_history(rng: &mut Rng) -> Vec<(u64, u64, u64)> {
    let mut v = (0, 1, 0);
    let mut out = vec![v];
    while out.len() < VERSIONS {
        v = match rng.below(20) {
            0 => (v.0 + 1, 0, 0),
            1..=5 => (v.0, v.1 + 1, 0),
            _ => (v.0, v.1, v.2 + 1),
        };
        out.push(v);
    }
    out
}

fn constraint(rng: &mut Rng, target: (u64, u64, u64)) -> String {
    let (a, b, c) = target;
    match rng.below(100) {
        0..=64 => format!(">= {a}.{b}.{c}"),
        65..=89 => format!("~> {a}.{b}"),
        90..=96 => format!("~> {a}.{b}.{c}"),
        _ => format!("= {a}.{b}.{c}"),
    }
}

fn universe(rng: &mut Rng) -> Universe {
    let histories: Vec<Vec<(u64, u64, u64)>> =
        (0..COOKBOOKS).map(|_| version_history(rng)).collect();
    let mut u = Universe::new();
    for i in 0..COOKBOOKS {
        // A cookbook's dependency set is stable across its versions, skewed towards
        // the low-numbered "library" cookbooks that everything uses.
        let fan_out = if i == 0 { 0 } else { rng.below(6) };
        let mut base: Vec<usize> = Vec::new();
        for _ in 0..fan_out {
            let r = (rng.next() % 10_000) as f64 / 10_000.0;
            let j = ((i as f64) * r * r) as usize;
            if !base.contains(&j) {
                base.push(j);
            }
        }
        let cands = (0..VERSIONS)
            .map(|k| {
                let mut deps = Vec::new();
                for &j in &base {
                    if rng.chance(5) {
                        continue;
                    }
                    // Cookbooks release in step, so version k names what the dependency
                    // had released around then, lagging by up to two releases.
                    let t = k.saturating_sub(rng.below(3));
                    let c = constraint(rng, histories[j][t]);
                    deps.push((format!("cb{j:04}"), c));
                }
                let (a, b, c) = histories[i][k];
                Candidate {
                    version: format!("{a}.{b}.{c}"),
                    dependencies: deps,
                }
            })
            .collect();
        u.insert(format!("cb{i:04}"), cands);
    }
    u
}

/// FNV-1a, folded over every answer in turn.
fn fold(hash: &mut u64, bytes: &[u8]) {
    for &b in bytes {
        *hash = (*hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let idx = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[idx]
}

fn main() {
    let mut rng = Rng(0x00b1_9ade);
    let u = universe(&mut rng);
    let n = solves();
    let mut times = Vec::with_capacity(n);
    let mut outcomes: HashMap<&str, usize> = HashMap::new();
    let mut picked = 0;
    let mut fingerprint = 0xcbf2_9ce4_8422_2325;
    for _ in 0..n {
        let run_list: Vec<(String, Option<String>)> = (0..RUN_LIST)
            .map(|_| {
                (
                    format!("cb{:04}", COOKBOOKS / 2 + rng.below(COOKBOOKS / 2)),
                    None,
                )
            })
            .collect();
        let req = Request {
            universe: &u,
            run_list,
            environment: HashMap::new(),
            timeout: Duration::from_secs(2),
        };
        let start = Instant::now();
        let result = solve(&req);
        times.push(start.elapsed());
        let kind = match result {
            Ok(m) => {
                picked += m.len();
                for (name, version) in &m {
                    fold(&mut fingerprint, format!("{name}={version};").as_bytes());
                }
                "solved"
            }
            Err(SolveError::Timeout) => "timeout",
            Err(_) => "no solution",
        };
        fold(&mut fingerprint, kind.as_bytes());
        *outcomes.entry(kind).or_default() += 1;
    }
    let mut sorted = times.clone();
    sorted.sort();
    println!(
        "depsolver: {n} solves, {COOKBOOKS} cookbooks x {VERSIONS} versions, run lists of {RUN_LIST}"
    );
    println!(
        "  p50 {:?}  p99 {:?}  max {:?}",
        percentile(&sorted, 0.50),
        percentile(&sorted, 0.99),
        sorted[sorted.len() - 1]
    );
    let mut kinds: Vec<_> = outcomes.into_iter().collect();
    kinds.sort();
    println!(
        "  outcomes {kinds:?}; {picked} cookbooks chosen in total; fingerprint {fingerprint:016x}"
    );
}
