//! BER -> DER normalisation against real OpenSSL `-stream` output: the result must be
//! exactly the DER OpenSSL itself writes for the same structure, and stay usable
//! (OpenSSL verifies / decrypts it, our decryption reads it).

use smime_crypto::ber::{MAX_DEPTH, to_der};
use smime_crypto::{Identity, PrivateKey, decrypt_data, load_certificates};
use smime_proxy_tests::{openssl_ok, pki_bytes, pki_file, sample_message};
use std::time::{Duration, Instant};

fn path(name: &str) -> String {
    pki_file(name).to_str().expect("path").to_string()
}

fn identity(name: &str) -> Identity {
    let pem = std::fs::read_to_string(pki_file(&format!("{name}.key"))).expect("key");
    let cert = load_certificates(&pki_bytes(&format!("{name}.pem"))).expect("cert").remove(0);
    Identity::new(PrivateKey::from_pem(&pem, None).expect("key"), cert, Vec::new()).expect("identity")
}

/// OpenSSL's own DER re-encoding of a CMS structure.
fn openssl_der(cms: &[u8]) -> Vec<u8> {
    openssl_ok(&["cms", "-cmsout", "-inform", "DER", "-outform", "DER"], cms)
}

fn is_indefinite(cms: &[u8]) -> bool {
    cms.get(1) == Some(&0x80)
}

fn streamed_enveloped(content: &[u8], args: &[&str], recipient: &str) -> Vec<u8> {
    let mut all = vec!["cms", "-encrypt", "-stream", "-binary", "-outform", "DER"];
    all.extend(args);
    let recipient = path(&format!("{recipient}.pem"));
    all.push(&recipient);
    openssl_ok(&all, content)
}

fn streamed_signed(content: &[u8], signer: &str) -> Vec<u8> {
    let (cert, key) = (path(&format!("{signer}.pem")), path(&format!("{signer}.key")));
    openssl_ok(
        &["cms", "-sign", "-stream", "-nodetach", "-binary", "-outform", "DER", "-signer", &cert, "-inkey", &key],
        content,
    )
}

#[test]
fn openssl_streamed_enveloped_data_becomes_openssls_der() {
    let small = sample_message("a@example.test", "b@example.test", "streamed");
    let large: Vec<u8> = (0..20_000u32).flat_map(|i| i.to_le_bytes()).collect();
    for content in [&small, &large] {
        for (args, who) in [
            (&["-aes256"][..], "alice"),
            (&["-aes-128-gcm"], "alice"),
            (&["-aes128", "-keyid"], "carol"),
            (&["-aes-256-gcm"], "dave"),
        ] {
            let ber = streamed_enveloped(content, args, who);
            assert!(is_indefinite(&ber), "OpenSSL -stream writes BER");
            let der = to_der(&ber).expect("normalise");
            assert_eq!(der, openssl_der(&ber), "{args:?} {who}");
            assert_eq!(to_der(&der).expect("DER again"), der, "idempotent");
            let out = decrypt_data(&der, &identity(who)).expect("decrypt normalised");
            assert_eq!(out.content.as_slice(), content.as_slice());
        }
    }
}

#[test]
fn openssl_streamed_signed_data_keeps_explicit_econtent_and_verifies() {
    let content = sample_message("a@example.test", "b@example.test", "signed and streamed");
    for signer in ["alice", "carol"] {
        let ber = streamed_signed(&content, signer);
        assert!(is_indefinite(&ber));
        let der = to_der(&ber).expect("normalise");
        assert_eq!(der, openssl_der(&ber), "{signer}");
        assert_eq!(to_der(&der).expect("DER again"), der);
        let ca = path("ca.pem");
        let verified =
            openssl_ok(&["cms", "-verify", "-inform", "DER", "-binary", "-CAfile", &ca, "-purpose", "any"], &der);
        assert_eq!(verified, content, "{signer}");
    }
}

