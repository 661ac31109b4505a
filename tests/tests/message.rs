//! Whole-message S/MIME against `openssl cms`, both directions: outer headers stay
//! outside, the body entity is protected, and the verdict of `open_message` follows
//! the rules of the design (exactly one valid signer over the whole message, From match).

use smime_crypto::{
    Certificate, ContentCipher, EncryptOptions, Identity, KeyTransport, Layer, OpenOptions, PrivateKey, SignOptions,
    SignatureStatus, TrustOptions, VerifyOptions, load_certificates, open_message,
};
use smime_proxy_tests::{openssl, openssl_ok, pki_bytes, pki_file, sample_message};

const BODY: &str = "Hello Bob,\r\nthe secret marker is PLAINTEXT-MARKER-42.\r\n";

fn cert(name: &str) -> Certificate {
    load_certificates(&pki_bytes(&format!("{name}.pem"))).expect("certificate").remove(0)
}

fn identity(name: &str) -> Identity {
    let key = std::fs::read_to_string(pki_file(&format!("{name}.key"))).expect("key");
    let ca = cert("ca");
    Identity::new(PrivateKey::from_pem(&key, None).expect("key"), cert(name), vec![ca]).expect("identity")
}

fn message_from(name: &str) -> Vec<u8> {
    sample_message(&format!("{} <{name}@example.test>", capitalise(name)), "Bob <bob@example.test>", BODY)
}

fn capitalise(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_uppercase().collect::<String>() + chars.as_str()).unwrap_or_default()
}

fn trust() -> VerifyOptions {
    VerifyOptions { trust: TrustOptions { anchors: vec![cert("ca")], ..TrustOptions::default() }, ..Default::default() }
}

fn open(message: &[u8], identity: Option<&Identity>) -> smime_crypto::Opened {
    open_message(message, &OpenOptions { identity, verify: trust() }).expect("open")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn path_of(bytes: &[u8], dir: &tempfile::TempDir, name: &str) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).expect("write");
    path.to_string_lossy().into_owned()
}

fn assert_valid(opened: &smime_crypto::Opened, address: &str) {
    let summary = opened.signature.as_ref().expect("signed");
    assert_eq!(summary.status, SignatureStatus::Valid, "{summary:?}");
    assert!(summary.from_matches);
    assert!(summary.signer.as_ref().expect("one signer").addresses.iter().any(|a| a == address));
}

#[test]
fn our_signatures_verify_in_openssl_and_keep_the_outer_headers() {
    for (name, opaque) in [("alice", false), ("alice", true), ("carol", false), ("dave", true)] {
        let signed = smime_crypto::sign_message(&message_from(name), &identity(name), &SignOptions::default(), opaque)
            .expect("sign")
            .to_vec();
        assert!(contains(&signed, "Subject: test message\r\n") && contains(&signed, "To: Bob <bob@example.test>"));
        let dir = tempfile::tempdir().expect("dir");
        let input = path_of(&signed, &dir, "signed.eml");
        let ca = pki_file("ca.pem");
        let content = openssl_ok(
            &["cms", "-verify", "-in", &input, "-CAfile", ca.to_str().expect("path"), "-purpose", "smimesign"],
            b"",
        );
        assert!(contains(&content, "PLAINTEXT-MARKER-42"), "{name} opaque={opaque}");
        assert_valid(&open(&signed, None), &format!("{name}@example.test"));
    }
}

