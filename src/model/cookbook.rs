//! Cookbook version documents (erchef's `chef_cookbook_version`): validation of an upload
//! against the URL's name and version, the two file-list shapes (nine segments for API
//! v0/v1, one `all_files` list for v2) and the conversion between them, and the
//! qualified recipe names a version provides.

use serde_json::{Map, Value};

use super::names::is_cookbook_name;
use super::version;
use crate::error::{Error, Result};

pub const SEGMENTS: [&str; 9] = [
    "attributes",
    "definitions",
    "files",
    "libraries",
    "providers",
    "recipes",
    "resources",
    "root_files",
    "templates",
];

const COMMON_KEYS: [&str; 7] = [
    "chef_type",
    "cookbook_name",
    "frozen?",
    "json_class",
    "metadata",
    "name",
    "version",
];

/// The text erchef appends to a bad cookbook name.
pub const NAME_RULE: &str = "Malformed cookbook name. Must only contain A-Z, a-z, 0-9, _, . or -";

/// Checks the cookbook name and version of a URL, before any body is read.
pub fn check_url(name: &str, version_str: &str) -> Result<(u64, u64, u64)> {
    if !is_cookbook_name(name) {
        return Err(Error::bad_request(format!(
            "Invalid cookbook name '{name}' using regex: '{NAME_RULE}'."
        )));
    }
    parse_url_version(version_str)
}

pub fn parse_url_version(version_str: &str) -> Result<(u64, u64, u64)> {
    version::parse(version_str)
        .ok_or_else(|| Error::bad_request(format!("Invalid cookbook version '{version_str}'.")))
}

fn invalid(field: &str) -> Error {
    Error::bad_request(format!("Field '{field}' invalid"))
}

fn missing(field: &str) -> Error {
    Error::bad_request(format!("Field '{field}' missing"))
}

/// A field that must be present and equal to `expected`.
fn exact(body: &Map<String, Value>, field: &str, expected: &str, path: &str) -> Result<()> {
    match body.get(field) {
        None => Err(missing(path)),
        Some(Value::String(s)) if s == expected => Ok(()),
        Some(_) => Err(invalid(path)),
    }
}

fn opt_string(meta: &Map<String, Value>, field: &str) -> Result<()> {
    match meta.get(field) {
        None | Some(Value::String(_)) => Ok(()),
        Some(_) => Err(invalid(&format!("metadata.{field}"))),
    }
}

fn value_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        // erchef prints the term it decoded; clients compare against that text.
        Value::Object(m) if m.is_empty() => "{[]}".into(),
        other => other.to_string(),
    }
}

/// `{cookbook name: constraint}` maps (dependencies, platforms, …).
fn constraint_map(meta: &Map<String, Value>, field: &str) -> Result<()> {
    let path = format!("metadata.{field}");
    match meta.get(field) {
        None => Ok(()),
        Some(Value::Object(m)) => {
            for (k, v) in m {
                if !is_cookbook_name(k) {
                    return Err(Error::bad_request(format!("Invalid key '{k}' for {path}")));
                }
                let ok = v.as_str().is_some_and(version::is_constraint);
                if !ok {
                    return Err(Error::bad_request(format!(
                        "Invalid value '{}' for {path}",
                        value_text(v)
                    )));
                }
            }
            Ok(())
        }
        Some(_) => Err(invalid(&path)),
    }
}

fn file_list(body: &Map<String, Value>, segment: &str) -> Result<()> {
    let Some(v) = body.get(segment) else {
        return Ok(());
    };
    let Some(items) = v.as_array() else {
        return Err(invalid(segment));
    };
    for item in items {
        let ok = item.as_object().is_some_and(|f| {
            ["name", "path", "checksum", "specificity"]
                .iter()
                .all(|k| f.get(*k).is_some_and(Value::is_string))
        });
        if !ok {
            return Err(Error::bad_request(format!(
                "Invalid element in array value of '{segment}'."
            )));
        }
    }
    Ok(())
}

