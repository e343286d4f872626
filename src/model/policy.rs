//! Policyfile revisions (erchef `oc_chef_policy_revision`): the fields a revision must
//! have and their formats. Everything else in the document is stored verbatim.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::{Map, Value};

use super::names::is_policy_name;
use crate::error::{Error, Result};

fn bad(m: impl Into<String>) -> Error {
    Error::bad_request(m)
}

/// Fully qualified recipe items only: `recipe[cookbook::recipe]`.
fn is_policy_run_list_item(v: &Value) -> bool {
    static R: OnceLock<Regex> = OnceLock::new();
    let re = R.get_or_init(|| {
        Regex::new(r"^recipe\[[.a-zA-Z0-9_\-]+::[.a-zA-Z0-9_\-]+\]$").expect("run list regex")
    });
    v.as_str().is_some_and(|s| re.is_match(s))
}

fn is_run_list(v: &Value) -> bool {
    v.as_array()
        .is_some_and(|items| items.iter().all(is_policy_run_list_item))
}

/// Digits separated by dots, one to three parts, of any magnitude (dotted decimal
/// identifiers hold numbers far beyond 64 bits).
fn is_version_like(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    (1..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
}

fn check_lock(lock: &Value) -> Result<()> {
    let Value::Object(lock) = lock else {
        return Err(bad("Field 'cookbook_locks' invalid"));
    };
    match lock.get("identifier") {
        None => return Err(bad("Field 'identifier' missing")),
        Some(Value::String(s)) if is_policy_name(s) => {}
        Some(_) => return Err(bad("Field 'identifier' invalid")),
    }
    match lock.get("version") {
        None => return Err(bad("Field 'version' missing")),
        Some(Value::String(s)) if super::version::parse(s).is_some() => {}
        Some(_) => return Err(bad("Field 'version' invalid")),
    }
    match lock.get("dotted_decimal_identifier") {
        None => Ok(()),
        Some(Value::String(s)) if is_version_like(s) => Ok(()),
        Some(_) => Err(bad(
            "Field 'dotted_decimal_identifier' is not a valid version",
        )),
    }
}

/// Validates a policy revision document for the policy named `url_name`; returns its
/// revision id.
pub fn validate_revision(body: &Map<String, Value>, url_name: &str) -> Result<String> {
    let revision = match body.get("revision_id") {
        None => return Err(bad("Field 'revision_id' missing")),
        Some(Value::String(s)) if is_policy_name(s) => s.clone(),
        Some(_) => return Err(bad("Field 'revision_id' invalid")),
    };
    match body.get("name") {
        None => return Err(bad("Field 'name' missing")),
        Some(Value::String(s)) if !is_policy_name(s) => return Err(bad("Field 'name' invalid")),
        Some(Value::String(s)) if s != url_name => {
            return Err(bad(format!(
                "Field 'name' invalid : {url_name} does not match {s}"
            )))
        }
        Some(Value::String(_)) => {}
        Some(_) => return Err(bad("Field 'name' invalid")),
    }
    match body.get("run_list") {
        None => return Err(bad("Field 'run_list' missing")),
        Some(v) if is_run_list(v) => {}
        Some(_) => return Err(bad("Field 'run_list' is not a valid run list")),
    }
    if let Some(named) = body.get("named_run_lists") {
        let ok = named
            .as_object()
            .is_some_and(|m| m.values().all(is_run_list));
        if !ok {
            return Err(bad("Field 'named_run_lists' is not a valid run list"));
        }
    }
    match body.get("cookbook_locks") {
        None => return Err(bad("Field 'cookbook_locks' missing")),
        Some(Value::Object(locks)) => {
            for lock in locks.values() {
                check_lock(lock)?;
            }
        }
        Some(_) => return Err(bad("Field 'cookbook_locks' invalid")),
    }
    Ok(revision)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn minimal() -> Value {
        json!({
            "revision_id": "909c26701e291510eacdc6c06d626b9fa5350d25",
            "name": "app",
            "run_list": ["recipe[demo::default]"],
            "cookbook_locks": {"demo": {"identifier": "f04cc40f", "version": "1.2.3",
                "dotted_decimal_identifier": "67638399371010690.23642238397896298.25512023620585"}}
        })
    }

    #[test]
    fn accepts_a_minimal_revision() {
        assert_eq!(
            validate_revision(&doc(minimal()), "app").unwrap(),
            "909c26701e291510eacdc6c06d626b9fa5350d25"
        );
    }

    #[test]
    fn refuses_each_malformed_field_with_its_message() {
        let cases: Vec<(&str, Value, &str)> = vec![
            ("revision_id", Value::Null, "Field 'revision_id' missing"),
            ("revision_id", json!("a b"), "Field 'revision_id' invalid"),
            ("name", Value::Null, "Field 'name' missing"),
            (
                "name",
                json!("other"),
                "Field 'name' invalid : app does not match other",
            ),
            ("run_list", Value::Null, "Field 'run_list' missing"),
            (
                "run_list",
                json!({}),
                "Field 'run_list' is not a valid run list",
            ),
            (
                "run_list",
                json!(["recipe[foo]"]),
                "Field 'run_list' is not a valid run list",
            ),
            (
                "run_list",
                json!(["role[foo]"]),
                "Field 'run_list' is not a valid run list",
            ),
            (
                "run_list",
                json!([123]),
                "Field 'run_list' is not a valid run list",
            ),
            (
                "cookbook_locks",
                Value::Null,
                "Field 'cookbook_locks' missing",
            ),
            (
                "cookbook_locks",
                json!([]),
                "Field 'cookbook_locks' invalid",
            ),
            (
                "cookbook_locks",
                json!({"x": []}),
                "Field 'cookbook_locks' invalid",
            ),
            (
                "cookbook_locks",
                json!({"x": {"version": "1.0.0"}}),
                "Field 'identifier' missing",
            ),
            (
                "cookbook_locks",
                json!({"x": {"identifier": "a".repeat(256), "version": "1.0.0"}}),
                "Field 'identifier' invalid",
            ),
            (
                "cookbook_locks",
                json!({"x": {"identifier": "1", "version": "1.0.0", "dotted_decimal_identifier": "foo"}}),
                "Field 'dotted_decimal_identifier' is not a valid version",
            ),
        ];
        for (field, value, msg) in cases {
            let mut d = doc(minimal());
            if value.is_null() {
                d.remove(field);
            } else {
                d.insert(field.into(), value);
            }
            let e = validate_revision(&d, "app").unwrap_err();
            assert_eq!(
                e.infra_body().unwrap(),
                json!({ "error": [msg] }),
                "{field}"
            );
        }
    }
}
