//! The depth-first branch and bound: needed cookbooks first (fewest candidates left,
//! then the order they became needed; newest version first), then every other
//! reachable cookbook in discovery order, at its newest or not.

use super::{Choice, Engine, Slot, Undo};

impl Engine<'_> {
    pub(super) fn search(&mut self, cursor: usize, opt_cursor: usize) {
        // The cheap bound first: it spares the guide many questions.
        if self.stop() || !self.promising() || !self.reachable() {
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

    pub(super) fn branch(&mut self, cursor: usize, opt_cursor: usize) {
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
                        self.descend(Choice::At(q, v), c, opt_cursor);
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
                self.descend(Choice::At(o, top), c, o + 1);
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
                self.descend(Choice::NotNewest(o), c, o + 1);
            }
            self.undo(mark);
            return;
        }
        let score = self.score();
        if self.best.as_ref().is_none_or(|(b, _)| score > *b) {
            self.best = Some((score, self.slot.clone()));
        }
    }

    /// Searches below a choice, keeping the path the guide is asked about.
    fn descend(&mut self, choice: Choice, cursor: usize, opt_cursor: usize) {
        if let Some(g) = &self.guide {
            if self.agreed == self.path.len() && g.agrees(choice) {
                self.agreed += 1;
            }
            self.path.push(choice);
        }
        self.search(cursor, opt_cursor);
        if self.guide.is_some() {
            self.path.pop();
            self.agreed = self.agreed.min(self.path.len());
        }
    }

    /// Unguided, always; guided, whether some solution agreeing with the path still
    /// reaches the optimum (free while the guide's witness agrees with it).
    fn reachable(&mut self) -> bool {
        let Some(g) = self.guide.as_deref_mut() else {
            return true;
        };
        if self.agreed == self.path.len() {
            return true;
        }
        match g.reachable(&self.path, self.s.deadline) {
            Some(true) => {
                self.agreed = self.path.len();
                true
            }
            Some(false) => false,
            None => {
                self.timed_out = true;
                false
            }
        }
    }
}
