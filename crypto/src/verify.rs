//! CMS SignedData verification (RFC 5652 §5.6, RFC 8551).

use crate::validate::{TrustOptions, ValidatedChain};
use crate::{Certificate, Error, Result};
use std::time::SystemTime;

/// How to verify.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Anchors, intermediates, CRLs.
    pub trust: TrustOptions,
    /// Validate as of this time instead of now (for old but correct signatures). The
    /// signing-time attribute must then also fall inside the certificate's validity.
    pub at: Option<SystemTime>,
    /// Accept SHA-1 signatures (refused by default, as Thunderbird does).
    pub allow_sha1: bool,
}

/// The verdict for one signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureStatus {
    /// The signature is correct and the certificate passed validation.
    Valid,
    /// Why not, in one sentence.
    Invalid(String),
}

/// What was found out about one SignerInfo.
#[derive(Debug, Clone)]
pub struct SignerReport {
    /// The overall verdict.
    pub status: SignatureStatus,
    /// The signer certificate, when it was found in the SignedData.
    pub certificate: Option<Certificate>,
    /// Its subject, RFC 4514 style.
    pub subject: String,
    /// Its e-mail addresses.
    pub addresses: Vec<String>,
    /// The signing-time attribute.
    pub signing_time: Option<SystemTime>,
    /// Digest algorithm name ("SHA-256").
    pub digest: String,
    /// Signature algorithm name ("RSA PKCS#1 v1.5", "RSA-PSS", "ECDSA P-256", "Ed25519").
    pub algorithm: String,
    /// The validated chain, when validation succeeded.
    pub chain: Option<ValidatedChain>,
}

/// A verified SignedData.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The encapsulated content (opaque signing) or the detached content given.
    pub content: Vec<u8>,
    /// One report per SignerInfo, in order.
    pub signers: Vec<SignerReport>,
    /// All certificates the SignedData carried.
    pub certificates: Vec<Certificate>,
}

/// Verifies a `ContentInfo` holding `SignedData` (BER or DER). For a detached signature
/// pass the signed bytes as `detached_content`. An error means the structure could not be
/// read at all; signature and certificate failures are reported per signer.
pub fn verify_signed_data(cms: &[u8], detached_content: Option<&[u8]>, options: &VerifyOptions) -> Result<Verified> {
    let _ = (cms, detached_content, options);
    Err(Error::Crypto("verification not implemented yet".into()))
}
