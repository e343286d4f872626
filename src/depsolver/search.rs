//! Branch and bound over the reachable cookbooks, after dep-selector's Gecode model.
//!
//! Every reachable cookbook gets a version or stays unused; a chosen version's
//! dependencies must hold. The score, compared lexicographically and maximised, is
//! `[-required disabled, -induced disabled, -suspicious disabled, run-list cookbooks at
//! their newest allowed version, other reachable cookbooks at theirs]`. "Disabled" (a
//! cookbook whose constraints are all waived) is only allowed in the relaxed mode used to
//! explain failures, as dep-selector does; counting *every* reachable cookbook, not just
//! the returned closure, is also dep-selector's. Values are tried newest first and
//! cookbooks in the order they become needed, so ties resolve deterministically.

use std::time::Instant;

use super::problem::{Problem, Range};

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
    /// Score only the run-list cookbooks, and decide only what is needed: the first
    /// phase of the lexicographic objective.
    pub roots_only: bool,
    /// Only solutions scoring above this count (the first phase's result).
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
    let n = p.pkgs.len();
    let mut e = Engine {
        p,
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

    fn clear_may(&mut self, q: usize) {
        if self.may[q] {
            self.may[q] = false;
            self.may_count[usize::from(!self.is_root[q])] -= 1;
            self.trail.push(Undo::May(q));
        }
    }

    /// Imposes "q must be within `r`" (or disabled). False on a dead end.
    fn require(&mut self, q: usize, r: Range) -> bool {
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
    fn common_deps(&mut self, p: usize) -> bool {
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

    fn assign(&mut self, q: usize, v: u32) -> bool {
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

    fn disable(&mut self, q: usize) {
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

    fn enqueue(&mut self, q: usize) {
        if !self.s.allow_disable && !self.queued[q] {
            self.queued[q] = true;
            self.queue.push(q);
        }
    }

    /// Version `v` of `p` can still be chosen: each dependency still has a candidate.
    fn supported(&self, p: usize, v: u32) -> bool {
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
    fn revise(&mut self, p: usize) -> bool {
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
    fn propagate(&mut self) -> bool {
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

    fn clear_queue(&mut self) {
        for q in self.queue.drain(..) {
            self.queued[q] = false;
        }
    }

    fn undo(&mut self, mark: usize) {
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
        self.ticks += 1;
        if self.ticks.is_multiple_of(512) && Instant::now() >= self.s.deadline {
            self.timed_out = true;
        }
        self.timed_out
    }

    /// Shaving: a free run-list cookbook whose newest version fails propagation on its
    /// own loses that version here, which tightens the most significant bound.
    fn probe_roots(&mut self) -> bool {
        if self.s.allow_disable {
            return true;
        }
        for ri in 0..self.s.roots {
            let r = self.p.roots[ri].pkg;
            if self.slot[r] != Slot::Free || !self.may[r] {
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

    fn search(&mut self, cursor: usize, opt_cursor: usize) {
        if self.stop() || !self.promising() {
            return;
        }
        let mark = self.trail.len();
        if !self.probe_roots() || !self.promising() {
            self.undo(mark);
            return;
        }
        self.branch(cursor, opt_cursor);
        self.undo(mark);
    }

    fn branch(&mut self, cursor: usize, opt_cursor: usize) {
        let mut c = cursor;
        while c < self.needed_list.len() && self.slot[self.needed_list[c]] != Slot::Free {
            c += 1;
        }
        if c < self.needed_list.len() {
            // Fail first: the needed cookbook with the fewest candidates left.
            let mut q = self.needed_list[c];
            for &k in &self.needed_list[c + 1..] {
                if self.slot[k] == Slot::Free
                    && self.hi[k].wrapping_sub(self.lo[k]) < self.hi[q].wrapping_sub(self.lo[q])
                {
                    q = k;
                }
            }
            let mark = self.trail.len();
            if self.lo[q] <= self.hi[q] {
                for v in (self.lo[q]..=self.hi[q]).rev() {
                    if !self.s.allow_disable && !self.supported(q, v) {
                        continue;
                    }
                    if self.assign(q, v) && self.propagate() {
                        self.search(c, opt_cursor);
                    }
                    self.undo(mark);
                    if self.stop() {
                        return;
                    }
                }
            }
            if self.s.allow_disable {
                self.disable(q);
                self.search(c, opt_cursor);
                self.undo(mark);
            }
            return;
        }
        let mut o = if self.s.roots_only {
            self.slot.len()
        } else {
            opt_cursor
        };
        while o < self.slot.len() && !(self.slot[o] == Slot::Free && self.may[o]) {
            o += 1;
        }
        if o < self.slot.len() {
            let top = self.hi[o];
            let mark = self.trail.len();
            if self.assign(o, top) && self.propagate() {
                self.search(c, o + 1);
            }
            self.undo(mark);
            // Not at its newest: it stays unused unless something comes to need it.
            self.trail.push(Undo::Hi(o, top));
            if top == 0 {
                self.trail.push(Undo::Lo(o, self.lo[o]));
                self.lo[o] = 1;
            } else {
                self.hi[o] = top - 1;
            }
            self.clear_may(o);
            self.enqueue(o);
            if self.propagate() {
                self.search(c, o + 1);
            }
            self.undo(mark);
            return;
        }
        let score = self.score();
        if self.best.as_ref().is_none_or(|(b, _)| score > *b) {
            self.best = Some((score, self.slot.clone()));
        }
    }
}
