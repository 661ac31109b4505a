//! A `keys import` or `certs add` killed with SIGKILL at any moment, or run out of disk
//! space (issue 18, item 3): the stores stay readable and whole. An entry is either all
//! there (its key opens with the store passphrase, its certificate parses) or absent, never
//! half-written, because every file goes through a temporary file, fsync and rename, the
//! file that makes an entry exist is written last, and a failed write removes what the
//! entry had written. A later run of the same command completes.
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

/// A file in `dir` holding the store passphrase.
fn store_passphrase_file(dir: &Path) -> std::path::PathBuf {
    let pass = dir.join("store-pass");
    std::fs::write(&pass, [STORE_PASSPHRASE, b"\n"].concat()).unwrap();
    pass
}

/// `keys import P12` of the test PKI with its passphrase, into a store under `store_pass`.
fn import_args(p12: &str, store_pass: &Path) -> Vec<String> {
    ["keys", "import"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([pki_file(p12).display().to_string()])
        .chain(["--passphrase-file".into(), pki_file("passphrase.txt").display().to_string()])
        .chain(["--store-passphrase-file".into(), store_pass.display().to_string()])
        .collect()
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
    let pass = store_passphrase_file(tmp.path());
    let import = |p12: &str| import_args(p12, &pass);
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

/// Runs `smime-proxy --config-dir DIR ARGS` (`{dir}` in ARGS: that directory too) on a copy of
/// `dir` in a tmpfs of its own with `free_pages` 4 KiB pages left free, in a mount
/// namespace (`unshare`; `-r` when not root), then copies the directory back over `dir`
/// (the filler left out). Returns the exit status's success and the standard error;
/// `None` when this machine allows no mount namespace (a developer's container), which
/// CI (`SMIME_PEERS_REQUIRED`) does not accept.
fn run_on_a_full_disk(dir: &Path, free_pages: u32, args: &[String]) -> Option<(bool, String)> {
    let work = tempfile::tempdir().unwrap();
    let script = r#"set -e
mnt=$1 dir=$2 free=$3; shift 3
mount -t tmpfs -o size=1m,mode=0700 tmpfs "$mnt"
cp -a "$dir/." "$mnt/"
dd if=/dev/zero of="$mnt/.filler" bs=4k 2>/dev/null || true
[ "$free" -gt 0 ] && dd if=/dev/zero of="$mnt/.filler" bs=4k count=$(( $(stat -c %s "$mnt/.filler") / 4096 - free )) 2>/dev/null
set +e
"$@" </dev/null >/dev/null
status=$?
rm -f "$mnt/.filler"
rm -rf "$dir" && mkdir "$dir" && cp -a "$mnt/." "$dir/"
exit $status"#;
    let mnt = work.path().join("mnt");
    std::fs::create_dir(&mnt).unwrap();
    let root = std::process::Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout == b"0\n");
    let unshare = if root { "-m" } else { "-rm" };
    let probe = Command::new("unshare").args([unshare, "true"]).status();
    if !probe.is_ok_and(|s| s.success()) {
        assert!(std::env::var_os("SMIME_PEERS_REQUIRED").is_none(), "no mount namespace for the full-disk test");
        eprintln!("skipped: no mount namespace here (unshare {unshare})");
        return None;
    }
    let args: Vec<String> = ["--config-dir", "{dir}"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain(args.iter().cloned())
        .map(|a| a.replace("{dir}", &mnt.display().to_string()))
        .collect();
    let out = Command::new("unshare")
        .args([unshare, "sh", "-c", script, "sh"])
        .arg(&mnt)
        .arg(dir)
        .arg(free_pages.to_string())
        .arg(env!("CARGO_BIN_EXE_smime-proxy"))
        .args(&args)
        .output()
        .unwrap();
    Some((out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned()))
}

/// Every file under `dir`, relative, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(at) = todo.pop() {
        for entry in std::fs::read_dir(&at).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else {
                out.push(path.strip_prefix(dir).unwrap().display().to_string());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_full_disk_while_saving_is_a_clear_error_and_leaves_nothing_half_written() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("conf");
    let pass = store_passphrase_file(tmp.path());
    let import = |p12: &str| import_args(p12, &pass);
    assert!(run_killed_after(&dir, &import("alice.p12"), Duration::from_secs(60)));
    let before = files(&dir);

    // Out of space at each point of the import: no page left, then one, two, three.
    let mut refused = 0;
    for free_pages in 0..4 {
        let Some((ok, stderr)) = run_on_a_full_disk(&dir, free_pages, &import("bob.p12")) else { return };
        let count = keys_whole(&dir);
        if ok {
            assert_eq!(count, 2, "a completed import is whole");
            break;
        }
        refused += 1;
        eprintln!("{free_pages} pages free: {}", stderr.trim());
        assert!(stderr.contains("No space left on device"), "a clear error: {stderr}");
        assert_eq!(count, 1, "bob is not there, alice stays");
        assert_eq!(files(&dir), before, "nothing half-written is left");
    }
    assert!(refused > 0, "the import met a full disk");

    // A certificate, and a command's output file.
    let before = files(&dir);
    let add = ["certs", "add"].iter().map(|s| (*s).to_owned());
    let add: Vec<String> = add.chain([pki_file("carol.pem").display().to_string()]).collect();
    let (ok, stderr) = run_on_a_full_disk(&dir, 0, &add).unwrap();
    assert!(!ok && stderr.contains("No space left on device"), "{stderr}");
    assert_eq!(files(&dir), before);
    assert!(
        CertStore::new(&dir)
            .list()
            .unwrap()
            .iter()
            .all(|c| !c.summary.addresses.contains(&"carol@example.test".into()))
    );

    let message = tmp.path().join("message.eml");
    std::fs::write(&message, format!("Subject: full\r\n\r\n{}\r\n", "a line of text ".repeat(2000))).unwrap();
    let encrypt: Vec<String> = ["message", "encrypt", "--recipient"]
        .iter()
        .map(|s| (*s).to_owned())
        .chain([pki_file("bob.pem").display().to_string(), "--in".into(), message.display().to_string()])
        .chain(["--out".into(), "{dir}/out.p7m".into()])
        .collect();
    let (ok, stderr) = run_on_a_full_disk(&dir, 0, &encrypt).unwrap();
    assert!(!ok && stderr.contains("No space left on device"), "{stderr}");
    assert_eq!(files(&dir), before, "no partial output file");
}
