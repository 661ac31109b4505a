//! Key and certificate loading from the formats OpenSSL writes.

use smime_crypto::{Error, Identity, PrivateKey, load_certificates};
use smime_proxy_tests::{pki_bytes, pki_file};

fn cert(name: &str) -> smime_crypto::Certificate {
    load_certificates(&pki_bytes(name)).expect("certificate").remove(0)
}

fn pem(name: &str) -> String {
    std::fs::read_to_string(pki_file(name)).expect("read key")
}

#[test]
fn pkcs8_rsa_and_ec_keys_match_their_certificates() {
    for (key, crt) in [("alice.key", "alice.pem"), ("carol.key", "carol.pem"), ("dave.key", "dave.pem")] {
        let k = PrivateKey::from_pem(&pem(key), None).expect(key);
        assert!(k.matches(&cert(crt)), "{key} matches {crt}");
        assert!(!k.matches(&cert("bob.pem")), "{key} must not match bob");
    }
}

#[test]
fn pkcs1_and_sec1_keys_load() {
    assert!(PrivateKey::from_pem(&pem("alice-pkcs1.key"), None).expect("pkcs1").matches(&cert("alice.pem")));
    assert!(PrivateKey::from_pem(&pem("carol-sec1.key"), None).expect("sec1").matches(&cert("carol.pem")));
}

#[test]
fn encrypted_pkcs8_needs_the_right_passphrase() {
    let text = pem("alice-enc.key");
    assert!(matches!(PrivateKey::from_pem(&text, None), Err(Error::Key { .. })));
    assert!(matches!(PrivateKey::from_pem(&text, Some(b"wrong")), Err(Error::WrongPassphrase)));
    let key = PrivateKey::from_pem(&text, Some(b"test")).expect("decrypt");
    assert!(key.matches(&cert("alice.pem")));
}

#[test]
fn identity_refuses_a_foreign_certificate() {
    let key = PrivateKey::from_pem(&pem("alice.key"), None).expect("key");
    assert!(matches!(Identity::new(key, cert("bob.pem"), vec![]), Err(Error::KeyMismatch)));
}

#[test]
fn certificates_load_from_pem_and_der_and_garbage_is_an_error() {
    let der = smime_proxy_tests::openssl_ok(&["x509", "-outform", "DER"], &pki_bytes("alice.pem"));
    assert_eq!(load_certificates(&der).expect("der")[0], cert("alice.pem"));
    assert!(load_certificates(b"not a certificate").is_err());
    assert!(load_certificates(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n").is_err());
    assert!(PrivateKey::from_pem("garbage", None).is_err());
}

#[test]
fn keys_round_trip_through_unencrypted_pkcs8_der() {
    for (key, crt) in [("alice.key", "alice.pem"), ("carol.key", "carol.pem"), ("dave.key", "dave.pem")] {
        let original = PrivateKey::from_pem(&pem(key), None).expect(key);
        let der = original.to_pkcs8_der().expect("encode");
        let (_, expected) = pem_rfc7468::decode_vec(pem(key).trim().as_bytes()).expect("PEM");
        let again = PrivateKey::from_pkcs8_der(&der).expect("decode");
        assert!(again.matches(&cert(crt)), "{key}");
        if key == "alice.key" {
            assert_eq!(der.as_slice(), expected.as_slice(), "RSA PKCS#8 is re-encoded byte for byte");
        }
    }
}
