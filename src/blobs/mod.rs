//! Content-addressed file storage. Keys are `NAMESPACE/HASH`: cookbook files live in
//! their org's namespace keyed by the MD5 hex clients send (`cookbook_key`), as the real
//! server's bookshelf keeps one bucket path per org, so no org can reach or replace
//! another's bytes. The database says which checksums an org holds; the blob store only
//! holds bytes, and never replaces a stored blob: the first verified write wins.
//! The default backend keeps files under `<data_dir>/blobs/NAMESPACE/ab/cd/<hash>`,
//! written to a temporary file, fsynced and linked into place without replacing anything,
//! so a crash never leaves a partial blob and a second writer never changes the first's.
//! Folders are 0700 and files 0600, as everything in the data directory.

pub mod sweep;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use bytes::Bytes;

use crate::private_fs;

/// The key of an org's cookbook file (MD5 hex), in that org's namespace.
pub fn cookbook_key(org_id: &str, md5: &str) -> String {
    format!("org-{org_id}/{}", md5.to_ascii_lowercase())
}

/// Where file content lives. Implementations must make `put` atomic (a reader sees the
/// whole blob or none) and must never replace a blob that is already stored.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync {
    /// Stores `data` under `key` unless a blob is already there; true when this call
    /// stored it.
    async fn put(&self, key: &str, data: Bytes) -> anyhow::Result<bool>;
    async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>>;
    async fn exists(&self, key: &str) -> anyhow::Result<bool>;
    async fn delete(&self, key: &str) -> anyhow::Result<()>;
    /// Every stored key with its modification time, for the sweep.
    async fn list(&self) -> anyhow::Result<Vec<(String, SystemTime)>>;
    /// A cheap health check for `/_status`.
    async fn ping(&self) -> anyhow::Result<()>;
}

pub type Blobs = Arc<dyn BlobStore>;

/// Blobs as files under a directory, fanned out by the first four hex digits.
pub struct FsBlobStore {
    root: PathBuf,
}

impl FsBlobStore {
    /// A store rooted at `root`; directories are made as blobs arrive.
    pub fn new(root: impl Into<PathBuf>) -> Self {
        FsBlobStore { root: root.into() }
    }

    /// Creates the directories up front, so a misconfigured path fails at start-up.
    pub fn create_dirs(&self) -> anyhow::Result<()> {
        private_fs::create_dir(&self.root.join("tmp"))
            .with_context(|| format!("creating blob directory {}", self.root.display()))
    }

    fn path_of(&self, key: &str) -> anyhow::Result<PathBuf> {
        let (ns, hash) = split_key(key)?;
        Ok(self
            .root
            .join(ns)
            .join(&hash[0..2])
            .join(&hash[2..4])
            .join(hash))
    }

    /// Moves blobs of the old single-namespace layout (`<root>/ab/cd/<md5>`, shared by
    /// every org) into the namespace of each org that `holders` names for them, then
    /// removes the old file. Runs once at start-up; a no-op when nothing is left.
    pub async fn adopt_legacy<F, Fut>(&self, holders: F) -> anyhow::Result<usize>
    where
        F: Fn(String) -> Fut,
        Fut: std::future::Future<Output = anyhow::Result<Vec<String>>>,
    {
        let root = self.root.clone();
        let legacy = tokio::task::spawn_blocking(move || legacy_files(&root)).await??;
        let mut moved = 0;
        for (hash, path) in legacy {
            for org_id in holders(hash.clone()).await? {
                let dest = self.path_of(&cookbook_key(&org_id, &hash))?;
                if !dest.exists() {
                    if let Some(dir) = dest.parent() {
                        private_fs::create_dir(dir)?;
                    }
                    std::fs::hard_link(&path, &dest)
                        .or_else(|_| std::fs::copy(&path, &dest).map(|_| ()))?;
                    moved += 1;
                }
            }
            std::fs::remove_file(&path)?;
        }
        Ok(moved)
    }
}

/// Splits `NAMESPACE/HASH`; namespaces are longer than two characters so they never
/// look like a fan-out directory of the old layout.
fn split_key(key: &str) -> anyhow::Result<(&str, &str)> {
    let ok = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    match key.split_once('/') {
        Some((ns, hash))
            if ns.len() > 2
                && ok(ns)
                && hash.len() >= 4
                && hash.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            Ok((ns, hash))
        }
        _ => anyhow::bail!("invalid blob key {key:?}"),
    }
}

/// Files of the old layout: `<root>/ab/cd/<hash>` with two-character fan-out dirs.
fn legacy_files(root: &Path) -> std::io::Result<Vec<(String, PathBuf)>> {
    let mut out = Vec::new();
    if !root.is_dir() {
        return Ok(out);
    }
    for a in std::fs::read_dir(root)? {
        let a = a?;
        if a.file_name().len() != 2 || !a.metadata()?.is_dir() {
            continue;
        }
        for b in std::fs::read_dir(a.path())? {
            let b = b?;
            if !b.metadata()?.is_dir() {
                continue;
            }
            for f in std::fs::read_dir(b.path())? {
                let f = f?;
                if f.metadata()?.is_file() {
                    out.push((f.file_name().to_string_lossy().to_string(), f.path()));
                }
            }
        }
    }
    Ok(out)
}

