//! The 412 explanation for a run list with no solution, reproduced from dep-selector:
//! impose run-list items one at a time to find the first that breaks, solve that prefix
//! in the relaxed mode to see which cookbooks had to be disabled, and describe the
//! dependency paths from the run list to the one it blames.

use std::time::Instant;

use super::constraint::{show, Constraint};
use super::error::SolveError;
use super::problem::{label, Problem};
use super::search::{self, Outcome, Settings, Slot};

/// Path enumeration is exponential in the worst case; the message is advisory, so it
/// stops growing after this many steps.
const PATH_BUDGET: usize = 100_000;

pub fn explain(p: &Problem, deadline: Instant) -> SolveError {
    for idx in 0..p.roots.len() {
        let strict = Settings {
            roots: idx + 1,
            allow_disable: false,
            first_only: true,
            roots_only: true,
            floor: None,
            deadline,
        };
        match search::run(p, strict) {
            Outcome::Best(_) => continue,
            Outcome::TimedOut => return SolveError::Timeout,
            Outcome::Infeasible => {}
        }
        let relaxed = Settings {
            roots: idx + 1,
            allow_disable: true,
            first_only: false,
            roots_only: false,
            floor: None,
            deadline,
        };
        return match search::run(p, relaxed) {
            Outcome::Best(slots) => report(p, idx, &slots, deadline),
            Outcome::TimedOut => SolveError::Timeout,
            Outcome::Infeasible => report(p, idx, &[], deadline),
        };
    }
    // Every prefix, the whole run list included, was feasible: only reachable if the
    // first solve gave up early, which the caller reports as a timeout anyway.
    SolveError::Timeout
}

fn report(p: &Problem, idx: usize, slots: &[Slot], deadline: Instant) -> SolveError {
    let disabled: Vec<usize> = (0..slots.len())
        .filter(|&i| slots[i] == Slot::Disabled)
        .collect();
    let (missing, constrained): (Vec<usize>, Vec<usize>) =
        disabled.iter().partition(|&&i| !p.pkgs[i].in_org);
    let blamed = missing.first().or(constrained.first()).copied();
    let unsat = p.roots[idx].label.clone();
    let message = match blamed {
        Some(b) => feedback(p, &unsat, b, deadline),
        None => format!("Unable to satisfy constraints due to solution constraint {unsat}."),
    };
    SolveError::NoSolution {
        message,
        unsatisfiable_run_list_item: unsat,
        non_existent_cookbooks: missing.iter().map(|&i| p.pkgs[i].name.clone()).collect(),
        most_constrained_cookbooks: constrained
            .iter()
            .map(|&i| most_constrained(p, i))
            .collect(),
    }
}

/// `bar = 2.0.0 -> [(foo > 3.0.0)]`: the newest allowed version and its dependencies
/// (erchef prints the package's first version, and versions arrive newest first).
fn most_constrained(p: &Problem, i: usize) -> String {
    let k = &p.pkgs[i];
    let newest = k.versions.last().map(|v| {
        let deps: Vec<String> = v
            .deps
            .iter()
            .map(|d| label(&p.pkgs[d.pkg].name, &d.constraint))
            .collect();
        format!("{} -> [{}]", show(v.version), deps.join(", "))
    });
    format!("{} = {}", k.name, newest.unwrap_or_default())
}

#[derive(Clone, Debug)]
enum Step {
    /// A version on the path: `(foo = 1.2.3)`.
    Ver(usize, u32),
    /// The constraint reaching the blamed cookbook: `(bar > 2.0.0)`.
    Cons(usize, Constraint),
    /// Adjacent paths differing only in this position, merged: `(foo = {1.0.0,2.0.0})`.
    Set(Vec<Step>),
}

impl Step {
    fn pkg(&self) -> usize {
        match self {
            Step::Ver(p, _) | Step::Cons(p, _) => *p,
            Step::Set(s) => s[0].pkg(),
        }
    }

    /// dep-selector's equality: sets never equal a single step.
    fn same(&self, o: &Step) -> bool {
        match (self, o) {
            (Step::Ver(a, x), Step::Ver(b, y)) => a == b && x == y,
            (Step::Cons(a, x), Step::Cons(b, y)) => a == b && x.to_string() == y.to_string(),
            _ => false,
        }
    }

