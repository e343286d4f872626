//! `inspec.yml`: the profile's metadata, validated as `inspec check` validates it
//! (name and version required, no slash in the name, version parseable by Semverse).
//!
//! YAML is read with `serde_yaml_ng`: the maintained continuation of `serde_yaml` (whose
//! author archived it in 2024) with the same `Value` API, built on the pure-Rust
//! `unsafe-libyaml` port, so it needs no C library; `serde_yml`, the other well-known
//! fork, carries a security advisory. InSpec runs `inspec.yml` through ERB before
//! parsing; we do not evaluate ERB, so a file using it either fails to parse or keeps
//! the tags as text.

use std::sync::LazyLock;

use regex::Regex;
use serde::Serialize;
use serde_json::{Map, Value};
use serde_yaml_ng::Value as Yaml;

use super::ProfileError;

/// What `inspec.yml` says about a profile. String fields given as YAML numbers or
/// booleans are kept as their text.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metadata {
    pub name: String,
    /// As written (`1.0` stays `1.0`); [`Metadata::semver`] is the parsed form.
    pub version: String,
    #[serde(skip)]
    pub semver: semver::Version,
    pub title: Option<String>,
    pub maintainer: Option<String>,
    pub maintainer_email: Option<String>,
    pub copyright: Option<String>,
    pub copyright_email: Option<String>,
    pub license: Option<String>,
    pub summary: Option<String>,
    pub description: Option<String>,
    pub inspec_version: Option<String>,
    /// Platform maps; legacy `os-family`/`os-name` keys are renamed to
    /// `platform-family`/`platform-name`, a bare string `x` reads as
    /// `{"platform-family": x}`, and numbers become text, as `inspec json` reports them.
    pub supports: Vec<Map<String, Value>>,
    /// Dependency entries (`name` plus one source key: `path`, `url`, `git`,
    /// `supermarket`, `compliance`), as written.
    pub depends: Vec<Value>,
    /// `inputs`, or the legacy `attributes` when `inputs` is absent.
    pub inputs: Vec<Value>,
    /// The whole document, for keys not modelled here (`gem_dependencies`, …).
    #[serde(skip)]
    pub raw: Map<String, Value>,
}

/// Parses and validates `inspec.yml`.
pub fn parse_metadata(bytes: &[u8]) -> Result<Metadata, ProfileError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ProfileError::MetadataNotUtf8)?;
    let doc: Yaml = if text.trim().is_empty() {
        Yaml::Null
    } else {
        serde_yaml_ng::from_str(text).map_err(|e| ProfileError::InvalidYaml(e.to_string()))?
    };
    let raw = match yaml_to_json(doc) {
        Value::Null => Map::new(),
        Value::Object(map) => map,
        _ => {
            return Err(ProfileError::InvalidYaml(
                "the document is not a mapping".into(),
            ))
        }
    };

    let name = scalar(&raw, "name")?
        .filter(|n| !n.trim().is_empty())
        .ok_or(ProfileError::MissingField("name"))?;
    if name.contains('/') || name.contains('\\') {
        return Err(ProfileError::NameWithSlash(name));
    }
    let version = version_text(&raw)?.ok_or(ProfileError::MissingField("version"))?;
    let semver =
        parse_version(&version).ok_or_else(|| ProfileError::InvalidVersion(version.clone()))?;

    let inputs = match raw.get("inputs").filter(|v| !v.is_null()) {
        Some(_) => list(&raw, "inputs")?,
        None => list(&raw, "attributes")?,
    };
    Ok(Metadata {
        name,
        version,
        semver,
        title: scalar(&raw, "title")?,
        maintainer: scalar(&raw, "maintainer")?,
        maintainer_email: scalar(&raw, "maintainer_email")?,
        copyright: scalar(&raw, "copyright")?,
        copyright_email: scalar(&raw, "copyright_email")?,
        license: scalar(&raw, "license")?,
        summary: scalar(&raw, "summary")?,
        description: scalar(&raw, "description")?,
        inspec_version: scalar(&raw, "inspec_version")?,
        supports: supports(&raw)?,
        depends: list(&raw, "depends")?,
        inputs,
        raw,
    })
}

