//! Random identifiers (tokens, ids of held attachments, Message-IDs) from the system's
//! cryptographic random number generator.

/// `bytes` random bytes as lower-case hex.
pub(crate) fn random_hex(bytes: usize) -> Result<String, crate::Error> {
    let mut buf = vec![0u8; bytes];
    rustls::crypto::aws_lc_rs::default_provider().secure_random.fill(&mut buf).map_err(|_| crate::Error::Random)?;
    Ok(buf.iter().map(|b| format!("{b:02x}")).collect())
}