    fn print(&self, p: &Problem) -> String {
        match self {
            Step::Ver(k, v) => format!("({} = {})", p.pkgs[*k].name, version_of(p, *k, *v)),
            Step::Cons(k, c) => label(&p.pkgs[*k].name, c),
            Step::Set(s) => {
                let vs: Vec<String> = s
                    .iter()
                    .map(|e| match e {
                        Step::Ver(k, v) => version_of(p, *k, *v),
                        Step::Cons(_, c) => show(c.version),
                        Step::Set(_) => String::new(),
                    })
                    .collect();
                format!("({} = {{{}}})", p.pkgs[s[0].pkg()].name, vs.join(","))
            }
        }
    }
}

fn version_of(p: &Problem, k: usize, v: u32) -> String {
    show(p.pkgs[k].versions[v as usize].version)
}

fn feedback(p: &Problem, unsat: &str, target: usize, deadline: Instant) -> String {
    let name = &p.pkgs[target].name;
    let mut out = format!("Unable to satisfy constraints on package {name}");
    if p.pkgs[target].versions.is_empty() {
        out.push_str(", which does not exist,");
    }
    out.push_str(&format!(" due to solution constraint {unsat}. "));
    let mut walk = Walk {
        p,
        target,
        path: Vec::new(),
        paths: Vec::new(),
        steps: 0,
        deadline,
    };
    for r in &p.roots {
        walk.visit(r.pkg, r.constraint, (r.range.lo, r.range.hi));
    }
    let printed: Vec<String> = collapse(walk.paths)
        .iter()
        .map(|path| {
            let steps: Vec<String> = path.iter().map(|s| s.print(p)).collect();
            format!("[{}]", steps.join(" -> "))
        })
        .collect();
    out.push_str(&format!(
        "Solution constraints that may result in a constraint on {name}: {}",
        printed.join(", ")
    ));
    out
}

struct Walk<'p> {
    p: &'p Problem,
    target: usize,
    path: Vec<Step>,
    paths: Vec<Vec<Step>>,
    steps: usize,
    deadline: Instant,
}

impl Walk<'_> {
    /// Every path from a run-list item through matching versions (newest first) to a
    /// constraint on the target; cycles are cut where a cookbook repeats on the path.
    fn visit(&mut self, pkg: usize, c: Constraint, (lo, hi): (u32, u32)) {
        self.steps += 1;
        if self.steps > PATH_BUDGET
            || (self.steps.is_multiple_of(1024) && Instant::now() >= self.deadline)
        {
            self.steps = PATH_BUDGET + 1;
            return;
        }
        if pkg == self.target {
            let mut full = self.path.clone();
            full.push(Step::Cons(pkg, c));
            self.paths.push(full);
            return;
        }
        let k = &self.p.pkgs[pkg];
        if k.versions.is_empty() || self.path.iter().any(|s| s.pkg() == pkg) {
            return;
        }
        if lo > hi {
            return;
        }
        for v in (lo..=hi).rev() {
            self.path.push(Step::Ver(pkg, v));
            for d in &k.versions[v as usize].deps {
                self.visit(d.pkg, d.constraint, (d.range.lo, d.range.hi));
            }
            self.path.pop();
        }
    }
}

/// dep-selector's `collapse_adjacent_paths`: a path equal in length to the previous one
/// and differing from it in one position, for the same cookbook, merges into it.
fn collapse(paths: Vec<Vec<Step>>) -> Vec<Vec<Step>> {
    if paths.len() < 2 {
        return paths;
    }
    let mut out: Vec<Vec<Step>> = Vec::new();
    for path in paths {
        let Some(last) = out.last_mut() else {
            out.push(path);
            continue;
        };
        if last.len() != path.len() {
            out.push(path);
            continue;
        }
        let mut merge: Option<(usize, Vec<Step>)> = None;
        let mut mergeable = true;
        for (i, step) in path.iter().enumerate() {
            if step.same(&last[i]) {
                continue;
            }
            if merge.is_some() {
                mergeable = false;
                break;
            }
            let mut set = match &last[i] {
                Step::Set(s) => s.clone(),
                other => vec![other.clone()],
            };
            if set[0].pkg() != step.pkg() {
                mergeable = false;
                break;
            }
            set.push(step.clone());
            merge = Some((i, set));
        }
        match merge {
            Some((i, set)) if mergeable => last[i] = Step::Set(set),
            _ => out.push(path),
        }
    }
    out
}
