//! The roaming key server from the proxy's side: `keys roam register|status` on one
//! machine, then a fresh proxy with no local key unlocks the key on its own page (token
//! and same-origin checked), in memory only, and locks it away again. The key server is
//! the real one (smime-keyserver, SQLite), over TLS from a test CA.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use smime_ca::LocalCa;
use smime_keyserver::server::{self, App, GuessLimit, ServerSecrets, Store};
use smime_proxy::store::{CaVault, KeyRing, KeyUnavailable};
use smime_proxy::{Config, Overrides};
use smime_proxy_tests::{Output, pki_bytes, pki_file, run};
use support::{UpstreamPki, get, http_via_proxy};

const ORIGIN: &str = "smime-proxy.invalid";
const ALICE: &str = "alice@example.test";
const SAME: &[(&str, &str)] = &[("origin", "http://smime-proxy.invalid"), ("sec-fetch-site", "same-origin")];

/// A key server on 127.0.0.1 (SQLite in `dir`); returns its URL, its OPAQUE key and an
/// enrolment token for alice.
async fn key_server(dir: &Path, pki: &UpstreamPki) -> (String, String, String) {
    let secrets_path = dir.join("server-secrets.json");
    ServerSecrets::create(&secrets_path).unwrap();
    let secrets = ServerSecrets::load(&secrets_path).unwrap();
    let key = base64::engine::general_purpose::STANDARD.encode(secrets.opaque.public_key());
    let store = Store::connect(&format!("sqlite://{}?mode=rwc", dir.join("ks.sqlite").display())).await.unwrap();
    let token = server::enrol(&store, ALICE, 1).await.unwrap();
    let app = Arc::new(App { store, secrets, limit: GuessLimit::default() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}", listener.local_addr().unwrap().port());
    tokio::spawn(server::serve(listener, pki.server_config(), app, std::future::pending()));
    (url, key, token)
}

/// A configuration directory pointing at the key server.
fn home(pki: &UpstreamPki, url: &str, key: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    pki.write_ca(dir.path());
    std::fs::write(
        dir.path().join("config.toml"),
        format!("upstream_ca = [\"upstream-ca.pem\"]\n\n[keyserver]\nurl = \"{url}\"\nserver_key = \"{key}\"\naccount = \"{ALICE}\"\n"),
    )
    .unwrap();
    dir
}

fn smime_proxy(home: &Path, args: &[&str]) -> Output {
    run(
        Command::new(env!("CARGO_BIN_EXE_smime-proxy")).arg("--config-dir").arg(home).args(args).env_remove("RUST_LOG"),
        b"",
    )
}

fn post(form: String, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut req = Request::post(format!("http://{ORIGIN}/api/roam/unlock"))
        .header("content-type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.body(Full::new(Bytes::from(form))).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_on_one_machine_unlock_on_a_fresh_proxy() {
    let pki = UpstreamPki::new("keyserver test CA");
    let server_dir = tempfile::tempdir().unwrap();
    let (url, key, token) = key_server(server_dir.path(), &pki).await;

    // Machine A: import alice's key, register it.
    let a = home(&pki, &url, &key);
    for (name, text) in [("store-pass", "store passphrase\n"), ("roam-pass", "roaming password\n"), ("token", &token)] {
        std::fs::write(a.path().join(name), text).unwrap();
    }
    let file = |name: &str| a.path().join(name).to_string_lossy().into_owned();
    let p12 = pki_file("alice.p12").to_string_lossy().into_owned();
    std::fs::write(a.path().join("p12-pass"), "test\n").unwrap();
    let imported = smime_proxy(
        a.path(),
        &[
            "keys",
            "import",
            &p12,
            "--passphrase-file",
            &file("p12-pass"),
            "--store-passphrase-file",
            &file("store-pass"),
        ],
    );
    assert!(imported.success, "{}", imported.stderr);
    let registered = tokio::task::spawn_blocking({
        let (home, args) = (a.path().to_owned(), [file("token"), file("roam-pass"), file("store-pass")]);
        move || {
            smime_proxy(
                &home,
                &[
                    "keys",
                    "roam",
                    "register",
                    "--token-file",
                    &args[0],
                    "--password-file",
                    &args[1],
                    "--store-passphrase-file",
                    &args[2],
                ],
            )
        }
    })
    .await
    .unwrap();
    assert!(registered.success, "{}", registered.stderr);
    assert!(registered.stderr.contains("registered the key of alice@example.test"), "{}", registered.stderr);
    let status = tokio::task::spawn_blocking({
        let (home, pass) = (a.path().to_owned(), file("roam-pass"));
        move || smime_proxy(&home, &["keys", "roam", "status", "--password-file", &pass])
    })
    .await
    .unwrap();
    assert!(status.success, "{}", status.stderr);
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(status.contains("envelope version: 1 (highest seen here: 1)") && status.contains("register"), "{status}");

    // Machine B: a fresh proxy without any local key.
    let b = home(&pki, &url, &key);
    let overrides = Overrides { listen: Some("127.0.0.1:0".into()), ..Overrides::default() };
    let config = Config::load(b.path(), &overrides).unwrap();
    let keys = Arc::new(KeyRing::without_store("no local key"));
    let root = LocalCa::generate("test").unwrap();
    let ca = CaVault::from_root(&root, config.intercepted_names(), config.leaf_cache_size).unwrap();
    let proxy = smime_proxy::start_with_keys(&config, Arc::new(ca), Arc::clone(&keys)).await.unwrap();
    let addr = proxy.local_addr();
    let page = http_via_proxy(addr, get(&format!("http://{ORIGIN}/"))).await.text();
    assert!(page.contains("Unlock from key server") && page.contains("action=\"/api/roam/unlock\""), "{page}");
    let start = page.find("name=\"token\" value=\"").unwrap() + "name=\"token\" value=\"".len();
    let token = &page[start..start + 64];
    let good = format!("token={token}&account=alice%40example.test&password=roaming+password");

    // Another origin cannot, even with the token; a wrong password is one sentence.
    let res = http_via_proxy(
        addr,
        post(good.clone(), &[("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")]),
    )
    .await;
    assert_eq!(res.status, 403);
    let res = http_via_proxy(addr, post(format!("token={token}&account={ALICE}&password=nope"), SAME)).await;
    assert_eq!(res.status, 403);
    assert!(
        res.text().contains(
            "The password is wrong or there is no such account on this key server (4 more login attempts allowed"
        ),
        "{}",
        res.text()
    );
    assert!(matches!(keys.identity_for(ALICE), Err(KeyUnavailable::Locked { .. })));

    let res = http_via_proxy(addr, post(good, SAME)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    let alice = smime_crypto::pkcs12::read_identity(&pki_bytes("alice.p12"), b"test").unwrap();
    assert_eq!(keys.identity_for(ALICE).unwrap().certificate, alice.certificate);
    let page = http_via_proxy(addr, get(&format!("http://{ORIGIN}/"))).await.text();
    assert!(page.contains("key_release") && page.contains("this proxy") && page.contains("Unlocked (1 key)"), "{page}");

    // In memory only: nothing under keys/, and locking wipes it like a local key.
    assert!(!b.path().join("keys").exists());
    keys.lock();
    assert!(matches!(keys.identity_for(ALICE), Err(KeyUnavailable::Locked { .. })));
    let roam = std::fs::read_to_string(b.path().join("roam.json")).unwrap();
    assert!(roam.contains("\"high_water\": 1"), "{roam}");
    drop(proxy);
}
