//! `smime-proxy message ...` as a user and a script call it: exit codes, output, errors.

use smime_proxy_tests::{Output, openssl_ok, pki_file, run, sample_message};
use std::path::Path;
use std::process::Command;

fn smime_proxy(args: &[&str], stdin: &[u8]) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_smime-proxy")).args(args).env_remove("SMIME_PROXY_HOME"), stdin)
}

fn p(name: &str) -> String {
    pki_file(name).to_string_lossy().into_owned()
}

fn message() -> Vec<u8> {
    sample_message("Alice <alice@example.test>", "bob@example.test", "CLI-MARKER body\r\n")
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

#[test]
fn sign_then_verify_prints_the_signer_and_exits_zero() {
    let signed = smime_proxy(&["message", "sign", "--key", &p("alice.key"), "--signer", &p("alice.pem")], &message());
    assert!(signed.success, "{}", signed.stderr);
    let verified = smime_proxy(&["message", "verify", "--trust", &p("ca.pem")], &signed.stdout);
    assert!(verified.success, "{}", verified.stderr);
    let report = String::from_utf8_lossy(&verified.stdout);
    assert!(report.contains("Signature: valid"), "{report}");
    assert!(report.contains("alice@example.test") && report.contains("CN=Alice"), "{report}");
}

#[test]
fn verify_exits_non_zero_for_untrusted_and_tampered_signatures() {
    let signed = smime_proxy(&["message", "sign", "--key", &p("alice.key"), "--signer", &p("alice.pem")], &message());
    let untrusted = smime_proxy(&["message", "verify", "--trust", &p("other-ca.pem")], &signed.stdout);
    assert_eq!(untrusted.code, Some(1));
    assert!(String::from_utf8_lossy(&untrusted.stdout).contains("INVALID"));
    let tampered = String::from_utf8_lossy(&signed.stdout).replace("CLI-MARKER", "CLI-MARKET");
    let out = smime_proxy(&["message", "verify", "--trust", &p("ca.pem")], tampered.as_bytes());
    assert_eq!(out.code, Some(1));
}

#[test]
fn sign_encrypt_then_decrypt_with_a_pkcs12_key_round_trips_through_files() {
    let dir = tempfile::tempdir().expect("dir");
    let plain = dir.path().join("plain.eml");
    std::fs::write(&plain, message()).expect("write");
    let enc = dir.path().join("enc.eml");
    let dec = dir.path().join("dec.eml");
    let s = |p: &Path| p.to_string_lossy().into_owned();
    let out = smime_proxy(
        &[
            "message",
            "sign-encrypt",
            "--in",
            &s(&plain),
            "--out",
            &s(&enc),
            "--key",
            &p("alice.key"),
            "--signer",
            &p("alice.pem"),
            "--recipient",
            &p("alice.pem"),
            "--cipher",
            "aes128-gcm",
            "--key-transport",
            "rsa-oaep",
        ],
        b"",
    );
    assert!(out.success, "{}", out.stderr);
    assert!(!contains(&std::fs::read(&enc).expect("read"), "CLI-MARKER"));
    let out = smime_proxy(
        &[
            "message",
            "decrypt",
            "--in",
            &s(&enc),
            "--out",
            &s(&dec),
            "--key",
            &p("alice.p12"),
            "--passphrase-file",
            &p("passphrase.txt"),
            "--trust",
            &p("ca.pem"),
        ],
        b"",
    );
    assert!(out.success, "{}", out.stderr);
    assert!(contains(&std::fs::read(&dec).expect("read"), "CLI-MARKER"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&dec).expect("meta").permissions().mode() & 0o777, 0o600);
    }
}

