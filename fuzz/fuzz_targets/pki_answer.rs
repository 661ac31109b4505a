//! What a CA's servers answer: an OCSP response (with and without our nonce), a CRL, or
//! an issuer's certificate bundle (caIssuers, userSMIMECertificate), judged for the test
//! PKI's alice as the proxy judges them. The first byte picks which. Whatever the input:
//! no panic, and never "good" from bytes that are not signed by the test CA.
//!
//! The certificates (`corpus-pki/ca.der`, `corpus-pki/alice.der`) are written by
//! `fuzz/seed.sh`, together with real OpenSSL answers as seeds.
#![no_main]

use std::sync::OnceLock;
use std::time::SystemTime;

use libfuzzer_sys::fuzz_target;
use smime_crypto::{Certificate, OcspQuery, check_crl, check_ocsp_response, load_certificates};

fn certificates() -> &'static (Certificate, Certificate) {
    static CERTS: OnceLock<(Certificate, Certificate)> = OnceLock::new();
    CERTS.get_or_init(|| {
        let read = |name: &str| {
            let path = format!("{}/corpus-pki/{name}", env!("CARGO_MANIFEST_DIR"));
            let data = std::fs::read(&path).unwrap_or_else(|e| {
                eprintln!("{path}: {e}; run fuzz/seed.sh first");
                std::process::exit(2)
            });
            load_certificates(&data).ok().and_then(|mut c| c.pop()).unwrap_or_else(|| std::process::exit(2))
        };
        (read("ca.der"), read("alice.der"))
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let (issuer, alice) = certificates();
    let now = SystemTime::now();
    match pick % 4 {
        0 => {
            let query = OcspQuery { certificate: alice, issuer, nonce: Some(&[7; 32]) };
            let _ = check_ocsp_response(rest, &query, now);
        }
        1 => {
            let query = OcspQuery { certificate: alice, issuer, nonce: None };
            let _ = check_ocsp_response(rest, &query, now);
        }
        2 => {
            let _ = check_crl(alice, issuer, rest, now);
        }
        _ => {
            let _ = load_certificates(rest);
        }
    }
});
