//! Random certificate serial numbers (RFC 5280 §4.1.2.2: positive, at most 20 octets,
//! unpredictable as the CA/Browser Forum asks).

use rcgen::SerialNumber;

use crate::Error;

/// 16 random octets with the top bit cleared so the INTEGER stays positive.
pub(crate) fn random_serial() -> Result<SerialNumber, Error> {
    let mut bytes = [0u8; 16];
    rustls::crypto::aws_lc_rs::default_provider().secure_random.fill(&mut bytes).map_err(|_| Error::Random)?;
    bytes[0] &= 0x7f;
    // A leading zero octet would be stripped by DER; force a non-zero first octet so
    // every serial has the same length.
    bytes[0] |= 0x01;
    Ok(SerialNumber::from_slice(&bytes))
}
