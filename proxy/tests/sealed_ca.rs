//! The interception CA at rest and at start: a configuration directory holds no usable
//! CA key (a copy of it, without the store passphrase, intercepts nothing), a proxy
//! started without the passphrase refuses the sites until its own page unlocks it, a new
//! directory chooses its passphrase there, and a clear `ca-key.pem` of an older version is
//! sealed at the first unlock with the same SPKI. Through the real binary.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use rustls::pki_types::CertificateDer;
use support::{RunningBinary, connect_tls, get, http_via_proxy, https_via_proxy};

const ORIGIN: &str = "smime-proxy.invalid";
const SITE: &str = "mail.example.test";
const PASSPHRASE: &str = "sealed ca test passphrase";
const SAME: &[(&str, &str)] = &[("origin", "http://smime-proxy.invalid"), ("sec-fetch-site", "same-origin")];

fn smime_proxy(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_smime-proxy")).arg("--config-dir").arg(dir).args(args).output().unwrap()
}

fn passphrase_file(dir: &Path, text: &str) -> String {
    let path = dir.join("store-pass");
    std::fs::write(&path, format!("{text}\n")).unwrap();
    path.to_str().unwrap().to_owned()
}

/// `smime-proxy run` for `SITE` in the background, stdin not a terminal.
fn running(dir: &Path, extra: &[&str]) -> RunningBinary {
    let site = format!("{SITE}=roundcube");
    RunningBinary::start(dir, &[&["--site", &site], extra].concat())
}

fn exported_root(dir: &Path) -> CertificateDer<'static> {
    let der = smime_proxy(dir, &["ca", "export", "--format", "der"]);
    assert!(der.status.success(), "{}", String::from_utf8_lossy(&der.stderr));
    CertificateDer::from(der.stdout)
}

fn spki(dir: &Path) -> String {
    String::from_utf8(smime_proxy(dir, &["ca", "export", "--format", "spki-sha256"]).stdout).unwrap()
}

fn token_of(home: &str) -> String {
    let start = home.find("name=\"token\" value=\"").unwrap() + "name=\"token\" value=\"".len();
    home[start..start + 64].to_owned()
}

