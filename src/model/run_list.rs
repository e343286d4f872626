//! Run lists: `recipe[cb(::r)(@v)]`, `role[name]` or a bare `cb(::r)(@v)`; bare entries
//! become `recipe[...]` and exact duplicates are dropped, keeping the first.

use std::sync::OnceLock;

use regex::Regex;
use serde_json::Value;

fn item_re() -> &'static Regex {
    static R: OnceLock<Regex> = OnceLock::new();
    R.get_or_init(|| {
        Regex::new(r"^(?:recipe\[([.A-Za-z0-9_\-]+(?:::[.A-Za-z0-9_\-]+)?(?:@[0-9]+(?:\.[0-9]+){1,2})?)\]|role\[([.A-Za-z0-9_\-]+)\]|([.A-Za-z0-9_\-]+(?:::[.A-Za-z0-9_\-]+)?(?:@[0-9]+(?:\.[0-9]+){1,2})?))$")
            .expect("run list regex")
    })
}

/// One normalised entry, or `None` when the entry is malformed.
pub fn normalize_item(item: &str) -> Option<String> {
    let c = item_re().captures(item)?;
    if let Some(r) = c.get(1).or(c.get(3)) {
        return Some(format!("recipe[{}]", r.as_str()));
    }
    c.get(2).map(|r| format!("role[{}]", r.as_str()))
}

/// Validates and normalises a run list value; `None` when it is not a valid run list.
pub fn normalize(v: &Value) -> Option<Value> {
    let items = v.as_array()?;
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        let n = Value::String(normalize_item(item.as_str()?)?);
        if !out.contains(&n) {
            out.push(n);
        }
    }
    Some(Value::Array(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn normalises_and_dedupes() {
        let v = json!([
            "base",
            "recipe[base]",
            "role[web]",
            "apache2::mod_ssl@1.2.3",
            "recipe[base::default]"
        ]);
        assert_eq!(
            normalize(&v).unwrap(),
            json!([
                "recipe[base]",
                "role[web]",
                "recipe[apache2::mod_ssl@1.2.3]",
                "recipe[base::default]"
            ])
        );
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            json!(["recipe[]"]),
            json!(["role[a:b]"]),
            json!([1]),
            json!("recipe[x]"),
            json!(["foo bar"]),
            json!(["x@1"]),
        ] {
            assert!(normalize(&bad).is_none(), "{bad}");
        }
        assert_eq!(normalize(&json!([])).unwrap(), json!([]));
    }
}
