//! Random identifiers (tokens, ids of held attachments, Message-IDs, OCSP nonces) from the system's
//! cryptographic random number generator.

/// `bytes` random bytes as lower-case hex.
pub(crate) fn random_hex(bytes: usize) -> Result<String, crate::Error> {
    Ok(random_bytes(bytes)?.iter().map(|b| format!("{b:02x}")).collect())
}

/// `count` random bytes (e.g. an OCSP nonce).
pub(crate) fn random_bytes(count: usize) -> Result<Vec<u8>, crate::Error> {
    let mut buf = vec![0u8; count];
    rustls::crypto::aws_lc_rs::default_provider().secure_random.fill(&mut buf).map_err(|_| crate::Error::Random)?;
    Ok(buf)
}
