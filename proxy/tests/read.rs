//! The read flow through the proxy: a Roundcube-like upstream serves view pages and the
//! raw messages (`viewsource`, made by `openssl cms`); the browser's page gets a frame of
//! the own origin, never the plaintext; the frame is single-use and only for its page.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response};
use smime_proxy::store::CertStore;
use smime_proxy_tests::{openssl_ok, pki_file};
use support::*;

const MARKER: &str = "PLAINTEXT-MARKER-7f3a";
const ORIGIN: &str = "smime-proxy.invalid";
const COOKIE: &str = "roundcube_sessid=s3ss10n";

/// uid → raw message.
fn messages() -> Vec<(&'static str, Vec<u8>)> {
    let p = |name: &str| pki_file(name).to_str().unwrap().to_owned();
    let date = time::OffsetDateTime::now_utc().format(&time::format_description::well_known::Rfc2822).unwrap();
    let inner = format!(
        "Content-Type: multipart/mixed; boundary=\"m\"\r\n\r\n--m\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n\
         Hi Bob, {MARKER}\r\n--m\r\nContent-Type: text/plain; name=\"secret.txt\"\r\n\
         Content-Disposition: attachment; filename=\"secret.txt\"\r\n\r\nattached {MARKER}\r\n--m--\r\n"
    );
    let headers = ["-from", "alice@example.test", "-to", "bob@example.test", "-subject", "read test"];
    let (alice_pem, alice_key) = (p("alice.pem"), p("alice.key"));
    let sign = |content: &[u8]| {
        let mut args = vec!["cms", "-sign", "-binary", "-signer", &alice_pem, "-inkey", &alice_key];
        args.extend_from_slice(&headers);
        openssl_ok(&args, content)
    };
    let encrypt = |content: &[u8], to: &str| {
        let mut args = vec!["cms", "-encrypt", "-binary", "-aes256"];
        args.extend_from_slice(&headers);
        let cert = p(to);
        args.push(&cert);
        openssl_ok(&args, content)
    };
    let dated = |message: Vec<u8>| [format!("Date: {date}\r\n").into_bytes(), message].concat();
    let signed = dated(sign(inner.as_bytes()));
    let tampered = String::from_utf8(signed.clone()).unwrap().replacen("Hi Bob", "Hi Rob", 1).into_bytes();
    vec![
        ("1", dated(encrypt(&sign(inner.as_bytes()), "bob.pem"))),
        ("2", dated(encrypt(&sign(inner.as_bytes()), "carol.pem"))),
        ("3", signed),
        ("4", tampered),
        ("5", format!("From: a@example.test\r\nContent-Type: text/plain\r\n\r\n{MARKER}\r\n").into_bytes()),
        // S/MIME only inside an unprotected message (uid 7 has no raw message at all).
        (
            "6",
            [
                b"From: a@example.test\r\nContent-Type: multipart/mixed; boundary=o\r\n\r\n--o\r\n\
                  Content-Type: text/plain\r\n\r\nsee the attachment\r\n--o\r\n"
                    .to_vec(),
                encrypt(&sign(inner.as_bytes()), "bob.pem"),
                b"\r\n--o--\r\n".to_vec(),
            ]
            .concat(),
        ),
    ]
}

/// A Roundcube-like view page: the body warning and the p7m attachment (uid 5 is plain).
fn view_page(uid: &str) -> String {
    let (body, attachment) = if uid == "5" {
        (format!("<div class=\"pre\">{MARKER}</div>"), "")
    } else {
        (
            "<span class=\"boxwarning\">This is an encrypted message and can not be displayed.</span>".to_owned(),
            "<li class=\"application pkcs7-mime p7m\">smime.p7m</li>",
        )
    };
    format!(
        "<!doctype html><html><head><title>view</title></head><body><div id=\"message-header\">h</div>\
         <div id=\"messagebody\">{body}</div><ul id=\"attachment-list\">{attachment}</ul></body></html>"
    )
}

/// An upstream answer of `content_type`.
fn reply(content_type: &str, body: Vec<u8>) -> Response<Full<Bytes>> {
    Response::builder().header("content-type", content_type).body(Full::new(Bytes::from(body))).unwrap()
}

struct Setup {
    _dir: tempfile::TempDir,
    upstream: Upstream,
    bob: BobsProxy,
    /// Cookie headers of the viewsource requests the upstream got.
    fetches: Arc<Mutex<Vec<String>>>,
}

