//! Version constraints as dep-selector evaluates them: `= > >= < <= ~>` over `x.y.z`
//! triples, where `~> x.y` pins the major only and `~> x.y.z` pins major and minor.

use std::fmt;

use crate::model::version;

/// A cookbook version, missing components 0 (`1.0` ≡ `1.0.0`).
pub type Version = (u64, u64, u64);

/// Prints a version the way dep-selector does in its messages (always three parts).
pub fn show(v: Version) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
    /// `~>`; `two_part` is true when the text had exactly two components, which widens
    /// the match to every later minor of the same major.
    Pessimistic {
        two_part: bool,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Constraint {
    pub op: Op,
    pub version: Version,
}

impl Constraint {
    /// What a run-list item without `@version` means.
    pub const ANY: Constraint = Constraint {
        op: Op::Ge,
        version: (0, 0, 0),
    };

    /// `"<op> <version>"` with one space, or a bare version meaning `=`.
    pub fn parse(text: &str) -> Option<Constraint> {
        let (op, raw) = match text.split_once(' ') {
            None => ("=", text),
            Some(parts) => parts,
        };
        let version = version::parse(raw)?;
        let op = match op {
            "=" => Op::Eq,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            "<" => Op::Lt,
            "<=" => Op::Le,
            "~>" => Op::Pessimistic {
                two_part: raw.split('.').count() == 2,
            },
            _ => return None,
        };
        Some(Constraint { op, version })
    }

    /// `cb@1.2` in a run list: exactly that version.
    pub fn exactly(version: Version) -> Constraint {
        Constraint {
            op: Op::Eq,
            version,
        }
    }

    pub fn matches(&self, v: Version) -> bool {
        let c = self.version;
        match self.op {
            Op::Eq => v == c,
            Op::Gt => v > c,
            Op::Ge => v >= c,
            Op::Lt => v < c,
            Op::Le => v <= c,
            Op::Pessimistic { two_part: true } => v.0 == c.0 && v.1 >= c.1,
            Op::Pessimistic { two_part: false } => v.0 == c.0 && v.1 == c.1 && v.2 >= c.2,
        }
    }
}

impl fmt::Display for Constraint {
    /// `>= 1.0.0`: dep-selector normalises the version, so `~> 2.1` prints `~> 2.1.0`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = match self.op {
            Op::Eq => "=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Pessimistic { .. } => "~>",
        };
        write!(f, "{op} {}", show(self.version))
    }
}
