//! InSpec profile archives: bytes in, metadata out. [`read_profile`] reads an uploaded
//! tar.gz or zip safely ([`archive`]), parses `inspec.yml` ([`metadata`]), extracts the
//! controls of every control file ([`controls`]) and computes the profile's identities:
//! the sha256 of the archive bytes, and InSpec's content sha256 (the `sha256` that
//! `inspec json` and reports carry). No I/O besides the given bytes, no HTTP, no SQL.

pub mod archive;
pub mod controls;
pub mod metadata;

use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

pub use archive::{
    canonical_tar_gz, detect_format, read_archive, ArchiveFiles, ArchiveFormat, Limits,
};
pub use controls::{extract_controls, impact_from_name, Control, ControlFile, Description};
pub use metadata::{parse_metadata, parse_version, Metadata};

/// Why an upload is not a usable profile. Every message is meant for the uploader, as
/// the body of a 400 (or 413 for the size limits).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProfileError {
    #[error("not a tar.gz or zip archive")]
    NotAnArchive,
    #[error("corrupt archive: {0}")]
    Corrupt(String),
    #[error("archive entry {0:?} has an absolute path")]
    AbsolutePath(String),
    #[error("archive entry {0:?} has a '..' path component")]
    ParentDir(String),
    #[error("archive entry {0:?} is a link; links are not allowed in profiles")]
    Link(String),
    #[error("archive entry {0:?} is not a regular file or directory")]
    SpecialFile(String),
    #[error("archive entry {0:?} appears more than once")]
    DuplicateEntry(String),
    #[error("archive has more than {limit} entries")]
    TooManyEntries { limit: usize },
    #[error("archive unpacks to more than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("archive entry {entry:?} is larger than {limit} bytes")]
    FileTooLarge { entry: String, limit: u64 },
    #[error("inspec.yml not found in the archive")]
    MissingMetadata,
    #[error("inspec.yml is not valid UTF-8")]
    MetadataNotUtf8,
    #[error("unable to parse inspec.yml: {0}")]
    InvalidYaml(String),
    #[error("Missing profile {0} in inspec.yml")]
    MissingField(&'static str),
    #[error("The profile name ({0}) contains a slash which is not permitted")]
    NameWithSlash(String),
    #[error("Version needs to be in SemVer format, got {0:?}")]
    InvalidVersion(String),
    #[error("inspec.yml: {field} {reason}")]
    InvalidField {
        field: &'static str,
        reason: &'static str,
    },
}

impl ProfileError {
    /// Whether the upload broke a size limit (a 413 rather than a 400).
    pub fn is_too_large(&self) -> bool {
        matches!(
            self,
            ProfileError::TooManyEntries { .. }
                | ProfileError::TooLarge { .. }
                | ProfileError::FileTooLarge { .. }
        )
    }
}

/// Everything the server needs from one uploaded profile.
#[derive(Debug, Clone, Serialize)]
pub struct Profile {
    pub metadata: Metadata,
    pub format: ArchiveFormat,
    /// Hex sha256 of the uploaded bytes exactly.
    pub archive_sha256: String,
    /// InSpec's profile sha256 (see [`content_sha256`]).
    pub content_sha256: String,
    /// Dependencies whose content could not be found in the archive (not vendored):
    /// when not empty, `content_sha256` leaves them out and so differs from InSpec's.
    pub unresolved_dependencies: Vec<String>,
    pub file_count: usize,
    pub unpacked_bytes: u64,
    /// Control files in path order.
    pub rules: Vec<ControlFile>,
    /// The unpacked files, e.g. for [`canonical_tar_gz`] when the upload was a zip.
    #[serde(skip)]
    pub files: ArchiveFiles,
}

impl Profile {
    pub fn control_count(&self) -> usize {
        self.rules.iter().map(|f| f.controls.len()).sum()
    }

    /// The Compliance API's `rules` object: per control file (path without `.rb`),
    /// `{"title", "rules": {"<id>": {"impact", "title", "desc"}}}`. A control defined
    /// twice in one file keeps its last definition, as InSpec merges them.
    pub fn compliance_rules(&self) -> Value {
        let mut out = Map::new();
        for file in &self.rules {
            let mut rules = Map::new();
            for c in &file.controls {
                rules.insert(
                    c.id.clone(),
                    json!({"impact": c.impact, "title": c.title, "desc": c.desc}),
                );
            }
            out.insert(
                file.key.clone(),
                json!({"title": file.title, "rules": Value::Object(rules)}),
            );
        }
        Value::Object(out)
    }
}

