//! Branch and bound over the reachable cookbooks, after dep-selector's Gecode model.
//!
//! Every reachable cookbook gets a version or stays unused; a chosen version's
//! dependencies must hold. The score, compared lexicographically and maximised, is
//! `[-required disabled, -induced disabled, -suspicious disabled, run-list cookbooks at
//! their newest allowed version, other reachable cookbooks at theirs]`. "Disabled" (a
//! cookbook whose constraints are all waived) is only allowed in the relaxed mode used to
//! explain failures, as dep-selector does; counting *every* reachable cookbook, not just
//! the returned closure, is also dep-selector's. Values are tried newest first and
//! cookbooks in the order they become needed, so ties resolve deterministically: the
//! answer is the first leaf of this tree with the best score.
//!
//! Proving a score optimal by bounds alone can take this search far longer than any
//! timeout, so a request is solved guided (`run_guided`): the optimum is known
//! beforehand (see `guide`), and every branch is asked whether it can still reach it.
//! The tree and its order are unchanged, so the first best leaf is the same one.

mod branch;
mod propagate;

use std::time::Instant;

use super::guide::{Choice, Guide};
use super::problem::Problem;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Undecided; unused when the search ends with it undecided.
    Free,
    At(u32),
    Disabled,
}

#[derive(Clone)]
pub struct Settings {
    /// How many run-list items (a prefix) are imposed.
    pub roots: usize,
    /// Relaxed mode: cookbooks may be disabled at a cost.
    pub allow_disable: bool,
    /// Stop at the first solution: a feasibility check.
    pub first_only: bool,
    /// Score only the run-list cookbooks, and decide only what is needed (the
    /// explanation's feasibility checks).
    pub roots_only: bool,
    /// Only solutions scoring above this (guided: just below the known optimum).
    pub floor: Option<Score>,
    pub deadline: Instant,
}

pub enum Outcome {
    Best(Vec<Slot>),
    Infeasible,
    TimedOut,
}

pub type Score = [i64; 5];

enum Undo {
    Slot(usize, Slot),
    Lo(usize, u32),
    Hi(usize, u32),
    Needed,
    May(usize),
    Disabled(usize),
}

struct Engine<'p> {
    p: &'p Problem,
    /// The oracle that prunes every branch that cannot reach the optimum.
    guide: Option<&'p mut Guide>,
    /// Choices from the root to the current node, for the guide.
    path: Vec<Choice>,
    /// The guide's witness agrees with `path[..agreed]`.
    agreed: usize,
    s: Settings,
    slot: Vec<Slot>,
    lo: Vec<u32>,
    hi: Vec<u32>,
    needed: Vec<bool>,
    needed_list: Vec<usize>,
    is_root: Vec<bool>,
    /// Could still end at its newest version.
    may: Vec<bool>,
    may_count: [i64; 2],
    /// Disabled counts: required, induced, suspicious.
    disabled: [i64; 3],
    /// `(p, q)`: p at its newest version rules out q at its newest.
    clashes: Vec<(usize, usize)>,
    /// Scratch marks for `promising`, valid when equal to `stamp`.
    used: Vec<u32>,
    stamp: u32,
    trail: Vec<Undo>,
    best: Option<(Score, Vec<Slot>)>,
    ticks: u32,
    timed_out: bool,
    /// Who has a version depending on each cookbook: revisited when its domain shrinks.
    rdeps: Vec<Vec<usize>>,
    /// Cookbooks whose domain changed since the last propagation (never trailed).
    queue: Vec<usize>,
    queued: Vec<bool>,
}

fn reverse_deps(p: &Problem) -> Vec<Vec<usize>> {
    let mut r: Vec<Vec<usize>> = vec![Vec::new(); p.pkgs.len()];
    for (i, k) in p.pkgs.iter().enumerate() {
        for v in &k.versions {
            for d in &v.deps {
                if r[d.pkg].last() != Some(&i) {
                    r[d.pkg].push(i);
                }
            }
        }
    }
    r
}

pub fn run(p: &Problem, s: Settings) -> Outcome {
    run_with(p, s, None)
}

/// The search with `guide` pruning it: `s.floor` should be just below the guide's
/// optimum, so that the first leaf reaching it ends the search.
pub fn run_guided<'p>(p: &'p Problem, s: Settings, guide: &'p mut Guide) -> Outcome {
    run_with(p, s, Some(guide))
}

