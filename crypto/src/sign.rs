//! CMS SignedData production (RFC 5652 §5, RFC 8551 §2.5 signed attributes).

use crate::{Error, Identity, Result};
use std::time::SystemTime;

/// The message digest of a signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum DigestAlgorithm {
    /// SHA-256 (the default, `micalg=sha-256`).
    #[default]
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

/// The padding of an RSA signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum RsaSignaturePadding {
    /// RSASSA-PKCS1-v1_5 (the default; what every client reads).
    #[default]
    Pkcs1v15,
    /// RSASSA-PSS with MGF1 over the same digest and a salt as long as the digest.
    Pss,
}

/// How to sign.
#[derive(Debug, Clone)]
pub struct SignOptions {
    /// Digest of content and signed attributes.
    pub digest: DigestAlgorithm,
    /// Padding, for RSA keys.
    pub rsa_padding: RsaSignaturePadding,
    /// The signing-time attribute.
    pub signing_time: SystemTime,
    /// Include the identity's chain certificates next to the signer's.
    pub include_chain: bool,
}

impl Default for SignOptions {
    fn default() -> Self {
        Self {
            digest: DigestAlgorithm::default(),
            rsa_padding: RsaSignaturePadding::default(),
            signing_time: SystemTime::now(),
            include_chain: true,
        }
    }
}

/// Signs `content` and returns a DER `ContentInfo` holding `SignedData` with one
/// signer: signed attributes content-type, message-digest, signing-time and
/// SMIMECapabilities; the signer's certificate (and chain). With `detached`, the
/// eContent is left out (for multipart/signed).
pub fn sign_data(content: &[u8], signer: &Identity, options: &SignOptions, detached: bool) -> Result<Vec<u8>> {
    let _ = (content, signer, options, detached);
    Err(Error::Crypto("signing not implemented yet".into()))
}
