//! A `keys import` or `certs add` killed with SIGKILL at any moment (issue 18, item 3):
//! the stores stay readable and whole. An entry is either all there (its key opens with
//! the store passphrase, its certificate parses) or absent, never half-written, because
//! every file goes through a temporary file, fsync and rename, and the file that makes an
//! entry exist is written last. A later run of the same command completes.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use smime_proxy::store::{CertStore, KeyStore, StoreError};
use smime_proxy_tests::pki_file;

const STORE_PASSPHRASE: &[u8] = b"interrupted writes";

/// Runs `smime-proxy --config-dir dir ARGS`, killing it after `after` (if still running);
/// returns whether it finished by itself.
fn run_killed_after(dir: &Path, args: &[String], after: Duration) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
        .arg("--config-dir")
        .arg(dir)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + after;
    let mut finished = child.try_wait().unwrap().is_some();
    while !finished && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(1).min(deadline - std::time::Instant::now()));
        finished = child.try_wait().unwrap().is_some();
    }
    let _ = child.kill();
    let _ = child.wait();
    finished
}

/// The key store is readable, and every listed key opens.
fn keys_whole(dir: &Path) -> usize {
    let store = KeyStore::new(dir);
    let listed = store.list().expect("the key store stays readable");
    match store.open_all(STORE_PASSPHRASE) {
        Ok(opened) => assert_eq!(opened.len(), listed.len()),
        Err(StoreError::NoKeys) => assert!(listed.is_empty()),
        Err(other) => panic!("a listed key does not open: {other}"),
    }
    listed.len()
}

#[test]
fn a_key_import_killed_at_any_moment_leaves_the_store_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("conf");
    let pass = tmp.path().join("store-pass");
    std::fs::write(&pass, [STORE_PASSPHRASE, b"\n"].concat()).unwrap();
    let import = |p12: &str| -> Vec<String> {
        ["keys", "import"]
            .iter()
            .map(|s| (*s).to_owned())
            .chain([pki_file(p12).display().to_string()])
            .chain(["--passphrase-file".into(), pki_file("passphrase.txt").display().to_string()])
            .chain(["--store-passphrase-file".into(), pass.display().to_string()])
            .collect()
    };
    // How long one import takes here sets the range the kills are spread over.
    let started = std::time::Instant::now();
    assert!(run_killed_after(&dir, &import("alice.p12"), Duration::from_secs(60)));
    let whole = started.elapsed();
    assert_eq!(keys_whole(&dir), 1);

    let mut finished = 0;
    for step in 0..10u32 {
        let after = whole * step / 8;
        finished += usize::from(run_killed_after(&dir, &import("bob.p12"), after));
        let count = keys_whole(&dir);
        assert!(count == 1 || count == 2, "alice stays, bob is there whole or not at all ({count})");
    }
    assert!(finished < 10, "some imports were interrupted");
    assert!(run_killed_after(&dir, &import("bob.p12"), Duration::from_secs(60)), "a later import completes");
    assert_eq!(keys_whole(&dir), 2);
}

#[test]
fn a_certificate_add_killed_at_any_moment_leaves_the_store_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("conf");
    let add: Vec<String> = ["certs".to_owned(), "add".to_owned()]
        .into_iter()
        .chain(["bob.pem", "carol.pem", "dave.pem"].iter().map(|f| pki_file(f).display().to_string()))
        .collect();
    let started = std::time::Instant::now();
    assert!(run_killed_after(&dir, &add, Duration::from_secs(30)));
    let whole = started.elapsed();
    std::fs::remove_dir_all(dir.join("certs")).unwrap();

    for step in 0..10u32 {
        run_killed_after(&dir, &add, whole * step / 8);
        let store = CertStore::new(&dir);
        for entry in store.list().expect("the certificate store stays readable") {
            assert!(!entry.summary.addresses.is_empty(), "a listed certificate is whole");
        }
    }
    assert!(run_killed_after(&dir, &add, Duration::from_secs(30)));
    assert_eq!(CertStore::new(&dir).list().unwrap().len(), 3);
}
