//! A small conflict-driven clause-learning SAT solver: two watched literals, first-UIP
//! learning, activity-ordered decisions with phase saving, Luby restarts, and solving
//! under assumptions so one instance answers many related questions while keeping
//! what it learnt. The branch and bound alone cannot prove its optimum on realistic
//! universes (conflicts between run-list cookbooks surface several choices deep), and
//! learnt clauses are what makes those proofs short.

use std::time::Instant;

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
const NO_REASON: u32 = u32::MAX;

pub enum Answer {
    Sat,
    Unsat,
    /// The deadline passed first.
    Unknown,
}

#[derive(Default)]
pub struct Solver {
    clauses: Vec<Vec<Lit>>,
    /// Per literal: clauses in which its negation is watched, i.e. to visit when it
    /// becomes true.
    watches: Vec<Vec<u32>>,
    value: Vec<u8>,
    level: Vec<u32>,
    reason: Vec<u32>,
    trail: Vec<Lit>,
    trail_lim: Vec<usize>,
    qhead: usize,
    activity: Vec<f64>,
    var_inc: f64,
    /// Max-heap of variables by activity, and each variable's place in it.
    heap: Vec<u32>,
    heap_pos: Vec<u32>,
    phase: Vec<bool>,
    seen: Vec<bool>,
    /// Unsatisfiable without any assumption.
    broken: bool,
}

impl Solver {
    pub fn new_var(&mut self, prefer: bool) -> Lit {
        let v = self.value.len() as u32;
        self.value.push(UNDEF);
        self.level.push(0);
        self.reason.push(NO_REASON);
        self.activity.push(0.0);
        self.phase.push(prefer);
        self.seen.push(false);
        self.watches.push(Vec::new());
        self.watches.push(Vec::new());
        self.heap_pos.push(u32::MAX);
        self.heap_insert(v);
        if self.var_inc == 0.0 {
            self.var_inc = 1.0;
        }
        Lit::pos(v)
    }

    fn lit_value(&self, l: Lit) -> u8 {
        let v = self.value[l.var()];
        if v == UNDEF {
            UNDEF
        } else {
            v ^ u8::from(l.neg())
        }
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
        let mut c: Vec<Lit> = Vec::with_capacity(lits.len());
        for &l in lits {
            match self.lit_value(l) {
                1 => return,
                0 => {}
                _ if c.contains(&!l) => return,
                _ if !c.contains(&l) => c.push(l),
                _ => {}
            }
        }
        match c.len() {
            0 => self.broken = true,
            1 => {
                self.enqueue(c[0], NO_REASON);
                if self.propagate() != NO_REASON {
                    self.broken = true;
                }
            }
            _ => {
                self.attach(c);
            }
        }
    }

    fn attach(&mut self, c: Vec<Lit>) -> u32 {
        let ci = self.clauses.len() as u32;
        self.watches[(!c[0]).idx()].push(ci);
        self.watches[(!c[1]).idx()].push(ci);
        self.clauses.push(c);
        ci
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
        while self.qhead < self.trail.len() {
            let p = self.trail[self.qhead];
            self.qhead += 1;
            let false_lit = !p;
            let mut ws = std::mem::take(&mut self.watches[p.idx()]);
            let mut i = 0;
            let mut conflict = NO_REASON;
            while i < ws.len() {
                let ci = ws[i] as usize;
                let c = &mut self.clauses[ci];
                if c[0] == false_lit {
                    c.swap(0, 1);
                }
                let first = c[0];
                if self.value[first.var()] != UNDEF
                    && self.value[first.var()] ^ u8::from(first.neg()) == 1
                {
                    i += 1;
                    continue;
                }
                let mut moved = false;
                for k in 2..c.len() {
                    let l = c[k];
                    let lv = self.value[l.var()];
                    if lv == UNDEF || lv ^ u8::from(l.neg()) == 1 {
                        c.swap(1, k);
                        let w = !c[1];
                        self.watches[w.idx()].push(ci as u32);
                        ws.swap_remove(i);
                        moved = true;
                        break;
                    }
                }
                if moved {
                    continue;
                }
                if self.lit_value(first) == 0 {
                    conflict = ci as u32;
                    break;
                }
                self.enqueue(first, ci as u32);
                i += 1;
            }
            // Put back what was taken, keeping anything added meanwhile.
            let added = std::mem::replace(&mut self.watches[p.idx()], ws);
            self.watches[p.idx()].extend(added);
            if conflict != NO_REASON {
                return conflict;
            }
        }
        NO_REASON
    }

