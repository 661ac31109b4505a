//! The root: [`RootCertificate`], the public certificate users trust (PEM, DER, SPKI
//! SHA-256 exports), and [`LocalCa`], that certificate with its private key, which only
//! ever exists in memory for the moment it takes to mint an intermediate.

use std::fmt;
use std::path::Path;

use base64::Engine as _;
use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyUsagePurpose};
use rustls::pki_types::CertificateDer;
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};

use crate::key::CaKey;
use crate::{Error, serial::random_serial};

/// How long a new CA is valid. Long enough that users do not have to re-trust it often.
const CA_VALIDITY: Duration = Duration::days(5 * 365);

/// The root's `pathLenConstraint`: one intermediate (the run's name-constrained one)
/// between the root and the leaves, and no more.
const ROOT_PATH_LEN: u8 = 1;

/// What errors about the in-memory key name as its "path".
const KEY_IN_MEMORY: &str = "(the CA key in memory)";

/// The public root certificate: what the browser trusts, what `ca export` prints.
#[derive(Debug, Clone)]
pub struct RootCertificate {
    der: CertificateDer<'static>,
    pem: String,
    common_name: String,
    spki: Vec<u8>,
    path_len: Option<u8>,
}

impl RootCertificate {
    /// Parses a PEM certificate; `source` names the file in errors.
    pub fn from_pem(pem: &str, source: &Path) -> Result<Self, Error> {
        let malformed = |reason| Error::Malformed { path: source.to_path_buf(), reason };
        let (_, block) =
            x509_parser::pem::parse_x509_pem(pem.as_bytes()).map_err(|_| malformed("no PEM certificate"))?;
        Self::from_der(block.contents.clone()).ok_or_else(|| malformed("not an X.509 CA certificate"))
    }

    fn from_der(der: Vec<u8>) -> Option<Self> {
        let (_, cert) = x509_parser::parse_x509_certificate(&der).ok()?;
        let constraints = cert.basic_constraints().ok()??.value;
        if !constraints.ca {
            return None;
        }
        let path_len = constraints.path_len_constraint.map(|n| u8::try_from(n).unwrap_or(u8::MAX));
        let common_name =
            cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).unwrap_or_default().to_owned();
        let spki = cert.public_key().raw.to_vec();
        let der = CertificateDer::from(der);
        let pem = pem_block(&der);
        Some(Self { der, pem, common_name, spki, path_len })
    }

    /// The certificate, PEM.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The certificate, DER.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// The subject common name, e.g. `smime-proxy local CA (laptop)`.
    pub fn common_name(&self) -> &str {
        &self.common_name
    }

    /// Base64 (standard, padded) of the SHA-256 of the DER SubjectPublicKeyInfo: the value
    /// Chromium's `--ignore-certificate-errors-spki-list` takes.
    pub fn spki_sha256(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&self.spki))
    }

    /// True when the certificate allows an intermediate below it (`pathLenConstraint`
    /// absent or at least 1). Roots made before intermediates existed had 0.
    pub(crate) fn allows_an_intermediate(&self) -> bool {
        self.path_len.is_none_or(|n| n >= 1)
    }
}

/// The local interception CA with its private key: the root certificate and the key that
/// signs intermediates. Dropping it wipes the key.
pub struct LocalCa {
    issuer: Issuer<'static, CaKey>,
    certificate: RootCertificate,
}

impl LocalCa {
    /// Generates a new CA named `smime-proxy local CA (<label>)`, where `label` is the
    /// host or user name that tells the user which machine's CA they are trusting.
    ///
    /// Profile: ECDSA P-256 with SHA-256, basicConstraints CA with `pathLenConstraint` 1
    /// (the one in-memory intermediate), keyUsage keyCertSign + cRLSign, valid five years,
    /// random 128-bit serial. The root has no name constraints: the intermediate carries
    /// them, so adding a site never means re-trusting the root (see the crate docs).
    pub fn generate(label: &str) -> Result<Self, Error> {
        let common_name = format!("smime-proxy local CA ({label})");
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, common_name.as_str());
        name.push(DnType::OrganizationName, "smime-proxy");
        Self::sign_root(name, CaKey::generate()?)
    }

    /// The CA of `certificate` and its key (DER PKCS#8), checking that they belong together.
    /// `source` names the key file in errors.
    pub(crate) fn from_parts(certificate: RootCertificate, pkcs8: &[u8], source: &Path) -> Result<Self, Error> {
        let key = CaKey::from_pkcs8(pkcs8)
            .ok_or(Error::Malformed { path: source.to_path_buf(), reason: "not a P-256 private key" })?;
        if rcgen::PublicKeyData::subject_public_key_info(&key) != certificate.spki {
            return Err(Error::KeyMismatch { path: source.to_path_buf() });
        }
        let issuer = Issuer::from_ca_cert_der(certificate.der(), key)?;
        Ok(Self { issuer, certificate })
    }

    /// The same key and subject in a new certificate that allows one intermediate: for a
    /// root made with `pathLenConstraint` 0. Its SPKI hash, and so SPKI-list trust, is
    /// unchanged.
    pub(crate) fn reissued(self) -> Result<Self, Error> {
        let (_, cert) = x509_parser::parse_x509_certificate(self.certificate.der())
            .map_err(|_| Error::Malformed { path: "ca.pem".into(), reason: "not an X.509 certificate" })?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, self.certificate.common_name());
        if let Some(org) = cert.subject().iter_organization().next().and_then(|o| o.as_str().ok()) {
            name.push(DnType::OrganizationName, org);
        }
        let pkcs8 = self.key_pkcs8()?;
        let key = CaKey::from_pkcs8(&pkcs8)
            .ok_or(Error::Malformed { path: KEY_IN_MEMORY.into(), reason: "the key does not load again" })?;
        Self::sign_root(name, key)
    }

    fn sign_root(name: DistinguishedName, key: CaKey) -> Result<Self, Error> {
        let mut params = CertificateParams::default();
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(ROOT_PATH_LEN));
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + CA_VALIDITY;
        params.serial_number = Some(random_serial()?);
        let cert = params.self_signed(&key)?;
        let certificate = RootCertificate::from_der(cert.der().to_vec())
            .ok_or(Error::Malformed { path: "ca.pem".into(), reason: "the new root does not parse" })?;
        Ok(Self { issuer: Issuer::new(params, key), certificate })
    }

    /// The public certificate.
    pub fn certificate(&self) -> &RootCertificate {
        &self.certificate
    }

    /// The private key as DER PKCS#8 in a wiping buffer, for sealing.
    pub(crate) fn key_pkcs8(&self) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
        self.issuer.key().to_pkcs8()
    }

    /// The issuer that signs intermediates.
    pub(crate) fn issuer(&self) -> &Issuer<'static, CaKey> {
        &self.issuer
    }
}

