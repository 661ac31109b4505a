//! Content-encryption algorithms shared by `encrypt.rs` and `decrypt.rs`: AES-CBC
//! (RFC 3565), 3DES-CBC (RFC 3370 §5.1, decryption only) and AES-GCM (RFC 5084).
//!
//! ```text
//! -- RFC 3565 §4.1: the AES-CBC parameters are the IV
//! AES-IV ::= OCTET STRING (SIZE(16))
//! -- RFC 3370 §5.1
//! des-ede3-cbc OBJECT IDENTIFIER ::= { ... encryptionAlgorithm(3) 7 }   -- params: IV, 8 octets
//! -- RFC 5084 §3.2
//! GCMParameters ::= SEQUENCE {
//!   aes-nonce        OCTET STRING, -- recommended size is 12 octets
//!   aes-ICVlen       AES-GCM-ICVlen DEFAULT 12 }
//! AES-GCM-ICVlen ::= INTEGER (12 | 13 | 14 | 15 | 16)
//! ```
//!
//! Decryption returns `Err(())` for every failure once the key is in play (bad
//! padding, bad tag); the caller turns that into the uniform `DecryptionFailed`.

use crate::algorithms::{
    DES_EDE3_CBC, ID_AES_128_CBC, ID_AES_128_GCM, ID_AES_192_CBC, ID_AES_192_GCM, ID_AES_256_CBC, ID_AES_256_GCM,
};
use crate::{Error, Result};
use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockModeDecrypt, BlockModeEncrypt, KeyInit, KeyIvInit};
use aes_gcm::aead::AeadInOut;
use aes_gcm::aead::consts::{U12, U13, U14, U15, U16};
use der::asn1::OctetString;
use der::{Any, Sequence};
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

/// A content-encryption algorithm the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cipher {
    Aes128Cbc,
    Aes192Cbc,
    Aes256Cbc,
    DesEde3Cbc,
    Aes128Gcm,
    Aes192Gcm,
    Aes256Gcm,
}

/// RFC 5084 GCMParameters.
#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct GcmParameters {
    nonce: OctetString,
    #[asn1(default = "default_icv_len")]
    icv_len: u8,
}

fn default_icv_len() -> u8 {
    12
}

/// The GCM nonce length we produce and accept (RFC 5084 recommends 12 octets).
pub(crate) const GCM_NONCE_LEN: usize = 12;
/// The GCM tag length we produce.
pub(crate) const GCM_TAG_LEN: usize = 16;

impl Cipher {
    /// The cipher and its parameters (IV or nonce) from a contentEncryptionAlgorithm.
    pub(crate) fn from_algorithm(alg: &AlgorithmIdentifierOwned) -> Result<(Self, Vec<u8>)> {
        let cipher = match alg.oid {
            ID_AES_128_CBC => Self::Aes128Cbc,
            ID_AES_192_CBC => Self::Aes192Cbc,
            ID_AES_256_CBC => Self::Aes256Cbc,
            DES_EDE3_CBC => Self::DesEde3Cbc,
            ID_AES_128_GCM => Self::Aes128Gcm,
            ID_AES_192_GCM => Self::Aes192Gcm,
            ID_AES_256_GCM => Self::Aes256Gcm,
            other => return Err(Error::Unsupported { what: "content cipher", oid: other.to_string() }),
        };
        let params = alg.parameters.as_ref().ok_or_else(|| bad_params(cipher, "parameters missing"))?;
        let iv = if cipher.is_aead() {
            let gcm: GcmParameters = params.decode_as().map_err(|e| bad_params(cipher, e))?;
            if gcm.nonce.as_bytes().len() != GCM_NONCE_LEN {
                return Err(Error::Unsupported {
                    what: "AES-GCM nonce length",
                    oid: gcm.nonce.as_bytes().len().to_string(),
                });
            }
            gcm.nonce.as_bytes().to_vec()
        } else {
            let iv: OctetString = params.decode_as().map_err(|e| bad_params(cipher, e))?;
            if iv.as_bytes().len() != cipher.block_len() {
                return Err(bad_params(cipher, "wrong IV length"));
            }
            iv.as_bytes().to_vec()
        };
        Ok((cipher, iv))
    }

