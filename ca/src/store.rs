//! Persistence: the CA as two PEM files in the configuration directory. The private key
//! file is created with mode 0600 and the directory with 0700 (on Unix), so only the owner
//! can read the key.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::{Error, LocalCa};

/// File name of the CA certificate (PEM).
pub(crate) const CERT_FILE: &str = "ca.pem";
/// File name of the CA private key (PKCS#8 PEM).
pub(crate) const KEY_FILE: &str = "ca-key.pem";

/// Where a CA lives on disk: `<dir>/ca.pem` and `<dir>/ca-key.pem`.
#[derive(Debug, Clone)]
pub struct CaFiles {
    dir: PathBuf,
}

/// The result of [`CaFiles::load_or_create`].
#[derive(Debug)]
pub struct LoadOrCreate {
    /// The CA.
    pub ca: LocalCa,
    /// True when the CA did not exist and was created now.
    pub created: bool,
}

impl CaFiles {
    /// The CA files inside `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into() }
    }

    /// Path of the certificate file.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.join(CERT_FILE)
    }

    /// Path of the private key file.
    pub fn key_path(&self) -> PathBuf {
        self.dir.join(KEY_FILE)
    }

    /// True when both files exist.
    pub fn exists(&self) -> bool {
        self.cert_path().is_file() && self.key_path().is_file()
    }

    /// Loads the CA.
    pub fn load(&self) -> Result<LocalCa, Error> {
        let cert_path = self.cert_path();
        let cert = read(&cert_path)?;
        let key = zeroize::Zeroizing::new(read(&self.key_path())?);
        LocalCa::from_pem(&cert, &key, &cert_path)
    }

    /// Writes the CA, creating the directory (0700) if needed. Refuses to overwrite an
    /// existing key file.
    pub fn save(&self, ca: &LocalCa) -> Result<(), Error> {
        create_private_dir(&self.dir)?;
        write_new(&self.key_path(), ca.key_pem().as_bytes(), 0o600)?;
        write_new(&self.cert_path(), ca.cert_pem().as_bytes(), 0o644)
    }

    /// Loads the CA if both files exist, otherwise generates one with `label` and saves it.
    pub fn load_or_create(&self, label: &str) -> Result<LoadOrCreate, Error> {
        if self.exists() {
            return Ok(LoadOrCreate { ca: self.load()?, created: false });
        }
        let ca = LocalCa::generate(label)?;
        self.save(&ca)?;
        Ok(LoadOrCreate { ca, created: true })
    }
}

fn read(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

/// Creates `dir` (and parents); a directory created here gets mode 0700.
pub(crate) fn create_private_dir(dir: &Path) -> Result<(), Error> {
    if dir.is_dir() {
        return Ok(());
    }
    let io = |source| Error::Io { path: dir.to_path_buf(), source };
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt as _;
        fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).map_err(io)
    }
    #[cfg(not(unix))]
    {
        fs::create_dir_all(dir).map_err(io)
    }
}

/// Writes a file that must not exist yet, with `mode` on Unix (set at creation, so the
/// key is never readable by others, not even briefly).
fn write_new(path: &Path, contents: &[u8], mode: u32) -> Result<(), Error> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let mut file = options.open(path).map_err(io)?;
    file.write_all(contents).map_err(io)?;
    file.sync_all().map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn load_or_create_creates_once_then_loads() {
        let tmp = tempfile::tempdir().unwrap();
        let files = CaFiles::new(tmp.path().join("conf"));
        let first = files.load_or_create("t").unwrap();
        assert!(first.created);
        let second = files.load_or_create("t").unwrap();
        assert!(!second.created);
        assert_eq!(first.ca.cert_der(), second.ca.cert_der());
    }

    #[cfg(unix)]
    #[test]
    fn key_is_owner_only_and_dir_is_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("conf");
        let files = CaFiles::new(&dir);
        files.load_or_create("t").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&files.key_path()), 0o600);
        assert_eq!(mode(&dir), 0o700);
    }

    #[test]
    fn save_refuses_to_overwrite_a_key() {
        let tmp = tempfile::tempdir().unwrap();
        let files = CaFiles::new(tmp.path());
        files.save(&LocalCa::generate("a").unwrap()).unwrap();
        let err = files.save(&LocalCa::generate("b").unwrap()).unwrap_err();
        assert!(matches!(err, Error::Io { .. }), "{err}");
    }
}