impl fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the key.
        f.debug_struct("LocalCa").field("common_name", &self.certificate.common_name).finish_non_exhaustive()
    }
}

/// PEM of a DER certificate, 64-character lines, LF.
pub(crate) fn pem_block(der: &[u8]) -> String {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut pem = String::from("-----BEGIN CERTIFICATE-----\n");
    for line in b64.as_bytes().chunks(64) {
        pem.push_str(std::str::from_utf8(line).unwrap_or_default());
        pem.push('\n');
    }
    pem.push_str("-----END CERTIFICATE-----\n");
    pem
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ca_allows_exactly_one_intermediate() {
        let ca = LocalCa::generate("test-host").unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(ca.certificate().der()).unwrap();
        assert_eq!(
            cert.subject().iter_common_name().next().unwrap().as_str().unwrap(),
            "smime-proxy local CA (test-host)"
        );
        let bc = cert.basic_constraints().unwrap().unwrap().value;
        assert!(bc.ca);
        assert_eq!(bc.path_len_constraint, Some(1));
        assert!(cert.key_usage().unwrap().unwrap().value.key_cert_sign());
        assert!(cert.name_constraints().unwrap().is_none(), "the intermediate carries the constraints");
        assert_eq!(cert.public_key().algorithm.algorithm, x509_parser::oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY);
    }

    #[test]
    fn pem_round_trip_keeps_identity() {
        let ca = LocalCa::generate("t").unwrap();
        let parsed = RootCertificate::from_pem(ca.certificate().pem(), Path::new("ca.pem")).unwrap();
        assert_eq!(parsed.der(), ca.certificate().der());
        assert_eq!(parsed.spki_sha256(), ca.certificate().spki_sha256());
        assert_eq!(parsed.common_name(), ca.certificate().common_name());
        let again = LocalCa::from_parts(parsed, &ca.key_pkcs8().unwrap(), Path::new("k")).unwrap();
        assert_eq!(again.certificate().der(), ca.certificate().der());
    }

    #[test]
    fn mismatched_key_is_refused() {
        let a = LocalCa::generate("a").unwrap();
        let b = LocalCa::generate("b").unwrap();
        let err = LocalCa::from_parts(a.certificate().clone(), &b.key_pkcs8().unwrap(), Path::new("k")).unwrap_err();
        assert!(matches!(err, Error::KeyMismatch { .. }), "{err}");
    }

    #[test]
    fn garbage_is_not_a_root() {
        let err =
            RootCertificate::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", Path::new("x"))
                .unwrap_err();
        assert!(matches!(err, Error::Malformed { .. }), "{err}");
        assert!(RootCertificate::from_pem("hello", Path::new("x")).is_err());
    }

    #[test]
    fn spki_sha256_matches_the_certificate_spki() {
        let ca = LocalCa::generate("t").unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(ca.certificate().der()).unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(cert.public_key().raw));
        assert_eq!(ca.certificate().spki_sha256(), expected);
        assert_eq!(ca.certificate().spki_sha256().len(), 44);
    }

    #[test]
    fn reissue_keeps_key_and_subject_and_allows_an_intermediate() {
        let ca = LocalCa::generate("old").unwrap();
        let spki = ca.certificate().spki_sha256();
        let again = ca.reissued().unwrap();
        assert_eq!(again.certificate().spki_sha256(), spki);
        assert_eq!(again.certificate().common_name(), "smime-proxy local CA (old)");
        assert!(again.certificate().allows_an_intermediate());
    }

    #[test]
    fn debug_hides_the_key() {
        let ca = LocalCa::generate("t").unwrap();
        let shown = format!("{ca:?}");
        assert!(!shown.contains("PRIVATE") && !shown.contains("secret"));
    }
}