fn run_with<'p>(p: &'p Problem, s: Settings, guide: Option<&'p mut Guide>) -> Outcome {
    let n = p.pkgs.len();
    let mut e = Engine {
        p,
        guide,
        path: Vec::new(),
        agreed: 0,
        slot: vec![Slot::Free; n],
        lo: vec![0; n],
        hi: p.pkgs.iter().map(|k| k.top().unwrap_or(0)).collect(),
        needed: vec![false; n],
        needed_list: Vec::new(),
        is_root: vec![false; n],
        may: vec![false; n],
        may_count: [0; 2],
        disabled: [0; 3],
        clashes: Vec::new(),
        used: vec![0; n],
        stamp: 0,
        trail: Vec::new(),
        best: None,
        ticks: 0,
        timed_out: false,
        rdeps: reverse_deps(p),
        queue: Vec::new(),
        queued: vec![false; n],
        s,
    };
    if !e.init() {
        return Outcome::Infeasible;
    }
    e.best = e.s.floor.map(|f| (f, Vec::new()));
    e.search(0, 0);
    if e.timed_out {
        return Outcome::TimedOut;
    }
    match e.best {
        Some((_, slots)) if !slots.is_empty() => Outcome::Best(slots),
        _ => Outcome::Infeasible,
    }
}

impl Engine<'_> {
    fn dead(&self, pkg: usize, v: u32) -> bool {
        self.p.pkgs[pkg].versions[v as usize]
            .deps
            .iter()
            .any(|d| d.range.is_empty())
    }

    fn init(&mut self) -> bool {
        for (i, k) in self.p.pkgs.iter().enumerate() {
            if k.versions.is_empty() {
                self.lo[i] = 1;
                continue;
            }
            let top = k.top().unwrap();
            // A newest version that can never be chosen means never "at latest".
            if self.s.allow_disable || !self.dead(i, top) {
                self.may[i] = true;
            }
        }
        for r in &self.p.roots[..self.s.roots] {
            self.is_root[r.pkg] = true;
        }
        for (i, &m) in self.may.iter().enumerate() {
            if m {
                self.may_count[usize::from(!self.is_root[i])] += 1;
            }
        }
        for (i, k) in self.p.pkgs.iter().enumerate() {
            if !self.may[i] {
                continue;
            }
            for d in &k.versions.last().unwrap().deps {
                let q = &self.p.pkgs[d.pkg];
                if let Some(qt) = q.top() {
                    if d.pkg != i && !(d.range.lo..=d.range.hi).contains(&qt) {
                        self.clashes.push((i, d.pkg));
                    }
                }
            }
        }
        for ri in 0..self.s.roots {
            let r = &self.p.roots[ri];
            if !self.require(r.pkg, r.range) {
                return false;
            }
        }
        if !self.s.allow_disable {
            for i in 0..self.slot.len() {
                if !self.revise(i) {
                    return false;
                }
                self.enqueue(i);
            }
        }
        let ok = self.propagate();
        self.trail.clear();
        ok
    }

    fn score(&self) -> Score {
        let d = self.disabled;
        let others = if self.s.roots_only {
            0
        } else {
            self.may_count[1]
        };
        [-d[0], -d[1], -d[2], self.may_count[0], others]
    }

    /// The score can still beat the best one: clashing pairs that are both still
    /// possible cost at least one each, counted over a greedy set of disjoint pairs.
    fn promising(&mut self) -> bool {
        let Some((best, _)) = &self.best else {
            return true;
        };
        let best = *best;
        let mut ub = self.score();
        if ub <= best {
            return false;
        }
        self.stamp = self.stamp.wrapping_add(1);
        let g = self.stamp;
        for &(a, b) in &self.clashes {
            let both_roots = self.is_root[a] && self.is_root[b];
            if self.s.roots_only && !both_roots {
                continue;
            }
            if self.may[a] && self.may[b] && self.used[a] != g && self.used[b] != g {
                self.used[a] = g;
                self.used[b] = g;
                // Charged to the less significant group when either is outside the run
                // list, so the bound stays an upper bound.
                if !self.is_root[a] || !self.is_root[b] {
                    ub[4] -= 1;
                } else {
                    ub[3] -= 1;
                }
                if ub <= best {
                    return false;
                }
            }
        }
        true
    }

    fn stop(&mut self) -> bool {
        if self.timed_out || (self.s.first_only && self.best.is_some()) {
            return true;
        }
        // Guided, the first leaf above the floor is the optimum.
        if self.guide.is_some() && self.best.as_ref().is_some_and(|(_, s)| !s.is_empty()) {
            return true;
        }
        self.ticks += 1;
        if self.ticks.is_multiple_of(512) && Instant::now() >= self.s.deadline {
            self.timed_out = true;
        }
        self.timed_out
    }
}
