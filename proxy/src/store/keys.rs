//! [`KeyStore`]: the user's private keys on disk, each sealed under the one store
//! passphrase (Argon2id + AES-256-GCM, `smime_crypto::seal`), with its certificate chain
//! in clear beside it so that listing needs no passphrase. The format is in `FORMAT.md`.
//!
//! This module reads and writes files; keeping keys unlocked in memory is
//! [`super::KeyRing`]'s job.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use der::EncodePem as _;
use serde::{Deserialize, Serialize};
use smime_crypto::seal::{SealCost, seal, unseal};
use smime_crypto::{Certificate, Identity, PrivateKey, load_certificates};

use super::files::{private_dir, read_optional, remove, rfc3339, stems, write_entry};
use super::{CertSummary, StoreError};

/// Version of the key store's files (see `FORMAT.md`).
pub const KEY_FORMAT: u32 = 1;

const SEALED: &str = ".key.sealed";
const CHAIN: &str = ".chain.pem";
const META: &str = ".toml";

/// The key store directory, `<config-dir>/keys/`.
#[derive(Debug, Clone)]
pub struct KeyStore {
    dir: PathBuf,
    cost: SealCost,
}

/// One stored key, as listed (the private key itself stays sealed).
#[derive(Debug, Clone)]
pub struct KeyEntry {
    /// The certificate's facts.
    pub summary: CertSummary,
    /// When it was imported (RFC 3339).
    pub imported_at: String,
    /// The end-entity certificate.
    pub certificate: Certificate,
    /// The other certificates of the chain that came with it.
    pub chain: Vec<Certificate>,
}

/// What [`KeyStore::import`] did.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The stored entry.
    pub entry: KeyEntry,
    /// False when the key was already in the store (nothing was changed).
    pub added: bool,
    /// True when this was the store's first key (its passphrase is now the store's).
    pub first: bool,
}

/// `<stem>.toml`: what the certificate file does not say.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyMeta {
    format: u32,
    fingerprint: String,
    imported_at: String,
    sealed: String,
}

/// The key and certificates of the PKCS#12 file `p12` (OpenSSL 3 default or `-legacy`),
/// as [`KeyStore::import`] takes them.
pub fn read_pkcs12(p12: &[u8], passphrase: &[u8]) -> Result<Identity, StoreError> {
    smime_crypto::pkcs12::read_identity(p12, passphrase).map_err(|e| match e {
        smime_crypto::Error::WrongPassphrase => StoreError::WrongPkcs12Passphrase,
        other => StoreError::Crypto(other),
    })
}

impl KeyStore {
    /// The store of the configuration directory `config_dir` (nothing is created until
    /// the first import).
    pub fn new(config_dir: &Path) -> Self {
        Self { dir: config_dir.join("keys"), cost: SealCost::DEFAULT }
    }

    /// The same store sealing new keys at `cost` (tests use a cheap one; reading takes
    /// the cost from each file).
    pub fn with_cost(mut self, cost: SealCost) -> Self {
        self.cost = cost;
        self
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// True when no key has been imported.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(stems(&self.dir, SEALED)?.is_empty())
    }

    /// Every stored key, ordered by fingerprint.
    pub fn list(&self) -> Result<Vec<KeyEntry>, StoreError> {
        stems(&self.dir, SEALED)?.iter().map(|stem| self.entry(stem)).collect()
    }

    /// The key whose fingerprint is (or starts with, 8 hex digits at least) `query`, or
    /// the only key with the address `query`.
    pub fn find(&self, query: &str) -> Result<KeyEntry, StoreError> {
        let entries = self.list()?;
        let matching: Vec<KeyEntry> = if query.contains('@') {
            entries.into_iter().filter(|e| e.summary.has_address(query)).collect()
        } else {
            entries.into_iter().filter(|e| e.summary.fingerprint.starts_with(query)).collect()
        };
        match <[KeyEntry; 1]>::try_from(matching) {
            Ok([entry]) => Ok(entry),
            Err(matching) if matching.is_empty() => Err(StoreError::NotFound { store: "key", query: query.to_owned() }),
            Err(matching) => Err(StoreError::Ambiguous {
                query: query.to_owned(),
                candidates: matching.iter().map(|e| e.summary.fingerprint.to_string()).collect(),
            }),
        }
    }

    /// Checks `passphrase` against a stored key. An empty store accepts any non-empty
    /// passphrase (the first import sets it).
    pub fn check_passphrase(&self, passphrase: &[u8]) -> Result<(), StoreError> {
        if passphrase.is_empty() {
            return Err(StoreError::EmptyPassphrase);
        }
        match stems(&self.dir, SEALED)?.first() {
            Some(stem) => self.unseal(stem, passphrase).map(drop),
            None => Ok(()),
        }
    }

