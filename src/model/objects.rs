//! Nodes, roles and environments (erchef `chef_node`, `chef_role`, `chef_environment`):
//! allowed keys, defaults, validation and normalisation. The result is stored verbatim and
//! returned as stored.

use serde_json::{json, Map, Value};

use super::run_list;
use crate::error::{Error, Result};

/// The kinds of org document this module validates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Node,
    Role,
    Environment,
}

impl Kind {
    pub fn as_str(&self) -> &'static str {
        match self {
            Kind::Node => "node",
            Kind::Role => "role",
            Kind::Environment => "environment",
        }
    }
    fn json_class(&self) -> &'static str {
        match self {
            Kind::Node => "Chef::Node",
            Kind::Role => "Chef::Role",
            Kind::Environment => "Chef::Environment",
        }
    }
    fn allowed(&self) -> &'static [&'static str] {
        match self {
            Kind::Node => &[
                "name",
                "chef_environment",
                "json_class",
                "chef_type",
                "normal",
                "default",
                "override",
                "automatic",
                "run_list",
                "policy_name",
                "policy_group",
            ],
            Kind::Role => &[
                "name",
                "description",
                "json_class",
                "chef_type",
                "default_attributes",
                "override_attributes",
                "run_list",
                "env_run_lists",
            ],
            Kind::Environment => &[
                "name",
                "description",
                "json_class",
                "chef_type",
                "default_attributes",
                "override_attributes",
                "cookbook_versions",
            ],
        }
    }
    fn hashes(&self) -> &'static [&'static str] {
        match self {
            Kind::Node => &["normal", "default", "override", "automatic"],
            Kind::Role | Kind::Environment => &["default_attributes", "override_attributes"],
        }
    }
    /// Capitalised name used in messages ("Node name mismatch.").
    pub fn title(&self) -> &'static str {
        match self {
            Kind::Node => "Node",
            Kind::Role => "Role",
            Kind::Environment => "Environment",
        }
    }
}

fn valid_name(kind: Kind, name: &str) -> bool {
    match kind {
        Kind::Node | Kind::Role => super::names::is_key_name(name),
        Kind::Environment => super::names::is_cookbook_name(name),
    }
}

/// Validates `body` for `kind`; `url_name` is the name in the URL of a PUT (injected when
/// the body has none, and must match otherwise); run lists may have at most
/// `max_run_list` entries (`limits.max_run_list_items`).
pub fn validate(
    kind: Kind,
    mut body: Map<String, Value>,
    url_name: Option<&str>,
    max_run_list: usize,
) -> Result<Map<String, Value>> {
    for k in body.keys() {
        if !kind.allowed().contains(&k.as_str()) {
            return Err(Error::bad_request(format!(
                "Invalid key {k} in request body"
            )));
        }
    }
    match (body.get("name"), url_name) {
        (None, Some(u)) => {
            body.insert("name".into(), Value::String(u.into()));
        }
        (Some(Value::String(n)), Some(u)) if n != u => {
            return Err(Error::bad_request(format!(
                "{} name mismatch.",
                kind.title()
            )));
        }
        (None, None) => return Err(Error::bad_request("Field 'name' missing")),
        _ => {}
    }
    match body.get("name") {
        Some(Value::String(n)) if valid_name(kind, n) => {}
        _ => return Err(Error::bad_request("Field 'name' invalid")),
    }
    let defaults = [
        ("json_class", json!(kind.json_class())),
        ("chef_type", json!(kind.as_str())),
    ];
    for (k, v) in defaults {
        match body.get(k) {
            None => {
                body.insert(k.into(), v);
            }
            Some(given) if *given == v => {}
            Some(_) => return Err(Error::bad_request(format!("Field '{k}' invalid"))),
        }
    }
    for h in kind.hashes() {
        match body.get(*h) {
            None => {
                body.insert(h.to_string(), json!({}));
            }
            Some(Value::Object(_)) => {}
            Some(_) => return Err(Error::bad_request(format!("Field '{h}' is not a hash"))),
        }
    }
    match kind {
        Kind::Node => node_fields(&mut body, max_run_list)?,
        Kind::Role => role_fields(&mut body, max_run_list)?,
        Kind::Environment => environment_fields(&mut body)?,
    }
    Ok(body)
}

fn too_long(field: &str, len: usize, max: usize) -> Error {
    Error::bad_request(format!(
        "Field '{field}' has a run list of {len} entries, more than the {max} allowed"
    ))
}

fn run_list_field(body: &mut Map<String, Value>, max: usize) -> Result<()> {
    let n = match body.get("run_list") {
        None => json!([]),
        Some(rl) => run_list::normalize(rl, max).map_err(|e| match e {
            run_list::Invalid::TooLong(len) => too_long("run_list", len, max),
            run_list::Invalid::Malformed => {
                Error::bad_request("Field 'run_list' is not a valid run list")
            }
        })?,
    };
    body.insert("run_list".into(), n);
    Ok(())
}

fn node_fields(body: &mut Map<String, Value>, max_run_list: usize) -> Result<()> {
    match body.get("chef_environment") {
        None => {
            body.insert("chef_environment".into(), json!("_default"));
        }
        Some(Value::String(e)) if super::names::is_cookbook_name(e) => {}
        Some(_) => return Err(Error::bad_request("Field 'chef_environment' invalid")),
    }
    run_list_field(body, max_run_list)?;
    for f in ["policy_name", "policy_group"] {
        match body.get(f) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if super::names::is_policy_name(s) => {}
            Some(_) => return Err(Error::bad_request(format!("Field '{f}' invalid"))),
        }
    }
    Ok(())
}

