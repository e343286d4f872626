//! The solver's view of a request: only the cookbooks reachable from the run list,
//! versions filtered by the environment and sorted so that every constraint is a
//! contiguous index range (dep-selector's "densely packed" versions).

use std::collections::HashMap;

use super::constraint::{Constraint, Version};
use super::Request;
use crate::model::version;

/// An index range `lo..=hi` into a cookbook's sorted versions; empty when `lo > hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Range {
    pub lo: u32,
    pub hi: u32,
}

impl Range {
    pub const EMPTY: Range = Range { lo: 1, hi: 0 };

    pub fn is_empty(self) -> bool {
        self.lo > self.hi
    }
}

pub struct Dep {
    pub pkg: usize,
    pub constraint: Constraint,
    pub range: Range,
}

pub struct Ver {
    pub stored: String,
    pub version: Version,
    pub deps: Vec<Dep>,
}

pub struct Pkg {
    pub name: String,
    /// The org has versions of it, before the environment filter; dep-selector's
    /// `valid_packages`, which separates "does not exist" from "most constrained".
    pub in_org: bool,
    /// Ascending; the last one is the newest allowed version.
    pub versions: Vec<Ver>,
    /// Some dependency on it matches none of its versions (dep-selector's hint for
    /// whom to blame).
    pub suspicious: bool,
}

impl Pkg {
    pub fn top(&self) -> Option<u32> {
        (self.versions.len() as u32).checked_sub(1)
    }
}

/// One run-list entry: a "solution constraint".
pub struct Root {
    pub pkg: usize,
    /// `(foo >= 0.0.0)`, as dep-selector prints it.
    pub label: String,
    pub constraint: Constraint,
    pub range: Range,
}

pub struct Problem {
    /// Packages in dep-selector's discovery order (depth first from each run-list
    /// item over every version, newest first); ties and error reports follow it.
    pub pkgs: Vec<Pkg>,
    pub roots: Vec<Root>,
}

/// `(name constraint)` as dep-selector's `Dependency#to_s` prints it.
pub fn label(name: &str, c: &Constraint) -> String {
    format!("({name} {c})")
}

impl Problem {
    /// `run_list` is already deduplicated and checked for cookbooks missing from the org.
    pub fn build(req: &Request, run_list: &[(String, Option<String>)]) -> Problem {
        let env: HashMap<&str, Constraint> = req
            .environment
            .iter()
            .filter_map(|(k, v)| Some((k.as_str(), Constraint::parse(v)?)))
            .collect();
        let mut b = Builder {
            req,
            env,
            ids: HashMap::new(),
            pkgs: Vec::new(),
            raw: Vec::new(),
        };
        let root_ids: Vec<usize> = run_list.iter().map(|(n, _)| b.intern(n)).collect();
        let mut next = 0;
        while next < b.pkgs.len() {
            b.load(next);
            next += 1;
        }
        let order = discovery_order(&b, &root_ids);
        b.finish(order, run_list, &root_ids)
    }
}

/// A version before its dependencies are resolved to index ranges.
type RawDeps = Vec<Vec<(usize, Constraint)>>;

struct Builder<'a> {
    req: &'a Request<'a>,
    env: HashMap<&'a str, Constraint>,
    ids: HashMap<String, usize>,
    pkgs: Vec<Pkg>,
    raw: Vec<RawDeps>,
}

