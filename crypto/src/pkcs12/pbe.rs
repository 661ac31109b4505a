//! Password-based decryption of PKCS#12 `encryptedData` and `pkcs8ShroudedKeyBag`:
//!
//! * PBES2 (RFC 8018 §6.2): PBKDF2 with HMAC-SHA-1/224/256/384/512, then AES-128/192/256-CBC
//!   or DES-EDE3-CBC. The password is the passphrase's bytes as given (UTF-8), as OpenSSL 3
//!   and NSS use it.
//! * The legacy PKCS#12 schemes (RFC 7292 Appendix C): key and IV from the PKCS#12 KDF
//!   with SHA-1 over the BMPString password, then 3-key or 2-key 3DES-CBC, or RC2-CBC with
//!   a 128 or 40 bit effective key. RC4 is not implemented.
//!
//! Every derived key and every plaintext lives in a `Zeroizing` buffer. A padding failure
//! is reported as [`Error::WrongPassphrase`]: with a wrong password that is what happens.
//!
//! Not done here: PBES2 with scrypt, RC2 or AES-GCM (no PKCS#12 writer uses them),
//! PBES1 (RFC 8018 §6.1, DES/RC2 with MD5/SHA-1).

use super::asn1::{Pbes2Params, Pbkdf2Params, Pkcs12PbeParams};
use super::budget::Budget;
use super::kdf::{self, Purpose};
use super::oids;
use crate::{Error, Result};
use cbc::cipher::block_padding::Pkcs7;
use cbc::cipher::{BlockCipherDecrypt, BlockModeDecrypt, InnerIvInit, KeyInit};
use der::asn1::{AnyRef, OctetStringRef};
use hmac::EagerHash;
use spki::AlgorithmIdentifierRef;
use zeroize::Zeroizing;

const WHAT: &str = "PKCS#12 encryption parameters";

/// The passphrase in the two encodings PKCS#12 needs.
pub(super) struct Passwords {
    /// BMPString with the two trailing zero bytes, for the PKCS#12 KDF (RFC 7292 B.1).
    pub bmp: Zeroizing<Vec<u8>>,
    /// The bytes as given, for PBKDF2.
    pub raw: Zeroizing<Vec<u8>>,
}

impl Passwords {
    pub(super) fn new(passphrase: &[u8]) -> Self {
        Self { bmp: kdf::bmp_password(passphrase), raw: Zeroizing::new(passphrase.to_vec()) }
    }
}

impl std::fmt::Debug for Passwords {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passwords(..)")
    }
}

/// Decrypts `ciphertext` under `algorithm` (an `AlgorithmIdentifier` of one of the schemes
/// in the module docs) with the passphrase.
pub(super) fn decrypt(
    algorithm: &AlgorithmIdentifierRef<'_>,
    passwords: &Passwords,
    ciphertext: &[u8],
    budget: &mut Budget,
) -> Result<Zeroizing<Vec<u8>>> {
    let oid = algorithm.oid;
    let params = algorithm.parameters.ok_or_else(|| Error::malformed(WHAT, format!("{oid} without parameters")))?;
    let (cipher, key_len) = match oid {
        oids::ID_PBES2 => return pbes2(params, passwords, ciphertext, budget),
        oids::PBE_SHA1_3DES_3KEY => (Cipher::DesEde3, 24),
        oids::PBE_SHA1_3DES_2KEY => (Cipher::DesEde2, 16),
        oids::PBE_SHA1_RC2_128 => (Cipher::Rc2 { bits: 128 }, 16),
        oids::PBE_SHA1_RC2_40 => (Cipher::Rc2 { bits: 40 }, 5),
        oids::PBE_SHA1_RC4_128 | oids::PBE_SHA1_RC4_40 => {
            return Err(Error::Unsupported { what: "PKCS#12 encryption (RC4)", oid: oid.to_string() });
        }
        other => return Err(Error::Unsupported { what: "PKCS#12 encryption", oid: other.to_string() }),
    };
    let params: Pkcs12PbeParams<'_> = params.decode_as().map_err(|e| Error::malformed(WHAT, e))?;
    budget.spend(params.iterations)?;
    let salt = params.salt.as_bytes();
    let key = kdf::derive::<sha1::Sha1>(Purpose::Key, &passwords.bmp, salt, params.iterations, key_len);
    let iv = kdf::derive::<sha1::Sha1>(Purpose::Iv, &passwords.bmp, salt, params.iterations, 8);
    cipher.decrypt(&key, &iv, ciphertext)
}

