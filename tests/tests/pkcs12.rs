//! PKCS#12 reading (`smime_crypto::pkcs12::read_identity`) against files written by the
//! `openssl` CLI in every variant it offers, files assembled here around keys that
//! `openssl pkcs8` encrypted (for the schemes `openssl pkcs12` cannot be asked for), the
//! NSS-made files of comm-central when present, and damaged input.

use smime_crypto::pkcs12::read_identity;
use smime_crypto::{Certificate, Error, load_certificates};
use smime_proxy_tests::der_tlv as tlv;
use smime_proxy_tests::{openssl, openssl_ok, pki_bytes, pki_file};
use std::path::PathBuf;

fn path(name: &str) -> String {
    pki_file(name).to_string_lossy().into_owned()
}

fn cert(name: &str) -> Certificate {
    load_certificates(&pki_bytes(name)).expect("certificate").remove(0)
}

/// `openssl pkcs12 -export` of `user` (key, certificate, and the CA as chain) with `pass`.
fn export(user: &str, pass: &str, extra: &[&str]) -> Vec<u8> {
    let (crt, key, ca, passout) =
        (path(&format!("{user}.pem")), path(&format!("{user}.key")), path("ca.pem"), format!("pass:{pass}"));
    let mut args = vec!["pkcs12", "-export", "-in", &crt, "-inkey", &key, "-certfile", &ca, "-passout", &passout];
    args.extend_from_slice(extra);
    openssl_ok(&args, b"")
}

/// Opens `p12` and checks it holds `user`'s key and certificate with the CA in the chain.
fn assert_opens(p12: &[u8], pass: &[u8], user: &str, label: &str) {
    let id = read_identity(p12, pass).unwrap_or_else(|e| panic!("{label}: {e}"));
    assert_eq!(id.certificate, cert(&format!("{user}.pem")), "{label}: end-entity certificate");
    assert!(id.key.matches(&id.certificate), "{label}: key matches");
    assert_eq!(id.chain, vec![cert("ca.pem")], "{label}: chain is the CA");
}

fn assert_wrong_passphrase(p12: &[u8], pass: &[u8], label: &str) {
    match read_identity(p12, pass) {
        Err(Error::WrongPassphrase) => {}
        other => panic!("{label}: expected WrongPassphrase, got {other:?}"),
    }
}

#[test]
fn generated_files_open_with_their_passphrase() {
    for (file, user) in [("alice.p12", "alice"), ("alice-legacy.p12", "alice"), ("carol.p12", "carol")] {
        let p12 = pki_bytes(file);
        assert_opens(&p12, b"test", user, file);
        for wrong in [&b"Test"[..], b"test\n", b"", b"wrong passphrase"] {
            assert_wrong_passphrase(&p12, wrong, file);
        }
    }
}

/// Every encryption, MAC and iteration option of `openssl pkcs12 -export`.
const VARIANTS: &[&[&str]] = &[
    &["-keypbe", "AES-128-CBC", "-certpbe", "AES-128-CBC"],
    &["-keypbe", "AES-192-CBC", "-certpbe", "AES-192-CBC"],
    &["-keypbe", "AES-256-CBC", "-certpbe", "AES-256-CBC", "-macalg", "sha512"],
    &["-keypbe", "DES-EDE3-CBC", "-certpbe", "DES-EDE3-CBC"],
    &["-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES"],
    &["-keypbe", "PBE-SHA1-2DES", "-certpbe", "PBE-SHA1-2DES"],
    &["-legacy", "-keypbe", "PBE-SHA1-RC2-128", "-certpbe", "PBE-SHA1-RC2-128"],
    &["-legacy", "-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-RC2-40", "-macalg", "sha1"],
    &["-descert"],
    &["-certpbe", "NONE"],
    &["-keypbe", "NONE", "-certpbe", "NONE"],
    &["-macalg", "sha1"],
    &["-macalg", "sha224"],
    &["-macalg", "sha384"],
    &["-macalg", "sha512"],
    &["-iter", "1"],
    &["-noiter"],
    &["-nomaciter"],
    &["-iter", "100000"],
    &["-nomac"],
    &["-nomac", "-legacy"],
];

#[test]
fn every_openssl_export_variant_opens_and_refuses_a_wrong_passphrase() {
    for (i, extra) in VARIANTS.iter().enumerate() {
        let user = if i % 2 == 0 { "alice" } else { "carol" };
        let label = format!("{user} {}", extra.join(" "));
        let p12 = export(user, "test", extra);
        assert_opens(&p12, b"test", user, &label);
        assert_wrong_passphrase(&p12, b"tset", &label);
    }
}

#[test]
fn unencrypted_file_without_mac_opens_with_any_passphrase() {
    // Nothing in it depends on the passphrase: there is nothing to check it against.
    let p12 = export("alice", "test", &["-keypbe", "NONE", "-certpbe", "NONE", "-nomac"]);
    assert_opens(&p12, b"test", "alice", "no encryption, no MAC");
    assert_opens(&p12, b"anything", "alice", "no encryption, no MAC");
}

