//! The roaming key server from the proxy's side: `keys roam register|status` on one
//! machine, then a fresh proxy with no local key unlocks the key on its own page (token
//! and same-origin checked), in memory only, and locks it away again. The key server is
//! the real one (smime-keyserver, SQLite), over TLS from a test CA.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use smime_ca::LocalCa;
use smime_crypto::seal::SealCost;
use smime_keyserver::server::{self, App, GuessLimit, ServerSecrets, Store};
use smime_proxy::store::{CaVault, KeyRing, KeyStore, KeyUnavailable};
use smime_proxy::{Config, Overrides};
use smime_proxy_tests::{Output, pki_bytes, pki_file, run};
use support::{UpstreamPki, get, http_via_proxy};

const ORIGIN: &str = "smime-proxy.invalid";
const ALICE: &str = "alice@example.test";
const SAME: &[(&str, &str)] = &[("origin", "http://smime-proxy.invalid"), ("sec-fetch-site", "same-origin")];

/// A key server on 127.0.0.1 (SQLite in `dir`).
struct TestKeyServer {
    url: String,
    /// Its OPAQUE public key, base64.
    key: String,
    /// An enrolment token for alice.
    token: String,
    /// The SQLite URL (tests play a server that rolls an envelope back).
    database: String,
    /// Stops the server when sent or dropped.
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn key_server(dir: &Path, pki: &UpstreamPki) -> TestKeyServer {
    let secrets_path = dir.join("server-secrets.json");
    ServerSecrets::create(&secrets_path).unwrap();
    let secrets = ServerSecrets::load(&secrets_path).unwrap();
    let key = base64::engine::general_purpose::STANDARD.encode(secrets.opaque.public_key());
    let database = format!("sqlite://{}?mode=rwc", dir.join("ks.sqlite").display());
    let store = Store::connect(&database).await.unwrap();
    let token = server::enrol(&store, ALICE, 1).await.unwrap();
    let app = Arc::new(App { store, secrets, limit: GuessLimit::default() });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}", listener.local_addr().unwrap().port());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::serve(listener, pki.server_config(), app, async {
        let _ = stopped.await;
    }));
    TestKeyServer { url, key, token, database, _stop: stop }
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

/// Machine A: a configuration directory with alice's key imported and registered on the
/// key server (files `store-pass`, `roam-pass` in it).
async fn registered_machine(pki: &UpstreamPki, ks: &TestKeyServer) -> tempfile::TempDir {
    let a = home(pki, &ks.url, &ks.key);
    for (name, text) in
        [("store-pass", "store passphrase\n"), ("roam-pass", "roaming password\n"), ("token", &ks.token)]
    {
        std::fs::write(a.path().join(name), text).unwrap();
    }
    let p12 = pki_file("alice.p12").to_string_lossy().into_owned();
    std::fs::write(a.path().join("p12-pass"), "test\n").unwrap();
    let imported = cli(
        a.path(),
        &["keys", "import", &p12, "--passphrase-file", "@p12-pass", "--store-passphrase-file", "@store-pass"],
    )
    .await;
    assert!(imported.success, "{}", imported.stderr);
    let registered = cli(
        a.path(),
        &[
            "keys",
            "roam",
            "register",
            "--token-file",
            "@token",
            "--password-file",
            "@roam-pass",
            "--store-passphrase-file",
            "@store-pass",
        ],
    )
    .await;
    assert!(registered.success, "{}", registered.stderr);
    assert!(registered.stderr.contains("registered the key of alice@example.test"), "{}", registered.stderr);
    a
}