/// RFC 8018 §6.2.2 with PBKDF2 (§5.2).
fn pbes2(
    params: AnyRef<'_>,
    passwords: &Passwords,
    ciphertext: &[u8],
    budget: &mut Budget,
) -> Result<Zeroizing<Vec<u8>>> {
    let params: Pbes2Params<'_> = params.decode_as().map_err(|e| Error::malformed(WHAT, e))?;
    let kdf_alg = params.key_derivation_func;
    if kdf_alg.oid != oids::ID_PBKDF2 {
        return Err(Error::Unsupported { what: "PBES2 key derivation", oid: kdf_alg.oid.to_string() });
    }
    let kdf_params: Pbkdf2Params<'_> = kdf_alg
        .parameters
        .ok_or_else(|| Error::malformed(WHAT, "PBKDF2 without parameters"))?
        .decode_as()
        .map_err(|e| Error::malformed(WHAT, e))?;
    let scheme = params.encryption_scheme;
    let (cipher, key_len) = match scheme.oid {
        oids::AES128_CBC => (Cipher::Aes128, 16),
        oids::AES192_CBC => (Cipher::Aes192, 24),
        oids::AES256_CBC => (Cipher::Aes256, 32),
        oids::DES_EDE3_CBC => (Cipher::DesEde3, 24),
        other => return Err(Error::Unsupported { what: "PBES2 cipher", oid: other.to_string() }),
    };
    let iv: &OctetStringRef = scheme
        .parameters
        .ok_or_else(|| Error::malformed(WHAT, "cipher without an IV"))?
        .decode_as()
        .map_err(|e| Error::malformed(WHAT, e))?;
    if kdf_params.key_length.is_some_and(|len| usize::from(len) != key_len) {
        return Err(Error::malformed(WHAT, "PBKDF2 key length does not fit the cipher"));
    }
    budget.spend(kdf_params.iteration_count)?;
    let mut key = Zeroizing::new(vec![0u8; key_len]);
    let (password, salt, rounds) = (passwords.raw.as_slice(), kdf_params.salt.as_bytes(), kdf_params.iteration_count);
    let prf = kdf_params.prf.map_or(oids::HMAC_WITH_SHA1, |p| p.oid);
    match prf {
        oids::HMAC_WITH_SHA1 => pbkdf2_into::<sha1::Sha1>(password, salt, rounds, &mut key),
        oids::HMAC_WITH_SHA224 => pbkdf2_into::<sha2::Sha224>(password, salt, rounds, &mut key),
        oids::HMAC_WITH_SHA256 => pbkdf2_into::<sha2::Sha256>(password, salt, rounds, &mut key),
        oids::HMAC_WITH_SHA384 => pbkdf2_into::<sha2::Sha384>(password, salt, rounds, &mut key),
        oids::HMAC_WITH_SHA512 => pbkdf2_into::<sha2::Sha512>(password, salt, rounds, &mut key),
        other => return Err(Error::Unsupported { what: "PBKDF2 pseudo-random function", oid: other.to_string() }),
    }
    cipher.decrypt(&key, iv.as_bytes(), ciphertext)
}

fn pbkdf2_into<D: EagerHash>(password: &[u8], salt: &[u8], rounds: u32, out: &mut [u8]) {
    pbkdf2::pbkdf2_hmac::<D>(password, salt, rounds, out);
}

/// The block ciphers, all in CBC mode with PKCS#7 padding (RFC 5652 §6.3).
#[derive(Debug, Clone, Copy)]
enum Cipher {
    Aes128,
    Aes192,
    Aes256,
    DesEde3,
    /// Two-key triple DES (K1, K2, K1), as `pbeWithSHAAnd2-KeyTripleDES-CBC`.
    DesEde2,
    /// RC2 with this effective key length in bits (RFC 2268).
    Rc2 {
        bits: usize,
    },
}

impl Cipher {
    fn decrypt(self, key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
        let bad_key = |_| Error::malformed(WHAT, "key length");
        match self {
            Self::Aes128 => cbc_decrypt(aes::Aes128::new_from_slice(key).map_err(bad_key)?, iv, ciphertext),
            Self::Aes192 => cbc_decrypt(aes::Aes192::new_from_slice(key).map_err(bad_key)?, iv, ciphertext),
            Self::Aes256 => cbc_decrypt(aes::Aes256::new_from_slice(key).map_err(bad_key)?, iv, ciphertext),
            Self::DesEde3 => cbc_decrypt(des::TdesEde3::new_from_slice(key).map_err(bad_key)?, iv, ciphertext),
            Self::DesEde2 => cbc_decrypt(des::TdesEde2::new_from_slice(key).map_err(bad_key)?, iv, ciphertext),
            // `new_with_eff_key_len` indexes a 128-byte buffer with the key: the key
            // lengths above are 5 and 16, checked here all the same.
            Self::Rc2 { bits } if !key.is_empty() && key.len() <= 128 => {
                cbc_decrypt(rc2::Rc2::new_with_eff_key_len(key, bits), iv, ciphertext)
            }
            Self::Rc2 { .. } => Err(Error::malformed(WHAT, "key length")),
        }
    }
}

fn cbc_decrypt<C: BlockCipherDecrypt>(cipher: C, iv: &[u8], ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    if ciphertext.is_empty() || !ciphertext.len().is_multiple_of(C::block_size()) {
        return Err(Error::malformed(WHAT, "ciphertext is not a whole number of blocks"));
    }
    let mode = cbc::Decryptor::<C>::inner_iv_slice_init(cipher, iv)
        .map_err(|_| Error::malformed(WHAT, "IV length does not fit the cipher"))?;
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    let len = mode.decrypt_padded::<Pkcs7>(&mut buffer).map_err(|_| Error::WrongPassphrase)?.len();
    buffer.truncate(len);
    Ok(buffer)
}
