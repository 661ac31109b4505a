//! ECDH key agreement recipients (KeyAgreeRecipientInfo, RFC 5753 §3.1 and RFC 5652
//! §6.2.2): ephemeral-static ECDH on P-256/P-384, the ANSI X9.63 KDF over
//! ECC-CMS-SharedInfo, AES key wrap (RFC 3394). Written here because the `cms` crate's
//! builder wraps the content key under an all-zero key.
//!
//! ```text
//! KeyAgreeRecipientInfo ::= SEQUENCE {
//!   version CMSVersion,  -- always set to 3
//!   originator [0] EXPLICIT OriginatorIdentifierOrKey,   -- originatorKey (ephemeral)
//!   ukm [1] EXPLICIT UserKeyingMaterial OPTIONAL,
//!   keyEncryptionAlgorithm KeyEncryptionAlgorithmIdentifier,
//!       -- dhSinglePass-stdDH-shaNNNkdf-scheme, parameters: KeyWrapAlgorithm
//!   recipientEncryptedKeys RecipientEncryptedKeys }
//!
//! ECC-CMS-SharedInfo ::= SEQUENCE {          -- RFC 5753 §7.2
//!   keyInfo         AlgorithmIdentifier,     -- the key wrap algorithm
//!   entityUInfo [0] EXPLICIT OCTET STRING OPTIONAL,  -- the ukm
//!   suppPubInfo [2] EXPLICIT OCTET STRING  } -- KEK length in bits, 32-bit big-endian
//! ```
//!
//! Produced: P-256 with `dhSinglePass-stdDH-sha256kdf-scheme`, P-384 with
//! `...-sha384kdf-scheme` (RFC 5753 §8 / RFC 8551 pairings), the key wrap matching the
//! content key size (aes128-wrap for a 128-bit content key, aes256-wrap for 256-bit) so
//! the wrap is never weaker than the content cipher. Accepted: the SHA-1/224/256/384/512
//! KDF schemes (OpenSSL defaults to SHA-1) with aes128/192/256-wrap, and the RFC 3217
//! Triple-DES key wrap that OpenSSL uses for 3DES content.

use crate::algorithms::{
    ECDH_SHA1_KDF, ECDH_SHA224_KDF, ECDH_SHA256_KDF, ECDH_SHA384_KDF, ECDH_SHA512_KDF, ID_AES_128_WRAP,
    ID_AES_192_WRAP, ID_AES_256_WRAP, ID_ALG_CMS3DES_WRAP, ID_EC_PUBLIC_KEY, SECP256R1, SECP384R1,
};
use crate::{Certificate, Error, PrivateKey, Result};
use cms::content_info::CmsVersion;
use cms::enveloped_data::{
    KeyAgreeRecipientIdentifier, KeyAgreeRecipientInfo, OriginatorIdentifierOrKey, OriginatorPublicKey,
    RecipientEncryptedKey,
};
use const_oid::ObjectIdentifier as Oid;
use der::asn1::{BitString, OctetString};
use der::{Any, Encode, Sequence};
use digest::Digest;
use elliptic_curve::Generate;
use elliptic_curve::sec1::ToSec1Point;
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

/// RFC 5753 §7.2 ECC-CMS-SharedInfo, the X9.63 KDF's SharedInfo input.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct EccCmsSharedInfo {
    key_info: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    entity_u_info: Option<OctetString>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT")]
    supp_pub_info: OctetString,
}

/// The curves we do ECDH on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Curve {
    P256,
    P384,
}

