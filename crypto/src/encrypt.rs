//! CMS EnvelopedData (RFC 5652 §6) and AuthEnvelopedData (RFC 5083, AES-GCM per
//! RFC 5084) production, for RSA (PKCS#1 v1.5 or OAEP, RFC 8017 / RFC 3560) and EC
//! (ECDH, RFC 5753, see `ecdh.rs`) recipients.
//!
//! ```text
//! EnvelopedData ::= SEQUENCE {                       -- RFC 5652 §6.1
//!   version CMSVersion,
//!   originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
//!   recipientInfos RecipientInfos,
//!   encryptedContentInfo EncryptedContentInfo,
//!   unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }
//! AuthEnvelopedData ::= SEQUENCE {                   -- RFC 5083 §2.1
//!   version CMSVersion,
//!   originatorInfo [0] IMPLICIT OriginatorInfo OPTIONAL,
//!   recipientInfos RecipientInfos,
//!   authEncryptedContentInfo EncryptedContentInfo,
//!   authAttrs [1] IMPLICIT AuthAttributes OPTIONAL,
//!   mac MessageAuthenticationCode,
//!   unauthAttrs [2] IMPLICIT UnauthAttributes OPTIONAL }
//! KeyTransRecipientInfo ::= SEQUENCE {               -- RFC 5652 §6.2.1
//!   version CMSVersion,  -- always set to 0 or 2
//!   rid RecipientIdentifier,
//!   keyEncryptionAlgorithm KeyEncryptionAlgorithmIdentifier,
//!   encryptedKey EncryptedKey }
//! ```
//!
//! The output is DER; the caller wraps it in MIME (`application/pkcs7-mime`).

use crate::algorithms::{
    ID_AUTH_ENVELOPED_DATA, ID_DATA, ID_EC_PUBLIC_KEY, ID_ENVELOPED_DATA, ID_MGF1, ID_P_SPECIFIED, ID_RSAES_OAEP,
    ID_SHA256, RSA_ENCRYPTION,
};
use crate::content_cipher::Cipher;
use crate::ecdh;
use crate::{Certificate, Error, Result};
use cms::cert::IssuerAndSerialNumber;
use cms::content_info::CmsVersion;
use cms::enveloped_data::{
    KeyAgreeRecipientIdentifier, KeyTransRecipientInfo, RecipientIdentifier, RecipientInfo, RecipientInfos,
    RecipientKeyIdentifier,
};
use der::asn1::OctetString;
use der::{Any, AnyRef, Encode};
use pkcs1::RsaOaepParams;
use rand::TryRng;
use rsa::oaep::Oaep;
use rsa::pkcs8::DecodePublicKey;
use sha2::Sha256;
use spki::{AlgorithmIdentifier, AlgorithmIdentifierOwned, AlgorithmIdentifierRef};
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use zeroize::Zeroizing;

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
///
/// RSA certificates get a KeyTransRecipientInfo (RFC 5652 §6.2.1), EC P-256/P-384
/// certificates a KeyAgreeRecipientInfo (RFC 5753, see `ecdh.rs`). The content key is
/// fresh and random, and wiped after use.
pub fn encrypt_data(content: &[u8], recipients: &[Certificate], options: &EncryptOptions) -> Result<Vec<u8>> {
    if recipients.is_empty() {
        return Err(Error::Crypto("no recipients to encrypt to".into()));
    }
    let cipher = match options.cipher {
        ContentCipher::Aes128Cbc => Cipher::Aes128Cbc,
        ContentCipher::Aes256Cbc => Cipher::Aes256Cbc,
        ContentCipher::Aes128Gcm => Cipher::Aes128Gcm,
        ContentCipher::Aes256Gcm => Cipher::Aes256Gcm,
    };
    let rng = &mut rand::rngs::SysRng;
    let mut cek = Zeroizing::new(vec![0u8; cipher.key_len()]);
    rng.try_fill_bytes(&mut cek).map_err(rng_error)?;
    let mut iv = vec![0u8; cipher.iv_len()];
    rng.try_fill_bytes(&mut iv).map_err(rng_error)?;

    let infos =
        recipients.iter().map(|cert| recipient_info(cert, &cek, options)).collect::<Result<Vec<RecipientInfo>>>()?;
    // RFC 5652 §6.1: version 0 when every RecipientInfo is version 0 (KTRI by
    // issuerAndSerialNumber) and there are no originatorInfo / unprotectedAttrs;
    // otherwise 2 (KARI is version 3, KTRI by SKI version 2; no pwri/ori here).
    let all_v0 = infos.iter().all(|ri| matches!(ri, RecipientInfo::Ktri(k) if k.version == CmsVersion::V0));
    let recip_infos = RecipientInfos::try_from(infos).map_err(encode_error)?;

    let version = if cipher.is_aead() || all_v0 { CmsVersion::V0 } else { CmsVersion::V2 };
    assemble(cipher, &cek, &iv, version, &recip_infos, content)
}

