//! Reads only what partial-search paths can reach in a stored node. A node is tens of
//! kilobytes of attributes and a partial search typically asks for two of them across a
//! thousand rows, so building each whole node (and its merged view) would dominate the
//! answer. The text is still scanned once, but skipped parts are never allocated.

use std::collections::HashSet;
use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

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

/// The node's indexed view (`flatten::node_view`) restricted to the top-level keys in
/// `wanted`; other keys are absent. Falls back to the whole view for text that is not
/// shaped as a node.
pub fn node_view(body: &str, wanted: &HashSet<&str>) -> Option<Value> {
    let mut de = serde_json::Deserializer::from_str(body);
    let pruned = match (Top { wanted }).deserialize(&mut de) {
        Ok(v) => v,
        Err(_) => serde_json::from_str(body).ok()?,
    };
    Some(flatten::node_view(&pruned))
}

struct Top<'a> {
    wanted: &'a HashSet<&'a str>,
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
                let layer = map.next_value_seed(Layer {
                    wanted: self.wanted,
                })?;
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

/// One attribute layer, keeping only the wanted keys.
struct Layer<'a> {
    wanted: &'a HashSet<&'a str>,
}

impl<'de> DeserializeSeed<'de> for Layer<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Layer<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an attribute object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key::<String>()? {
            if self.wanted.contains(key.as_str()) {
                out.insert(key, map.next_value::<Value>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pruned_view_agrees_with_the_whole_view() {
        let node = json!({
            "name": "web1", "chef_environment": "prod", "json_class": "Chef::Node",
            "default": {"a": {"x": 1, "y": 2}, "b": 1}, "normal": {"a": {"y": 3}, "tags": ["t"]},
            "override": {"c": "o"}, "automatic": {"a": {"z": 4}, "ipaddress": "10.0.0.1", "big": {"k": [1, 2, 3]}},
            "run_list": ["role[web]", "recipe[base]"], "policy_name": "p"
        });
        let whole = flatten::node_view(&node);
        let text = node.to_string();
        for keys in [
            vec!["a"],
            vec!["ipaddress", "c"],
            vec!["name", "role", "recipe", "chef_environment", "policy_name"],
            vec!["missing"],
        ] {
            let wanted: HashSet<&str> = keys.iter().copied().collect();
            let pruned = node_view(&text, &wanted).unwrap();
            for k in &keys {
                assert_eq!(pruned.get(*k), whole.get(*k), "{k}");
            }
            assert!(pruned.get("big").is_none());
        }
        // Not shaped as a node (an attribute layer that is not an object): whole view.
        let odd = json!({"name": "n", "default": [1]}).to_string();
        let wanted: HashSet<&str> = ["name"].into_iter().collect();
        assert_eq!(node_view(&odd, &wanted).unwrap()["name"], "n");
        assert!(node_view("not json", &wanted).is_none());
    }
}