/// Vendored dependency profiles are read to this depth at most.
const MAX_DEPENDENCY_DEPTH: usize = 4;

/// Reads a profile archive (tar.gz or zip) and everything derived from it.
pub fn read_profile(bytes: &[u8], limits: &Limits) -> Result<Profile, ProfileError> {
    read_profile_at(bytes, limits, 0)
}

fn read_profile_at(bytes: &[u8], limits: &Limits, depth: usize) -> Result<Profile, ProfileError> {
    let archive_sha256 = hex::encode(Sha256::digest(bytes));
    let (format, files) = read_archive(bytes, limits)?;
    let inspec_yml = files
        .get("inspec.yml")
        .ok_or(ProfileError::MissingMetadata)?;
    let metadata = parse_metadata(inspec_yml)?;
    let (deps, unresolved_dependencies) = dependency_shas(&files, &metadata, limits, depth);
    let content_sha256 = content_sha256(&files, &deps);
    Ok(Profile {
        metadata,
        format,
        archive_sha256,
        content_sha256,
        unresolved_dependencies,
        file_count: files.len(),
        unpacked_bytes: files.values().map(|d| d.len() as u64).sum(),
        rules: control_files(&files),
        files,
    })
}

/// The controls of `controls/**/*.rb`; a profile without any (pre-1.0 layout) is read
/// from `test/**/*.rb` and `spec/**/*.rb` instead, keeping only files that define
/// controls (so an rspec `spec_helper.rb` does not show up as an empty rules group).
pub fn control_files(files: &ArchiveFiles) -> Vec<ControlFile> {
    let read =
        |path: &String, data: &Vec<u8>| extract_controls(path, &String::from_utf8_lossy(data));
    let modern: Vec<ControlFile> = files
        .iter()
        .filter(|(p, _)| p.starts_with("controls/") && p.ends_with(".rb"))
        .map(|(p, d)| read(p, d))
        .collect();
    if !modern.is_empty() {
        return modern;
    }
    files
        .iter()
        .filter(|(p, _)| (p.starts_with("test/") || p.starts_with("spec/")) && p.ends_with(".rb"))
        .map(|(p, d)| read(p, d))
        .filter(|f| !f.controls.is_empty())
        .collect()
}

/// InSpec's profile sha256: the files of `controls/*.rb`, `libraries/*.rb` and
/// `files/**`, plus `("inspec.yml", <its raw text>)` and `("inspec.lock.deps", <YAML
/// dump of {dependency name ⇒ its content sha256}>)`, sorted by path, each fed as
/// `path NUL content NUL` (INSPEC `lib/inspec/profile.rb#sha256`).
pub fn content_sha256(files: &ArchiveFiles, deps: &[(String, String)]) -> String {
    let deps_yaml = deps_yaml(deps);
    let mut parts: Vec<(&str, &[u8])> = files
        .iter()
        .filter(|(p, _)| {
            ((p.starts_with("controls/") || p.starts_with("libraries/")) && p.ends_with(".rb"))
                || p.starts_with("files/")
        })
        .map(|(p, d)| (p.as_str(), d.as_slice()))
        .collect();
    parts.push((
        "inspec.yml",
        files.get("inspec.yml").map_or(&[][..], |d| d.as_slice()),
    ));
    parts.push(("inspec.lock.deps", deps_yaml.as_bytes()));
    parts.sort_by(|a, b| a.0.cmp(b.0));
    let mut hasher = Sha256::new();
    for (path, data) in parts {
        hasher.update(path.as_bytes());
        hasher.update([0]);
        hasher.update(data);
        hasher.update([0]);
    }
    hex::encode(hasher.finalize())
}

