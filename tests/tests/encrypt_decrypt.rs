//! CMS EnvelopedData / AuthEnvelopedData interop with the `openssl` CLI, both
//! directions, for RSA (PKCS#1 v1.5, OAEP) and EC (P-256, P-384) recipients, plus the
//! failure behaviour of decryption.

use smime_crypto::{
    ContentCipher, EncryptOptions, Error, Identity, KeyTransport, PrivateKey, RecipientIdKind, decrypt_data,
    encrypt_data, load_certificates,
};
use smime_proxy_tests::{openssl_ok, pki_bytes, pki_file, sample_message};

const CIPHERS: [ContentCipher; 4] =
    [ContentCipher::Aes128Cbc, ContentCipher::Aes256Cbc, ContentCipher::Aes128Gcm, ContentCipher::Aes256Gcm];
const IDS: [RecipientIdKind; 2] = [RecipientIdKind::IssuerAndSerial, RecipientIdKind::SubjectKeyId];

fn cert(name: &str) -> smime_crypto::Certificate {
    load_certificates(&pki_bytes(&format!("{name}.pem"))).expect("certificate").remove(0)
}

fn identity(name: &str) -> Identity {
    let pem = std::fs::read_to_string(pki_file(&format!("{name}.key"))).expect("key");
    Identity::new(PrivateKey::from_pem(&pem, None).expect("key"), cert(name), Vec::new()).expect("identity")
}

fn message() -> Vec<u8> {
    sample_message("alice@example.test", "bob@example.test", "Encrypted hello.\r\nSecond line, with some length to it.")
}

/// `openssl cms -decrypt` of DER `cms` as `name`.
fn openssl_decrypt(cms: &[u8], name: &str) -> Vec<u8> {
    let recip = pki_file(&format!("{name}.pem"));
    let key = pki_file(&format!("{name}.key"));
    openssl_ok(
        &[
            "cms",
            "-decrypt",
            "-inform",
            "DER",
            "-binary",
            "-recip",
            recip.to_str().expect("path"),
            "-inkey",
            key.to_str().expect("path"),
        ],
        cms,
    )
}

/// `openssl cms -encrypt -binary -outform DER ARGS... -recip each` of `content`.
fn openssl_encrypt(content: &[u8], args: &[&str], recipients: &[&str]) -> Vec<u8> {
    let mut all: Vec<String> =
        ["cms", "-encrypt", "-binary", "-outform", "DER"].iter().map(|s| s.to_string()).collect();
    all.extend(args.iter().map(|s| s.to_string()));
    for r in recipients {
        all.push(pki_file(&format!("{r}.pem")).to_str().expect("path").to_string());
    }
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    openssl_ok(&all, content)
}

fn options(cipher: ContentCipher, key_transport: KeyTransport, recipient_id: RecipientIdKind) -> EncryptOptions {
    EncryptOptions { cipher, key_transport, recipient_id }
}

/// What `openssl cms -cmsout -print` says about DER `cms`.
fn openssl_print(cms: &[u8]) -> String {
    String::from_utf8_lossy(&openssl_ok(&["cms", "-cmsout", "-print", "-inform", "DER"], cms)).into_owned()
}

#[test]
fn ours_to_openssl_rsa_pkcs1_and_oaep_every_cipher_and_id() {
    let content = message();
    for transport in [KeyTransport::RsaPkcs1, KeyTransport::RsaOaep] {
        for cipher in CIPHERS {
            for id in IDS {
                let der = encrypt_data(&content, &[cert("alice")], &options(cipher, transport, id)).expect("encrypt");
                let plain = openssl_decrypt(&der, "alice");
                assert_eq!(plain, content, "{transport:?} {cipher:?} {id:?}");
            }
        }
    }
}

#[test]
fn ours_to_openssl_ec_p256_and_p384_every_cipher_and_id() {
    let content = message();
    for name in ["carol", "dave"] {
        for cipher in CIPHERS {
            for id in IDS {
                let opts = options(cipher, KeyTransport::RsaPkcs1, id);
                let der = encrypt_data(&content, &[cert(name)], &opts).expect("encrypt");
                assert_eq!(openssl_decrypt(&der, name), content, "{name} {cipher:?} {id:?}");
            }
        }
    }
}