fn metadata(body: &Map<String, Value>, version_str: &str, all_files: bool) -> Result<()> {
    let meta = match body.get("metadata") {
        None => return Err(missing("metadata")),
        Some(Value::Object(m)) => m,
        Some(_) => return Err(invalid("metadata")),
    };
    exact(meta, "version", version_str, "metadata.version")?;
    match meta.get("name") {
        None | Some(Value::String(_)) => {}
        Some(_) => return Err(invalid("metadata.name")),
    }
    if let Some(Value::String(n)) = meta.get("name") {
        if !is_cookbook_name(n) {
            return Err(invalid("metadata.name"));
        }
    }
    for f in [
        "description",
        "long_description",
        "maintainer",
        "maintainer_email",
        "license",
    ] {
        opt_string(meta, f)?;
    }
    constraint_map(meta, "platforms")?;
    constraint_map(meta, "dependencies")?;
    if !all_files {
        for f in ["recommendations", "suggestions", "conflicting", "replacing"] {
            constraint_map(meta, f)?;
        }
        if meta.get("groupings").is_some_and(|g| !g.is_object()) {
            return Err(invalid("metadata.groupings"));
        }
    }
    Ok(())
}

/// Validates an uploaded version (after `check_url`) in erchef's order: defaults, unknown
/// top-level keys, then each field. `all_files` is true for API v2 uploads.
pub fn validate(
    mut body: Map<String, Value>,
    name: &str,
    version_str: &str,
    all_files: bool,
) -> Result<Map<String, Value>> {
    for (k, v) in [
        ("json_class", Value::from("Chef::CookbookVersion")),
        ("chef_type", Value::from("cookbook_version")),
        ("frozen?", Value::Bool(false)),
    ] {
        body.entry(k).or_insert(v);
    }
    for key in body.keys() {
        let known = COMMON_KEYS.contains(&key.as_str())
            || if all_files {
                key == "all_files"
            } else {
                SEGMENTS.contains(&key.as_str())
            };
        if !known {
            return Err(Error::bad_request(format!(
                "Invalid key {key} in request body"
            )));
        }
    }
    exact(&body, "name", &format!("{name}-{version_str}"), "name")?;
    exact(&body, "cookbook_name", name, "cookbook_name")?;
    exact(&body, "json_class", "Chef::CookbookVersion", "json_class")?;
    exact(&body, "chef_type", "cookbook_version", "chef_type")?;
    metadata(&body, version_str, all_files)?;
    if all_files {
        file_list(&body, "all_files")?;
    } else {
        for seg in SEGMENTS {
            file_list(&body, seg)?;
        }
    }
    if let Some(v) = body.get("version") {
        if v.as_str() != Some(version_str) {
            return Err(invalid("version"));
        }
    }
    if !body.get("frozen?").is_some_and(Value::is_boolean) {
        return Err(invalid("frozen?"));
    }
    Ok(body)
}

fn file_entries<'a>(doc: &'a Map<String, Value>) -> impl Iterator<Item = &'a Value> + 'a {
    std::iter::once("all_files")
        .chain(SEGMENTS)
        .filter_map(move |seg| doc.get(seg).and_then(Value::as_array))
        .flatten()
}

/// The distinct checksums a document's file lists name, sorted.
pub fn checksums(doc: &Map<String, Value>) -> Vec<String> {
    let mut out: Vec<String> = file_entries(doc)
        .filter_map(|f| f.get("checksum").and_then(Value::as_str))
        .map(str::to_string)
        .collect();
    out.sort();
    out.dedup();
    out
}

/// The segment shape (v0/v1): `all_files` split on the first `/` of each name (a name
/// without one is a root file; the rest of the name is kept); files outside the nine segments are dropped, and every
/// segment key is present.
pub fn to_segments(mut doc: Map<String, Value>) -> Map<String, Value> {
    let Some(all) = doc.remove("all_files") else {
        return doc;
    };
    let mut by_segment: std::collections::HashMap<&str, Vec<Value>> = Default::default();
    for file in all.as_array().into_iter().flatten() {
        let Some(name) = file.get("name").and_then(Value::as_str) else {
            continue;
        };
        let (segment, rest) = match name.split_once('/') {
            Some((seg, rest)) => (seg.to_string(), rest),
            None => ("root_files".to_string(), name),
        };
        let Some(seg) = SEGMENTS.iter().find(|s| **s == segment) else {
            continue;
        };
        let mut f = file.clone();
        f["name"] = Value::from(rest);
        by_segment.entry(seg).or_default().push(f);
    }
    for seg in SEGMENTS {
        let files = by_segment.remove(seg).unwrap_or_default();
        doc.insert(seg.to_string(), Value::Array(files));
    }
    doc
}

