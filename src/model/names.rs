//! Name rules (erchef's `chef_regex`): what each kind of object may be called.

use std::sync::OnceLock;

use regex::Regex;

fn re(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid name regex"))
}

/// Users: lowercase letters, digits, `_` and `-`.
pub fn is_user_name(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[a-z0-9\-_]+$").is_match(s)
}

/// Organizations: `[a-z0-9][a-z0-9_-]{0,254}`.
pub fn is_org_name(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[a-z0-9][a-z0-9_-]{0,254}$").is_match(s)
}

/// Organization full names: a non-space first character, at most 1023 characters.
pub fn is_org_full_name(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^\S.{0,1022}$").is_match(s)
}

/// Keys, nodes, roles, data bags and items: letters, digits, `_`, `:`, `.` and `-`.
pub fn is_key_name(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[.a-zA-Z0-9_:\-]+$").is_match(s)
}

/// A permissive RFC 5322-style address check (erchef's is case-insensitive, so is this).
pub fn is_email(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(
        &R,
        r"(?i)^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]*[a-z0-9])?$",
    )
    .is_match(s)
}

/// Cookbooks, environments and recipe components: letters, digits, `_`, `.` and `-`.
pub fn is_cookbook_name(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[.a-zA-Z0-9_\-]+$").is_match(s)
}

/// Policy names and groups: like keys, at most 255 characters.
pub fn is_policy_name(s: &str) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    re(&R, r"^[.a-zA-Z0-9_:\-]{1,255}$").is_match(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(is_user_name("pivotal"));
        assert!(is_user_name("a-b_c9"));
        assert!(!is_user_name("Bob"));
        assert!(!is_user_name("a.b"));
        assert!(!is_user_name(""));
        assert!(is_org_name("acme"));
        assert!(is_org_name("0rg_x-y"));
        assert!(!is_org_name("-acme"));
        assert!(!is_org_name("Acme"));
        assert!(!is_org_name(&"a".repeat(256)));
        assert!(is_org_full_name("Acme, Inc."));
        assert!(!is_org_full_name(" leading"));
        assert!(!is_org_full_name(""));
        assert!(is_key_name("default"));
        assert!(is_key_name("key.v2:a-b"));
        assert!(!is_key_name("a b"));
        assert!(is_email("Bob.Smith@Example.COM"));
        assert!(!is_email("bob@"));
        assert!(!is_email("no-at-sign"));
    }
}
