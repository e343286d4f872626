//! Safe reading of profile archives (gzip-compressed tar or zip) into a sorted map of
//! relative path → bytes, and the canonical tar.gz written back from such a map.
//!
//! Nothing is unpacked to disk. Every entry name is checked before its data is read
//! (absolute paths, `..`, links, devices and FIFOs are refused), and every byte of
//! decompressed output is counted against [`Limits`], so a decompression bomb stops at
//! the limit instead of filling memory.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::io::{self, Cursor, Read};
use std::rc::Rc;

use flate2::read::GzDecoder;
use flate2::write::GzEncoder;
use flate2::Compression;

use super::ProfileError;

/// The files of an archive: relative path (`/`-separated, no common top directory) →
/// contents. Sorted by path, as InSpec sorts them for the profile sha256.
pub type ArchiveFiles = BTreeMap<String, Vec<u8>>;

/// Bounds on what one archive may unpack to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Entries of any kind (files, directories, headers the reader skips).
    pub max_entries: usize,
    /// Uncompressed bytes of all files together; also the bound for a single file.
    pub max_unpacked_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_entries: 10_000,
            max_unpacked_bytes: 100 * 1024 * 1024,
        }
    }
}

/// Which container an upload was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ArchiveFormat {
    TarGz,
    Zip,
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZIP_MAGIC: [u8; 4] = *b"PK\x03\x04";
const ZIP_EMPTY_MAGIC: [u8; 4] = *b"PK\x05\x06";

/// The container format by magic bytes, or `None` for anything else.
pub fn detect_format(bytes: &[u8]) -> Option<ArchiveFormat> {
    if bytes.starts_with(&GZIP_MAGIC) {
        Some(ArchiveFormat::TarGz)
    } else if bytes.starts_with(&ZIP_MAGIC) || bytes.starts_with(&ZIP_EMPTY_MAGIC) {
        Some(ArchiveFormat::Zip)
    } else {
        None
    }
}

/// Reads a tar.gz or zip archive into its files, common top directory stripped.
pub fn read_archive(
    bytes: &[u8],
    limits: &Limits,
) -> Result<(ArchiveFormat, ArchiveFiles), ProfileError> {
    let format = detect_format(bytes).ok_or(ProfileError::NotAnArchive)?;
    let files = match format {
        ArchiveFormat::TarGz => read_tar_gz(bytes, limits)?,
        ArchiveFormat::Zip => read_zip(bytes, limits)?,
    };
    Ok((format, strip_common_prefix(files)))
}

/// Counts entries and bytes as they are read, so limits hold across both formats.
struct Budget<'a> {
    limits: &'a Limits,
    entries: usize,
    bytes: u64,
}

impl<'a> Budget<'a> {
    fn new(limits: &'a Limits) -> Self {
        Budget {
            limits,
            entries: 0,
            bytes: 0,
        }
    }

    fn entry(&mut self) -> Result<(), ProfileError> {
        self.entries += 1;
        if self.entries > self.limits.max_entries {
            return Err(ProfileError::TooManyEntries {
                limit: self.limits.max_entries,
            });
        }
        Ok(())
    }

    /// Reads one file's data, stopping one byte past the total limit; a file that
    /// breaks it is then counted (not kept) up to the single-file limit, to say which
    /// limit it broke. Nothing decompresses more than `max_unpacked_bytes + 1` per file.
    fn read_file(&mut self, name: &str, mut reader: impl Read) -> Result<Vec<u8>, ProfileError> {
        let max = self.limits.max_unpacked_bytes;
        let remaining = max.saturating_sub(self.bytes);
        let corrupt = |e: io::Error| ProfileError::Corrupt(format!("{name}: {e}"));
        let mut data = Vec::new();
        (&mut reader)
            .take(remaining.saturating_add(1))
            .read_to_end(&mut data)
            .map_err(corrupt)?;
        let mut len = data.len() as u64;
        if len > remaining {
            let rest = max.saturating_add(1).saturating_sub(len);
            len += io::copy(&mut reader.take(rest), &mut io::sink()).map_err(corrupt)?;
            if len > max {
                return Err(ProfileError::FileTooLarge {
                    entry: name.to_string(),
                    limit: max,
                });
            }
            return Err(ProfileError::TooLarge { limit: max });
        }
        self.bytes += len;
        Ok(data)
    }
}

