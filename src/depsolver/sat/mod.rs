//! A small conflict-driven clause-learning SAT solver: two watched literals, first-UIP
//! learning, activity-ordered decisions with phase saving, Luby restarts, and solving
//! under assumptions so one instance answers many related questions while keeping
//! what it learnt. The branch and bound alone cannot prove its optimum on realistic
//! universes (conflicts between run-list cookbooks surface several choices deep), and
//! learnt clauses are what makes those proofs short.

mod order;

use std::time::Instant;

use order::Order;

/// `var * 2 + negated`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Lit(u32);

impl Lit {
    pub fn pos(var: u32) -> Lit {
        Lit(var << 1)
    }

    pub fn var(self) -> usize {
        (self.0 >> 1) as usize
    }

    fn idx(self) -> usize {
        self.0 as usize
    }

    fn neg(self) -> bool {
        self.0 & 1 == 1
    }
}

impl std::ops::Not for Lit {
    type Output = Lit;
    fn not(self) -> Lit {
        Lit(self.0 ^ 1)
    }
}

const UNDEF: u8 = 2;

/// A watching clause, with one of its other literals: when that one is true the
/// clause is satisfied and need not be read.
#[derive(Clone, Copy)]
struct Watch {
    clause: u32,
    blocker: Lit,
}

fn value_of(value: &[u8], l: Lit) -> u8 {
    let v = value[l.var()];
    if v == UNDEF {
        UNDEF
    } else {
        v ^ u8::from(l.neg())
    }
}
const NO_REASON: u32 = u32::MAX;

pub enum Answer {
    Sat,
    Unsat,
    /// The deadline passed first.
    Unknown,
}

#[derive(Default)]
pub struct Solver {
    /// Every clause's literals back to back, and where each clause starts (its end
    /// is the next one's start).
    arena: Vec<Lit>,
    starts: Vec<u32>,
    /// Per literal: clauses in which its negation is watched, i.e. to visit when it
    /// becomes true.
    watches: Vec<Vec<Watch>>,
    value: Vec<u8>,
    level: Vec<u32>,
    reason: Vec<u32>,
    trail: Vec<Lit>,
    trail_lim: Vec<usize>,
    qhead: usize,
    order: Order,
    phase: Vec<bool>,
    seen: Vec<bool>,
    /// Unsatisfiable without any assumption.
    broken: bool,
    /// Reused by `add`, which runs once per clause.
    scratch: Vec<Lit>,
}

impl Solver {
    pub fn new_var(&mut self, prefer: bool) -> Lit {
        let v = self.value.len() as u32;
        self.value.push(UNDEF);
        self.level.push(0);
        self.reason.push(NO_REASON);
        self.phase.push(prefer);
        self.seen.push(false);
        self.watches.push(Vec::new());
        self.watches.push(Vec::new());
        self.order.add(v);
        Lit::pos(v)
    }

    /// Raises a variable's initial priority in the decision order (before any
    /// conflict has bumped activities).
    pub fn prioritise(&mut self, l: Lit, weight: f64) {
        self.order.raise(l.var(), weight);
    }

    fn lit_value(&self, l: Lit) -> u8 {
        value_of(&self.value, l)
    }

    fn clause(&self, ci: u32) -> &[Lit] {
        let start = self.starts[ci as usize] as usize;
        let end = self
            .starts
            .get(ci as usize + 1)
            .map_or(self.arena.len(), |&e| e as usize);
        &self.arena[start..end]
    }

    /// The model's value after `Answer::Sat`.
    pub fn model(&self, l: Lit) -> bool {
        self.phase[l.var()] != l.neg()
    }

    /// Adds a clause at decision level 0.
    pub fn add(&mut self, lits: &[Lit]) {
        if self.broken {
            return;
        }
        let mut c = std::mem::take(&mut self.scratch);
        c.clear();
        let mut satisfied = false;
        for &l in lits {
            match self.lit_value(l) {
                1 => satisfied = true,
                0 => {}
                _ if c.contains(&!l) => satisfied = true,
                _ if !c.contains(&l) => c.push(l),
                _ => {}
            }
        }
        if !satisfied {
            match c.len() {
                0 => self.broken = true,
                1 => {
                    self.enqueue(c[0], NO_REASON);
                    if self.propagate() != NO_REASON {
                        self.broken = true;
                    }
                }
                _ => {
                    self.attach(&c);
                }
            }
        }
        self.scratch = c;
    }

