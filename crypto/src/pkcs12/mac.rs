//! The password integrity check of a `.p12` (RFC 7292 §5.1, Appendix B): HMAC over the
//! `authSafe` content octets, keyed by the PKCS#12 KDF with ID 3, the MAC's own digest
//! and the MacData salt and iterations. OpenSSL 3 keeps this legacy KDF for the MAC even
//! when the bags use PBES2.
//!
//! PBMAC1 (RFC 9579, OpenSSL 3.4 `-pbmac1_pbkdf2`) is reported as unsupported.

use super::asn1::MacData;
use super::budget::Budget;
use super::kdf::{self, Purpose};
use super::oids;
use crate::{Error, Result};
use hmac::{EagerHash, Hmac, KeyInit, Mac};

/// True when the MAC in `mac_data` over `content` verifies with the BMP-encoded password.
/// Compares in constant time.
pub(super) fn verifies(
    mac_data: &MacData<'_>,
    content: &[u8],
    bmp_password: &[u8],
    budget: &mut Budget,
) -> Result<bool> {
    let oid = mac_data.mac.digest_algorithm.oid;
    let check = match oid {
        oids::ID_SHA1 => check::<sha1::Sha1>,
        oids::ID_SHA224 => check::<sha2::Sha224>,
        oids::ID_SHA256 => check::<sha2::Sha256>,
        oids::ID_SHA384 => check::<sha2::Sha384>,
        oids::ID_SHA512 => check::<sha2::Sha512>,
        oids::ID_PBMAC1 => return Err(Error::Unsupported { what: "PKCS#12 MAC (PBMAC1)", oid: oid.to_string() }),
        other => return Err(Error::Unsupported { what: "PKCS#12 MAC digest", oid: other.to_string() }),
    };
    budget.spend(mac_data.iterations)?;
    check(mac_data, content, bmp_password)
}

fn check<D: EagerHash>(mac_data: &MacData<'_>, content: &[u8], bmp_password: &[u8]) -> Result<bool> {
    let key = kdf::derive::<D>(
        Purpose::Mac,
        bmp_password,
        mac_data.mac_salt.as_bytes(),
        mac_data.iterations,
        <D as digest::Digest>::output_size(),
    );
    let mut mac = <Hmac<D> as KeyInit>::new_from_slice(&key).map_err(|e| Error::Crypto(format!("HMAC key: {e}")))?;
    mac.update(content);
    Ok(mac.verify_slice(mac_data.mac.digest.as_bytes()).is_ok())
}
