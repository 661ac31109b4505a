//! The root: the local CA certificate and its key, created here or loaded from PEM, and
//! its exports (PEM, DER, SPKI SHA-256).

use std::fmt;

use base64::Engine as _;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose,
    PKCS_ECDSA_P256_SHA256, PublicKeyData as _,
};
use rustls::pki_types::CertificateDer;
use sha2::{Digest as _, Sha256};
use time::{Duration, OffsetDateTime};
use zeroize::Zeroizing;

use crate::{Error, serial::random_serial};

/// How long a new CA is valid. Long enough that users do not have to re-trust it often.
const CA_VALIDITY: Duration = Duration::days(5 * 365);

/// The local interception CA: certificate plus private key.
pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    cert_der: CertificateDer<'static>,
    cert_pem: String,
    common_name: String,
}

impl LocalCa {
    /// Generates a new CA named `smime-proxy local CA (<label>)`, where `label` is the
    /// host or user name that tells the user which machine's CA they are trusting.
    ///
    /// Profile: ECDSA P-256 with SHA-256, basicConstraints CA with `pathLenConstraint` 0,
    /// keyUsage keyCertSign + cRLSign, valid five years, random 128-bit serial. No name
    /// constraints (see the crate docs for why).
    pub fn generate(label: &str) -> Result<Self, Error> {
        let common_name = format!("smime-proxy local CA ({label})");
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, common_name.as_str());
        name.push(DnType::OrganizationName, "smime-proxy");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages =
            vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + CA_VALIDITY;
        params.serial_number = Some(random_serial()?);

        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let cert = params.self_signed(&key)?;
        let cert_der = cert.der().clone();
        let cert_pem = cert.pem();
        Ok(Self { issuer: Issuer::new(params, key), cert_der, cert_pem, common_name })
    }

    /// Loads a CA from its PEM certificate and PEM (PKCS#8) private key, checking that the
    /// two belong together. `source` names the certificate file in errors.
    pub fn from_pem(cert_pem: &str, key_pem: &str, source: &std::path::Path) -> Result<Self, Error> {
        let malformed = |reason| Error::Malformed { path: source.to_path_buf(), reason };
        let (_, pem) =
            x509_parser::pem::parse_x509_pem(cert_pem.as_bytes()).map_err(|_| malformed("no PEM certificate"))?;
        let cert = pem.parse_x509().map_err(|_| malformed("not an X.509 certificate"))?;
        let common_name =
            cert.subject().iter_common_name().next().and_then(|cn| cn.as_str().ok()).unwrap_or_default().to_owned();
        let spki = cert.public_key().raw.to_vec();

        let key = KeyPair::from_pem(key_pem).map_err(|_| Error::Malformed {
            path: source.with_file_name(crate::store::KEY_FILE),
            reason: "not a PEM private key",
        })?;
        if key.subject_public_key_info() != spki {
            return Err(Error::KeyMismatch { path: source.to_path_buf() });
        }
        let cert_der = CertificateDer::from(pem.contents.clone());
        let issuer = Issuer::from_ca_cert_der(&cert_der, key)?;
        Ok(Self { issuer, cert_der, cert_pem: cert_pem.to_owned(), common_name })
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA certificate, DER.
    pub fn cert_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The private key, PKCS#8 PEM, wiped from memory when dropped.
    pub fn key_pem(&self) -> Zeroizing<String> {
        Zeroizing::new(self.issuer.key().serialize_pem())
    }

    /// The subject common name, e.g. `smime-proxy local CA (laptop)`.
    pub fn common_name(&self) -> &str {
        &self.common_name
    }

    /// Base64 (standard, padded) of the SHA-256 of the certificate's DER
    /// SubjectPublicKeyInfo: the value Chromium's `--ignore-certificate-errors-spki-list`
    /// takes.
    pub fn spki_sha256(&self) -> String {
        let spki = self.issuer.key().subject_public_key_info();
        base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&spki))
    }

    /// The issuer used to sign leaves.
    pub(crate) fn issuer(&self) -> &Issuer<'static, KeyPair> {
        &self.issuer
    }
}

impl fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print the key.
        f.debug_struct("LocalCa").field("common_name", &self.common_name).finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn generated_ca_is_a_constrained_p256_ca() {
        let ca = LocalCa::generate("test-host").unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(ca.cert_der()).unwrap();
        assert_eq!(
            cert.subject().iter_common_name().next().unwrap().as_str().unwrap(),
            "smime-proxy local CA (test-host)"
        );
        let bc = cert.basic_constraints().unwrap().unwrap().value;
        assert!(bc.ca);
        assert_eq!(bc.path_len_constraint, Some(0));
        assert!(cert.key_usage().unwrap().unwrap().value.key_cert_sign());
        assert_eq!(cert.public_key().algorithm.algorithm, x509_parser::oid_registry::OID_KEY_TYPE_EC_PUBLIC_KEY);
    }

    #[test]
    fn pem_round_trip_keeps_identity() {
        let ca = LocalCa::generate("t").unwrap();
        let loaded = LocalCa::from_pem(ca.cert_pem(), &ca.key_pem(), Path::new("ca.pem")).unwrap();
        assert_eq!(loaded.cert_der(), ca.cert_der());
        assert_eq!(loaded.spki_sha256(), ca.spki_sha256());
        assert_eq!(loaded.common_name(), ca.common_name());
    }

    #[test]
    fn mismatched_key_is_refused() {
        let a = LocalCa::generate("a").unwrap();
        let b = LocalCa::generate("b").unwrap();
        let err = LocalCa::from_pem(a.cert_pem(), &b.key_pem(), Path::new("ca.pem")).unwrap_err();
        assert!(matches!(err, Error::KeyMismatch { .. }), "{err}");
    }

    #[test]
    fn spki_sha256_matches_the_certificate_spki() {
        let ca = LocalCa::generate("t").unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(ca.cert_der()).unwrap();
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(cert.public_key().raw));
        assert_eq!(ca.spki_sha256(), expected);
        assert_eq!(ca.spki_sha256().len(), 44);
    }

    #[test]
    fn debug_hides_the_key() {
        let ca = LocalCa::generate("t").unwrap();
        let shown = format!("{ca:?}");
        assert!(!shown.contains("PRIVATE"));
    }
}