#[test]
fn decrypt_with_trust_refuses_an_untrusted_inner_signature() {
    let signed = smime_proxy(
        &[
            "message",
            "sign-encrypt",
            "--key",
            &p("mallory.key"),
            "--signer",
            &p("mallory.pem"),
            "--recipient",
            &p("bob.pem"),
        ],
        &sample_message("mallory@example.test", "bob@example.test", "x\r\n"),
    );
    assert!(signed.success, "{}", signed.stderr);
    let args = ["message", "decrypt", "--key", &p("bob.key"), "--cert", &p("bob.pem")];
    let mut with_trust = args.to_vec();
    let ca = p("ca.pem");
    with_trust.extend(["--trust", &ca]);
    let out = smime_proxy(&with_trust, &signed.stdout);
    assert!(!out.success);
    assert!(out.stdout.is_empty(), "no plaintext on failure");
    let without_trust = smime_proxy(&args, &signed.stdout);
    assert!(without_trust.success, "{}", without_trust.stderr);
}

#[test]
fn openssl_reads_what_the_cli_encrypts() {
    let out = smime_proxy(&["message", "encrypt", "--recipient", &p("bob.pem")], &message());
    assert!(out.success, "{}", out.stderr);
    let plain = openssl_ok(&["cms", "-decrypt", "-recip", &p("bob.pem"), "-inkey", &p("bob.key")], &out.stdout);
    assert!(contains(&plain, "CLI-MARKER"));
}

#[test]
fn user_mistakes_get_one_clear_sentence_and_no_panic() {
    let (ca, p12) = (p("ca.pem"), p("alice.p12"));
    let cases: &[(&[&str], &str)] = &[
        (&["message", "sign"], "--key"),
        (&["message", "encrypt"], "--recipient"),
        (&["message", "decrypt"], "--key"),
        (&["message", "encrypt", "--recipient", "/nonexistent.pem"], "/nonexistent.pem"),
        (&["message", "sign", "--key", "/etc/hostname", "--signer", "/etc/hostname"], "--key"),
        (&["message", "decrypt", "--key", &p12], "passphrase"),
        (&["message", "verify", "--trust", &ca], "not signed"),
    ];
    for (args, expected) in cases {
        let out = smime_proxy(args, &message());
        let err = &out.stderr;
        assert!(!out.success, "{args:?} should fail");
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("panicked") && err.lines().count() == 1, "{args:?}: {err}");
    }
    let garbage = smime_proxy(&["message", "verify", "--trust", &ca], b"\x00\x01garbage");
    assert!(!garbage.success && !garbage.stderr.contains("panicked"));
}

#[test]
fn verify_at_checks_a_signature_as_of_a_given_time() {
    let signed = smime_proxy(&["message", "sign", "--key", &p("alice.key"), "--signer", &p("alice.pem")], &message());
    assert!(signed.success, "{}", signed.stderr);
    // Before the test certificates' notBefore: not valid at that time.
    let early =
        smime_proxy(&["message", "verify", "--trust", &p("ca.pem"), "--at", "2000-01-01T00:00:00Z"], &signed.stdout);
    assert_eq!(early.code, Some(1), "{}", early.stderr);
    assert!(String::from_utf8_lossy(&early.stdout).contains("not valid at that time"));

    // A Thunderbird corpus message: valid during its certificates' life, not after it.
    let corpus =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/corpora/comm-central/mailnews/test/data/smime");
    let message = std::fs::read(corpus.join("alice.dsig.SHA256.multipart.eml")).expect("corpus message");
    let ca = corpus.join("TestCA.pem").to_string_lossy().into_owned();
    let during = smime_proxy(&["message", "verify", "--trust", &ca, "--at", "2026-06-01T12:00:00+02:00"], &message);
    assert!(during.success, "{}", String::from_utf8_lossy(&during.stdout));
    let after = smime_proxy(&["message", "verify", "--trust", &ca, "--at", "2031-06-01T00:00:00Z"], &message);
    assert_eq!(after.code, Some(1));
    assert!(String::from_utf8_lossy(&after.stdout).contains("expired"));

    // A value that is not RFC 3339: a usage error naming the expected form.
    let bad = smime_proxy(&["message", "verify", "--trust", &ca, "--at", "yesterday"], &message);
    assert_eq!(bad.code, Some(2));
    assert!(bad.stderr.contains("RFC 3339"), "{}", bad.stderr);
}