    /// Seals `identity`'s key under `passphrase` and stores it with its certificates.
    /// The passphrase must open the keys already stored. Importing a key that is already
    /// there changes nothing.
    pub fn import(&self, identity: &Identity, passphrase: &[u8]) -> Result<Imported, StoreError> {
        let summary = CertSummary::of(&identity.certificate)
            .ok_or_else(|| smime_crypto::Error::Crypto("cannot encode the certificate".into()))?;
        let first = self.is_empty()?;
        self.check_passphrase(passphrase)?;
        let stem = summary.fingerprint.hex();
        if self.path(&stem, SEALED).exists() {
            return Ok(Imported { entry: self.entry(&stem)?, added: false, first: false });
        }

        let mut pem = String::new();
        for certificate in std::iter::once(&identity.certificate).chain(&identity.chain) {
            let block = certificate
                .to_pem(der::pem::LineEnding::LF)
                .map_err(|e| smime_crypto::Error::Crypto(format!("encode certificate: {e}")))?;
            pem.push_str(&block);
        }
        let meta = KeyMeta {
            format: KEY_FORMAT,
            fingerprint: stem.clone(),
            imported_at: rfc3339(SystemTime::now()),
            sealed: "SPSEAL v1: Argon2id + AES-256-GCM over DER PKCS#8".into(),
        };
        let meta = toml::to_string(&meta).map_err(|e| smime_crypto::Error::Crypto(format!("metadata: {e}")))?;
        let pkcs8 = identity.key.to_pkcs8_der()?;
        let sealed = seal(&pkcs8, passphrase, self.cost)?;
        drop(pkcs8);

        private_dir(&self.dir)?;
        // The sealed key is written last: its presence is what makes the entry exist.
        write_entry(&[
            (self.path(&stem, CHAIN), pem.as_bytes()),
            (self.path(&stem, META), meta.as_bytes()),
            (self.path(&stem, SEALED), &sealed),
        ])?;
        Ok(Imported { entry: self.entry(&stem)?, added: true, first })
    }

    /// Reads the key and certificates of the PKCS#12 file `p12` (OpenSSL 3 default or
    /// `-legacy`) and imports them as [`Self::import`] does: what `keys import` calls.
    pub fn import_pkcs12(
        &self,
        p12: &[u8],
        p12_passphrase: &[u8],
        store_passphrase: &[u8],
    ) -> Result<Imported, StoreError> {
        self.import(&read_pkcs12(p12, p12_passphrase)?, store_passphrase)
    }

    /// Removes the key `query` names (see [`Self::find`]) and returns what it was.
    pub fn remove(&self, query: &str) -> Result<KeyEntry, StoreError> {
        let entry = self.find(query)?;
        let stem = entry.summary.fingerprint.hex();
        remove(&self.path(&stem, SEALED))?;
        remove(&self.path(&stem, CHAIN))?;
        remove(&self.path(&stem, META))?;
        Ok(entry)
    }

    /// Unseals the key of `entry` and pairs it with its certificates.
    pub fn open(&self, entry: &KeyEntry, passphrase: &[u8]) -> Result<Identity, StoreError> {
        let stem = entry.summary.fingerprint.hex();
        let pkcs8 = self.unseal(&stem, passphrase)?;
        let key = PrivateKey::from_pkcs8_der(&pkcs8).map_err(|e| self.damaged(&stem, SEALED, e))?;
        Identity::new(key, entry.certificate.clone(), entry.chain.clone()).map_err(|e| self.damaged(&stem, CHAIN, e))
    }

    /// Unseals every key (all share the store passphrase).
    pub fn open_all(&self, passphrase: &[u8]) -> Result<Vec<(KeyEntry, Identity)>, StoreError> {
        if passphrase.is_empty() {
            return Err(StoreError::EmptyPassphrase);
        }
        let entries = self.list()?;
        if entries.is_empty() {
            return Err(StoreError::NoKeys);
        }
        entries
            .into_iter()
            .map(|entry| {
                let identity = self.open(&entry, passphrase)?;
                Ok((entry, identity))
            })
            .collect()
    }

    fn unseal(&self, stem: &str, passphrase: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, StoreError> {
        let path = self.path(stem, SEALED);
        let sealed = read_optional(&path)?.ok_or_else(|| StoreError::NotFound { store: "key", query: stem.into() })?;
        unseal(&sealed, passphrase).map_err(|e| match e {
            smime_crypto::Error::WrongPassphrase => StoreError::WrongStorePassphrase,
            other => StoreError::Damaged { path, reason: other.to_string() },
        })
    }

    fn entry(&self, stem: &str) -> Result<KeyEntry, StoreError> {
        let chain_path = self.path(stem, CHAIN);
        let pem = read_optional(&chain_path)?.ok_or_else(|| self.damaged(stem, CHAIN, "missing"))?;
        let mut certificates = load_certificates(&pem).map_err(|e| self.damaged(stem, CHAIN, e))?;
        let certificate = certificates.remove(0);
        let summary = CertSummary::of(&certificate).ok_or_else(|| self.damaged(stem, CHAIN, "cannot encode"))?;
        if summary.fingerprint.hex() != stem {
            return Err(self.damaged(stem, CHAIN, "the certificate does not match the file name"));
        }
        let meta_path = self.path(stem, META);
        let meta = read_optional(&meta_path)?.ok_or_else(|| self.damaged(stem, META, "missing"))?;
        let meta: KeyMeta = std::str::from_utf8(&meta)
            .map_err(|e| e.to_string())
            .and_then(|text| toml::from_str(text).map_err(|e| e.message().to_owned()))
            .map_err(|e| self.damaged(stem, META, e))?;
        if meta.format != KEY_FORMAT {
            return Err(self.damaged(
                stem,
                META,
                format!("format {} is not {KEY_FORMAT} (made by another version of smime-proxy?)", meta.format),
            ));
        }
        Ok(KeyEntry { summary, imported_at: meta.imported_at, certificate, chain: certificates })
    }

    fn path(&self, stem: &str, suffix: &str) -> PathBuf {
        self.dir.join(format!("{stem}{suffix}"))
    }

    fn damaged(&self, stem: &str, suffix: &str, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Damaged { path: self.path(stem, suffix), reason: reason.to_string() }
    }
}
