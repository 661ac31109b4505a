//! [`CaVault`]: the interception CA of a running proxy. The root stays sealed on disk
//! (`smime_ca::CaFiles`); the store passphrase unseals it just long enough to mint the
//! run's name-constrained intermediate, which goes to the [`LeafAuthority`] that signs the
//! leaves. Until then the proxy intercepts nothing (the mitm handler refuses the sites).
//!
//! ```text
//! passphrase (run: file or prompt; own page) ─▶ CaVault::unlock
//!    ─▶ CaFiles::unseal (or create, for a new directory; or migrate a clear ca-key.pem)
//!    ─▶ Intermediate::mint(root, sites + blocked hosts + own origin) ─▶ LeafAuthority::install
//!    ─▶ the root is dropped (its key wiped)
//! ```

use std::sync::{Arc, Mutex, PoisonError, RwLock};

use smime_ca::{
    CaFiles, CaState, INTERMEDIATE_VALIDITY, Intermediate, LeafAuthority, LocalCa, Migration, RootCertificate,
};
use time::OffsetDateTime;

use super::StoreError;

/// Where the interception CA of this run stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaStatus {
    /// No CA in the configuration directory yet: the first store passphrase creates it.
    Missing,
    /// The root is sealed (or the intermediate expired): nothing is intercepted.
    Sealed,
    /// Leaves are minted until then.
    Ready {
        /// When the intermediate must be renewed (by unlocking again).
        until: OffsetDateTime,
    },
}

/// What one [`CaVault::unlock`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CaUnlocked {
    /// A new root was created (sealed under the passphrase).
    pub created: bool,
    /// A clear `ca-key.pem` of an older version was sealed and removed.
    pub migrated: Option<Migration>,
}

/// The interception CA of a running proxy.
#[derive(Debug)]
pub struct CaVault {
    /// `None` for a proxy handed an unsealed root by its embedder.
    files: Option<CaFiles>,
    label: String,
    names: Vec<String>,
    authority: LeafAuthority,
    root: RwLock<Option<Arc<RootCertificate>>>,
    unlocking: Mutex<()>,
}

impl CaVault {
    /// The CA of `files` for a proxy intercepting `names` (the configured sites, the hosts
    /// their rules block, and the own origin), sealed until [`Self::unlock`]. `label`
    /// names a root created here (`smime-proxy local CA (<label>)`).
    pub fn sealed(files: CaFiles, label: String, names: Vec<String>, cache_size: usize) -> Result<Self, StoreError> {
        let root = match files.state()? {
            CaState::Missing => None,
            _ => Some(Arc::new(files.certificate()?)),
        };
        Ok(Self {
            files: Some(files),
            label,
            names,
            authority: LeafAuthority::new(cache_size)?,
            root: RwLock::new(root),
            unlocking: Mutex::new(()),
        })
    }

    /// A CA that is ready at once: an intermediate for `names` minted from `root`, which
    /// the caller holds (an embedder or a test; `run` uses [`Self::sealed`]). Nothing is
    /// read from or written to disk.
    pub fn from_root(root: &LocalCa, names: Vec<String>, cache_size: usize) -> Result<Self, StoreError> {
        let vault = Self {
            files: None,
            label: String::new(),
            names,
            authority: LeafAuthority::new(cache_size)?,
            root: RwLock::new(Some(Arc::new(root.certificate().clone()))),
            unlocking: Mutex::new(()),
        };
        vault.install(root)?;
        Ok(vault)
    }

    /// The public root certificate; `None` before the first passphrase created it.
    pub fn root(&self) -> Option<Arc<RootCertificate>> {
        self.root.read().unwrap_or_else(PoisonError::into_inner).clone()
    }

    /// Where the CA stands.
    pub fn status(&self) -> CaStatus {
        match (self.authority.ready_until(), self.root()) {
            (Some(until), _) => CaStatus::Ready { until },
            (None, None) => CaStatus::Missing,
            (None, Some(_)) => CaStatus::Sealed,
        }
    }