    /// The contentEncryptionAlgorithm for this cipher with `iv` (a nonce for GCM).
    pub(crate) fn algorithm(self, iv: &[u8]) -> Result<AlgorithmIdentifierOwned> {
        let iv = OctetString::new(iv).map_err(encode_error)?;
        let parameters = if self.is_aead() {
            Any::encode_from(&GcmParameters { nonce: iv, icv_len: GCM_TAG_LEN as u8 })
        } else {
            Any::encode_from(&iv)
        }
        .map_err(encode_error)?;
        Ok(AlgorithmIdentifierOwned { oid: self.oid(), parameters: Some(parameters) })
    }

    fn oid(self) -> const_oid::ObjectIdentifier {
        match self {
            Self::Aes128Cbc => ID_AES_128_CBC,
            Self::Aes192Cbc => ID_AES_192_CBC,
            Self::Aes256Cbc => ID_AES_256_CBC,
            Self::DesEde3Cbc => DES_EDE3_CBC,
            Self::Aes128Gcm => ID_AES_128_GCM,
            Self::Aes192Gcm => ID_AES_192_GCM,
            Self::Aes256Gcm => ID_AES_256_GCM,
        }
    }

    /// The key length in octets.
    pub(crate) fn key_len(self) -> usize {
        match self {
            Self::Aes128Cbc | Self::Aes128Gcm => 16,
            Self::Aes192Cbc | Self::Aes192Gcm | Self::DesEde3Cbc => 24,
            Self::Aes256Cbc | Self::Aes256Gcm => 32,
        }
    }

    /// The IV (CBC) or nonce (GCM) length in octets.
    pub(crate) fn iv_len(self) -> usize {
        if self.is_aead() { GCM_NONCE_LEN } else { self.block_len() }
    }

    fn block_len(self) -> usize {
        if self == Self::DesEde3Cbc { 8 } else { 16 }
    }

    /// True for the AES-GCM ciphers (AuthEnvelopedData).
    pub(crate) fn is_aead(self) -> bool {
        matches!(self, Self::Aes128Gcm | Self::Aes192Gcm | Self::Aes256Gcm)
    }

    /// True for ciphers that deserve a warning.
    pub(crate) fn is_legacy(self) -> bool {
        self == Self::DesEde3Cbc
    }