async fn setup() -> Setup {
    let raw = Arc::new(messages());
    let fetches = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&fetches);
    let routes: Routes = Arc::new(move |parts: &hyper::http::request::Parts| {
        let query = smime_proxy::rules::Query::parse(parts.uri.query().unwrap_or_default());
        let uid = query.get("_uid")?;
        match query.get("_action")? {
            "show" | "preview" => Some(reply("text/html; charset=utf-8", view_page(uid).into_bytes())),
            "viewsource" => {
                let cookie = parts.headers.get("cookie").and_then(|v| v.to_str().ok()).unwrap_or_default();
                seen.lock().unwrap().push(cookie.to_owned());
                let message = raw.iter().find(|(u, _)| *u == uid)?.1.clone();
                Some(reply("text/plain; charset=utf-8", message))
            }
            _ => None,
        }
    });
    setup_with("roundcube", routes, fetches).await
}

/// A proxy for a site of `rule` served by `routes`, with bob's key unlocked.
async fn setup_with(rule: &str, routes: Routes, fetches: Arc<Mutex<Vec<String>>>) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let upstream = Upstream::start_with(&pki, routes).await;

    let site = format!("{}={rule}", upstream.by_name());
    let bob = BobsProxy::start(dir.path(), "", site, pki.write_ca(dir.path())).await;
    Setup { _dir: dir, upstream, bob, fetches }
}

impl Setup {
    fn page_origin(&self) -> String {
        format!("https://{}", self.upstream.by_name())
    }

    /// The view page of `uid`, as the browser gets it.
    async fn view(&self, uid: &str) -> Fetched {
        let req = Request::get(format!("/?_task=mail&_mbox=INBOX&_uid={uid}&_action=show"))
            .header("cookie", COOKIE)
            .body(Full::new(Bytes::new()))
            .unwrap();
        https_via_proxy(self.bob.proxy.local_addr(), &self.upstream.by_name(), &self.bob.roots(), req).await.unwrap()
    }

    /// The frame at `src` (an `https://smime-proxy.invalid/...` URL), as a frame of a page
    /// of `referer` loads it.
    async fn frame(&self, src: &str, referer: &str) -> Fetched {
        let path = src.strip_prefix(&format!("https://{ORIGIN}")).unwrap();
        let req = Request::get(path)
            .header("referer", referer)
            .header("sec-fetch-dest", "iframe")
            .header("sec-fetch-site", "cross-site")
            .body(Full::new(Bytes::new()))
            .unwrap();
        https_via_proxy(self.bob.proxy.local_addr(), &format!("{ORIGIN}:443"), &self.bob.roots(), req).await.unwrap()
    }
}

/// The iframe's `src` in a view page.
fn frame_src(page: &str) -> String {
    let start = page.find("<iframe class=\"smime-proxy-view\" src=\"").expect(page) + 38;
    page[start..].split('"').next().unwrap().to_owned()
}

#[tokio::test]
async fn an_encrypted_message_is_read_in_a_single_use_frame_the_page_never_sees() {
    let s = setup().await;
    let page = s.view("1").await;
    assert_eq!(page.status, 200);
    let text = page.text();
    assert!(!text.contains(MARKER), "plaintext in the webmail page: {text}");
    assert!(!text.contains("can not be displayed"), "the warning is replaced: {text}");
    assert!(text.contains("<div id=\"message-header\">h</div>"), "the rest of the page is kept");
    assert!(text.contains("sandbox=\"allow-downloads allow-popups allow-popups-to-escape-sandbox\""), "{text}");
    assert_eq!(page.header("content-length"), Some(page.body.len().to_string().as_str()));
    assert_eq!(s.fetches.lock().unwrap().as_slice(), [COOKIE], "viewsource fetched once, with the session");
    let src = frame_src(&text);
    assert!(src.starts_with(&format!("https://{ORIGIN}/view/")), "{src}");

    let frame = s.frame(&src, &format!("{}/", s.page_origin())).await;
    assert_eq!(frame.status, 200, "{}", frame.text());
    let doc = frame.text();
    assert!(doc.contains(&format!("Hi Bob, {MARKER}")), "{doc}");
    assert!(doc.contains("Signature valid") && doc.contains("smime-banner good"), "{doc}");
    assert!(doc.contains("Signed by alice@example.test"), "{doc}");
    assert!(doc.contains("The signer matches the From address."), "{doc}");
    assert!(doc.contains("Encrypted to you (AES-256-CBC, not integrity-protected"), "{doc}");
    assert!(doc.contains("Certificate chains to"), "{doc}");
    assert!(doc.find("smime-banner").unwrap() < doc.find(MARKER).unwrap(), "banner above the content");
    assert_eq!(frame.header("cache-control"), Some("no-store"));
    assert_eq!(frame.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(frame.header("x-frame-options"), None);
    let csp = frame.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && !csp.contains("script"), "{csp}");
    assert!(csp.contains(&format!("frame-ancestors {}", s.page_origin())), "{csp}");
    assert!(frame.header("access-control-allow-origin").is_none());

    // The attachment, from the same origin, for a short while.
    let part = doc.find("/part/0\"").map(|_| format!("{src}/part/0")).expect(&doc);
    let attachment = s.frame(&part, "").await;
    assert_eq!(attachment.status, 200);
    assert_eq!(attachment.text(), format!("attached {MARKER}"));
    assert_eq!(
        attachment.header("content-disposition"),
        Some("attachment; filename=\"secret.txt\"; filename*=UTF-8''secret.txt")
    );
    assert_eq!(attachment.header("content-type"), Some("application/octet-stream"));

    // Single use.
    let again = s.frame(&src, &format!("{}/", s.page_origin())).await;
    assert_eq!(again.status, 410);
    assert!(!again.text().contains(MARKER));

    // The signer was learned for replies.
    let learned = CertStore::new(&s.bob.config_dir).list().unwrap();
    assert!(learned.iter().any(|c| c.summary.addresses.iter().any(|a| a == "alice@example.test")), "{learned:?}");
}

