//! Owner-only files written atomically: the content goes to a hidden `.NAME.partial`
//! sibling created with mode `0600`, which is renamed into place only once it is
//! complete. A crash or an error never leaves a half-written file, and nothing written
//! here (keys, plaintext) is ever readable by other users.

use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Whether the data must be on disk before the rename (`fsync`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Durability {
    /// The key and certificate stores: an entry must survive a power cut whole.
    Synced,
    /// Command output: the rename alone is atomic enough, and fsync costs seconds on
    /// large messages.
    Buffered,
}

/// Writes `path` through `write`; on any error the partial file is removed.
pub fn write(
    path: &Path,
    durability: Durability,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let partial = partial_path(path);
    let result = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = io::BufWriter::with_capacity(1 << 16, options.open(&partial)?);
        write(&mut file)?;
        let file = file.into_inner().map_err(io::IntoInnerError::into_error)?;
        if durability == Durability::Synced {
            file.sync_all()?;
        }
        drop(file);
        std::fs::rename(&partial, path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&partial);
    }
    result
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(".partial");
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_owner_only_and_leaves_nothing_on_error() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("out.eml");
        write(&path, Durability::Buffered, |w| w.write_all(b"secret")).expect("write");
        assert_eq!(std::fs::read(&path).expect("read"), b"secret");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).expect("meta").permissions().mode() & 0o777, 0o600);
        }
        let failed = write(&dir.path().join("no.eml"), Durability::Synced, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("stop"))
        });
        assert!(failed.is_err());
        assert_eq!(std::fs::read_dir(dir.path()).expect("list").count(), 1, "only out.eml remains");
    }
}
