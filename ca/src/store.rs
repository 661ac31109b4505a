//! Persistence: the root in the configuration directory. `ca.pem` is the public
//! certificate (0644); `ca-key.sealed` is the private key as DER PKCS#8 sealed under the
//! store passphrase (`smime_crypto::seal`: Argon2id + AES-256-GCM, the same sealing as the
//! S/MIME keys), 0600. No file here can sign anything without the passphrase.
//!
//! `ca-key.pem`, the clear key of versions before sealing, is read once, at the first
//! unseal: its key is sealed, the clear file overwritten and removed ([`CaFiles::unseal`]).

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use smime_crypto::seal::{SealCost, seal, unseal};
use zeroize::Zeroizing;

use crate::{Error, LocalCa, RootCertificate};

/// File name of the CA certificate (PEM).
pub(crate) const CERT_FILE: &str = "ca.pem";
/// File name of the sealed CA private key.
const SEALED_KEY_FILE: &str = "ca-key.sealed";
/// File name of the clear CA private key written by versions before sealing.
const CLEAR_KEY_FILE: &str = "ca-key.pem";

/// Where a CA lives on disk: `<dir>/ca.pem` and `<dir>/ca-key.sealed`.
#[derive(Debug, Clone)]
pub struct CaFiles {
    dir: PathBuf,
    cost: SealCost,
}

/// What is on disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CaState {
    /// No CA yet: the first passphrase creates one.
    Missing,
    /// The certificate and the sealed key.
    Sealed,
    /// The certificate and a clear key from an older version: sealed at the first unseal.
    Clear,
}

/// What [`CaFiles::unseal`] opened.
#[derive(Debug)]
pub struct Unsealed {
    /// The root with its key: mint the intermediate, then drop it.
    pub ca: LocalCa,
    /// Set when a clear `ca-key.pem` was sealed and removed now.
    pub migrated: Option<Migration>,
}

/// What the migration of a clear key did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Migration {
    /// True when the certificate was re-issued (same key and subject, so the same SPKI
    /// hash) because the old one allowed no intermediate (`pathLenConstraint` 0).
    pub reissued: bool,
}

impl CaFiles {
    /// The CA files inside `dir`, sealing with the default Argon2id cost.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), cost: SealCost::DEFAULT }
    }

    /// The same files sealing new keys at `cost` (tests use a cheap one; unsealing reads
    /// the cost from the file).
    pub fn with_cost(mut self, cost: SealCost) -> Self {
        self.cost = cost;
        self
    }

    /// Path of the certificate file.
    pub fn cert_path(&self) -> PathBuf {
        self.dir.join(CERT_FILE)
    }

    /// Path of the sealed private key.
    pub fn sealed_key_path(&self) -> PathBuf {
        self.dir.join(SEALED_KEY_FILE)
    }

    /// Path of an old clear private key (migrated at the first unseal).
    pub fn clear_key_path(&self) -> PathBuf {
        self.dir.join(CLEAR_KEY_FILE)
    }

    /// What is on disk. A certificate without any key is an error, not a missing CA:
    /// creating a new one would silently replace what the browser trusts.
    pub fn state(&self) -> Result<CaState, Error> {
        if !self.cert_path().is_file() {
            return Ok(CaState::Missing);
        }
        if self.sealed_key_path().is_file() {
            Ok(CaState::Sealed)
        } else if self.clear_key_path().is_file() {
            Ok(CaState::Clear)
        } else {
            Err(Error::Malformed { path: self.sealed_key_path(), reason: "the CA's private key is missing" })
        }
    }

    /// The public certificate (no passphrase needed).
    pub fn certificate(&self) -> Result<RootCertificate, Error> {
        let path = self.cert_path();
        RootCertificate::from_pem(&read(&path)?, &path)
    }

    /// Generates a CA with `label`, writes its key sealed under `passphrase` and its
    /// certificate, and returns it. Refuses when a certificate exists.
    pub fn create(&self, label: &str, passphrase: &[u8]) -> Result<LocalCa, Error> {
        if self.cert_path().exists() {
            return Err(Error::Exists { path: self.cert_path() });
        }
        let ca = LocalCa::generate(label)?;
        create_private_dir(&self.dir)?;
        // The key first: the certificate's presence is what makes the CA exist.
        self.write_sealed(&ca, passphrase)?;
        write_atomic(&self.cert_path(), ca.certificate().pem().as_bytes(), 0o644)?;
        Ok(ca)
    }

    /// Opens the root with `passphrase`. A clear key from an older version is sealed
    /// under `passphrase` now, then overwritten and removed; a certificate that allows no
    /// intermediate is re-issued with the same key.
    pub fn unseal(&self, passphrase: &[u8]) -> Result<Unsealed, Error> {
        if passphrase.is_empty() {
            return Err(Error::EmptyPassphrase);
        }
        let certificate = self.certificate()?;
        match self.state()? {
            CaState::Missing => {
                Err(Error::Io { path: self.cert_path(), source: std::io::Error::from(std::io::ErrorKind::NotFound) })
            }
            CaState::Sealed => {
                let path = self.sealed_key_path();
                let pkcs8 = unseal(&read_bytes(&path)?, passphrase).map_err(|e| match e {
                    smime_crypto::Error::WrongPassphrase => Error::WrongPassphrase,
                    other => Error::SealedFile { path: path.clone(), reason: other.to_string() },
                })?;
                Ok(Unsealed { ca: LocalCa::from_parts(certificate, &pkcs8, &path)?, migrated: None })
            }
            CaState::Clear => self.migrate(certificate, passphrase),
        }
    }

    fn migrate(&self, certificate: RootCertificate, passphrase: &[u8]) -> Result<Unsealed, Error> {
        let path = self.clear_key_path();
        let pem = Zeroizing::new(read_bytes(&path)?);
        let not_a_key = Error::Malformed { path: path.clone(), reason: "not a PEM private key" };
        let (_, block) = x509_parser::pem::parse_x509_pem(&pem).map_err(|_| not_a_key)?;
        let pkcs8 = Zeroizing::new(block.contents);
        let mut ca = LocalCa::from_parts(certificate, &pkcs8, &path)?;
        let reissued = !ca.certificate().allows_an_intermediate();
        if reissued {
            ca = ca.reissued()?;
        }
        self.write_sealed(&ca, passphrase)?;
        if reissued {
            write_atomic(&self.cert_path(), ca.certificate().pem().as_bytes(), 0o644)?;
        }
        wipe_and_remove(&path, pem.len())?;
        Ok(Unsealed { ca, migrated: Some(Migration { reissued }) })
    }

    fn write_sealed(&self, ca: &LocalCa, passphrase: &[u8]) -> Result<(), Error> {
        if passphrase.is_empty() {
            return Err(Error::EmptyPassphrase);
        }
        let path = self.sealed_key_path();
        let sealed = seal(&ca.key_pkcs8()?, passphrase, self.cost)
            .map_err(|e| Error::SealedFile { path: path.clone(), reason: e.to_string() })?;
        write_atomic(&path, &sealed, 0o600)
    }
}