    fn attach(&mut self, c: &[Lit]) -> u32 {
        let clause = self.starts.len() as u32;
        self.watches[(!c[0]).idx()].push(Watch {
            clause,
            blocker: c[1],
        });
        self.watches[(!c[1]).idx()].push(Watch {
            clause,
            blocker: c[0],
        });
        self.starts.push(self.arena.len() as u32);
        self.arena.extend_from_slice(c);
        clause
    }

    fn enqueue(&mut self, l: Lit, reason: u32) {
        let v = l.var();
        self.value[v] = u8::from(!l.neg());
        self.level[v] = self.trail_lim.len() as u32;
        self.reason[v] = reason;
        self.trail.push(l);
    }

    /// Unit propagation; the conflicting clause, or `NO_REASON`.
    fn propagate(&mut self) -> u32 {
        let mut conflict = NO_REASON;
        while self.qhead < self.trail.len() && conflict == NO_REASON {
            let p = self.trail[self.qhead];
            self.qhead += 1;
            let false_lit = !p;
            let mut ws = std::mem::take(&mut self.watches[p.idx()]);
            let (mut i, mut j) = (0, 0);
            while i < ws.len() {
                let w = ws[i];
                i += 1;
                let bv = value_of(&self.value, w.blocker);
                if bv == 1 {
                    ws[j] = w;
                    j += 1;
                    continue;
                }
                let ci = w.clause as usize;
                let start = self.starts[ci] as usize;
                let end = self
                    .starts
                    .get(ci + 1)
                    .map_or(self.arena.len(), |&e| e as usize);
                if end - start == 2 {
                    // The blocker is the other literal.
                    ws[j] = w;
                    j += 1;
                    if bv == 0 {
                        conflict = w.clause;
                        break;
                    }
                    self.enqueue(w.blocker, w.clause);
                    continue;
                }
                let c = &mut self.arena[start..end];
                if c[0] == false_lit {
                    c.swap(0, 1);
                }
                let first = c[0];
                let kept = Watch {
                    clause: w.clause,
                    blocker: first,
                };
                if first != w.blocker && value_of(&self.value, first) == 1 {
                    ws[j] = kept;
                    j += 1;
                    continue;
                }
                let mut moved = false;
                for k in 2..c.len() {
                    if value_of(&self.value, c[k]) != 0 {
                        c.swap(1, k);
                        self.watches[(!c[1]).idx()].push(kept);
                        moved = true;
                        break;
                    }
                }
                if moved {
                    continue;
                }
                ws[j] = kept;
                j += 1;
                if value_of(&self.value, first) == 0 {
                    conflict = w.clause;
                    break;
                }
                self.enqueue(first, w.clause);
            }
            // Keep the watches not visited after a conflict.
            while i < ws.len() {
                ws[j] = ws[i];
                i += 1;
                j += 1;
            }
            ws.truncate(j);
            let added = std::mem::replace(&mut self.watches[p.idx()], ws);
            self.watches[p.idx()].extend(added);
        }
        conflict
    }

    /// First-UIP learnt clause (asserting literal first) and the level to go back to.
    fn analyze(&mut self, mut confl: u32) -> (Vec<Lit>, usize) {
        let mut learnt = vec![Lit(0)];
        let mut pending = 0;
        let mut idx = self.trail.len();
        let cur = self.trail_lim.len() as u32;
        let mut p: Option<Lit> = None;
        loop {
            // A reason clause holds the literal it implied: skip that one.
            let implied = p.map(Lit::var);
            for k in 0..self.clause(confl).len() {
                let q = self.clause(confl)[k];
                let v = q.var();
                if Some(v) != implied && !self.seen[v] && self.level[v] > 0 {
                    self.seen[v] = true;
                    self.order.bump(v);
                    if self.level[v] >= cur {
                        pending += 1;
                    } else {
                        learnt.push(q);
                    }
                }
            }
            loop {
                idx -= 1;
                if self.seen[self.trail[idx].var()] {
                    break;
                }
            }
            let l = self.trail[idx];
            self.seen[l.var()] = false;
            pending -= 1;
            if pending == 0 {
                learnt[0] = !l;
                break;
            }
            p = Some(l);
            confl = self.reason[l.var()];
        }
        for l in &learnt[1..] {
            self.seen[l.var()] = false;
        }
        let mut back = 0;
        if learnt.len() > 1 {
            let mut best = 1;
            for k in 2..learnt.len() {
                if self.level[learnt[k].var()] > self.level[learnt[best].var()] {
                    best = k;
                }
            }
            learnt.swap(1, best);
            back = self.level[learnt[1].var()] as usize;
        }
        (learnt, back)
    }

