//! Cookbook version strings (`x`, `x.y`, `x.y.z`) and constraints (`"<op> <version>"` with
//! one space, or a bare version meaning `=`).

/// Parses a version into its three components (missing ones are 0).
pub fn parse(s: &str) -> Option<(u64, u64, u64)> {
    let parts: Vec<&str> = s.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    let mut n = [0u64; 3];
    for (i, p) in parts.iter().enumerate() {
        if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        n[i] = p.parse::<i64>().ok()? as u64;
    }
    Some((n[0], n[1], n[2]))
}

pub const OPERATORS: [&str; 6] = ["=", ">", ">=", "<", "<=", "~>"];

/// Whether `s` is a constraint erchef accepts.
pub fn is_constraint(s: &str) -> bool {
    match s.split_once(' ') {
        Some((op, v)) => OPERATORS.contains(&op) && parse(v).is_some(),
        None => parse(s).is_some(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_constraints() {
        assert_eq!(parse("1"), Some((1, 0, 0)));
        assert_eq!(parse("1.2.3"), Some((1, 2, 3)));
        assert_eq!(parse("1.2.3.4"), None);
        assert_eq!(parse("1.2-rc1"), None);
        assert_eq!(parse(""), None);
        assert!(is_constraint("~> 1.2"));
        assert!(is_constraint("= 1.0.0"));
        assert!(is_constraint("2.0"));
        assert!(!is_constraint("~>1.2"));
        assert!(!is_constraint("~>  1.2"));
        assert!(!is_constraint("=> 1.2"));
    }
}
