//! Folders and files only the server's own user may open. The data directory holds the
//! SQLite database (password hashes, data bag contents, the file-URL signing key), private
//! keys, cookbook files and the search index, so what Brigade creates there is 0700
//! (folders) and 0600 (files), whatever the umask. The permissions of a data directory
//! that already exists are the operator's to choose: they are not changed, but a start on
//! one that other users may enter logs a warning.

use std::io::{self, Write};
use std::path::Path;

/// Creates `dir` and its missing parents as 0700; an existing folder is left as it is.
pub fn create_dir(dir: &Path) -> io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

fn options() -> std::fs::OpenOptions {
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    opts
}

/// Opens `path` for writing from the start: a new file is created 0600, and an existing
/// one (whose mode opening does not change) is truncated and made 0600.
pub fn create_file(path: &Path) -> io::Result<std::fs::File> {
    let file = options().create(true).truncate(true).open(path)?;
    restrict(path)?;
    Ok(file)
}

/// Writes `data` to `path` as a 0600 file.
pub fn write(path: &Path, data: &[u8]) -> io::Result<()> {
    create_file(path)?.write_all(data)
}

/// Creates an empty 0600 file at `path` unless something is there; whether it did.
pub fn create_new_empty(path: &Path) -> io::Result<bool> {
    match options().create_new(true).open(path) {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(e),
    }
}

/// Makes the file at `path` 0600.
pub fn restrict(path: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

/// Whether a Unix mode lets the group or other users in.
pub fn is_shared(mode: u32) -> bool {
    mode & 0o077 != 0
}

/// Creates the data directory 0700, or warns when an existing one lets other users in.
pub fn prepare_data_dir(dir: &Path) -> io::Result<()> {
    let meta = match std::fs::metadata(dir) {
        Ok(meta) => meta,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return create_dir(dir),
        Err(e) => return Err(e),
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if is_shared(mode) {
            tracing::warn!(
                data_dir = %dir.display(),
                mode = %format_args!("{mode:04o}"),
                "the data directory is open to other users, and it holds the database (password \
                 hashes, data bag items, the file-URL signing key) and private keys; Brigade \
                 leaves an existing directory's permissions alone: run `chmod 700 {}`",
                dir.display()
            );
        }
    }
    #[cfg(not(unix))]
    let _ = meta;
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn folders_and_files_are_private_and_existing_folders_kept() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        prepare_data_dir(&dir).unwrap();
        assert_eq!((mode(&tmp.path().join("a")), mode(&dir)), (0o700, 0o700));

        let shared = tmp.path().join("shared");
        std::fs::create_dir(&shared).unwrap();
        std::fs::set_permissions(&shared, std::fs::Permissions::from_mode(0o750)).unwrap();
        prepare_data_dir(&shared).unwrap();
        assert_eq!(mode(&shared), 0o750);

        let f = dir.join("f");
        std::fs::write(&f, "old").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        write(&f, b"new").unwrap();
        assert_eq!(
            (mode(&f), std::fs::read(&f).unwrap()),
            (0o600, b"new".to_vec())
        );
        let g = dir.join("g");
        assert!(create_new_empty(&g).unwrap());
        assert!(!create_new_empty(&g).unwrap());
        assert_eq!(mode(&g), 0o600);
        assert!(is_shared(0o755) && is_shared(0o710) && !is_shared(0o700));
    }
}
