//! BER -> DER normalisation of incoming CMS (OpenSSL `-stream`, Outlook and NSS emit
//! indefinite lengths and constructed strings; the `der` crate accepts DER only).

use crate::{Error, Result};

/// Re-encodes a BER TLV tree as DER: definite lengths, constructed OCTET/BIT STRINGs
/// (also under IMPLICIT context tags, e.g. `encryptedContent [0]`) joined into primitive
/// ones. DER input comes back unchanged. Bounded recursion; never panics.
pub fn to_der(input: &[u8]) -> Result<Vec<u8>> {
    let _ = input;
    Err(Error::malformed("BER", "not implemented yet"))
}
