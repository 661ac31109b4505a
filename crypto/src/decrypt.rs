//! CMS EnvelopedData (RFC 5652 §6) / AuthEnvelopedData (RFC 5083) decryption.
//!
//! Input is BER or DER (normalised by `ber.rs`). The steps:
//! 1. read the ContentInfo, the content cipher and every public parameter (an unknown
//!    algorithm is reported as [`Error::Unsupported`] before any secret is used);
//! 2. select the RecipientInfo naming `identity.certificate`:
//!
//!    ```text
//!    RecipientIdentifier ::= CHOICE {                  -- KTRI, RFC 5652 §6.2.1
//!      issuerAndSerialNumber IssuerAndSerialNumber,
//!      subjectKeyIdentifier [0] SubjectKeyIdentifier }
//!    KeyAgreeRecipientIdentifier ::= CHOICE {          -- KARI, RFC 5652 §6.2.2
//!      issuerAndSerialNumber IssuerAndSerialNumber,
//!      rKeyId [0] IMPLICIT RecipientKeyIdentifier }
//!    ```
//!
//!    none: [`Error::NoMatchingRecipient`];
//! 3. recover the content key: RSAES-PKCS1-v1_5, RSAES-OAEP (RFC 8017, params per
//!    RFC 4055: SHA-1/224/256/384/512, MGF1, label) or ECDH (`ecdh.rs`);
//! 4. decrypt the content: AES-CBC, 3DES-CBC (legacy), AES-GCM (tag checked over the
//!    DER of authAttrs as a SET OF, RFC 5083 §2.2).
//!
//! From step 3 on every failure is the single [`Error::DecryptionFailed`]. The `rsa`
//! crate answers a bad PKCS#1 v1.5 block with a synthetic key (implicit rejection), so
//! a content key of the wrong length is replaced by a random one and decryption goes
//! on (RFC 3218 §2.3), then fails: the same work, the same answer, no oracle.
//! No partial plaintext is ever returned; the working buffers are wiped.

use crate::algorithms::{
    ID_AUTH_ENVELOPED_DATA, ID_ENVELOPED_DATA, ID_MGF1, ID_P_SPECIFIED, ID_RSAES_OAEP, ID_SHA1, ID_SHA224, ID_SHA256,
    ID_SHA384, ID_SHA512, RSA_ENCRYPTION,
};
use crate::content_cipher::Cipher;
use crate::ecdh::KeyAgreement;
use crate::encrypt::subject_key_id;
use crate::{Certificate, Error, Identity, PrivateKey, Result, ber};
use cms::authenveloped_data::AuthEnvelopedData;
use cms::cert::IssuerAndSerialNumber;
use cms::enveloped_data::{
    EncryptedContentInfo, EnvelopedData, KeyAgreeRecipientIdentifier, KeyAgreeRecipientInfo, KeyTransRecipientInfo,
    RecipientIdentifier, RecipientInfo, RecipientInfos,
};
use const_oid::ObjectIdentifier as Oid;
use der::asn1::OctetString;
use der::{Any, Decode, Encode};
use pkcs1::RsaOaepParams;
use rand::TryRng;
use rsa::oaep::Oaep;
use zeroize::Zeroizing;

/// Decrypted content and what protected it.
#[derive(Debug)]
pub struct Decrypted {
    /// The plaintext (wiped on drop).
    pub content: Zeroizing<Vec<u8>>,
    /// Content cipher name ("AES-256-CBC", "AES-128-GCM", "3DES-CBC").
    pub cipher: &'static str,
    /// True for AuthEnvelopedData (integrity-protected content).
    pub authenticated: bool,
    /// True for legacy ciphers that deserve a warning (3DES).
    pub legacy: bool,
}