#[test]
fn our_encryption_decrypts_in_openssl_for_every_cipher_and_key_kind() {
    let ciphers =
        [ContentCipher::Aes128Cbc, ContentCipher::Aes256Cbc, ContentCipher::Aes128Gcm, ContentCipher::Aes256Gcm];
    for cipher in ciphers {
        for (name, transport) in
            [("bob", KeyTransport::RsaPkcs1), ("bob", KeyTransport::RsaOaep), ("carol", KeyTransport::RsaPkcs1)]
        {
            let options = EncryptOptions { cipher, key_transport: transport, ..EncryptOptions::default() };
            let encrypted =
                smime_crypto::encrypt_message(&message_from("alice"), &[cert(name), cert("alice")], &options)
                    .expect("encrypt")
                    .to_vec();
            assert!(!contains(&encrypted, "PLAINTEXT-MARKER-42"));
            assert!(contains(&encrypted, "Subject: test message\r\n"));
            let dir = tempfile::tempdir().expect("dir");
            let input = path_of(&encrypted, &dir, "enc.eml");
            let out = openssl(
                &[
                    "cms",
                    "-decrypt",
                    "-in",
                    &input,
                    "-recip",
                    pki_file(&format!("{name}.pem")).to_str().expect("p"),
                    "-inkey",
                    pki_file(&format!("{name}.key")).to_str().expect("p"),
                ],
                b"",
            );
            assert!(out.success, "{cipher:?} {transport:?} {name}: {}", out.stderr);
            assert!(contains(&out.stdout, "PLAINTEXT-MARKER-42"));
            let opened = open(&encrypted, Some(&identity("alice")));
            assert!(contains(&opened.message, "PLAINTEXT-MARKER-42") && opened.was_encrypted());
        }
    }
}

#[test]
fn sign_then_encrypt_opens_in_openssl_and_here() {
    let message = smime_crypto::sign_and_encrypt_message(
        &message_from("alice"),
        &identity("alice"),
        &SignOptions::default(),
        &[cert("bob"), cert("alice")],
        &EncryptOptions::default(),
    )
    .expect("sign and encrypt")
    .to_vec();
    let dir = tempfile::tempdir().expect("dir");
    let input = path_of(&message, &dir, "se.eml");
    let inner = openssl_ok(
        &[
            "cms",
            "-decrypt",
            "-in",
            &input,
            "-recip",
            pki_file("bob.pem").to_str().expect("p"),
            "-inkey",
            pki_file("bob.key").to_str().expect("p"),
        ],
        b"",
    );
    let inner_path = path_of(&inner, &dir, "inner.eml");
    let content =
        openssl_ok(&["cms", "-verify", "-in", &inner_path, "-CAfile", pki_file("ca.pem").to_str().expect("p")], b"");
    assert!(contains(&content, "PLAINTEXT-MARKER-42"));
    let opened = open(&message, Some(&identity("bob")));
    assert!(matches!(opened.layers.as_slice(), [Layer::Encrypted { .. }, Layer::Signed { detached: true, .. }]));
    assert_valid(&opened, "alice@example.test");
}

/// An entity file (no outer headers) for `openssl cms -sign/-encrypt -from/-to/-subject`.
fn openssl_made(args: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("dir");
    let entity =
        path_of(format!("Content-Type: text/plain; charset=utf-8\r\n\r\n{BODY}").as_bytes(), &dir, "entity.txt");
    let mut all = vec![
        "cms",
        "-in",
        &entity,
        "-from",
        "Alice <alice@example.test>",
        "-to",
        "bob@example.test",
        "-subject",
        "from openssl",
    ];
    all.extend_from_slice(args);
    openssl_ok(&all, b"")
}

#[test]
fn openssl_signed_messages_verify_here() {
    let alice = pki_file("alice.pem");
    let key = pki_file("alice.key");
    let (alice, key) = (alice.to_str().expect("p"), key.to_str().expect("p"));
    for extra in [&[][..], &["-nodetach"], &["-keyopt", "rsa_padding_mode:pss"], &["-md", "sha512"]] {
        let mut args = vec!["-sign", "-signer", alice, "-inkey", key];
        args.extend_from_slice(extra);
        let signed = openssl_made(&args);
        let opened = open(&signed, None);
        assert_valid(&opened, "alice@example.test");
        assert!(contains(&opened.message, "PLAINTEXT-MARKER-42") && contains(&opened.message, "Subject: from openssl"));
    }
}

