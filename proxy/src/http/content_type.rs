//! What a response's `Content-Type` says its body is.

/// Whether `content_type` (a `Content-Type` value) labels S/MIME: `application/pkcs7-mime`
/// (or the old `x-` type), or `multipart/signed` with an S/MIME signature.
pub(crate) fn is_smime(content_type: &str) -> bool {
    let lower = content_type.to_ascii_lowercase();
    match lower.split(';').next().unwrap_or_default().trim() {
        "application/pkcs7-mime" | "application/x-pkcs7-mime" => true,
        "multipart/signed" => lower.contains("pkcs7-signature"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smime_types() {
        assert!(is_smime("application/pkcs7-mime; smime-type=enveloped-data"));
        assert!(is_smime("Application/X-PKCS7-MIME"));
        assert!(is_smime("multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256"));
        assert!(!is_smime("multipart/signed; protocol=\"application/pgp-signature\""));
        assert!(!is_smime("text/html"));
        assert!(!is_smime(""));
    }
}
