//! The envelope: the user's key material sealed on the device, the only form in which it
//! reaches the key server.
//!
//! ```text
//! magic "SKSE" | format u8 (1) | version u64 BE | account id (16 bytes)
//! | wrap commitment (32) | wrap nonce (12) | wrapped data key (32 + 16 tag)
//! | payload commitment (32) | payload nonce (12) | payload ciphertext (+ 16 tag)
//! ```
//!
//! A random 256-bit data key seals the payload (AES-256-GCM); the data key is wrapped under
//! a key derived from OPAQUE's `export_key`, which only a client that knows the password
//! obtains. Every key is used through HKDF, which yields both an AES key and a commitment
//! to it stored in the header: AES-GCM alone is not key-committing (a ciphertext can be
//! made to open under two keys), so a key whose commitment differs is refused before any
//! decryption. The header (magic to account id) is the AAD of both seals: a server that
//! hands out another account's envelope, or relabels its version, is caught.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::Error;

/// The envelope's magic bytes.
const MAGIC: &[u8; 4] = b"SKSE";
/// The envelope format this code writes and reads.
pub const FORMAT: u8 = 1;
/// The largest envelope a server stores or a client opens (a key and a few certificates
/// are a few kilobytes).
pub const MAX_LEN: usize = 128 * 1024;
/// Bytes of the header that is the AAD.
const HEADER_LEN: usize = 4 + 1 + 8 + 16;
const COMMIT_LEN: usize = 32;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
const WRAPPED_LEN: usize = 32 + TAG_LEN;
/// Everything but the payload ciphertext.
const FIXED_LEN: usize = HEADER_LEN + COMMIT_LEN + NONCE_LEN + WRAPPED_LEN + COMMIT_LEN + NONCE_LEN;

/// The public header of an envelope: what the server may read and check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// The envelope version: 1 at registration, +1 at every update.
    pub version: u64,
    /// The account the envelope belongs to.
    pub account_id: [u8; 16],
}

impl Header {
    /// Reads the header of `envelope`, checking magic, format and length bounds (not the
    /// seals, which need the password).
    pub fn parse(envelope: &[u8]) -> Result<Self, Error> {
        if envelope.len() > MAX_LEN {
            return Err(Error::EnvelopeTooLarge { max: MAX_LEN });
        }
        if envelope.len() < FIXED_LEN + TAG_LEN || &envelope[..4] != MAGIC {
            return Err(Error::BadEnvelope("it is not a key-server envelope"));
        }
        if envelope[4] != FORMAT {
            return Err(Error::UnsupportedEnvelopeFormat(envelope[4]));
        }
        let mut version = [0u8; 8];
        version.copy_from_slice(&envelope[5..13]);
        let mut account_id = [0u8; 16];
        account_id.copy_from_slice(&envelope[13..HEADER_LEN]);
        Ok(Self { version: u64::from_be_bytes(version), account_id })
    }

    fn encode(&self) -> [u8; HEADER_LEN] {
        let mut out = [0u8; HEADER_LEN];
        out[..4].copy_from_slice(MAGIC);
        out[4] = FORMAT;
        out[5..13].copy_from_slice(&self.version.to_be_bytes());
        out[13..].copy_from_slice(&self.account_id);
        out
    }
}

/// An AES-256 key and the commitment to it, both from HKDF over `ikm`.
struct CommittedKey {
    key: Zeroizing<[u8; 32]>,
    commitment: [u8; COMMIT_LEN],
}

impl CommittedKey {
    fn derive(ikm: &[u8], purpose: &str, header: &[u8; HEADER_LEN]) -> Self {
        let hkdf = Hkdf::<Sha256>::new(Some(header), ikm);
        let mut okm = Zeroizing::new([0u8; 64]);
        // 64 bytes is far below HKDF-SHA256's 8160-byte limit.
        let info = format!("smime-keyserver envelope v1 {purpose}");
        if hkdf.expand(info.as_bytes(), okm.as_mut()).is_err() {
            unreachable!("HKDF-SHA256 output of 64 bytes is always valid");
        }
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&okm[..32]);
        let mut commitment = [0u8; COMMIT_LEN];
        commitment.copy_from_slice(&okm[32..]);
        Self { key, commitment }
    }

    fn seal(&self, nonce: &[u8; NONCE_LEN], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let cipher = Aes256Gcm::new(&(*self.key).into());
        match cipher.encrypt(&Nonce::from(*nonce), Payload { msg: plaintext, aad }) {
            Ok(sealed) => sealed,
            Err(_) => unreachable!("AES-GCM encryption of a bounded buffer cannot fail"),
        }
    }

    fn open(&self, stored_commitment: &[u8], nonce: &[u8], aad: &[u8], sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        if !ct_eq(&self.commitment, stored_commitment) {
            return None;
        }
        let cipher = Aes256Gcm::new(&(*self.key).into());
        let nonce = Nonce::try_from(nonce).ok()?;
        cipher.decrypt(&nonce, Payload { msg: sealed, aad }).ok().map(Zeroizing::new)
    }
}

/// Constant-time comparison of two byte strings of public length.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Seals `payload` (the key material, as the caller encodes it) as envelope `header`,
/// openable by whoever has `export_key` (OPAQUE's export key for this account).
pub fn seal(header: Header, export_key: &[u8], payload: &[u8]) -> Result<Vec<u8>, Error> {
    let data_key = Zeroizing::new(rand::random::<[u8; 32]>());
    seal_with_data_key(header, export_key, &data_key, payload)
}