#[test]
fn der_input_comes_back_unchanged() {
    let content = sample_message("a@example.test", "b@example.test", "already DER");
    let (alice, alice_key) = (path("alice.pem"), path("alice.key"));
    let inputs = [
        openssl_ok(&["cms", "-encrypt", "-binary", "-outform", "DER", "-aes256", &alice], &content),
        openssl_ok(&["cms", "-encrypt", "-binary", "-outform", "DER", "-aes-256-gcm", &alice], &content),
        openssl_ok(
            &["cms", "-sign", "-nodetach", "-binary", "-outform", "DER", "-signer", &alice, "-inkey", &alice_key],
            &content,
        ),
        openssl_ok(&["cms", "-sign", "-binary", "-outform", "DER", "-signer", &alice, "-inkey", &alice_key], &content),
        openssl_ok(&["x509", "-outform", "DER", "-in", &alice], b""),
    ];
    for input in inputs {
        assert_eq!(to_der(&input).expect("DER"), input);
    }
}

#[test]
fn every_truncation_of_a_streamed_message_is_an_error() {
    let ber = streamed_enveloped(b"truncate me", &["-aes128"], "carol");
    for len in 0..ber.len() {
        assert!(to_der(&ber[..len]).is_err(), "prefix of {len} bytes accepted");
    }
    // Trailing data after the outer value is refused too.
    let mut longer = ber.clone();
    longer.push(0);
    assert!(to_der(&longer).is_err());
}

#[test]
fn corrupted_input_never_panics() {
    let ber = streamed_signed(b"flip me", "alice");
    for at in 0..ber.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = ber.clone();
            bad[at] ^= bit;
            let _ = to_der(&bad);
        }
    }
}

#[test]
fn malformed_lengths_are_errors() {
    let cases: &[&[u8]] = &[
        &[0x30, 0x84, 0xFF, 0xFF, 0xFF, 0xFF, 0x00], // length far past the end
        &[0x30, 0x88, 0, 0, 0, 0, 0, 0, 0, 1, 0],    // 8-octet length
        &[0x30, 0x03, 0x02, 0x05, 0x01],             // child overruns parent
        &[0x04, 0x80, 0x01, 0x02, 0x00, 0x00],       // indefinite primitive
        &[0x24, 0x80, 0x02, 0x01, 0x00, 0x00, 0x00], // constructed OCTET STRING holding an INTEGER
        &[0x30, 0x80, 0x30, 0x80, 0x00, 0x00],       // missing end-of-contents
        &[0x1F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 0x00], // absurd tag number
    ];
    for case in cases {
        assert!(to_der(case).is_err(), "{case:02x?}");
    }
}

fn nested(levels: usize) -> Vec<u8> {
    let mut v = Vec::new();
    for _ in 0..levels {
        v.extend([0x30, 0x80]);
    }
    v.extend([0x05, 0x00]);
    v.extend(std::iter::repeat_n(0u8, 2 * levels));
    v
}

#[test]
fn nesting_beyond_the_limit_is_an_error() {
    assert!(to_der(&nested(MAX_DEPTH)).is_ok());
    assert!(to_der(&nested(MAX_DEPTH + 2)).is_err());
    assert!(to_der(&nested(100_000)).is_err(), "deep input must not overflow the stack");
}

#[test]
fn large_inputs_are_linear() {
    // 25 MB of content streamed by OpenSSL (4 KiB chunks). The bounds are loose (debug
    // build, busy CI); a quadratic normaliser would take hours here.
    let content = vec![0xA5u8; 25 * 1024 * 1024];
    let ber = streamed_enveloped(&content, &["-aes256"], "alice");
    let start = Instant::now();
    let der = to_der(&ber).expect("normalise");
    assert!(start.elapsed() < Duration::from_secs(60), "25 MB took {:?}", start.elapsed());
    assert_eq!(decrypt_data(&der, &identity("alice")).expect("decrypt").content.len(), content.len());

    // Hostile shape: 25 MB of one-byte chunks in a constructed OCTET STRING.
    let chunks = 25 * 1024 * 1024 / 3;
    let mut ber = vec![0x24, 0x80];
    for i in 0..chunks {
        ber.extend([0x04, 0x01, i as u8]);
    }
    ber.extend([0, 0]);
    let start = Instant::now();
    let der = to_der(&ber).expect("normalise");
    assert!(start.elapsed() < Duration::from_secs(60), "tiny chunks took {:?}", start.elapsed());
    assert_eq!(der.len(), chunks + 5);
}