#[test]
fn empty_and_non_ascii_passphrases() {
    let p12 = export("alice", "", &[]);
    assert_opens(&p12, b"", "alice", "empty passphrase");
    assert_wrong_passphrase(&p12, b"test", "empty passphrase");
    let p12 = export("alice", "", &["-legacy"]);
    assert_opens(&p12, b"", "alice", "empty passphrase, legacy");

    let pass = "p\u{e4}ss w\u{f6}rd \u{20ac}";
    for extra in [&[][..], &["-legacy"][..]] {
        let p12 = export("carol", pass, extra);
        assert_opens(&p12, pass.as_bytes(), "carol", "non-ASCII passphrase");
        assert_wrong_passphrase(&p12, b"pass word", "non-ASCII passphrase");
    }
}

#[test]
fn a_file_without_key_or_without_certificate_is_refused() {
    let (crt, key, passout) = (path("alice.pem"), path("alice.key"), "pass:test");
    let key_only = openssl_ok(&["pkcs12", "-export", "-nocerts", "-inkey", &key, "-passout", passout], b"");
    assert!(matches!(read_identity(&key_only, b"test"), Err(Error::Key { .. })), "key only");
    // `-nocerts` still writes the `-certfile` certificates: the key has no certificate.
    let key_and_ca = export("alice", "test", &["-nocerts"]);
    assert!(matches!(read_identity(&key_and_ca, b"test"), Err(Error::KeyMismatch)), "key and CA");
    let no_key = openssl_ok(&["pkcs12", "-export", "-nokeys", "-in", &crt, "-passout", passout], b"");
    assert!(matches!(read_identity(&no_key, b"test"), Err(Error::Key { .. })), "certificates only");
    assert_wrong_passphrase(&no_key, b"nope", "certificates only");
}

#[test]
fn a_key_with_only_foreign_certificates_is_a_mismatch() {
    let (crt, key, passout) = (path("bob.pem"), path("alice.key"), "pass:test");
    let out = openssl(&["pkcs12", "-export", "-in", &crt, "-inkey", &key, "-passout", passout], b"");
    if !out.success {
        // OpenSSL refuses to pair them itself; assemble the file from the parts instead.
        let key_der = openssl_ok(&["pkcs8", "-topk8", "-nocrypt", "-outform", "DER", "-in", &key], b"");
        let p12 = assemble(&[key_bag(&key_der), cert_bag(&cert_der("bob.pem"))]);
        assert!(matches!(read_identity(&p12, b"test"), Err(Error::KeyMismatch)));
        return;
    }
    assert!(matches!(read_identity(&out.stdout, b"test"), Err(Error::KeyMismatch)));
}

/// Schemes and PRFs `openssl pkcs12` cannot be asked for but other writers use: the key is
/// encrypted by `openssl pkcs8` and placed in a hand-assembled PFX without a MAC, so the
/// passphrase is checked by decryption alone.
#[test]
fn shrouded_key_schemes_from_openssl_pkcs8() {
    let schemes: &[&[&str]] = &[
        &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA1"],
        &["-v2", "aes-256-cbc", "-v2prf", "hmacWithSHA224"],
        &["-v2", "aes-128-cbc", "-v2prf", "hmacWithSHA384"],
        &["-v2", "aes-192-cbc", "-v2prf", "hmacWithSHA512"],
        &["-v2", "des3"],
        &["-v1", "PBE-SHA1-3DES"],
        &["-v1", "PBE-SHA1-2DES"],
        &["-v1", "PBE-SHA1-RC2-128", "-provider", "legacy", "-provider", "default"],
        &["-v1", "PBE-SHA1-RC2-40", "-provider", "legacy", "-provider", "default"],
    ];
    for scheme in schemes {
        let label = scheme.join(" ");
        let p12 = assemble(&[shrouded_key_bag(&encrypted_key("carol.key", scheme)), cert_bag(&cert_der("carol.pem"))]);
        let id = read_identity(&p12, b"test").unwrap_or_else(|e| panic!("{label}: {e}"));
        assert_eq!(id.certificate, cert("carol.pem"), "{label}");
        assert!(id.chain.is_empty(), "{label}");
        assert_wrong_passphrase(&p12, b"TEST", &label);
    }
}

#[test]
fn unsupported_schemes_are_reported_as_such() {
    for scheme in [
        &["-v2", "aes-256-cbc", "-scrypt"][..],
        &["-v1", "PBE-SHA1-RC4-128", "-provider", "legacy", "-provider", "default"][..],
    ] {
        let p12 = assemble(&[shrouded_key_bag(&encrypted_key("carol.key", scheme)), cert_bag(&cert_der("carol.pem"))]);
        let result = read_identity(&p12, b"test");
        assert!(matches!(result, Err(Error::Unsupported { .. })), "{scheme:?}: {result:?}");
    }
}