    /// The name shown to users.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Aes128Cbc => "AES-128-CBC",
            Self::Aes192Cbc => "AES-192-CBC",
            Self::Aes256Cbc => "AES-256-CBC",
            Self::DesEde3Cbc => "3DES-CBC",
            Self::Aes128Gcm => "AES-128-GCM",
            Self::Aes192Gcm => "AES-192-GCM",
            Self::Aes256Gcm => "AES-256-GCM",
        }
    }

    /// The ciphertext length for `plaintext_len` bytes (CBC pads to whole blocks).
    pub(crate) fn ciphertext_len(self, plaintext_len: usize) -> usize {
        if self.is_aead() { plaintext_len } else { (plaintext_len / self.block_len() + 1) * self.block_len() }
    }

    /// Encrypts `buffer[start..]` in place (the buffer grows by the CBC padding) and
    /// returns the 16-octet tag for GCM, or nothing (additional authenticated data: none).
    pub(crate) fn encrypt_in_place(self, key: &[u8], iv: &[u8], buffer: &mut Vec<u8>, start: usize) -> Result<Vec<u8>> {
        let bad_key = |_| Error::Crypto("content key or IV of the wrong length".into());
        let no_tag = |()| Vec::new();
        match self {
            Self::Aes128Cbc => cbc_encrypt::<aes::Aes128>(key, iv, buffer, start).map(no_tag).map_err(bad_key),
            Self::Aes192Cbc => cbc_encrypt::<aes::Aes192>(key, iv, buffer, start).map(no_tag).map_err(bad_key),
            Self::Aes256Cbc => cbc_encrypt::<aes::Aes256>(key, iv, buffer, start).map(no_tag).map_err(bad_key),
            Self::DesEde3Cbc => Err(Error::Unsupported { what: "content cipher for encryption", oid: "3DES".into() }),
            Self::Aes128Gcm => gcm_encrypt::<aes::Aes128>(key, iv, &mut buffer[start..]),
            Self::Aes192Gcm => gcm_encrypt::<aes::Aes192>(key, iv, &mut buffer[start..]),
            Self::Aes256Gcm => gcm_encrypt::<aes::Aes256>(key, iv, &mut buffer[start..]),
        }
    }

    /// Decrypts `ciphertext` in place (checking `tag` over `aad` for GCM). `Err(())` on
    /// any failure; no partial plaintext escapes (the buffer is wiped).
    pub(crate) fn decrypt(
        self,
        key: &[u8],
        iv: &[u8],
        ciphertext: Zeroizing<Vec<u8>>,
        aad: &[u8],
        tag: &[u8],
    ) -> std::result::Result<Zeroizing<Vec<u8>>, ()> {
        match self {
            Self::Aes128Cbc => cbc_decrypt::<aes::Aes128>(key, iv, ciphertext),
            Self::Aes192Cbc => cbc_decrypt::<aes::Aes192>(key, iv, ciphertext),
            Self::Aes256Cbc => cbc_decrypt::<aes::Aes256>(key, iv, ciphertext),
            Self::DesEde3Cbc => cbc_decrypt::<des::TdesEde3>(key, iv, ciphertext),
            Self::Aes128Gcm => gcm_decrypt::<aes::Aes128>(key, iv, ciphertext, aad, tag),
            Self::Aes192Gcm => gcm_decrypt::<aes::Aes192>(key, iv, ciphertext, aad, tag),
            Self::Aes256Gcm => gcm_decrypt::<aes::Aes256>(key, iv, ciphertext, aad, tag),
        }
    }
}

/// CBC with PKCS#7 padding over `buffer[start..]`, in place; the buffer grows by the padding.
fn cbc_encrypt<C>(
    key: &[u8],
    iv: &[u8],
    buffer: &mut Vec<u8>,
    start: usize,
) -> std::result::Result<(), aes::cipher::InvalidLength>
where
    C: aes::cipher::BlockCipherEncrypt + KeyInit,
{
    let enc = cbc::Encryptor::<C>::new_from_slices(key, iv)?;
    let plaintext_len = buffer.len() - start;
    buffer.resize(buffer.len() + C::block_size(), 0);
    let ciphertext_len =
        enc.encrypt_padded::<Pkcs7>(&mut buffer[start..], plaintext_len).map_err(|_| aes::cipher::InvalidLength)?.len();
    buffer.truncate(start + ciphertext_len);
    Ok(())
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], ciphertext: Zeroizing<Vec<u8>>) -> std::result::Result<Zeroizing<Vec<u8>>, ()>
where
    C: aes::cipher::BlockCipherDecrypt + KeyInit,
{
    let dec = cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| ())?;
    let mut buf = ciphertext;
    let len = dec.decrypt_padded::<Pkcs7>(&mut buf).map_err(|_| ())?.len();
    buf.truncate(len);
    Ok(buf)
}

/// AES-GCM over `buffer` in place; returns the 16-octet tag.
fn gcm_encrypt<C>(key: &[u8], nonce: &[u8], buffer: &mut [u8]) -> Result<Vec<u8>>
where
    C: aes::cipher::BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + KeyInit,
{
    let gcm = aes_gcm::AesGcm::<C, U12, U16>::new_from_slice(key)
        .map_err(|_| Error::Crypto("content key of the wrong length".into()))?;
    let nonce = aes_gcm::Nonce::<U12>::try_from(nonce).map_err(|_| Error::Crypto("GCM nonce length".into()))?;
    let tag = gcm
        .encrypt_inout_detached(&nonce, &[], buffer.into())
        .map_err(|_| Error::Crypto("AES-GCM encryption failed (content too long?)".into()))?;
    Ok(tag.to_vec())
}

