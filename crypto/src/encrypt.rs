//! CMS EnvelopedData (RFC 5652 §6) and AuthEnvelopedData (RFC 5083, AES-GCM per
//! RFC 5084) production, for RSA (PKCS#1 v1.5 or OAEP, RFC 8017 / RFC 3560) and EC
//! (ECDH, RFC 5753, see `ecdh.rs`) recipients.

use crate::{Certificate, Error, Result};

/// The content-encryption algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ContentCipher {
    /// AES-128-CBC (EnvelopedData).
    Aes128Cbc,
    /// AES-256-CBC (EnvelopedData; the default, what every client reads).
    #[default]
    Aes256Cbc,
    /// AES-128-GCM (AuthEnvelopedData).
    Aes128Gcm,
    /// AES-256-GCM (AuthEnvelopedData).
    Aes256Gcm,
}

/// How the content key reaches RSA recipients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum KeyTransport {
    /// RSAES-PKCS1-v1_5 (the default).
    #[default]
    RsaPkcs1,
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256.
    RsaOaep,
}

/// How recipients are named in RecipientInfos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RecipientIdKind {
    /// issuerAndSerialNumber (the default).
    #[default]
    IssuerAndSerial,
    /// subjectKeyIdentifier (falls back to issuer+serial for a certificate without one).
    SubjectKeyId,
}

/// How to encrypt.
#[derive(Debug, Clone, Copy, Default)]
pub struct EncryptOptions {
    /// The content cipher.
    pub cipher: ContentCipher,
    /// Key transport for RSA recipients (EC recipients always use ECDH).
    pub key_transport: KeyTransport,
    /// How recipients are identified.
    pub recipient_id: RecipientIdKind,
}

/// Encrypts `content` to every certificate in `recipients` and returns a DER
/// `ContentInfo` (EnvelopedData for CBC, AuthEnvelopedData for GCM).
pub fn encrypt_data(content: &[u8], recipients: &[Certificate], options: &EncryptOptions) -> Result<Vec<u8>> {
    let _ = (content, recipients, options);
    Err(Error::Crypto("encryption not implemented yet".into()))
}
