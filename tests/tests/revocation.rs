//! OCSP and CRL verdicts of the engine against OpenSSL as the responder and CRL issuer:
//! our request answered by `openssl ocsp`, each response judged by `check_ocsp_response`,
//! and the hostile shapes (wrong signer, tampered, replayed, stale, garbage) refused with
//! a reason, never "good".

use std::time::{Duration, SystemTime};

use smime_crypto::{
    Certificate, CrlError, OcspError, OcspQuery, Revocation, RevocationPointers, check_crl, check_ocsp_response,
    load_certificates, ocsp_request,
};
use smime_proxy_tests::der_tlv as tlv;
use smime_proxy_tests::{openssl, openssl_ok, pki_bytes, pki_file};

fn cert(name: &str) -> Certificate {
    load_certificates(&pki_bytes(&format!("{name}.pem"))).expect("test certificate").remove(0)
}

fn path(name: &str) -> String {
    pki_file(name).to_string_lossy().into_owned()
}

/// `openssl ocsp` as the responder: answers `request` from the test CA's database,
/// signed by `signer` (a name in the test PKI), valid for `minutes`.
fn respond(request: &[u8], signer: &str, minutes: u32, extra: &[&str]) -> Vec<u8> {
    let dir = tempfile::tempdir().expect("temp dir");
    let req = dir.path().join("req.der");
    let resp = dir.path().join("resp.der");
    std::fs::write(&req, request).expect("write request");
    let (req, resp) = (req.to_string_lossy().into_owned(), resp.to_string_lossy().into_owned());
    let (key, minutes) = (signer.replace(".pem", ".key"), minutes.to_string());
    let mut args = vec!["ocsp", "-index", "ca-db/index.txt", "-CA", "ca.pem", "-rsigner", signer, "-rkey", &key];
    args.extend_from_slice(&["-reqin", &req, "-respout", &resp, "-nmin", &minutes]);
    args.extend_from_slice(extra);
    let out = smime_proxy_tests::run(
        std::process::Command::new("openssl").args(&args).current_dir(smime_proxy_tests::pki()),
        b"",
    );
    assert!(out.success, "openssl ocsp: {}", out.stderr);
    std::fs::read(&resp).expect("response")
}

fn query<'a>(certificate: &'a Certificate, issuer: &'a Certificate, nonce: Option<&'a [u8]>) -> OcspQuery<'a> {
    OcspQuery { certificate, issuer, nonce }
}

const NONCE: [u8; 32] = [7; 32];

#[test]
fn openssl_reads_our_request_and_its_answers_are_judged() {
    let ca = cert("ca");
    for (name, expected) in [("alice", "good"), ("rita", "revoked"), ("erin", "unknown")] {
        let subject = cert(name);
        let request = ocsp_request(&subject, &ca, Some(&NONCE)).expect("request");
        let text =
            String::from_utf8_lossy(&openssl_ok(&["ocsp", "-reqin", "/dev/stdin", "-req_text"], &request)).into_owned();
        assert!(text.contains("OCSP Nonce"), "openssl reads the nonce: {text}");
        let response = respond(&request, "ca.pem", 60, &[]);
        let answer = check_ocsp_response(&response, &query(&subject, &ca, Some(&NONCE)), SystemTime::now())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        match (expected, &answer.status) {
            ("good", Revocation::Good) | ("unknown", Revocation::Unknown) => {}
            ("revoked", Revocation::Revoked { reason, .. }) => {
                assert_eq!(reason.as_deref(), Some("keyCompromise"));
            }
            other => panic!("{name}: {other:?}"),
        }
        assert!(!answer.delegated);
        let next = answer.next_update.expect("-nmin sets nextUpdate");
        assert!(next > SystemTime::now() + Duration::from_secs(50 * 60));
    }
}

#[test]
fn a_delegated_responder_must_be_authorised_by_the_ca() {
    let (ca, alice) = (cert("ca"), cert("alice"));
    let request = ocsp_request(&alice, &ca, Some(&NONCE)).expect("request");
    let q = query(&alice, &ca, Some(&NONCE));

    let delegated = respond(&request, "ocsp.pem", 60, &[]);
    let answer = check_ocsp_response(&delegated, &q, SystemTime::now()).expect("delegated responder");
    assert!(answer.delegated);
    assert_eq!(answer.status, Revocation::Good);

    // Issued by the CA, but without id-kp-OCSPSigning.
    let bob = respond(&request, "bob.pem", 60, &[]);
    assert!(matches!(check_ocsp_response(&bob, &q, SystemTime::now()), Err(OcspError::UnauthorisedResponder(_))));
    // From another CA altogether.
    let mallory = respond(&request, "mallory.pem", 60, &[]);
    assert!(matches!(check_ocsp_response(&mallory, &q, SystemTime::now()), Err(OcspError::UnauthorisedResponder(_))));
    // The delegated responder's certificate left out: nobody to check the signature with.
    let bare = respond(&request, "ocsp.pem", 60, &["-resp_no_certs"]);
    assert_eq!(check_ocsp_response(&bare, &q, SystemTime::now()), Err(OcspError::UnknownSigner));
    // Signed by key id instead of name.
    let by_key = respond(&request, "ca.pem", 60, &["-resp_key_id"]);
    assert_eq!(check_ocsp_response(&by_key, &q, SystemTime::now()).map(|a| a.status), Ok(Revocation::Good));
}

