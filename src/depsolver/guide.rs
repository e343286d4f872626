//! The optimum, computed on the clause form before the search runs, and the oracle
//! that then guides the search: "can a solution agreeing with these choices still
//! reach the optimum?". With an exact answer at every node, the branch and bound walks
//! straight to its first best leaf (the one it would have returned given unlimited
//! time), so the tie-breaks stay those of the search itself.
//!
//! The optimum is found by tightening: solve, count the cookbooks below their newest,
//! ask for fewer, until the answer is no, first for the run list and then, with the
//! run list's count held, for the rest. Each model usually improves on the last by
//! several, and the learnt clauses carry over, so this takes a handful of calls.

use std::time::Instant;

use super::encode::Encoding;
use super::problem::Problem;
use super::sat::{Answer, Lit};

/// A choice on the search path, as the oracle sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Choice {
    At(usize, u32),
    /// Below its newest version, or unused.
    NotNewest(usize),
}

pub struct Guide {
    enc: Encoding,
    /// Assumptions holding the score at the optimum.
    target: Vec<Lit>,
    /// Run-list cookbooks and others at their newest in the optimum.
    pub best: (i64, i64),
    /// A solution reaching the optimum: each cookbook's version index, if used.
    witness: Vec<Option<u32>>,
    tops: Vec<Option<u32>>,
}

pub enum Optimum {
    Found(Box<Guide>),
    Infeasible,
    TimedOut,
}

/// The optimum with every run-list item imposed, scoring run-list cookbooks first
/// and then the other reachable ones, as the search does.
pub fn optimise(p: &Problem, deadline: Instant) -> Optimum {
    let mut enc = Encoding::new(p, p.roots.len());
    let mut is_root = vec![false; p.pkgs.len()];
    for r in &p.roots {
        is_root[r.pkg] = true;
    }
    let tops: Vec<Option<u32>> = p.pkgs.iter().map(|k| k.top()).collect();
    // Cookbooks that could be at their newest, by group: run list first.
    let groups: [Vec<usize>; 2] = [true, false].map(|root| {
        (0..p.pkgs.len())
            .filter(|&k| is_root[k] == root && tops[k].is_some())
            .collect()
    });
    match enc.sat.solve(&[], deadline) {
        Answer::Sat => {}
        Answer::Unsat => return Optimum::Infeasible,
        Answer::Unknown => return Optimum::TimedOut,
    }
    let snapshot =
        |enc: &Encoding| -> Vec<Option<u32>> { (0..p.pkgs.len()).map(|k| enc.chosen(k)).collect() };
    let mut witness = snapshot(&enc);
    let mut target = Vec::new();
    let mut missed = [0, 0];
    for (g, group) in groups.iter().enumerate() {
        let misses = |w: &[Option<u32>]| group.iter().filter(|&&k| w[k] != tops[k]).count();
        let lits: Vec<Lit> = group
            .iter()
            .filter_map(|&k| enc.newest(k))
            .map(|l| !l)
            .collect();
        let mut best = misses(&witness);
        let outs = enc.at_most(&lits, best + 1);
        while best > 0 {
            let mut ask = target.clone();
            ask.push(!outs[best - 1]);
            match enc.sat.solve(&ask, deadline) {
                Answer::Sat => {
                    witness = snapshot(&enc);
                    best = misses(&witness);
                }
                Answer::Unsat => break,
                Answer::Unknown => return Optimum::TimedOut,
            }
        }
        if best < outs.len() {
            target.push(!outs[best]);
        }
        missed[g] = best as i64;
    }
    Optimum::Found(Box::new(Guide {
        best: (
            groups[0].len() as i64 - missed[0],
            groups[1].len() as i64 - missed[1],
        ),
        enc,
        target,
        witness,
        tops,
    }))
}

impl Guide {
    /// Whether the last solution found has `k` at its newest version.
    pub fn has_newest(&self, k: usize) -> bool {
        self.witness[k].is_some() && self.witness[k] == self.tops[k]
    }

    /// Whether the last solution found agrees with `c`.
    pub fn agrees(&self, c: Choice) -> bool {
        match c {
            Choice::At(k, v) => self.witness[k] == Some(v),
            Choice::NotNewest(k) => self.witness[k].is_none() || self.witness[k] != self.tops[k],
        }
    }

    /// Some solution agreeing with every choice reaches the optimum; it becomes the
    /// witness. `None` when the clock ran out.
    pub fn reachable(&mut self, path: &[Choice], deadline: Instant) -> Option<bool> {
        let mut ask = self.target.clone();
        for &c in path {
            match c {
                Choice::At(k, v) => self.enc.assume_at(k, v, &mut ask),
                Choice::NotNewest(k) => ask.extend(self.enc.newest(k).map(|l| !l)),
            }
        }
        match self.enc.sat.solve(&ask, deadline) {
            Answer::Sat => {
                for (k, w) in self.witness.iter_mut().enumerate() {
                    *w = self.enc.chosen(k);
                }
                Some(true)
            }
            Answer::Unsat => Some(false),
            Answer::Unknown => None,
        }
    }
}
