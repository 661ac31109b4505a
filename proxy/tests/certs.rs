//! The recipient certificate store: `certs add|list|lookup|remove`, validation with its
//! reasons (untrusted, expired, wrong EKU, key usage, address), and certificates learned
//! from verified signed mail.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use rcgen::{
    CertificateParams, DnType, ExtendedKeyUsagePurpose, Issuer, KeyPair, KeyUsagePurpose, SanType, date_time_ymd,
};
use smime_crypto::{
    Capabilities, CertificateProblem, OpenOptions, SignOptions, SignatureStatus, TrustOptions, VerifyOptions,
    load_certificates, open_message, pkcs12, sign_message,
};
use smime_proxy::store::{CertStore, Unusable, check};
use smime_proxy_tests::{Output, openssl_ok, pki_bytes, pki_file, run, sample_message};

fn smime_proxy(home: &Path, args: &[&str]) -> Output {
    run(Command::new(env!("CARGO_BIN_EXE_smime-proxy")).arg("--config-dir").arg(home).args(args), b"")
}

fn p(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A configuration directory whose config.toml trusts the test CA.
fn home() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let config = format!("trust_anchors = [\"{}\"]\n", p(&pki_file("ca.pem")).replace('\\', "\\\\"));
    std::fs::write(dir.path().join("config.toml"), config).unwrap();
    dir
}

fn trust() -> TrustOptions {
    TrustOptions { anchors: load_certificates(&pki_bytes("ca.pem")).unwrap(), ..TrustOptions::default() }
}

/// A certificate issued by the test CA (EC P-256 key), written to `dir/NAME.pem`.
fn issue(dir: &Path, name: &str, edit: impl FnOnce(&mut CertificateParams)) -> PathBuf {
    let ca_key = KeyPair::from_pem(&String::from_utf8(pki_bytes("ca.key")).unwrap()).unwrap();
    let issuer = Issuer::from_ca_cert_pem(&String::from_utf8(pki_bytes("ca.pem")).unwrap(), ca_key).unwrap();
    let mut params = CertificateParams::default();
    params.distinguished_name.push(DnType::CommonName, name);
    params.subject_alt_names = vec![SanType::Rfc822Name(format!("{name}@example.test").try_into().unwrap())];
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyAgreement];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
    edit(&mut params);
    let cert = params.signed_by(&KeyPair::generate().unwrap(), &issuer).unwrap();
    let path = dir.join(format!("{name}.pem"));
    std::fs::write(&path, cert.pem()).unwrap();
    path
}

fn lookup(home: &Path, address: &str, extra: &[&str]) -> (Option<i32>, String) {
    let out = smime_proxy(home, &[&["certs", "lookup", address][..], extra].concat());
    (out.code, String::from_utf8(out.stdout).unwrap())
}

