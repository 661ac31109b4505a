//! Sign a page: a site's page served through the proxy by a test upstream on 127.0.0.1 is
//! kept as the server sent it; the own page lists it and "Save a signed record" returns a
//! CMS SignedData that `openssl cms -verify` checks against the test CA and whose content
//! is the served bytes, byte for byte (before the proxy's rewriting, without the content
//! coding); `message verify-page` names URL, time, signer and verdict, and says INVALID for
//! a tampered record; a request from another origin gets nothing.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use smime_proxy_tests::{openssl, pki_file};
use support::*;

const ORIGIN: &str = "smime-proxy.invalid";

/// A page whose bytes no text round trip keeps: windows-1252, CR LF and a lone CR, NUL.
const STATEMENT: &[u8] = b"<!doctype html><html><body>\r\n<p>Balance: 1.234,56 \x80 caf\xe9\r</p>\x00\n</body></html>";

struct Setup {
    _dir: tempfile::TempDir,
    upstream: Upstream,
    bob: BobsProxy,
}

async fn setup() -> Setup {
    let routes: Routes = Arc::new(|parts: &hyper::http::request::Parts| {
        (parts.uri.path() == "/statement").then(|| {
            Response::builder()
                .header("content-type", "text/html; charset=windows-1252")
                .body(Full::new(Bytes::from_static(STATEMENT)))
                .unwrap()
        })
    });
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let upstream = Upstream::start_with(&pki, routes).await;

    let site = format!("{}=roundcube", upstream.by_name());
    let bob = BobsProxy::start(dir.path(), "", site, pki.write_ca(dir.path())).await;
    Setup { _dir: dir, upstream, bob }
}

impl Setup {
    async fn site(&self, req: Request<Full<Bytes>>) -> Fetched {
        https_via_proxy(self.bob.proxy.local_addr(), &self.upstream.by_name(), &self.bob.roots(), req).await.unwrap()
    }

    async fn own(&self, req: Request<Full<Bytes>>) -> Fetched {
        https_via_proxy(self.bob.proxy.local_addr(), &format!("{ORIGIN}:443"), &self.bob.roots(), req).await.unwrap()
    }

    /// The own page's token and the id of the kept page loaded from `url`, if listed.
    async fn listed(&self, url: &str) -> (String, Option<String>) {
        let home = self.own(get("/")).await.text();
        let token = home.split("name=\"token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let shown = format!("<code>{}</code>", url.replace('&', "&amp;"));
        let row = home.split("<tr>").find(|row| row.contains(&shown));
        let id =
            row.map(|row| row.split("name=\"page\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned());
        (token, id)
    }

    /// `POST /api/pages/sign` with `origin`.
    async fn sign(&self, origin: &str, form: String) -> Fetched {
        let req = Request::post("/api/pages/sign")
            .header("origin", origin)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form)))
            .unwrap();
        self.own(req).await
    }

    fn url(&self, path: &str) -> String {
        format!("https://{}{path}", self.upstream.by_name())
    }
}

/// `smime-proxy message verify-page` on `record`: success, output, the page it wrote.
fn verify_page(dir: &Path, record: &[u8]) -> (bool, String, Vec<u8>) {
    message_check(dir, "verify-page", record)
}

/// `openssl cms -verify` of a DER record with the test CA: success and the content.
fn openssl_verify(dir: &Path, record: &[u8]) -> (bool, Vec<u8>, String) {
    let (input, content) = (dir.join("openssl.p7m"), dir.join("openssl.out"));
    std::fs::write(&input, record).unwrap();
    let _ = std::fs::remove_file(&content);
    let ca = pki_file("ca.pem");
    let out = openssl(
        &["cms", "-verify", "-binary", "-inform", "DER", "-in", input.to_str().unwrap()]
            .into_iter()
            .chain(["-CAfile", ca.to_str().unwrap(), "-out", content.to_str().unwrap()])
            .collect::<Vec<_>>(),
        b"",
    );
    (out.success, std::fs::read(&content).unwrap_or_default(), out.stderr)
}

