//! CMS SignedData production (RFC 5652 §5, RFC 8551 §2.5 signed attributes).
//!
//! One SignerInfo, identified by issuerAndSerialNumber, with the signed attributes
//! content-type, signing-time, message-digest and SMIMECapabilities, and the signer's
//! certificate (plus its chain) in `certificates`. The structure is assembled from the
//! `cms` types directly rather than with `cms::builder::SignedDataBuilder`, so that the
//! algorithm identifiers are the ones OpenSSL/NSS/Outlook write (see [`sign_data`]) and
//! no `unwrap` in the builder can be reached. The DER goes to `mime.rs` (multipart/signed
//! or application/pkcs7-mime) and is checked by `verify.rs`.
//!
//! ```text
//! SignedData ::= SEQUENCE {
//!   version CMSVersion,
//!   digestAlgorithms DigestAlgorithmIdentifiers,
//!   encapContentInfo EncapsulatedContentInfo,
//!   certificates [0] IMPLICIT CertificateSet OPTIONAL,
//!   crls [1] IMPLICIT RevocationInfoChoices OPTIONAL,
//!   signerInfos SignerInfos }
//!
//! SignerInfo ::= SEQUENCE {
//!   version CMSVersion,
//!   sid SignerIdentifier,
//!   digestAlgorithm DigestAlgorithmIdentifier,
//!   signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
//!   signatureAlgorithm SignatureAlgorithmIdentifier,
//!   signature SignatureValue,
//!   unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
//! ```

use crate::algorithms::{self, DigestKind};
use crate::capabilities::Capabilities;
use crate::{Error, Identity, PrivateKey, Result};
use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
use cms::content_info::{CmsVersion, ContentInfo};
use cms::signed_data::{
    CertificateSet, EncapsulatedContentInfo, SignedAttributes, SignedData, SignerIdentifier, SignerInfo, SignerInfos,
};
use const_oid::ObjectIdentifier as Oid;
use der::asn1::{OctetString, SetOfVec};
use der::{Any, Encode, Sequence, Tag};
use signature::hazmat::PrehashSigner;
use spki::AlgorithmIdentifierOwned;
use std::time::SystemTime;
use x509_cert::attr::Attribute;
use x509_cert::time::Time;

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
///
/// Algorithm identifiers written (the forms OpenSSL, NSS and Outlook write and read):
///
/// | key | digestAlgorithm | signatureAlgorithm |
/// |---|---|---|
/// | RSA, PKCS#1 v1.5 | id-sha256/384/512, no parameters (RFC 5754 §2) | rsaEncryption, NULL (RFC 3370 §3.2) |
/// | RSA, PSS | the same | id-RSASSA-PSS, params: the hash, MGF1 with the hash, salt = hash length (RFC 4056 §3) |
/// | P-256 / P-384 | the same | ecdsa-with-SHA256/384/512, no parameters (RFC 5753 §2.1.1, RFC 5758 §3.2) |
pub fn sign_data(content: &[u8], signer: &Identity, options: &SignOptions, detached: bool) -> Result<Vec<u8>> {
    sign_data_with(content, signer, options, detached, Vec::new())
}

