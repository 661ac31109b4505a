//! Private keys and identities (a key with its certificate and chain).

use crate::{Certificate, Error, Result};

/// A private key the engine can sign and decrypt with. Zeroised on drop by the
/// underlying types.
#[non_exhaustive]
pub enum PrivateKey {
    /// RSA (PKCS#1 v1.5, PSS, OAEP).
    Rsa(Box<rsa::PrivateKey>),
    /// ECDSA / ECDH on NIST P-256.
    P256(p256::SecretKey),
    /// ECDSA / ECDH on NIST P-384.
    P384(p384::SecretKey),
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self {
            Self::Rsa(_) => "RSA",
            Self::P256(_) => "P-256",
            Self::P384(_) => "P-384",
        };
        write!(f, "PrivateKey({kind}, ..)")
    }
}

/// A private key with its end-entity certificate and any intermediate certificates.
#[derive(Debug)]
pub struct Identity {
    /// The private key.
    pub key: PrivateKey,
    /// The certificate of `key`.
    pub certificate: Certificate,
    /// Other certificates that came with it (issuers), to include in signatures.
    pub chain: Vec<Certificate>,
}

impl PrivateKey {
    /// Reads a PEM private key: PKCS#8 (`PRIVATE KEY`), encrypted PKCS#8
    /// (`ENCRYPTED PRIVATE KEY`, needs `passphrase`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1
    /// (`EC PRIVATE KEY`).
    pub fn from_pem(pem: &str, passphrase: Option<&[u8]>) -> Result<Self> {
        let _ = (pem, passphrase);
        Err(Error::Key { what: "private key", reason: "not implemented yet".into() })
    }

    /// Reads an unencrypted DER PKCS#8 PrivateKeyInfo.
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let _ = der;
        Err(Error::Key { what: "private key", reason: "not implemented yet".into() })
    }

    /// True when `certificate` carries this key's public half.
    pub fn matches(&self, certificate: &Certificate) -> bool {
        let _ = certificate;
        false
    }
}

/// Reads every certificate from PEM (`CERTIFICATE` blocks) or a single DER certificate.
pub fn load_certificates(data: &[u8]) -> Result<Vec<Certificate>> {
    let _ = data;
    Err(Error::Key { what: "certificate", reason: "not implemented yet".into() })
}
