//! CMS SignedData interop with the `openssl cms` CLI, both directions, at the CMS level
//! (raw bytes; whole-message MIME handling is tested elsewhere), plus the negative cases:
//! tampering, untrusted / wrong-EKU / revoked / key-usage signers, SHA-1, two signers,
//! validation time, and malformed input that must give an error, never a panic.
#![allow(clippy::unwrap_used)]

use smime_crypto::{
    Certificate, DigestAlgorithm, Identity, PrivateKey, RsaSignaturePadding, SignOptions, SignatureStatus,
    TrustOptions, Verified, VerifyOptions, load_certificates, sign_data, verify_signed_data,
};
use smime_proxy_tests::{openssl, openssl_ok, pki_bytes, pki_file};
use std::path::Path;
use std::time::{Duration, SystemTime};

/// Binary test content: every byte value, CR and LF included.
fn content() -> Vec<u8> {
    let mut data = b"Hello from the sign/verify tests.\r\nSecond line\n".to_vec();
    data.extend((0u8..=255).cycle().take(700));
    data
}

fn cert(name: &str) -> Certificate {
    load_certificates(&pki_bytes(&format!("{name}.pem"))).unwrap().remove(0)
}

fn identity(name: &str) -> Identity {
    let key = PrivateKey::from_pem(&String::from_utf8(pki_bytes(&format!("{name}.key"))).unwrap(), None).unwrap();
    Identity::new(key, cert(name), vec![cert("ca")]).unwrap()
}

fn trust() -> TrustOptions {
    TrustOptions { anchors: vec![cert("ca")], ..TrustOptions::default() }
}

fn verify_options() -> VerifyOptions {
    VerifyOptions { trust: trust(), ..VerifyOptions::default() }
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// A signing time with whole seconds (UTCTime has no fractions), a minute ago.
fn signing_time() -> SystemTime {
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    SystemTime::UNIX_EPOCH + Duration::from_secs(now - 60)
}

const CASES: &[(&str, DigestAlgorithm, RsaSignaturePadding)] = &[
    ("alice", DigestAlgorithm::Sha256, RsaSignaturePadding::Pkcs1v15),
    ("alice", DigestAlgorithm::Sha384, RsaSignaturePadding::Pkcs1v15),
    ("alice", DigestAlgorithm::Sha512, RsaSignaturePadding::Pkcs1v15),
    ("alice", DigestAlgorithm::Sha256, RsaSignaturePadding::Pss),
    ("alice", DigestAlgorithm::Sha512, RsaSignaturePadding::Pss),
    ("carol", DigestAlgorithm::Sha256, RsaSignaturePadding::Pkcs1v15),
    ("carol", DigestAlgorithm::Sha384, RsaSignaturePadding::Pkcs1v15),
    ("dave", DigestAlgorithm::Sha384, RsaSignaturePadding::Pkcs1v15),
    ("dave", DigestAlgorithm::Sha256, RsaSignaturePadding::Pkcs1v15),
];

#[test]
fn ours_verify_in_openssl_detached_and_opaque() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.bin");
    std::fs::write(&data, content()).unwrap();
    for &(name, digest, rsa_padding) in CASES {
        let signer = identity(name);
        for detached in [true, false] {
            let options = SignOptions { digest, rsa_padding, signing_time: signing_time(), include_chain: false };
            let der = sign_data(&content(), &signer, &options, detached).unwrap();
            let sig = dir.path().join("sig.der");
            std::fs::write(&sig, &der).unwrap();
            let out = dir.path().join("out.bin");
            let ca = pki_file("ca.pem");
            let mut args = vec!["cms", "-verify", "-inform", "DER", "-in", p(&sig), "-CAfile", p(&ca)];
            args.extend(["-purpose", "smimesign", "-binary", "-out", p(&out)]);
            if detached {
                args.extend(["-content", p(&data)]);
            }
            let result = openssl(&args, b"");
            assert!(result.success, "{name} {digest:?} {rsa_padding:?} detached={detached}: {}", result.stderr);
            assert_eq!(std::fs::read(&out).unwrap(), content(), "{name} {digest:?} detached={detached}");
        }
    }
}