#[test]
fn tampered_replayed_stale_and_foreign_responses_are_refused() {
    let (ca, alice, bob) = (cert("ca"), cert("alice"), cert("bob"));
    let request = ocsp_request(&alice, &ca, Some(&NONCE)).expect("request");
    let response = respond(&request, "ca.pem", 60, &[]);
    let now = SystemTime::now();

    // Every single-bit change in the signed part is a bad signature or unreadable.
    let tbs_start = response.windows(2).position(|w| w == [0x18, 0x0f]).expect("a GeneralizedTime");
    for offset in [tbs_start + 3, tbs_start + 10] {
        let mut tampered = response.clone();
        tampered[offset] ^= 0x01;
        let verdict = check_ocsp_response(&tampered, &query(&alice, &ca, Some(&NONCE)), now);
        assert!(
            matches!(verdict, Err(OcspError::BadSignature | OcspError::Malformed(_))),
            "tampered at {offset}: {verdict:?}"
        );
    }
    // Replayed: the answer to another request's nonce.
    let other_nonce = [9u8; 32];
    assert_eq!(
        check_ocsp_response(&response, &query(&alice, &ca, Some(&other_nonce)), now),
        Err(OcspError::NonceMismatch)
    );
    // A cached answer (no nonce to compare) is judged on time alone.
    assert!(check_ocsp_response(&response, &query(&alice, &ca, None), now).is_ok());
    // A responder that sends no nonce: accepted on time.
    let no_nonce = respond(&ocsp_request(&alice, &ca, None).expect("request"), "ca.pem", 60, &[]);
    assert!(check_ocsp_response(&no_nonce, &query(&alice, &ca, Some(&NONCE)), now).is_ok());
    // Stale two hours later; not yet valid a day earlier.
    let later = now + Duration::from_secs(2 * 3600);
    assert!(matches!(check_ocsp_response(&response, &query(&alice, &ca, None), later), Err(OcspError::Stale(_))));
    let earlier = now - Duration::from_secs(24 * 3600);
    assert!(matches!(check_ocsp_response(&response, &query(&alice, &ca, None), earlier), Err(OcspError::Stale(_))));
    // An answer about alice is no answer about bob.
    assert_eq!(check_ocsp_response(&response, &query(&bob, &ca, None), now), Err(OcspError::NotCovered));
    // Asked as if another CA had issued alice: its signer is no responder of that CA.
    assert!(matches!(
        check_ocsp_response(&response, &query(&alice, &cert("other-ca"), None), now),
        Err(OcspError::UnauthorisedResponder(_))
    ));
}

#[test]
fn unsigned_errors_garbage_and_truncation_are_no_verdict() {
    let (ca, alice) = (cert("ca"), cert("alice"));
    let q = query(&alice, &ca, None);
    let now = SystemTime::now();
    // responseStatus tryLater / unauthorized: unsigned, never a verdict.
    assert_eq!(
        check_ocsp_response(&[0x30, 0x03, 0x0a, 0x01, 0x03], &q, now),
        Err(OcspError::NotSuccessful("tryLater"))
    );
    assert_eq!(
        check_ocsp_response(&[0x30, 0x03, 0x0a, 0x01, 0x06], &q, now),
        Err(OcspError::NotSuccessful("unauthorized"))
    );
    // "successful" without a body.
    assert!(matches!(check_ocsp_response(&[0x30, 0x03, 0x0a, 0x01, 0x00], &q, now), Err(OcspError::Malformed(_))));
    let response = respond(&ocsp_request(&alice, &ca, None).expect("request"), "ca.pem", 60, &[]);
    for cut in [1, 10, response.len() / 2, response.len() - 1] {
        assert!(matches!(check_ocsp_response(&response[..cut], &q, now), Err(OcspError::Malformed(_))), "cut {cut}");
    }
    assert!(matches!(check_ocsp_response(b"<html>", &q, now), Err(OcspError::Malformed(_))));
}

fn crl_der() -> Vec<u8> {
    openssl_ok(&["crl", "-in", &path("crl.pem"), "-outform", "DER"], b"")
}

