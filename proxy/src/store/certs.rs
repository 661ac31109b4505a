//! [`CertStore`]: recipients' certificates on disk, `<config-dir>/certs/`: those the user
//! added and those learned from verified signed mail (with when and from which message).
//! Nothing is trusted for being here: [`check`] validates a certificate for encryption
//! to an address every time it is about to be used, and [`CertStore::lookup`] says why
//! each candidate is or is not usable. The format is in `FORMAT.md`.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use der::EncodePem as _;
use serde::{Deserialize, Serialize};
use smime_crypto::{
    Capabilities, Certificate, CertificateProblem, Purpose, SignatureStatus, SignerReport, TrustOptions,
    ValidatedChain, load_certificates, validate_certificate,
};

use super::files::{private_dir, read_optional, remove, rfc3339, stems, write_entry};
use super::summary::is_ca;
use super::{CertSummary, Fingerprint, StoreError};

/// Version of the certificate store's files (see `FORMAT.md`).
pub const CERT_FORMAT: u32 = 1;

const PEM: &str = ".pem";
const META: &str = ".toml";
/// Longest Message-ID kept in a record (the header is the sender's to choose).
const MAX_MESSAGE_ID: usize = 256;

/// The certificate store directory.
#[derive(Debug, Clone)]
pub struct CertStore {
    dir: PathBuf,
}

/// One stored certificate.
#[derive(Debug, Clone)]
pub struct CertEntry {
    /// The certificate's facts.
    pub summary: CertSummary,
    /// The certificate.
    pub certificate: Certificate,
    /// How it got here.
    pub record: CertRecord,
}

/// How a certificate got into the store (`<fingerprint>.toml`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CertRecord {
    /// File format version.
    pub format: u32,
    /// When it was first stored (RFC 3339).
    pub added_at: String,
    /// `"user"` (`certs add`) or `"signature"` (learned from a verified message).
    pub source: String,
    /// The first verified message it was seen in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_seen: Option<Sighting>,
    /// The latest verified message it was seen in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<Sighting>,
    /// What its holder announced it can decrypt (the smimeCapabilities of the latest
    /// verified message that had them), by name: `["AES-256-GCM", "RSAES-OAEP-SHA256"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capabilities: Option<Vec<String>>,
}

impl CertEntry {
    /// What the certificate's holder announced it can decrypt, when known.
    pub fn capabilities(&self) -> Option<Capabilities> {
        self.record.capabilities.as_deref().map(Capabilities::from_names)
    }
}

/// A verified message that carried the certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sighting {
    /// Its Message-ID (sanitised, at most 256 characters).
    pub message_id: String,
    /// When it was read (RFC 3339).
    pub at: String,
}

/// Why a stored certificate cannot be used to encrypt to an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Unusable {
    /// The address is not among the certificate's.
    #[error("the certificate is for {} only, not {address}", if certificate_addresses.is_empty() { "no address".to_owned() } else { certificate_addresses.join(", ") })]
    AddressMismatch {
        /// The address asked for.
        address: String,
        /// The certificate's addresses.
        certificate_addresses: Vec<String>,
    },
    /// Validation failed: untrusted, expired, wrong EKU, key usage, revoked...
    #[error(transparent)]
    Certificate(#[from] CertificateProblem),
}

/// One candidate of a lookup, with its verdict.
#[derive(Debug, Clone)]
pub struct Candidate {
    /// The stored certificate.
    pub entry: CertEntry,
    /// Usable (with the chain it validated through) or why not.
    pub verdict: Result<ValidatedChain, Unusable>,
}

/// Validates `certificate` for encrypting to `address` at `at`: the address is in the
/// certificate, then [`validate_certificate`] for [`Purpose::Encryption`] (chain to a
/// configured anchor, emailProtection EKU, validity, key usage, CRLs).
pub fn check(
    certificate: &Certificate,
    address: &str,
    trust: &TrustOptions,
    at: SystemTime,
) -> Result<ValidatedChain, Unusable> {
    let addresses = smime_crypto::email_addresses(certificate);
    let wanted = address.trim();
    if !addresses.iter().any(|a| a.eq_ignore_ascii_case(wanted)) {
        return Err(Unusable::AddressMismatch { address: wanted.to_owned(), certificate_addresses: addresses });
    }
    Ok(validate_certificate(certificate, &[], Purpose::Encryption, trust, at)?)
}

impl CertStore {
    /// The store of the configuration directory `config_dir`.
    pub fn new(config_dir: &Path) -> Self {
        Self { dir: config_dir.join("certs") }
    }

