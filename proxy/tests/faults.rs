//! Faults of the proxy's peers, each ending with a clear answer and nothing lost or sent:
//! an upstream that dies in the middle of a page, answers garbage or trickles, a client
//! with huge header fields, hundreds of idle connections, a compose body just over the
//! limit.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use support::*;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// An HTTPS upstream that reads each request's head, writes `reply` as it is, and closes.
async fn scripted_upstream(pki: &UpstreamPki, reply: &'static [u8]) -> SocketAddr {
    tls_server(pki, move |mut tls| async move {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && tls.read(&mut byte).await.is_ok_and(|n| n == 1) {
            head.push(byte[0]);
        }
        let _ = tls.write_all(reply).await;
        let _ = tls.shutdown().await;
    })
    .await
}

/// An HTTPS upstream that answers each request with the head of a 2,000-byte HTML page,
/// then one byte of it every 100 ms, until the page is sent or the peer is gone.
async fn trickling_upstream(pki: &UpstreamPki) -> SocketAddr {
    tls_server(pki, move |mut tls| async move {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") && tls.read(&mut byte).await.is_ok_and(|n| n == 1) {
            head.push(byte[0]);
        }
        let start = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 2000\r\n\r\n";
        if tls.write_all(start).await.is_err() {
            return;
        }
        for _ in 0..2000 {
            if tls.write_all(b"x").await.is_err() || tls.flush().await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    })
    .await
}

/// A proxy intercepting `localhost:PORT` of `upstream`, trusting `pki`.
async fn proxy_for(pki: &UpstreamPki, upstream: SocketAddr, dir: &std::path::Path) -> TestProxy {
    TestProxy::start(&[format!("localhost:{}", upstream.port())], vec![pki.write_ca(dir)]).await
}

const COMPOSE: &str = "/?_task=mail&_action=compose&_id=faults";