/// Writes the DER `ContentInfo` in one buffer and encrypts `content` in place inside it,
/// so that a large message is never held as plaintext copy, ciphertext and DER at once:
///
/// ```text
/// ContentInfo ::= SEQUENCE { contentType, content [0] EXPLICIT
///   EnvelopedData ::= SEQUENCE { version, recipientInfos,
///     EncryptedContentInfo ::= SEQUENCE { contentType, contentEncryptionAlgorithm,
///       encryptedContent [0] IMPLICIT OCTET STRING } }
///   -- AuthEnvelopedData (RFC 5083) adds: mac MessageAuthenticationCode (OCTET STRING)
/// }
/// ```
/// RFC 5083 §2.1: AuthEnvelopedData is version 0 with no authAttrs, so the GCM
/// additional authenticated data is empty.
fn assemble(
    cipher: Cipher,
    cek: &[u8],
    iv: &[u8],
    version: CmsVersion,
    recip_infos: &RecipientInfos,
    content: &[u8],
) -> Result<Vec<u8>> {
    const MAC_LEN: usize = 16;
    let ciphertext_len = cipher.ciphertext_len(content.len());
    let mut eci_prefix = ID_DATA.to_der().map_err(encode_error)?;
    eci_prefix.extend(cipher.algorithm(iv)?.to_der().map_err(encode_error)?);
    let encrypted_header = der_header(0x80, ciphertext_len);
    let eci_len = eci_prefix.len() + encrypted_header.len() + ciphertext_len;
    let eci_header = der_header(0x30, eci_len);
    let mut fields = version.to_der().map_err(encode_error)?;
    fields.extend(recip_infos.to_der().map_err(encode_error)?);
    let mac_tlv_len = if cipher.is_aead() { 2 + MAC_LEN } else { 0 };
    let body_len = fields.len() + eci_header.len() + eci_len + mac_tlv_len;
    let body_header = der_header(0x30, body_len);
    let explicit_header = der_header(0xa0, body_header.len() + body_len);
    let content_type = if cipher.is_aead() { ID_AUTH_ENVELOPED_DATA } else { ID_ENVELOPED_DATA };
    let oid = content_type.to_der().map_err(encode_error)?;
    let total_len = oid.len() + explicit_header.len() + body_header.len() + body_len;

    let mut out = Zeroizing::new(Vec::with_capacity(total_len + 8 + cipher.ciphertext_len(0)));
    for piece in [&der_header(0x30, total_len), &oid, &explicit_header, &body_header, &fields, &eci_header] {
        out.extend_from_slice(piece);
    }
    out.extend_from_slice(&eci_prefix);
    out.extend_from_slice(&encrypted_header);
    let start = out.len();
    out.extend_from_slice(content);
    let tag = cipher.encrypt_in_place(cek, iv, &mut out, start)?;
    if cipher.is_aead() {
        out.extend_from_slice(&[0x04, MAC_LEN as u8]);
        out.extend_from_slice(&tag);
    }
    // From here on the buffer holds ciphertext only: no need to wipe it.
    Ok(std::mem::take(&mut *out))
}

/// A DER tag and definite length (X.690 §8.1.3).
fn der_header(tag: u8, len: usize) -> Vec<u8> {
    let mut header = vec![tag];
    if len < 0x80 {
        header.push(len as u8);
    } else {
        let bytes = len.to_be_bytes();
        let skip = bytes.iter().take_while(|b| **b == 0).count();
        header.push(0x80 | (bytes.len() - skip) as u8);
        header.extend_from_slice(&bytes[skip..]);
    }
    header
}

/// One RecipientInfo giving `cek` to `cert`'s key.
fn recipient_info(cert: &Certificate, cek: &[u8], options: &EncryptOptions) -> Result<RecipientInfo> {
    let tbs = cert.tbs_certificate();
    let spki = tbs.subject_public_key_info();
    let ski = match options.recipient_id {
        RecipientIdKind::SubjectKeyId => subject_key_id(cert),
        RecipientIdKind::IssuerAndSerial => None,
    };
    let issuer_and_serial =
        || IssuerAndSerialNumber { issuer: tbs.issuer().clone(), serial_number: tbs.serial_number().clone() };
    match spki.algorithm.oid {
        RSA_ENCRYPTION => {
            let der = spki.to_der().map_err(encode_error)?;
            let key = rsa::PublicKey::from_public_key_der(&der)
                .map_err(|e| recipient_error(cert, format!("invalid RSA public key: {e}")))?;
            let rng = &mut rand::rngs::SysRng;
            let (key_enc_alg, encrypted) = match options.key_transport {
                KeyTransport::RsaPkcs1 => (
                    // RFC 3370 §4.2.1: rsaEncryption with NULL parameters.
                    AlgorithmIdentifierOwned { oid: RSA_ENCRYPTION, parameters: Some(Any::null()) },
                    key.encrypt(rng, rsa::Pkcs1v15Encrypt, cek),
                ),
                KeyTransport::RsaOaep => (oaep_sha256_algorithm()?, key.encrypt(rng, Oaep::<Sha256>::new(), cek)),
            };
            let encrypted = encrypted.map_err(|e| Error::Crypto(format!("RSA key transport: {e}")))?;
            // RFC 5652 §6.2.1: version 0 for issuerAndSerialNumber, 2 for subjectKeyIdentifier.
            let (version, rid) = match ski {
                Some(ski) => (CmsVersion::V2, RecipientIdentifier::SubjectKeyIdentifier(ski)),
                None => (CmsVersion::V0, RecipientIdentifier::IssuerAndSerialNumber(issuer_and_serial())),
            };
            Ok(RecipientInfo::Ktri(KeyTransRecipientInfo {
                version,
                rid,
                key_enc_alg,
                enc_key: OctetString::new(encrypted).map_err(encode_error)?,
            }))
        }
        ID_EC_PUBLIC_KEY => {
            let rid = match ski {
                Some(ski) => KeyAgreeRecipientIdentifier::RKeyId(RecipientKeyIdentifier {
                    subject_key_identifier: ski,
                    date: None,
                    other: None,
                }),
                None => KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(issuer_and_serial()),
            };
            Ok(RecipientInfo::Kari(ecdh::recipient_info(cert, rid, cek)?))
        }
        other => Err(recipient_error(cert, format!("unsupported public key algorithm {other}"))),
    }
}

