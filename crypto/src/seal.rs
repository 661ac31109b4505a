//! Sealing secrets for rest: a passphrase-derived key (Argon2id, RFC 9106) and
//! AES-256-GCM. Used by the key store for private keys on disk; no files here.
//!
//! Format, version 1 (all integers big-endian):
//!
//! ```text
//! "SPSEAL" | version=1 (1) | m_cost KiB (4) | t_cost (4) | p_cost (1) | salt (16) | nonce (12)
//!   | tag (16) | ciphertext
//! ```
//! Everything before the tag is authenticated as associated data, so the KDF
//! parameters cannot be downgraded without the tag failing.

use crate::{Error, Result};
use aes_gcm::aead::AeadInOut;
use aes_gcm::aead::KeyInit;
use zeroize::Zeroizing;

const MAGIC: &[u8; 6] = b"SPSEAL";
const VERSION: u8 = 1;
const HEADER_LEN: usize = 6 + 1 + 4 + 4 + 1 + 16 + 12;
const TAG_LEN: usize = 16;

/// The cost of the passphrase KDF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SealCost {
    /// Memory in KiB.
    pub memory_kib: u32,
    /// Passes.
    pub iterations: u32,
    /// Lanes.
    pub parallelism: u8,
}

impl SealCost {
    /// The default: 64 MiB, 3 passes, 1 lane (RFC 9106 §4 second recommendation).
    pub const DEFAULT: Self = Self { memory_kib: 64 * 1024, iterations: 3, parallelism: 1 };
    /// The smallest cost `unseal` accepts (a file with less was not made by us).
    const MINIMUM: Self = Self { memory_kib: 8 * 1024, iterations: 1, parallelism: 1 };
    /// The largest cost `unseal` accepts (more would let a file exhaust memory).
    const MAXIMUM: Self = Self { memory_kib: 4 * 1024 * 1024, iterations: 64, parallelism: 16 };
}

impl Default for SealCost {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Encrypts `secret` under `passphrase`.
pub fn seal(secret: &[u8], passphrase: &[u8], cost: SealCost) -> Result<Vec<u8>> {
    let salt: [u8; 16] = rand::random();
    let nonce: [u8; 12] = rand::random();
    let mut out = Vec::with_capacity(HEADER_LEN + TAG_LEN + secret.len());
    out.extend_from_slice(MAGIC);
    out.push(VERSION);
    out.extend_from_slice(&cost.memory_kib.to_be_bytes());
    out.extend_from_slice(&cost.iterations.to_be_bytes());
    out.push(cost.parallelism);
    out.extend_from_slice(&salt);
    out.extend_from_slice(&nonce);
    let key = derive_key(passphrase, &salt, cost)?;
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key.as_slice()).map_err(|e| Error::Crypto(e.to_string()))?;
    let mut buffer = Zeroizing::new(secret.to_vec());
    let tag = cipher
        .encrypt_inout_detached(&nonce.into(), &out, buffer.as_mut_slice().into())
        .map_err(|_| Error::Crypto("sealing failed".into()))?;
    out.extend_from_slice(&tag);
    out.extend_from_slice(&buffer);
    Ok(out)
}

/// Decrypts what [`seal`] made. A wrong passphrase (or a changed file) is
/// [`Error::WrongPassphrase`].
pub fn unseal(sealed: &[u8], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>> {
    let malformed = |reason: &str| Error::malformed("sealed key file", reason);
    if sealed.len() < HEADER_LEN + TAG_LEN || &sealed[..6] != MAGIC {
        return Err(malformed("not a smime-proxy sealed file"));
    }
    if sealed[6] != VERSION {
        return Err(malformed("unknown format version (made by a newer smime-proxy?)"));
    }
    let be32 = |at: usize| u32::from_be_bytes([sealed[at], sealed[at + 1], sealed[at + 2], sealed[at + 3]]);
    let cost = SealCost { memory_kib: be32(7), iterations: be32(11), parallelism: sealed[15] };
    let (min, max) = (SealCost::MINIMUM, SealCost::MAXIMUM);
    if !(min.memory_kib..=max.memory_kib).contains(&cost.memory_kib)
        || !(min.iterations..=max.iterations).contains(&cost.iterations)
        || !(min.parallelism..=max.parallelism).contains(&cost.parallelism)
    {
        return Err(malformed("key derivation parameters out of range"));
    }
    let (header, rest) = sealed.split_at(HEADER_LEN);
    let (tag, ciphertext) = rest.split_at(TAG_LEN);
    let key = derive_key(passphrase, &header[16..32], cost)?;
    let cipher = aes_gcm::Aes256Gcm::new_from_slice(key.as_slice()).map_err(|e| Error::Crypto(e.to_string()))?;
    let nonce =
        aes_gcm::Nonce::<aes_gcm::aead::consts::U12>::try_from(&header[32..44]).map_err(|_| malformed("nonce"))?;
    let tag = aes_gcm::Tag::<aes_gcm::aead::consts::U16>::try_from(tag).map_err(|_| malformed("tag"))?;
    let mut buffer = Zeroizing::new(ciphertext.to_vec());
    cipher
        .decrypt_inout_detached(&nonce, header, buffer.as_mut_slice().into(), &tag)
        .map_err(|_| Error::WrongPassphrase)?;
    Ok(buffer)
}

fn derive_key(passphrase: &[u8], salt: &[u8], cost: SealCost) -> Result<Zeroizing<[u8; 32]>> {
    let params = argon2::Params::new(cost.memory_kib, cost.iterations, u32::from(cost.parallelism), Some(32))
        .map_err(|e| Error::Crypto(format!("Argon2 parameters: {e}")))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let mut key = Zeroizing::new([0u8; 32]);
    argon
        .hash_password_into(passphrase, salt, key.as_mut_slice())
        .map_err(|e| Error::Crypto(format!("Argon2: {e}")))?;
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: SealCost = SealCost { memory_kib: 8 * 1024, iterations: 1, parallelism: 1 };

    #[test]
    fn round_trips_and_refuses_a_wrong_passphrase() {
        let sealed = seal(b"private key bytes", b"correct horse", FAST).expect("seal");
        assert!(!sealed.windows(17).any(|w| w == b"private key bytes"));
        assert_eq!(unseal(&sealed, b"correct horse").expect("unseal").as_slice(), b"private key bytes");
        assert!(matches!(unseal(&sealed, b"wrong"), Err(Error::WrongPassphrase)));
    }

    #[test]
    fn any_changed_byte_is_detected() {
        let sealed = seal(b"secret", b"pw", FAST).expect("seal");
        for i in 0..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(unseal(&bad, b"pw").is_err(), "byte {i}");
        }
        for len in 0..sealed.len() {
            assert!(unseal(&sealed[..len], b"pw").is_err());
        }
    }

    #[test]
    fn refuses_absurd_costs() {
        let mut sealed = seal(b"secret", b"pw", FAST).expect("seal");
        sealed[7..11].copy_from_slice(&u32::MAX.to_be_bytes());
        assert!(matches!(unseal(&sealed, b"pw"), Err(Error::Malformed { .. })));
    }
}
