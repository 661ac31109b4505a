//! Keys and certificates on the own page: a `.p12` uploaded there is imported through the
//! same function as `smime-proxy keys import`, sets the store passphrase on the first
//! import, unlocks the store and signs (verified by `openssl cms`); a recipient's
//! certificate is added and listed. A page of another origin, or a form without the token,
//! can neither import nor add anything, and nothing changes.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use smime_ca::CaFiles;
use smime_crypto::SignOptions;
use smime_proxy::store::{CaStatus, CaVault, CertStore, KeyRing, KeyStore};
use smime_proxy::{Config, Overrides};
use smime_proxy_tests::{openssl_ok, pki_bytes, pki_file, sample_message};
use support::{get, http_via_proxy};

const ORIGIN: &str = "smime-proxy.invalid";
const STORE_PASSPHRASE: &str = "correct horse battery staple";
const SAME: &[(&str, &str)] = &[("origin", "http://smime-proxy.invalid"), ("sec-fetch-site", "same-origin")];
const BOUNDARY: &str = "----smime-proxy-test-7d3f";

/// A `multipart/form-data` body of `(name, filename, bytes)` parts.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, filename, data) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"").as_bytes());
        if let Some(filename) = filename {
            body.extend_from_slice(
                format!("; filename=\"{filename}\"\r\nContent-Type: application/octet-stream").as_bytes(),
            );
        }
        body.extend_from_slice(b"\r\n\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

fn upload(path: &str, body: Vec<u8>, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut req = Request::post(format!("http://{ORIGIN}{path}"))
        .header("content-type", format!("multipart/form-data; boundary={BOUNDARY}"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.body(Full::new(Bytes::from(body))).unwrap()
}

/// A same-origin upload of `token` and one file `field` holding `data`.
fn one_file(path: &str, token: &str, field: &str, data: &[u8]) -> Request<Full<Bytes>> {
    upload(path, multipart(&[("token", None, token.as_bytes()), (field, Some("file"), data)]), SAME)
}

fn token_of(home: &str) -> String {
    let start = home.find("name=\"token\" value=\"").unwrap() + "name=\"token\" value=\"".len();
    home[start..start + 64].to_owned()
}

#[tokio::test]
async fn a_p12_imported_on_the_own_page_unlocks_and_signs_and_other_origins_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::new(dir.path());
    let keys = Arc::new(KeyRing::new(store.clone(), Duration::from_secs(600), "unlock it on the proxy's page"));
    let config =
        Config::from_overrides(&Overrides { listen: Some("127.0.0.1:0".into()), ..Overrides::default() }).unwrap();
    let config = Config { dir: dir.path().to_owned(), ..config };
    // No local CA yet: the first key's store passphrase creates it, sealed under the same one.
    let names = config.intercepted_names();
    let ca = Arc::new(CaVault::sealed(CaFiles::new(dir.path()), "test".into(), names, 16).unwrap());
    assert_eq!(ca.status(), CaStatus::Missing);
    let proxy = smime_proxy::start_with_keys(&config, Arc::clone(&ca), Arc::clone(&keys)).await.unwrap();
    let addr = proxy.local_addr();

    let home = http_via_proxy(addr, get(&format!("http://{ORIGIN}/"))).await.text();
    assert!(home.contains("action=\"/api/keys/import\"") && home.contains("name=\"store_passphrase_again\""), "{home}");
    assert!(home.contains("action=\"/api/certs/add\""), "{home}");
    let token = token_of(&home);
    let p12 = pki_bytes("alice.p12");
    let p12_passphrase = std::fs::read(pki_file("passphrase.txt")).unwrap();
    let p12_passphrase = p12_passphrase.trim_ascii_end();
    let form = |token: &str, store_again: &str| {
        multipart(&[
            ("token", None, token.as_bytes()),
            ("p12", Some("alice.p12"), &p12),
            ("p12_passphrase", None, p12_passphrase),
            ("store_passphrase", None, STORE_PASSPHRASE.as_bytes()),
            ("store_passphrase_again", None, store_again.as_bytes()),
        ])
    };
    let bob = std::fs::read(pki_file("bob.pem")).unwrap();
    let cert_form =
        |token: &str| multipart(&[("token", None, token.as_bytes()), ("certificate", Some("bob.pem"), &bob)]);

    // Another origin (even with the token), no origin at all, or no token: refused, and
    // neither store changes.
    for headers in [
        &[("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")][..],
        &[("origin", "null")][..],
        &[("referer", "https://evil.example/")][..],
        &[][..],
    ] {
        let res = http_via_proxy(addr, upload("/api/keys/import", form(&token, STORE_PASSPHRASE), headers)).await;
        assert_eq!(res.status, 403, "{headers:?}");
        assert!(res.header("access-control-allow-origin").is_none());
        let res = http_via_proxy(addr, upload("/api/certs/add", cert_form(&token), headers)).await;
        assert_eq!(res.status, 403, "{headers:?}");
    }
    for bad_token in [String::new(), "0".repeat(64)] {
        let res = http_via_proxy(addr, upload("/api/keys/import", form(&bad_token, STORE_PASSPHRASE), SAME)).await;
        assert_eq!(res.status, 403);
        assert!(res.text().contains("missing or wrong token"));
        let res = http_via_proxy(addr, upload("/api/certs/add", cert_form(&bad_token), SAME)).await;
        assert_eq!(res.status, 403);
    }
    assert!(store.is_empty().unwrap() && !keys.is_unlocked());
    assert!(CertStore::new(dir.path()).list().unwrap().is_empty());

    // From the page itself: the first import needs the store passphrase twice alike, and the
    // PKCS#12 file's right passphrase.
    let res = http_via_proxy(addr, upload("/api/keys/import", form(&token, "something else"), SAME)).await;
    assert_eq!(res.status, 400);
    assert!(res.text().contains("The two store passphrases differ"));
    let wrong = multipart(&[
        ("token", None, token.as_bytes()),
        ("p12", Some("alice.p12"), &p12),
        ("p12_passphrase", None, b"not it"),
        ("store_passphrase", None, STORE_PASSPHRASE.as_bytes()),
        ("store_passphrase_again", None, STORE_PASSPHRASE.as_bytes()),
    ]);
    let res = http_via_proxy(addr, upload("/api/keys/import", wrong, SAME)).await;
    assert_eq!(res.status, 400);
    assert!(res.text().contains("Wrong passphrase for the PKCS#12 file"));
    let res = http_via_proxy(addr, one_file("/api/keys/import", &token, "p12", b"garbage")).await;
    assert_eq!(res.status, 400);
    assert!(store.is_empty().unwrap());

    let res = http_via_proxy(addr, upload("/api/keys/import", form(&token, STORE_PASSPHRASE), SAME)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    // Stored, sealed under the store passphrase, and unlocked: it signs, and OpenSSL
    // verifies the signature.
    assert_eq!(store.list().unwrap().len(), 1);
    store.check_passphrase(STORE_PASSPHRASE.as_bytes()).unwrap();
    assert!(matches!(ca.status(), CaStatus::Ready { .. }), "the local CA was created and intercepts");
    assert!(CaFiles::new(dir.path()).unseal(STORE_PASSPHRASE.as_bytes()).is_ok(), "sealed under the same passphrase");
    let alice = keys.identity_for("alice@example.test").unwrap();
    let message = sample_message("alice@example.test", "bob@example.test", "PAGE-IMPORT-MARKER");
    let signed = smime_crypto::sign_message(&message, &alice, &SignOptions::default(), false).unwrap().to_vec();
    let signed_file = dir.path().join("signed.eml");
    std::fs::write(&signed_file, &signed).unwrap();
    let content = openssl_ok(
        &["cms", "-verify", "-in", signed_file.to_str().unwrap(), "-CAfile", pki_file("ca.pem").to_str().unwrap()],
        b"",
    );
    assert!(String::from_utf8_lossy(&content).contains("PAGE-IMPORT-MARKER"));

    // A recipient's certificate, added on the page, is stored and listed.
    let res = http_via_proxy(addr, upload("/api/certs/add", cert_form(&token), SAME)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let listed = CertStore::new(dir.path()).list().unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].summary.addresses, ["bob@example.test"]);
    let res = http_via_proxy(addr, one_file("/api/certs/add", &token, "certificate", b"no")).await;
    assert_eq!(res.status, 400);
    assert!(res.text().contains("The certificate was not added"));

    let home = http_via_proxy(addr, get(&format!("http://{ORIGIN}/"))).await.text();
    assert!(home.contains("Unlocked (1 key)"), "{home}");
    assert!(home.matches("alice@example.test").count() >= 1 && home.contains("bob@example.test"), "{home}");
    assert!(!home.contains("store_passphrase_again"), "later imports use the store's passphrase: {home}");
    proxy.shutdown().await.unwrap();
}
