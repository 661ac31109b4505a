//! Certificate policy (RFC 8550) against the test PKI: trust, EKU, key usage, validity,
//! revocation by CRL, and the e-mail addresses a certificate carries.
#![allow(clippy::unwrap_used)]

use smime_crypto::{
    Certificate, CertificateProblem, Purpose, TrustOptions, email_addresses, load_certificates, validate_certificate,
};
use smime_proxy_tests::{openssl_ok, pki_bytes, pki_file};
use std::time::{Duration, SystemTime};

fn cert(name: &str) -> Certificate {
    load_certificates(&pki_bytes(&format!("{name}.pem"))).unwrap().remove(0)
}

fn trust() -> TrustOptions {
    TrustOptions { anchors: vec![cert("ca")], ..TrustOptions::default() }
}

fn crl_der() -> Vec<u8> {
    openssl_ok(&["crl", "-in", pki_file("crl.pem").to_str().unwrap(), "-outform", "DER"], b"")
}

fn check(name: &str, purpose: Purpose, trust: &TrustOptions) -> Result<bool, CertificateProblem> {
    validate_certificate(&cert(name), &[], purpose, trust, SystemTime::now()).map(|chain| {
        assert_eq!(chain.anchor, cert("ca").tbs_certificate().subject().to_string());
        chain.revocation_checked
    })
}

#[test]
fn good_users_validate_for_both_purposes() {
    for name in ["alice", "bob", "carol", "dave", "rita"] {
        for purpose in [Purpose::Signing, Purpose::Encryption] {
            assert_eq!(check(name, purpose, &trust()), Ok(false), "{name} {purpose:?}");
        }
    }
}

#[test]
fn a_certificate_without_eku_is_for_any_purpose() {
    // RFC 8550 §4.4.4: no extendedKeyUsage extension means no restriction.
    assert_eq!(check("erin", Purpose::Signing, &trust()), Ok(false));
    assert_eq!(check("erin", Purpose::Encryption, &trust()), Ok(false));
}

#[test]
fn wrong_eku_untrusted_and_key_usage_are_refused() {
    for purpose in [Purpose::Signing, Purpose::Encryption] {
        assert_eq!(check("trent", purpose, &trust()), Err(CertificateProblem::WrongExtendedKeyUsage));
        assert!(matches!(check("mallory", purpose, &trust()), Err(CertificateProblem::Untrusted(_))));
    }
    // keyEncipherment only: fine for encryption, not for signing.
    assert_eq!(check("kuenc", Purpose::Encryption, &trust()), Ok(false));
    assert!(matches!(check("kuenc", Purpose::Signing, &trust()), Err(CertificateProblem::KeyUsage(_))));
    // Trusting the other CA makes mallory fine.
    let other = TrustOptions { anchors: vec![cert("other-ca")], ..TrustOptions::default() };
    assert!(validate_certificate(&cert("mallory"), &[], Purpose::Signing, &other, SystemTime::now()).is_ok());
    // No anchors at all: nothing is trusted.
    assert!(matches!(
        check("alice", Purpose::Signing, &TrustOptions::default()),
        Err(CertificateProblem::Untrusted(_))
    ));
}

#[test]
fn crl_revokes_rita_and_covers_the_others() {
    for crls in [vec![crl_der()], vec![pki_bytes("crl.pem")]] {
        let with_crl = TrustOptions { crls, ..trust() };
        assert_eq!(check("rita", Purpose::Signing, &with_crl), Err(CertificateProblem::Revoked));
        assert_eq!(check("rita", Purpose::Encryption, &with_crl), Err(CertificateProblem::Revoked));
        assert_eq!(check("alice", Purpose::Signing, &with_crl), Ok(true));
        // A CRL from another issuer does not cover mallory's issuer: status unknown, allowed.
        let other = TrustOptions { anchors: vec![cert("other-ca")], ..with_crl.clone() };
        assert_eq!(
            validate_certificate(&cert("mallory"), &[], Purpose::Signing, &other, SystemTime::now()),
            Ok(smime_crypto::ValidatedChain {
                anchor: cert("other-ca").tbs_certificate().subject().to_string(),
                revocation_checked: false,
                issuer: cert("other-ca"),
            })
        );
    }
    assert!(matches!(
        check("alice", Purpose::Signing, &TrustOptions { crls: vec![b"garbage".to_vec()], ..trust() }),
        Err(CertificateProblem::Malformed(_))
    ));
    // A PEM CRL that cannot be read is refused too, never silently ignored.
    for pem in [&b"-----BEGIN X509 CRL-----\nAAAA!\n-----END X509 CRL-----\n"[..], b"-----BEGIN CERTIFICATE-----\n"] {
        let broken = TrustOptions { crls: vec![pem.to_vec()], ..trust() };
        assert!(matches!(check("rita", Purpose::Signing, &broken), Err(CertificateProblem::Malformed(_))));
    }
}

#[test]
fn validity_is_checked_at_the_given_time() {
    let past = SystemTime::now() - Duration::from_secs(2 * 86_400);
    let problem = validate_certificate(&cert("alice"), &[], Purpose::Signing, &trust(), past).unwrap_err();
    assert!(matches!(&problem, CertificateProblem::Expired(text) if text.contains("not yet valid")), "{problem}");
    let future = SystemTime::now() + Duration::from_secs(3651 * 86_400);
    let problem = validate_certificate(&cert("alice"), &[], Purpose::Signing, &trust(), future).unwrap_err();
    assert!(matches!(&problem, CertificateProblem::Expired(text) if text.contains("expired")), "{problem}");
}

#[test]
fn email_addresses_come_from_san_and_subject_without_duplicates() {
    for name in ["alice", "bob", "carol", "dave", "erin", "mallory", "trent", "rita", "kuenc"] {
        // SAN email:copy and the subject emailAddress hold the same address: listed once.
        assert_eq!(email_addresses(&cert(name)), vec![format!("{name}@example.test")], "{name}");
    }
    assert!(email_addresses(&cert("ca")).is_empty());
}

#[test]
fn email_addresses_read_smtputf8_mailbox_and_lowercase_the_domain() {
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k.pem");
    let crt = dir.path().join("c.pem");
    let config = dir.path().join("zoe.cnf");
    std::fs::write(
        &config,
        "[req]\ndistinguished_name = dn\nx509_extensions = ext\nprompt = no\n\
         [dn]\nCN = Zoe\nemailAddress = Zoe@example.TEST\n[ext]\nsubjectAltName = @alt\n[alt]\n\
         email.1 = Zoe@EXAMPLE.Test\notherName.1 = 1.3.6.1.5.5.7.8.9;FORMAT:UTF8,UTF8:j\u{f6}rg@B\u{fc}cher.example\n\
         email.2 = zoe@example.test\nDNS.1 = not-an-address.example\n",
    )
    .unwrap();
    openssl_ok(
        &[
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-keyout",
            key.to_str().unwrap(),
            "-out",
            crt.to_str().unwrap(),
            "-days",
            "1",
            "-config",
            config.to_str().unwrap(),
        ],
        b"",
    );
    let zoe = load_certificates(&std::fs::read(&crt).unwrap()).unwrap().remove(0);
    assert_eq!(email_addresses(&zoe), vec!["Zoe@example.test", "zoe@example.test", "j\u{f6}rg@b\u{fc}cher.example"]);
}
