//! The cookbook dependency solver behind `POST /environments/E/cookbook_versions`: a
//! pure function from an org's cookbook universe, a run list and environment pins to
//! the chosen versions, or to the 412 body erchef would send.
//!
//! It reproduces dep-selector (the Gecode solver erchef calls) rather than a
//! newest-first walk: run-list cookbooks missing from the org fail before solving;
//! environment constraints pre-filter versions; among all valid assignments it
//! maximises the run-list cookbooks at their newest allowed version, then every other
//! reachable cookbook at its newest; failures are explained the way dep-selector does.
//! Results list the run-list cookbooks and the transitive closure of their chosen
//! dependencies only.
//!
//! The optimum is computed first (`guide`) on a clause form of the problem (`encode`)
//! by the batsat SAT solver, seen through a thin adapter (`sat`) that also holds it to
//! the request's deadline; then the branch and bound (`search`) is walked to its first
//! leaf reaching it, which fixes the chosen versions and so keeps dep-selector-like
//! tie-breaks.

mod constraint;
mod encode;
mod error;
mod explain;
mod guide;
mod problem;
mod sat;
mod search;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_errors;
#[cfg(test)]
mod tests_guide;
#[cfg(test)]
mod tests_sat;

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

pub use constraint::Constraint;
pub use error::SolveError;
use guide::Optimum;
use problem::Problem;
use search::{Outcome, Settings, Slot};

/// One stored version of a cookbook.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Candidate {
    /// `x.y.z` as stored.
    pub version: String,
    /// `metadata.dependencies` in document order: (cookbook, constraint text).
    pub dependencies: Vec<(String, String)>,
}

/// Every version of every cookbook in the org.
pub type Universe = HashMap<String, Vec<Candidate>>;

pub struct Request<'a> {
    pub universe: &'a Universe,
    /// Run-list cookbooks in order; `Some(v)` for `cb@v` (meaning `= v`). Exact
    /// duplicates are dropped here, keeping the first, as erchef does.
    pub run_list: Vec<(String, Option<String>)>,
    /// The environment's `cookbook_versions`: cookbook → constraint text.
    pub environment: HashMap<String, String>,
    /// erchef's `depsolver_timeout`; the explanation of a failure gets as long again,
    /// as in dep-selector.
    pub timeout: Duration,
}

/// Chosen version (as stored) of each run-list cookbook and of everything it depends on.
pub fn solve(req: &Request) -> Result<BTreeMap<String, String>, SolveError> {
    let deadline = Instant::now() + req.timeout;
    let run_list = dedupe(&req.run_list);
    if run_list.is_empty() {
        return Ok(BTreeMap::new());
    }
    let missing: Vec<String> = run_list
        .iter()
        .filter(|(name, _)| !in_org(req.universe, name))
        .map(|(name, _)| name.clone())
        .collect();
    if !missing.is_empty() {
        return Err(SolveError::NoSuchCookbooks(missing));
    }
    let p = Problem::build(req, &run_list);
    let unmatched: Vec<String> = p
        .roots
        .iter()
        .filter(|r| r.range.is_empty())
        .map(|r| r.label.clone())
        .collect();
    if !unmatched.is_empty() {
        return Err(SolveError::NoVersions(unmatched));
    }
    // The optimum first, on the clause form; then the branch and bound, guided to its
    // first leaf reaching it, picks the versions (and so breaks ties) as it always has.
    let mut guide = match guide::optimise(&p, deadline) {
        Optimum::Found(g) => g,
        Optimum::TimedOut => return Err(SolveError::Timeout),
        Optimum::Infeasible => return Err(explain::explain(&p, Instant::now() + req.timeout)),
    };
    let (roots_at_newest, others_at_newest) = guide.best;
    let settings = Settings {
        roots: p.roots.len(),
        allow_disable: false,
        first_only: false,
        roots_only: false,
        floor: Some([0, 0, 0, roots_at_newest, others_at_newest - 1]),
        deadline,
    };
    match search::run_guided(&p, settings, &mut guide) {
        Outcome::Best(slots) => Ok(closure(&p, &slots)),
        // The guide holds a solution at the optimum, so only the clock stops this.
        Outcome::TimedOut | Outcome::Infeasible => Err(SolveError::Timeout),
    }
}

fn dedupe(items: &[(String, Option<String>)]) -> Vec<(String, Option<String>)> {
    let mut out: Vec<(String, Option<String>)> = Vec::with_capacity(items.len());
    for item in items {
        if !out.contains(item) {
            out.push(item.clone());
        }
    }
    out
}

fn in_org(universe: &Universe, name: &str) -> bool {
    universe.get(name).is_some_and(|cands| {
        cands
            .iter()
            .any(|c| crate::model::version::parse(&c.version).is_some())
    })
}

/// The run-list cookbooks and what their chosen versions pull in, transitively.
fn closure(p: &Problem, slots: &[Slot]) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut seen = vec![false; p.pkgs.len()];
    let mut stack: Vec<usize> = p.roots.iter().rev().map(|r| r.pkg).collect();
    while let Some(k) = stack.pop() {
        if std::mem::replace(&mut seen[k], true) {
            continue;
        }
        if let Slot::At(v) = slots[k] {
            let ver = &p.pkgs[k].versions[v as usize];
            out.insert(p.pkgs[k].name.clone(), ver.stored.clone());
            stack.extend(ver.deps.iter().map(|d| d.pkg));
        }
    }
    out
}