fn gcm_decrypt<C>(
    key: &[u8],
    nonce: &[u8],
    ciphertext: Zeroizing<Vec<u8>>,
    aad: &[u8],
    tag: &[u8],
) -> std::result::Result<Zeroizing<Vec<u8>>, ()>
where
    C: aes::cipher::BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + KeyInit,
{
    match tag.len() {
        12 => gcm_open::<C, U12>(key, nonce, ciphertext, aad, tag),
        13 => gcm_open::<C, U13>(key, nonce, ciphertext, aad, tag),
        14 => gcm_open::<C, U14>(key, nonce, ciphertext, aad, tag),
        15 => gcm_open::<C, U15>(key, nonce, ciphertext, aad, tag),
        16 => gcm_open::<C, U16>(key, nonce, ciphertext, aad, tag),
        _ => Err(()),
    }
}

fn gcm_open<C, T>(
    key: &[u8],
    nonce: &[u8],
    ciphertext: Zeroizing<Vec<u8>>,
    aad: &[u8],
    tag: &[u8],
) -> std::result::Result<Zeroizing<Vec<u8>>, ()>
where
    C: aes::cipher::BlockCipherEncrypt<BlockSize = aes::cipher::consts::U16> + KeyInit,
    T: aes_gcm::TagSize,
{
    let gcm = aes_gcm::AesGcm::<C, U12, T>::new_from_slice(key).map_err(|_| ())?;
    let nonce = aes_gcm::Nonce::<U12>::try_from(nonce).map_err(|_| ())?;
    let tag = aes_gcm::Tag::<T>::try_from(tag).map_err(|_| ())?;
    let mut buf = ciphertext;
    // On a tag mismatch the buffer still holds ciphertext: nothing is decrypted.
    gcm.decrypt_inout_detached(&nonce, aad, buf.as_mut_slice().into(), &tag).map_err(|_| ())?;
    Ok(buf)
}

fn bad_params(cipher: Cipher, reason: impl std::fmt::Display) -> Error {
    Error::malformed("content-encryption parameters", format!("{}: {reason}", cipher.name()))
}

fn encode_error(e: der::Error) -> Error {
    Error::Crypto(format!("DER encoding: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cipher_round_trips_and_rejects_tampering() {
        for cipher in [Cipher::Aes128Cbc, Cipher::Aes256Cbc, Cipher::Aes128Gcm, Cipher::Aes256Gcm] {
            let key = vec![7u8; cipher.key_len()];
            let iv = vec![9u8; cipher.iv_len()];
            let mut ct = b"header:attack at dawn".to_vec();
            let tag = cipher.encrypt_in_place(&key, &iv, &mut ct, 7).expect("test");
            assert_eq!(&ct[..7], b"header:");
            let ct = ct.split_off(7);
            assert_eq!(ct.len(), cipher.ciphertext_len(14));
            let alg = cipher.algorithm(&iv).expect("test");
            let (parsed, parsed_iv) = Cipher::from_algorithm(&alg).expect("test");
            assert_eq!((parsed, parsed_iv.as_slice()), (cipher, iv.as_slice()));
            assert_eq!(
                cipher.decrypt(&key, &iv, Zeroizing::new(ct.clone()), &[], &tag).expect("decrypt").as_slice(),
                b"attack at dawn"
            );
            if cipher.is_aead() {
                let mut bad = ct.clone();
                bad[0] ^= 1;
                assert!(cipher.decrypt(&key, &iv, Zeroizing::new(bad), &[], &tag).is_err());
                assert!(cipher.decrypt(&key, &iv, Zeroizing::new(ct.clone()), b"aad", &tag).is_err());
            }
        }
    }
}
