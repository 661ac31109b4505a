//! Through the proxy to an in-process HTTPS upstream: which hosts are intercepted,
//! upstream verification, decoding, charsets, pass-through.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use support::*;

struct Setup {
    _dir: tempfile::TempDir,
    pki: UpstreamPki,
    upstream: Upstream,
    proxy: TestProxy,
}

/// One upstream with its own CA, intercepted as `localhost:PORT`, trusted via
/// `--upstream-ca`.
async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let upstream = Upstream::start(&pki).await;
    let proxy = TestProxy::start(&[upstream.by_name()], vec![pki.write_ca(dir.path())]).await;
    Setup { _dir: dir, pki, upstream, proxy }
}

#[tokio::test]
async fn intercepted_site_is_rewritten_with_the_local_ca_in_the_chain() {
    let s = setup().await;
    let res = https_via_proxy(
        s.proxy.addr(),
        &s.upstream.by_name(),
        &s.proxy.local_ca_roots(),
        get(&format!("/page{COMPOSE}")),
    )
    .await
    .unwrap();
    assert_eq!(res.status, 200);
    assert!(res.text().contains(&format!("<h2 id=\"aria-label-composeoptions\">o</h2>{MARKER}")), "{}", res.text());
    assert!(res.text().contains(r#"name="_smime_sign""#) && res.text().contains(r#"name="_smime_encrypt""#));
    assert_eq!(res.header("content-length"), Some(res.body.len().to_string().as_str()));
    // Leaf issued by the run's intermediate, issued by the local CA; all three in the chain.
    assert_eq!(res.chain.len(), 3, "leaf, intermediate, root");
    assert_eq!(issuer_cn(&res.chain[0]), "smime-proxy run intermediate");
    assert_eq!(issuer_cn(&res.chain[1]), "smime-proxy local CA (test)");
    assert_eq!(res.chain[2], *s.proxy.ca.certificate().der());
}

#[tokio::test]
async fn other_hosts_are_tunnelled_with_their_own_certificate() {
    let s = setup().await;
    // 127.0.0.1:PORT is not a configured site: the client must see the upstream's
    // certificate (it trusts only the upstream CA here, so MITM would fail the handshake).
    let res = https_via_proxy(s.proxy.addr(), &s.upstream.by_ip(), std::slice::from_ref(&s.pki.ca_der), get("/page"))
        .await
        .unwrap();
    assert_eq!(res.chain[0], s.pki.leaf_der);
    assert_eq!(issuer_cn(&res.chain[0]), "Upstream Test CA");
    assert_eq!(res.text(), PAGE, "tunnelled pages are not rewritten");
    // And trusting only the local CA fails: the proxy did not mint for it.
    let err = https_via_proxy(s.proxy.addr(), &s.upstream.by_ip(), &s.proxy.local_ca_roots(), get("/page"))
        .await
        .unwrap_err();
    assert!(err.contains("TLS"), "{err}");
}

#[tokio::test]
async fn untrusted_upstream_gets_the_error_page_not_the_content() {
    let dir = tempfile::tempdir().unwrap();
    let trusted = UpstreamPki::new("Upstream Test CA");
    let rogue = UpstreamPki::new("Rogue CA");
    let rogue_upstream = Upstream::start(&rogue).await;
    let proxy = TestProxy::start(&[rogue_upstream.by_name()], vec![trusted.write_ca(dir.path())]).await;
    let res =
        https_via_proxy(proxy.addr(), &rogue_upstream.by_name(), &proxy.local_ca_roots(), get("/page")).await.unwrap();
    assert_eq!(res.status, 502);
    let text = res.text();
    assert!(text.contains(&rogue_upstream.by_name()), "{text}");
    assert!(text.contains("UnknownIssuer"), "{text}");
    assert!(!text.contains("hello"), "upstream content leaked: {text}");
    assert!(rogue_upstream.received.lock().unwrap().is_empty(), "the request reached the rogue server");
}

#[tokio::test]
async fn gzip_and_brotli_pages_are_decoded_and_rewritten() {
    let s = setup().await;
    for path in ["/gzip", "/br"] {
        let path = &format!("{path}{COMPOSE}");
        let res =
            https_via_proxy(s.proxy.addr(), &s.upstream.by_name(), &s.proxy.local_ca_roots(), get(path)).await.unwrap();
        assert_eq!(res.status, 200, "{path}");
        assert_eq!(res.header("content-encoding"), None, "{path}");
        assert!(res.text().contains(&format!("<h2 id=\"aria-label-composeoptions\">o</h2>{MARKER}")), "{path}");
        assert!(res.text().ends_with("<p>hello</p></body></html>"), "{path}");
        assert_eq!(res.header("content-length"), Some(res.body.len().to_string().as_str()));
    }
}

#[tokio::test]
async fn windows_1252_page_keeps_its_charset_and_bytes() {
    let s = setup().await;
    let res = https_via_proxy(
        s.proxy.addr(),
        &s.upstream.by_name(),
        &s.proxy.local_ca_roots(),
        get(&format!("/latin1{COMPOSE}")),
    )
    .await
    .unwrap();
    assert_eq!(res.header("content-type"), Some("text/html; charset=windows-1252"));
    assert!(res.body.starts_with(format!("<html><body><h2 id=aria-label-composeoptions>o</h2>{MARKER}").as_bytes()));
    assert!(
        res.body.ends_with(b"</script><p>caf\xe9</p></body></html>"),
        "the controls and their report script, then the page"
    );
}

#[tokio::test]
async fn post_bodies_and_non_html_pass_unchanged() {
    let s = setup().await;
    let body: Vec<u8> = b"_task=mail&_action=plugin.x&text=<body>caf\xc3\xa9\x00\xff".to_vec();
    let req = Request::post("/echo")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body.clone())))
        .unwrap();
    let res = https_via_proxy(s.proxy.addr(), &s.upstream.by_name(), &s.proxy.local_ca_roots(), req).await.unwrap();
    assert_eq!(res.body, body);
    assert_eq!(s.upstream.received.lock().unwrap().last().unwrap(), &body);

    let res = https_via_proxy(s.proxy.addr(), &s.upstream.by_name(), &s.proxy.local_ca_roots(), get("/data.json"))
        .await
        .unwrap();
    assert_eq!(res.text(), "{\"body\":\"<body>\"}");
}