#[test]
fn truncated_and_random_input_is_an_error_never_a_panic() {
    for file in ["alice.p12", "alice-legacy.p12"] {
        let p12 = pki_bytes(file);
        for len in 0..p12.len() {
            assert!(read_identity(&p12[..len], b"test").is_err(), "{file} truncated to {len}");
        }
        // One flipped byte anywhere: never a panic; inside the MACed part, always an error.
        let mut ok = 0;
        for i in 0..p12.len() {
            let mut damaged = p12.clone();
            damaged[i] ^= 0x5a;
            ok += usize::from(read_identity(&damaged, b"test").is_ok());
        }
        assert!(ok <= 4, "{file}: {ok} damaged copies were accepted");
    }
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for round in 0..2000 {
        let len = round % 300;
        let bytes: Vec<u8> = (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state.to_be_bytes()[0]
            })
            .collect();
        assert!(read_identity(&bytes, b"test").is_err());
        let mut framed = vec![0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x03];
        framed.extend_from_slice(&bytes);
        assert!(read_identity(&framed, b"test").is_err());
    }
}

/// The files Thunderbird's tests use (comm-central `mailnews/test/data/smime`), written by
/// NSS as BER with indefinite lengths at every level, password "nss". Read-only corpus
/// outside the repository: skipped with a note when absent.
#[test]
fn nss_corpus_files_open() {
    let Some(dir) = nss_corpus() else {
        eprintln!("note: comm-central S/MIME corpus not found; NSS files not tested");
        return;
    };
    if smime_crypto::ber::to_der(&[0x30, 0x80, 0x00, 0x00]).is_err() {
        eprintln!("note: ber::to_der is not implemented in this build; NSS (BER) files not tested");
        return;
    }
    let mut opened = 0;
    for entry in std::fs::read_dir(&dir).expect("corpus directory") {
        let path = entry.expect("entry").path();
        if path.extension().is_none_or(|e| e != "p12") {
            continue;
        }
        let p12 = std::fs::read(&path).expect("read corpus file");
        let id = read_identity(&p12, b"nss").unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(id.key.matches(&id.certificate), "{}", path.display());
        // Alice, Bob, Dave, Eve come with their CA; Fran's files hold one certificate.
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        assert_eq!(id.chain.is_empty(), name.starts_with("Fran"), "{name}: chain");
        assert_wrong_passphrase(&p12, b"NSS", &path.display().to_string());
        opened += 1;
    }
    assert!(opened >= 4, "only {opened} corpus files");
}

fn nss_corpus() -> Option<PathBuf> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    ["../../shared", "../../../shared"]
        .iter()
        .map(|up| root.join(up).join("corpora/comm-central/mailnews/test/data/smime"))
        .find(|p| p.is_dir())
}

// --- A minimal DER writer for assembling PFX files around `openssl pkcs8` output. ---

const OID_DATA: &[u8] = &[0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01];
const OID_KEY_BAG: &[u8] = &[0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x01];
const OID_SHROUDED_KEY_BAG: &[u8] = &[0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x02];
const OID_CERT_BAG: &[u8] = &[0x06, 0x0b, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x0c, 0x0a, 0x01, 0x03];
const OID_X509_CERT: &[u8] = &[0x06, 0x0a, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x16, 0x01];

fn seq(parts: &[&[u8]]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

/// PFX { 3, data { AuthenticatedSafe { data { SafeContents(bags) } } } } without MacData.
fn assemble(bags: &[Vec<u8>]) -> Vec<u8> {
    let safe_contents = tlv(0x30, &bags.concat());
    let inner = seq(&[OID_DATA, &tlv(0xa0, &tlv(0x04, &safe_contents))]);
    let auth_safe = seq(&[&inner]);
    seq(&[&[0x02, 0x01, 0x03], &seq(&[OID_DATA, &tlv(0xa0, &tlv(0x04, &auth_safe))])])
}

fn key_bag(pkcs8: &[u8]) -> Vec<u8> {
    seq(&[OID_KEY_BAG, &tlv(0xa0, pkcs8)])
}

fn shrouded_key_bag(encrypted: &[u8]) -> Vec<u8> {
    seq(&[OID_SHROUDED_KEY_BAG, &tlv(0xa0, encrypted)])
}

fn cert_bag(cert: &[u8]) -> Vec<u8> {
    seq(&[OID_CERT_BAG, &tlv(0xa0, &seq(&[OID_X509_CERT, &tlv(0xa0, &tlv(0x04, cert))]))])
}

fn cert_der(name: &str) -> Vec<u8> {
    openssl_ok(&["x509", "-outform", "DER", "-in", &path(name)], b"")
}

/// `name` as a DER EncryptedPrivateKeyInfo under `scheme`, passphrase "test".
fn encrypted_key(name: &str, scheme: &[&str]) -> Vec<u8> {
    let key = path(name);
    let mut args = vec!["pkcs8", "-topk8", "-outform", "DER", "-passout", "pass:test", "-in", &key];
    args.extend_from_slice(scheme);
    openssl_ok(&args, b"")
}