/// Runs `smime-proxy --config-dir HOME ARGS` off the async threads (the key server runs
/// on them); `@name` in ARGS is the file `name` in HOME.
async fn cli(home: &Path, args: &[&str]) -> Output {
    let home = home.to_owned();
    let args: Vec<String> = args
        .iter()
        .map(|a| match a.strip_prefix('@') {
            Some(name) => home.join(name).to_string_lossy().into_owned(),
            None => (*a).to_owned(),
        })
        .collect();
    tokio::task::spawn_blocking(move || smime_proxy(&home, &args.iter().map(String::as_str).collect::<Vec<_>>()))
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_on_one_machine_unlock_on_a_fresh_proxy() {
    let pki = UpstreamPki::new("keyserver test CA");
    let server_dir = tempfile::tempdir().unwrap();
    let ks = key_server(server_dir.path(), &pki).await;
    let (url, key) = (ks.url.clone(), ks.key.clone());

    // Machine A: import alice's key, register it.
    let a = registered_machine(&pki, &ks).await;
    let file = |name: &str| a.path().join(name).to_string_lossy().into_owned();
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

/// `keys roam password` (a wrong current password refused and counted; afterwards the old
/// one no longer logs in, the new one releases the same key), then `keys roam publish` of
/// a new key: a fresh unlock gets the new key, and a machine that has seen it refuses the
/// older envelope a server serves back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn change_the_password_then_publish_a_new_key() {
    let pki = UpstreamPki::new("keyserver test CA");
    let server_dir = tempfile::tempdir().unwrap();
    let ks = key_server(server_dir.path(), &pki).await;
    let a = registered_machine(&pki, &ks).await;
    std::fs::write(a.path().join("new-pass"), "a new roaming password\n").unwrap();
    std::fs::write(a.path().join("wrong-pass"), "not the password\n").unwrap();

    let wrong = cli(
        a.path(),
        &["keys", "roam", "password", "--password-file", "@wrong-pass", "--new-password-file", "@new-pass"],
    )
    .await;
    assert!(!wrong.success);
    assert!(
        wrong
            .stderr
            .contains("the password is wrong or there is no such account on this key server (4 more login attempts"),
        "{}",
        wrong.stderr
    );
    let changed = cli(
        a.path(),
        &["keys", "roam", "password", "--password-file", "@roam-pass", "--new-password-file", "@new-pass"],
    )
    .await;
    assert!(changed.success, "{}", changed.stderr);
    assert!(
        changed.stderr.contains("changed the key-server password of alice@example.test (envelope version 2)"),
        "{}",
        changed.stderr
    );
    let old = cli(a.path(), &["keys", "roam", "status", "--password-file", "@roam-pass"]).await;
    assert!(!old.success && old.stderr.contains("the password is wrong"), "{}", old.stderr);
    let status = cli(a.path(), &["keys", "roam", "status", "--password-file", "@new-pass"]).await;
    assert!(status.success, "{}", status.stderr);
    let status = String::from_utf8_lossy(&status.stdout).into_owned();
    assert!(
        status.contains("envelope version: 2 (highest seen here: 2)") && status.contains("password_change"),
        "{status}"
    );

    let b = home(&pki, &ks.url, &ks.key);
    let server = roaming_client(b.path());
    let alice = smime_crypto::pkcs12::read_identity(&pki_bytes("alice.p12"), b"test").unwrap();
    let released = smime_proxy::roam::release(&server, b.path(), ALICE, b"a new roaming password").await.unwrap();
    assert_eq!(released.identity.certificate, alice.certificate, "the same key under the new password");
    let version_2 = raw_envelope(&ks.database).await;

    // A renewed certificate with a new key, imported on A, then published.
    let renewed = new_alice_p12(a.path());
    let imported = cli(
        a.path(),
        &["keys", "import", &renewed.p12, "--passphrase-file", "@p12-pass", "--store-passphrase-file", "@store-pass"],
    )
    .await;
    assert!(imported.success, "{}", imported.stderr);
    let ambiguous = cli(
        a.path(),
        &["keys", "roam", "publish", "--password-file", "@new-pass", "--store-passphrase-file", "@store-pass"],
    )
    .await;
    assert!(!ambiguous.success && ambiguous.stderr.contains("name one with --key"), "{}", ambiguous.stderr);
    let publish_renewed = [
        "keys",
        "roam",
        "publish",
        "--key",
        &renewed.fingerprint,
        "--password-file",
        "@new-pass",
        "--store-passphrase-file",
        "@store-pass",
    ];
    let published = cli(a.path(), &publish_renewed).await;
    assert!(published.success, "{}", published.stderr);
    assert!(published.stderr.contains("as envelope version 3 of alice@example.test"), "{}", published.stderr);

    // B unlocks again: the new key, and B has now seen version 3.
    let released = smime_proxy::roam::release(&server, b.path(), ALICE, b"a new roaming password").await.unwrap();
    assert_eq!(released.identity.certificate, renewed.certificate);
    assert_ne!(released.identity.certificate, alice.certificate);

    // The server rolls alice back to version 2: B refuses it, and A refuses to publish on it.
    set_envelope(&ks.database, 2, &version_2).await;
    let rolled = smime_proxy::roam::release(&server, b.path(), ALICE, b"a new roaming password").await.unwrap_err();
    assert!(
        rolled.to_string().contains("it is version 2, older than version 3 this device has already seen"),
        "{rolled}"
    );
    let refused = cli(a.path(), &publish_renewed).await;
    assert!(!refused.success && refused.stderr.contains("older than version 3"), "{}", refused.stderr);
}

/// The unlock form's local copy: off by default (nothing on disk after an unlock); with
/// the box, the key is sealed into the key store like an import, and after a restart it
/// unlocks with the store passphrase while the key server is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_copy_only_when_asked_and_it_unlocks_without_the_key_server() {
    let pki = UpstreamPki::new("keyserver test CA");
    let server_dir = tempfile::tempdir().unwrap();
    let ks = key_server(server_dir.path(), &pki).await;
    let _a = registered_machine(&pki, &ks).await;

    let b = home(&pki, &ks.url, &ks.key);
    let store_dir = b.path().join("keys");
    let config =
        Config::load(b.path(), &Overrides { listen: Some("127.0.0.1:0".into()), ..Overrides::default() }).unwrap();
    let keys = Arc::new(KeyRing::new(KeyStore::new(b.path()).with_cost(FAST), Duration::from_secs(600), "unlock"));
    let root = LocalCa::generate("test").unwrap();
    let ca = Arc::new(CaVault::from_root(&root, config.intercepted_names(), config.leaf_cache_size).unwrap());
    let proxy = smime_proxy::start_with_keys(&config, Arc::clone(&ca), Arc::clone(&keys)).await.unwrap();
    let addr = proxy.local_addr();
    let page = http_via_proxy(addr, get(&format!("http://{ORIGIN}/"))).await.text();
    assert!(page.contains("<input type=\"checkbox\" name=\"keep_local_copy\">"), "off by default: {page}");
    assert!(page.contains("name=\"store_passphrase_again\""), "the first key sets the store passphrase: {page}");
    let start = page.find("name=\"token\" value=\"").unwrap() + "name=\"token\" value=\"".len();
    let token = page[start..start + 64].to_owned();
    let unlock = |extra: &str| format!("token={token}&account=alice%40example.test&password=roaming+password{extra}");

    // Without the box: unlocked, and nothing on disk.
    let res = http_via_proxy(addr, post(unlock(""), SAME)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert!(keys.identity_for(ALICE).is_ok());
    assert_eq!(files_in(&store_dir), Vec::<String>::new());
    keys.lock();

    // With the box: a missing or mistyped store passphrase is refused before any login.
    let res = http_via_proxy(addr, post(unlock("&keep_local_copy=on"), SAME)).await;
    assert_eq!(res.status, 400);
    assert!(res.text().contains("A local copy needs the store passphrase. Nothing was unlocked."), "{}", res.text());
    let res = http_via_proxy(
        addr,
        post(unlock("&keep_local_copy=on&store_passphrase=store+pass&store_passphrase_again=stroe+pass"), SAME),
    )
    .await;
    assert_eq!(res.status, 400);
    assert!(res.text().contains("The two store passphrases differ. Nothing was unlocked."), "{}", res.text());
    assert!(matches!(keys.identity_for(ALICE), Err(KeyUnavailable::Locked { .. })));
    assert_eq!(files_in(&store_dir), Vec::<String>::new());

    let res = http_via_proxy(
        addr,
        post(unlock("&keep_local_copy=on&store_passphrase=store+pass&store_passphrase_again=store+pass"), SAME),
    )
    .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let alice = smime_crypto::pkcs12::read_identity(&pki_bytes("alice.p12"), b"test").unwrap();
    assert_eq!(keys.identity_for(ALICE).unwrap().certificate, alice.certificate);
    let fingerprint = smime_proxy::store::Fingerprint::of(&alice.certificate).unwrap().hex();
    assert_eq!(
        files_in(&store_dir),
        [".chain.pem", ".key.sealed", ".toml"].map(|ext| format!("{fingerprint}{ext}")).to_vec(),
        "the same three files as `keys import` writes"
    );
    let sealed = std::fs::read(store_dir.join(format!("{fingerprint}.key.sealed"))).unwrap();
    let pkcs8 = alice.key.to_pkcs8_der().unwrap();
    assert!(!sealed.windows(64).any(|w| pkcs8.windows(64).any(|k| k == w)), "the key is sealed, not in clear");

    // Once the store has a key, a wrong store passphrase is refused before the login.
    let res = http_via_proxy(addr, post(unlock("&keep_local_copy=on&store_passphrase=wrong"), SAME)).await;
    assert_eq!(res.status, 403);
    assert!(res.text().contains("Wrong store passphrase"), "{}", res.text());

    // Restart without the key server: the key unlocks from the store alone.
    drop(proxy);
    drop(ks);
    let keys = KeyRing::new(KeyStore::new(b.path()), Duration::from_secs(600), "unlock");
    assert_eq!(keys.unlock(b"store pass").unwrap(), 1);
    assert_eq!(keys.identity_for(ALICE).unwrap().certificate, alice.certificate);
}

/// Sealing cost for keys these tests store (the real cost is Argon2id at 64 MiB).
const FAST: SealCost = SealCost { memory_kib: 8 * 1024, iterations: 1, parallelism: 1 };

/// The names of the files in `dir` (none when it does not exist), sorted.
fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| entries.map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect())
        .unwrap_or_default();
    names.sort();
    names
}

