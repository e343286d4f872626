//! The solver's problem as clauses, in the order encoding: for each cookbook `p` and
//! version index `i`, `ge(p, i)` means "p is used, at index i or later" (`ge(p, 0)` is
//! "used"). A constraint range is then two literals, and "p at version v" implies each
//! of its dependencies as a clause of three. "At its newest" is `ge(p, top)`.
//!
//! Cardinality ("at most m of these cookbooks below their newest") is a totalizer,
//! truncated at the largest bound ever asked, so that only assumptions change between
//! questions.

use super::problem::{Problem, Range};
use super::sat::{Lit, Solver};

pub struct Encoding {
    pub sat: Solver,
    /// Every cookbook's `ge` ladder back to back; one rung per version, and a lone
    /// "used" for a cookbook without any.
    ladders: Vec<Lit>,
    /// Where each cookbook's ladder starts in `ladders`.
    first: Vec<u32>,
    lens: Vec<u32>,
}

impl Encoding {
    /// Clauses for `p` with the first `roots` run-list items imposed.
    pub fn new(p: &Problem, roots: usize) -> Encoding {
        let mut sat = Solver::default();
        let mut ladders = Vec::new();
        let mut first = Vec::with_capacity(p.pkgs.len());
        let mut lens = Vec::with_capacity(p.pkgs.len());
        for k in &p.pkgs {
            let n = k.versions.len() as u32;
            first.push(ladders.len() as u32);
            lens.push(n);
            // Prefer used and newer: models then lean the way the search does.
            ladders.extend((0..n.max(1)).map(|_| sat.new_var(n > 0)));
        }
        let mut e = Encoding {
            sat,
            ladders,
            first,
            lens,
        };
        for (i, k) in p.pkgs.iter().enumerate() {
            let n = e.lens[i];
            if n == 0 {
                e.sat.add(&[!e.used(i)]);
                continue;
            }
            for r in 1..n {
                e.sat.add(&[!e.ge(i, r), e.ge(i, r - 1)]);
            }
            for (v, ver) in k.versions.iter().enumerate() {
                let at = e.at(i, v as u32);
                for d in &ver.deps {
                    let mut c = at.clone();
                    if d.range.is_empty() || e.lens[d.pkg] == 0 {
                        e.sat.add(&c);
                        continue;
                    }
                    c.push(e.ge(d.pkg, d.range.lo));
                    e.sat.add(&c);
                    if let Some(above) = e.above(d.pkg, d.range) {
                        let mut c = at.clone();
                        c.push(!above);
                        e.sat.add(&c);
                    }
                }
            }
        }
        for r in &p.roots[..roots] {
            if r.range.is_empty() || e.lens[r.pkg] == 0 {
                e.sat.add(&[]);
                continue;
            }
            e.sat.add(&[e.ge(r.pkg, r.range.lo)]);
            if let Some(above) = e.above(r.pkg, r.range) {
                e.sat.add(&[!above]);
            }
        }
        e
    }

    pub fn ge(&self, p: usize, i: u32) -> Lit {
        debug_assert!(i < self.lens[p]);
        self.ladders[(self.first[p] + i) as usize]
    }

    pub fn used(&self, p: usize) -> Lit {
        self.ladders[self.first[p] as usize]
    }

    /// `ge` of the first index past `r`, when there is one.
    fn above(&self, p: usize, r: Range) -> Option<Lit> {
        (r.hi + 1 < self.lens[p]).then(|| self.ge(p, r.hi + 1))
    }

    /// The negation of "p is at v", as the start of a clause.
    fn at(&self, p: usize, v: u32) -> Vec<Lit> {
        let mut c = vec![!self.ge(p, v)];
        if v + 1 < self.lens[p] {
            c.push(self.ge(p, v + 1));
        }
        c
    }

    /// Assumptions for "p is at v".
    pub fn assume_at(&self, p: usize, v: u32, out: &mut Vec<Lit>) {
        out.push(self.ge(p, v));
        if v + 1 < self.lens[p] {
            out.push(!self.ge(p, v + 1));
        }
    }

    /// "p at its newest"; `None` for a cookbook with no versions.
    pub fn newest(&self, p: usize) -> Option<Lit> {
        self.lens[p].checked_sub(1).map(|top| self.ge(p, top))
    }

    /// The version index p has in the last model, if used.
    pub fn chosen(&self, p: usize) -> Option<u32> {
        let n = self.lens[p];
        (0..n).rev().find(|&i| self.sat.model(self.ge(p, i)))
    }

    /// Outputs `o[k]` ("more than k of `lits` are true") for k below `cap`: assuming
    /// `!o[m]` allows at most m of them.
    pub fn at_most(&mut self, lits: &[Lit], cap: usize) -> Vec<Lit> {
        if lits.is_empty() || cap == 0 {
            return Vec::new();
        }
        if lits.len() == 1 {
            return vec![lits[0]];
        }
        let (a, b) = lits.split_at(lits.len() / 2);
        let left = self.at_most(a, cap);
        let right = self.at_most(b, cap);
        let width = (left.len() + right.len()).min(cap);
        let out: Vec<Lit> = (0..width).map(|_| self.sat.new_var(false)).collect();
        // left ≥ i and right ≥ j ⇒ out ≥ i + j (indices count from "≥ 1").
        for i in 0..=left.len() {
            for j in 0..=right.len() {
                if i + j == 0 {
                    continue;
                }
                let k = (i + j).min(width);
                let mut c = vec![out[k - 1]];
                if i > 0 {
                    c.push(!left[i - 1]);
                }
                if j > 0 {
                    c.push(!right[j - 1]);
                }
                self.sat.add(&c);
            }
        }
        out
    }
}
