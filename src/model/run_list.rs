//! Run lists: `recipe[cb(::r)(@v)]`, `role[name]` or a bare `cb(::r)(@v)`; bare entries
//! become `recipe[...]` and exact duplicates are dropped, keeping the first. Run lists
//! longer than the configured cap (`limits.max_run_list_items`) are refused before any
//! entry is parsed; the work is linear in the length.

use std::collections::HashSet;
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

/// Why a value is not an acceptable run list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Not an array of well-formed entries.
    Malformed,
    /// More entries than allowed (the count given).
    TooLong(usize),
}

/// Validates and normalises a run list value of at most `max_items` entries.
pub fn normalize(v: &Value, max_items: usize) -> Result<Value, Invalid> {
    let items = v.as_array().ok_or(Invalid::Malformed)?;
    if items.len() > max_items {
        return Err(Invalid::TooLong(items.len()));
    }
    let mut seen: HashSet<String> = HashSet::with_capacity(items.len());
    let mut out: Vec<Value> = Vec::with_capacity(items.len());
    for item in items {
        let n = item
            .as_str()
            .and_then(normalize_item)
            .ok_or(Invalid::Malformed)?;
        if seen.insert(n.clone()) {
            out.push(Value::String(n));
        }
    }
    Ok(Value::Array(out))
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
            normalize(&v, 10).unwrap(),
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
            assert_eq!(normalize(&bad, 10), Err(Invalid::Malformed), "{bad}");
        }
        assert_eq!(normalize(&json!([]), 0).unwrap(), json!([]));
    }

    #[test]
    fn caps_the_length_before_parsing_entries() {
        let v = json!(["a", "b", "bad entry!"]);
        assert_eq!(normalize(&v, 2), Err(Invalid::TooLong(3)));
        assert_eq!(
            normalize(&json!(["a", "a", "b"]), 3).unwrap(),
            json!(["recipe[a]", "recipe[b]"])
        );
    }

    /// 150,000 distinct entries (the size of a 1.5 MB attack body): the old quadratic
    /// de-duplication took tens of seconds here; a linear one takes milliseconds.
    #[test]
    fn large_run_lists_normalise_in_linear_time() {
        let n = 150_000;
        let v = Value::Array((0..n).map(|i| json!(format!("x{i}"))).collect());
        let t = std::time::Instant::now();
        let out = normalize(&v, n).unwrap();
        assert_eq!(out.as_array().unwrap().len(), n);
        assert_eq!(out[n - 1], json!(format!("recipe[x{}]", n - 1)));
        // Generous for an unoptimised build on a busy machine; quadratic takes minutes.
        assert!(
            t.elapsed() < std::time::Duration::from_secs(5),
            "{:?}",
            t.elapsed()
        );
    }
}