/// [`sign_data`] with `extra` signed attributes after the usual four (they must not repeat
/// one of those types).
pub(crate) fn sign_data_with(
    content: &[u8],
    signer: &Identity,
    options: &SignOptions,
    detached: bool,
    extra: Vec<Attribute>,
) -> Result<Vec<u8>> {
    let digest = options.digest.kind();
    let certificate = &signer.certificate;

    // EncapsulatedContentInfo ::= SEQUENCE {
    //   eContentType ContentType,
    //   eContent [0] EXPLICIT OCTET STRING OPTIONAL }
    let econtent = if detached {
        None
    } else {
        Some(Any::new(Tag::OctetString, content.to_vec()).map_err(|e| encode_error("eContent", e))?)
    };
    let encap_content_info = EncapsulatedContentInfo { econtent_type: algorithms::ID_DATA, econtent };

    let signed_attrs = signed_attributes(&digest.digest(content), options.signing_time, extra)?;
    // RFC 5652 §5.4: the signature covers the DER encoding of the SignedAttributes with
    // the EXPLICIT SET OF tag (0x31), not the IMPLICIT [0] it is stored under.
    let to_be_signed = signed_attrs.to_der().map_err(|e| encode_error("signed attributes", e))?;
    let (signature_algorithm, signature) = sign_bytes(&signer.key, options.rsa_padding, digest, &to_be_signed)?;

    let tbs = certificate.tbs_certificate();
    let signer_info = SignerInfo {
        version: CmsVersion::V1,
        sid: SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
            issuer: tbs.issuer().clone(),
            serial_number: tbs.serial_number().clone(),
        }),
        digest_alg: AlgorithmIdentifierOwned { oid: digest.oid(), parameters: None },
        signed_attrs: Some(signed_attrs),
        signature_algorithm,
        signature: OctetString::new(signature).map_err(|e| encode_error("signature", e))?,
        unsigned_attrs: None,
    };

    let mut certificates = vec![certificate.clone()];
    if options.include_chain {
        for extra in &signer.chain {
            if !certificates.contains(extra) {
                certificates.push(extra.clone());
            }
        }
    }
    let certificates =
        CertificateSet::try_from(certificates.into_iter().map(CertificateChoices::Certificate).collect::<Vec<_>>())
            .map_err(|e| encode_error("certificates", e))?;

    // RFC 5652 §5.1: version 1 (only X.509 certificates, issuerAndSerialNumber, id-data).
    let signed_data = SignedData {
        version: CmsVersion::V1,
        digest_algorithms: SetOfVec::try_from(vec![AlgorithmIdentifierOwned { oid: digest.oid(), parameters: None }])
            .map_err(|e| encode_error("digestAlgorithms", e))?,
        encap_content_info,
        certificates: Some(certificates),
        crls: None,
        signer_infos: SignerInfos::try_from(vec![signer_info]).map_err(|e| encode_error("signerInfos", e))?,
    };
    let content_info = ContentInfo {
        content_type: algorithms::ID_SIGNED_DATA,
        content: Any::encode_from(&signed_data).map_err(|e| encode_error("SignedData", e))?,
    };
    content_info.to_der().map_err(|e| encode_error("ContentInfo", e))
}

impl DigestAlgorithm {
    fn kind(self) -> DigestKind {
        match self {
            Self::Sha256 => DigestKind::Sha256,
            Self::Sha384 => DigestKind::Sha384,
            Self::Sha512 => DigestKind::Sha512,
        }
    }
}

/// The content-type, signing-time, message-digest and SMIMECapabilities attributes
/// (RFC 5652 §11.1–11.3, RFC 8551 §2.5.2).
fn signed_attributes(
    message_digest: &[u8],
    signing_time: SystemTime,
    extra: Vec<Attribute>,
) -> Result<SignedAttributes> {
    let time = Time::try_from(signing_time).map_err(|e| encode_error("signing-time", e))?;
    let mut attributes = vec![
        attribute(algorithms::ID_CONTENT_TYPE, Any::encode_from(&algorithms::ID_DATA))?,
        attribute(algorithms::ID_SIGNING_TIME, Any::encode_from(&time))?,
        attribute(
            algorithms::ID_MESSAGE_DIGEST,
            Any::encode_from(&OctetString::new(message_digest).map_err(|e| encode_error("message-digest", e))?),
        )?,
        attribute(algorithms::ID_SMIME_CAPABILITIES, Ok(Capabilities::ours().to_attribute()?))?,
    ];
    attributes.extend(extra);
    SignedAttributes::try_from(attributes).map_err(|e| encode_error("signed attributes", e))
}

pub(crate) fn attribute(oid: Oid, value: der::Result<Any>) -> Result<Attribute> {
    let value = value.map_err(|e| encode_error("signed attribute", e))?;
    let values = SetOfVec::try_from(vec![value]).map_err(|e| encode_error("signed attribute", e))?;
    Ok(Attribute { oid, values })
}

