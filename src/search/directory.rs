//! Where the index lives: tantivy's mmap directory, without an fsync on every commit.
//!
//! The index is a cache of the database: it records the last change it applied and
//! replays the rest on start. A commit therefore only has to outlive the process, not the
//! machine, and a killed process loses nothing that reached the page cache. Fsyncing the
//! half-dozen files of every commit would cost tens of milliseconds per write on ordinary
//! disks, so commits skip it. Protection against a machine crash comes from checkpoints:
//! `checkpoint` (run when the index goes idle, and on close) fsyncs every file and then
//! records a copy of `meta.json`. On open, an index last written during an earlier boot
//! whose `meta.json` is not the checkpointed one may be missing data, and is discarded (the
//! tailer then rebuilds it from the database). Without a boot id to compare (non-Linux),
//! every write is fsynced as tantivy does by default.

use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tantivy::directory::error::{DeleteError, LockError, OpenReadError, OpenWriteError};
use tantivy::directory::{
    AntiCallToken, Directory, DirectoryLock, FileHandle, Lock, MmapDirectory, TerminatingWrite,
    WatchCallback, WatchHandle, WritePtr,
};

/// Names the boot each process that wrote the index ran in.
const WRITER_BOOT: &str = "writer_boot";
/// The copy of `meta.json` made once every file it names was fsynced.
const CHECKPOINT: &str = "checkpoint_meta.json";
const META: &str = "meta.json";
/// Held by the process using the index (an advisory lock: it dies with the process).
const LOCK: &str = "brigade.lock";
const DURABLE: &str = "durable";

/// Removes everything in `root` but the lock file (an index that cannot be trusted or
/// opened; the tailer rebuilds it).
pub fn clear(root: &Path) -> io::Result<()> {
    for entry in std::fs::read_dir(root)? {
        let entry = entry?;
        if entry.file_name() == LOCK {
            continue;
        }
        if entry.file_type()?.is_dir() {
            std::fs::remove_dir_all(entry.path())?;
        } else {
            std::fs::remove_file(entry.path())?;
        }
    }
    Ok(())
}

/// Temporary files of an atomic write a crash interrupted.
fn remove_temporaries(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') && name.ends_with(".tmp") {
            std::fs::remove_file(entry.path()).ok();
        }
    }
}

/// The kernel's id of the current boot, when the platform has one.
fn boot_id() -> Option<String> {
    let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let id = id.trim();
    (!id.is_empty()).then(|| id.to_string())
}

#[derive(Clone, Debug)]
pub struct LazyDirectory {
    inner: MmapDirectory,
    root: Arc<PathBuf>,
    /// Fsync every write (no boot id to tell a crash of the machine from one of the process).
    durable: bool,
}

static TEMP: AtomicU64 = AtomicU64::new(0);

impl LazyDirectory {
    /// Opens `root` for this process: takes its lock (held by the returned guard), discards
    /// an index that a machine crash may have left incomplete, and records the current
    /// boot as the writer's.
    pub fn open(root: &Path) -> anyhow::Result<(LazyDirectory, DirectoryLock)> {
        crate::private_fs::create_dir(root)?;
        let lock = MmapDirectory::open(root)?
            .acquire_lock(&Lock {
                filepath: PathBuf::from(LOCK),
                is_blocking: false,
            })
            .map_err(|_| {
                anyhow::anyhow!(
                    "the search index is in use (is another server using this data directory?)"
                )
            })?;
        let boot = boot_id();
        let previous = std::fs::read_to_string(root.join(WRITER_BOOT)).ok();
        let meta = std::fs::read(root.join(META)).ok();
        let checkpoint = std::fs::read(root.join(CHECKPOINT)).ok();
        let trusted = meta.is_none()
            || previous.as_deref() == Some(DURABLE)
            || (boot.is_some() && previous == boot)
            || (checkpoint.is_some() && checkpoint == meta);
        if !trusted {
            tracing::warn!(dir = %root.display(), "search index written before the machine restarted and not checkpointed; rebuilding it");
            clear(root)?;
        }
        remove_temporaries(root);
        let durable = boot.is_none();
        write_synced(
            &root.join(WRITER_BOOT),
            boot.as_deref().unwrap_or(DURABLE).as_bytes(),
        )?;
        let dir = LazyDirectory {
            inner: MmapDirectory::open(root)?,
            root: Arc::new(root.to_path_buf()),
            durable,
        };
        Ok((dir, lock))
    }