fn seal_with_data_key(
    header: Header,
    export_key: &[u8],
    data_key: &[u8; 32],
    payload: &[u8],
) -> Result<Vec<u8>, Error> {
    if FIXED_LEN + payload.len() + TAG_LEN > MAX_LEN {
        return Err(Error::EnvelopeTooLarge { max: MAX_LEN });
    }
    let head = header.encode();
    let wrap = CommittedKey::derive(export_key, "data-key wrap", &head);
    let content = CommittedKey::derive(data_key, "payload", &head);
    let wrap_nonce: [u8; NONCE_LEN] = rand::random();
    let payload_nonce: [u8; NONCE_LEN] = rand::random();
    let mut out = Vec::with_capacity(FIXED_LEN + payload.len() + TAG_LEN);
    out.extend_from_slice(&head);
    out.extend_from_slice(&wrap.commitment);
    out.extend_from_slice(&wrap_nonce);
    out.extend_from_slice(&wrap.seal(&wrap_nonce, &head, data_key));
    out.extend_from_slice(&content.commitment);
    out.extend_from_slice(&payload_nonce);
    out.extend_from_slice(&content.seal(&payload_nonce, &head, payload));
    Ok(out)
}

/// Opens `envelope` with `export_key`, checking that it belongs to `account_id` and is not
/// older than `min_version` (the client's high-water mark). Returns the header and payload.
pub fn open(
    envelope: &[u8],
    export_key: &[u8],
    account_id: &[u8; 16],
    min_version: u64,
) -> Result<(Header, Zeroizing<Vec<u8>>), Error> {
    let header = Header::parse(envelope)?;
    if &header.account_id != account_id {
        return Err(Error::EnvelopeRefused("it belongs to another account"));
    }
    if header.version < min_version {
        return Err(Error::EnvelopeRolledBack { got: header.version, seen: min_version });
    }
    let head = header.encode();
    let mut at = HEADER_LEN;
    let mut take = |n: usize| {
        let part = &envelope[at..at + n];
        at += n;
        part
    };
    let wrap_commitment = take(COMMIT_LEN);
    let wrap_nonce = take(NONCE_LEN);
    let wrapped = take(WRAPPED_LEN);
    let payload_commitment = take(COMMIT_LEN);
    let payload_nonce = take(NONCE_LEN);
    let sealed = &envelope[at..];
    let wrap = CommittedKey::derive(export_key, "data-key wrap", &head);
    let data_key = wrap
        .open(wrap_commitment, wrap_nonce, &head, wrapped)
        .ok_or(Error::EnvelopeRefused("it was not sealed for this account's password"))?;
    let content = CommittedKey::derive(&data_key, "payload", &head);
    let payload = content
        .open(payload_commitment, payload_nonce, &head, sealed)
        .ok_or(Error::EnvelopeRefused("its contents were altered"))?;
    Ok((header, payload))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]
    use super::*;

    const ALICE: [u8; 16] = [1; 16];
    const BOB: [u8; 16] = [2; 16];

    #[test]
    fn round_trip_and_refusals() {
        let export = [7u8; 64];
        let env = seal(Header { version: 3, account_id: ALICE }, &export, b"key material").unwrap();
        let (header, payload) = open(&env, &export, &ALICE, 3).unwrap();
        assert_eq!(header.version, 3);
        assert_eq!(payload.as_slice(), b"key material");
        // Wrong password's export key, another account, a rolled-back version.
        assert!(matches!(open(&env, &[8u8; 64], &ALICE, 0), Err(Error::EnvelopeRefused(_))));
        assert!(matches!(open(&env, &export, &BOB, 0), Err(Error::EnvelopeRefused(_))));
        assert!(matches!(open(&env, &export, &ALICE, 4), Err(Error::EnvelopeRolledBack { got: 3, seen: 4 })));
    }

    #[test]
    fn relabelled_header_is_refused() {
        let export = [7u8; 64];
        let mut env = seal(Header { version: 1, account_id: ALICE }, &export, b"k").unwrap();
        env[12] = 9; // version 1 -> 9
        assert!(matches!(open(&env, &export, &ALICE, 0), Err(Error::EnvelopeRefused(_))));
        let mut env = seal(Header { version: 1, account_id: BOB }, &export, b"k").unwrap();
        env[13..29].copy_from_slice(&ALICE); // Bob's envelope claimed for Alice
        assert!(matches!(open(&env, &export, &ALICE, 0), Err(Error::EnvelopeRefused(_))));
    }

    #[test]
    fn bad_input_is_a_clear_error() {
        assert!(matches!(Header::parse(b""), Err(Error::BadEnvelope(_))));
        assert!(matches!(Header::parse(&[0u8; 300]), Err(Error::BadEnvelope(_))));
        let mut env = seal(Header { version: 1, account_id: ALICE }, &[1; 64], b"k").unwrap();
        env[4] = 2;
        assert!(matches!(Header::parse(&env), Err(Error::UnsupportedEnvelopeFormat(2))));
        assert!(matches!(Header::parse(&vec![0u8; MAX_LEN + 1]), Err(Error::EnvelopeTooLarge { .. })));
        let truncated = &seal(Header { version: 1, account_id: ALICE }, &[1; 64], b"k").unwrap()[..FIXED_LEN];
        assert!(Header::parse(truncated).is_err());
    }
}