/// Signs `message` (the DER signed attributes) and returns the signatureAlgorithm with
/// the signature value.
fn sign_bytes(
    key: &PrivateKey,
    padding: RsaSignaturePadding,
    digest: DigestKind,
    message: &[u8],
) -> Result<(AlgorithmIdentifierOwned, Vec<u8>)> {
    let hash = digest.digest(message);
    match key {
        PrivateKey::Rsa(key) => match padding {
            RsaSignaturePadding::Pkcs1v15 => {
                let signature = match digest {
                    DigestKind::Sha256 => key.pkcs1v15_sign_prehash::<sha2::Sha256>(&hash),
                    DigestKind::Sha384 => key.pkcs1v15_sign_prehash::<sha2::Sha384>(&hash),
                    DigestKind::Sha512 => key.pkcs1v15_sign_prehash::<sha2::Sha512>(&hash),
                    DigestKind::Sha1 => return Err(sha1_refused()),
                }
                .map_err(|e| Error::Crypto(format!("RSA signature: {e}")))?;
                let algorithm =
                    AlgorithmIdentifierOwned { oid: algorithms::RSA_ENCRYPTION, parameters: Some(Any::null()) };
                Ok((algorithm, signature))
            }
            RsaSignaturePadding::Pss => {
                let signature = match digest {
                    DigestKind::Sha256 => key.pss_sign_prehash::<sha2::Sha256>(&hash),
                    DigestKind::Sha384 => key.pss_sign_prehash::<sha2::Sha384>(&hash),
                    DigestKind::Sha512 => key.pss_sign_prehash::<sha2::Sha512>(&hash),
                    DigestKind::Sha1 => return Err(sha1_refused()),
                }
                .map_err(|e| Error::Crypto(format!("RSA-PSS signature: {e}")))?;
                let params =
                    PssParams::for_digest(digest, hash.len()).map_err(|e| encode_error("RSASSA-PSS-params", e))?;
                let algorithm = AlgorithmIdentifierOwned {
                    oid: algorithms::ID_RSASSA_PSS,
                    parameters: Some(Any::encode_from(&params).map_err(|e| encode_error("RSASSA-PSS-params", e))?),
                };
                Ok((algorithm, signature))
            }
        },
        PrivateKey::P256(secret) => {
            let signing_key = p256::ecdsa::SigningKey::from(secret);
            let signature: p256::ecdsa::Signature =
                signing_key.sign_prehash(&hash).map_err(|e| Error::Crypto(format!("ECDSA signature: {e}")))?;
            Ok((ecdsa_algorithm(digest)?, signature.to_der().as_bytes().to_vec()))
        }
        PrivateKey::P384(secret) => {
            let signing_key = p384::ecdsa::SigningKey::from(secret);
            let signature: p384::ecdsa::Signature =
                signing_key.sign_prehash(&hash).map_err(|e| Error::Crypto(format!("ECDSA signature: {e}")))?;
            Ok((ecdsa_algorithm(digest)?, signature.to_der().as_bytes().to_vec()))
        }
    }
}

fn ecdsa_algorithm(digest: DigestKind) -> Result<AlgorithmIdentifierOwned> {
    let oid = match digest {
        DigestKind::Sha256 => algorithms::ECDSA_WITH_SHA256,
        DigestKind::Sha384 => algorithms::ECDSA_WITH_SHA384,
        DigestKind::Sha512 => algorithms::ECDSA_WITH_SHA512,
        DigestKind::Sha1 => return Err(sha1_refused()),
    };
    Ok(AlgorithmIdentifierOwned { oid, parameters: None })
}

/// RSASSA-PSS parameters (RFC 4055 §3.1), shared with verification:
///
/// ```text
/// RSASSA-PSS-params ::= SEQUENCE {
///    hashAlgorithm    [0] HashAlgorithm DEFAULT sha1Identifier,
///    maskGenAlgorithm [1] MaskGenAlgorithm DEFAULT mgf1SHA1Identifier,
///    saltLength       [2] INTEGER DEFAULT 20,
///    trailerField     [3] INTEGER DEFAULT 1 }
/// ```
///
/// Our own type rather than `pkcs1::RsaPssParams`, whose `salt_len` is a `u8`: OpenSSL
/// signs with the maximum salt length, 478 bytes for RSA-4096 with SHA-256.
#[derive(Clone, Debug, Sequence)]
pub(crate) struct PssParams {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) hash: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) mask_gen: Option<AlgorithmIdentifierOwned>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) salt_length: Option<u32>,
    #[asn1(context_specific = "3", tag_mode = "EXPLICIT", optional = "true")]
    pub(crate) trailer_field: Option<u32>,
}

impl PssParams {
    /// The parameters we write: the digest, MGF1 over the same digest, salt as long as the
    /// digest, default trailer. The hash identifiers carry NULL parameters, as RFC 4055
    /// §2.1 `sha256Identifier` does.
    fn for_digest(digest: DigestKind, salt_length: usize) -> der::Result<Self> {
        let hash = AlgorithmIdentifierOwned { oid: digest.oid(), parameters: Some(Any::null()) };
        let mask_gen =
            AlgorithmIdentifierOwned { oid: algorithms::ID_MGF1, parameters: Some(Any::encode_from(&hash)?) };
        let salt_length = u32::try_from(salt_length).map_err(|_| der::Error::from(der::ErrorKind::Overflow))?;
        Ok(Self { hash: Some(hash), mask_gen: Some(mask_gen), salt_length: Some(salt_length), trailer_field: None })
    }
}

fn sha1_refused() -> Error {
    Error::Unsupported { what: "signature digest", oid: "SHA-1 (not used for new signatures)".into() }
}

pub(crate) fn encode_error(what: &str, e: impl std::fmt::Display) -> Error {
    Error::Crypto(format!("encode {what}: {e}"))
}
