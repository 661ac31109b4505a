//! The key store: `keys import|list|remove` as users and scripts call them, encryption at
//! rest and file modes, `message --from-store`, and unlocking and locking a running proxy
//! (own page with token + same-origin checks, SIGUSR1, idle timeout).
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use smime_ca::LocalCa;
use smime_proxy::store::{CaVault, KeyRing, KeyStore, KeyUnavailable};
use smime_proxy::{Config, Overrides};
use smime_proxy_tests::{Output, openssl_ok, pki_bytes, pki_file, run, sample_message};
use support::{RunningBinary, get, http_via_proxy};

const ORIGIN: &str = "smime-proxy.invalid";
const STORE_PASSPHRASE: &str = "correct horse battery staple";

fn smime_proxy(home: &Path, args: &[&str], stdin: &[u8]) -> Output {
    run(
        Command::new(env!("CARGO_BIN_EXE_smime-proxy")).arg("--config-dir").arg(home).args(args).env_remove("RUST_LOG"),
        stdin,
    )
}

fn p(path: &Path) -> String {
    path.to_string_lossy().into_owned()
}

/// A configuration directory with a store passphrase file beside it.
struct Home {
    dir: tempfile::TempDir,
}

impl Home {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("store-pass"), format!("{STORE_PASSPHRASE}\n")).unwrap();
        std::fs::write(dir.path().join("wrong-pass"), "not it\n").unwrap();
        Self { dir }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn file(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn import(&self, p12: &str) -> Output {
        smime_proxy(
            self.path(),
            &[
                "keys",
                "import",
                &p(&pki_file(p12)),
                "--passphrase-file",
                &p(&pki_file("passphrase.txt")),
                "--store-passphrase-file",
                &p(&self.file("store-pass")),
            ],
            b"",
        )
    }
}

fn openssl_fingerprint(pem: &str) -> String {
    let out = openssl_ok(&["x509", "-noout", "-fingerprint", "-sha256", "-in", &p(&pki_file(pem))], b"");
    String::from_utf8(out).unwrap().trim().rsplit('=').next().unwrap().to_owned()
}

#[test]
fn imports_both_pkcs12_kinds_and_lists_them() {
    for (p12, cert) in [("alice.p12", "alice.pem"), ("alice-legacy.p12", "alice.pem"), ("carol.p12", "carol.pem")] {
        let home = Home::new();
        let out = home.import(p12);
        assert!(out.success, "{p12}: {}", out.stderr);
        assert!(out.stderr.contains("imported the key of"), "{}", out.stderr);

        let list = smime_proxy(home.path(), &["keys", "list"], b"");
        assert!(list.success, "{}", list.stderr);
        let text = String::from_utf8(list.stdout).unwrap();
        let name = cert.trim_end_matches(".pem");
        assert!(text.contains(&format!("{name}@example.test")), "{text}");
        assert!(text.contains(&format!("subject:     EMAIL={name}@example.test,CN=")), "{text}");
        assert!(text.contains("issuer:      O=smime-proxy tests,CN=smime-proxy Test CA"), "{text}");
        assert!(text.contains("valid:       20"), "{text}");
        assert!(text.contains(&format!("fingerprint: {}", openssl_fingerprint(cert))), "{text}");
    }
}

#[test]
fn a_second_import_needs_the_same_store_passphrase_and_duplicates_change_nothing() {
    let home = Home::new();
    assert!(home.import("alice.p12").success);
    let again = home.import("alice-legacy.p12");
    assert!(again.success && again.stderr.contains("already in the store"), "{}", again.stderr);

    let wrong = smime_proxy(
        home.path(),
        &[
            "keys",
            "import",
            &p(&pki_file("carol.p12")),
            "--passphrase-file",
            &p(&pki_file("passphrase.txt")),
            "--store-passphrase-file",
            &p(&home.file("wrong-pass")),
        ],
        b"",
    );
    assert_eq!(wrong.code, Some(1));
    assert_eq!(
        wrong.stderr.trim(),
        "smime-proxy: wrong store passphrase (the one given when the first key was imported)"
    );
    assert!(home.import("carol.p12").success);
    let list = String::from_utf8(smime_proxy(home.path(), &["keys", "list"], b"").stdout).unwrap();
    assert_eq!(list.matches("fingerprint:").count(), 2, "{list}");
}