#[test]
fn lookup_says_which_certificates_are_usable_and_why_not() {
    let home = home();
    let extra = tempfile::tempdir().unwrap();
    let expired = issue(extra.path(), "old", |p| {
        p.not_before = date_time_ymd(2020, 1, 1);
        p.not_after = date_time_ymd(2021, 1, 1);
    });
    let sign_only = issue(extra.path(), "signer", |p| p.key_usages = vec![KeyUsagePurpose::DigitalSignature]);
    let fresh = issue(extra.path(), "fresh", |_| {});
    let files: Vec<String> = ["bob.pem", "trent.pem", "mallory.pem", "kuenc.pem", "carol.pem"]
        .iter()
        .map(|name| p(&pki_file(name)))
        .chain([&expired, &sign_only, &fresh].map(|path| p(path)))
        .collect();
    let args: Vec<&str> = ["certs", "add"].into_iter().chain(files.iter().map(String::as_str)).collect();
    let added = smime_proxy(home.path(), &args);
    assert!(added.success, "{}", added.stderr);
    assert!(added.stderr.contains("added bob@example.test"), "{}", added.stderr);
    assert!(added.stderr.contains("warning: not usable for trent@example.test now"), "{}", added.stderr);

    for (address, usable, reason) in [
        ("bob@example.test", true, "yes, trusted via O=smime-proxy tests,CN=smime-proxy Test CA"),
        ("carol@example.test", true, "yes, trusted via"),
        ("fresh@example.test", true, "yes, trusted via"),
        ("kuenc@example.test", true, "yes"), // keyEncipherment only: fine for encryption
        ("trent@example.test", false, "NO: the certificate is not for e-mail protection (extended key usage)"),
        (
            "mallory@example.test",
            false,
            "NO: the certificate is not trusted (it does not chain to a configured trust anchor)",
        ),
        ("old@example.test", false, "NO: the certificate is not valid at that time (expired;"),
        ("signer@example.test", false, "NO: the certificate's key usage does not allow key agreement"),
    ] {
        let (code, text) = lookup(home.path(), address, &[]);
        assert_eq!(code, Some(if usable { 0 } else { 1 }), "{address}: {text}");
        assert!(text.contains(&format!("usable:      {reason}")), "{address}: {text}");
        assert!(text.starts_with(address), "{text}");
    }

    // Valid today, expired in 2040.
    let (code, text) = lookup(home.path(), "bob@example.test", &["--at", "2040-01-01T00:00:00Z"]);
    assert_eq!(code, Some(1));
    assert!(text.contains("NO: the certificate is not valid at that time (expired"), "{text}");

    let (code, text) = lookup(home.path(), "nobody@example.test", &[]);
    assert_eq!(code, Some(1));
    assert!(text.contains("no certificate for nobody@example.test"), "{text}");
}

#[test]
fn without_trust_anchors_nothing_is_usable_and_the_reason_says_so() {
    let home = tempfile::tempdir().unwrap();
    assert!(smime_proxy(home.path(), &["certs", "add", &p(&pki_file("bob.pem"))]).success);
    let (code, text) = lookup(home.path(), "bob@example.test", &[]);
    assert_eq!(code, Some(1));
    assert!(text.contains("not trusted") && text.contains("no trust_anchors are configured"), "{text}");
}

#[test]
fn an_address_that_is_not_in_the_certificate_is_refused() {
    let alice = load_certificates(&pki_bytes("alice.pem")).unwrap().remove(0);
    let now = SystemTime::now();
    assert!(check(&alice, "Alice@Example.TEST", &trust(), now).is_ok());
    let err = check(&alice, "bob@example.test", &trust(), now).unwrap_err();
    assert!(matches!(err, Unusable::AddressMismatch { .. }));
    assert_eq!(err.to_string(), "the certificate is for alice@example.test only, not bob@example.test");
    let trent = load_certificates(&pki_bytes("trent.pem")).unwrap().remove(0);
    assert_eq!(
        check(&trent, "trent@example.test", &trust(), now),
        Err(Unusable::Certificate(CertificateProblem::WrongExtendedKeyUsage))
    );
}

#[test]
fn ca_certificates_and_certificates_without_an_address_are_not_added() {
    let home = home();
    let out = smime_proxy(home.path(), &["certs", "add", &p(&pki_file("ca.pem"))]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("is a CA certificate; add it to `trust_anchors`"), "{}", out.stderr);
    let extra = tempfile::tempdir().unwrap();
    let nameless = issue(extra.path(), "nameless", |p| p.subject_alt_names.clear());
    let out = smime_proxy(home.path(), &["certs", "add", &p(&nameless)]);
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("contains no e-mail address"), "{}", out.stderr);
}