    /// True when [`Self::unlock`] would accept any passphrase and seal the root under it:
    /// no CA yet, or a clear key of an older version.
    pub fn takes_any_passphrase(&self) -> Result<bool, StoreError> {
        let Some(files) = &self.files else {
            return Ok(false);
        };
        Ok(matches!(files.state()?, CaState::Missing | CaState::Clear))
    }

    /// The authority hudsucker asks for leaves (clones share its state).
    pub fn authority(&self) -> &LeafAuthority {
        &self.authority
    }

    /// Unseals the root with `passphrase` (creating it sealed under `passphrase` when the
    /// directory has none; sealing a clear key of an older version), mints a fresh
    /// intermediate and installs it. The root key is dropped before this returns. The
    /// caller has checked that `passphrase` is the key store's (see
    /// [`super::KeyRing::check_passphrase`]). Argon2id: call it off the async executor.
    pub fn unlock(&self, passphrase: &[u8]) -> Result<CaUnlocked, StoreError> {
        let Some(files) = &self.files else {
            return Ok(CaUnlocked::default());
        };
        let _one_at_a_time = self.unlocking.lock().unwrap_or_else(PoisonError::into_inner);
        let (ca, report) = match files.state()? {
            CaState::Missing => {
                let ca = files.create(&self.label, passphrase)?;
                (ca, CaUnlocked { created: true, migrated: None })
            }
            _ => {
                let unsealed = files.unseal(passphrase)?;
                (unsealed.ca, CaUnlocked { created: false, migrated: unsealed.migrated })
            }
        };
        *self.root.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(ca.certificate().clone()));
        self.install(&ca)?;
        drop(ca);
        tracing::info!(names = self.names.len(), "interception CA unsealed: intermediate minted, root key dropped");
        Ok(report)
    }

    fn install(&self, root: &LocalCa) -> Result<(), StoreError> {
        let intermediate = Intermediate::mint(root, &self.names, INTERMEDIATE_VALIDITY)?;
        self.authority.install(intermediate, root.certificate());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smime_crypto::seal::SealCost;

    const FAST: SealCost = SealCost { memory_kib: 8 * 1024, iterations: 1, parallelism: 1 };

    fn vault(dir: &std::path::Path) -> CaVault {
        let names = vec!["mail.example.org".to_owned(), "smime-proxy.invalid".to_owned()];
        CaVault::sealed(CaFiles::new(dir).with_cost(FAST), "t".into(), names, 10).unwrap()
    }

    #[test]
    fn a_new_directory_gets_its_root_at_the_first_passphrase() {
        let dir = tempfile::tempdir().unwrap();
        let vault = vault(dir.path());
        assert_eq!(vault.status(), CaStatus::Missing);
        assert!(vault.root().is_none());
        assert!(vault.authority().server_config("mail.example.org").is_err());
        assert!(vault.unlock(b"pass").unwrap().created);
        assert!(matches!(vault.status(), CaStatus::Ready { .. }));
        assert!(vault.authority().server_config("mail.example.org").is_ok());
        assert!(vault.authority().server_config("www.bank.example").is_err());
    }

    #[test]
    fn a_copy_of_the_directory_without_the_passphrase_mints_nothing() {
        let dir = tempfile::tempdir().unwrap();
        vault(dir.path()).unlock(b"pass").unwrap();
        let copy = tempfile::tempdir().unwrap();
        for entry in std::fs::read_dir(dir.path()).unwrap() {
            let entry = entry.unwrap();
            std::fs::copy(entry.path(), copy.path().join(entry.file_name())).unwrap();
        }
        let stolen = vault(copy.path());
        assert_eq!(stolen.status(), CaStatus::Sealed);
        assert!(stolen.authority().server_config("mail.example.org").is_err());
        assert!(matches!(stolen.unlock(b"guess"), Err(StoreError::WrongStorePassphrase)));
        assert!(stolen.authority().server_config("mail.example.org").is_err());
    }
}