    /// Makes the current commit survive a machine crash: fsyncs every file (then the
    /// folder) and records the `meta.json` they belong to. Commits must not run meanwhile
    /// (merges may: a meta written by one after the read is simply not the checkpoint).
    pub fn checkpoint(&self) -> io::Result<()> {
        let meta = match std::fs::read(self.root.join(META)) {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        for entry in std::fs::read_dir(self.root.as_path())? {
            let entry = entry?;
            if !entry.file_type()?.is_file() {
                continue;
            }
            match File::open(entry.path()).and_then(|f| f.sync_all()) {
                Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        File::open(self.root.as_path())?.sync_all()?;
        write_synced(&self.root.join(CHECKPOINT), &meta)
    }
}

/// Writes `path` through a temporary file and a rename; fsynced when `sync`.
fn replace(path: &Path, data: &[u8], sync: bool) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let n = TEMP.fetch_add(1, Ordering::Relaxed);
    let tmp = dir.join(format!(".{name}.{}.{n}.tmp", std::process::id()));
    let mut f = File::create(&tmp)?;
    f.write_all(data)?;
    if sync {
        f.sync_data()?;
    }
    drop(f);
    std::fs::rename(&tmp, path)?;
    if sync {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

fn write_synced(path: &Path, data: &[u8]) -> io::Result<()> {
    replace(path, data, true)
}

/// A file being written; fsynced on terminate only in durable mode.
struct Writer {
    file: File,
    durable: bool,
}

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.file.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl TerminatingWrite for Writer {
    fn terminate_ref(&mut self, _: AntiCallToken) -> io::Result<()> {
        self.file.flush()?;
        if self.durable {
            self.file.sync_data()?;
        }
        Ok(())
    }
}

impl Directory for LazyDirectory {
    fn get_file_handle(&self, path: &Path) -> Result<Arc<dyn FileHandle>, OpenReadError> {
        self.inner.get_file_handle(path)
    }

    fn delete(&self, path: &Path) -> Result<(), DeleteError> {
        self.inner.delete(path)
    }

    fn exists(&self, path: &Path) -> Result<bool, OpenReadError> {
        self.inner.exists(path)
    }

    fn open_write(&self, path: &Path) -> Result<WritePtr, OpenWriteError> {
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(self.root.join(path))
            .map_err(|e| {
                if e.kind() == io::ErrorKind::AlreadyExists {
                    OpenWriteError::FileAlreadyExists(path.to_path_buf())
                } else {
                    OpenWriteError::wrap_io_error(e, path.to_path_buf())
                }
            })?;
        let durable = self.durable;
        Ok(BufWriter::new(Box::new(Writer { file, durable })))
    }

    fn atomic_read(&self, path: &Path) -> Result<Vec<u8>, OpenReadError> {
        self.inner.atomic_read(path)
    }

    fn atomic_write(&self, path: &Path, data: &[u8]) -> io::Result<()> {
        replace(&self.root.join(path), data, self.durable)
    }

    fn sync_directory(&self) -> io::Result<()> {
        if self.durable {
            self.inner.sync_directory()
        } else {
            Ok(())
        }
    }

    fn acquire_lock(&self, lock: &Lock) -> Result<DirectoryLock, LockError> {
        self.inner.acquire_lock(lock)
    }

    fn watch(&self, watch_callback: WatchCallback) -> tantivy::Result<WatchHandle> {
        self.inner.watch(watch_callback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reopen(root: &Path) -> bool {
        let (_dir, _lock) = LazyDirectory::open(root).unwrap();
        root.join(META).exists()
    }

    #[test]
    fn an_index_from_an_earlier_boot_is_kept_only_when_checkpointed() {
        if boot_id().is_none() {
            return; // every write is fsynced there: nothing to check
        }
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("index");
        {
            let (dir, _lock) = LazyDirectory::open(&root).unwrap();
            dir.atomic_write(Path::new(META), b"{\"v\":1}").unwrap();
        }
        // Same boot (a killed process): kept.
        assert!(reopen(&root));
        // Written during another boot and never checkpointed: discarded.
        std::fs::write(root.join(WRITER_BOOT), "an-earlier-boot").unwrap();
        assert!(!reopen(&root));
        // Checkpointed, then the machine restarted: kept.
        {
            let (dir, _lock) = LazyDirectory::open(&root).unwrap();
            dir.atomic_write(Path::new(META), b"{\"v\":2}").unwrap();
            dir.checkpoint().unwrap();
        }
        std::fs::write(root.join(WRITER_BOOT), "an-earlier-boot").unwrap();
        assert!(reopen(&root));
        // A commit after the checkpoint, then a machine restart: discarded.
        std::fs::write(root.join(WRITER_BOOT), "an-earlier-boot").unwrap();
        std::fs::write(root.join(META), b"{\"v\":3}").unwrap();
        assert!(!reopen(&root));
        // One process at a time.
        let (_dir, _lock) = LazyDirectory::open(&root).unwrap();
        assert!(LazyDirectory::open(&root).is_err());
    }
}