/// Decrypts a `ContentInfo` holding EnvelopedData or AuthEnvelopedData (BER or DER)
/// with `identity`. Any failure after the recipient was found is the uniform
/// [`Error::DecryptionFailed`]; no partial plaintext is ever returned.
pub fn decrypt_data(cms: &[u8], identity: &Identity) -> Result<Decrypted> {
    // DER is read as it is; only BER is normalised first. The ContentInfo is dropped
    // once the envelope is decoded (large messages).
    let mut envelope = match ContentInfoRef::from_der(cms) {
        Ok(info) => Envelope::from_content_info(&info)?,
        Err(_) => {
            let der = ber::to_der(cms)?;
            Envelope::from_content_info(
                &ContentInfoRef::from_der(&der).map_err(|e| Error::malformed("CMS ContentInfo", e))?,
            )?
        }
    };
    let (cipher, iv) = Cipher::from_algorithm(&envelope.content.content_enc_alg)?;
    if cipher.is_aead() != envelope.mac.is_some() {
        return Err(Error::malformed(
            "CMS enveloped data",
            format!("{} does not belong in {}", cipher.name(), envelope.kind),
        ));
    }
    // The ciphertext is decrypted in place in the envelope's own buffer.
    let ciphertext = Zeroizing::new(
        envelope
            .content
            .encrypted_content
            .take()
            .ok_or_else(|| Error::malformed("CMS enveloped data", "the encrypted content is missing (detached)"))?
            .into_bytes()
            .into_vec(),
    );

    let recipient = select_recipient(&envelope.recipients, &identity.certificate)?;
    let unwrap = KeyUnwrap::new(&recipient)?;

    // From here on: one answer for every failure.
    let cek = unwrap.content_key(&recipient, &identity.key);
    let cek_ok = cek.as_ref().is_ok_and(|k| k.len() == cipher.key_len());
    let key = match cek {
        Ok(k) if cek_ok => k,
        _ => {
            let mut random = Zeroizing::new(vec![0u8; cipher.key_len()]);
            rand::rngs::SysRng.try_fill_bytes(&mut random).map_err(|_| Error::DecryptionFailed)?;
            random
        }
    };
    let tag = envelope.mac.as_ref().map_or(&[][..], |m| m.as_bytes());
    let plain = cipher.decrypt(&key, &iv, ciphertext, &envelope.aad, tag);
    match plain {
        Ok(content) if cek_ok => Ok(Decrypted {
            content,
            cipher: cipher.name(),
            authenticated: cipher.is_aead(),
            legacy: cipher.is_legacy(),
        }),
        _ => Err(Error::DecryptionFailed),
    }
}

/// The parts of EnvelopedData / AuthEnvelopedData decryption needs.
struct Envelope {
    kind: &'static str,
    recipients: RecipientInfos,
    content: EncryptedContentInfo,
    /// GCM additional authenticated data: DER of authAttrs as a SET OF, or empty.
    aad: Vec<u8>,
    /// The AuthEnvelopedData mac (the GCM tag).
    mac: Option<OctetString>,
}

/// RFC 5652 §3 ContentInfo, borrowing its content, so that a large message is not
/// copied once more before the envelope inside it is decoded.
///
/// ```text
/// ContentInfo ::= SEQUENCE {
///   contentType ContentType,
///   content [0] EXPLICIT ANY DEFINED BY contentType }
/// ```
#[derive(der::Sequence)]
struct ContentInfoRef<'a> {
    content_type: Oid,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    content: der::AnyRef<'a>,
}

impl Envelope {
    fn from_content_info(info: &ContentInfoRef<'_>) -> Result<Self> {
        match info.content_type {
            ID_ENVELOPED_DATA => {
                let data: EnvelopedData =
                    info.content.decode_as().map_err(|e| Error::malformed("CMS EnvelopedData", e))?;
                Ok(Self {
                    kind: "EnvelopedData",
                    recipients: data.recip_infos,
                    content: data.encrypted_content,
                    aad: Vec::new(),
                    mac: None,
                })
            }
            ID_AUTH_ENVELOPED_DATA => {
                let data: AuthEnvelopedData =
                    info.content.decode_as().map_err(|e| Error::malformed("CMS AuthEnvelopedData", e))?;
                // RFC 5083 §2.2: the AAD is the DER of authAttrs with the SET OF tag.
                let aad = match &data.auth_attrs {
                    Some(attrs) => attrs.to_der().map_err(|e| Error::malformed("CMS AuthEnvelopedData", e))?,
                    None => Vec::new(),
                };
                Ok(Self {
                    kind: "AuthEnvelopedData",
                    recipients: data.recip_infos,
                    content: data.auth_encrypted_content_info,
                    aad,
                    mac: Some(data.mac),
                })
            }
            other => Err(Error::NotSmime(format!("the CMS content type is {other}, not (auth-)enveloped data"))),
        }
    }
}

