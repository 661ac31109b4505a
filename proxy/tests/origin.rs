//! The proxy's own origin: served locally over HTTP and HTTPS, serves the CA, and a page
//! from another origin can neither change settings nor read anything sensitive.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use std::process::Command;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use smime_ca::CaFiles;
use support::*;

const ORIGIN: &str = "smime-proxy.invalid";

fn token_of(home: &str) -> String {
    let start = home.find("name=\"token\" value=\"").unwrap() + "name=\"token\" value=\"".len();
    home[start..start + 64].to_owned()
}

fn post_rewriting(form: String, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut req = Request::post("/api/rewriting").header("content-type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.body(Full::new(Bytes::from(form))).unwrap()
}

#[tokio::test]
async fn home_page_serves_the_ca_equal_to_ca_export() {
    let dir = tempfile::tempdir().unwrap();
    let init = Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
        .args(["--config-dir"])
        .arg(dir.path())
        .arg("init")
        .output()
        .unwrap();
    assert!(init.status.success());
    let exported = Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
        .arg("--config-dir")
        .arg(dir.path())
        .args(["ca", "export", "--format", "pem"])
        .output()
        .unwrap();
    assert!(exported.status.success());
    let exported_der = Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
        .arg("--config-dir")
        .arg(dir.path())
        .args(["ca", "export", "--format", "der"])
        .output()
        .unwrap();

    let ca = Arc::new(CaFiles::new(dir.path()).load().unwrap());
    let proxy = TestProxy::start_with_ca(&[], vec![], ca).await;

    // Plain HTTP: `GET http://smime-proxy.invalid/...` to the proxy.
    let home = http_via_proxy(proxy.addr(), get(&format!("http://{ORIGIN}/"))).await;
    assert_eq!(home.status, 200);
    assert!(home.text().contains("href=\"/ca.pem\""));
    assert!(home.text().contains("update-ca-certificates"));
    assert!(home.text().contains(&proxy.addr().to_string()), "status shows the listen address");
    let pem = http_via_proxy(proxy.addr(), get(&format!("http://{ORIGIN}/ca.pem"))).await;
    assert_eq!(pem.body, exported.stdout);
    let der = http_via_proxy(proxy.addr(), get(&format!("http://{ORIGIN}/ca.der"))).await;
    assert_eq!(der.body, exported_der.stdout);

    // HTTPS: CONNECT smime-proxy.invalid:443, answered by the proxy with a local leaf.
    let res =
        https_via_proxy(proxy.addr(), &format!("{ORIGIN}:443"), &proxy.local_ca_roots(), get("/ca.pem")).await.unwrap();
    assert_eq!(res.body, exported.stdout);
    assert_eq!(res.chain[1], *proxy.ca.cert_der());
}

#[tokio::test]
async fn pac_sends_only_sites_and_origin_through_the_proxy() {
    let proxy = TestProxy::start(&["mail.example.org".to_owned()], vec![]).await;
    let pac = http_via_proxy(proxy.addr(), get(&format!("http://{ORIGIN}/proxy.pac"))).await;
    assert_eq!(pac.header("content-type"), Some("application/x-ns-proxy-autoconfig"));
    let text = pac.text();
    assert!(text.contains("\"smime-proxy.invalid\", \"mail.example.org\""), "{text}");
    assert!(text.contains(&format!("PROXY {}", proxy.addr())), "{text}");
    assert!(text.contains("return \"DIRECT\""), "{text}");
}

#[tokio::test]
async fn other_origins_cannot_change_settings_or_read_the_token() {
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let upstream = Upstream::start(&pki).await;
    let proxy = TestProxy::start(&[upstream.by_name()], vec![pki.write_ca(dir.path())]).await;
    let roots = proxy.local_ca_roots();
    let mut own = Session::open(proxy.addr(), &format!("{ORIGIN}:443"), &roots).await.unwrap();

    // A foreign page fetching the home page gets no CORS grant, so the browser will not
    // let it read the token; all own pages carry the security headers.
    let home = own
        .send(
            Request::get("/")
                .header("origin", "https://evil.example")
                .header("sec-fetch-site", "cross-site")
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(home.headers.keys().all(|k| !k.as_str().starts_with("access-control-")));
    assert!(home.header("content-security-policy").unwrap().starts_with("default-src 'none'"));
    assert_eq!(home.header("x-frame-options"), Some("DENY"));
    assert_eq!(home.header("cache-control"), Some("no-store"));
    let token = token_of(&home.text());

    // A CORS preflight is not answered with a grant either.
    let preflight = own
        .send(
            Request::builder()
                .method("OPTIONS")
                .uri("/api/rewriting")
                .header("origin", "https://evil.example")
                .header("access-control-request-method", "POST")
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(preflight.headers.keys().all(|k| !k.as_str().starts_with("access-control-")));

    let marker_present = |proxy: &TestProxy, upstream: &Upstream| {
        let addr = proxy.addr();
        let authority = upstream.by_name();
        let roots = proxy.local_ca_roots();
        async move {
            https_via_proxy(addr, &authority, &roots, get(&format!("/page{COMPOSE}")))
                .await
                .unwrap()
                .text()
                .contains(MARKER)
        }
    };
    assert!(marker_present(&proxy, &upstream).await);

    // Even WITH the right token (worst case: it leaked), a cross-origin POST is refused.
    let form = format!("token={token}&enabled=off");
    for headers in [
        vec![("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")],
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("referer", "https://evil.example/page")],
        vec![],
    ] {
        let res = own.send(post_rewriting(form.clone(), &headers)).await.unwrap();
        assert_eq!(res.status, 403, "{headers:?}");
    }
    // A GET never changes state.
    let res = own.send(get("/api/rewriting?token=x&enabled=off")).await.unwrap();
    assert_eq!(res.status, 405);
    // Same origin but without, or with a wrong, token: refused.
    let same = [("origin", "https://smime-proxy.invalid"), ("sec-fetch-site", "same-origin")];
    for bad in ["enabled=off".to_owned(), format!("token={}&enabled=off", "0".repeat(64))] {
        let res = own.send(post_rewriting(bad, &same)).await.unwrap();
        assert_eq!(res.status, 403);
    }
    // Over plain HTTP a foreign origin is refused as well.
    let res = http_via_proxy(
        proxy.addr(),
        Request::post(format!("http://{ORIGIN}/api/rewriting"))
            .header("origin", "http://evil.example")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Full::new(Bytes::from(form.clone())))
            .unwrap(),
    )
    .await;
    assert_eq!(res.status, 403);
    assert!(marker_present(&proxy, &upstream).await, "nothing above changed the setting");

    // The proxy's own page (same origin + token) can: this proves the checks above are
    // what stopped the others.
    let res = own.send(post_rewriting(form, &same)).await.unwrap();
    assert_eq!(res.status, 303);
    assert!(!marker_present(&proxy, &upstream).await, "rewriting paused");
}

#[tokio::test]
async fn direct_requests_to_the_listen_port_get_nothing() {
    let proxy = TestProxy::start(&[], vec![]).await;
    // What a web page gets with fetch("http://127.0.0.1:PORT/"): no proxy URI.
    let tcp = tokio::net::TcpStream::connect(proxy.addr()).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(tcp)).await.unwrap();
    tokio::spawn(conn);
    let res = sender
        .send_request(
            Request::get("/ca.pem")
                .header("host", proxy.addr().to_string())
                .header("origin", "https://evil.example")
                .body(Full::new(Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert!(res.headers().keys().all(|k| !k.as_str().starts_with("access-control-")));
}