fn role_fields(body: &mut Map<String, Value>, max_run_list: usize) -> Result<()> {
    if let Some(d) = body.get("description") {
        if !d.is_string() {
            return Err(Error::bad_request("Field 'description' invalid"));
        }
    }
    run_list_field(body, max_run_list)?;
    let invalid = || Error::bad_request("Field 'env_run_lists' contains invalid run lists");
    let mut out = Map::new();
    match body.get("env_run_lists") {
        None => {}
        Some(Value::Object(m)) => {
            for (env, rl) in m {
                if !super::names::is_cookbook_name(env) {
                    return Err(invalid());
                }
                let n = run_list::normalize(rl, max_run_list).map_err(|e| match e {
                    run_list::Invalid::TooLong(len) => too_long("env_run_lists", len, max_run_list),
                    run_list::Invalid::Malformed => invalid(),
                })?;
                out.insert(env.clone(), n);
            }
        }
        Some(_) => return Err(invalid()),
    }
    body.insert("env_run_lists".into(), Value::Object(out));
    Ok(())
}

fn environment_fields(body: &mut Map<String, Value>) -> Result<()> {
    match body.get("description") {
        None => {
            body.insert("description".into(), json!(""));
        }
        Some(Value::String(_)) => {}
        Some(_) => return Err(Error::bad_request("Field 'description' invalid")),
    }
    match body.get("cookbook_versions") {
        None => {
            body.insert("cookbook_versions".into(), json!({}));
        }
        Some(Value::Object(m)) => {
            for (cb, c) in m {
                let ok = super::names::is_cookbook_name(cb)
                    && c.as_str().is_some_and(super::version::is_constraint);
                if !ok {
                    return Err(Error::bad_request(format!(
                        "Invalid value '{}' for cookbook_versions",
                        c.as_str().unwrap_or(&c.to_string())
                    )));
                }
            }
        }
        Some(_) => {
            return Err(Error::bad_request(
                "Field 'cookbook_versions' is not a hash",
            ))
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MAX: usize = 100;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn node_defaults_and_normalisation() {
        let n = validate(
            Kind::Node,
            obj(json!({"name": "web1", "run_list": ["base", "base"]})),
            None,
            MAX,
        )
        .unwrap();
        assert_eq!(
            Value::Object(n),
            json!({"name": "web1", "json_class": "Chef::Node", "chef_type": "node", "normal": {}, "default": {},
                   "override": {}, "automatic": {}, "chef_environment": "_default", "run_list": ["recipe[base]"]})
        );
    }

    #[test]
    fn node_errors() {
        let cases = [
            (
                json!({"name": "a", "bogus": 1}),
                "Invalid key bogus in request body",
            ),
            (json!({"name": "a b"}), "Field 'name' invalid"),
            (
                json!({"name": "a", "json_class": "Chef::Role"}),
                "Field 'json_class' invalid",
            ),
            (
                json!({"name": "a", "normal": []}),
                "Field 'normal' is not a hash",
            ),
            (
                json!({"name": "a", "run_list": ["bad item!"]}),
                "Field 'run_list' is not a valid run list",
            ),
            (json!({}), "Field 'name' missing"),
        ];
        for (body, msg) in cases {
            let e = validate(Kind::Node, obj(body.clone()), None, MAX).unwrap_err();
            assert_eq!(e.to_string(), format!("bad request: {msg}"), "{body}");
        }
        assert!(validate(Kind::Node, obj(json!({"name": "x"})), Some("y"), MAX).is_err());
        assert_eq!(
            validate(Kind::Node, obj(json!({})), Some("y"), MAX).unwrap()["name"],
            "y"
        );
    }

    #[test]
    fn role_and_environment() {
        let r = validate(
            Kind::Role,
            obj(json!({"name": "web", "env_run_lists": {"prod": ["nginx"]}})),
            None,
            MAX,
        )
        .unwrap();
        assert_eq!(r["env_run_lists"], json!({"prod": ["recipe[nginx]"]}));
        assert!(r.get("description").is_none());
        assert!(validate(
            Kind::Role,
            obj(json!({"name": "web", "env_run_lists": {"prod": "x"}})),
            None,
            MAX
        )
        .is_err());
        let e = validate(
            Kind::Environment,
            obj(json!({"name": "prod", "cookbook_versions": {"apache": "~> 1.2"}})),
            None,
            MAX,
        )
        .unwrap();
        assert_eq!(e["description"], "");
        assert!(validate(
            Kind::Environment,
            obj(json!({"name": "prod", "cookbook_versions": {"apache": "~>1.2"}})),
            None,
            MAX
        )
        .is_err());
        assert!(validate(
            Kind::Environment,
            obj(json!({"name": "prod", "run_list": []})),
            None,
            MAX
        )
        .is_err());
        assert!(validate(Kind::Environment, obj(json!({"name": "a:b"})), None, MAX).is_err());
    }

    #[test]
    fn run_lists_are_capped() {
        let long: Vec<String> = (0..101).map(|i| format!("r{i}")).collect();
        let e = validate(
            Kind::Node,
            obj(json!({"name": "n", "run_list": long})),
            None,
            MAX,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad request: Field 'run_list' has a run list of 101 entries, more than the 100 allowed"
        );
        let e = validate(
            Kind::Role,
            obj(json!({"name": "r", "env_run_lists": {"prod": long}})),
            None,
            MAX,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "bad request: Field 'env_run_lists' has a run list of 101 entries, more than the 100 allowed"
        );
        let ok: Vec<String> = (0..100).map(|i| format!("r{}", i % 50)).collect();
        let n = validate(
            Kind::Node,
            obj(json!({"name": "n", "run_list": ok})),
            None,
            MAX,
        )
        .unwrap();
        assert_eq!(n["run_list"].as_array().unwrap().len(), 50);
    }
}