impl Builder<'_> {
    fn intern(&mut self, name: &str) -> usize {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.pkgs.len();
        self.ids.insert(name.to_string(), id);
        self.pkgs.push(Pkg {
            name: name.to_string(),
            in_org: false,
            versions: Vec::new(),
            suspicious: false,
        });
        self.raw.push(Vec::new());
        id
    }

    /// Reads a cookbook's candidates: environment filter, parse, sort, dedupe.
    fn load(&mut self, id: usize) {
        let name = self.pkgs[id].name.clone();
        let Some(cands) = self.req.universe.get(&name) else {
            return;
        };
        let mut parsed: Vec<(Version, usize)> = cands
            .iter()
            .enumerate()
            .filter_map(|(i, c)| Some((version::parse(&c.version)?, i)))
            .collect();
        self.pkgs[id].in_org = !parsed.is_empty();
        if let Some(c) = self.env.get(name.as_str()) {
            parsed.retain(|(v, _)| c.matches(*v));
        }
        parsed.sort();
        parsed.dedup_by_key(|(v, _)| *v);
        let mut versions = Vec::with_capacity(parsed.len());
        let mut raw = Vec::with_capacity(parsed.len());
        for (v, i) in parsed {
            let cand = &cands[i];
            let deps = cand
                .dependencies
                .iter()
                // erchef validates constraints on upload; anything unreadable that got
                // through is read as "any version" rather than failing the whole solve.
                .map(|(dn, dc)| {
                    (
                        self.intern(dn),
                        Constraint::parse(dc).unwrap_or(Constraint::ANY),
                    )
                })
                .collect();
            raw.push(deps);
            versions.push(Ver {
                stored: cand.version.clone(),
                version: v,
                deps: Vec::new(),
            });
        }
        self.pkgs[id].versions = versions;
        self.raw[id] = raw;
    }

    /// Renumbers packages into discovery order and resolves constraints to ranges.
    fn finish(
        mut self,
        order: Vec<usize>,
        run_list: &[(String, Option<String>)],
        root_ids: &[usize],
    ) -> Problem {
        let mut new_id = vec![usize::MAX; self.pkgs.len()];
        for (n, &old) in order.iter().enumerate() {
            new_id[old] = n;
        }
        let mut slots: Vec<Option<Pkg>> = self.pkgs.drain(..).map(Some).collect();
        let raws = std::mem::take(&mut self.raw);
        let mut pkgs: Vec<Pkg> = order
            .iter()
            .map(|&old| slots[old].take().unwrap())
            .collect();
        let mut suspicious = vec![false; pkgs.len()];
        for (n, &old) in order.iter().enumerate() {
            for (vi, deps) in raws[old].iter().enumerate() {
                let resolved = deps
                    .iter()
                    .map(|&(t, c)| {
                        let pkg = new_id[t];
                        let range = range_of(&pkgs[pkg], &c);
                        suspicious[pkg] |= range.is_empty();
                        Dep {
                            pkg,
                            constraint: c,
                            range,
                        }
                    })
                    .collect();
                pkgs[n].versions[vi].deps = resolved;
            }
        }
        for (p, s) in pkgs.iter_mut().zip(suspicious) {
            p.suspicious = s;
        }
        let roots = run_list
            .iter()
            .zip(root_ids)
            .map(|((name, pin), &old)| {
                let pkg = new_id[old];
                let parsed = match pin {
                    None => Some(Constraint::ANY),
                    Some(v) => version::parse(v).map(Constraint::exactly),
                };
                match parsed {
                    Some(c) => Root {
                        pkg,
                        label: label(name, &c),
                        constraint: c,
                        range: range_of(&pkgs[pkg], &c),
                    },
                    None => Root {
                        pkg,
                        label: format!("({name} = {})", pin.as_deref().unwrap_or("")),
                        constraint: Constraint::ANY,
                        range: Range::EMPTY,
                    },
                }
            })
            .collect();
        Problem { pkgs, roots }
    }
}

/// The versions of `pkg` matching `c`; contiguous because every operator is an interval.
pub fn range_of(pkg: &Pkg, c: &Constraint) -> Range {
    let first = pkg.versions.iter().position(|v| c.matches(v.version));
    match first {
        None => Range::EMPTY,
        Some(lo) => {
            let hi = pkg
                .versions
                .iter()
                .rposition(|v| c.matches(v.version))
                .unwrap();
            Range {
                lo: lo as u32,
                hi: hi as u32,
            }
        }
    }
}

/// Depth-first preorder from each run-list item over every version (newest first) and
/// each dependency in metadata order, as dep-selector's `trim_unreachable_packages`.
fn discovery_order(b: &Builder, roots: &[usize]) -> Vec<usize> {
    let mut seen = vec![false; b.pkgs.len()];
    let mut order = Vec::with_capacity(b.pkgs.len());
    let mut stack: Vec<(usize, usize, usize)> = Vec::new();
    for &r in roots {
        if seen[r] {
            continue;
        }
        seen[r] = true;
        order.push(r);
        stack.push((r, 0, 0));
        while let Some(top) = stack.last_mut() {
            let (p, vi, di) = *top;
            let raw = &b.raw[p];
            if vi >= raw.len() {
                stack.pop();
                continue;
            }
            let deps = &raw[raw.len() - 1 - vi];
            if di >= deps.len() {
                *top = (p, vi + 1, 0);
                continue;
            }
            top.2 += 1;
            let q = deps[di].0;
            if !seen[q] {
                seen[q] = true;
                order.push(q);
                stack.push((q, 0, 0));
            }
        }
    }
    order
}
