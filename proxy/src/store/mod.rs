//! The key store and the recipient certificate store: files under the configuration
//! directory, and the in-memory ring of unlocked keys a running proxy uses.
//!
//! ```text
//! keys import FILE.p12 ─▶ smime_crypto::pkcs12 ─▶ KeyStore::import (seal, 0600 files)
//! run / unlock page ─────▶ CaVault::unlock ─▶ root unsealed, intermediate minted, root dropped
//!                    └───▶ KeyRing::unlock ─▶ KeyStore::open_all ─▶ Arc<Identity> in memory
//! compose/read flows ────▶ KeyRing::identity_for(address)   (Locked → fail closed)
//! idle timer / lock page / SIGUSR1 / shutdown ─▶ KeyRing::lock (keys dropped and wiped)
//! certs add FILE ────────▶ CertStore::add            read flow ─▶ CertStore::learn
//! compose flow / certs lookup ─▶ CertStore::lookup ─▶ check (address + validation)
//! ```
//!
#![doc = include_str!("FORMAT.md")]

mod ca;
mod certs;
mod error;
mod files;
mod fingerprint;
mod keys;
mod ring;
mod summary;
mod unlock;

pub use ca::{CaStatus, CaUnlocked, CaVault};
pub use certs::{CERT_FORMAT, Candidate, CertEntry, CertRecord, CertStore, Sighting, Unusable, check};
pub use error::StoreError;
pub use fingerprint::Fingerprint;
pub use keys::{Imported, KEY_FORMAT, KeyEntry, KeyStore, read_pkcs12};
pub use ring::{KeyRing, KeyUnavailable, Login, RingStatus};
pub use summary::{CertSummary, is_ca};
pub use unlock::{Opened, check_store_passphrase, import_and_unlock, unlock_all};