#[test]
fn certificates_are_listed_and_removed_and_kept_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = home();
    let der = home.path().join("bob.der");
    std::fs::write(
        &der,
        pem_rfc7468::decode_vec(String::from_utf8(pki_bytes("bob.pem")).unwrap().trim().as_bytes()).unwrap().1,
    )
    .unwrap();
    assert!(smime_proxy(home.path(), &["certs", "add", &p(&der), &p(&pki_file("carol.pem"))]).success);
    let again = smime_proxy(home.path(), &["certs", "add", &p(&pki_file("bob.pem"))]);
    assert!(again.stderr.contains("already had bob@example.test"), "{}", again.stderr);
    let list = String::from_utf8(smime_proxy(home.path(), &["certs", "list"]).stdout).unwrap();
    assert_eq!(list.matches("fingerprint:").count(), 2, "{list}");
    assert!(list.contains("source:      added 20"), "{list}");

    let certs = home.path().join("certs");
    assert_eq!(std::fs::metadata(&certs).unwrap().permissions().mode() & 0o777, 0o700);
    for entry in std::fs::read_dir(&certs).unwrap() {
        assert_eq!(entry.unwrap().metadata().unwrap().permissions().mode() & 0o777, 0o600);
    }
    let out = smime_proxy(home.path(), &["certs", "remove", "bob@example.test"]);
    assert!(out.success && out.stderr.contains("removed bob@example.test"), "{}", out.stderr);
    let list = String::from_utf8(smime_proxy(home.path(), &["certs", "list"]).stdout).unwrap();
    assert!(!list.contains("bob@") && list.contains("carol@"), "{list}");
}

/// `message` signed by alice with `openssl cms -sign` (its default signed attributes).
fn openssl_signed(message: &[u8]) -> Vec<u8> {
    openssl_ok(&["cms", "-sign", "-signer", &p(&pki_file("alice.pem")), "-inkey", &p(&pki_file("alice.key"))], message)
}

/// The report of the one signer of an S/MIME message, verified against the test CA.
fn verified_signer(signed: &[u8]) -> smime_crypto::SignerReport {
    let verify = VerifyOptions { trust: trust(), ..VerifyOptions::default() };
    let summary = open_message(signed, &OpenOptions { identity: None, verify }).unwrap().signature.unwrap();
    assert_eq!(summary.status, SignatureStatus::Valid);
    summary.signer.unwrap()
}

#[test]
fn signers_of_verified_messages_are_learned_with_when_and_which_message() {
    let home = home();
    let store = CertStore::new(home.path());
    let alice = pkcs12::read_identity(&pki_bytes("alice.p12"), b"test").unwrap();
    let message = sample_message("alice@example.test", "bob@example.test", "learn me");
    let signed = sign_message(&message, &alice, &SignOptions::default(), false).unwrap().to_vec();

    // Not trusted: the signature does not verify as valid, nothing is learned.
    let untrusted = VerifyOptions {
        trust: TrustOptions {
            anchors: load_certificates(&pki_bytes("other-ca.pem")).unwrap(),
            ..TrustOptions::default()
        },
        ..VerifyOptions::default()
    };
    let opened = open_message(&signed, &OpenOptions { identity: None, verify: untrusted }).unwrap();
    let report = opened.signature.unwrap().signer.unwrap();
    assert!(matches!(report.status, SignatureStatus::Invalid(_)));
    assert_eq!(store.learn(&report, "<m0@example.test>", SystemTime::now()).unwrap(), None);
    assert!(store.list().unwrap().is_empty());

    // Verified: remembered, with the message and the time.
    let verify = VerifyOptions { trust: trust(), ..VerifyOptions::default() };
    let opened = open_message(&signed, &OpenOptions { identity: None, verify }).unwrap();
    let summary = opened.signature.unwrap();
    assert_eq!(summary.status, SignatureStatus::Valid);
    let report = summary.signer.unwrap();
    let first = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let fingerprint = store.learn(&report, "<m1@example.test>", first).unwrap().unwrap();
    let later = first + Duration::from_secs(3600);
    assert_eq!(store.learn(&report, "<m2@example.test>\r\nX-Evil: 1", later).unwrap(), Some(fingerprint));

    let entries = store.list().unwrap();
    assert_eq!(entries.len(), 1);
    let record = &entries[0].record;
    assert_eq!(record.source, "signature");
    let first_seen = record.first_seen.as_ref().unwrap();
    assert_eq!((first_seen.message_id.as_str(), first_seen.at.as_str()), ("<m1@example.test>", "2027-01-15T08:00:00Z"));
    let last_seen = record.last_seen.as_ref().unwrap();
    assert_eq!(last_seen.message_id, "<m2@example.test>X-Evil: 1", "control characters are dropped");
    assert_eq!(last_seen.at, "2027-01-15T09:00:00Z");
    assert_eq!(entries[0].capabilities(), Some(Capabilities::ours()), "what smime-proxy announces");

    // The latest announcement wins: alice now signs with OpenSSL, which announces CBC only.
    let by_openssl = openssl_signed(&message);
    let report = verified_signer(&by_openssl);
    store.learn(&report, "<m3@example.test>", later).unwrap().unwrap();
    let announced = store.list().unwrap()[0].capabilities().unwrap();
    assert_eq!(announced.names(), ["AES-256-CBC", "AES-192-CBC", "AES-128-CBC"]);
    // A signature without signed attributes announces nothing and keeps what is known.
    let bare = openssl_ok(
        &["cms", "-sign", "-noattr", "-signer", &p(&pki_file("alice.pem")), "-inkey", &p(&pki_file("alice.key"))],
        &message,
    );
    let report = verified_signer(&bare);
    assert_eq!(report.capabilities, None);
    store.learn(&report, "<m4@example.test>", later).unwrap().unwrap();
    assert_eq!(store.list().unwrap()[0].capabilities(), Some(announced));

    // Learned certificates are then found for encryption, and shown with their origin.
    let usable = store.usable_for("alice@example.test", &trust(), SystemTime::now()).unwrap();
    assert_eq!(usable.unwrap(), alice.certificate);
    let list = String::from_utf8(smime_proxy(home.path(), &["certs", "list"]).stdout).unwrap();
    assert!(list.contains("learned from a verified message <m4@example.test>"), "{list}");
    assert!(list.contains("announces:   AES-256-CBC, AES-192-CBC, AES-128-CBC"), "{list}");
    let (code, text) = lookup(home.path(), "alice@example.test", &[]);
    assert_eq!(code, Some(0), "{text}");
}