/// Builds the KeyAgreeRecipientInfo that gives `cek` to the EC key of `certificate`,
/// naming the recipient by `rid`.
pub(crate) fn recipient_info(
    certificate: &Certificate,
    rid: KeyAgreeRecipientIdentifier,
    cek: &[u8],
) -> Result<KeyAgreeRecipientInfo> {
    let spki = certificate.tbs_certificate().subject_public_key_info();
    let named_curve = spki.algorithm.parameters.as_ref().map(|p| p.decode_as::<Oid>());
    if spki.algorithm.oid != ID_EC_PUBLIC_KEY {
        return Err(recipient_error(certificate, "not an EC public key"));
    }
    let curve = match named_curve.transpose() {
        Ok(Some(SECP256R1)) => Curve::P256,
        Ok(Some(SECP384R1)) => Curve::P384,
        Ok(Some(other)) => return Err(recipient_error(certificate, format!("unsupported elliptic curve {other}"))),
        Ok(None) | Err(_) => return Err(recipient_error(certificate, "EC key without a named curve")),
    };
    let point = spki.subject_public_key.raw_bytes();
    let rng = &mut rand::rngs::SysRng;
    let (kdf, ephemeral, z) = match curve {
        Curve::P256 => {
            let theirs = p256::PublicKey::from_sec1_bytes(point)
                .map_err(|_| recipient_error(certificate, "invalid P-256 public key"))?;
            let secret = p256::ecdh::EphemeralSecret::try_generate_from_rng(rng).map_err(rng_error)?;
            let z = Zeroizing::new(secret.diffie_hellman(&theirs).raw_secret_bytes().to_vec());
            (Kdf::Sha256, secret.public_key().to_sec1_point(false).as_bytes().to_vec(), z)
        }
        Curve::P384 => {
            let theirs = p384::PublicKey::from_sec1_bytes(point)
                .map_err(|_| recipient_error(certificate, "invalid P-384 public key"))?;
            let secret = p384::ecdh::EphemeralSecret::try_generate_from_rng(rng).map_err(rng_error)?;
            let z = Zeroizing::new(secret.diffie_hellman(&theirs).raw_secret_bytes().to_vec());
            (Kdf::Sha384, secret.public_key().to_sec1_point(false).as_bytes().to_vec(), z)
        }
    };
    let wrap = match cek.len() {
        16 => Wrap::Aes128,
        24 => Wrap::Aes192,
        _ => Wrap::Aes256,
    };
    // RFC 3565 §2.3.2: the AES key wrap algorithm identifiers have absent parameters.
    let wrap_alg = AlgorithmIdentifierOwned { oid: wrap.oid(), parameters: None };
    let kek = derive_kek(kdf, &z, &wrap_alg, None, wrap.key_len()).map_err(|()| encode_error())?;
    let wrapped = wrap.wrap(&kek, cek)?;

    Ok(KeyAgreeRecipientInfo {
        version: CmsVersion::V3,
        originator: OriginatorIdentifierOrKey::OriginatorKey(OriginatorPublicKey {
            // RFC 5753 §3.1.1: id-ecPublicKey; parameters absent (as OpenSSL writes them).
            algorithm: AlgorithmIdentifierOwned { oid: ID_EC_PUBLIC_KEY, parameters: None },
            public_key: BitString::from_bytes(&ephemeral).map_err(|_| encode_error())?,
        }),
        ukm: None,
        key_enc_alg: AlgorithmIdentifierOwned {
            oid: kdf.oid(),
            parameters: Some(Any::encode_from(&wrap_alg).map_err(|_| encode_error())?),
        },
        recipient_enc_keys: vec![RecipientEncryptedKey {
            rid,
            enc_key: OctetString::new(wrapped).map_err(|_| encode_error())?,
        }],
    })
}

/// The algorithms of a KeyAgreeRecipientInfo, read before any secret is touched.
#[derive(Debug)]
pub(crate) struct KeyAgreement {
    kdf: Kdf,
    wrap: Wrap,
    wrap_alg: AlgorithmIdentifierOwned,
}

impl KeyAgreement {
    /// Reads `kari`'s key-encryption algorithm; an unknown one is reported as such.
    pub(crate) fn from_recipient_info(kari: &KeyAgreeRecipientInfo) -> Result<Self> {
        let kdf = match kari.key_enc_alg.oid {
            ECDH_SHA1_KDF => Kdf::Sha1,
            ECDH_SHA224_KDF => Kdf::Sha224,
            ECDH_SHA256_KDF => Kdf::Sha256,
            ECDH_SHA384_KDF => Kdf::Sha384,
            ECDH_SHA512_KDF => Kdf::Sha512,
            other => return Err(Error::Unsupported { what: "key agreement algorithm", oid: other.to_string() }),
        };
        let wrap_alg: AlgorithmIdentifierOwned = kari
            .key_enc_alg
            .parameters
            .as_ref()
            .ok_or_else(|| Error::malformed("KeyAgreeRecipientInfo", "key wrap algorithm missing"))?
            .decode_as()
            .map_err(|e| Error::malformed("KeyAgreeRecipientInfo", e))?;
        let wrap = match wrap_alg.oid {
            ID_AES_128_WRAP => Wrap::Aes128,
            ID_AES_192_WRAP => Wrap::Aes192,
            ID_AES_256_WRAP => Wrap::Aes256,
            ID_ALG_CMS3DES_WRAP => Wrap::TripleDes,
            other => return Err(Error::Unsupported { what: "key wrap algorithm", oid: other.to_string() }),
        };
        if !matches!(kari.originator, OriginatorIdentifierOrKey::OriginatorKey(_)) {
            return Err(Error::Unsupported {
                what: "key agreement originator",
                oid: "static originator key (only ephemeral-static ECDH is supported)".into(),
            });
        }
        Ok(Self { kdf, wrap, wrap_alg })
    }

