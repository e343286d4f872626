//! What gets indexed: each object type's indexed view (facts §A.8.3) and its flattening
//! into `key__=__value` tokens (§A.8.4), as erchef's `chef_index_expand` does.

use std::collections::BTreeSet;

use serde_json::{Map, Number, Value};

/// Joins key and value in every token, as erchef does.
pub const SEP: &str = "__=__";

/// A node's indexed view: `default` ← `normal` ← `override` ← `automatic` deep-merged
/// (later wins), then the top-level keys erchef sets.
pub fn node_view(node: &Value) -> Value {
    let empty = Value::Object(Map::new());
    let layer = |k: &str| node.get(k).cloned().unwrap_or_else(|| empty.clone());
    let mut merged = layer("default");
    for k in ["normal", "override", "automatic"] {
        merged = deep_merge(merged, layer(k));
    }
    let mut out = match merged {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let run_list: Vec<Value> = node
        .get("run_list")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let inside = |prefix: &str| -> Vec<Value> {
        run_list
            .iter()
            .filter_map(Value::as_str)
            .filter_map(|i| i.strip_prefix(prefix)?.strip_suffix(']'))
            .map(|s| Value::String(s.to_string()))
            .collect()
    };
    let top = [
        ("name", node.get("name").cloned().unwrap_or(Value::Null)),
        ("chef_type", Value::String("node".into())),
        (
            "chef_environment",
            node.get("chef_environment")
                .cloned()
                .unwrap_or_else(|| Value::String("_default".into())),
        ),
        ("recipe", Value::Array(inside("recipe["))),
        ("role", Value::Array(inside("role["))),
        ("run_list", Value::Array(run_list.clone())),
    ];
    for (k, v) in top {
        out.insert(k.into(), v);
    }
    for k in ["policy_name", "policy_group"] {
        match node.get(k) {
            Some(v) if !v.is_null() => {
                out.insert(k.into(), v.clone());
            }
            _ => {}
        }
    }
    Value::Object(out)
}

/// erchef's deep merge: objects merge key by key, anything else is replaced.
pub fn deep_merge(base: Value, over: Value) -> Value {
    match (base, over) {
        (Value::Object(mut b), Value::Object(o)) => {
            for (k, v) in o {
                let merged = match b.remove(&k) {
                    Some(old) => deep_merge(old, v),
                    None => v,
                };
                b.insert(k, merged);
            }
            Value::Object(b)
        }
        (_, over) => over,
    }
}

/// A role's indexed view: its `_default` environment run list is left out.
pub fn role_view(role: &Value) -> Value {
    let mut r = role.clone();
    if let Some(obj) = r.as_object_mut() {
        let mut envs = obj
            .get("env_run_lists")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        envs.remove("_default");
        obj.insert("env_run_lists".into(), Value::Object(envs));
    }
    r
}

/// A data bag item's indexed view: the raw item plus `chef_type` and `data_bag`.
pub fn item_view(item: &Value, bag: &str) -> Value {
    let mut m = item.as_object().cloned().unwrap_or_default();
    m.insert("chef_type".into(), Value::String("data_bag_item".into()));
    m.insert("data_bag".into(), Value::String(bag.into()));
    Value::Object(m)
}

/// The meta fields erchef prepends before flattening (so they are searchable too).
pub fn with_meta(view: Value, id: &str, org_id: &str, type_name: &str) -> Value {
    let mut m = Map::new();
    m.insert("X_CHEF_id_CHEF_X".into(), Value::String(id.into()));
    m.insert(
        "X_CHEF_database_CHEF_X".into(),
        Value::String(format!("chef_{org_id}")),
    );
    m.insert("X_CHEF_type_CHEF_X".into(), Value::String(type_name.into()));
    if let Value::Object(rest) = view {
        for (k, v) in rest {
            m.insert(k, v);
        }
    }
    Value::Object(m)
}

/// The document's distinct tokens `key__=__value`, sorted. For a leaf reached by keys
/// `k1 … kn`: `k1_…_kn__=__v`, and also `kn__=__v` when n > 1; every object key is a
/// value of its parent's path; arrays repeat their path; `null` is the empty value.
pub fn expand(doc: &Value) -> BTreeSet<String> {
    tokens(doc).into_iter().collect()
}

/// `expand` as a sorted vector (cheaper to build: no tree of strings).
pub fn tokens(doc: &Value) -> Vec<String> {
    let mut out = Vec::new();
    walk(doc, &mut String::new(), "", 0, &mut out);
    out.sort_unstable();
    out.dedup();
    out
}

/// The tokens joined with spaces: the text the engine analyses with a whitespace
/// tokenizer (so a value with spaces becomes several tokens).
pub fn content(doc: &Value) -> String {
    let tokens = tokens(doc);
    let mut s = String::with_capacity(tokens.iter().map(|t| t.len() + 1).sum());
    for t in tokens {
        if !s.is_empty() {
            s.push(' ');
        }
        s.push_str(&t);
    }
    s
}

/// Walks `v`, reached by `depth` keys joined with `_` in `joined`, the last being `last`.
fn walk(v: &Value, joined: &mut String, last: &str, depth: usize, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                emit(joined, last, depth, k, out);
                let len = joined.len();
                if depth > 0 {
                    joined.push('_');
                }
                joined.push_str(k);
                walk(child, joined, k, depth + 1, out);
                joined.truncate(len);
            }
        }
        Value::Array(items) => {
            for item in items {
                walk(item, joined, last, depth, out);
            }
        }
        Value::String(s) => emit(joined, last, depth, s, out),
        Value::Number(n) => emit(joined, last, depth, &number(n), out),
        Value::Bool(b) => emit(joined, last, depth, if *b { "true" } else { "false" }, out),
        Value::Null => emit(joined, last, depth, "", out),
    }
}

