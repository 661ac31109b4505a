//! Private keys and identities (a key with its certificate and chain), read from PEM
//! (PKCS#8, encrypted PKCS#8, PKCS#1, SEC1) or DER PKCS#8. PKCS#12 is in `pkcs12.rs`.

use crate::{Certificate, Error, Result};
use const_oid::ObjectIdentifier as Oid;
use der::{Decode, Encode};
use pkcs1::DecodeRsaPrivateKey;
use pkcs8::{DecodePrivateKey, EncodePrivateKey, EncodePublicKey};
use zeroize::Zeroizing;

/// A private key the engine can sign and decrypt with. The underlying types wipe their
/// secrets on drop.
#[non_exhaustive]
pub enum PrivateKey {
    /// RSA (PKCS#1 v1.5, PSS, OAEP).
    Rsa(Box<rsa::PrivateKey>),
    /// ECDSA / ECDH on NIST P-256.
    P256(p256::SecretKey),
    /// ECDSA / ECDH on NIST P-384.
    P384(p384::SecretKey),
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

const RSA_ENCRYPTION: Oid = const_oid::db::rfc5912::RSA_ENCRYPTION;
const ID_EC_PUBLIC_KEY: Oid = const_oid::db::rfc5912::ID_EC_PUBLIC_KEY;
const SECP_256_R_1: Oid = const_oid::db::rfc5912::SECP_256_R_1;
const SECP_384_R_1: Oid = const_oid::db::rfc5912::SECP_384_R_1;

impl PrivateKey {
    /// Reads a PEM private key: PKCS#8 (`PRIVATE KEY`), encrypted PKCS#8
    /// (`ENCRYPTED PRIVATE KEY`, needs `passphrase`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1
    /// (`EC PRIVATE KEY`). The first private key block in `pem` is used.
    pub fn from_pem(pem: &str, passphrase: Option<&[u8]>) -> Result<Self> {
        let block = pem_blocks(pem.as_bytes())
            .into_iter()
            .find(|(label, _)| label.ends_with("PRIVATE KEY"))
            .ok_or_else(|| key_error("no PEM private key block found"))?;
        let (label, der) = (block.0.as_str(), Zeroizing::new(block.1));
        match label {
            "PRIVATE KEY" => Self::from_pkcs8_der(&der),
            "ENCRYPTED PRIVATE KEY" => {
                let passphrase = passphrase
                    .ok_or_else(|| key_error("the key is encrypted; a passphrase is needed (--passphrase-file)"))?;
                let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der.as_slice())
                    .map_err(|e| key_error(format!("encrypted PKCS#8: {e}")))?;
                let plain = info.decrypt(passphrase).map_err(|_| Error::WrongPassphrase)?;
                Self::from_pkcs8_der(plain.as_bytes())
            }
            "RSA PRIVATE KEY" => rsa::PrivateKey::from_pkcs1_der(&der)
                .map(|k| Self::Rsa(Box::new(k)))
                .map_err(|e| key_error(format!("PKCS#1: {e}"))),
            "EC PRIVATE KEY" => Self::from_sec1_der(&der),
            other => Err(key_error(format!("unsupported PEM block \"{other}\""))),
        }
    }

    /// Reads an unencrypted DER PKCS#8 PrivateKeyInfo (RSA, EC P-256 or P-384).
    pub fn from_pkcs8_der(der: &[u8]) -> Result<Self> {
        let info = pkcs8::PrivateKeyInfoRef::try_from(der).map_err(|e| key_error(format!("PKCS#8: {e}")))?;
        let algorithm = info.algorithm.oid;
        if algorithm == RSA_ENCRYPTION {
            return rsa::PrivateKey::from_pkcs8_der(der)
                .map(|k| Self::Rsa(Box::new(k)))
                .map_err(|e| key_error(format!("RSA key: {e}")));
        }
        if algorithm != ID_EC_PUBLIC_KEY {
            return Err(Error::Unsupported { what: "private key algorithm", oid: algorithm.to_string() });
        }
        let curve: Oid =
            info.algorithm.parameters_oid().map_err(|e| key_error(format!("EC key without a named curve: {e}")))?;
        match curve {
            SECP_256_R_1 => p256::SecretKey::from_pkcs8_der(der).map(Self::P256),
            SECP_384_R_1 => p384::SecretKey::from_pkcs8_der(der).map(Self::P384),
            other => return Err(Error::Unsupported { what: "elliptic curve", oid: other.to_string() }),
        }
        .map_err(|e| key_error(format!("EC key: {e}")))
    }