/// The configured key server of the configuration directory `home`, as the proxy builds it.
fn roaming_client(home: &Path) -> smime_keyserver::client::KeyServer {
    let config = Config::load(home, &Overrides::default()).unwrap();
    let tls = smime_proxy::client_config(&config.upstream_ca).unwrap();
    smime_proxy::roam::connect(config.keyserver.as_ref().unwrap(), tls, None).unwrap()
}

/// A renewed certificate for alice with a new key, from the test CA (openssl).
struct Renewed {
    p12: String,
    fingerprint: String,
    certificate: smime_crypto::Certificate,
}

fn new_alice_p12(dir: &Path) -> Renewed {
    let path = |name: &str| dir.join(name).to_string_lossy().into_owned();
    std::fs::write(
        dir.join("ext.cnf"),
        "basicConstraints = CA:FALSE\nkeyUsage = critical, digitalSignature, keyEncipherment\n\
         extendedKeyUsage = emailProtection\nsubjectAltName = email:alice@example.test\n",
    )
    .unwrap();
    let openssl = |args: &[&str]| {
        let out = run(Command::new("openssl").args(args), b"");
        assert!(out.success, "openssl {args:?}: {}", out.stderr);
        out
    };
    openssl(&["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", &path("alice2.key")]);
    openssl(&[
        "req",
        "-new",
        "-key",
        &path("alice2.key"),
        "-subj",
        "/CN=Alice Renewed/emailAddress=alice@example.test",
        "-out",
        &path("alice2.csr"),
    ]);
    let (ca, ca_key) =
        (pki_file("ca.pem").to_string_lossy().into_owned(), pki_file("ca.key").to_string_lossy().into_owned());
    openssl(&[
        "x509",
        "-req",
        "-in",
        &path("alice2.csr"),
        "-CA",
        &ca,
        "-CAkey",
        &ca_key,
        "-set_serial",
        "4242",
        "-days",
        "30",
        "-sha256",
        "-extfile",
        &path("ext.cnf"),
        "-out",
        &path("alice2.pem"),
    ]);
    openssl(&[
        "pkcs12",
        "-export",
        "-in",
        &path("alice2.pem"),
        "-inkey",
        &path("alice2.key"),
        "-passout",
        "pass:test",
        "-out",
        &path("alice2.p12"),
    ]);
    let fingerprint = String::from_utf8_lossy(
        &openssl(&["x509", "-in", &path("alice2.pem"), "-noout", "-fingerprint", "-sha256"]).stdout,
    )
    .trim()
    .rsplit_once('=')
    .unwrap()
    .1
    .to_owned();
    let certificate = smime_crypto::load_certificates(&std::fs::read(path("alice2.pem")).unwrap()).unwrap().remove(0);
    Renewed { p12: path("alice2.p12"), fingerprint, certificate }
}

async fn raw_envelope(database: &str) -> Vec<u8> {
    use sqlx::{Connection as _, Row as _};
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(database).await.unwrap();
    sqlx::query("SELECT body FROM envelopes").fetch_one(&mut conn).await.unwrap().try_get(0).unwrap()
}

async fn set_envelope(database: &str, version: i64, body: &[u8]) {
    use sqlx::Connection as _;
    let mut conn = sqlx::AnyConnection::connect(database).await.unwrap();
    sqlx::query("UPDATE envelopes SET version = $1, body = $2")
        .bind(version)
        .bind(body)
        .execute(&mut conn)
        .await
        .unwrap();
}
