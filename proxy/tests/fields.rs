//! Beyond mail, through the proxy against a test site of its own (an upstream on
//! 127.0.0.1 with a rule in a rules directory): encrypted form fields (the site stores
//! only armor that `openssl cms -decrypt` opens; its pages show the plaintext in a frame,
//! or in the edit form; nothing is sent when a field cannot be encrypted) and S/MIME pages
//! (encrypted and signed responses opened with their banner; tampered, not for this key),
//! and signed form submissions (checked by `message verify-form` and `openssl cms -verify`).
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use std::path::Path;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use smime_proxy_tests::{openssl, openssl_ok, pki_file};
use support::*;

const ORIGIN: &str = "smime-proxy.invalid";
const NOTE: &str = "Door code 4711 <b>&amp; \"more\"</b>\r\nsecond line";
const MARKER: &str = "PAGE-MARKER-5d1e";

/// The test site's rule: a contact form whose notes and phone numbers are encrypted, and
/// S/MIME pages. A rule must have a compose part: this one names pages the site has not.
const RULE: &str = r##"
name = "testsite"
smime_pages = true
[csrf]
field = "_token"
[pages.compose]
path = "/compose"
[controls]
selector = "#none"
position = "after"
row = "{label}{input}{id}"
[controls.status]
selector = "#none"
position = "after"
html = "{status}"
[[requests]]
kind = "send"
path = "/send"
[fields]
to = "_to"
subject = "_subject"
body = "_body"

[[encrypted_fields]]
path = "/contact"
form = { _action = "save" }
fields = ["_notes", "_phone[]", "$.notes"]
pages = [{ path = "/contact" }]

[[signed_forms]]
path = "/order"
"##;

/// What the site stores: the last saved body.
type Stored = Arc<Mutex<Option<Vec<u8>>>>;

fn reply(content_type: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder().header("content-type", content_type).body(Full::new(Bytes::from(body))).unwrap()
}

/// An `openssl cms` result split into its Content-Type and its body, as a web server
/// would serve it.
fn as_response(message: &[u8]) -> (String, Vec<u8>) {
    let text = String::from_utf8(message.to_vec()).unwrap().replace("\r\n", "\n").replace('\n', "\r\n");
    let (head, body) = text.split_once("\r\n\r\n").unwrap();
    let unfolded = head.replace("\r\n ", " ").replace("\r\n\t", " ");
    let content_type = unfolded.lines().find_map(|l| l.strip_prefix("Content-Type: ")).unwrap().to_owned();
    let encoded = unfolded.contains("Content-Transfer-Encoding: base64");
    let body = if encoded {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.decode(body.split_whitespace().collect::<String>()).unwrap()
    } else {
        body.as_bytes().to_vec()
    };
    (content_type, body)
}

/// The S/MIME pages: path → (Content-Type, body).
fn smime_pages() -> Vec<(&'static str, (String, Vec<u8>))> {
    let p = |name: &str| pki_file(name).to_str().unwrap().to_owned();
    let html =
        format!("Content-Type: text/html; charset=utf-8\r\n\r\n<p>Statement {MARKER}</p><script>alert(1)</script>");
    let notice =
        format!("From: alice@example.test\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNotice {MARKER}\r\n");
    let (alice, alice_key) = (p("alice.pem"), p("alice.key"));
    let signed = openssl_ok(&["cms", "-sign", "-binary", "-signer", &alice, "-inkey", &alice_key], notice.as_bytes());
    let tampered = String::from_utf8(signed.clone()).unwrap().replacen("Notice", "Notixe", 1).into_bytes();
    let encrypt = |to: &str| openssl_ok(&["cms", "-encrypt", "-binary", "-aes256", &p(to)], html.as_bytes());
    vec![
        ("/statement", as_response(&encrypt("bob.pem"))),
        ("/other", as_response(&encrypt("carol.pem"))),
        ("/notice", as_response(&signed)),
        ("/tampered", as_response(&tampered)),
    ]
}