    fn from_sec1_der(der: &[u8]) -> Result<Self> {
        let key = sec1::EcPrivateKey::from_der(der).map_err(|e| key_error(format!("SEC1: {e}")))?;
        let curve = key.parameters.and_then(|p| p.named_curve());
        match curve {
            Some(SECP_256_R_1) => p256::SecretKey::from_sec1_der(der).map(Self::P256),
            Some(SECP_384_R_1) => p384::SecretKey::from_sec1_der(der).map(Self::P384),
            Some(other) => return Err(Error::Unsupported { what: "elliptic curve", oid: other.to_string() }),
            None => return Err(key_error("SEC1 key without a named curve")),
        }
        .map_err(|e| key_error(format!("SEC1: {e}")))
    }

    /// The key as unencrypted DER PKCS#8 PrivateKeyInfo (RFC 5208 §5), in a buffer that
    /// is wiped on drop: what the key store seals for rest. [`Self::from_pkcs8_der`] reads
    /// it back.
    pub fn to_pkcs8_der(&self) -> Result<Zeroizing<Vec<u8>>> {
        let document = match self {
            Self::Rsa(key) => key.to_pkcs8_der(),
            Self::P256(key) => key.to_pkcs8_der(),
            Self::P384(key) => key.to_pkcs8_der(),
        }
        .map_err(|e| Error::Crypto(format!("encode private key: {e}")))?;
        Ok(Zeroizing::new(document.as_bytes().to_vec()))
    }

    /// The DER SubjectPublicKeyInfo of this key's public half.
    pub fn public_key_der(&self) -> Result<Vec<u8>> {
        let der = match self {
            Self::Rsa(key) => key.to_public_key().to_public_key_der(),
            Self::P256(key) => key.public_key().to_public_key_der(),
            Self::P384(key) => key.public_key().to_public_key_der(),
        };
        der.map(|d| d.into_vec()).map_err(|e| Error::Crypto(format!("encode public key: {e}")))
    }