    /// The directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds a certificate the user gives. Refused: CA certificates (they belong in
    /// `trust_anchors`) and certificates without an e-mail address. Returns the entry and
    /// whether it was new. The certificate is stored whether or not it validates today:
    /// validation happens at each use.
    pub fn add(&self, certificate: &Certificate, when: SystemTime) -> Result<(CertEntry, bool), StoreError> {
        self.add_from(certificate, "user", when)
    }

    /// [`Self::add`] with the certificate's `source` recorded (e.g. `directory
    /// ldaps://ldap.example.com`), shown by `certs list`.
    pub fn add_from(
        &self,
        certificate: &Certificate,
        source: &str,
        when: SystemTime,
    ) -> Result<(CertEntry, bool), StoreError> {
        let summary = self.summary(certificate)?;
        if is_ca(certificate) {
            return Err(StoreError::CaCertificate { subject: summary.subject });
        }
        if summary.addresses.is_empty() {
            return Err(StoreError::NoAddress { subject: summary.subject });
        }
        let stem = summary.fingerprint.hex();
        if let Some(entry) = self.get(&stem)? {
            return Ok((entry, false));
        }
        let record = CertRecord {
            format: CERT_FORMAT,
            added_at: rfc3339(when),
            source: source.to_owned(),
            first_seen: None,
            last_seen: None,
            capabilities: None,
        };
        self.write(certificate, &stem, &record)?;
        Ok((CertEntry { summary, certificate: certificate.clone(), record }, true))
    }

    /// Remembers the certificate of a signer whose signature verified (status
    /// [`SignatureStatus::Valid`], which includes validation against the configured
    /// anchors), recording the message it came in and the capabilities it announced
    /// (the latest announcement wins; a message without one keeps the last known). Returns its fingerprint, or `None`
    /// when the report is not valid, has no certificate, or the certificate has no
    /// address. Called by the read flow for every verified message.
    pub fn learn(
        &self,
        report: &SignerReport,
        message_id: &str,
        when: SystemTime,
    ) -> Result<Option<Fingerprint>, StoreError> {
        let Some(certificate) = &report.certificate else { return Ok(None) };
        if report.status != SignatureStatus::Valid || is_ca(certificate) {
            return Ok(None);
        }
        let summary = self.summary(certificate)?;
        if summary.addresses.is_empty() {
            return Ok(None);
        }
        let sighting = Sighting { message_id: sanitise_message_id(message_id), at: rfc3339(when) };
        let announced = report.capabilities.as_ref().map(|c| c.names().into_iter().map(str::to_owned).collect());
        let stem = summary.fingerprint.hex();
        let record = match self.get(&stem)? {
            Some(entry) => CertRecord {
                first_seen: entry.record.first_seen.or_else(|| Some(sighting.clone())),
                last_seen: Some(sighting),
                capabilities: announced.or(entry.record.capabilities),
                ..entry.record
            },
            None => CertRecord {
                format: CERT_FORMAT,
                added_at: sighting.at.clone(),
                source: "signature".into(),
                first_seen: Some(sighting.clone()),
                last_seen: Some(sighting),
                capabilities: announced,
            },
        };
        self.write(certificate, &stem, &record)?;
        tracing::debug!(fingerprint = %summary.fingerprint, "remembered a verified signer's certificate");
        Ok(Some(summary.fingerprint))
    }

    /// Every stored certificate, ordered by fingerprint.
    pub fn list(&self) -> Result<Vec<CertEntry>, StoreError> {
        let mut entries = Vec::new();
        for stem in stems(&self.dir, PEM)? {
            if let Some(entry) = self.get(&stem)? {
                entries.push(entry);
            }
        }
        Ok(entries)
    }

    /// Every certificate for `address`, each validated for encryption at `at`; usable
    /// ones first, latest expiry first.
    pub fn lookup(&self, address: &str, trust: &TrustOptions, at: SystemTime) -> Result<Vec<Candidate>, StoreError> {
        let mut candidates: Vec<Candidate> = self
            .list()?
            .into_iter()
            .filter(|e| e.summary.has_address(address))
            .map(|entry| {
                let verdict = check(&entry.certificate, address, trust, at);
                Candidate { entry, verdict }
            })
            .collect();
        candidates.sort_by_key(|c| (c.verdict.is_err(), std::cmp::Reverse(c.entry.summary.not_after)));
        Ok(candidates)
    }

