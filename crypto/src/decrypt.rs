//! CMS EnvelopedData / AuthEnvelopedData decryption.

use crate::{Error, Identity, Result};
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
    let _ = (cms, identity);
    Err(Error::DecryptionFailed)
}
