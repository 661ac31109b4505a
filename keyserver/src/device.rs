//! Device keys: a device token alone opens nothing. Every device-authenticated request
//! carries the token, the time and an ECDSA P-256 signature by the key the device announced
//! when its login completed, over the method, path, time and body. A token copied out of a
//! log or a proxy is useless without the key, which never leaves the device's memory.

use p256::ecdsa::signature::{Signer, Verifier};
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

/// Header carrying the device token.
pub const TOKEN_HEADER: &str = "x-smime-device-token";
/// Header carrying the request time (Unix seconds).
pub const TIME_HEADER: &str = "x-smime-device-time";
/// Header carrying the signature (base64 of the 64-byte r||s).
pub const SIGNATURE_HEADER: &str = "x-smime-device-signature";
/// How far a request's time may be from the server's clock.
pub const MAX_SKEW_SECS: i64 = 120;

/// A device's signing key; wiped when dropped.
pub struct DeviceKey(SigningKey);

impl std::fmt::Debug for DeviceKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DeviceKey(..)")
    }
}

impl DeviceKey {
    /// A fresh random key.
    pub fn generate() -> Self {
        loop {
            let candidate = zeroize::Zeroizing::new(rand::random::<[u8; 32]>());
            if let Ok(key) = SigningKey::from_slice(candidate.as_ref()) {
                return Self(key);
            }
        }
    }

    /// The public key, SEC1 uncompressed, as announced in [`crate::wire::DeviceHello`].
    pub fn public_key(&self) -> Vec<u8> {
        self.0.verifying_key().to_sec1_bytes().into_vec()
    }

    /// The signature of a request.
    pub fn sign(&self, method: &str, path: &str, time: i64, body: &[u8]) -> Vec<u8> {
        let signature: Signature = self.0.sign(&signed_bytes(method, path, time, body));
        signature.to_bytes().to_vec()
    }
}

/// Whether `signature` is `public_key`'s signature of the request.
pub fn verify(public_key: &[u8], method: &str, path: &str, time: i64, body: &[u8], signature: &[u8]) -> bool {
    let (Ok(key), Ok(signature)) = (VerifyingKey::from_sec1_bytes(public_key), Signature::from_slice(signature)) else {
        return false;
    };
    key.verify(&signed_bytes(method, path, time, body), &signature).is_ok()
}

/// Whether `public_key` is a valid P-256 point.
pub fn is_valid_public_key(public_key: &[u8]) -> bool {
    VerifyingKey::from_sec1_bytes(public_key).is_ok()
}

fn signed_bytes(method: &str, path: &str, time: i64, body: &[u8]) -> Vec<u8> {
    let body_hash = Sha256::digest(body);
    let mut out = Vec::with_capacity(96 + path.len());
    out.extend_from_slice(b"smime-keyserver device request v1\n");
    out.extend_from_slice(method.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(path.as_bytes());
    out.push(b'\n');
    out.extend_from_slice(time.to_string().as_bytes());
    out.push(b'\n');
    out.extend_from_slice(&body_hash);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_covers_method_path_time_and_body() {
        let key = DeviceKey::generate();
        let public = key.public_key();
        let sig = key.sign("GET", "/v1/devices", 10, b"");
        assert!(verify(&public, "GET", "/v1/devices", 10, b"", &sig));
        assert!(!verify(&public, "POST", "/v1/devices", 10, b"", &sig));
        assert!(!verify(&public, "GET", "/v1/audit", 10, b"", &sig));
        assert!(!verify(&public, "GET", "/v1/devices", 11, b"", &sig));
        assert!(!verify(&public, "GET", "/v1/devices", 10, b"x", &sig));
        assert!(!verify(&DeviceKey::generate().public_key(), "GET", "/v1/devices", 10, b"", &sig));
        assert!(!verify(b"garbage", "GET", "/v1/devices", 10, b"", &sig));
        assert!(!verify(&public, "GET", "/v1/devices", 10, b"", b"short"));
    }
}