#[test]
fn openssl_encrypted_and_signed_then_encrypted_messages_open_here() {
    let bob = pki_file("bob.pem");
    let bob = bob.to_str().expect("p");
    for cipher in ["-aes128", "-aes256", "-aes-128-gcm", "-aes-256-gcm"] {
        let encrypted = openssl_made(&["-encrypt", cipher, bob]);
        let opened = open(&encrypted, Some(&identity("bob")));
        assert!(contains(&opened.message, "PLAINTEXT-MARKER-42"), "{cipher}");
        assert!(opened.signature.is_none());
    }
    let signed = openssl_made(&[
        "-sign",
        "-signer",
        pki_file("alice.pem").to_str().expect("p"),
        "-inkey",
        pki_file("alice.key").to_str().expect("p"),
    ]);
    let dir = tempfile::tempdir().expect("dir");
    let signed_path = path_of(&signed, &dir, "signed.eml");
    let both = openssl_ok(&["cms", "-encrypt", "-in", &signed_path, "-aes256", bob], b"");
    let opened = open(&both, Some(&identity("bob")));
    assert_valid(&opened, "alice@example.test");
}

#[test]
fn a_changed_body_breaks_the_signature() {
    let signed = smime_crypto::sign_message(&message_from("alice"), &identity("alice"), &SignOptions::default(), false)
        .expect("sign")
        .to_vec();
    let tampered = String::from_utf8(signed).expect("utf8").replace("MARKER-42", "MARKER-43");
    let summary = open(tampered.as_bytes(), None).signature.expect("signed");
    assert!(matches!(summary.status, SignatureStatus::Invalid(_)));
}

#[test]
fn a_signer_who_is_not_the_sender_is_not_valid() {
    let message = sample_message("Bob <bob@example.test>", "carol@example.test", BODY);
    let signed = smime_crypto::sign_message(&message, &identity("alice"), &SignOptions::default(), false)
        .expect("sign")
        .to_vec();
    let summary = open(&signed, None).signature.expect("signed");
    assert!(!summary.from_matches);
    assert!(matches!(&summary.status, SignatureStatus::Invalid(r) if r.contains("From")), "{summary:?}");
}

#[test]
fn a_signed_part_inside_an_unsigned_multipart_is_not_a_signed_message() {
    let signed = smime_crypto::sign_message(&message_from("alice"), &identity("alice"), &SignOptions::default(), false)
        .expect("sign")
        .to_vec();
    let entity = smime_crypto::mime::Entity::parse(&signed).expect("parse");
    let inner = smime_crypto::mime::body_entity(&entity);
    let mut wrapped = b"From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: s\r\nMIME-Version: 1.0\r\n\
Content-Type: multipart/mixed; boundary=outer\r\n\r\n--outer\r\nContent-Type: text/plain\r\n\r\nUnsigned text added by someone.\r\n--outer\r\n"
        .to_vec();
    wrapped.extend_from_slice(&inner);
    wrapped.extend_from_slice(b"\r\n--outer--\r\n");
    let opened = open(&wrapped, None);
    assert!(opened.signature.is_none() && opened.layers.is_empty());
}

#[test]
fn two_signers_are_not_a_signed_message() {
    let dir = tempfile::tempdir().expect("dir");
    let p = |n: &str| pki_file(n).to_string_lossy().into_owned();
    let entity = path_of(format!("Content-Type: text/plain\r\n\r\n{BODY}").as_bytes(), &dir, "e.txt");
    let signed = openssl_ok(
        &[
            "cms",
            "-sign",
            "-in",
            &entity,
            "-from",
            "alice@example.test",
            "-signer",
            &p("alice.pem"),
            "-inkey",
            &p("alice.key"),
            "-signer",
            &p("bob.pem"),
            "-inkey",
            &p("bob.key"),
        ],
        b"",
    );
    let summary = open(&signed, None).signature.expect("signed");
    assert!(matches!(&summary.status, SignatureStatus::Invalid(r) if r.contains("2 signers")), "{summary:?}");
}