    /// Recovers the content key wrapped in `encrypted_key` with the recipient's `key`.
    /// `Err(())` for every failure (the caller reports the uniform DecryptionFailed).
    pub(crate) fn unwrap_key(
        &self,
        kari: &KeyAgreeRecipientInfo,
        encrypted_key: &[u8],
        key: &PrivateKey,
    ) -> std::result::Result<Zeroizing<Vec<u8>>, ()> {
        let OriginatorIdentifierOrKey::OriginatorKey(originator) = &kari.originator else { return Err(()) };
        let point = originator.public_key.as_bytes().ok_or(())?;
        let z = match key {
            PrivateKey::P256(secret) => {
                let theirs = p256::PublicKey::from_sec1_bytes(point).map_err(|_| ())?;
                Zeroizing::new(secret.diffie_hellman(&theirs).raw_secret_bytes().to_vec())
            }
            PrivateKey::P384(secret) => {
                let theirs = p384::PublicKey::from_sec1_bytes(point).map_err(|_| ())?;
                Zeroizing::new(secret.diffie_hellman(&theirs).raw_secret_bytes().to_vec())
            }
            _ => return Err(()),
        };
        let ukm = kari.ukm.as_ref().map(|u| u.as_bytes());
        let kek = derive_kek(self.kdf, &z, &self.wrap_alg, ukm, self.wrap.key_len())?;
        self.wrap.unwrap(&kek, encrypted_key)
    }
}

/// The X9.63 KDF hash of a dhSinglePass-stdDH scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kdf {
    Sha1,
    Sha224,
    Sha256,
    Sha384,
    Sha512,
}

impl Kdf {
    fn oid(self) -> Oid {
        match self {
            Self::Sha1 => ECDH_SHA1_KDF,
            Self::Sha224 => ECDH_SHA224_KDF,
            Self::Sha256 => ECDH_SHA256_KDF,
            Self::Sha384 => ECDH_SHA384_KDF,
            Self::Sha512 => ECDH_SHA512_KDF,
        }
    }
}

/// The key wrap of the content key: AES (RFC 3394 / RFC 3565), or the CMS Triple-DES
/// key wrap (RFC 3217 §3, unwrap only: OpenSSL uses it for 3DES content).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrap {
    Aes128,
    Aes192,
    Aes256,
    TripleDes,
}

impl Wrap {
    fn oid(self) -> Oid {
        match self {
            Self::Aes128 => ID_AES_128_WRAP,
            Self::Aes192 => ID_AES_192_WRAP,
            Self::Aes256 => ID_AES_256_WRAP,
            Self::TripleDes => ID_ALG_CMS3DES_WRAP,
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::Aes128 => 16,
            Self::Aes192 | Self::TripleDes => 24,
            Self::Aes256 => 32,
        }
    }

    fn wrap(self, kek: &[u8], cek: &[u8]) -> Result<Vec<u8>> {
        use aes_kw::KeyInit;
        let mut out = vec![0u8; cek.len() + aes_kw::IV_LEN];
        let fail = |_| Error::Crypto("AES key wrap failed".into());
        let bad_kek = |_| Error::Crypto("key-encryption key of the wrong length".into());
        match self {
            Self::Aes128 => {
                aes_kw::KwAes128::new_from_slice(kek).map_err(bad_kek)?.wrap_key(cek, &mut out).map_err(fail)?
            }
            Self::Aes192 => {
                aes_kw::KwAes192::new_from_slice(kek).map_err(bad_kek)?.wrap_key(cek, &mut out).map_err(fail)?
            }
            Self::Aes256 => {
                aes_kw::KwAes256::new_from_slice(kek).map_err(bad_kek)?.wrap_key(cek, &mut out).map_err(fail)?
            }
            Self::TripleDes => {
                return Err(Error::Unsupported {
                    what: "key wrap for encryption",
                    oid: ID_ALG_CMS3DES_WRAP.to_string(),
                });
            }
        };
        Ok(out)
    }

    fn unwrap(self, kek: &[u8], wrapped: &[u8]) -> std::result::Result<Zeroizing<Vec<u8>>, ()> {
        use aes_kw::KeyInit;
        let mut out = Zeroizing::new(vec![0u8; wrapped.len()]);
        let len = match self {
            Self::Aes128 => aes_kw::KwAes128::new_from_slice(kek).map_err(|_| ())?.unwrap_key(wrapped, &mut out),
            Self::Aes192 => aes_kw::KwAes192::new_from_slice(kek).map_err(|_| ())?.unwrap_key(wrapped, &mut out),
            Self::Aes256 => aes_kw::KwAes256::new_from_slice(kek).map_err(|_| ())?.unwrap_key(wrapped, &mut out),
            Self::TripleDes => return unwrap_3des(kek, wrapped),
        }
        .map_err(|_| ())?
        .len();
        out.truncate(len);
        Ok(out)
    }
}