#[test]
fn trust_anchors_are_added_listed_and_removed_from_the_command_line() {
    let home = tempfile::tempdir().unwrap();
    assert!(smime_proxy(home.path(), &["certs", "add", &p(&pki_file("bob.pem"))]).success);
    assert_eq!(lookup(home.path(), "bob@example.test", &[]).0, Some(1), "no anchor yet");

    let refused = smime_proxy(home.path(), &["certs", "trust", "add", &p(&pki_file("bob.pem"))]);
    assert!(!refused.success && refused.stderr.contains("is not a CA certificate"), "{}", refused.stderr);
    let added = smime_proxy(home.path(), &["certs", "trust", "add", &p(&pki_file("ca.pem"))]);
    assert!(added.success, "{}", added.stderr);
    assert!(added.stderr.contains("trusting O=smime-proxy tests,CN=smime-proxy Test CA"), "{}", added.stderr);
    let (code, text) = lookup(home.path(), "bob@example.test", &[]);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("usable:      yes, trusted via O=smime-proxy tests,CN=smime-proxy Test CA"), "{text}");
    assert!(text.contains("Revocation not checked: the certificate names no OCSP responder or CRL"), "{text}");

    let listed = String::from_utf8(smime_proxy(home.path(), &["certs", "trust", "list"]).stdout).unwrap();
    assert!(listed.contains("(certs trust add)"), "{listed}");
    let fingerprint = listed.lines().find_map(|l| l.trim().strip_prefix("fingerprint: ")).unwrap().replace(':', "");
    let short = smime_proxy(home.path(), &["certs", "trust", "remove", "abc"]);
    assert!(!short.success && short.stderr.contains("at least 8 hex digits"), "{}", short.stderr);
    assert!(smime_proxy(home.path(), &["certs", "trust", "remove", &fingerprint[..12]]).success);
    assert_eq!(lookup(home.path(), "bob@example.test", &[]).0, Some(1), "the anchor is gone");
}