fn emit(joined: &str, last: &str, depth: usize, value: &str, out: &mut Vec<String>) {
    if depth == 0 {
        return;
    }
    let token = |key: &str| {
        let mut t = String::with_capacity(key.len() + SEP.len() + value.len());
        t.push_str(key);
        t.push_str(SEP);
        t.push_str(value);
        t
    };
    if depth > 1 {
        out.push(token(joined));
    }
    out.push(token(last));
}

/// Integers in decimal; floats in Erlang's short form (`1.5`, `100.0`, `1.0e21`).
fn number(n: &Number) -> String {
    if n.is_i64() || n.is_u64() {
        return n.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    let s = format!("{f:?}");
    match s.split_once('e') {
        Some((m, e)) if !m.contains('.') => format!("{m}.0e{e}"),
        _ => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tokens(v: Value) -> Vec<String> {
        expand(&v).into_iter().collect()
    }

    #[test]
    fn nested_keys_join_and_leaf_keys_stand_alone() {
        assert_eq!(
            tokens(json!({"a": {"b": {"c": 1}}})),
            vec!["a__=__b", "a_b__=__c", "a_b_c__=__1", "b__=__c", "c__=__1"]
        );
        // Top-level keys are not values of anything.
        assert_eq!(tokens(json!({"name": "web1"})), vec!["name__=__web1"]);
    }

    #[test]
    fn object_keys_are_values_of_their_parent() {
        let t = tokens(json!({"languages": {"ruby": {"version": "3.2"}}}));
        assert!(t.contains(&"languages__=__ruby".to_string()));
        assert!(t.contains(&"languages_ruby__=__version".to_string()));
        assert!(t.contains(&"languages_ruby_version__=__3.2".to_string()));
        assert!(t.contains(&"version__=__3.2".to_string()));
        assert!(!t.iter().any(|x| x.starts_with("ruby_version")));
    }

    #[test]
    fn arrays_expand_under_the_same_path() {
        let t = tokens(json!({"tags": ["a", "b"], "ifs": [{"name": "eth0"}, {"name": "lo"}]}));
        for want in [
            "tags__=__a",
            "tags__=__b",
            "ifs__=__name",
            "ifs_name__=__eth0",
            "ifs_name__=__lo",
            "name__=__eth0",
            "name__=__lo",
        ] {
            assert!(t.contains(&want.to_string()), "{want} in {t:?}");
        }
        assert_eq!(
            tokens(json!({"n": [[1], [2, [3]]]})),
            vec!["n__=__1", "n__=__2", "n__=__3"]
        );
    }

    #[test]
    fn scalars_and_duplicates() {
        assert_eq!(
            tokens(
                json!({"i": 42, "f": 1.5, "g": 100.0, "h": 1e21, "t": true, "n": null, "x": false})
            ),
            vec![
                "f__=__1.5",
                "g__=__100.0",
                "h__=__1.0e21",
                "i__=__42",
                "n__=__",
                "t__=__true",
                "x__=__false"
            ]
        );
        assert_eq!(tokens(json!({"a": ["x", "x"]})), vec!["a__=__x"]);
        // Case is kept; spaces stay inside the token until the engine splits them.
        assert_eq!(
            tokens(json!({"d": "Hello World"})),
            vec!["d__=__Hello World"]
        );
        assert_eq!(content(&json!({"a": 1, "b": "x y"})), "a__=__1 b__=__x y");
    }

    #[test]
    fn node_view_merges_precedence_and_adds_run_list_fields() {
        let node = json!({
            "name": "web1", "chef_environment": "prod", "json_class": "Chef::Node",
            "chef_type": "node",
            "default": {"t": {"one": "default", "two": "default", "three": "default", "four": "default"}, "arr": [1, 2]},
            "normal": {"t": {"two": "normal", "three": "normal", "four": "normal"}, "tags": ["x"]},
            "override": {"t": {"three": "override", "four": "override"}, "arr": [3]},
            "automatic": {"t": {"four": "automatic"}, "name": "ignored", "platform": "ubuntu"},
            "run_list": ["recipe[apache2::mod_ssl]", "role[web]", "recipe[base@1.0.0]"],
            "policy_name": null
        });
        let v = node_view(&node);
        assert_eq!(
            v["t"],
            json!({"one": "default", "two": "normal", "three": "override", "four": "automatic"})
        );
        assert_eq!(v["arr"], json!([3]));
        assert_eq!(v["name"], "web1");
        assert_eq!(v["chef_type"], "node");
        assert_eq!(v["chef_environment"], "prod");
        assert_eq!(v["recipe"], json!(["apache2::mod_ssl", "base@1.0.0"]));
        assert_eq!(v["role"], json!(["web"]));
        assert_eq!(v["platform"], "ubuntu");
        assert!(v.get("default").is_none() && v.get("automatic").is_none());
        assert!(v.get("json_class").is_none() && v.get("policy_name").is_none());
        let t = expand(&v);
        assert!(t.contains("recipe__=__apache2::mod_ssl"));
        assert!(t.contains("run_list__=__role[web]"));
        assert!(t.contains("tags__=__x"));
        let with_policy = node_view(&json!({"name": "n", "policy_name": "p", "policy_group": "g"}));
        assert_eq!(with_policy["policy_name"], "p");
        assert_eq!(with_policy["policy_group"], "g");
        assert_eq!(with_policy["chef_environment"], "_default");
    }

    #[test]
    fn role_and_item_views() {
        let r = role_view(
            &json!({"name": "r", "env_run_lists": {"_default": [], "prod": ["recipe[a]"]}}),
        );
        assert_eq!(r["env_run_lists"], json!({"prod": ["recipe[a]"]}));
        let i = item_view(&json!({"id": "alice", "ssh": {"public_key": "k"}}), "users");
        let t = expand(&i);
        assert!(t.contains("ssh_public_key__=__k"));
        assert!(t.contains("data_bag__=__users"));
        assert!(t.contains("chef_type__=__data_bag_item"));
        assert!(!t.iter().any(|x| x.starts_with("raw_data")));
        let m = with_meta(i, "id1", "org1", "data_bag_item");
        let t = expand(&m);
        assert!(t.contains("X_CHEF_database_CHEF_X__=__chef_org1"));
        assert!(t.contains("X_CHEF_type_CHEF_X__=__data_bag_item"));
    }
}