async fn post_unlock(addr: SocketAddr, token: &str, fields: &str) -> u16 {
    let mut req = Request::post(format!("http://{ORIGIN}/api/unlock"))
        .header("content-type", "application/x-www-form-urlencoded");
    for (name, value) in SAME {
        req = req.header(*name, *value);
    }
    let body = format!("token={token}&{fields}");
    http_via_proxy(addr, req.body(Full::new(Bytes::from(body))).unwrap()).await.status
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.path().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

#[tokio::test]
async fn a_copy_of_the_config_directory_intercepts_nothing_until_the_own_page_unlocks_it() {
    let tmp = tempfile::tempdir().unwrap();
    let original = tmp.path().join("original");
    std::fs::create_dir(&original).unwrap();
    let pass = passphrase_file(tmp.path(), PASSPHRASE);
    let init = smime_proxy(&original, &["init", "--store-passphrase-file", &pass]);
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    for entry in std::fs::read_dir(&original).unwrap() {
        let text = String::from_utf8_lossy(&std::fs::read(entry.unwrap().path()).unwrap()).into_owned();
        assert!(!text.contains("PRIVATE KEY"), "no clear key in the configuration directory");
    }
    assert!(original.join("ca-key.sealed").is_file() && !original.join("ca-key.pem").exists());

    // The copy: everything in the directory, not the passphrase.
    let copy = tmp.path().join("copy");
    std::fs::create_dir(&copy).unwrap();
    copy_dir(&original, &copy);
    let root = exported_root(&copy);
    let mut proxy = running(&copy, &[]);
    proxy.wait_for("the local CA is sealed");
    for authority in [format!("{SITE}:443"), format!("{ORIGIN}:443")] {
        let refused = connect_tls(proxy.addr, &authority, std::slice::from_ref(&root)).await.unwrap_err();
        assert!(refused.contains("503"), "{authority}: {refused}");
    }
    proxy.wait_for(&format!("refused: the local CA is sealed; unlock it at http://{ORIGIN}/"));
    // A plain-HTTP request for the site's own host:port is not passed on either.
    let plain = http_via_proxy(proxy.addr, get(&format!("http://{SITE}:443/"))).await;
    assert_eq!(plain.status, 503);
    assert!(plain.text().contains(&format!("http://{ORIGIN}/")), "{}", plain.text());

    let home = http_via_proxy(proxy.addr, get(&format!("http://{ORIGIN}/"))).await;
    assert!(home.text().contains("Sealed.") && home.text().contains("action=\"/api/unlock\""), "{}", home.text());
    let token = token_of(&home.text());
    assert_eq!(post_unlock(proxy.addr, &token, "passphrase=a+guess").await, 403);
    let refused = connect_tls(proxy.addr, &format!("{SITE}:443"), std::slice::from_ref(&root)).await.unwrap_err();
    assert!(refused.contains("503"), "{refused}");

    // The owner's passphrase on the own page: the intermediate is minted, the site intercepted.
    assert_eq!(post_unlock(proxy.addr, &token, &format!("passphrase={}", PASSPHRASE.replace(' ', "+"))).await, 303);
    let (_, chain) = connect_tls(proxy.addr, &format!("{SITE}:443"), std::slice::from_ref(&root)).await.unwrap();
    assert_eq!(chain.len(), 3, "leaf, intermediate, root");
    assert_eq!(chain[2], root);
    let page = https_via_proxy(proxy.addr, &format!("{ORIGIN}:443"), std::slice::from_ref(&root), get("/")).await;
    assert_eq!(page.unwrap().status, 200);
}

#[tokio::test]
async fn a_new_directory_chooses_its_passphrase_on_the_own_page() {
    let tmp = tempfile::tempdir().unwrap();
    let mut proxy = running(tmp.path(), &[]);
    proxy.wait_for("no local CA yet: choose the store passphrase");
    let missing = http_via_proxy(proxy.addr, get(&format!("http://{ORIGIN}/ca.pem"))).await;
    assert_eq!(missing.status, 404);
    assert!(missing.text().contains("choose the store passphrase"), "{}", missing.text());

    let home = http_via_proxy(proxy.addr, get(&format!("http://{ORIGIN}/"))).await;
    assert!(home.text().contains("Create the local CA"), "{}", home.text());
    let token = token_of(&home.text());
    assert_eq!(post_unlock(proxy.addr, &token, "passphrase=one&confirm=two").await, 400);
    assert!(!tmp.path().join("ca.pem").exists(), "nothing created from differing passphrases");
    assert_eq!(post_unlock(proxy.addr, &token, "passphrase=chosen+here&confirm=chosen+here").await, 303);

    let pem = http_via_proxy(proxy.addr, get(&format!("http://{ORIGIN}/ca.pem"))).await;
    assert_eq!(pem.status, 200);
    assert!(tmp.path().join("ca-key.sealed").is_file() && !tmp.path().join("ca-key.pem").exists());
    let root = exported_root(tmp.path());
    let (_, chain) = connect_tls(proxy.addr, &format!("{SITE}:443"), std::slice::from_ref(&root)).await.unwrap();
    assert_eq!(chain[2], root);
    drop(proxy);

    // The next start takes the chosen passphrase, and only it.
    let wrong = passphrase_file(tmp.path(), "another");
    let out = smime_proxy(tmp.path(), &["run", "--listen", "127.0.0.1:0", "--store-passphrase-file", &wrong]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong store passphrase in"));
}

#[tokio::test]
async fn a_clear_key_of_an_older_version_is_sealed_at_the_first_unlock_with_the_same_spki() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("conf");
    std::fs::create_dir(&dir).unwrap();
    // A root as smime-proxy wrote them before sealing: clear PKCS#8, pathlen 0 (made by OpenSSL).
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"])
        .args(["-keyout", "ca-key.pem", "-out", "ca.pem", "-days", "30", "-subj", "/CN=smime-proxy local CA (old)"])
        .args(["-addext", "basicConstraints=critical,CA:TRUE,pathlen:0"])
        .args(["-addext", "keyUsage=critical,keyCertSign,cRLSign,digitalSignature"])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(made.status.success(), "{}", String::from_utf8_lossy(&made.stderr));
    let before = spki(&dir);

    let pass = passphrase_file(tmp.path(), PASSPHRASE);
    let mut proxy = running(&dir, &["--store-passphrase-file", &pass]);
    let line = proxy.wait_for("sealed the local CA's key under the store passphrase");
    assert!(line.contains("re-issued with the same key"), "{line}");
    assert!(!dir.join("ca-key.pem").exists(), "the clear key is removed");
    assert!(dir.join("ca-key.sealed").is_file());
    assert_eq!(spki(&dir), before, "same key: SPKI-list trust holds");
    let root = exported_root(&dir);
    let (_, chain) = connect_tls(proxy.addr, &format!("{SITE}:443"), std::slice::from_ref(&root)).await.unwrap();
    assert_eq!(chain.len(), 3);
    drop(proxy);

    let wrong = passphrase_file(tmp.path(), "not it");
    let out = smime_proxy(&dir, &["run", "--listen", "127.0.0.1:0", "--store-passphrase-file", &wrong]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("wrong store passphrase in"));
}