#[tokio::test]
async fn an_upstream_that_dies_mid_page_is_never_passed_on_as_a_whole_page() {
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    // 100,000 bytes announced, 30 sent, then the connection ends.
    let upstream = scripted_upstream(
        &pki,
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 100000\r\n\r\n<html><body><h2 id=aria-label-",
    )
    .await;
    let proxy = proxy_for(&pki, upstream, dir.path()).await;
    let authority = format!("localhost:{}", upstream.port());

    // A compose page is read whole before it is rewritten: a cut one is a 502 that says so.
    let res = https_via_proxy(proxy.addr(), &authority, &proxy.local_ca_roots(), get(COMPOSE)).await.unwrap();
    assert_eq!(res.status, 502);
    assert!(res.text().contains("could not be read completely"), "{}", res.text());

    // Any other page streams through: the browser sees the cut too, never a complete body.
    let (mut tls, _) = connect_tls(proxy.addr(), &authority, &proxy.local_ca_roots()).await.unwrap();
    tls.write_all(format!("GET /other HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), tls.read_to_end(&mut got)).await.expect("the proxy ends it");
    let text = String::from_utf8_lossy(&got);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    assert!(body.len() < 100_000, "a cut body is not completed: {} bytes", body.len());
}

#[tokio::test]
async fn a_trickling_upstream_ends_in_a_504_for_a_page_read_whole_and_streams_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let upstream = trickling_upstream(&pki).await;
    let authority = format!("localhost:{}", upstream.port());
    let mut config = TestProxy::config(std::slice::from_ref(&authority), vec![pki.write_ca(dir.path())]);
    config.upstream_timeout = Duration::from_secs(2);
    let proxy =
        TestProxy::start_with_config(&config, std::sync::Arc::new(smime_ca::LocalCa::generate("test").unwrap())).await;

    // A compose page is read whole: after the time limit, a 504 that says so, not a part of it.
    let started = std::time::Instant::now();
    let res = https_via_proxy(proxy.addr(), &authority, &proxy.local_ca_roots(), get(COMPOSE)).await.unwrap();
    assert_eq!(res.status, 504, "{}", res.text());
    assert!(res.text().contains("not complete within 2 s"), "{}", res.text());
    assert!(!res.text().contains("xxx"), "nothing of the page is passed on");
    assert!(started.elapsed() < Duration::from_secs(15), "ended by the limit, not by the page");

    // Any other page streams: the browser has its first bytes long before the page is whole.
    let (mut tls, _) = connect_tls(proxy.addr(), &authority, &proxy.local_ca_roots()).await.unwrap();
    tls.write_all(format!("GET /other HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes()).await.unwrap();
    let mut got = Vec::new();
    let mut chunk = [0u8; 512];
    let streamed = tokio::time::timeout(Duration::from_secs(10), async {
        while !String::from_utf8_lossy(&got).contains("\r\n\r\nxxxxx") {
            let n = tls.read(&mut chunk).await.unwrap();
            assert_ne!(n, 0, "the connection stays open while the page trickles");
            got.extend_from_slice(&chunk[..n]);
        }
    })
    .await;
    assert!(streamed.is_ok(), "the first bytes are passed on as they come: {}", String::from_utf8_lossy(&got));
}

#[tokio::test]
async fn garbage_from_the_upstream_is_a_502_naming_the_host() {
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let upstream = scripted_upstream(&pki, b"SSH-2.0-OpenSSH_9.2\r\nnot http at all\r\n\r\n").await;
    let proxy = proxy_for(&pki, upstream, dir.path()).await;
    let authority = format!("localhost:{}", upstream.port());
    for path in [COMPOSE, "/other"] {
        let res = https_via_proxy(proxy.addr(), &authority, &proxy.local_ca_roots(), get(path)).await.unwrap();
        assert_eq!(res.status, 502, "{path}");
        assert!(res.text().contains(&authority), "names the host: {}", res.text());
    }
}

#[tokio::test]
async fn huge_request_headers_are_refused_and_the_proxy_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let upstream = Upstream::start(&pki).await;
    let proxy = TestProxy::start(&[upstream.by_name()], vec![pki.write_ca(dir.path())]).await;
    let roots = proxy.local_ca_roots();

    let huge = Request::get("/page").header("x-filler", "a".repeat(1024 * 1024)).body(Full::new(Bytes::new())).unwrap();
    match https_via_proxy(proxy.addr(), &upstream.by_name(), &roots, huge).await {
        Ok(res) => assert_eq!(res.status, 431, "{}", res.text()),
        Err(closed) => assert!(!closed.is_empty(), "the connection was closed"),
    }
    assert!(upstream.received.lock().unwrap().is_empty(), "nothing reached the upstream");
    let res = https_via_proxy(proxy.addr(), &upstream.by_name(), &roots, get("/page")).await.unwrap();
    assert_eq!(res.status, 200, "the next client is served");
}

#[tokio::test]
async fn hundreds_of_idle_connections_do_not_stop_the_proxy() {
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let upstream = Upstream::start(&pki).await;
    let proxy = TestProxy::start(&[upstream.by_name()], vec![pki.write_ca(dir.path())]).await;
    let mut idle = Vec::new();
    for _ in 0..300 {
        idle.push(TcpStream::connect(proxy.addr()).await.unwrap());
    }
    // Half of them start a request line and stop there.
    for stream in idle.iter_mut().step_by(2) {
        stream.write_all(b"GET http://smime-proxy.invalid/ HTTP/1.1\r\nHost: sm").await.unwrap();
    }
    let served = tokio::time::timeout(
        Duration::from_secs(20),
        https_via_proxy(proxy.addr(), &upstream.by_name(), &proxy.local_ca_roots(), get("/page")),
    )
    .await
    .expect("served while 300 connections sit idle")
    .unwrap();
    assert_eq!(served.status, 200);
    drop(idle);
}

#[tokio::test]
async fn a_compose_body_just_over_the_limit_is_refused_and_nothing_is_forwarded() {
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let upstream = Upstream::start(&pki).await;
    let proxy = TestProxy::start(&[upstream.by_name()], vec![pki.write_ca(dir.path())]).await;
    // Roundcube's send form, one byte over the proxy's 64 MiB limit for compose bodies.
    let head = "_token=t&_task=mail&_action=send&_id=x&_to=bob%40example.test&_smime_encrypt=1&_message=";
    let mut body = head.as_bytes().to_vec();
    body.resize(64 * 1024 * 1024 + 1, b'a');
    let req = Request::post("/?_task=mail&_unlock=loading1&_framed=1")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let res = https_via_proxy(proxy.addr(), &upstream.by_name(), &proxy.local_ca_roots(), req).await.unwrap();
    assert_eq!(res.status, 413);
    assert!(res.text().contains("nothing was sent"), "{}", res.text());
    assert!(upstream.received.lock().unwrap().is_empty(), "nothing reached the webmail");
}