/// RFC 3217 §3.2 Triple-DES key unwrap: CBC-decrypt under the fixed IV
/// `4adda22c79e82105`, reverse the octets, split IV || TEMP1, CBC-decrypt TEMP1 under
/// that IV, split CEK || ICV and check ICV = first 8 octets of SHA-1(CEK).
fn unwrap_3des(kek: &[u8], wrapped: &[u8]) -> std::result::Result<Zeroizing<Vec<u8>>, ()> {
    use cbc::cipher::block_padding::NoPadding;
    use cbc::cipher::{BlockModeDecrypt, KeyIvInit};
    const FIXED_IV: [u8; 8] = [0x4a, 0xdd, 0xa2, 0x2c, 0x79, 0xe8, 0x21, 0x05];
    if wrapped.len() != 40 {
        return Err(());
    }
    let mut temp = Zeroizing::new(wrapped.to_vec());
    cbc::Decryptor::<des::TdesEde3>::new_from_slices(kek, &FIXED_IV)
        .map_err(|_| ())?
        .decrypt_padded::<NoPadding>(&mut temp)
        .map_err(|_| ())?;
    temp.reverse();
    let (iv, rest) = temp.split_at(8);
    let mut cek_icv = Zeroizing::new(rest.to_vec());
    cbc::Decryptor::<des::TdesEde3>::new_from_slices(kek, iv)
        .map_err(|_| ())?
        .decrypt_padded::<NoPadding>(&mut cek_icv)
        .map_err(|_| ())?;
    let (cek, icv) = cek_icv.split_at(24);
    let digest = sha1::Sha1::digest(cek);
    // Not secret-dependent in a way an attacker can use: any mismatch ends in the
    // uniform DecryptionFailed after the content decryption has run.
    if digest.get(..8) != Some(icv) {
        return Err(());
    }
    Ok(Zeroizing::new(cek.to_vec()))
}

/// ANSI X9.63 KDF (SEC 1 v2 §3.6.1) over `z` and the DER ECC-CMS-SharedInfo:
/// `K = Hash(Z || Counter || SharedInfo)` for Counter = 1, 2, ... until `len` octets.
fn derive_kek(
    kdf: Kdf,
    z: &[u8],
    wrap_alg: &AlgorithmIdentifierOwned,
    ukm: Option<&[u8]>,
    len: usize,
) -> std::result::Result<Zeroizing<Vec<u8>>, ()> {
    let bits = u32::try_from(len * 8).map_err(|_| ())?;
    let info = EccCmsSharedInfo {
        key_info: wrap_alg.clone(),
        entity_u_info: ukm.map(OctetString::new).transpose().map_err(|_| ())?,
        supp_pub_info: OctetString::new(bits.to_be_bytes().to_vec()).map_err(|_| ())?,
    };
    let info = info.to_der().map_err(|_| ())?;
    Ok(match kdf {
        Kdf::Sha1 => x963::<sha1::Sha1>(z, &info, len),
        Kdf::Sha224 => x963::<sha2::Sha224>(z, &info, len),
        Kdf::Sha256 => x963::<sha2::Sha256>(z, &info, len),
        Kdf::Sha384 => x963::<sha2::Sha384>(z, &info, len),
        Kdf::Sha512 => x963::<sha2::Sha512>(z, &info, len),
    })
}

fn x963<D: Digest>(z: &[u8], shared_info: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + 64));
    let mut counter = 1u32;
    while out.len() < len {
        let mut h = D::new();
        h.update(z);
        h.update(counter.to_be_bytes());
        h.update(shared_info);
        out.extend_from_slice(&h.finalize());
        counter = counter.wrapping_add(1);
    }
    out.truncate(len);
    out
}

fn recipient_error(certificate: &Certificate, reason: impl Into<String>) -> Error {
    Error::Recipient { subject: certificate.tbs_certificate().subject().to_string(), reason: reason.into() }
}

fn rng_error(e: impl std::fmt::Display) -> Error {
    Error::Crypto(format!("random number generator: {e}"))
}

fn encode_error() -> Error {
    Error::Crypto("encoding the key agreement recipient failed".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SEC 1 / X9.63 KDF: one block is Hash(Z || 00000001 || info).
    #[test]
    fn x963_first_block_is_hash_of_z_counter_info() {
        let out = x963::<sha2::Sha256>(b"zz", b"info", 40);
        let mut h = sha2::Sha256::new();
        h.update(b"zz\x00\x00\x00\x01info");
        let first = h.finalize();
        assert_eq!(&out[..32], first.as_slice());
        assert_eq!(out.len(), 40);
    }
}
