//! Owner-only files for the stores: directories are created `0700` (and tightened if
//! they exist), files are written `0600` through a temporary file in the same directory
//! and renamed into place, so a crash never leaves a half-written entry.

use crate::private_file::Durability;
use std::path::{Path, PathBuf};

use super::StoreError;

/// Creates `dir` (and parents) readable by the owner only; an existing `dir` is set to
/// `0700`.
pub(super) fn private_dir(dir: &Path) -> Result<(), StoreError> {
    let io = |source| StoreError::Io { path: dir.to_path_buf(), source };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
    }
    Ok(())
}

/// Writes `data` to `path` atomically with mode `0600`, synced to disk.
fn write_private(path: &Path, data: &[u8]) -> Result<(), StoreError> {
    crate::private_file::write(path, Durability::Synced, |file| file.write_all(data))
        .map_err(|source| StoreError::Io { path: path.to_path_buf(), source })
}

/// Writes an entry's files in order, each as [`write_private`] does (the last is the one
/// that makes the entry exist). On an error (a full disk) the files this call created are
/// removed again: the store is left as it was, not with half an entry.
pub(super) fn write_entry(files: &[(PathBuf, &[u8])]) -> Result<(), StoreError> {
    let mut created = Vec::new();
    for (path, data) in files {
        let existed = path.exists();
        if let Err(error) = write_private(path, data) {
            for path in created {
                let _ = std::fs::remove_file(path);
            }
            return Err(error);
        }
        if !existed {
            created.push(path);
        }
    }
    Ok(())
}

/// Reads `path`; `Ok(None)` when it does not exist.
pub(super) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match std::fs::read(path) {
        Ok(data) => Ok(Some(data)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Io { path: path.to_path_buf(), source }),
    }
}

/// Removes `path`; a file already gone is fine.
pub(super) fn remove(path: &Path) -> Result<(), StoreError> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(source) => Err(StoreError::Io { path: path.to_path_buf(), source }),
    }
}

/// The stems of `dir`'s files named `STEM.suffix` (sorted); none when `dir` is missing.
pub(super) fn stems(dir: &Path, suffix: &str) -> Result<Vec<String>, StoreError> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(source) => return Err(StoreError::Io { path: dir.to_path_buf(), source }),
    };
    let mut stems = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| StoreError::Io { path: dir.to_path_buf(), source })?;
        if let Some(stem) = entry.file_name().to_str().and_then(|n| n.strip_suffix(suffix))
            && !stem.starts_with('.')
        {
            stems.push(stem.to_owned());
        }
    }
    stems.sort();
    Ok(stems)
}

pub(super) use crate::timestamp::rfc3339;