#[tokio::test]
async fn a_signed_record_holds_the_exact_bytes_and_verifies_with_openssl() {
    let s = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let served = s.site(get("/statement")).await;
    assert_eq!(served.body, STATEMENT, "passed on unchanged");

    let url = s.url("/statement");
    let (token, id) = s.listed(&url).await;
    let id = id.unwrap_or_else(|| panic!("{url} is listed"));
    let res = s.sign(&format!("https://{ORIGIN}"), format!("token={token}&page={id}")).await;
    assert_eq!(res.status, 200, "{}", res.text());
    assert_eq!(res.header("content-type"), Some("application/pkcs7-mime; smime-type=signed-data"));
    let disposition = res.header("content-disposition").unwrap();
    assert!(disposition.starts_with("attachment") && disposition.contains("page-record-localhost_"), "{disposition}");
    assert_eq!(res.header("cache-control"), Some("no-store"));
    let record = res.body.clone();

    // openssl: the signature holds with the test CA and the content is the served bytes.
    let (valid, content, stderr) = openssl_verify(dir.path(), &record);
    assert!(valid, "openssl: {stderr}");
    assert_eq!(content, STATEMENT, "byte for byte");
    // openssl reads the URL and the time among the signed attributes.
    std::fs::write(dir.path().join("print.p7m"), &record).unwrap();
    let printed = openssl(
        &["cms", "-cmsout", "-print", "-inform", "DER", "-in", dir.path().join("print.p7m").to_str().unwrap()],
        b"",
    );
    let printed = String::from_utf8_lossy(&printed.stdout);
    assert!(printed.contains("1.3.6.1.4.1.250.1.57") && printed.contains(&url), "{printed}");
    assert!(printed.contains("2.5.18.1") && printed.contains("GENERALIZEDTIME"), "{printed}");

    // verify-page names URL, time, signer and verdict, and writes the page.
    let (valid, report, page) = verify_page(dir.path(), &record);
    assert!(valid, "{report}");
    assert!(report.contains(&format!("URL: {url}\n")) && report.contains("Received at: 20"), "{report}");
    assert!(report.contains("Signature: valid") && report.contains("Signer: bob@example.test"), "{report}");
    assert_eq!(page, STATEMENT);
    // PEM (CMS armor) reads too.
    let (valid, report, _) = verify_page(dir.path(), smime_crypto::armor::armor(&record).as_bytes());
    assert!(valid, "{report}");

    // One byte of the page changed: INVALID for both.
    let at = record.windows(STATEMENT.len()).position(|w| w == STATEMENT).unwrap();
    let mut tampered = record.clone();
    tampered[at + 40] ^= 0x01;
    let (valid, report, page) = verify_page(dir.path(), &tampered);
    assert!(!valid && report.contains("Signature: INVALID"), "{report}");
    assert!(page.is_empty(), "nothing written for an invalid record");
    assert!(!openssl_verify(dir.path(), &tampered).0);
    // The URL changed: the attributes are signed.
    let url_at = record.windows(url.len()).position(|w| w == url.as_bytes()).unwrap();
    let mut moved = record.clone();
    moved[url_at + 8] = b'X';
    let (valid, report, _) = verify_page(dir.path(), &moved);
    assert!(!valid && report.contains("Signature: INVALID"), "{report}");
    // Not a record at all.
    let (valid, report, _) = verify_page(dir.path(), b"hello");
    assert!(!valid && report.contains("malformed"), "{report}");
}

#[tokio::test]
async fn only_the_own_page_gets_a_record() {
    let s = setup().await;
    s.site(get("/statement")).await;
    let (token, id) = s.listed(&s.url("/statement")).await;
    let form = format!("token={token}&page={}", id.unwrap());
    for origin in ["https://evil.example", "null", &format!("https://{ORIGIN}.evil.example")] {
        let res = s.sign(origin, form.clone()).await;
        assert_eq!(res.status, 403, "{origin}");
        assert!(res.header("content-disposition").is_none() && !res.body.starts_with(&[0x30]), "{origin}");
    }
    let res = s.sign(&format!("https://{ORIGIN}"), form.replace(&token, &"0".repeat(64))).await;
    assert_eq!(res.status, 403, "wrong token");
    let res = s.sign(&format!("https://{ORIGIN}"), format!("token={token}&page=00")).await;
    assert_eq!(res.status, 410, "unknown page");
    // Locked keys: nothing signed, and the page says why.
    s.bob.keys.lock();
    let res = s.sign(&format!("https://{ORIGIN}"), form).await;
    assert_eq!(res.status, 503);
    assert!(res.text().contains("the key store is locked"), "{}", res.text());
}

#[tokio::test]
async fn the_record_is_what_the_server_sent_before_any_rewriting() {
    let s = setup().await;
    let dir = tempfile::tempdir().unwrap();
    // A compose page: the browser gets the proxy's controls, the record the server's page.
    let compose = s.site(get(&format!("/page{COMPOSE}"))).await;
    assert!(compose.text().contains(MARKER));
    // A gzip-coded page: kept decoded.
    s.site(get("/gzip")).await;
    // A script's fetch and a JSON answer are no pages to keep.
    let xhr = Request::get("/page?xhr").header("sec-fetch-dest", "empty").body(Full::new(Bytes::new())).unwrap();
    s.site(xhr).await;
    s.site(get("/data.json")).await;

    let (token, compose_id) = s.listed(&s.url(&format!("/page{COMPOSE}"))).await;
    let (_, gzip_id) = s.listed(&s.url("/gzip")).await;
    assert!(s.listed(&s.url("/page?xhr")).await.1.is_none(), "a fetch is not kept");
    assert!(s.listed(&s.url("/data.json")).await.1.is_none(), "JSON is not kept");
    for id in [compose_id.unwrap(), gzip_id.unwrap()] {
        let res = s.sign(&format!("https://{ORIGIN}"), format!("token={token}&page={id}")).await;
        assert_eq!(res.status, 200);
        let (valid, content, stderr) = openssl_verify(dir.path(), &res.body);
        assert!(valid, "{stderr}");
        assert_eq!(String::from_utf8(content).unwrap(), PAGE);
    }
}