/// The contact page: the stored values shown, and the edit form holding them.
fn contact_page(stored: &[(String, String)]) -> String {
    let value = |name: &str| stored.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).unwrap_or_default();
    let escape = |text: &str| text.replace('&', "&amp;").replace('<', "&lt;").replace('"', "&quot;");
    let (notes, phone) = (value("_notes"), value("_phone[]"));
    format!(
        "<!doctype html><html><head><title>contact</title></head><body>\
         <div id=show>{}</div><div id=phone>{}</div>\
         <form method=post action=/contact><input type=hidden name=_action value=save>\
         <textarea name=_notes>{}</textarea><input name=\"_phone[]\" value=\"{}\"><input name=_name value=Bob></form>\
         </body></html>",
        // Shown the way a PHP site shows text: nl2br.
        escape(&notes).replace('\n', "<br />\n"),
        escape(&phone),
        escape(&notes),
        escape(&phone),
    )
}

struct Setup {
    _dir: tempfile::TempDir,
    upstream: Upstream,
    bob: BobsProxy,
    stored: Stored,
}

async fn setup() -> Setup {
    setup_with("testsite,encrypted_fields=true").await
}

/// The proxy with the test site served as `HOST=site` (the rule and its options).
async fn setup_with(site: &str) -> Setup {
    let stored: Stored = Arc::new(Mutex::new(None));
    let pages = Arc::new(smime_pages());
    let seen = Arc::clone(&stored);
    let routes: Routes = Arc::new(move |parts: &hyper::http::request::Parts| {
        if let Some((_, (content_type, body))) = pages.iter().find(|(path, _)| *path == parts.uri.path()) {
            return Some(reply(content_type, body.clone()));
        }
        if ["/contact", "/elsewhere"].contains(&parts.uri.path()) && parts.method == hyper::Method::GET {
            let body = seen.lock().unwrap().clone().unwrap_or_default();
            let fields = decode_pairs(&body);
            return Some(reply("text/html; charset=utf-8", contact_page(&fields).into_bytes()));
        }
        None
    });
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let upstream = Upstream::start_with(&pki, routes).await;

    let rules = dir.path().join("rules");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::write(rules.join("testsite.toml"), RULE).unwrap();
    let text = format!("rules_dir = \"{}\"\n", rules.display());
    let site = format!("{}={site}", upstream.by_name());
    let bob = BobsProxy::start(dir.path(), &text, site, pki.write_ca(dir.path())).await;
    Setup { _dir: dir, upstream, bob, stored }
}

impl Setup {
    async fn get(&self, path: &str) -> Fetched {
        let req = Request::get(path).body(Full::new(Bytes::new())).unwrap();
        https_via_proxy(self.bob.proxy.local_addr(), &self.upstream.by_name(), &self.bob.roots(), req).await.unwrap()
    }

    async fn post(&self, path: &str, content_type: &str, body: Vec<u8>) -> Fetched {
        let req = Request::post(path).header("content-type", content_type).body(Full::new(Bytes::from(body))).unwrap();
        https_via_proxy(self.bob.proxy.local_addr(), &self.upstream.by_name(), &self.bob.roots(), req).await.unwrap()
    }

    /// The frame at `src`, as a frame of the site's page loads it.
    async fn frame(&self, src: &str) -> String {
        let path = src.strip_prefix(&format!("https://{ORIGIN}")).unwrap();
        let req = Request::get(path)
            .header("referer", format!("https://{}/", self.upstream.by_name()))
            .header("sec-fetch-dest", "iframe")
            .header("sec-fetch-site", "cross-site")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let fetched = https_via_proxy(self.bob.proxy.local_addr(), &format!("{ORIGIN}:443"), &self.bob.roots(), req)
            .await
            .unwrap();
        assert_eq!(fetched.status, 200, "{}", fetched.text());
        fetched.text()
    }

    fn stored_fields(&self) -> Vec<(String, String)> {
        decode_pairs(&self.stored.lock().unwrap().clone().unwrap_or_default())
    }
}

/// The decoded pairs of an urlencoded body.
fn decode_pairs(body: &[u8]) -> Vec<(String, String)> {
    let decode =
        |raw: &str| percent_encoding::percent_decode_str(&raw.replace('+', " ")).decode_utf8_lossy().into_owned();
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(name), decode(value))
        })
        .collect()
}