#[tokio::test]
async fn a_frame_is_refused_to_other_sites_and_that_does_not_spend_it() {
    let s = setup().await;
    let src = frame_src(&s.view("1").await.text());
    for referer in ["https://evil.example/", "", &format!("{}.evil.example/", s.page_origin())] {
        let refused = s.frame(&src, referer).await;
        assert_eq!(refused.status, 403, "{referer}");
        assert!(!refused.text().contains(MARKER));
    }
    assert!(s.frame(&src, &s.page_origin()).await.text().contains(MARKER));
}

#[tokio::test]
async fn failures_and_signatures_get_their_banner() {
    let s = setup().await;
    let origin = format!("{}/", s.page_origin());

    let doc = s.frame(&frame_src(&s.view("2").await.text()), &origin).await.text();
    assert!(doc.contains("Not for your key") && !doc.contains(MARKER), "{doc}");

    let doc = s.frame(&frame_src(&s.view("3").await.text()), &origin).await.text();
    assert!(doc.contains("Signature valid") && doc.contains("Not encrypted") && doc.contains(MARKER), "{doc}");

    let doc = s.frame(&frame_src(&s.view("4").await.text()), &origin).await.text();
    assert!(doc.contains("Signature INVALID") && doc.contains("smime-banner bad"), "{doc}");

    s.bob.keys.lock();
    let doc = s.frame(&frame_src(&s.view("1").await.text()), &origin).await.text();
    assert!(doc.contains("the key store is locked") && doc.contains(&format!("http://{ORIGIN}/")), "{doc}");
    assert!(!doc.contains(MARKER));
}

#[tokio::test]
async fn nested_smime_and_fetch_failures_get_a_notice_and_no_frame() {
    let s = setup().await;
    let page = s.view("6").await.text();
    assert!(page.contains("class=\"smime-proxy-notice\""), "{page}");
    assert!(page.contains("only a part inside this message is S/MIME"), "{page}");
    assert!(page.contains("can not be displayed"), "the webmail's own content stays: {page}");
    assert!(!page.contains("<iframe") && !page.contains(MARKER), "{page}");

    let page = s.view("7").await.text();
    assert!(page.contains("could not fetch this message") && page.contains("404"), "{page}");
    assert!(!page.contains("<iframe"), "{page}");
}

#[tokio::test]
async fn plain_messages_pass_unchanged_without_fetching() {
    let s = setup().await;
    let page = s.view("5").await;
    assert_eq!(page.text(), view_page("5"));
    assert!(s.fetches.lock().unwrap().is_empty(), "no viewsource for a page without S/MIME hints");
}

