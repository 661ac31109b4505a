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
    let pass = dir.path().join("pass");
    std::fs::write(&pass, "init pass\n").unwrap();
    let init = Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
        .args(["--config-dir"])
        .arg(dir.path())
        .args(["init", "--store-passphrase-file"])
        .arg(&pass)
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

    let ca = Arc::new(CaFiles::new(dir.path()).unseal(b"init pass").unwrap().ca);
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
    assert_eq!(res.chain[2], *proxy.ca.certificate().der());
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

/// A request to the listen address as a web server (what a browser without proxy
/// settings sends to `http://127.0.0.1:PORT/...`), with `host` as its Host header.
async fn direct(proxy: &TestProxy, method: &str, path: &str, host: &str) -> Fetched {
    let req = Request::builder().method(method).uri(path).header("host", host).body(Full::new(Bytes::new())).unwrap();
    http_via_proxy(proxy.addr(), req).await
}

#[tokio::test]
async fn the_listen_address_serves_setup_page_pac_and_ca_and_nothing_that_changes_state() {
    let proxy = TestProxy::start(&["mail.example.org".to_owned()], vec![]).await;
    let listen = proxy.addr().to_string();

    // The PAC file, as through the proxy: a browser's "automatic configuration URL" can be
    // http://127.0.0.1:PORT/proxy.pac before anything else is set up.
    let pac = direct(&proxy, "GET", "/proxy.pac", &listen).await;
    assert_eq!((pac.status, pac.header("content-type")), (200, Some("application/x-ns-proxy-autoconfig")));
    assert!(pac.text().contains(&format!("PROXY {listen}")) && pac.text().contains("\"mail.example.org\""));
    let via_proxy = http_via_proxy(proxy.addr(), get(&format!("http://{ORIGIN}/proxy.pac"))).await;
    assert_eq!(pac.body, via_proxy.body);
    assert!(pac.headers.keys().all(|k| !k.as_str().starts_with("access-control-")), "no CORS grant");
    // Also when the browser sends loopback through the proxy (absolute URI of the listen address).
    let absolute = http_via_proxy(proxy.addr(), get(&format!("http://{listen}/proxy.pac"))).await;
    assert_eq!(absolute.body, pac.body);
    let ca = direct(&proxy, "GET", "/ca.pem", &format!("localhost:{}", proxy.addr().port())).await;
    assert_eq!(ca.body, proxy.ca.certificate().pem().as_bytes());

    // The setup page: the PAC URL, the probes, and a CSP that allows exactly its own script.
    let page = direct(&proxy, "GET", "/", &listen).await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains(&format!("http://{listen}/proxy.pac")), "{html}");
    assert!(!html.contains("name=\"token\"") && !html.contains("<form"), "no token, no form: nothing to submit");
    let script = html.split_once("<script>").unwrap().1.split_once("</script>").unwrap().0;
    use base64::Engine as _;
    use sha2::Digest as _;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(script));
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains(&format!("script-src 'sha256-{hash}'")), "{csp}");
    assert!(csp.contains(&format!("img-src http://{ORIGIN} https://{ORIGIN}")), "{csp}");
    let probe = http_via_proxy(proxy.addr(), get(&format!("http://{ORIGIN}/probe.gif"))).await;
    assert_eq!((probe.status, probe.header("content-type")), (200, Some("image/gif")));
    assert_eq!(probe.header("cross-origin-resource-policy"), Some("cross-origin"), "loadable by the setup page");

    // Nothing that changes state, and nothing for a name rebound to 127.0.0.1.
    assert_eq!(direct(&proxy, "POST", "/api/unlock", &listen).await.status, 404);
    assert_eq!(direct(&proxy, "POST", "/api/rewriting", &listen).await.status, 404);
    assert_eq!(direct(&proxy, "POST", "/", &listen).await.status, 405);
    let rebound = direct(&proxy, "GET", "/proxy.pac", &format!("evil.example:{}", proxy.addr().port())).await;
    assert_eq!(rebound.status, 421);
    assert!(!rebound.text().contains("mail.example.org"), "the PAC (which names the sites) is not given");
}
