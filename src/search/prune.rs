//! Reads only what partial-search paths can reach in a stored node. A node is tens of
//! kilobytes of attributes and a partial search typically asks for two of them across a
//! thousand rows, so building each whole node (and its merged view) would dominate the
//! answer. The text is still scanned once, but skipped parts are never allocated.
//!
//! Within each attribute layer only the objects along the requested paths are kept, with
//! the value at each path's end whole. The view's value at a requested path is unchanged:
//! the merge of layers works key by key through objects and lets anything else replace,
//! so it depends only on what lies along the path and under its end.

use std::collections::HashMap;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};

use super::flatten;

/// Top-level node fields the indexed view reads besides the attribute layers.
const FIELDS: [&str; 5] = [
    "name",
    "chef_environment",
    "run_list",
    "policy_name",
    "policy_group",
];
const LAYERS: [&str; 4] = ["default", "normal", "override", "automatic"];

/// The requested paths as a tree of keys.
#[derive(Debug, Default)]
pub struct Paths {
    children: HashMap<String, Paths>,
    /// A path ends here: keep the whole value.
    end: bool,
}

impl Paths {
    pub fn new<'a>(paths: impl IntoIterator<Item = &'a [String]>) -> Paths {
        let mut root = Paths::default();
        for path in paths {
            if path.is_empty() {
                continue;
            }
            let mut node = &mut root;
            for key in path {
                node = node.children.entry(key.clone()).or_default();
            }
            node.end = true;
        }
        root
    }
}

/// The node's indexed view (`flatten::node_view`) with only the `paths` in its
/// attributes. Falls back to the whole view for text that is not shaped as a node.
pub fn node_view(body: &str, paths: &Paths) -> Option<Value> {
    let mut de = serde_json::Deserializer::from_str(body);
    let pruned = match (Top { paths }).deserialize(&mut de) {
        Ok(v) => v,
        Err(_) => serde_json::from_str(body).ok()?,
    };
    Some(flatten::node_view(&pruned))
}

struct Top<'a> {
    paths: &'a Paths,
}

impl<'de> DeserializeSeed<'de> for Top<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Top<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a node object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if LAYERS.contains(&key.as_str()) {
                let layer = map.next_value_seed(Pruned { paths: self.paths })?;
                out.insert(key, layer);
            } else if FIELDS.contains(&key.as_str()) {
                out.insert(key, map.next_value::<Value>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Value::Object(out))
    }
}

/// A value of which objects keep only the keys in `paths` (scalars and arrays whole).
struct Pruned<'a> {
    paths: &'a Paths,
}

impl<'de> DeserializeSeed<'de> for Pruned<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Pruned<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            match self.paths.children.get(&key) {
                Some(p) if p.end => {
                    out.insert(key, map.next_value::<Value>()?);
                }
                Some(p) => {
                    out.insert(key, map.next_value_seed(Pruned { paths: p })?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Value::Object(out))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element::<Value>()? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::rows::extract;
    use serde_json::json;

    fn path(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pruned_view_agrees_with_the_whole_view() {
        let node = json!({
            "name": "web1", "chef_environment": "prod", "json_class": "Chef::Node",
            "default": {"a": {"x": 1, "y": 2}, "b": 1, "s": {"t": "default"}, "q": {"r": 1}},
            "normal": {"a": {"y": 3, "n": [1, {"k": 2}]}, "tags": ["t"], "s": "replaced", "q": null},
            "override": {"c": "o", "f": 1.5},
            "automatic": {"a": {"z": 4}, "ipaddress": "10.0.0.1", "big": {"k": [1, 2, 3]}, "q": {"r": 2}},
            "run_list": ["role[web]", "recipe[base]"], "policy_name": "p"
        });
        let whole = flatten::node_view(&node);
        let text = node.to_string();
        let cases: Vec<Vec<Vec<String>>> = vec![
            vec![path(&["a"])],
            vec![path(&["a", "y"]), path(&["a", "z"]), path(&["a", "n"])],
            vec![path(&["a", "y"]), path(&["a"])],
            vec![path(&["ipaddress"]), path(&["c"]), path(&["f"])],
            vec![
                path(&["s", "t"]),
                path(&["q", "r"]),
                path(&["a", "y", "deeper"]),
            ],
            vec![
                path(&["name"]),
                path(&["role"]),
                path(&["recipe"]),
                path(&["chef_environment"]),
                path(&["policy_name"]),
            ],
            vec![path(&["missing", "x"]), path(&[])],
        ];
        for wanted in cases {
            let tree = Paths::new(wanted.iter().map(Vec::as_slice));
            let pruned = node_view(&text, &tree).unwrap();
            for p in &wanted {
                assert_eq!(extract(&pruned, p), extract(&whole, p), "{p:?}");
            }
            assert!(pruned.get("big").is_none());
        }
        // Not shaped as a node (an attribute layer that is not an object): whole view.
        let odd = json!({"name": "n", "default": [1]}).to_string();
        let tree = Paths::new([path(&["name"]).as_slice()]);
        assert_eq!(node_view(&odd, &tree).unwrap()["name"], "n");
        assert!(node_view("not json", &tree).is_none());
    }
}
