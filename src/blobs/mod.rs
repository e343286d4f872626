//! Content-addressed file storage for cookbook files (keyed by the MD5 hex clients send).
//! The database says which org may see which checksum; the blob store only holds bytes.
//! The default backend keeps files under `<data_dir>/blobs/ab/cd/<hash>`, written to a
//! temporary file, fsynced and renamed, so a crash never leaves a partial blob in place.
//! Folders are 0700 and files 0600, as everything in the data directory.

pub mod sweep;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::SystemTime;

use anyhow::Context;
use bytes::Bytes;

use crate::private_fs;

/// Where file content lives. Implementations must make `put` atomic: a reader sees the
/// whole blob or none.
#[async_trait::async_trait]
pub trait BlobStore: Send + Sync {
    async fn put(&self, key: &str, data: Bytes) -> anyhow::Result<()>;
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
        if key.len() < 4 || !key.bytes().all(|b| b.is_ascii_alphanumeric()) {
            anyhow::bail!("invalid blob key {key:?}");
        }
        Ok(self.root.join(&key[0..2]).join(&key[2..4]).join(key))
    }
}

fn write_atomically(root: &Path, dest: &Path, data: &[u8]) -> std::io::Result<()> {
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
        std::fs::rename(&tmp, dest)?;
        if let Some(dir) = dest.parent() {
            std::fs::File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<(String, SystemTime)>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().to_string();
        if depth == 0 && name == "tmp" {
            continue;
        }
        let meta = entry.metadata()?;
        if meta.is_dir() && depth < 2 {
            walk(&entry.path(), depth + 1, out)?;
        } else if meta.is_file() && depth == 2 {
            out.push((name, meta.modified()?));
        }
    }
    Ok(())
}

#[async_trait::async_trait]
impl BlobStore for FsBlobStore {
    async fn put(&self, key: &str, data: Bytes) -> anyhow::Result<()> {
        let dest = self.path_of(key)?;
        let root = self.root.clone();
        tokio::task::spawn_blocking(move || write_atomically(&root, &dest, &data))
            .await?
            .context("writing blob")?;
        Ok(())
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
                walk(&root, 0, &mut out)?;
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
        let key = "0123456789abcdef0123456789abcdef";
        assert!(!store.exists(key).await.unwrap());
        store.put(key, Bytes::from_static(b"hello")).await.unwrap();
        assert_eq!(store.get(key).await.unwrap().unwrap(), &b"hello"[..]);
        assert!(dir.path().join("01/23").join(key).is_file());
        let listed = store.list().await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].0, key);
        store.delete(key).await.unwrap();
        assert!(store.get(key).await.unwrap().is_none());
        assert!(store.put("../../etc", Bytes::new()).await.is_err());
    }
}
