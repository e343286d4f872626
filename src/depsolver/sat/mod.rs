//! The clause solver behind the optimum and the guide: batsat, a MiniSat port
//! (conflict-driven clause learning), seen through the four things they ask of it —
//! fresh variables, clauses, solving under assumptions, and the model. Assumptions
//! hold for one call only, so one instance answers many related questions while
//! keeping what it learnt: the branch and bound alone cannot prove its optimum on
//! realistic universes (conflicts between run-list cookbooks surface several choices
//! deep), and learnt clauses are what makes those proofs short. The request's
//! deadline reaches batsat as its stop callback.

use std::time::Instant;

use batsat::{lbool, Callbacks, SolverInterface, SolverOpts};

pub use batsat::Lit;

pub enum Answer {
    Sat,
    Unsat,
    /// The deadline passed first.
    Unknown,
}

/// batsat asks `stop` before each decision.
struct Deadline(Instant);

impl Callbacks for Deadline {
    fn stop(&self) -> bool {
        Instant::now() >= self.0
    }
}

pub struct Solver {
    inner: batsat::Solver<Deadline>,
    /// batsat sorts the clause it is given, so `add` copies into this first.
    scratch: Vec<Lit>,
}

impl Default for Solver {
    fn default() -> Solver {
        Solver {
            inner: batsat::Solver::new(SolverOpts::default(), Deadline(Instant::now())),
            scratch: Vec::new(),
        }
    }
}

impl Solver {
    /// A fresh variable, first decided towards `prefer`, then as it was last set.
    pub fn new_var(&mut self, prefer: bool) -> Lit {
        // batsat decides a new variable false first and saves phases from there (its
        // API leaves this unspecified; `fresh_variables_lean_the_way_they_prefer`
        // checks it): one meant to lean true is handed out negated. Fixing the
        // polarity instead, which the API offers, loses phase saving and is slower.
        let v = self.inner.new_var_default();
        Lit::new(v, !prefer)
    }

    /// Adds a clause; an empty one makes every later `solve` answer `Unsat`.
    pub fn add(&mut self, lits: &[Lit]) {
        self.scratch.clear();
        self.scratch.extend_from_slice(lits);
        self.inner.add_clause_reuse(&mut self.scratch);
    }

    /// Searches for an assignment making every assumption true; the assumptions are
    /// forgotten afterwards, what was learnt is kept. The model (see `model`) holds
    /// after `Sat`.
    pub fn solve(&mut self, assumptions: &[Lit], deadline: Instant) -> Answer {
        self.inner.cb_mut().0 = deadline;
        match self.inner.solve_limited(assumptions) {
            r if r == lbool::TRUE => Answer::Sat,
            r if r == lbool::FALSE => Answer::Unsat,
            _ => Answer::Unknown,
        }
    }

    /// The last model's value of `l`, after `Answer::Sat`.
    pub fn model(&self, l: Lit) -> bool {
        self.inner.value_lit(l) == lbool::TRUE
    }
}