/// Caps the whole decompressed stream, headers and skipped data included: the tar
/// reader discards the data of entries it skips (directories with a size, say) without
/// our per-file count seeing it.
struct StreamCap<R> {
    inner: R,
    left: u64,
    hit: Rc<Cell<bool>>,
}

impl<R: Read> Read for StreamCap<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            self.hit.set(true);
            return Err(io::Error::other("archive exceeds the unpacked size limit"));
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        self.left -= n as u64;
        Ok(n)
    }
}

fn read_tar_gz(bytes: &[u8], limits: &Limits) -> Result<ArchiveFiles, ProfileError> {
    let mut budget = Budget::new(limits);
    let hit = Rc::new(Cell::new(false));
    // Room for every header (512 bytes, plus as much again for long names and pax
    // records) and the block padding of each entry, on top of the file data.
    let overhead = (limits.max_entries as u64 + 8).saturating_mul(2048);
    let stream = StreamCap {
        inner: GzDecoder::new(bytes),
        left: limits.max_unpacked_bytes.saturating_add(overhead),
        hit: hit.clone(),
    };
    let mut archive = tar::Archive::new(stream);
    let mut files = ArchiveFiles::new();
    let too_large = |e: io::Error| {
        if hit.get() {
            ProfileError::TooLarge {
                limit: limits.max_unpacked_bytes,
            }
        } else {
            corrupt(e)
        }
    };
    let entries = archive.entries().map_err(too_large)?;
    for entry in entries {
        let entry = entry.map_err(too_large)?;
        budget.entry()?;
        let raw_name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let kind = entry.header().entry_type();
        if kind.is_pax_global_extensions() {
            continue;
        }
        let Some(path) = clean_path(&raw_name)? else {
            continue;
        };
        if kind.is_dir() {
            continue;
        }
        if kind.is_symlink() || kind.is_hard_link() {
            return Err(ProfileError::Link(raw_name));
        }
        if kind.is_character_special() || kind.is_block_special() || kind.is_fifo() {
            return Err(ProfileError::SpecialFile(raw_name));
        }
        if !(kind.is_file() || kind.is_contiguous() || kind.is_gnu_sparse()) {
            return Err(ProfileError::SpecialFile(raw_name));
        }
        if is_pax_global_header_name(&path) {
            continue;
        }
        let data = budget.read_file(&raw_name, entry).map_err(|e| {
            if hit.get() {
                ProfileError::TooLarge {
                    limit: limits.max_unpacked_bytes,
                }
            } else {
                e
            }
        })?;
        insert_file(&mut files, path, data)?;
    }
    Ok(files)
}

fn read_zip(bytes: &[u8], limits: &Limits) -> Result<ArchiveFiles, ProfileError> {
    let mut budget = Budget::new(limits);
    let mut archive = zip::ZipArchive::new(Cursor::new(bytes)).map_err(corrupt)?;
    // The central directory gives the count up front: refuse before touching any entry.
    if archive.len() > limits.max_entries {
        return Err(ProfileError::TooManyEntries {
            limit: limits.max_entries,
        });
    }
    let mut files = ArchiveFiles::new();
    for i in 0..archive.len() {
        budget.entry()?;
        let file = archive.by_index(i).map_err(corrupt)?;
        // Windows zip tools may write `\` separators.
        let raw_name = String::from_utf8_lossy(file.name_raw()).replace('\\', "/");
        let Some(path) = clean_path(&raw_name)? else {
            continue;
        };
        if let Some(mode) = file.unix_mode() {
            match mode & S_IFMT {
                S_IFLNK => return Err(ProfileError::Link(raw_name)),
                0 | S_IFREG | S_IFDIR => {}
                _ => return Err(ProfileError::SpecialFile(raw_name)),
            }
        }
        if file.is_symlink() {
            return Err(ProfileError::Link(raw_name));
        }
        if file.is_dir() || raw_name.ends_with('/') {
            continue;
        }
        if is_pax_global_header_name(&path) {
            continue;
        }
        let data = budget.read_file(&raw_name, file)?;
        insert_file(&mut files, path, data)?;
    }
    Ok(files)
}