/// The `all_files` shape (v2): each segment's files with the segment prefixed to their
/// names, segments removed.
pub fn to_all_files(mut doc: Map<String, Value>) -> Map<String, Value> {
    if doc.contains_key("all_files") {
        return doc;
    }
    let mut all = Vec::new();
    for seg in SEGMENTS {
        if let Some(Value::Array(files)) = doc.remove(seg) {
            for mut f in files {
                let name = f.get("name").and_then(Value::as_str).unwrap_or("");
                f["name"] = Value::from(format!("{seg}/{name}"));
                all.push(f);
            }
        }
    }
    doc.insert("all_files".into(), Value::Array(all));
    doc
}

/// Converts to the shape an API version reads.
pub fn for_api(doc: Map<String, Value>, api_version: u8) -> Map<String, Value> {
    if api_version >= 2 {
        to_all_files(doc)
    } else {
        to_segments(doc)
    }
}

/// Adds a download `url` to every file entry.
pub fn annotate_urls(doc: &mut Map<String, Value>, url_for: impl Fn(&str) -> String) {
    for seg in std::iter::once("all_files").chain(SEGMENTS) {
        if let Some(Value::Array(files)) = doc.get_mut(seg) {
            for f in files.iter_mut() {
                let sum = f.get("checksum").and_then(Value::as_str).map(&url_for);
                if let (Some(url), Some(obj)) = (sum, f.as_object_mut()) {
                    obj.insert("url".into(), Value::from(url));
                }
            }
        }
    }
}

/// Qualified recipe names (`cb` for `default.rb`, `cb::name` otherwise), unsorted.
pub fn recipe_names(cookbook: &str, doc: &Map<String, Value>) -> Vec<String> {
    let names: Vec<String> = match doc.get("all_files").and_then(Value::as_array) {
        Some(all) => all
            .iter()
            .filter_map(|f| f.get("name").and_then(Value::as_str))
            .filter_map(|n| n.strip_prefix("recipes/"))
            .map(str::to_string)
            .collect(),
        None => doc
            .get("recipes")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|f| f.get("name").and_then(Value::as_str))
            .map(str::to_string)
            .collect(),
    };
    names
        .iter()
        .map(|n| {
            let stem = n.rsplit('/').next().unwrap_or(n);
            let stem = stem.strip_suffix(".rb").unwrap_or(stem);
            if stem == "default" {
                cookbook.to_string()
            } else {
                format!("{cookbook}::{stem}")
            }
        })
        .collect()
}

/// Whether `v` satisfies a constraint (`"<op> <version>"` or a bare version for `=`).
/// `~> x.y` allows `>= x.y.0, < (x+1).0.0`; `~> x.y.z` and `~> x` allow patch-level
/// changes only, as the real server's solver reads them.
pub fn satisfies(constraint: &str, v: (u64, u64, u64)) -> bool {
    let (op, ver) = constraint.split_once(' ').unwrap_or(("=", constraint));
    let Some(c) = version::parse(ver) else {
        return false;
    };
    match op {
        "=" => v == c,
        ">" => v > c,
        ">=" => v >= c,
        "<" => v < c,
        "<=" => v <= c,
        "~>" => {
            let two_part = ver.split('.').count() == 2;
            let upper = if two_part {
                (c.0 + 1, 0, 0)
            } else {
                (c.0, c.1 + 1, 0)
            };
            v >= c && v < upper
        }
        _ => false,
    }
}