fn read(path: &Path) -> Result<String, Error> {
    fs::read_to_string(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

fn read_bytes(path: &Path) -> Result<Vec<u8>, Error> {
    fs::read(path).map_err(|source| Error::Io { path: path.to_path_buf(), source })
}

/// Creates `dir` (and parents); a directory created here gets mode 0700.
fn create_private_dir(dir: &Path) -> Result<(), Error> {
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

/// Writes `contents` to a new temporary file beside `path` (created with `mode` on Unix,
/// so never readable by others, not even briefly), syncs it, renames it over `path` and
/// syncs the directory: a crash leaves the old file or the new one, never half of one.
fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> Result<(), Error> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("ca");
    let partial = path.with_file_name(format!(".{name}.partial"));
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(mode);
    }
    #[cfg(not(unix))]
    let _ = mode;
    let written = options.open(&partial).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    if let Err(source) = written {
        let _ = fs::remove_file(&partial);
        return Err(io(source));
    }
    fs::rename(&partial, path).map_err(io)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir).and_then(|d| d.sync_all()).map_err(io)?;
    }
    Ok(())
}

/// Overwrites the `len` bytes of `path` with zeros, syncs, and removes it. (On a
/// copy-on-write or journalling file system old blocks may survive; the README says so.)
fn wipe_and_remove(path: &Path, len: usize) -> Result<(), Error> {
    let io = |source| Error::Io { path: path.to_path_buf(), source };
    let mut file = fs::OpenOptions::new().write(true).open(path).map_err(io)?;
    file.write_all(&vec![0u8; len]).and_then(|()| file.sync_all()).map_err(io)?;
    drop(file);
    fs::remove_file(path).map_err(io)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: SealCost = SealCost { memory_kib: 8 * 1024, iterations: 1, parallelism: 1 };

    fn files(dir: &Path) -> CaFiles {
        CaFiles::new(dir).with_cost(FAST)
    }

    #[test]
    fn create_then_unseal_gives_the_same_root() {
        let tmp = tempfile::tempdir().unwrap();
        let files = files(&tmp.path().join("conf"));
        assert_eq!(files.state().unwrap(), CaState::Missing);
        let made = files.create("t", b"pass").unwrap();
        assert_eq!(files.state().unwrap(), CaState::Sealed);
        let opened = files.unseal(b"pass").unwrap();
        assert!(opened.migrated.is_none());
        assert_eq!(opened.ca.certificate().der(), made.certificate().der());
        assert_eq!(files.certificate().unwrap().der(), made.certificate().der());
        assert!(matches!(files.create("t", b"pass"), Err(Error::Exists { .. })));
    }

    #[test]
    fn the_sealed_file_holds_no_key_material_and_no_clear_key_is_written() {
        let tmp = tempfile::tempdir().unwrap();
        let files = files(tmp.path());
        let ca = files.create("t", b"pass").unwrap();
        let pkcs8 = ca.key_pkcs8().unwrap();
        // The private scalar is the 32 bytes after the ECPrivateKey's OCTET STRING header.
        let at = pkcs8.windows(2).position(|w| w == [0x04, 0x20]).unwrap();
        let scalar = &pkcs8[at + 2..at + 34];
        for entry in fs::read_dir(tmp.path()).unwrap() {
            let bytes = fs::read(entry.unwrap().path()).unwrap();
            assert!(!bytes.windows(32).any(|w| w == scalar), "key material on disk");
            assert!(!String::from_utf8_lossy(&bytes).contains("PRIVATE KEY"));
        }
        assert!(!files.clear_key_path().exists());
    }

    #[test]
    fn a_wrong_passphrase_is_a_clear_error() {
        let tmp = tempfile::tempdir().unwrap();
        let files = files(tmp.path());
        files.create("t", b"right").unwrap();
        let err = files.unseal(b"wrong").unwrap_err();
        assert!(matches!(err, Error::WrongPassphrase), "{err}");
        assert_eq!(err.to_string(), "wrong store passphrase: it does not open the local CA's key");
        assert!(matches!(files.unseal(b""), Err(Error::EmptyPassphrase)));
    }

    #[test]
    fn a_damaged_sealed_file_is_named() {
        let tmp = tempfile::tempdir().unwrap();
        let files = files(tmp.path());
        files.create("t", b"pass").unwrap();
        fs::write(files.sealed_key_path(), b"garbage").unwrap();
        let err = files.unseal(b"pass").unwrap_err();
        assert!(matches!(err, Error::SealedFile { .. }) && err.to_string().contains("ca-key.sealed"), "{err}");
    }

    #[test]
    fn a_certificate_without_a_key_is_not_a_missing_ca() {
        let tmp = tempfile::tempdir().unwrap();
        let files = files(tmp.path());
        files.create("t", b"pass").unwrap();
        fs::remove_file(files.sealed_key_path()).unwrap();
        assert!(matches!(files.state(), Err(Error::Malformed { .. })));
    }

    /// A root as versions before sealing wrote it: `pathLenConstraint` 0, clear PKCS#8 PEM.
    fn write_legacy(dir: &Path) -> (Vec<u8>, String) {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = rcgen::CertificateParams::default();
        params.distinguished_name.push(rcgen::DnType::CommonName, "smime-proxy local CA (old)");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Constrained(0));
        let cert = params.self_signed(&key).unwrap();
        fs::write(dir.join(CERT_FILE), cert.pem()).unwrap();
        fs::write(dir.join(CLEAR_KEY_FILE), key.serialize_pem()).unwrap();
        let spki = RootCertificate::from_pem(&cert.pem(), dir).unwrap().spki_sha256();
        (key.serialize_der(), spki)
    }

    #[test]
    fn a_clear_key_is_sealed_at_the_first_unseal_and_removed() {
        let tmp = tempfile::tempdir().unwrap();
        let files = files(tmp.path());
        let (pkcs8, spki) = write_legacy(tmp.path());
        assert_eq!(files.state().unwrap(), CaState::Clear);
        let opened = files.unseal(b"pass").unwrap();
        assert_eq!(opened.migrated, Some(Migration { reissued: true }));
        assert_eq!(files.state().unwrap(), CaState::Sealed);
        assert!(!files.clear_key_path().exists(), "the clear key is gone");
        let cert = files.certificate().unwrap();
        assert_eq!(cert.spki_sha256(), spki, "same key: SPKI-list trust holds");
        assert!(cert.allows_an_intermediate());
        let sealed = fs::read(files.sealed_key_path()).unwrap();
        assert!(!sealed.windows(pkcs8.len()).any(|w| w == pkcs8.as_slice()));
        // From now on the passphrase is needed, and the same one opens it.
        assert!(matches!(files.unseal(b"other"), Err(Error::WrongPassphrase)));
        assert!(files.unseal(b"pass").unwrap().migrated.is_none());
    }

    #[cfg(unix)]
    #[test]
    fn the_sealed_key_is_owner_only_and_the_dir_private() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("conf");
        let files = files(&dir);
        files.create("t", b"pass").unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&files.sealed_key_path()), 0o600);
        assert_eq!(mode(&dir), 0o700);
    }
}
