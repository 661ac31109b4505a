//! `smime-proxy ca install|uninstall|status` against the real tools: Debian's
//! update-ca-certificates on a system tree of the test's own, and NSS's certutil on a
//! Chromium database and a Firefox profile under a home of the test's own. Nothing outside
//! the temporary directory is touched.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The temporary home, system tree and configuration directory of one test.
struct World {
    _tmp: tempfile::TempDir,
    /// A certificate standing for the distribution's CAs (any self-signed one does).
    distribution_ca: String,
    home: PathBuf,
    root: PathBuf,
    config: PathBuf,
    /// The store passphrase, for the commands that create the (sealed) CA.
    passphrase: PathBuf,
}

impl World {
    /// A home with one Firefox profile (never started: no database yet) and a Debian system
    /// tree whose update-ca-certificates is the host's.
    fn new() -> Option<Self> {
        let required = std::env::var_os("SMIME_PEERS_REQUIRED").is_some();
        for tool in ["/usr/bin/certutil", "/usr/sbin/update-ca-certificates"] {
            if !Path::new(tool).exists() {
                assert!(!required, "{tool} is missing (apt-get install libnss3-tools ca-certificates)");
                eprintln!("skipped: {tool} is missing");
                return None;
            }
        }
        let tmp = tempfile::tempdir().unwrap();
        let (home, root, config) = (tmp.path().join("home"), tmp.path().join("root"), tmp.path().join("config"));
        let profiles = home.join(".mozilla/firefox");
        std::fs::create_dir_all(profiles.join("t3st.default-esr")).unwrap();
        std::fs::write(
            profiles.join("profiles.ini"),
            "[Profile0]\nName=default-esr\nIsRelative=1\nPath=t3st.default-esr\nDefault=1\n\n[General]\nVersion=2\n",
        )
        .unwrap();
        for dir in ["etc/ssl/certs", "usr/share/ca-certificates", "etc/ca-certificates/update.d", "usr/sbin"] {
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        // One CA of the distribution, which must stay trusted whatever happens to ours.
        let distribution_ca =
            rcgen::generate_simple_self_signed(vec!["distribution.test".to_owned()]).unwrap().cert.pem();
        std::fs::write(root.join("usr/share/ca-certificates/distribution-root.crt"), &distribution_ca).unwrap();
        std::fs::write(root.join("etc/ca-certificates.conf"), "distribution-root.crt\n").unwrap();
        std::os::unix::fs::symlink("/usr/sbin/update-ca-certificates", root.join("usr/sbin/update-ca-certificates"))
            .unwrap();
        let passphrase = tmp.path().join("store-passphrase");
        std::fs::write(&passphrase, "store pass\n").unwrap();
        let world = Self { _tmp: tmp, distribution_ca, home, root, config, passphrase };
        assert!(world.run(&["init"]).0);
        Some(world)
    }

    /// Runs `smime-proxy ca ACTION` (or any command); success and standard output.
    fn run(&self, args: &[&str]) -> (bool, String) {
        let mut command = Command::new(env!("CARGO_BIN_EXE_smime-proxy"));
        command.arg("--config-dir").arg(&self.config).args(args).env("HOME", &self.home).env_remove("RUST_LOG");
        if args[0] == "ca" {
            command.arg("--system-root").arg(&self.root);
        }
        if args == ["init"] || args == ["ca", "install"] {
            command.arg("--store-passphrase-file").arg(&self.passphrase);
        }
        let out = command.output().unwrap();
        let stdout = String::from_utf8(out.stdout).unwrap();
        eprintln!("$ {args:?}\n{stdout}{}", String::from_utf8_lossy(&out.stderr));
        (out.status.success(), stdout)
    }

    fn chromium_db(&self) -> PathBuf {
        self.home.join(".pki/nssdb")
    }

    fn firefox_db(&self) -> PathBuf {
        self.home.join(".mozilla/firefox/t3st.default-esr")
    }

    /// What NSS itself lists in `db`, with trust flags.
    fn certutil_list(db: &Path) -> String {
        let out = Command::new("certutil").arg("-d").arg(format!("sql:{}", db.display())).arg("-L").output().unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn ca_pem(&self) -> String {
        std::fs::read_to_string(self.config.join("ca.pem")).unwrap()
    }

    fn bundle(&self) -> String {
        std::fs::read_to_string(self.root.join("etc/ssl/certs/ca-certificates.crt")).unwrap_or_default()
    }
}

/// The lines of a report, each checked to name its store and end in `outcome`.
fn assert_report(stdout: &str, outcome: &str) {
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "one line per store:\n{stdout}");
    assert!(lines[0].starts_with("system store "), "{stdout}");
    assert!(lines[1].starts_with("Chromium NSS database "), "{stdout}");
    assert!(lines[2].starts_with("Firefox profile "), "{stdout}");
    assert!(lines.iter().all(|l| l.ends_with(outcome)), "every store {outcome:?}:\n{stdout}");
}

#[test]
fn install_trusts_the_ca_in_every_store_once_and_uninstall_removes_it() {
    let Some(world) = World::new() else { return };
    let (ok, out) = world.run(&["ca", "status"]);
    assert!(ok);
    assert_report(&out, ": not trusted");

    let (ok, out) = world.run(&["ca", "install"]);
    assert!(ok, "{out}");
    assert_report(&out, ": trusted now (added)");
    // The real stores hold it: the Debian bundle, and NSS lists it as a TLS CA ("C,,").
    assert!(world.bundle().contains(world.ca_pem().trim()), "the bundle holds the CA");
    for db in [world.chromium_db(), world.firefox_db()] {
        let list = World::certutil_list(&db);
        assert!(list.lines().any(|l| l.starts_with("smime-proxy local CA") && l.trim_end().ends_with("C,,")), "{list}");
    }
    // openssl trusts a chain to it through the bundle alone.
    let verify = Command::new("openssl")
        .args(["verify", "-CAfile"])
        .arg(world.root.join("etc/ssl/certs/ca-certificates.crt"))
        .arg(world.config.join("ca.pem"))
        .output()
        .unwrap();
    assert!(verify.status.success(), "{}", String::from_utf8_lossy(&verify.stderr));

    let (ok, out) = world.run(&["ca", "install"]);
    assert!(ok);
    assert_report(&out, ": already trusted, unchanged");
    let (_, out) = world.run(&["ca", "status"]);
    assert_report(&out, ": trusted");

    let (ok, out) = world.run(&["ca", "uninstall"]);
    assert!(ok, "{out}");
    assert_report(&out, ": no longer trusted (removed)");
    assert!(!world.bundle().contains(world.ca_pem().trim()));
    assert!(world.bundle().contains(world.distribution_ca.trim()), "the distribution's CA stays");
    assert!(!world.root.join("etc/ssl/certs/smime-proxy.pem").exists(), "no link is left behind");
    assert!(!World::certutil_list(&world.chromium_db()).contains("smime-proxy local CA"));
    let (_, out) = world.run(&["ca", "uninstall"]);
    assert_report(&out, ": not trusted, unchanged");
    let (_, out) = world.run(&["ca", "status"]);
    assert_report(&out, ": not trusted");
}

#[test]
fn a_new_ca_replaces_the_old_one_under_its_name() {
    let Some(world) = World::new() else { return };
    assert!(world.run(&["ca", "install"]).0);
    let old = world.ca_pem();
    // A new configuration directory has a new CA: the stores' status says the old one is
    // there; install replaces it rather than adding a second.
    for file in ["ca.pem", "ca-key.sealed"] {
        std::fs::remove_file(world.config.join(file)).unwrap();
    }
    assert!(world.run(&["init"]).0);
    assert_ne!(world.ca_pem(), old);
    let (_, out) = world.run(&["ca", "status"]);
    assert!(out.lines().nth(1).unwrap().ends_with("holds an older smime-proxy CA: run `ca install`)"), "{out}");
    let (ok, out) = world.run(&["ca", "install"]);
    assert!(ok);
    assert!(out.lines().nth(1).unwrap().ends_with("trusted now (replaced an older smime-proxy CA)"), "{out}");
    assert!(world.bundle().contains(world.ca_pem().trim()) && !world.bundle().contains(old.trim()));
    let list = World::certutil_list(&world.chromium_db());
    assert_eq!(list.matches("smime-proxy local CA").count(), 1, "{list}");
}

#[test]
fn install_creates_the_ca_when_there_is_none_and_the_others_say_to_init() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("config");
    let run = |action: &str| {
        Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
            .arg("--config-dir")
            .arg(&config)
            .args(["ca", action, "--system-root"])
            .arg(tmp.path())
            .env("HOME", tmp.path())
            .env("PATH", "/nonexistent")
            .output()
            .unwrap()
    };
    for action in ["status", "uninstall"] {
        let out = run(action);
        assert!(!out.status.success());
        assert!(String::from_utf8_lossy(&out.stderr).contains("run `smime-proxy init`"));
    }
    // Without certutil on the PATH and with no known system store, each store says why.
    let passphrase = tmp.path().join("store-passphrase");
    std::fs::write(&passphrase, "store pass\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
        .arg("--config-dir")
        .arg(&config)
        .args(["ca", "install", "--system-root"])
        .arg(tmp.path())
        .arg("--store-passphrase-file")
        .arg(&passphrase)
        .env("HOME", tmp.path())
        .env("PATH", "/nonexistent")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(config.join("ca.pem").exists(), "the CA was created");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("system store: skipped: no known system store here"), "{stdout}");
    assert!(stdout.contains("nssdb: skipped: certutil not found: install libnss3-tools"), "{stdout}");
}
