//! Certificate policy for S/MIME (RFC 8550): a chain to a trust anchor, the
//! emailProtection EKU (or none), key usage for the purpose, validity at a time,
//! revocation by CRL, and the certificate's e-mail addresses.

use crate::Certificate;
use std::time::SystemTime;

/// What a certificate is about to be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Checking a signature: keyUsage must allow digitalSignature or nonRepudiation.
    Signing,
    /// Encrypting to it: keyUsage must allow keyEncipherment (RSA) or keyAgreement (EC).
    Encryption,
}

/// The trust a caller configures.
#[derive(Debug, Clone, Default)]
pub struct TrustOptions {
    /// Trust anchors (self-signed roots or any certificate the user trusts as a root).
    pub anchors: Vec<Certificate>,
    /// Extra intermediate certificates to build paths with.
    pub intermediates: Vec<Certificate>,
    /// DER CRLs; when given, the end-entity's revocation status must be known.
    pub crls: Vec<Vec<u8>>,
}

/// A certificate that passed validation.
#[derive(Debug, Clone)]
pub struct ValidatedChain {
    /// Subject of the trust anchor the chain ends in.
    pub anchor: String,
    /// True when a CRL covered the certificate (and it was not revoked).
    pub revocation_checked: bool,
}

/// Why a certificate cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// No chain to a configured anchor.
    #[error("the certificate is not trusted ({0})")]
    Untrusted(String),
    /// Outside its validity period at the time of use.
    #[error("the certificate is not valid at that time ({0})")]
    Expired(String),
    /// The extended key usage does not include emailProtection.
    #[error("the certificate is not for e-mail protection (extended key usage)")]
    WrongExtendedKeyUsage,
    /// The key usage bits do not allow the purpose.
    #[error("the certificate's key usage does not allow {0}")]
    KeyUsage(&'static str),
    /// Revoked according to a CRL.
    #[error("the certificate has been revoked")]
    Revoked,
    /// No rfc822Name / emailAddress at all.
    #[error("the certificate contains no e-mail address")]
    NoEmailAddress,
    /// Anything the validator cannot read.
    #[error("the certificate cannot be checked: {0}")]
    Malformed(String),
}

/// Validates `certificate` for `purpose` at time `at` against `trust`, using `presented`
/// certificates (e.g. those in a SignedData) as candidate intermediates.
pub fn validate_certificate(
    certificate: &Certificate,
    presented: &[Certificate],
    purpose: Purpose,
    trust: &TrustOptions,
    at: SystemTime,
) -> Result<ValidatedChain, CertificateProblem> {
    let _ = (certificate, presented, purpose, trust, at);
    Err(CertificateProblem::Malformed("not implemented yet".into()))
}

/// The certificate's e-mail addresses: rfc822Name SANs, SmtpUTF8Mailbox otherNames and
/// legacy PKCS#9 emailAddress in the subject, in that order, without duplicates.
pub fn email_addresses(certificate: &Certificate) -> Vec<String> {
    let _ = certificate;
    Vec::new()
}