/// A version as InSpec's Semverse accepts it: full SemVer (`1.2.3-rc.1+b5`), or the
/// short forms `1`, `1.`, `1.2`, `1.2.` padded with zeros. Leading zeros are read as
/// Semverse reads them (`01.2.3` is 1.2.3).
pub fn parse_version(text: &str) -> Option<semver::Version> {
    static FULL: LazyLock<Regex> = LazyLock::new(|| {
        Regex::new(r"^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+([0-9A-Za-z.-]+))?$")
            .expect("valid regex")
    });
    static SHORT: LazyLock<Regex> =
        LazyLock::new(|| Regex::new(r"^(\d+)(?:\.(\d+)?)?\.?$").expect("valid regex"));
    if let Some(c) = FULL.captures(text) {
        let mut v =
            semver::Version::new(c[1].parse().ok()?, c[2].parse().ok()?, c[3].parse().ok()?);
        if let Some(pre) = c.get(4) {
            v.pre = semver::Prerelease::new(pre.as_str()).ok()?;
        }
        if let Some(build) = c.get(5) {
            v.build = semver::BuildMetadata::new(build.as_str()).ok()?;
        }
        return Some(v);
    }
    let c = SHORT.captures(text)?;
    let minor = match c.get(2) {
        Some(m) => m.as_str().parse().ok()?,
        None => 0,
    };
    Some(semver::Version::new(c[1].parse().ok()?, minor, 0))
}

/// `version:` as text. YAML reads `1.0` as a float, so numbers are written the way
/// Ruby prints them (`1.0`, not `1`), which is what InSpec then validates.
fn version_text(raw: &Map<String, Value>) -> Result<Option<String>, ProfileError> {
    match raw.get("version") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_string())),
        Some(Value::Number(n)) => Ok(Some(match (n.as_u64(), n.as_f64()) {
            (Some(u), _) => u.to_string(),
            (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{f:.1}"),
            _ => n.to_string(),
        })),
        Some(_) => Err(ProfileError::InvalidField {
            field: "version",
            reason: "must be a string",
        }),
    }
}

fn scalar(raw: &Map<String, Value>, field: &'static str) -> Result<Option<String>, ProfileError> {
    match raw.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(Value::Number(n)) => Ok(Some(n.to_string())),
        Some(Value::Bool(b)) => Ok(Some(b.to_string())),
        Some(_) => Err(ProfileError::InvalidField {
            field,
            reason: "must be a string",
        }),
    }
}

fn list(raw: &Map<String, Value>, field: &'static str) -> Result<Vec<Value>, ProfileError> {
    match raw.get(field) {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items.iter().filter(|v| !v.is_null()).cloned().collect()),
        Some(map @ Value::Object(_)) => Ok(vec![map.clone()]),
        Some(_) => Err(ProfileError::InvalidField {
            field,
            reason: "must be a list",
        }),
    }
}

fn supports(raw: &Map<String, Value>) -> Result<Vec<Map<String, Value>>, ProfileError> {
    let items = match raw.get("supports") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(items)) => items.clone(),
        Some(other) => vec![other.clone()],
    };
    let mut out = Vec::new();
    for item in items {
        let mut entry = match item {
            Value::Object(map) => map,
            Value::String(s) => Map::from_iter([("os-family".to_string(), Value::String(s))]),
            Value::Null => continue,
            _ => {
                return Err(ProfileError::InvalidField {
                    field: "supports",
                    reason: "must be a list of platform maps",
                })
            }
        };
        for (old, new) in [
            ("os-family", "platform-family"),
            ("os-name", "platform-name"),
        ] {
            if let Some(v) = entry.remove(old) {
                entry.insert(new.to_string(), v);
            }
        }
        // `release: 18.04` is a YAML float; InSpec reports it as the text "18.04".
        for v in entry.values_mut() {
            if let Value::Number(n) = v {
                *v = Value::String(n.to_string());
            }
        }
        out.push(entry);
    }
    Ok(out)
}

/// YAML → JSON: mapping keys become strings, tags are dropped, non-finite floats
/// become null.
pub(crate) fn yaml_to_json(y: Yaml) -> Value {
    match y {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            if let Some(u) = n.as_u64() {
                Value::from(u)
            } else if let Some(i) = n.as_i64() {
                Value::from(i)
            } else {
                n.as_f64()
                    .and_then(serde_json::Number::from_f64)
                    .map_or(Value::Null, Value::Number)
            }
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Yaml::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (yaml_key(k), yaml_to_json(v)))
                .collect(),
        ),
        Yaml::Tagged(tagged) => yaml_to_json(tagged.value),
    }
}

fn yaml_key(k: Yaml) -> String {
    match k {
        Yaml::String(s) => s,
        Yaml::Null => String::new(),
        Yaml::Bool(b) => b.to_string(),
        Yaml::Number(n) => n.to_string(),
        other => serde_yaml_ng::to_string(&other)
            .unwrap_or_default()
            .trim()
            .to_string(),
    }
}
