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

/// A signing time with whole seconds (UTCTime has no fractions): the start of the
/// current second, after the test PKI's certificates were issued.
fn signing_time() -> SystemTime {
    let _ = smime_proxy_tests::pki();
    let now = SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap().as_secs();
    SystemTime::UNIX_EPOCH + Duration::from_secs(now)
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

/// `openssl cms -sign -binary -outform DER` over `data` with extra arguments.
fn openssl_sign(data: &[u8], signers: &[&str], extra: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("data.bin");
    std::fs::write(&input, data).unwrap();
    let mut args: Vec<String> =
        ["cms", "-sign", "-binary", "-outform", "DER", "-in", p(&input)].iter().map(|s| s.to_string()).collect();
    for name in signers {
        args.extend(["-signer".into(), p(&pki_file(&format!("{name}.pem"))).into()]);
        args.extend(["-inkey".into(), p(&pki_file(&format!("{name}.key"))).into()]);
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    openssl_ok(&args, b"")
}

fn single_status(verified: &Verified) -> &SignatureStatus {
    assert_eq!(verified.signers.len(), 1);
    &verified.signers[0].status
}

fn assert_invalid(verified: &Verified, needle: &str) {
    match single_status(verified) {
        SignatureStatus::Invalid(reason) => assert!(reason.contains(needle), "reason {reason:?} lacks {needle:?}"),
        SignatureStatus::Valid => panic!("expected invalid ({needle}), got valid"),
    }
}

#[test]
fn openssl_signatures_verify_here() {
    let cases: &[(&str, &[&str], &str, &str)] = &[
        ("alice", &[], "SHA-256", "RSA PKCS#1 v1.5"),
        ("alice", &["-md", "sha384"], "SHA-384", "RSA PKCS#1 v1.5"),
        ("alice", &["-md", "sha512"], "SHA-512", "RSA PKCS#1 v1.5"),
        ("alice", &["-keyopt", "rsa_padding_mode:pss"], "SHA-256", "RSA-PSS"),
        ("alice", &["-md", "sha512", "-keyopt", "rsa_padding_mode:pss"], "SHA-512", "RSA-PSS"),
        ("alice", &["-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:digest"], "SHA-256", "RSA-PSS"),
        ("alice", &["-noattr"], "SHA-256", "RSA PKCS#1 v1.5"),
        ("alice", &["-keyid"], "SHA-256", "RSA PKCS#1 v1.5"),
        ("alice", &["-certfile", "CA"], "SHA-256", "RSA PKCS#1 v1.5"),
        ("carol", &[], "SHA-256", "ECDSA P-256"),
        ("carol", &["-md", "sha384"], "SHA-384", "ECDSA P-256"),
        ("carol", &["-md", "sha512", "-noattr"], "SHA-512", "ECDSA P-256"),
        ("dave", &[], "SHA-256", "ECDSA P-384"),
        ("dave", &["-md", "sha384"], "SHA-384", "ECDSA P-384"),
        ("erin", &[], "SHA-256", "RSA PKCS#1 v1.5"),
    ];
    let ca = pki_file("ca.pem");
    for &(name, extra, digest, algorithm) in cases {
        let extra: Vec<&str> = extra.iter().map(|a| if *a == "CA" { p(&ca) } else { a }).collect();
        for detached in [true, false] {
            let mut args = extra.clone();
            if !detached {
                args.push("-nodetach");
            }
            let der = openssl_sign(&content(), &[name], &args);
            let verified = verify_signed_data(&der, detached.then_some(&content()[..]), &verify_options()).unwrap();
            let what = format!("{name} {extra:?} detached={detached}");
            assert_eq!(single_status(&verified), &SignatureStatus::Valid, "{what}");
            assert_eq!(verified.content, content(), "{what}");
            let report = &verified.signers[0];
            assert_eq!(report.digest, digest, "{what}");
            assert_eq!(report.algorithm, algorithm, "{what}");
            assert_eq!(report.addresses, vec![format!("{name}@example.test")], "{what}");
            assert!(report.subject.contains(&format!("CN={}", capitalise(name))), "{what}: {}", report.subject);
            assert!(report.chain.as_ref().is_some_and(|c| c.anchor.contains("smime-proxy Test CA")), "{what}");
            if extra.contains(&"-noattr") {
                assert_eq!(report.signing_time, None, "{what}");
            } else {
                let time = report.signing_time.expect("signing time");
                let age = SystemTime::now().duration_since(time).unwrap_or_default();
                assert!(age < Duration::from_secs(600), "{what}: signing time {time:?}");
            }
        }
    }
}

fn capitalise(name: &str) -> String {
    let mut chars = name.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

#[test]
fn our_signatures_verify_here_with_every_algorithm() {
    for &(name, digest, rsa_padding) in CASES {
        for detached in [true, false] {
            let time = signing_time();
            let options = SignOptions { digest, rsa_padding, signing_time: time, include_chain: true };
            let der = sign_data(&content(), &identity(name), &options, detached).unwrap();
            let verified = verify_signed_data(&der, detached.then_some(&content()[..]), &verify_options()).unwrap();
            assert_eq!(single_status(&verified), &SignatureStatus::Valid, "{name} {digest:?} {rsa_padding:?}");
            assert_eq!(verified.signers[0].signing_time, Some(time));
            assert_eq!(verified.certificates.len(), 2, "signer and CA certificates");
        }
    }
}

#[test]
fn tampered_content_is_reported_as_changed() {
    let der = openssl_sign(&content(), &["alice"], &[]);
    let mut changed = content();
    changed[10] ^= 1;
    assert_invalid(&verify_signed_data(&der, Some(&changed), &verify_options()).unwrap(), "message digest mismatch");
    // Without signed attributes the signature itself covers the content.
    let der = openssl_sign(&content(), &["alice"], &["-noattr"]);
    assert_invalid(&verify_signed_data(&der, Some(&changed), &verify_options()).unwrap(), "signature is not valid");
}

#[test]
fn flipped_signature_bytes_are_invalid() {
    for name in ["alice", "carol", "dave"] {
        let der = sign_data(&content(), &identity(name), &SignOptions::default(), true).unwrap();
        // The signature value is the last OCTET STRING in the (single) SignerInfo: flip a
        // byte near the end of the whole structure.
        let mut bad = der.clone();
        let at = bad.len() - 5;
        bad[at] ^= 0x40;
        let verified = verify_signed_data(&bad, Some(&content()), &verify_options()).unwrap();
        assert_invalid(&verified, "signature is not valid");
    }
}

#[test]
fn certificate_problems_make_the_signature_invalid() {
    let cases = [
        ("trent", "not for e-mail protection"),
        ("mallory", "the signer's certificate is not trusted"),
        ("kuenc", "key usage does not allow signing"),
    ];
    for (name, needle) in cases {
        let der = openssl_sign(&content(), &[name], &["-nodetach"]);
        let verified = verify_signed_data(&der, None, &verify_options()).unwrap();
        assert_invalid(&verified, needle);
        assert_eq!(verified.signers[0].addresses, vec![format!("{name}@example.test")]);
    }
}

#[test]
fn revocation_needs_the_crl() {
    let der = openssl_sign(&content(), &["rita"], &[]);
    let verified = verify_signed_data(&der, Some(&content()), &verify_options()).unwrap();
    assert_eq!(single_status(&verified), &SignatureStatus::Valid);
    assert_eq!(verified.signers[0].chain.as_ref().map(|c| c.revocation_checked), Some(false));
    let mut options = verify_options();
    options.trust.crls = vec![pki_bytes("crl.pem")];
    let verified = verify_signed_data(&der, Some(&content()), &options).unwrap();
    assert_invalid(&verified, "the signer's certificate has been revoked");
    // alice is covered by the same CRL and not revoked.
    let der = openssl_sign(&content(), &["alice"], &[]);
    let verified = verify_signed_data(&der, Some(&content()), &options).unwrap();
    assert_eq!(single_status(&verified), &SignatureStatus::Valid);
    assert_eq!(verified.signers[0].chain.as_ref().map(|c| c.revocation_checked), Some(true));
}

#[test]
fn sha1_is_refused_unless_allowed() {
    for name in ["alice", "carol"] {
        let der = openssl_sign(&content(), &[name], &["-md", "sha1"]);
        let verified = verify_signed_data(&der, Some(&content()), &verify_options()).unwrap();
        assert_eq!(single_status(&verified), &SignatureStatus::Invalid("SHA-1 signatures are not accepted".into()));
        let options = VerifyOptions { allow_sha1: true, ..verify_options() };
        let verified = verify_signed_data(&der, Some(&content()), &options).unwrap();
        assert_eq!(single_status(&verified), &SignatureStatus::Valid, "{name}");
        assert_eq!(verified.signers[0].digest, "SHA-1");
    }
}

#[test]
fn two_signers_give_two_reports_in_order() {
    let der = openssl_sign(&content(), &["alice", "carol"], &[]);
    let verified = verify_signed_data(&der, Some(&content()), &verify_options()).unwrap();
    assert_eq!(verified.signers.len(), 2);
    for report in &verified.signers {
        assert_eq!(report.status, SignatureStatus::Valid);
    }
    let addresses: Vec<&str> = verified.signers.iter().map(|r| r.addresses[0].as_str()).collect();
    let expected = if addresses[0].starts_with("alice") {
        ["alice@example.test", "carol@example.test"]
    } else {
        ["carol@example.test", "alice@example.test"]
    };
    assert_eq!(addresses, expected);
    // One good and one untrusted signer: reported separately.
    let der = openssl_sign(&content(), &["mallory", "alice"], &[]);
    let verified = verify_signed_data(&der, Some(&content()), &verify_options()).unwrap();
    let valid = verified.signers.iter().filter(|r| r.status == SignatureStatus::Valid).count();
    assert_eq!((verified.signers.len(), valid), (2, 1));
}

#[test]
fn validation_time_before_the_certificates_is_invalid() {
    let der = openssl_sign(&content(), &["alice"], &[]);
    let options = VerifyOptions { at: Some(SystemTime::now() - Duration::from_secs(3 * 86_400)), ..verify_options() };
    let verified = verify_signed_data(&der, Some(&content()), &options).unwrap();
    assert_invalid(&verified, "not valid at that time");
    // A signing time outside the certificate's validity, validated at a good time.
    let early =
        SignOptions { signing_time: SystemTime::now() - Duration::from_secs(3 * 86_400), ..SignOptions::default() };
    let der = sign_data(&content(), &identity("alice"), &early, true).unwrap();
    assert_invalid(&verify_signed_data(&der, Some(&content()), &verify_options()).unwrap(), "signing time");
}

#[test]
fn differing_encapsulated_and_detached_content_is_invalid() {
    // CVE-2018-18509: an opaque signature presented next to other content.
    let der = openssl_sign(&content(), &["alice"], &["-nodetach"]);
    let verified = verify_signed_data(&der, Some(b"something else"), &verify_options()).unwrap();
    assert_invalid(&verified, "content substitution");
    let verified = verify_signed_data(&der, Some(&content()), &verify_options()).unwrap();
    assert_eq!(single_status(&verified), &SignatureStatus::Valid);
}

#[test]
fn missing_content_and_non_signed_data_are_errors() {
    let der = openssl_sign(&content(), &["alice"], &[]);
    assert!(verify_signed_data(&der, None, &verify_options()).is_err());
    let enveloped =
        openssl_ok(&["cms", "-encrypt", "-binary", "-outform", "DER", p(&pki_file("alice.pem"))], b"secret");
    assert!(verify_signed_data(&enveloped, None, &verify_options()).is_err());
}

#[test]
fn untrusted_by_default_without_anchors() {
    let der = openssl_sign(&content(), &["alice"], &[]);
    let verified = verify_signed_data(&der, Some(&content()), &VerifyOptions::default()).unwrap();
    assert_invalid(&verified, "not trusted");
    assert!(verified.signers[0].certificate.is_some());
}

#[test]
fn signer_certificate_can_come_from_the_trust_store() {
    let der = openssl_sign(&content(), &["alice"], &["-nocerts"]);
    let verified = verify_signed_data(&der, Some(&content()), &verify_options()).unwrap();
    assert_invalid(&verified, "certificate is not included");
    let mut options = verify_options();
    options.trust.intermediates.push(cert("alice"));
    let verified = verify_signed_data(&der, Some(&content()), &options).unwrap();
    assert_eq!(single_status(&verified), &SignatureStatus::Valid);
}

#[test]
fn truncated_and_random_input_is_an_error_never_a_panic() {
    let small = b"x".to_vec();
    let ours =
        sign_data(&small, &identity("carol"), &SignOptions { include_chain: false, ..SignOptions::default() }, false)
            .unwrap();
    let theirs = openssl_sign(&small, &["carol"], &["-nodetach", "-nocerts"]);
    for der in [&ours, &theirs] {
        assert!(verify_signed_data(der, None, &verify_options()).is_ok());
        for len in 0..der.len() {
            assert!(verify_signed_data(&der[..len], None, &verify_options()).is_err(), "length {len}");
            let _ = verify_signed_data(&der[..len], Some(&small), &verify_options());
        }
        // Every single-byte corruption: any verdict or error, but no panic, and never a
        // valid signature unless the byte was irrelevant to it.
        for at in 0..der.len() {
            let mut bad = der.to_vec();
            bad[at] ^= 0xff;
            let _ = verify_signed_data(&bad, None, &verify_options());
        }
    }
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    for round in 0..300 {
        let len = (round * 7) % 600;
        let mut buffer = Vec::with_capacity(len);
        for _ in 0..len {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            buffer.push(state as u8);
        }
        if round % 3 == 0 && !buffer.is_empty() {
            buffer[0] = 0x30; // make it look like a SEQUENCE
        }
        assert!(verify_signed_data(&buffer, None, &verify_options()).is_err());
    }
}

/// Issues a throwaway end-entity certificate from the test CA for a key made with
/// `genpkey_args`; returns (certificate path, key path) inside `dir`.
fn issue(dir: &Path, name: &str, genpkey_args: &[&str]) -> (std::path::PathBuf, std::path::PathBuf) {
    let key = dir.join(format!("{name}.key"));
    let csr = dir.join(format!("{name}.csr"));
    let crt = dir.join(format!("{name}.pem"));
    let ext = dir.join("ext.cnf");
    std::fs::write(
        &ext,
        "[e]\nbasicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature\n\
         extendedKeyUsage = emailProtection\nsubjectAltName = email:copy\n",
    )
    .unwrap();
    let mut args = vec!["genpkey", "-out", p(&key)];
    args.extend(genpkey_args);
    openssl_ok(&args, b"");
    let subject = format!("/CN={name}/emailAddress={name}@example.test");
    openssl_ok(&["req", "-new", "-key", p(&key), "-subj", &subject, "-out", p(&csr)], b"");
    let (ca, ca_key) = (pki_file("ca.pem"), pki_file("ca.key"));
    openssl_ok(
        &[
            "x509",
            "-req",
            "-in",
            p(&csr),
            "-CA",
            p(&ca),
            "-CAkey",
            p(&ca_key),
            "-CAcreateserial",
            "-days",
            "2",
            "-extfile",
            p(&ext),
            "-extensions",
            "e",
            "-out",
            p(&crt),
        ],
        b"",
    );
    (crt, key)
}

/// A DER TLV with a short- or long-form length.
fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = body.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|&b| b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(body);
    out
}

fn oid(dotted_der_hex: &str) -> Vec<u8> {
    tlv(0x06, &hex(dotted_der_hex))
}

fn hex(text: &str) -> Vec<u8> {
    let text: String = text.chars().filter(char::is_ascii_hexdigit).collect();
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn ed25519_signatures_verify_here() {
    // OpenSSL 3.0's `cms -sign` cannot sign with Ed25519 ("no default digest"), so the
    // SignedData is assembled here by hand (RFC 8419: digestAlgorithm SHA-512, PureEdDSA
    // over the DER signed attributes, sid = subjectKeyIdentifier) and only the signature
    // comes from `openssl pkeyutl -sign -rawin`.
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = issue(dir.path(), "edward", &["-algorithm", "ED25519"]);
    let cert_der = openssl_ok(&["x509", "-in", p(&crt), "-outform", "DER"], b"");
    let ski_text =
        String::from_utf8(openssl_ok(&["x509", "-in", p(&crt), "-noout", "-ext", "subjectKeyIdentifier"], b""))
            .unwrap();
    let ski = hex(ski_text.lines().last().unwrap());
    assert!(ski.len() >= 20, "{ski_text}");

    let id_data = oid("2a864886f70d010701");
    let digest = openssl_ok(&["dgst", "-sha512", "-binary"], &content());
    let content_type = tlv(0x30, &[oid("2a864886f70d010903"), tlv(0x31, &id_data)].concat());
    let message_digest = tlv(0x30, &[oid("2a864886f70d010904"), tlv(0x31, &tlv(0x04, &digest))].concat());
    // The second order is not DER's sorted order: what was signed must be verified as
    // it is on the wire, not as the `der` crate would re-encode it after sorting the SET.
    for attrs in [
        tlv(0x31, &[content_type.clone(), message_digest.clone()].concat()),
        tlv(0x31, &[message_digest.clone(), content_type.clone()].concat()),
    ] {
        ed25519_case(dir.path(), &key, &cert_der, &ski, &attrs);
    }
}

fn ed25519_case(dir: &Path, key: &Path, cert_der: &[u8], ski: &[u8], attrs: &[u8]) {
    let id_data = oid("2a864886f70d010701");
    let sha512 = tlv(0x30, &oid("608648016503040203"));
    let attrs_file = dir.join("attrs.der");
    std::fs::write(&attrs_file, attrs).unwrap();
    let signature = openssl_ok(&["pkeyutl", "-sign", "-rawin", "-inkey", p(key), "-in", p(&attrs_file)], b"");
    assert_eq!(signature.len(), 64);

    let build = |signature: &[u8]| {
        let mut implicit_attrs = attrs.to_vec();
        implicit_attrs[0] = 0xA0;
        let signer_info = tlv(
            0x30,
            &[
                tlv(0x02, &[3]),
                tlv(0x80, ski),
                sha512.clone(),
                implicit_attrs,
                tlv(0x30, &oid("2b6570")),
                tlv(0x04, signature),
            ]
            .concat(),
        );
        let signed_data = tlv(
            0x30,
            &[tlv(0x02, &[3]), tlv(0x31, &sha512), tlv(0x30, &id_data), tlv(0xA0, cert_der), tlv(0x31, &signer_info)]
                .concat(),
        );
        tlv(0x30, &[oid("2a864886f70d010702"), tlv(0xA0, &signed_data)].concat())
    };
    let der = build(&signature);
    // (OpenSSL 3.0 cannot verify Ed25519 CMS either: "eddsa_digest_signverify_init:
    // invalid digest", so there is no CLI cross-check of the assembled structure.)
    let verified = verify_signed_data(&der, Some(&content()), &verify_options()).unwrap();
    assert_eq!(single_status(&verified), &SignatureStatus::Valid);
    assert_eq!(verified.signers[0].algorithm, "Ed25519");
    assert_eq!(verified.signers[0].digest, "SHA-512");
    assert_eq!(verified.signers[0].addresses, vec!["edward@example.test".to_string()]);

    let mut changed = content();
    changed[0] ^= 1;
    let verified = verify_signed_data(&der, Some(&changed), &verify_options()).unwrap();
    assert_invalid(&verified, "message digest mismatch");
    let mut bad_signature = signature.clone();
    bad_signature[5] ^= 1;
    let verified = verify_signed_data(&build(&bad_signature), Some(&content()), &verify_options()).unwrap();
    assert_invalid(&verified, "signature is not valid");
}

#[test]
fn openssl_pss_with_a_salt_longer_than_255_bytes_verifies() {
    // OpenSSL signs PSS with the maximum salt: 350 bytes for RSA-3072 with SHA-256, more
    // than `pkcs1::RsaPssParams` (u8 salt length) can even decode.
    let dir = tempfile::tempdir().unwrap();
    let (crt, key) = issue(dir.path(), "paula", &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:3072"]);
    let data = dir.path().join("data.bin");
    std::fs::write(&data, content()).unwrap();
    let der = openssl_ok(
        &[
            "cms",
            "-sign",
            "-binary",
            "-outform",
            "DER",
            "-in",
            p(&data),
            "-signer",
            p(&crt),
            "-inkey",
            p(&key),
            "-keyopt",
            "rsa_padding_mode:pss",
        ],
        b"",
    );
    let printed = openssl_ok(&["cms", "-cmsout", "-print", "-inform", "DER"], &der);
    // cont [2] INTEGER :015E = saltLength 350
    assert!(String::from_utf8_lossy(&printed).contains("INTEGER           :015E"), "salt 350 expected");
    let verified = verify_signed_data(&der, Some(&content()), &verify_options()).unwrap();
    assert_eq!(single_status(&verified), &SignatureStatus::Valid);
    assert_eq!(verified.signers[0].algorithm, "RSA-PSS");
}

#[test]
fn page_records_carry_their_url_and_time_signed() {
    use smime_crypto::page_record::{PageRecord, read_page_record, sign_page};
    let record = PageRecord { url: "https://bank.example/statement?m=11&y=2026".into(), received: signing_time() };
    for signer in ["alice", "dave"] {
        let der = sign_page(&content(), &record, &identity(signer), &SignOptions::default()).unwrap();
        assert_eq!(read_page_record(&der).unwrap(), record, "{signer}");
        let verified = verify_signed_data(&der, None, &verify_options()).unwrap();
        assert_eq!(verified.content, content());
        assert_eq!(verified.signers[0].status, SignatureStatus::Valid, "{signer}");
    }
    // An ordinary signature is no page record; two signers are not one.
    let plain = sign_data(&content(), &identity("alice"), &SignOptions::default(), false).unwrap();
    let err = read_page_record(&plain).unwrap_err().to_string();
    assert!(err.contains("no URL (labeledURI) attribute"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("content.bin");
    std::fs::write(&input, content()).unwrap();
    let (alice, carol) = (pki_file("alice.pem"), pki_file("carol.pem"));
    let (alice_key, carol_key) = (pki_file("alice.key"), pki_file("carol.key"));
    let two = openssl_ok(
        &["cms", "-sign", "-binary", "-nodetach", "-outform", "DER", "-in", p(&input)]
            .into_iter()
            .chain(["-signer", p(&alice), "-inkey", p(&alice_key), "-signer", p(&carol), "-inkey", p(&carol_key)])
            .collect::<Vec<_>>(),
        b"",
    );
    let err = read_page_record(&two).unwrap_err().to_string();
    assert!(err.contains("not exactly one signer"), "{err}");
}