#[test]
fn ours_to_openssl_multi_recipient() {
    let content = message();
    let recipients = [cert("alice"), cert("carol"), cert("dave")];
    for cipher in CIPHERS {
        for transport in [KeyTransport::RsaPkcs1, KeyTransport::RsaOaep] {
            let der = encrypt_data(&content, &recipients, &options(cipher, transport, RecipientIdKind::SubjectKeyId))
                .expect("encrypt");
            for name in ["alice", "carol", "dave"] {
                assert_eq!(openssl_decrypt(&der, name), content, "{name} {cipher:?} {transport:?}");
                assert_eq!(decrypt_data(&der, &identity(name)).expect("ours").content.as_slice(), content);
            }
        }
    }
}

#[test]
fn ours_uses_the_advertised_algorithms_and_versions() {
    let content = message();
    let der = encrypt_data(
        &content,
        &[cert("alice")],
        &options(ContentCipher::Aes256Cbc, KeyTransport::RsaPkcs1, RecipientIdKind::IssuerAndSerial),
    )
    .expect("encrypt");
    let text = openssl_print(&der);
    assert!(text.contains("d.envelopedData: \n    version: 0"), "{text}");
    assert!(text.contains("rsaEncryption") && text.contains("aes-256-cbc"), "{text}");

    let der = encrypt_data(
        &content,
        &[cert("alice")],
        &options(ContentCipher::Aes128Cbc, KeyTransport::RsaOaep, RecipientIdKind::SubjectKeyId),
    )
    .expect("encrypt");
    let text = openssl_print(&der);
    assert!(text.contains("d.envelopedData: \n    version: 2"), "{text}");
    assert!(text.contains("rsaesOaep") && text.contains("sha256") && text.contains("mgf1"), "{text}");
    assert!(text.contains("d.subjectKeyIdentifier"), "{text}");

    let der = encrypt_data(
        &content,
        &[cert("carol"), cert("dave")],
        &options(ContentCipher::Aes256Gcm, KeyTransport::RsaPkcs1, RecipientIdKind::SubjectKeyId),
    )
    .expect("encrypt");
    let text = openssl_print(&der);
    assert!(text.contains("d.authEnvelopedData: \n    version: 0"), "{text}");
    assert!(text.contains("dhSinglePass-stdDH-sha256kdf-scheme"), "{text}");
    assert!(text.contains("dhSinglePass-stdDH-sha384kdf-scheme"), "{text}");
    assert!(text.contains("id-aes256-wrap") && text.contains("aes-256-gcm"), "{text}");
    assert!(text.contains("d.rKeyId"), "{text}");
}

#[test]
fn ours_round_trip_reports_cipher() {
    let content = message();
    let names = [
        (ContentCipher::Aes128Cbc, "AES-128-CBC", false),
        (ContentCipher::Aes256Cbc, "AES-256-CBC", false),
        (ContentCipher::Aes128Gcm, "AES-128-GCM", true),
        (ContentCipher::Aes256Gcm, "AES-256-GCM", true),
    ];
    for name in ["alice", "carol", "dave"] {
        for (cipher, label, authenticated) in names {
            let der = encrypt_data(&content, &[cert(name)], &options(cipher, KeyTransport::RsaOaep, IDS[0]))
                .expect("encrypt");
            let out = decrypt_data(&der, &identity(name)).expect("decrypt");
            assert_eq!(out.content.as_slice(), content);
            assert_eq!((out.cipher, out.authenticated, out.legacy), (label, authenticated, false));
        }
    }
}

#[test]
fn empty_and_block_sized_contents_round_trip() {
    for len in [0usize, 1, 15, 16, 17, 32, 1000] {
        let content = vec![0x5Au8; len];
        for cipher in CIPHERS {
            let der = encrypt_data(&content, &[cert("carol")], &options(cipher, KeyTransport::RsaPkcs1, IDS[0]))
                .expect("encrypt");
            assert_eq!(decrypt_data(&der, &identity("carol")).expect("decrypt").content.as_slice(), content);
            assert_eq!(openssl_decrypt(&der, "carol"), content, "{len} {cipher:?}");
        }
    }
}

#[test]
fn openssl_to_ours_rsa() {
    let content = message();
    let cases: &[&[&str]] = &[
        &["-aes128"],
        &["-aes192"],
        &["-aes256"],
        &["-aes-128-gcm"],
        &["-aes-256-gcm"],
        &["-aes256", "-keyid"],
        &["-aes-256-gcm", "-keyid"],
        &["-aes256", "-stream"],
        &["-aes-128-gcm", "-stream"],
    ];
    for args in cases {
        let der = openssl_encrypt(&content, args, &["alice"]);
        let out = decrypt_data(&der, &identity("alice")).unwrap_or_else(|e| panic!("{args:?}: {e}"));
        assert_eq!(out.content.as_slice(), content, "{args:?}");
        assert_eq!(out.authenticated, args.iter().any(|a| a.ends_with("gcm")), "{args:?}");
    }
}