/// `x.y.z` for a parsed version.
pub fn version_string(v: (u64, u64, u64)) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    fn upload(extra: Value) -> Map<String, Value> {
        let mut d = doc(json!({
            "name": "apt-1.2.3", "cookbook_name": "apt",
            "metadata": {"version": "1.2.3", "dependencies": {"b": ">= 1.0"}}
        }));
        d.extend(doc(extra));
        d
    }

    fn err(r: Result<Map<String, Value>>) -> String {
        match r {
            Err(Error::BadRequest(m)) => m.to_string(),
            other => panic!("expected a 400, got {other:?}"),
        }
    }

    #[test]
    fn url_checks() {
        assert_eq!(check_url("apt", "1.2").unwrap(), (1, 2, 0));
        assert!(check_url("first@second", "1.0.0").is_err());
        assert!(check_url("apt", "abc").is_err());
        assert!(check_url("apt", "1.2.9223372036854775849").is_err());
        assert!(check_url("apt", "1.2.-42").is_err());
    }

    #[test]
    fn validation_messages() {
        let ok = validate(upload(json!({})), "apt", "1.2.3", false).unwrap();
        assert_eq!(ok["json_class"], "Chef::CookbookVersion");
        assert_eq!(ok["frozen?"], false);
        let e = |extra, v2| err(validate(upload(extra), "apt", "1.2.3", v2));
        assert_eq!(
            e(json!({"json_class": "Chef::Role"}), false),
            "Field 'json_class' invalid"
        );
        assert_eq!(
            e(json!({"metadata": {}}), false),
            "Field 'metadata.version' missing"
        );
        assert_eq!(
            e(json!({"recipes": "foo"}), false),
            "Field 'recipes' invalid"
        );
        assert_eq!(
            e(json!({"recipes": [{}]}), false),
            "Invalid element in array value of 'recipes'."
        );
        assert_eq!(
            e(json!({"recipes": []}), true),
            "Invalid key recipes in request body"
        );
        assert_eq!(
            e(json!({"all_files": []}), false),
            "Invalid key all_files in request body"
        );
        assert_eq!(
            e(
                json!({"metadata": {"version": "1.2.3", "dependencies": {"a": "s395dss@#"}}}),
                false
            ),
            "Invalid value 's395dss@#' for metadata.dependencies"
        );
        assert_eq!(
            e(
                json!({"metadata": {"version": "1.2.3", "platforms": "foo"}}),
                false
            ),
            "Field 'metadata.platforms' invalid"
        );
        assert_eq!(
            e(json!({"name": "apt-0.0.1"}), false),
            "Field 'name' invalid"
        );
        assert_eq!(
            e(
                json!({"metadata": {"version": "1.2.3", "maintainer": null}}),
                false
            ),
            "Field 'metadata.maintainer' invalid"
        );
    }

    #[test]
    fn segment_conversion_round_trips() {
        let v0 = doc(json!({
            "recipes": [{"name": "default.rb", "path": "recipes/default.rb", "checksum": "a", "specificity": "default"}],
            "root_files": [{"name": "metadata.rb", "path": "metadata.rb", "checksum": "b", "specificity": "default"}],
            "templates": [{"name": "x.erb", "path": "templates/default/x.erb", "checksum": "c", "specificity": "default"}]
        }));
        let v2 = to_all_files(v0.clone());
        let names: Vec<&str> = v2["all_files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["name"].as_str().unwrap())
            .collect();
        assert_eq!(
            names,
            [
                "recipes/default.rb",
                "root_files/metadata.rb",
                "templates/x.erb"
            ]
        );
        let back = to_segments(v2);
        assert_eq!(back["recipes"], v0["recipes"]);
        assert_eq!(back["root_files"], v0["root_files"]);
        assert_eq!(back["templates"], v0["templates"]);
        assert_eq!(back["libraries"], json!([]));
        let odd = to_segments(doc(json!({"all_files": [
            {"name": "metadata.rb", "checksum": "a"},
            {"name": "unknown/x", "checksum": "b"}
        ]})));
        assert_eq!(odd["root_files"][0]["name"], "metadata.rb");
        assert_eq!(checksums(&v0), ["a", "b", "c"]);
    }

    #[test]
    fn constraints() {
        assert!(satisfies("= 1.0.0", (1, 0, 0)));
        assert!(satisfies("1.0", (1, 0, 0)));
        assert!(!satisfies("> 1.0.0", (1, 0, 0)));
        assert!(satisfies("~> 1.2", (1, 9, 0)));
        assert!(!satisfies("~> 1.2", (2, 0, 0)));
        assert!(satisfies("~> 1.2.3", (1, 2, 9)));
        assert!(!satisfies("~> 1.2.3", (1, 3, 0)));
        assert!(!satisfies("~> 1.2.3", (1, 2, 2)));
        assert!(satisfies("<= 2.0", (2, 0, 0)));
        assert!(!satisfies("garbage", (1, 0, 0)));
    }

    #[test]
    fn recipe_names_are_qualified() {
        let v2 = doc(json!({"all_files": [
            {"name": "recipes/default.rb"}, {"name": "recipes/server.rb"}, {"name": "files/x.rb"}
        ]}));
        assert_eq!(recipe_names("db", &v2), ["db", "db::server"]);
        let v0 = doc(json!({"recipes": [{"name": "client.rb"}]}));
        assert_eq!(recipe_names("db", &v0), ["db::client"]);
    }
}