#[test]
fn a_wrong_pkcs12_passphrase_is_one_clear_error() {
    let home = Home::new();
    for p12 in ["alice.p12", "alice-legacy.p12"] {
        let out = smime_proxy(
            home.path(),
            &[
                "keys",
                "import",
                &p(&pki_file(p12)),
                "--passphrase-file",
                &p(&home.file("wrong-pass")),
                "--store-passphrase-file",
                &p(&home.file("store-pass")),
            ],
            b"",
        );
        assert_eq!(out.code, Some(1));
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        assert!(out.stderr.contains(&format!("wrong passphrase for the PKCS#12 file {}", p(&pki_file(p12)))));
    }
    assert!(!home.file("keys").exists(), "nothing was stored");
}

#[test]
fn without_a_terminal_or_a_file_the_passphrase_is_a_clear_error() {
    let home = Home::new();
    let out = smime_proxy(home.path(), &["keys", "import", &p(&pki_file("alice.p12"))], b"test\n");
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr.contains("needed: give --passphrase-file FILE (there is no terminal to ask on)"),
        "{}",
        out.stderr
    );
    let out = smime_proxy(
        home.path(),
        &["keys", "import", &p(&pki_file("alice.p12")), "--passphrase-file", &p(&pki_file("passphrase.txt"))],
        b"",
    );
    assert!(out.stderr.contains("give --store-passphrase-file FILE"), "{}", out.stderr);
}

#[test]
fn the_store_holds_the_key_only_sealed_in_owner_only_files() {
    use std::os::unix::fs::PermissionsExt as _;
    let home = Home::new();
    assert!(home.import("alice.p12").success);

    let pem = String::from_utf8(pki_bytes("alice.key")).unwrap();
    let (_, pkcs8) = pem_rfc7468::decode_vec(pem.trim().as_bytes()).unwrap();
    // A run of the PKCS#8 (inside the private exponent), and a base64 line of the PEM.
    let inner = &pkcs8[600..632];
    let pem_line = pem.lines().nth(10).unwrap();
    assert!(pem_line.len() >= 60);

    let keys = home.file("keys");
    assert_eq!(std::fs::metadata(&keys).unwrap().permissions().mode() & 0o777, 0o700);
    let mut files = 0;
    for entry in std::fs::read_dir(&keys).unwrap() {
        let path = entry.unwrap().path();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}", path.display());
        let data = std::fs::read(&path).unwrap();
        assert!(!data.windows(inner.len()).any(|w| w == inner), "{} holds key bytes", path.display());
        assert!(!data.windows(pem_line.len()).any(|w| w == pem_line.as_bytes()), "{} holds the PEM", path.display());
        files += 1;
    }
    assert_eq!(files, 3, "sealed key, chain, metadata");
    let sealed = std::fs::read_dir(&keys)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".key.sealed"))
        .unwrap();
    assert!(std::fs::read(sealed).unwrap().starts_with(b"SPSEAL\x01"));
}

#[test]
fn keys_are_removed_by_address_or_fingerprint() {
    let home = Home::new();
    assert!(home.import("alice.p12").success);
    assert!(home.import("carol.p12").success);
    let out = smime_proxy(home.path(), &["keys", "remove", "carol@example.test"], b"");
    assert!(out.success && out.stderr.contains("removed the key of carol@example.test"), "{}", out.stderr);
    let prefix = &openssl_fingerprint("alice.pem")[..11];
    let out = smime_proxy(home.path(), &["keys", "remove", prefix], b"");
    assert!(out.success, "{}", out.stderr);
    let out = smime_proxy(home.path(), &["keys", "remove", "alice@example.test"], b"");
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("nothing in the key store matches `alice@example.test`"), "{}", out.stderr);
    assert_eq!(std::fs::read_dir(home.file("keys")).unwrap().count(), 0);
}