/// RFC 4055 §4.1 rSAES-OAEP-SHA256-Identifier: hash SHA-256, MGF1 with SHA-256, empty
/// label (pSourceAlgorithm left at its default).
///
/// ```text
/// RSAES-OAEP-params ::= SEQUENCE {
///   hashFunc    [0] AlgorithmIdentifier DEFAULT sha1Identifier,
///   maskGenFunc [1] AlgorithmIdentifier DEFAULT mgf1SHA1Identifier,
///   pSourceFunc [2] AlgorithmIdentifier DEFAULT pSpecifiedEmptyIdentifier }
/// ```
pub(crate) fn oaep_sha256_algorithm() -> Result<AlgorithmIdentifierOwned> {
    let sha256 = AlgorithmIdentifierRef { oid: ID_SHA256, parameters: Some(AnyRef::NULL) };
    let params = RsaOaepParams {
        hash: sha256,
        mask_gen: AlgorithmIdentifier { oid: ID_MGF1, parameters: Some(sha256) },
        p_source: AlgorithmIdentifierRef {
            oid: ID_P_SPECIFIED,
            parameters: Some(AnyRef::new(der::Tag::OctetString, &[]).map_err(encode_error)?),
        },
    };
    Ok(AlgorithmIdentifierOwned {
        oid: ID_RSAES_OAEP,
        parameters: Some(Any::encode_from(&params).map_err(encode_error)?),
    })
}

/// The certificate's subjectKeyIdentifier extension, if it has one.
pub(crate) fn subject_key_id(cert: &Certificate) -> Option<SubjectKeyIdentifier> {
    cert.tbs_certificate().get_extension::<SubjectKeyIdentifier>().ok().flatten().map(|(_, ski)| ski)
}

fn recipient_error(cert: &Certificate, reason: impl Into<String>) -> Error {
    Error::Recipient { subject: cert.tbs_certificate().subject().to_string(), reason: reason.into() }
}

fn rng_error(e: impl std::fmt::Display) -> Error {
    Error::Crypto(format!("random number generator: {e}"))
}

fn encode_error(e: der::Error) -> Error {
    Error::Crypto(format!("DER encoding: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_assembled_der_is_what_the_cms_types_encode() {
        use cms::authenveloped_data::AuthEnvelopedData;
        use cms::content_info::ContentInfo;
        use cms::enveloped_data::EnvelopedData;
        use der::Decode;
        for cipher in [Cipher::Aes128Cbc, Cipher::Aes256Cbc, Cipher::Aes128Gcm, Cipher::Aes256Gcm] {
            for size in [0, 15, 16, 200, 70_000] {
                let (cek, iv) = (vec![1u8; cipher.key_len()], vec![2u8; cipher.iv_len()]);
                let infos = RecipientInfos::try_from(Vec::new()).expect("empty set");
                let der = assemble(cipher, &cek, &iv, CmsVersion::V0, &infos, &vec![b'x'; size]).expect("assemble");
                let info = ContentInfo::from_der(&der).expect("parses as ContentInfo");
                assert_eq!(info.to_der().expect("re-encode"), der, "{cipher:?} {size}");
                if cipher.is_aead() {
                    let data: AuthEnvelopedData = info.content.decode_as().expect("AuthEnvelopedData");
                    assert_eq!(data.mac.as_bytes().len(), 16);
                } else {
                    let data: EnvelopedData = info.content.decode_as().expect("EnvelopedData");
                    let content = data.encrypted_content.encrypted_content.expect("content");
                    assert_eq!(content.as_bytes().len(), cipher.ciphertext_len(size));
                }
            }
        }
    }
}