/// Ruby's `YAML.dump` of a flat string ⇒ string hash: `--- {}\n` when empty, else a
/// block mapping. Scalars Psych would read back as something other than a string
/// (numbers, booleans, null, or text with YAML syntax) are single-quoted, as Psych does.
fn deps_yaml(deps: &[(String, String)]) -> String {
    if deps.is_empty() {
        return "--- {}\n".to_string();
    }
    let mut out = String::from("---\n");
    for (name, sha) in deps {
        out.push_str(&yaml_scalar(name));
        out.push_str(": ");
        out.push_str(&yaml_scalar(sha));
        out.push('\n');
    }
    out
}

fn yaml_scalar(s: &str) -> String {
    use std::sync::LazyLock;
    static PLAIN: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"^[A-Za-z0-9_][A-Za-z0-9_./-]*$").expect("regex"));
    static NUMERIC: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(
            r"^(?:[-+]?[0-9][0-9_,]*(?:\.[0-9_]*)?(?:[eE][-+]?[0-9]+)?|0[xob][0-9a-fA-F_]+)$",
        )
        .expect("regex")
    });
    let reserved = matches!(
        s.to_ascii_lowercase().as_str(),
        "y" | "n" | "yes" | "no" | "on" | "off" | "true" | "false" | "null" | "nil"
    );
    if PLAIN.is_match(s) && !NUMERIC.is_match(s) && !reserved {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "''"))
    }
}

/// The content sha256 of each locked dependency, read from its vendored copy
/// (`vendor/<key>.tar.gz`, `vendor/<key>.zip` or `vendor/<key>/`, where the key is the
/// lockfile's `resolved_source` `sha256` or git `ref`), in lockfile order; and the
/// names of those that could not be read.
fn dependency_shas(
    files: &ArchiveFiles,
    metadata: &Metadata,
    limits: &Limits,
    depth: usize,
) -> (Vec<(String, String)>, Vec<String>) {
    let dep_name = |d: &Value| {
        d.get("name")
            .and_then(Value::as_str)
            .unwrap_or("(unnamed)")
            .to_string()
    };
    let Some(lock) = files.get("inspec.lock") else {
        // No lockfile: InSpec would fetch the dependencies to compute it.
        return (Vec::new(), metadata.depends.iter().map(dep_name).collect());
    };
    let lock_deps = std::str::from_utf8(lock)
        .ok()
        .and_then(|t| serde_yaml_ng::from_str::<serde_yaml_ng::Value>(t).ok())
        .map(metadata::yaml_to_json)
        .and_then(|v| v.get("depends").and_then(Value::as_array).cloned())
        .unwrap_or_default();
    let mut resolved = Vec::new();
    let mut unresolved = Vec::new();
    for dep in &lock_deps {
        let name = dep_name(dep);
        let source = dep.get("resolved_source");
        let keys = ["sha256", "ref"]
            .iter()
            .filter_map(|k| source.and_then(|s| s.get(*k)).and_then(Value::as_str));
        let mut found = None;
        if depth < MAX_DEPENDENCY_DEPTH {
            for key in keys {
                found = vendored_sha(files, key, limits, depth);
                if found.is_some() {
                    break;
                }
            }
        }
        match found {
            Some((sha, nested)) => {
                unresolved.extend(nested.into_iter().map(|n| format!("{name}/{n}")));
                resolved.push((name, sha));
            }
            None => unresolved.push(name),
        }
    }
    (resolved, unresolved)
}

fn vendored_sha(
    files: &ArchiveFiles,
    key: &str,
    limits: &Limits,
    depth: usize,
) -> Option<(String, Vec<String>)> {
    for ext in ["tar.gz", "zip"] {
        if let Some(bytes) = files.get(&format!("vendor/{key}.{ext}")) {
            let p = read_profile_at(bytes, limits, depth + 1).ok()?;
            return Some((p.content_sha256, p.unresolved_dependencies));
        }
    }
    let prefix = format!("vendor/{key}/");
    let sub: ArchiveFiles = files
        .range(prefix.clone()..)
        .take_while(|(p, _)| p.starts_with(&prefix))
        .map(|(p, d)| (p[prefix.len()..].to_string(), d.clone()))
        .collect();
    let metadata = parse_metadata(sub.get("inspec.yml")?).ok()?;
    let (deps, unresolved) = dependency_shas(&sub, &metadata, limits, depth + 1);
    Some((content_sha256(&sub, &deps), unresolved))
}

#[cfg(test)]
mod controls_tests;
#[cfg(test)]
mod tests;