const S_IFMT: u32 = 0o170_000;
const S_IFREG: u32 = 0o100_000;
const S_IFDIR: u32 = 0o040_000;
const S_IFLNK: u32 = 0o120_000;

fn corrupt(e: impl std::fmt::Display) -> ProfileError {
    ProfileError::Corrupt(e.to_string())
}

fn is_pax_global_header_name(path: &str) -> bool {
    path == "pax_global_header" || path.ends_with("/pax_global_header")
}

fn insert_file(files: &mut ArchiveFiles, path: String, data: Vec<u8>) -> Result<(), ProfileError> {
    // Two entries with one name would let an archive show one file to one reader and
    // another to the next (tar's last-wins, a zip reader's first-wins).
    if files.contains_key(&path) {
        return Err(ProfileError::DuplicateEntry(path));
    }
    files.insert(path, data);
    Ok(())
}

/// The entry name as a relative path with `./` and empty components dropped; `None`
/// for the archive root itself. Absolute paths and `..` components are errors.
fn clean_path(raw: &str) -> Result<Option<String>, ProfileError> {
    if raw.starts_with('/') || raw.contains('\0') || has_drive_prefix(raw) {
        return Err(ProfileError::AbsolutePath(raw.to_string()));
    }
    let mut parts = Vec::new();
    for part in raw.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(ProfileError::ParentDir(raw.to_string())),
            p => parts.push(p),
        }
    }
    if parts.is_empty() {
        return Ok(None);
    }
    Ok(Some(parts.join("/")))
}

fn has_drive_prefix(raw: &str) -> bool {
    let b = raw.as_bytes();
    b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':'
}

/// Drops the longest directory prefix all files share, as InSpec's file provider does,
/// so `myprofile/inspec.yml` reads as `inspec.yml`.
fn strip_common_prefix(files: ArchiveFiles) -> ArchiveFiles {
    let mut iter = files.keys();
    let Some(first) = iter.next() else {
        return files;
    };
    let mut prefix: Vec<&str> = first.split('/').collect();
    prefix.pop(); // the file name itself
    for path in iter {
        let dirs: Vec<&str> = path.split('/').collect();
        let dirs = &dirs[..dirs.len() - 1];
        let same = prefix.iter().zip(dirs).take_while(|(a, b)| a == b).count();
        prefix.truncate(same);
        if prefix.is_empty() {
            return files;
        }
    }
    if prefix.is_empty() {
        return files;
    }
    let cut = prefix.iter().map(|p| p.len() + 1).sum::<usize>();
    files
        .into_iter()
        .map(|(path, data)| (path[cut..].to_string(), data))
        .collect()
}

/// Fixed timestamp of canonical archives (2000-01-01T00:00:00Z): stable bytes, and not
/// the epoch, which some tar tools warn about.
const CANONICAL_MTIME: u64 = 946_684_800;

/// A deterministic tar.gz of `files`: entries in path order, regular files only, mode
/// 0644, owner 0:0, fixed mtime, gzip header without name or time. The same map always
/// gives the same bytes, so a zip upload can be served as `/tar` with a stable hash.
pub fn canonical_tar_gz(files: &ArchiveFiles) -> io::Result<Vec<u8>> {
    let gz = flate2::GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::default());
    let mut builder = tar::Builder::new(gz);
    builder.mode(tar::HeaderMode::Deterministic);
    for (path, data) in files {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(tar::EntryType::Regular);
        header.set_size(data.len() as u64);
        header.set_mode(0o644);
        header.set_uid(0);
        header.set_gid(0);
        header.set_mtime(CANONICAL_MTIME);
        builder.append_data(&mut header, path, data.as_slice())?;
    }
    let gz: GzEncoder<Vec<u8>> = builder.into_inner()?;
    gz.finish()
}