/// Writes `data` to a temporary file, fsyncs it and links it at `dest` unless something
/// is there already (a hard link never replaces its target, unlike a rename). False when
/// `dest` existed.
fn write_new(root: &Path, dest: &Path, data: &[u8]) -> std::io::Result<bool> {
    if dest.exists() {
        return Ok(false);
    }
    let tmp = root
        .join("tmp")
        .join(uuid::Uuid::new_v4().simple().to_string());
    let result = (|| {
        private_fs::create_dir(&root.join("tmp"))?;
        let mut f = private_fs::create_file(&tmp)?;
        f.write_all(data)?;
        f.sync_all()?;
        if let Some(dir) = dest.parent() {
            private_fs::create_dir(dir)?;
        }
        let stored = match std::fs::hard_link(&tmp, dest) {
            Ok(()) => true,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => false,
            Err(e) => return Err(e),
        };
        if let Some(dir) = dest.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(stored)
    })();
    let _ = std::fs::remove_file(&tmp);
    result
}

/// Every blob under the namespace directories: `<ns>/ab/cd/<hash>` as `ns/hash`.
fn walk(root: &Path, out: &mut Vec<(String, SystemTime)>) -> std::io::Result<()> {
    for ns in std::fs::read_dir(root)? {
        let ns = ns?;
        let ns_name = ns.file_name().to_string_lossy().to_string();
        if ns_name.len() <= 2 || ns_name == "tmp" || !ns.metadata()?.is_dir() {
            continue;
        }
        let mut found = Vec::new();
        walk_fanout(&ns.path(), 0, &mut found)?;
        out.extend(
            found
                .into_iter()
                .map(|(h, t)| (format!("{ns_name}/{h}"), t)),
        );
    }
    Ok(())
}

fn walk_fanout(
    dir: &Path,
    depth: usize,
    out: &mut Vec<(String, SystemTime)>,
) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        if meta.is_dir() && depth < 2 {
            walk_fanout(&entry.path(), depth + 1, out)?;
        } else if meta.is_file() && depth == 2 {
            out.push((
                entry.file_name().to_string_lossy().to_string(),
                meta.modified()?,
            ));
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, key: &str, data: Bytes) -> anyhow::Result<bool> {
        let dest = self.path_of(key)?;
        let root = self.root.clone();
        let stored = tokio::task::spawn_blocking(move || write_new(&root, &dest, &data))
            .await?
            .context("writing blob")?;
        Ok(stored)
    }

    async fn get(&self, key: &str) -> anyhow::Result<Option<Bytes>> {
        match tokio::fs::read(self.path_of(key)?).await {
            Ok(data) => Ok(Some(data.into())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).context("reading blob"),
        }
    }

    async fn exists(&self, key: &str) -> anyhow::Result<bool> {
        Ok(tokio::fs::try_exists(self.path_of(key)?).await?)
    }

    async fn delete(&self, key: &str) -> anyhow::Result<()> {
        match tokio::fs::remove_file(self.path_of(key)?).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e).context("deleting blob"),
        }
    }

    async fn list(&self) -> anyhow::Result<Vec<(String, SystemTime)>> {
        let root = self.root.clone();
        let found = tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            if root.is_dir() {
                walk(&root, &mut out)?;
            }
            Ok::<_, std::io::Error>(out)
        })
        .await??;
        Ok(found)
    }

    async fn ping(&self) -> anyhow::Result<()> {
        let tmp = self.root.join("tmp");
        tokio::task::spawn_blocking(move || private_fs::create_dir(&tmp)).await??;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn put_get_list_delete() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let md5 = "0123456789abcdef0123456789abcdef";
        let key = cookbook_key("o1", md5);
        assert!(!store.exists(&key).await.unwrap());
        assert!(store.put(&key, Bytes::from_static(b"hello")).await.unwrap());
        assert_eq!(store.get(&key).await.unwrap().unwrap(), &b"hello"[..]);
        assert!(dir.path().join("org-o1/01/23").join(md5).is_file());
        let listed = store.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].0, key);
        store.delete(&key).await.unwrap();
        assert!(store.get(&key).await.unwrap().is_none());
        for bad in [
            "../../etc",
            "org-o1/../x1234",
            "ab/0123456789",
            "0123456789abcdef",
        ] {
            assert!(store.put(bad, Bytes::new()).await.is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn first_write_wins() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsBlobStore::new(dir.path());
        let key = cookbook_key("o1", "0123456789abcdef0123456789abcdef");
        assert!(store.put(&key, Bytes::from_static(b"first")).await.unwrap());
        assert!(!store
            .put(&key, Bytes::from_static(b"second"))
            .await
            .unwrap());
        assert_eq!(store.get(&key).await.unwrap().unwrap(), &b"first"[..]);
        let other = cookbook_key("o2", "0123456789abcdef0123456789abcdef");
        assert!(
            store.get(&other).await.unwrap().is_none(),
            "namespaces are apart"
        );
        assert_eq!(
            std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
            0
        );
    }

    #[tokio::test]
    async fn legacy_blobs_move_to_their_orgs() {
        let dir = tempfile::tempdir().unwrap();
        let md5 = "0123456789abcdef0123456789abcdef";
        std::fs::create_dir_all(dir.path().join("01/23")).unwrap();
        std::fs::write(dir.path().join("01/23").join(md5), b"old").unwrap();
        let store = FsBlobStore::new(dir.path());
        let moved = store
            .adopt_legacy(|_| async { Ok(vec!["a1".to_string(), "b2".to_string()]) })
            .await
            .unwrap();
        assert_eq!(moved, 2);
        for org in ["a1", "b2"] {
            let got = store.get(&cookbook_key(org, md5)).await.unwrap();
            assert_eq!(got.unwrap(), &b"old"[..]);
        }
        assert!(!dir.path().join("01/23").join(md5).exists());
        assert_eq!(
            store.adopt_legacy(|_| async { Ok(vec![]) }).await.unwrap(),
            0
        );
    }
}