#[test]
fn message_takes_its_key_from_the_store() {
    let home = Home::new();
    assert!(home.import("alice.p12").success);
    let message = sample_message("alice@example.test", "bob@example.test", "from the store");
    let store_pass = p(&home.file("store-pass"));
    let signed = smime_proxy(
        home.path(),
        &["message", "sign", "--from-store", "alice@example.test", "--store-passphrase-file", &store_pass],
        &message,
    );
    assert!(signed.success, "{}", signed.stderr);
    let verified = smime_proxy(home.path(), &["message", "verify", "--trust", &p(&pki_file("ca.pem"))], &signed.stdout);
    assert!(verified.success && String::from_utf8_lossy(&verified.stdout).contains("Signature: valid"));

    // Locked (no passphrase, no terminal): signing fails and says how to unlock.
    let locked = smime_proxy(home.path(), &["message", "sign", "--from-store", "alice@example.test"], &message);
    assert_eq!(locked.code, Some(1));
    assert!(locked.stdout.is_empty());
    assert!(locked.stderr.contains("the key store is locked") && locked.stderr.contains("--store-passphrase-file"));
    let wrong = smime_proxy(
        home.path(),
        &[
            "message",
            "sign",
            "--from-store",
            "alice@example.test",
            "--store-passphrase-file",
            &p(&home.file("wrong-pass")),
        ],
        &message,
    );
    assert_eq!(wrong.stderr.trim(), "smime-proxy: wrong store passphrase");
}

// ---- a running proxy ----

fn post(path: &str, form: String, headers: &[(&str, &str)]) -> Request<Full<Bytes>> {
    let mut req =
        Request::post(format!("http://{ORIGIN}{path}")).header("content-type", "application/x-www-form-urlencoded");
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.body(Full::new(Bytes::from(form))).unwrap()
}

fn token_of(home: &str) -> String {
    let start = home.find("name=\"token\" value=\"").unwrap() + "name=\"token\" value=\"".len();
    home[start..start + 64].to_owned()
}

const SAME: &[(&str, &str)] = &[("origin", "http://smime-proxy.invalid"), ("sec-fetch-site", "same-origin")];