    fn cancel_until(&mut self, lvl: usize) {
        if self.trail_lim.len() <= lvl {
            return;
        }
        let stop = self.trail_lim[lvl];
        for k in (stop..self.trail.len()).rev() {
            let l = self.trail[k];
            let v = l.var();
            self.phase[v] = !l.neg();
            self.value[v] = UNDEF;
            self.reason[v] = NO_REASON;
            self.order.restore(v as u32);
        }
        self.trail.truncate(stop);
        self.trail_lim.truncate(lvl);
        self.qhead = stop;
    }

    /// Searches for an assignment making every assumption true. The model (see
    /// `model`) holds after `Sat`; the solver is back at level 0 either way.
    pub fn solve(&mut self, assumptions: &[Lit], deadline: Instant) -> Answer {
        if self.broken {
            return Answer::Unsat;
        }
        let mut conflicts: u64 = 0;
        let mut restart = 1u64;
        let mut budget = luby(restart) * 64;
        loop {
            let confl = self.propagate();
            if confl != NO_REASON {
                conflicts += 1;
                if self.trail_lim.is_empty() {
                    self.broken = true;
                    return Answer::Unsat;
                }
                let (learnt, back) = self.analyze(confl);
                self.cancel_until(back);
                if learnt.len() == 1 {
                    self.enqueue(learnt[0], NO_REASON);
                } else {
                    let first = learnt[0];
                    let ci = self.attach(&learnt);
                    self.enqueue(first, ci);
                }
                self.order.decay();
                if conflicts.is_multiple_of(128) && Instant::now() >= deadline {
                    self.cancel_until(0);
                    return Answer::Unknown;
                }
                continue;
            }
            if conflicts >= budget {
                restart += 1;
                budget = conflicts + luby(restart) * 64;
                self.cancel_until(0);
            }
            let lvl = self.trail_lim.len();
            if lvl < assumptions.len() {
                let a = assumptions[lvl];
                match self.lit_value(a) {
                    1 => self.trail_lim.push(self.trail.len()),
                    0 => {
                        self.cancel_until(0);
                        return Answer::Unsat;
                    }
                    _ => {
                        self.trail_lim.push(self.trail.len());
                        self.enqueue(a, NO_REASON);
                    }
                }
                continue;
            }
            let Some(v) = self.pick() else {
                // Every variable is set: remember the model in the phases.
                for &l in &self.trail {
                    self.phase[l.var()] = !l.neg();
                }
                self.cancel_until(0);
                return Answer::Sat;
            };
            self.trail_lim.push(self.trail.len());
            let l = if self.phase[v] {
                Lit::pos(v as u32)
            } else {
                !Lit::pos(v as u32)
            };
            self.enqueue(l, NO_REASON);
        }
    }

    fn pick(&mut self) -> Option<usize> {
        while let Some(v) = self.order.pop() {
            if self.value[v as usize] == UNDEF {
                return Some(v as usize);
            }
        }
        None
    }
}

/// The Luby restart sequence 1 1 2 1 1 2 4 …, 1-based.
fn luby(mut i: u64) -> u64 {
    loop {
        let mut k = 1;
        while (1u64 << k) - 1 < i {
            k += 1;
        }
        if (1u64 << k) - 1 == i {
            return 1 << (k - 1);
        }
        i -= (1u64 << (k - 1)) - 1;
    }
}