#[test]
fn encrypted_without_a_key_and_for_someone_else_are_clear_errors() {
    let encrypted = smime_crypto::encrypt_message(&message_from("alice"), &[cert("bob")], &EncryptOptions::default())
        .expect("encrypt")
        .to_vec();
    let no_key = open_message(&encrypted, &OpenOptions::default()).expect_err("needs a key");
    assert!(matches!(no_key, smime_crypto::Error::KeyRequired));
    let wrong = open_message(&encrypted, &OpenOptions { identity: Some(&identity("alice")), verify: trust() });
    assert!(matches!(wrong, Err(smime_crypto::Error::NoMatchingRecipient)), "{wrong:?}");
}

#[test]
fn truncated_and_mangled_messages_are_errors_or_unsigned_never_panics() {
    let signed = smime_crypto::sign_and_encrypt_message(
        &message_from("alice"),
        &identity("alice"),
        &SignOptions::default(),
        &[cert("bob")],
        &EncryptOptions::default(),
    )
    .expect("sign+encrypt")
    .to_vec();
    let bob = identity("bob");
    let options = OpenOptions { identity: Some(&bob), verify: trust() };
    for len in (0..signed.len()).step_by(97) {
        if let Ok(opened) = open_message(&signed[..len], &options) {
            assert!(!contains(&opened.message, "PLAINTEXT-MARKER-42"), "partial plaintext at {len}");
        }
    }
    let signed = smime_crypto::sign_message(&message_from("alice"), &identity("alice"), &SignOptions::default(), false)
        .expect("sign")
        .to_vec();
    for len in (0..signed.len()).step_by(13) {
        if let Ok(opened) = open_message(&signed[..len], &options) {
            assert!(opened.signature.is_none_or(|s| s.status != SignatureStatus::Valid), "valid at {len}");
        }
    }
}

/// Issue 9 (NSS interop corpus): content that is no MIME entity, as `openssl cms
/// -encrypt` makes of a text file without `-text`, opens as header-less text/plain.
#[test]
fn issue_9_raw_content_without_mime_headers_opens_as_text() {
    let dir = tempfile::tempdir().expect("dir");
    let raw = path_of(b"This is a test message to Fran.\n", &dir, "raw.txt");
    let encrypted =
        openssl_ok(&["cms", "-encrypt", "-in", &raw, "-aes256", &pki_file("bob.pem").to_string_lossy()], b"");
    let opened = open(&encrypted, Some(&identity("bob")));
    assert!(opened.was_encrypted());
    // openssl encrypts the CRLF form unless -binary.
    assert_eq!(opened.content(), b"\r\nThis is a test message to Fran.\r\n");
}

/// Issue 9 (Bouncy Castle corpus): a multipart/signed stored with bare LF line ends whose
/// signer is untrusted reports the untrusted certificate, not a digest mismatch.
#[test]
fn issue_9_lf_stored_signature_reports_the_real_reason() {
    let signed = smime_crypto::sign_message(&message_from("alice"), &identity("alice"), &SignOptions::default(), false)
        .expect("sign")
        .to_vec();
    let lf = String::from_utf8(signed).expect("text").replace("\r\n", "\n");
    let untrusted = VerifyOptions {
        trust: TrustOptions { anchors: vec![cert("other-ca")], ..TrustOptions::default() },
        ..Default::default()
    };
    let opened = open_message(lf.as_bytes(), &OpenOptions { identity: None, verify: untrusted }).expect("open");
    let status = opened.signature.expect("signed").status;
    assert!(matches!(&status, SignatureStatus::Invalid(r) if r.contains("not trusted")), "{status:?}");
    assert!(contains(&open(lf.as_bytes(), None).message, "PLAINTEXT-MARKER-42"));
    assert_eq!(open(lf.as_bytes(), None).signature.expect("signed").status, SignatureStatus::Valid);
}