#[tokio::test]
async fn the_own_page_unlocks_and_locks_only_for_its_own_token_and_origin() {
    let dir = tempfile::tempdir().unwrap();
    let store = KeyStore::new(dir.path());
    let alice = smime_crypto::pkcs12::read_identity(&pki_bytes("alice.p12"), b"test").unwrap();
    store.import(&alice, STORE_PASSPHRASE.as_bytes()).unwrap();
    let keys = Arc::new(KeyRing::new(store, Duration::from_secs(600), "unlock it on the proxy's page"));
    let overrides = Overrides { listen: Some("127.0.0.1:0".into()), ..Overrides::default() };
    let config = Config::from_overrides(&overrides).unwrap();
    let ca = Arc::new(LocalCa::generate("test").unwrap());
    let vault = CaVault::from_root(&ca, config.intercepted_names(), config.leaf_cache_size).unwrap();
    let proxy = smime_proxy::start_with_keys(&config, Arc::new(vault), Arc::clone(&keys)).await.unwrap();
    let addr = proxy.local_addr();

    let home = http_via_proxy(addr, get(&format!("http://{ORIGIN}/"))).await;
    assert_eq!(home.header("cache-control"), Some("no-store"));
    assert!(home.text().contains("Locked (1 key stored)"), "{}", home.text());
    assert!(home.text().contains("action=\"/api/unlock\""));
    let token = token_of(&home.text());
    let good = format!("token={token}&passphrase={}", STORE_PASSPHRASE.replace(' ', "+"));

    // Another origin cannot unlock, even with the token; nor can a form without it.
    for headers in [
        &[("origin", "https://evil.example"), ("sec-fetch-site", "cross-site")][..],
        &[("origin", "null")][..],
        &[("referer", "https://evil.example/")][..],
        &[][..],
    ] {
        let res = http_via_proxy(addr, post("/api/unlock", good.clone(), headers)).await;
        assert_eq!(res.status, 403, "{headers:?}");
        assert!(res.header("access-control-allow-origin").is_none());
    }
    let no_token = format!("passphrase={}", STORE_PASSPHRASE.replace(' ', "+"));
    let res = http_via_proxy(addr, post("/api/unlock", no_token, SAME)).await;
    assert_eq!(res.status, 403);
    assert!(res.text().contains("missing or wrong token"));
    let res = http_via_proxy(addr, post("/api/unlock", format!("token={}&passphrase=x", "0".repeat(64)), SAME)).await;
    assert_eq!(res.status, 403);
    assert!(!keys.is_unlocked());
    assert!(matches!(keys.identity_for("alice@example.test"), Err(KeyUnavailable::Locked { .. })));

    // A wrong passphrase from the page itself: refused, still locked.
    let res = http_via_proxy(addr, post("/api/unlock", format!("token={token}&passphrase=nope"), SAME)).await;
    assert_eq!(res.status, 403);
    assert!(res.text().contains("Wrong store passphrase"));
    assert!(!keys.is_unlocked());

    // The right one.
    let res = http_via_proxy(addr, post("/api/unlock", good.clone(), SAME)).await;
    assert_eq!(res.status, 303, "{}", res.text());
    assert!(keys.identity_for("alice@example.test").is_ok());
    let home = http_via_proxy(addr, get(&format!("http://{ORIGIN}/"))).await;
    assert!(home.text().contains("Unlocked (1 key)") && home.text().contains("action=\"/api/lock\""));

    // Locking needs the same checks.
    let res =
        http_via_proxy(addr, post("/api/lock", format!("token={token}"), &[("origin", "https://evil.example")])).await;
    assert_eq!(res.status, 403);
    let res = http_via_proxy(addr, post("/api/lock", String::new(), SAME)).await;
    assert_eq!(res.status, 403);
    assert!(keys.is_unlocked());
    let res = http_via_proxy(addr, post("/api/lock", format!("token={token}"), SAME)).await;
    assert_eq!(res.status, 303);
    assert!(!keys.is_unlocked());
    let err = keys.identity_for("alice@example.test").unwrap_err();
    assert!(err.to_string().contains("unlock it on the proxy's page"), "{err}");
    proxy.shutdown().await.unwrap();
}

#[test]
fn run_unlocks_from_a_file_and_sigusr1_and_ctrl_c_lock() {
    let home = Home::new();
    assert!(home.import("alice.p12").success);
    let mut running = RunningBinary::start(home.path(), &["--store-passphrase-file", &p(&home.file("store-pass"))]);
    running.signal("USR1");
    let line = running.wait_for("SIGUSR1");
    assert!(line.contains("was_unlocked=true"), "{line}");
    running.signal("INT");
    running.wait_for("stopping");
    assert!(running.wait_exit().success());
}

#[test]
fn run_locks_the_store_after_the_idle_timeout_from_config() {
    let home = Home::new();
    assert!(home.import("alice.p12").success);
    std::fs::write(home.file("config.toml"), "lock_after_idle = \"300ms\"\nstore_passphrase_file = \"store-pass\"\n")
        .unwrap();
    let mut running = RunningBinary::start(home.path(), &[]);
    let line = running.wait_for("locking the key store: idle");
    assert!(line.contains("300ms"), "{line}");
}

#[test]
fn run_refuses_a_wrong_store_passphrase_file() {
    let home = Home::new();
    assert!(home.import("alice.p12").success);
    let out = smime_proxy(
        home.path(),
        &["run", "--listen", "127.0.0.1:0", "--store-passphrase-file", &p(&home.file("wrong-pass"))],
        b"",
    );
    assert_eq!(out.code, Some(1));
    assert!(out.stderr.contains("wrong store passphrase in"), "{}", out.stderr);
}