#[test]
fn openssl_to_ours_rsa_oaep_variants() {
    let content = message();
    let alice = pki_file("alice.pem");
    let alice = alice.to_str().expect("path");
    let oaep = ["-keyopt", "rsa_padding_mode:oaep"];
    let cases: Vec<Vec<&str>> = vec![
        vec![],
        vec!["-keyopt", "rsa_oaep_md:sha256"],
        vec!["-keyopt", "rsa_oaep_md:sha384", "-keyopt", "rsa_mgf1_md:sha1"],
        vec!["-keyopt", "rsa_oaep_md:sha512", "-keyopt", "rsa_mgf1_md:sha512"],
        vec!["-keyopt", "rsa_oaep_md:sha224"],
        vec!["-keyopt", "rsa_oaep_md:sha256", "-keyopt", "rsa_oaep_label:0102030405"],
    ];
    for extra in cases {
        let mut args = vec!["-aes256", "-recip", alice];
        args.extend(oaep);
        args.extend(&extra);
        let der = openssl_encrypt(&content, &args, &[]);
        let text = openssl_print(&der);
        assert!(text.contains("rsaesOaep"), "{extra:?}: {text}");
        let out = decrypt_data(&der, &identity("alice")).unwrap_or_else(|e| panic!("{extra:?}: {e}"));
        assert_eq!(out.content.as_slice(), content, "{extra:?}");
    }
}

#[test]
fn openssl_to_ours_ec() {
    let content = message();
    for name in ["carol", "dave"] {
        let path = pki_file(&format!("{name}.pem"));
        let path = path.to_str().expect("path");
        let cases: Vec<Vec<&str>> = vec![
            vec!["-aes256"],
            vec!["-aes128"],
            vec!["-aes192"],
            vec!["-aes256", "-keyid"],
            vec!["-aes-128-gcm"],
            vec!["-aes-256-gcm", "-stream"],
            vec!["-aes128", "-recip", path, "-keyopt", "ecdh_kdf_md:sha256"],
            vec!["-aes256", "-recip", path, "-keyopt", "ecdh_kdf_md:sha224"],
            vec!["-aes256", "-recip", path, "-keyopt", "ecdh_kdf_md:sha384"],
            vec!["-aes-256-gcm", "-recip", path, "-keyopt", "ecdh_kdf_md:sha512"],
        ];
        for args in cases {
            let recipients: &[&str] = if args.contains(&"-recip") { &[] } else { &[name] };
            let der = openssl_encrypt(&content, &args, recipients);
            let out = decrypt_data(&der, &identity(name)).unwrap_or_else(|e| panic!("{name} {args:?}: {e}"));
            assert_eq!(out.content.as_slice(), content, "{name} {args:?}");
        }
    }
}

#[test]
fn openssl_to_ours_multi_recipient() {
    let content = message();
    for args in [&["-aes256"][..], &["-aes-256-gcm", "-keyid"], &["-aes128", "-stream"]] {
        let der = openssl_encrypt(&content, args, &["bob", "carol", "alice", "dave"]);
        for name in ["alice", "bob", "carol", "dave"] {
            let out = decrypt_data(&der, &identity(name)).unwrap_or_else(|e| panic!("{name} {args:?}: {e}"));
            assert_eq!(out.content.as_slice(), content, "{name} {args:?}");
        }
    }
}

#[test]
fn openssl_3des_decrypts_as_legacy() {
    let content = message();
    for name in ["alice", "carol"] {
        let der = openssl_encrypt(&content, &["-des3"], &[name]);
        let out = decrypt_data(&der, &identity(name)).expect("decrypt 3DES");
        assert_eq!(out.content.as_slice(), content);
        assert_eq!((out.cipher, out.legacy, out.authenticated), ("3DES-CBC", true, false));
    }
}

#[test]
fn wrong_key_is_no_matching_recipient() {
    let content = message();
    for cipher in [ContentCipher::Aes256Cbc, ContentCipher::Aes128Gcm] {
        for id in IDS {
            let der =
                encrypt_data(&content, &[cert("alice"), cert("carol")], &options(cipher, KeyTransport::RsaPkcs1, id))
                    .expect("encrypt");
            for name in ["bob", "dave"] {
                let err = decrypt_data(&der, &identity(name)).expect_err("not for this key");
                assert!(matches!(err, Error::NoMatchingRecipient), "{name}: {err}");
            }
        }
    }
}

