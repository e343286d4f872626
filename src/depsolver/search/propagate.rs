//! Domain bookkeeping for the search: imposing a dependency, choosing or disabling a
//! version, bounds propagation to a fixpoint, shaving run-list cookbooks, and undoing
//! all of it through the trail.

use super::{Engine, Slot, Undo};
use crate::depsolver::problem::Range;

impl Engine<'_> {
    pub(super) fn clear_may(&mut self, q: usize) {
        if self.may[q] {
            self.may[q] = false;
            self.may_count[usize::from(!self.is_root[q])] -= 1;
            self.trail.push(Undo::May(q));
        }
    }

    /// Imposes "q must be within `r`" (or disabled). False on a dead end.
    pub(super) fn require(&mut self, q: usize, r: Range) -> bool {
        match self.slot[q] {
            Slot::Disabled => return true,
            Slot::At(w) => return r.lo <= w && w <= r.hi,
            Slot::Free => {}
        }
        if r.lo > self.lo[q] {
            self.trail.push(Undo::Lo(q, self.lo[q]));
            self.lo[q] = r.lo;
            self.enqueue(q);
        }
        if r.hi < self.hi[q] {
            self.trail.push(Undo::Hi(q, self.hi[q]));
            self.hi[q] = r.hi;
            self.clear_may(q);
            self.enqueue(q);
        }
        if self.lo[q] > self.hi[q] {
            self.clear_may(q);
            if !self.s.allow_disable {
                return false;
            }
        }
        if !self.needed[q] {
            self.needed[q] = true;
            self.needed_list.push(q);
            self.trail.push(Undo::Needed);
            self.enqueue(q);
        }
        true
    }

    /// A dependency every remaining version of a needed cookbook has is needed too,
    /// within the union of their ranges. False on a dead end.
    pub(super) fn common_deps(&mut self, p: usize) -> bool {
        if self.slot[p] != Slot::Free || !self.needed[p] || self.lo[p] > self.hi[p] {
            return true;
        }
        let pk = self.p;
        let versions = &pk.pkgs[p].versions[self.lo[p] as usize..=self.hi[p] as usize];
        let (newest, rest) = versions.split_last().unwrap();
        for d in &newest.deps {
            let mut hull = d.range;
            let common = rest
                .iter()
                .all(|v| match v.deps.iter().find(|e| e.pkg == d.pkg) {
                    Some(e) => {
                        hull.lo = hull.lo.min(e.range.lo);
                        hull.hi = hull.hi.max(e.range.hi);
                        true
                    }
                    None => false,
                });
            if common && !self.require(d.pkg, hull) {
                return false;
            }
        }
        true
    }

    pub(super) fn assign(&mut self, q: usize, v: u32) -> bool {
        self.trail.push(Undo::Slot(q, self.slot[q]));
        self.slot[q] = Slot::At(v);
        self.enqueue(q);
        if Some(v) != self.p.pkgs[q].top() {
            self.clear_may(q);
        }
        let p = self.p;
        p.pkgs[q].versions[v as usize]
            .deps
            .iter()
            .all(|d| self.require(d.pkg, d.range))
    }

    pub(super) fn disable(&mut self, q: usize) {
        self.trail.push(Undo::Slot(q, self.slot[q]));
        self.slot[q] = Slot::Disabled;
        self.clear_may(q);
        let root = self.is_root[q];
        let sus = self.p.pkgs[q].suspicious;
        // dep-selector's weights: a run-list cookbook that is also suspicious counts twice.
        for (group, hit) in [(0, root), (1, !root && !sus), (2, sus)] {
            if hit {
                self.disabled[group] += 1;
                self.trail.push(Undo::Disabled(group));
            }
        }
    }

    pub(super) fn enqueue(&mut self, q: usize) {
        if !self.s.allow_disable && !self.queued[q] {
            self.queued[q] = true;
            self.queue.push(q);
        }
    }

    /// Version `v` of `p` can still be chosen: each dependency still has a candidate.
    pub(super) fn supported(&self, p: usize, v: u32) -> bool {
        self.p.pkgs[p].versions[v as usize]
            .deps
            .iter()
            .all(|d| match self.slot[d.pkg] {
                Slot::Disabled => true,
                Slot::At(w) => d.range.lo <= w && w <= d.range.hi,
                Slot::Free => d.range.lo.max(self.lo[d.pkg]) <= d.range.hi.min(self.hi[d.pkg]),
            })
    }

    /// Drops unsupported versions from both ends of a free cookbook's domain. False
    /// when a needed cookbook is left with none.
    pub(super) fn revise(&mut self, p: usize) -> bool {
        if self.slot[p] != Slot::Free {
            return true;
        }
        let (lo0, hi0) = (self.lo[p], self.hi[p]);
        let (mut lo, mut hi) = (lo0, hi0);
        while lo <= hi && !self.supported(p, hi) {
            if hi == 0 {
                lo = 1;
                break;
            }
            hi -= 1;
        }
        while lo <= hi && !self.supported(p, lo) {
            lo += 1;
        }
        if (lo, hi) == (lo0, hi0) {
            return true;
        }
        self.trail.push(Undo::Lo(p, lo0));
        self.trail.push(Undo::Hi(p, hi0));
        self.lo[p] = lo;
        self.hi[p] = hi;
        if hi < hi0 || lo > hi {
            self.clear_may(p);
        }
        self.enqueue(p);
        !(lo > hi && self.needed[p])
    }

    /// Revises everything that depends on a changed cookbook, to a fixpoint.
    pub(super) fn propagate(&mut self) -> bool {
        while let Some(q) = self.queue.pop() {
            self.queued[q] = false;
            if !self.common_deps(q) {
                self.clear_queue();
                return false;
            }
            for i in 0..self.rdeps[q].len() {
                let p = self.rdeps[q][i];
                if !self.revise(p) {
                    self.clear_queue();
                    return false;
                }
            }
        }
        true
    }

    pub(super) fn clear_queue(&mut self) {
        for q in self.queue.drain(..) {
            self.queued[q] = false;
        }
    }

    pub(super) fn undo(&mut self, mark: usize) {
        self.clear_queue();
        while self.trail.len() > mark {
            match self.trail.pop().unwrap() {
                Undo::Slot(q, s) => self.slot[q] = s,
                Undo::Lo(q, v) => self.lo[q] = v,
                Undo::Hi(q, v) => self.hi[q] = v,
                Undo::Needed => {
                    let q = self.needed_list.pop().unwrap();
                    self.needed[q] = false;
                }
                Undo::May(q) => {
                    self.may[q] = true;
                    self.may_count[usize::from(!self.is_root[q])] += 1;
                }
                Undo::Disabled(i) => self.disabled[i] -= 1,
            }
        }
    }

    /// A solution agreeing with this node has `r` at its newest, so probing that
    /// version could not fail: sound propagation never rules out part of a solution.
    fn witness_newest(&self, r: usize) -> bool {
        self.agreed == self.path.len() && self.guide.as_ref().is_some_and(|g| g.has_newest(r))
    }

    /// Shaving: a free run-list cookbook whose newest version fails propagation on its
    /// own loses that version here, which tightens the most significant bound.
    pub(super) fn probe_roots(&mut self) -> bool {
        if self.s.allow_disable {
            return true;
        }
        for ri in 0..self.s.roots {
            let r = self.p.roots[ri].pkg;
            if self.slot[r] != Slot::Free || !self.may[r] || self.witness_newest(r) {
                continue;
            }
            let top = self.hi[r];
            let mark = self.trail.len();
            let ok = self.assign(r, top) && self.propagate();
            self.undo(mark);
            if !ok {
                self.trail.push(Undo::Hi(r, top));
                if top == 0 {
                    self.trail.push(Undo::Lo(r, self.lo[r]));
                    self.lo[r] = 1;
                } else {
                    self.hi[r] = top - 1;
                }
                self.clear_may(r);
                self.enqueue(r);
                if !self.propagate() || self.lo[r] > self.hi[r] {
                    return false;
                }
            }
        }
        true
    }
}