    /// The best usable certificate for `address` (what the compose flow encrypts to), or
    /// the candidates with their reasons when there is none.
    pub fn usable_for(
        &self,
        address: &str,
        trust: &TrustOptions,
        at: SystemTime,
    ) -> Result<Result<Certificate, Vec<Candidate>>, StoreError> {
        let candidates = self.lookup(address, trust, at)?;
        Ok(match candidates.first() {
            Some(best) if best.verdict.is_ok() => Ok(best.entry.certificate.clone()),
            _ => Err(candidates),
        })
    }

    /// Removes the certificate with this fingerprint (or 8+ hex digit prefix), or every
    /// certificate of this address. Returns what was removed.
    pub fn remove(&self, query: &str) -> Result<Vec<CertEntry>, StoreError> {
        let matching: Vec<CertEntry> = self
            .list()?
            .into_iter()
            .filter(|e| {
                if query.contains('@') {
                    e.summary.has_address(query)
                } else {
                    e.summary.fingerprint.starts_with(query)
                }
            })
            .collect();
        if matching.is_empty() {
            return Err(StoreError::NotFound { store: "certificate", query: query.to_owned() });
        }
        if !query.contains('@') && matching.len() > 1 {
            return Err(StoreError::Ambiguous {
                query: query.to_owned(),
                candidates: matching.iter().map(|e| e.summary.fingerprint.to_string()).collect(),
            });
        }
        for entry in &matching {
            let stem = entry.summary.fingerprint.hex();
            remove(&self.path(&stem, PEM))?;
            remove(&self.path(&stem, META))?;
        }
        Ok(matching)
    }

    fn get(&self, stem: &str) -> Result<Option<CertEntry>, StoreError> {
        let pem_path = self.path(stem, PEM);
        let Some(pem) = read_optional(&pem_path)? else { return Ok(None) };
        let damaged = |path: &Path, reason: String| StoreError::Damaged { path: path.to_path_buf(), reason };
        let certificate = load_certificates(&pem)
            .map_err(|e| damaged(&pem_path, e.to_string()))?
            .into_iter()
            .next()
            .ok_or_else(|| damaged(&pem_path, "no certificate".into()))?;
        let summary = CertSummary::of(&certificate).ok_or_else(|| damaged(&pem_path, "cannot encode".into()))?;
        if summary.fingerprint.hex() != stem {
            return Err(damaged(&pem_path, "the certificate does not match the file name".into()));
        }
        let meta_path = self.path(stem, META);
        let record = match read_optional(&meta_path)? {
            Some(text) => {
                let record: CertRecord = std::str::from_utf8(&text)
                    .map_err(|e| e.to_string())
                    .and_then(|t| toml::from_str(t).map_err(|e| e.message().to_owned()))
                    .map_err(|e| damaged(&meta_path, e))?;
                if record.format != CERT_FORMAT {
                    return Err(damaged(
                        &meta_path,
                        format!("format {} is not {CERT_FORMAT} (made by another version?)", record.format),
                    ));
                }
                record
            }
            None => return Err(damaged(&meta_path, "missing".into())),
        };
        Ok(Some(CertEntry { summary, certificate, record }))
    }

    fn write(&self, certificate: &Certificate, stem: &str, record: &CertRecord) -> Result<(), StoreError> {
        let pem = certificate
            .to_pem(der::pem::LineEnding::LF)
            .map_err(|e| smime_crypto::Error::Crypto(format!("encode certificate: {e}")))?;
        let meta = toml::to_string(record).map_err(|e| smime_crypto::Error::Crypto(format!("metadata: {e}")))?;
        private_dir(&self.dir)?;
        // Metadata first: the `.pem` file is what makes the entry exist.
        write_entry(&[(self.path(stem, META), meta.as_bytes()), (self.path(stem, PEM), pem.as_bytes())])
    }

    fn summary(&self, certificate: &Certificate) -> Result<CertSummary, StoreError> {
        CertSummary::of(certificate)
            .ok_or_else(|| StoreError::Crypto(smime_crypto::Error::Crypto("cannot encode the certificate".into())))
    }

    fn path(&self, stem: &str, suffix: &str) -> PathBuf {
        self.dir.join(format!("{stem}{suffix}"))
    }
}

/// Printable ASCII only, at most [`MAX_MESSAGE_ID`] characters.
fn sanitise_message_id(id: &str) -> String {
    id.trim().chars().filter(|c| c.is_ascii_graphic() || *c == ' ').take(MAX_MESSAGE_ID).collect()
}