    /// First-UIP learnt clause (asserting literal first) and the level to go back to.
    fn analyze(&mut self, mut confl: u32) -> (Vec<Lit>, usize) {
        let mut learnt = vec![Lit(0)];
        let mut pending = 0;
        let mut idx = self.trail.len();
        let cur = self.trail_lim.len() as u32;
        let mut p: Option<Lit> = None;
        loop {
            let start = usize::from(p.is_some());
            for k in start..self.clauses[confl as usize].len() {
                let q = self.clauses[confl as usize][k];
                let v = q.var();
                if !self.seen[v] && self.level[v] > 0 {
                    self.seen[v] = true;
                    self.bump(v);
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
            if self.heap_pos[v] == u32::MAX {
                self.heap_insert(v as u32);
            }
        }
        self.trail.truncate(stop);
        self.trail_lim.truncate(lvl);
        self.qhead = stop;
    }

    fn bump(&mut self, v: usize) {
        self.activity[v] += self.var_inc;
        if self.activity[v] > 1e100 {
            for a in &mut self.activity {
                *a *= 1e-100;
            }
            self.var_inc *= 1e-100;
        }
        let pos = self.heap_pos[v];
        if pos != u32::MAX {
            self.sift_up(pos as usize);
        }
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
                    let ci = self.attach(learnt);
                    self.enqueue(first, ci);
                }
                self.var_inc *= 1.0 / 0.95;
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
        while let Some(v) = self.heap_pop() {
            if self.value[v as usize] == UNDEF {
                return Some(v as usize);
            }
        }
        None
    }

    fn heap_insert(&mut self, v: u32) {
        self.heap_pos[v as usize] = self.heap.len() as u32;
        self.heap.push(v);
        self.sift_up(self.heap.len() - 1);
    }

    fn heap_pop(&mut self) -> Option<u32> {
        let top = *self.heap.first()?;
        let last = self.heap.pop().unwrap();
        self.heap_pos[top as usize] = u32::MAX;
        if !self.heap.is_empty() {
            self.heap[0] = last;
            self.heap_pos[last as usize] = 0;
            self.sift_down(0);
        }
        Some(top)
    }

    fn sift_up(&mut self, mut i: usize) {
        let v = self.heap[i];
        while i > 0 {
            let parent = (i - 1) / 2;
            let pv = self.heap[parent];
            if self.activity[pv as usize] >= self.activity[v as usize] {
                break;
            }
            self.heap[i] = pv;
            self.heap_pos[pv as usize] = i as u32;
            i = parent;
        }
        self.heap[i] = v;
        self.heap_pos[v as usize] = i as u32;
    }

    fn sift_down(&mut self, mut i: usize) {
        let v = self.heap[i];
        let n = self.heap.len();
        loop {
            let mut child = 2 * i + 1;
            if child >= n {
                break;
            }
            if child + 1 < n
                && self.activity[self.heap[child + 1] as usize]
                    > self.activity[self.heap[child] as usize]
            {
                child += 1;
            }
            let cv = self.heap[child];
            if self.activity[cv as usize] <= self.activity[v as usize] {
                break;
            }
            self.heap[i] = cv;
            self.heap_pos[cv as usize] = i as u32;
            i = child;
        }
        self.heap[i] = v;
        self.heap_pos[v as usize] = i as u32;
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
