//! The InSpec profile library shared by the Compliance and Automate APIs: one upload is
//! visible in both. An upload is read and checked off the async workers (archive safety,
//! `inspec.yml`, controls), turned into the tar.gz that `/tar` serves (a zip upload gets a
//! canonical tar.gz), stored as a content-addressed blob and recorded per owner and
//! version. Nothing is stored for an archive that fails a check.

use bytes::Bytes;
use serde_json::{json, Value};

use crate::error::{Error, Message};
use crate::profiles::{self, ArchiveFormat, Limits, Profile};
use crate::state::AppState;
use crate::store::profiles::{profile_blob_key, ProfileRow};
use crate::store::{new_id, now};

/// A stored version, with its metadata parsed.
#[derive(Debug, Clone)]
pub struct StoredProfile {
    pub row: ProfileRow,
    pub meta: Value,
    pub semver: semver::Version,
}

impl StoredProfile {
    fn from_row(row: ProfileRow) -> Self {
        let meta = serde_json::from_str(&row.metadata).unwrap_or(Value::Null);
        let semver =
            profiles::parse_version(&row.version).unwrap_or_else(|| semver::Version::new(0, 0, 0));
        StoredProfile { row, meta, semver }
    }

    /// A metadata field as a string ("" when absent).
    pub fn field(&self, name: &str) -> &str {
        self.meta.get(name).and_then(Value::as_str).unwrap_or("")
    }
}

fn limits(s: &AppState) -> Limits {
    Limits {
        max_entries: s.config.compliance.profile_max_entries,
        max_unpacked_bytes: s.config.compliance.profile_max_unpacked_bytes,
    }
}

fn metadata_json(p: &Profile) -> Value {
    let m = &p.metadata;
    json!({
        "name": m.name, "version": m.version, "title": m.title, "maintainer": m.maintainer,
        "maintainer_email": m.maintainer_email, "copyright": m.copyright,
        "copyright_email": m.copyright_email, "license": m.license, "summary": m.summary,
        "description": m.description, "inspec_version": m.inspec_version,
        "supports": m.supports, "depends": m.depends, "inputs": m.inputs,
        "content_sha256": p.content_sha256, "controls": p.control_count(),
        "rules": p.compliance_rules(),
    })
}

/// Checks an upload and stores it for `owner_id`. `expected_name` (from the URL) must
/// match `inspec.yml`'s name when given.
pub async fn ingest(
    s: &AppState,
    owner_id: &str,
    bytes: Bytes,
    expected_name: Option<&str>,
) -> Result<StoredProfile, Error> {
    let limits = limits(s);
    let (profile, tar) = tokio::task::spawn_blocking(move || {
        let p = profiles::read_profile(&bytes, &limits)?;
        let tar = match p.format {
            ArchiveFormat::TarGz => bytes,
            ArchiveFormat::Zip => Bytes::from(
                profiles::canonical_tar_gz(&p.files)
                    .map_err(|e| profiles::ProfileError::Corrupt(e.to_string()))?,
            ),
        };
        Ok::<_, profiles::ProfileError>((p, tar))
    })
    .await
    .map_err(|e| Error::Internal(e.into()))?
    .map_err(|e| {
        if e.is_too_large() {
            Error::PayloadTooLarge(Message::List(e.to_string()))
        } else {
            Error::bad_request(e.to_string())
        }
    })?;
    if let Some(n) = expected_name {
        if n != profile.metadata.name {
            return Err(Error::bad_request(format!(
                "the profile in the archive is named '{}', not '{n}'",
                profile.metadata.name
            )));
        }
    }
    let sha256 = hex::encode(<sha2::Sha256 as sha2::Digest>::digest(&tar));
    s.blobs.put(&profile_blob_key(&sha256), tar).await?;
    let ts = now();
    let row = ProfileRow {
        id: new_id(),
        owner_id: owner_id.into(),
        name: profile.metadata.name.clone(),
        version: profile.metadata.version.clone(),
        sha256,
        content_sha256: profile.content_sha256.clone(),
        metadata: metadata_json(&profile).to_string(),
        created_at: ts,
        updated_at: ts,
    };
    if let Some(old) = s.store.save_profile(&row).await? {
        forget_archives(s, &[old]).await;
    }
    Ok(StoredProfile::from_row(row))
}

/// Removes archive blobs no profile references any more (best effort: a blob left behind
/// costs space, never correctness).
async fn forget_archives(s: &AppState, sums: &[String]) {
    for sum in sums {
        match s.store.profile_archive_in_use(sum).await {
            Ok(false) => {
                if let Err(e) = s.blobs.delete(&profile_blob_key(sum)).await {
                    tracing::warn!(error = %e, sha256 = %sum, "removing a profile archive");
                }
            }
            Ok(true) => {}
            Err(e) => tracing::warn!(error = %e, "checking a profile archive"),
        }
    }
}

/// Every version of every profile of these owners, newest version first within a name.
pub async fn list(s: &AppState, owner_ids: &[String]) -> Result<Vec<StoredProfile>, Error> {
    let mut out: Vec<StoredProfile> = s
        .store
        .owner_profiles(owner_ids)
        .await?
        .into_iter()
        .map(StoredProfile::from_row)
        .collect();
    out.sort_by(|a, b| {
        (&a.row.owner_id, &a.row.name)
            .cmp(&(&b.row.owner_id, &b.row.name))
            .then(b.semver.cmp(&a.semver))
    });
    Ok(out)
}

/// The newest version of each (owner, name) in a `list` answer.
pub fn newest(all: Vec<StoredProfile>) -> Vec<StoredProfile> {
    let mut out: Vec<StoredProfile> = Vec::new();
    for p in all {
        let same = out
            .last()
            .is_some_and(|l| l.row.owner_id == p.row.owner_id && l.row.name == p.row.name);
        if !same {
            out.push(p);
        }
    }
    out
}

/// The versions of one profile, newest first; empty when there is none.
pub async fn versions(
    s: &AppState,
    owner_id: &str,
    name: &str,
) -> Result<Vec<StoredProfile>, Error> {
    let mut v: Vec<StoredProfile> = s
        .store
        .profile_versions(owner_id, name)
        .await?
        .into_iter()
        .map(StoredProfile::from_row)
        .collect();
    v.sort_by(|a, b| b.semver.cmp(&a.semver));
    Ok(v)
}

/// The tar.gz of a stored version.
pub async fn archive(s: &AppState, p: &StoredProfile) -> Result<Bytes, Error> {
    s.blobs
        .get(&profile_blob_key(&p.row.sha256))
        .await?
        .ok_or_else(|| {
            Error::Internal(anyhow::anyhow!(
                "profile archive {} is missing from the blob store",
                p.row.sha256
            ))
        })
}

/// Deletes one version or all; the number of versions deleted.
pub async fn delete(
    s: &AppState,
    owner_id: &str,
    name: &str,
    version: Option<&str>,
) -> Result<usize, Error> {
    let (n, unused) = s.store.delete_profiles(owner_id, name, version).await?;
    forget_archives(s, &unused).await;
    Ok(n)
}