/// Horde's preview pane: a JSON answer (in IMP's `/*-secure-` envelope) with the message
/// and the prefetched next one; each S/MIME entry's `msgtext` becomes a frame, the plain
/// one stays, and the answer is still IMP's JSON.
#[tokio::test]
async fn a_json_preview_gets_a_frame_per_smime_message_and_stays_json() {
    let raw = Arc::new(messages());
    let fetches = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&fetches);
    let routes: Routes = Arc::new(move |parts: &hyper::http::request::Parts| match parts.uri.path() {
        "/horde/services/ajax.php/imp/showMessage" => {
            let entry = |buid: &str, text: &str| {
                format!(r#"{{"buid":{buid},"mbox":"SU5CT1g","data":{{"subject":"s","msgtext":"{text}"}}}}"#)
            };
            let body = format!(
                r#"/*-secure-{{"response":{{"buid":1}},"tasks":{{"imp:message":[{},{}]}}}}*/"#,
                entry("1", "<div>The data in this part has been encrypted via S/MIME: smime.p7m</div>"),
                entry("5", &format!("<div>{MARKER}</div>")),
            );
            Some(reply("application/json", body.into_bytes()))
        }
        "/horde/imp/view.php" => {
            let query = smime_proxy::rules::Query::parse(parts.uri.query().unwrap_or_default());
            assert_eq!(query.get("actionID"), Some("view_source"));
            assert_eq!(query.get("mailbox"), Some("SU5CT1g"));
            let buid = query.get("buid")?;
            seen.lock().unwrap().push(buid.to_owned());
            let message = raw.iter().find(|(u, _)| *u == buid)?.1.clone();
            Some(reply("text/plain; charset=UTF-8", message))
        }
        _ => None,
    });
    let s = setup_with("horde", routes, fetches).await;
    let req = Request::post("/horde/services/ajax.php/imp/showMessage")
        .header("cookie", COOKIE)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from_static(b"view=SU5CT1g&buid=1&preview=1&token=t")))
        .unwrap();
    let page = https_via_proxy(s.bob.proxy.local_addr(), &s.upstream.by_name(), &s.bob.roots(), req).await.unwrap();
    assert_eq!(page.status, 200);
    let text = page.text();
    let json = text.strip_prefix("/*-secure-").and_then(|t| t.strip_suffix("*/")).expect(&text);
    let answer: serde_json::Value = serde_json::from_str(json).unwrap();
    let first = answer["tasks"]["imp:message"][0]["data"]["msgtext"].as_str().unwrap();
    assert!(first.starts_with("<iframe class=\"smime-proxy-view\""), "{first}");
    assert_eq!(
        answer["tasks"]["imp:message"][1]["data"]["msgtext"],
        format!("<div>{MARKER}</div>"),
        "plain: unchanged"
    );
    assert_eq!(s.fetches.lock().unwrap().as_slice(), ["1"], "only the S/MIME entry's raw message, once");
    let doc = s.frame(&frame_src(first), &format!("{}/", s.page_origin())).await.text();
    assert!(doc.contains(&format!("Hi Bob, {MARKER}")) && doc.contains("Signature valid"), "{doc}");
}

/// SOGo's message view: JSON whose `parts` become one part holding the frame; the raw
/// message comes from `export` with LF line ends and is read as CRLF.
#[tokio::test]
async fn a_json_view_with_an_lf_export_is_read() {
    let raw = Arc::new(messages());
    let fetches = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&fetches);
    let routes: Routes = Arc::new(move |parts: &hyper::http::request::Parts| {
        let rest = parts.uri.path().strip_prefix("/SOGo/so/bob@example.test/Mail/0/folderINBOX/")?;
        let (uid, action) = rest.split_once('/')?;
        match action {
            "view" => Some(reply(
                "application/json",
                br#"{"subject":"s","parts":{"type":"UIxMailPartLinkViewer","contentType":"application/pkcs7-mime","filename":"smime.p7m"}}"#.to_vec(),
            )),
            "export" => {
                let token = parts.headers.get("x-xsrf-token").and_then(|v| v.to_str().ok()).unwrap_or_default();
                seen.lock().unwrap().push(format!("{uid} {token}"));
                let message = raw.iter().find(|(u, _)| *u == uid)?.1.clone();
                let lf = String::from_utf8(message).unwrap().replace("\r\n", "\n");
                Some(reply("message/rfc822", lf.into_bytes()))
            }
            _ => None,
        }
    });
    let s = setup_with("sogo,submission=localhost:2525", routes, fetches).await;
    let req = Request::get("/SOGo/so/bob@example.test/Mail/0/folderINBOX/1/view")
        .header("cookie", COOKIE)
        .header("x-xsrf-token", "xsrf-1")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let page = https_via_proxy(s.bob.proxy.local_addr(), &s.upstream.by_name(), &s.bob.roots(), req).await.unwrap();
    let answer: serde_json::Value = serde_json::from_slice(&page.body).unwrap();
    assert_eq!(answer["subject"], "s");
    assert_eq!(answer["parts"]["type"], "UIxMailPartLinkViewer");
    let frame = answer["parts"]["content"].as_str().unwrap();
    assert_eq!(s.fetches.lock().unwrap().as_slice(), ["1 xsrf-1"], "export fetched with the XSRF header");
    let doc = s.frame(&frame_src(frame), &format!("{}/", s.page_origin())).await.text();
    assert!(doc.contains(&format!("Hi Bob, {MARKER}")) && doc.contains("Signature valid"), "{doc}");
}