/// The RecipientInfo (and, for key agreement, the encrypted key) naming our certificate.
enum Recipient<'a> {
    KeyTransport(&'a KeyTransRecipientInfo),
    KeyAgreement(&'a KeyAgreeRecipientInfo, &'a [u8]),
}

fn select_recipient<'a>(infos: &'a RecipientInfos, cert: &Certificate) -> Result<Recipient<'a>> {
    let tbs = cert.tbs_certificate();
    let ski = subject_key_id(cert);
    let by_issuer =
        |ias: &IssuerAndSerialNumber| ias.issuer == *tbs.issuer() && ias.serial_number == *tbs.serial_number();
    let by_ski = |other: &x509_cert::ext::pkix::SubjectKeyIdentifier| ski.as_ref() == Some(other);
    for info in infos.0.iter() {
        match info {
            RecipientInfo::Ktri(ktri) => {
                let hit = match &ktri.rid {
                    RecipientIdentifier::IssuerAndSerialNumber(ias) => by_issuer(ias),
                    RecipientIdentifier::SubjectKeyIdentifier(id) => by_ski(id),
                };
                if hit {
                    return Ok(Recipient::KeyTransport(ktri));
                }
            }
            RecipientInfo::Kari(kari) => {
                for rek in &kari.recipient_enc_keys {
                    let hit = match &rek.rid {
                        KeyAgreeRecipientIdentifier::IssuerAndSerialNumber(ias) => by_issuer(ias),
                        KeyAgreeRecipientIdentifier::RKeyId(id) => by_ski(&id.subject_key_identifier),
                    };
                    if hit {
                        return Ok(Recipient::KeyAgreement(kari, rek.enc_key.as_bytes()));
                    }
                }
            }
            _ => {}
        }
    }
    Err(Error::NoMatchingRecipient)
}

/// How the content key is recovered, read from public parameters only.
enum KeyUnwrap {
    RsaPkcs1,
    RsaOaep { hash: Hash, mgf_hash: Hash, label: Vec<u8> },
    Ecdh(KeyAgreement),
}

/// The hashes RSAES-OAEP may name (RFC 4055 §2.1).
#[derive(Clone, Copy)]
enum Hash {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Hash {
    fn from_oid(oid: Oid) -> Result<Self> {
        Ok(match oid {
            ID_SHA1 => Self::Sha1,
            ID_SHA224 => Self::Sha224,
            ID_SHA256 => Self::Sha256,
            ID_SHA384 => Self::Sha384,
            ID_SHA512 => Self::Sha512,
            other => return Err(Error::Unsupported { what: "RSAES-OAEP hash", oid: other.to_string() }),
        })
    }
}

impl KeyUnwrap {
    fn new(recipient: &Recipient<'_>) -> Result<Self> {
        match recipient {
            Recipient::KeyAgreement(kari, _) => Ok(Self::Ecdh(KeyAgreement::from_recipient_info(kari)?)),
            Recipient::KeyTransport(ktri) => match ktri.key_enc_alg.oid {
                RSA_ENCRYPTION => Ok(Self::RsaPkcs1),
                ID_RSAES_OAEP => oaep_parameters(ktri.key_enc_alg.parameters.as_ref()),
                other => Err(Error::Unsupported { what: "key transport algorithm", oid: other.to_string() }),
            },
        }
    }