/// The hex subjectKeyIdentifier of a test certificate, as raw bytes.
fn ski(name: &str) -> Vec<u8> {
    let path = pki_file(&format!("{name}.pem"));
    let out = openssl_ok(&["x509", "-noout", "-ext", "subjectKeyIdentifier", "-in", path.to_str().expect("path")], b"");
    let text = String::from_utf8_lossy(&out);
    let hex: String = text.lines().nth(1).expect("SKI line").trim().replace(':', "");
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).expect("hex")).collect()
}

fn replace_once(haystack: &mut [u8], from: &[u8], to: &[u8]) {
    assert_eq!(from.len(), to.len());
    let at = haystack.windows(from.len()).position(|w| w == from).expect("pattern present");
    haystack[at..at + from.len()].copy_from_slice(to);
}

#[test]
fn recipient_rewritten_to_another_key_is_decryption_failed() {
    let content = message();
    // alice's encrypted key, but the rid says bob: bob's RSA key "decrypts" it (PKCS#1
    // v1.5 implicit rejection gives a synthetic key; OAEP fails outright). Either way
    // the caller sees the same error.
    for (from, to) in [("alice", "bob"), ("carol", "dave")] {
        for transport in [KeyTransport::RsaPkcs1, KeyTransport::RsaOaep] {
            for cipher in CIPHERS {
                let mut der =
                    encrypt_data(&content, &[cert(from)], &options(cipher, transport, RecipientIdKind::SubjectKeyId))
                        .expect("encrypt");
                replace_once(&mut der, &ski(from), &ski(to));
                let err = decrypt_data(&der, &identity(to)).expect_err("must fail");
                assert!(matches!(err, Error::DecryptionFailed), "{from}->{to} {transport:?} {cipher:?}: {err}");
            }
        }
    }
}

#[test]
fn tampered_ciphertext() {
    let content = sample_message("a@example.test", "b@example.test", &"x".repeat(300));
    for name in ["alice", "carol"] {
        for cipher in CIPHERS {
            let der = encrypt_data(&content, &[cert(name)], &options(cipher, KeyTransport::RsaPkcs1, IDS[0]))
                .expect("encrypt");
            let gcm = matches!(cipher, ContentCipher::Aes128Gcm | ContentCipher::Aes256Gcm);
            // CBC: the ciphertext ends the message. GCM: `04 10 <tag>` ends it.
            let positions: &[usize] = if gcm {
                &[der.len() - 1, der.len() - 40, der.len() - 200]
            } else {
                &[der.len() - 1, der.len() - 20, der.len() - 200]
            };
            for &at in positions {
                let mut bad = der.clone();
                bad[at] ^= 0x01;
                match decrypt_data(&bad, &identity(name)) {
                    Err(Error::DecryptionFailed) => {}
                    Ok(out) if !gcm => {
                        assert_ne!(out.content.as_slice(), content, "CBC flip at {at} must change the plaintext")
                    }
                    other => panic!("{name} {cipher:?} flip at {at}: {other:?}"),
                }
            }
        }
    }
}

#[test]
fn every_truncation_and_random_input_is_an_error_not_a_panic() {
    let content = b"short".to_vec();
    let alice = identity("alice");
    for cipher in [ContentCipher::Aes128Cbc, ContentCipher::Aes128Gcm] {
        let der = encrypt_data(&content, &[cert("alice")], &options(cipher, KeyTransport::RsaPkcs1, IDS[0]))
            .expect("encrypt");
        for len in 0..der.len() {
            assert!(decrypt_data(&der[..len], &alice).is_err(), "truncated to {len}");
        }
    }
    // Deterministic pseudo-random inputs (xorshift), some starting like a SEQUENCE.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for i in 0..2000 {
        let len = (next() % 300) as usize;
        let mut data: Vec<u8> = (0..len).map(|_| next() as u8).collect();
        if i % 2 == 0 && len > 2 {
            data[0] = 0x30;
            data[1] = 0x80;
        }
        assert!(decrypt_data(&data, &alice).is_err());
    }
}

#[test]
fn gcm_single_byte_flips_never_yield_other_plaintext() {
    let content = b"authenticated".to_vec();
    let carol = identity("carol");
    let der =
        encrypt_data(&content, &[cert("carol")], &options(ContentCipher::Aes128Gcm, KeyTransport::RsaPkcs1, IDS[0]))
            .expect("encrypt");
    for at in 0..der.len() {
        let mut bad = der.clone();
        bad[at] ^= 0x04;
        if let Ok(out) = decrypt_data(&bad, &carol) {
            assert_eq!(out.content.as_slice(), content, "flip at {at} produced other plaintext");
        }
    }
}