/// Every iframe `src` of the own origin in `page`, in order.
fn frames(page: &str) -> Vec<String> {
    page.match_indices("<iframe class=\"smime-proxy-view\" src=\"")
        .map(|(at, m)| page[at + m.len()..].split('"').next().unwrap().to_owned())
        .collect()
}

fn urlencode(pairs: &[(&str, &str)]) -> Vec<u8> {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC.remove(b'_').remove(b'-').remove(b'.');
    let set = SET;
    pairs
        .iter()
        .map(|(n, v)| {
            format!(
                "{}={}",
                percent_encoding::utf8_percent_encode(n, set),
                percent_encoding::utf8_percent_encode(v, set)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

#[tokio::test]
async fn a_saved_note_is_stored_as_armor_openssl_opens_and_the_pages_show_it_decrypted() {
    let s = setup().await;
    // The upstream keeps what it got: the test's routes record the last save.
    let body = urlencode(&[("_action", "save"), ("_notes", NOTE), ("_phone[]", "+49 30 1234"), ("_name", "Bob")]);
    let saved = s.post("/contact", "application/x-www-form-urlencoded", body).await;
    assert_eq!(saved.status, 404, "the test upstream has no POST route; what matters is what it received");
    let received = s.upstream.received.lock().unwrap().last().cloned().unwrap();
    *s.stored.lock().unwrap() = Some(received.clone());
    let received = String::from_utf8(received).unwrap();
    assert!(!received.contains("4711") && !received.contains("1234"), "plaintext left the device: {received}");
    assert!(received.contains("_name=Bob") && received.starts_with("_action=save&"), "{received}");

    let fields = s.stored_fields();
    let notes = &fields.iter().find(|(n, _)| n == "_notes").unwrap().1;
    assert!(notes.starts_with("-----BEGIN CMS-----\n") && notes.ends_with("\n-----END CMS-----"), "{notes}");
    // openssl opens what the site stores, with the user's key.
    let (bob, bob_key) = (pki_file("bob.pem"), pki_file("bob.key"));
    let decrypted = openssl_ok(
        &["cms", "-decrypt", "-inform", "PEM", "-recip", bob.to_str().unwrap(), "-inkey", bob_key.to_str().unwrap()],
        notes.as_bytes(),
    );
    let decrypted = String::from_utf8(decrypted).unwrap();
    let site =
        format!("X-Smime-Proxy-Site: https://{}\r\nContent-Type: text/plain; charset=utf-8\r\n", s.upstream.by_name());
    assert!(decrypted.starts_with(&site), "bound to the site: {decrypted}");
    assert!(decrypted.ends_with(&format!("\r\n\r\n{NOTE}")), "{decrypted}");

    // Through the proxy: shown in frames, edited as plaintext.
    let page = s.get("/contact").await.text();
    assert!(!page.contains("4711") || page.contains("<textarea name=_notes>Door code 4711"), "{page}");
    let shown = &page[..page.find("<form").unwrap()];
    assert!(!shown.contains("4711") && !shown.contains("1234") && !shown.contains("BEGIN CMS"), "{shown}");
    let form = &page[page.find("<form").unwrap()..];
    assert!(
        form.contains(&format!(
            "<textarea name=_notes>{}</textarea>",
            NOTE.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
        )),
        "{form}"
    );
    assert!(form.contains("<input name=\"_phone[]\" value=\"+49 30 1234\">"), "{form}");
    let srcs = frames(shown);
    assert_eq!(srcs.len(), 2, "{shown}");
    let frame = s.frame(&srcs[0]).await;
    assert!(frame.contains("Door code 4711") && frame.contains("Encrypted to you"), "{frame}");
    assert!(!frame.contains("<b>&amp;"), "the note is text, not markup: {frame}");
    assert!(s.frame(&srcs[1]).await.contains("+49 30 1234"));

    // A page the rule does not name as showing the fields streams through as it is.
    let elsewhere = s.get("/elsewhere").await.text();
    assert!(elsewhere.contains("-----BEGIN CMS-----") && frames(&elsewhere).is_empty());

    // Without the proxy the page holds only armor: the site's page as served.
    let direct = contact_page(&s.stored_fields());
    assert!(direct.contains("-----BEGIN CMS-----") && !direct.contains("4711"));

    // Saving the edit form again: the plaintext is encrypted again, never sent.
    let body = urlencode(&[("_action", "save"), ("_notes", "changed 4711"), ("_phone[]", "")]);
    s.post("/contact", "application/x-www-form-urlencoded", body).await;
    let again = String::from_utf8(s.upstream.received.lock().unwrap().last().cloned().unwrap()).unwrap();
    assert!(!again.contains("4711") && again.contains("BEGIN%20CMS") && again.ends_with("_phone%5B%5D="), "{again}");

    // Other requests of the site are not touched.
    s.post("/contact", "application/x-www-form-urlencoded", b"_action=delete&_notes=plain".to_vec()).await;
    assert_eq!(s.upstream.received.lock().unwrap().last().unwrap(), b"_action=delete&_notes=plain");
}

#[tokio::test]
async fn without_the_opt_in_a_site_gets_its_forms_as_typed() {
    let s = setup_with("testsite").await;
    let body = urlencode(&[("_action", "save"), ("_notes", "plain 4711")]);
    s.post("/contact", "application/x-www-form-urlencoded", body.clone()).await;
    assert_eq!(s.upstream.received.lock().unwrap().last().unwrap(), &body, "sent as typed");
    // Saving works with the keys locked: nothing is encrypted.
    s.bob.keys.lock();
    let res = s.post("/contact", "application/x-www-form-urlencoded", body.clone()).await;
    assert_eq!(res.status, 404, "forwarded: {}", res.text());
    // Armor in its pages is left as the site serves it.
    let armor = smime_crypto::armor::armor(b"\x30\x00");
    *s.stored.lock().unwrap() = Some(urlencode(&[("_notes", &armor)]));
    let page = s.get("/contact").await.text();
    assert!(page.contains("-----BEGIN CMS-----") && frames(&page).is_empty(), "{page}");
}

#[tokio::test]
async fn nothing_is_sent_when_a_field_cannot_be_encrypted() {
    let s = setup().await;
    let count = || s.upstream.received.lock().unwrap().len();
    let before = count();
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("application/json", b"{\"notes\": ".to_vec(), 422, "not a JSON object"),
        ("application/json", br#"{"_action": "save", "notes": {"a": "secret"}}"#.to_vec(), 422, "array or object"),
        ("text/plain", b"_action=save&_notes=secret".to_vec(), 200, ""),
        ("application/x-www-form-urlencoded", vec![b'a'; 17 * 1024 * 1024], 413, "larger than 16 MiB"),
    ];
    for (content_type, body, status, message) in cases {
        let res = s.post("/contact", content_type, body).await;
        if status == 200 {
            // A text/plain body is no form: its `_action` cannot match, so it is not one of
            // the rule's requests and goes as it is.
            continue;
        }
        assert_eq!(res.status, status, "{content_type}: {}", res.text());
        assert!(res.text().contains("Nothing was sent") && res.text().contains(message), "{}", res.text());
    }
    assert_eq!(count(), before + 1, "only the request that is none of the rule's went upstream");

    // JSON: a top-level key and a path.
    let res = s.post("/contact", "application/json", br#"{"_action":"save","notes":"secret 4711"}"#.to_vec()).await;
    assert_eq!(res.status, 404);
    let sent = String::from_utf8(s.upstream.received.lock().unwrap().last().cloned().unwrap()).unwrap();
    assert!(sent.contains("-----BEGIN CMS-----\\n") && !sent.contains("4711"), "{sent}");

    // A locked key store: nothing is sent, and the page says how to unlock.
    s.bob.keys.lock();
    let before = count();
    let res = s.post("/contact", "application/x-www-form-urlencoded", b"_action=save&_notes=secret".to_vec()).await;
    assert_eq!(res.status, 503);
    assert!(res.text().contains("the key store is locked"), "{}", res.text());
    assert_eq!(count(), before);
}

#[tokio::test]
async fn an_edit_form_gets_no_plaintext_that_was_not_encrypted_on_its_site() {
    let s = setup().await;
    // A mail encrypted to bob (or another site's field) put into the edit form: the page's
    // scripts would read what the proxy filled in, so it is not filled.
    let mail = "Content-Type: text/plain\r\n\r\nmail secret 7d1e\r\n";
    let der = openssl_ok(
        &["cms", "-encrypt", "-binary", "-aes256", "-outform", "DER", pki_file("bob.pem").to_str().unwrap()],
        mail.as_bytes(),
    );
    let armor = smime_crypto::armor::armor(&der);
    *s.stored.lock().unwrap() = Some(urlencode(&[("_notes", &armor)]));
    let page = s.get("/contact").await.text();
    let form = &page[page.find("<form").unwrap()..];
    assert!(!page.contains("mail secret 7d1e"), "{page}");
    assert!(form.contains("<textarea name=_notes>-----BEGIN CMS-----"), "the armor stays: {form}");
    // Shown in the proxy's frame (isolated from the page), which says what it is.
    let srcs = frames(form);
    assert_eq!(srcs.len(), 1, "{form}");
    assert!(s.frame(&srcs[0]).await.contains("mail secret 7d1e"));
}

#[tokio::test]
async fn broken_armor_in_a_page_is_named_in_its_frame() {
    let s = setup().await;
    *s.stored.lock().unwrap() = Some(
        b"_notes=-----BEGIN%20CMS-----%0AMII%3Cx%3E%0A-----END%20CMS-----&_phone%5B%5D=-----BEGIN%20CMS-----".to_vec(),
    );
    let page = s.get("/contact").await.text();
    let srcs = frames(&page);
    let mut reasons = Vec::new();
    for src in &srcs {
        let frame = s.frame(src).await;
        assert!(frame.contains("cannot be read") && frame.contains("smime-banner bad"), "{frame}");
        reasons.extend(["not base64", "no END line"].into_iter().filter(|r| frame.contains(r)));
    }
    assert!(reasons.contains(&"not base64") && reasons.contains(&"no END line"), "{reasons:?} {page}");
}

#[tokio::test]
async fn smime_pages_are_opened_with_their_banner() {
    let s = setup().await;
    let statement = s.smime_page("/statement").await;
    assert!(
        statement.contains(&format!("Statement {MARKER}")) && statement.contains("Encrypted to you"),
        "{statement}"
    );
    assert!(!statement.contains("<script"), "sanitised: {statement}");

    let notice = s.smime_page("/notice").await;
    assert!(notice.contains(&format!("Notice {MARKER}")) && notice.contains("Signature valid"), "{notice}");
    assert!(notice.contains("Signed by alice@example.test"), "{notice}");

    let tampered = s.smime_page("/tampered").await;
    assert!(tampered.contains("smime-banner bad") && tampered.contains("Signature INVALID"), "{tampered}");

    let other = s.smime_page("/other").await;
    assert!(other.contains("Not for your key") && !other.contains(MARKER), "{other}");

    // Not S/MIME: untouched.
    let plain = s.get("/page").await;
    assert!(plain.header("content-security-policy").is_none());

    // openssl agrees: the notice verifies, the tampered one does not.
    let ca = pki_file("ca.pem");
    for (path, valid) in [("/notice", true), ("/tampered", false)] {
        let (content_type, body) = smime_pages().into_iter().find(|(p, _)| *p == path).unwrap().1;
        let message = [format!("Content-Type: {content_type}\r\n\r\n").into_bytes(), body].concat();
        let verified = openssl(&["cms", "-verify", "-CAfile", ca.to_str().unwrap()], &message);
        assert_eq!(verified.success, valid, "{path}: {}", verified.stderr);
    }
}

impl Setup {
    /// The S/MIME page at `path` through the proxy: the proxy's page holding only a
    /// frame; the frame's document.
    async fn smime_page(&self, path: &str) -> String {
        let page = self.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_eq!(page.header("content-type"), Some("text/html; charset=utf-8"), "{path}");
        let csp = page.header("content-security-policy").unwrap().to_owned();
        assert!(csp.contains("default-src 'none'") && csp.contains(&format!("frame-src https://{ORIGIN}")), "{csp}");
        let text = page.text();
        assert!(!text.contains(MARKER), "{path}: the content is never in the site's page: {text}");
        let src = frames(&text).into_iter().next().unwrap();
        self.frame(&src).await
    }
}

/// `smime-proxy message verify-form` on a stored body: its exit status, output, and the
/// canonical form it wrote.
fn verify_form(dir: &Path, body: &[u8]) -> (bool, String, Vec<u8>) {
    message_check(dir, "verify-form", body)
}

#[tokio::test]
async fn a_signed_submission_verifies_over_its_documented_canonical_form() {
    let s = setup().await;
    let dir = tempfile::tempdir().unwrap();
    let body = urlencode(&[("qty", "2"), ("item", "book"), ("note", "f\u{fc}r Anna & Bob"), ("item", "pen")]);
    let res = s.post("/order", "application/x-www-form-urlencoded", body.clone()).await;
    assert_eq!(res.status, 404, "forwarded: {}", res.text());
    let record = s.upstream.received.lock().unwrap().last().cloned().unwrap();
    assert!(record.starts_with(&body) && record[body.len()..].starts_with(b"&smime_signature=-----BEGIN%20CMS-----"));

    // The proxy's own check, which also writes the canonical form.
    let (valid, report, canonical) = verify_form(dir.path(), &record);
    assert!(valid, "{report}");
    assert!(report.contains("Signature: valid") && report.contains("Signer: bob@example.test"), "{report}");
    assert_eq!(
        String::from_utf8(canonical.clone()).unwrap(),
        "item=book&item=pen&note=f%C3%BCr%20Anna%20%26%20Bob&qty=2"
    );

    // openssl over the documented bytes.
    let pairs = decode_pairs(&record);
    let signature = &pairs.iter().find(|(n, _)| n == "smime_signature").unwrap().1;
    let (sig, content) = (dir.path().join("sig.pem"), dir.path().join("content.txt"));
    std::fs::write(&sig, signature).unwrap();
    std::fs::write(&content, &canonical).unwrap();
    let ca = pki_file("ca.pem");
    let verify = |content: &Path| {
        openssl(
            &[
                "cms",
                "-verify",
                "-binary",
                "-inform",
                "PEM",
                "-in",
                sig.to_str().unwrap(),
                "-content",
                content.to_str().unwrap(),
                "-CAfile",
                ca.to_str().unwrap(),
                "-out",
                "/dev/null",
            ],
            b"",
        )
    };
    let checked = verify(&content);
    assert!(checked.success, "openssl: {}", checked.stderr);

    // A changed record fails both.
    let tampered = String::from_utf8(record.clone()).unwrap().replacen("qty=2", "qty=3", 1).into_bytes();
    let (valid, report, _) = verify_form(dir.path(), &tampered);
    assert!(!valid && report.contains("INVALID"), "{report}");
    std::fs::write(&content, b"item=book&item=pen&note=f%C3%BCr%20Anna%20%26%20Bob&qty=3").unwrap();
    assert!(!verify(&content).success);
    // A record without a signature, or with a broken one, is named.
    let (valid, report, _) = verify_form(dir.path(), &body);
    assert!(!valid && report.contains("has no field smime_signature"), "{report}");
    let (valid, report, _) = verify_form(dir.path(), b"a=1&smime_signature=-----BEGIN%20CMS-----x");
    assert!(!valid && report.contains("no END line"), "{report}");

    // Nothing is sent when the form cannot be signed: JSON, a forged signature field, a
    // locked key store.
    let before = s.upstream.received.lock().unwrap().len();
    let json = s.post("/order", "application/json", br#"{"item":"book"}"#.to_vec()).await;
    assert_eq!(json.status, 422);
    assert!(json.text().contains("only urlencoded and multipart"), "{}", json.text());
    let forged = s.post("/order", "application/x-www-form-urlencoded", b"item=x&smime_signature=y".to_vec()).await;
    assert!(forged.text().contains("already has a field named smime_signature"), "{}", forged.text());
    s.bob.keys.lock();
    let locked = s.post("/order", "application/x-www-form-urlencoded", b"item=x".to_vec()).await;
    assert!(locked.text().contains("the key store is locked"), "{}", locked.text());
    assert_eq!(s.upstream.received.lock().unwrap().len(), before);
}