#[test]
fn crl_verdicts() {
    let (ca, now) = (cert("ca"), SystemTime::now());
    let crl = crl_der();
    let rita = check_crl(&cert("rita"), &ca, &crl, now).expect("covers rita");
    assert!(matches!(rita.status, Revocation::Revoked { reason: Some(ref r), .. } if r == "keyCompromise"));
    assert_eq!(check_crl(&cert("alice"), &ca, &crl, now).map(|a| a.status), Ok(Revocation::Good));
    // mallory's issuer is another CA: this CRL says nothing about mallory.
    assert_eq!(check_crl(&cert("mallory"), &cert("other-ca"), &crl, now), Err(CrlError::NotCovered));
    // Past its nextUpdate: refused, not silently used.
    let short = openssl_ok(&["crl", "-in", &path("crl-1h.pem"), "-outform", "DER"], b"");
    assert!(check_crl(&cert("alice"), &ca, &short, now).is_ok());
    let after = now + Duration::from_secs(2 * 3600);
    assert!(matches!(check_crl(&cert("alice"), &ca, &short, after), Err(CrlError::Stale(_))));
    // A flipped bit in the signed part, truncation, garbage.
    let mut tampered = crl.clone();
    let at = tampered.len() - 300;
    tampered[at] ^= 0x01;
    assert!(matches!(
        check_crl(&cert("rita"), &ca, &tampered, now),
        Err(CrlError::BadSignature | CrlError::Malformed(_) | CrlError::NotCovered)
    ));
    assert!(matches!(check_crl(&cert("rita"), &ca, &crl[..crl.len() - 5], now), Err(CrlError::Malformed(_))));
    assert!(matches!(check_crl(&cert("rita"), &ca, b"garbage", now), Err(CrlError::Malformed(_))));
}

#[test]
fn pointers_and_certs_only_bundles() {
    let pointers = RevocationPointers::of(&cert("pat"));
    assert_eq!(pointers.ocsp, ["http://127.0.0.1:9/ocsp"]);
    assert_eq!(pointers.crl, ["http://127.0.0.1:9/ca.crl"]);
    assert_eq!(pointers.ca_issuers, ["http://127.0.0.1:9/ca.der"], "ldap:// is left out");
    assert!(RevocationPointers::of(&cert("alice")).is_empty());

    let bundle = load_certificates(&pki_bytes("alice.p7c")).expect("certs-only PKCS#7");
    assert_eq!(bundle, vec![cert("alice")]);
    let not_one = openssl(&["rand", "64"], b"").stdout;
    assert!(load_certificates(&not_one).is_err());
}

/// The TLVs inside `value`.
fn tlvs(mut value: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !value.is_empty() {
        let first = value[1] as usize;
        let (header, len) = if first < 0x80 {
            (2, first)
        } else {
            let n = first & 0x7f;
            (2 + n, value[2..2 + n].iter().fold(0usize, |a, b| a << 8 | *b as usize))
        };
        out.push(&value[..header + len]);
        value = &value[header + len..];
    }
    out
}

fn contents(tlv: &[u8]) -> &[u8] {
    let first = tlv[1] as usize;
    if first < 0x80 { &tlv[2..] } else { &tlv[2 + (first & 0x7f)..] }
}

#[test]
fn revocation_data_embedded_by_the_sender_is_read_not_fatal() {
    let (ca, alice) = (cert("ca"), cert("alice"));
    let signed = openssl_ok(
        &[
            "cms",
            "-sign",
            "-nodetach",
            "-binary",
            "-outform",
            "DER",
            "-signer",
            &path("alice.pem"),
            "-inkey",
            &path("alice.key"),
        ],
        b"hello",
    );
    let ocsp = respond(&ocsp_request(&alice, &ca, None).expect("request"), "ca.pem", 60, &[]);
    let crl = crl_der();
    // crls [1] IMPLICIT { CertificateList, [1] { id-ri-ocsp-response, OCSPResponse } }
    let id_ri_ocsp_response = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x10, 0x02];
    let other = tlv(0xa1, &[&id_ri_ocsp_response[..], &ocsp].concat());
    let revocation_info = tlv(0xa1, &[&crl[..], &other].concat());
    let content_info = tlvs(&signed)[0];
    let [oid, explicit] = tlvs(contents(content_info))[..] else { panic!("ContentInfo") };
    let mut fields = tlvs(contents(tlvs(contents(explicit))[0]));
    let signer_infos = fields.pop().expect("signerInfos");
    let mut signed_data: Vec<u8> = fields.concat();
    signed_data.extend(&revocation_info);
    signed_data.extend(signer_infos);
    let with_revocation = tlv(0x30, &[oid, &tlv(0xa0, &tlv(0x30, &signed_data))].concat());

    let options = smime_crypto::VerifyOptions {
        trust: smime_crypto::TrustOptions { anchors: vec![ca.clone()], ..Default::default() },
        ..Default::default()
    };
    let verified = smime_crypto::verify_signed_data(&with_revocation, None, &options).expect("still readable");
    assert_eq!(verified.content, b"hello");
    let report = &verified.signers[0];
    assert_eq!(report.status, smime_crypto::SignatureStatus::Valid, "the signature still verifies");
    assert_eq!(report.embedded_revocation.crls, vec![crl]);
    assert_eq!(report.embedded_revocation.ocsp_responses, vec![ocsp.clone()]);
    let answer = check_ocsp_response(&ocsp, &query(&alice, &ca, None), SystemTime::now()).expect("fresh");
    assert_eq!(answer.status, Revocation::Good);
    // openssl reads the same message (the peer agrees that it is well-formed).
    let out = openssl(&["cms", "-verify", "-inform", "DER", "-CAfile", &path("ca.pem")], &with_revocation);
    assert!(out.success, "openssl cms -verify: {}", out.stderr);
}