    /// The content key, or `Err(())` (never distinguished further).
    fn content_key(&self, recipient: &Recipient<'_>, key: &PrivateKey) -> std::result::Result<Zeroizing<Vec<u8>>, ()> {
        match (self, recipient, key) {
            (Self::Ecdh(agreement), Recipient::KeyAgreement(kari, encrypted), _) => {
                agreement.unwrap_key(kari, encrypted, key)
            }
            (Self::RsaPkcs1, Recipient::KeyTransport(ktri), PrivateKey::Rsa(rsa_key)) => {
                rsa_key.decrypt(rsa::Pkcs1v15Encrypt, ktri.enc_key.as_bytes()).map(Zeroizing::new).map_err(|_| ())
            }
            (Self::RsaOaep { hash, mgf_hash, label }, Recipient::KeyTransport(ktri), PrivateKey::Rsa(rsa_key)) => {
                oaep_decrypt(rsa_key, *hash, *mgf_hash, label, ktri.enc_key.as_bytes())
            }
            _ => Err(()),
        }
    }
}

/// Reads RSAES-OAEP-params (RFC 8017 A.2.1; absent parameters mean all defaults:
/// SHA-1, MGF1-SHA-1, empty label).
fn oaep_parameters(parameters: Option<&Any>) -> Result<KeyUnwrap> {
    let bad = |e: &dyn std::fmt::Display| Error::malformed("RSAES-OAEP parameters", e.to_string());
    let params: RsaOaepParams<Any> = match parameters {
        Some(any) if der::Tagged::tag(any) != der::Tag::Null => any.decode_as().map_err(|e| bad(&e))?,
        _ => RsaOaepParams::default(),
    };
    let hash = Hash::from_oid(params.hash.oid)?;
    if params.mask_gen.oid != ID_MGF1 {
        return Err(Error::Unsupported { what: "RSAES-OAEP mask generation", oid: params.mask_gen.oid.to_string() });
    }
    let mgf_hash = match &params.mask_gen.parameters {
        Some(alg) => Hash::from_oid(alg.oid)?,
        None => Hash::Sha1,
    };
    if params.p_source.oid != ID_P_SPECIFIED {
        return Err(Error::Unsupported { what: "RSAES-OAEP label source", oid: params.p_source.oid.to_string() });
    }
    let label = match &params.p_source.parameters {
        Some(any) => any.decode_as::<OctetString>().map_err(|e| bad(&e))?.as_bytes().to_vec(),
        None => Vec::new(),
    };
    Ok(KeyUnwrap::RsaOaep { hash, mgf_hash, label })
}

fn oaep_decrypt(
    key: &rsa::PrivateKey,
    hash: Hash,
    mgf_hash: Hash,
    label: &[u8],
    ciphertext: &[u8],
) -> std::result::Result<Zeroizing<Vec<u8>>, ()> {
    fn run<D, M>(key: &rsa::PrivateKey, label: &[u8], ciphertext: &[u8]) -> std::result::Result<Zeroizing<Vec<u8>>, ()>
    where
        D: digest::Digest + digest::FixedOutputReset,
        M: digest::Digest + digest::FixedOutputReset,
    {
        let label = (!label.is_empty()).then(|| label.to_vec().into_boxed_slice());
        let padding = Oaep::<D, M> { digest: D::new(), mgf_digest: M::new(), label };
        key.decrypt(padding, ciphertext).map(Zeroizing::new).map_err(|_| ())
    }
    fn with_mgf<D>(
        key: &rsa::PrivateKey,
        mgf: Hash,
        label: &[u8],
        ct: &[u8],
    ) -> std::result::Result<Zeroizing<Vec<u8>>, ()>
    where
        D: digest::Digest + digest::FixedOutputReset,
    {
        match mgf {
            Hash::Sha1 => run::<D, sha1::Sha1>(key, label, ct),
            Hash::Sha224 => run::<D, sha2::Sha224>(key, label, ct),
            Hash::Sha256 => run::<D, sha2::Sha256>(key, label, ct),
            Hash::Sha384 => run::<D, sha2::Sha384>(key, label, ct),
            Hash::Sha512 => run::<D, sha2::Sha512>(key, label, ct),
        }
    }
    match hash {
        Hash::Sha1 => with_mgf::<sha1::Sha1>(key, mgf_hash, label, ciphertext),
        Hash::Sha224 => with_mgf::<sha2::Sha224>(key, mgf_hash, label, ciphertext),
        Hash::Sha256 => with_mgf::<sha2::Sha256>(key, mgf_hash, label, ciphertext),
        Hash::Sha384 => with_mgf::<sha2::Sha384>(key, mgf_hash, label, ciphertext),
        Hash::Sha512 => with_mgf::<sha2::Sha512>(key, mgf_hash, label, ciphertext),
    }
}