    /// True when `certificate` carries this key's public half.
    pub fn matches(&self, certificate: &Certificate) -> bool {
        let Ok(ours) = self.public_key_der() else { return false };
        certificate.tbs_certificate().subject_public_key_info().to_der().is_ok_and(|theirs| theirs == ours)
    }
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

impl Identity {
    /// Pairs `key` with `certificate`, refusing a key that does not belong to it.
    pub fn new(key: PrivateKey, certificate: Certificate, chain: Vec<Certificate>) -> Result<Self> {
        if !key.matches(&certificate) {
            return Err(Error::KeyMismatch);
        }
        Ok(Self { key, certificate, chain })
    }
}

/// Reads every certificate from PEM (`CERTIFICATE` blocks), a single DER certificate, or
/// a DER certs-only PKCS#7 / CMS SignedData (a `.p7c`, as directories' userSMIMECertificate
/// and AIA caIssuers serve them).
pub fn load_certificates(data: &[u8]) -> Result<Vec<Certificate>> {
    let is_certificate = |label: &str| label == "CERTIFICATE" || label == "X509 CERTIFICATE";
    let certs: Vec<Certificate> = if is_pem(data) {
        let (blocks, bad) = pem_blocks_checked(data);
        if let Some(label) = bad.iter().find(|l| is_certificate(l)) {
            return Err(Error::Key {
                what: "certificate",
                reason: format!("a {label} block cannot be read (not base64)"),
            });
        }
        blocks
            .into_iter()
            .filter(|(label, _)| is_certificate(label))
            .map(|(_, der)| Certificate::from_der(&der))
            .collect::<std::result::Result<_, _>>()
    } else {
        Certificate::from_der(data).map(|c| vec![c]).or_else(|error| certs_only(data).ok_or(error))
    }
    .map_err(|e| Error::Key { what: "certificate", reason: e.to_string() })?;
    if certs.is_empty() {
        return Err(Error::Key { what: "certificate", reason: "no CERTIFICATE block found".into() });
    }
    Ok(certs)
}

/// The certificates of a DER ContentInfo holding SignedData, or `None` when it is not one.
fn certs_only(data: &[u8]) -> Option<Vec<Certificate>> {
    let content_info = cms::content_info::ContentInfo::from_der(data).ok()?;
    if content_info.content_type != crate::algorithms::ID_SIGNED_DATA {
        return None;
    }
    let signed_data: cms::signed_data::SignedData = content_info.content.decode_as().ok()?;
    let certificates: Vec<Certificate> = signed_data
        .certificates?
        .0
        .iter()
        .filter_map(|choice| match choice {
            cms::cert::CertificateChoices::Certificate(certificate) => Some(certificate.clone()),
            _ => None,
        })
        .collect();
    (!certificates.is_empty()).then_some(certificates)
}

/// True when `data` looks like PEM text rather than DER.
pub(crate) fn is_pem(data: &[u8]) -> bool {
    data.windows(11).any(|w| w == b"-----BEGIN ")
}

/// Every PEM block in `data` as (label, DER bytes); blocks that do not decode are skipped.
pub(crate) fn pem_blocks(data: &[u8]) -> Vec<(String, Vec<u8>)> {
    pem_blocks_checked(data).0
}

/// Every PEM block in `data`: those that decode as (label, DER bytes), and the labels of
/// those that do not. Strict RFC 7468 first, then its "lax" reading (any line length,
/// whitespace anywhere in the base64), as OpenSSL reads PEM.
pub(crate) fn pem_blocks_checked(data: &[u8]) -> (Vec<(String, Vec<u8>)>, Vec<String>) {
    let text = String::from_utf8_lossy(data);
    let mut blocks = Vec::new();
    let mut bad = Vec::new();
    let mut rest: &str = &text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start..];
        let Some(end_rel) = after.find("-----END ") else { break };
        let end_line = after[end_rel..].find('\n').map_or(after.len(), |i| end_rel + i + 1);
        let block = &after[..end_line];
        match pem_rfc7468::decode_vec(block.trim_end().as_bytes()) {
            Ok((label, der)) => blocks.push((label.to_string(), der)),
            Err(_) => match lax_block(block) {
                Ok((label, der)) => blocks.push((label, der)),
                Err(label) => bad.push(label),
            },
        }
        rest = &after[end_line..];
    }
    (blocks, bad)
}

/// One PEM block read laxly (RFC 7468 section 3): its label and bytes, or its label when
/// even that fails (RFC 1421 headers, bad base64, mismatched END label).
fn lax_block(block: &str) -> std::result::Result<(String, Vec<u8>), String> {
    use base64::Engine as _;
    let mut lines = block.lines();
    let first = lines.next().unwrap_or_default().trim();
    let label = first.strip_prefix("-----BEGIN ").and_then(|l| l.strip_suffix("-----")).unwrap_or_default().to_owned();
    let mut body = String::new();
    for line in lines {
        let line = line.trim();
        if let Some(end) = line.strip_prefix("-----END ") {
            if end.strip_suffix("-----") != Some(label.as_str()) {
                return Err(label);
            }
            return base64::engine::general_purpose::STANDARD
                .decode(body.as_bytes())
                .map(|der| (label.clone(), der))
                .map_err(|_| label);
        }
        if line.contains(':') {
            return Err(label);
        }
        body.extend(line.chars().filter(|c| !c.is_whitespace()));
    }
    Err(label)
}

fn key_error(reason: impl Into<String>) -> Error {
    Error::Key { what: "private key", reason: reason.into() }
}