#[tokio::test]
async fn keep_alive_connection_serves_several_requests() {
    let s = setup().await;
    // Two requests over one CONNECT tunnel + TLS session.
    let res = support::https_via_proxy_many(
        s.proxy.addr(),
        &s.upstream.by_name(),
        &s.proxy.local_ca_roots(),
        &["/page", "/latin1", &format!("/page{COMPOSE}")],
    )
    .await;
    assert_eq!(res.len(), 3);
    assert!(res.iter().all(|r| r.status == 200));
    assert!(res[2].text().contains(MARKER));
}

#[tokio::test]
async fn websockets_pass_through_an_intercepted_site() {
    use hudsucker::futures::{SinkExt as _, StreamExt as _};
    use hudsucker::tokio_tungstenite::tungstenite::Message;
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let ws_addr = start_ws_echo(&pki).await;
    let authority = format!("localhost:{}", ws_addr.port());
    let proxy = TestProxy::start(std::slice::from_ref(&authority), vec![pki.write_ca(dir.path())]).await;
    let mut ws = wss_via_proxy(proxy.addr(), &authority, &proxy.local_ca_roots()).await;
    ws.send(Message::text("ping é")).await.unwrap();
    let echoed = ws.next().await.unwrap().unwrap();
    assert_eq!(echoed, Message::text("ping é"));
}

/// A host a configured site's rule blocks (SOGo's cloud spell checker) is answered by the
/// proxy itself with a refusal: intercepted with the local CA, never contacted.
#[tokio::test]
async fn hosts_a_site_rule_blocks_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let upstream = Upstream::start(&pki).await;
    let overrides = smime_proxy::Overrides {
        listen: Some("127.0.0.1:0".into()),
        sites: vec![format!("{}=sogo,submission=localhost:2525", upstream.by_name())],
        upstream_ca: vec![pki.write_ca(dir.path())],
        log: None,
        revocation: None,
    };
    let config = smime_proxy::Config::from_overrides(&overrides).unwrap();
    let ca = std::sync::Arc::new(smime_ca::LocalCa::generate("test").unwrap());
    let proxy = smime_proxy::start(&config, &ca).await.unwrap();
    let roots = vec![ca.certificate().der().clone()];
    let res = https_via_proxy(
        proxy.local_addr(),
        "svc.webspellchecker.net:443",
        &roots,
        get("/spellcheck31/wscbundle/wscbundle.js"),
    )
    .await
    .unwrap();
    assert_eq!(res.status, 403);
    assert!(res.text().contains("smime-proxy blocks svc.webspellchecker.net"), "{}", res.text());
    assert_eq!(issuer_cn(&res.chain[0]), "smime-proxy run intermediate", "blocked hosts are in the constraints");
}
