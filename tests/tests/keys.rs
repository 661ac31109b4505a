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

/// PEM with 76-column base64 lines (as some tools write it; OpenSSL and NSS read it), or
/// with no line breaks at all, reads like the 64-column form; a CERTIFICATE block that
/// cannot be read is an error, never skipped (issue 14, item 6).
#[test]
fn lax_pem_layouts_read_and_unreadable_certificate_blocks_are_errors() {
    let text = String::from_utf8(pki_bytes("alice.pem")).expect("PEM is text");
    let begin = "-----BEGIN CERTIFICATE-----";
    let end = "-----END CERTIFICATE-----";
    let start = text.find(begin).expect("BEGIN line") + begin.len();
    let stop = text.find(end).expect("END line");
    let b64: String = text[start..stop].chars().filter(|c| !c.is_whitespace()).collect();
    let wrap = |width: usize| {
        let lines: Vec<String> =
            b64.as_bytes().chunks(width).map(|c| String::from_utf8(c.to_vec()).expect("base64 is ASCII")).collect();
        format!("{begin}\n{}\n{end}\n", lines.join("\n"))
    };
    let want = cert("alice.pem");
    for width in [76, 80, 1000] {
        let got = load_certificates(wrap(width).as_bytes()).unwrap_or_else(|e| panic!("{width} columns: {e}"));
        assert_eq!(got[0], want, "{width} columns");
    }
    let broken = format!("{}{begin}\nnot base64 at all!\n{end}\n", wrap(64));
    let err = load_certificates(broken.as_bytes()).expect_err("a broken block").to_string();
    assert!(err.contains("cannot be read"), "{err}");
    let none = load_certificates(b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
        .expect_err("no certificate")
        .to_string();
    assert!(none.contains("no CERTIFICATE block"), "{none}");
}
