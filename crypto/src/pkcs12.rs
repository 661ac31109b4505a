//! PKCS#12 (RFC 7292) reading: the user's `.p12` as exported by OpenSSL 3 (PBES2 with
//! PBKDF2 + AES-CBC, HMAC-SHA-256 MAC), OpenSSL `-legacy` (RC2-40 / 3DES with the
//! PKCS#12 KDF, HMAC-SHA-1 MAC), NSS and Windows.

use crate::{Error, Identity, Result};

/// Opens a PKCS#12 file with `passphrase`: verifies the MAC, decrypts the bags and
/// returns the key with the certificate that matches it and the other certificates.
pub fn read_identity(der: &[u8], passphrase: &[u8]) -> Result<Identity> {
    let _ = (der, passphrase);
    Err(Error::Key { what: "PKCS#12 file", reason: "not implemented yet".into() })
}
