//! `smime-proxy browser`: a real Chromium started by the command, headless, loads the
//! proxy's own page over HTTPS through the proxy (its PAC file), trusting the local CA only
//! through the throw-away profile's NSS database; the same Chromium with the same PAC and
//! a fresh home does not. The Firefox profile is checked as the command writes it.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

const CHROMIUM: &str = "/usr/bin/chromium";
/// What Chromium needs in a container (no user namespaces, no GPU); `--dump-dom` prints the
/// loaded page and exits.
const CHROMIUM_ARGS: [&str; 4] = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--dump-dom"];

/// A `smime-proxy run` on a free loopback port, with a configuration directory and home of
/// its own; killed when dropped.
struct RunningProxy {
    child: Child,
    listen: String,
    tmp: tempfile::TempDir,
}

impl RunningProxy {
    fn start() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let listen = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
        // The store passphrase creates the (sealed) CA and unseals it: the own page over HTTPS
        // needs the run's intermediate.
        let passphrase = tmp.path().join("store-passphrase");
        std::fs::write(&passphrase, "store pass\n").unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
            .arg("--config-dir")
            .arg(tmp.path().join("config"))
            .args(["run", "--listen", &listen, "--store-passphrase-file"])
            .arg(&passphrase)
            .env("HOME", tmp.path())
            .env_remove("RUST_LOG")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().unwrap()));
        assert!(lines.by_ref().map_while(Result::ok).any(|l| l.contains("smime-proxy listening on")), "it started");
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, listen, tmp }
    }

    fn config(&self) -> PathBuf {
        self.tmp.path().join("config")
    }

    fn smime_proxy(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
            .arg("--config-dir")
            .arg(self.config())
            .args(args)
            .env("HOME", self.tmp.path())
            .env_remove("RUST_LOG")
            .output()
            .unwrap()
    }
}

impl Drop for RunningProxy {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn chromium_present() -> bool {
    if Path::new(CHROMIUM).exists() && Path::new("/usr/bin/certutil").exists() {
        return true;
    }
    assert!(std::env::var_os("SMIME_PEERS_REQUIRED").is_none(), "{CHROMIUM} or certutil is missing");
    eprintln!("skipped: {CHROMIUM} or certutil is missing");
    false
}

/// The profile directory the command announced on standard error.
fn announced_profile(stderr: &str) -> PathBuf {
    let at = stderr.find("throw-away profile in ").unwrap() + "throw-away profile in ".len();
    PathBuf::from(stderr[at..].split(" (removed").next().unwrap())
}

#[test]
fn chromium_loads_the_own_page_through_the_proxy_trusting_the_ca_from_its_profile_only() {
    if !chromium_present() {
        return;
    }
    let proxy = RunningProxy::start();
    let mut args = vec!["browser", "chromium", "--headless", "--"];
    args.extend(CHROMIUM_ARGS);
    let out = proxy.smime_proxy(&args);
    let (dom, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("through http://{}/proxy.pac on https://smime-proxy.invalid/", proxy.listen)),
        "{stderr}"
    );
    // The own page, served over HTTPS by the proxy: it names the address it listens on.
    assert!(dom.contains("<h1>smime-proxy</h1>") && dom.contains(&proxy.listen), "{dom}");
    assert!(!announced_profile(&stderr).exists(), "the throw-away profile is removed");

    // The same browser and PAC with a home without the CA: the page over plain HTTP comes
    // through the proxy, over HTTPS it does not (Chromium shows no page for a TLS error).
    let home = tempfile::tempdir().unwrap();
    let bare = |url: &str| {
        let out = Command::new(CHROMIUM)
            .args(["--headless", &format!("--proxy-pac-url=http://{}/proxy.pac", proxy.listen)])
            .arg(format!("--user-data-dir={}", home.path().join("profile").display()))
            .args(CHROMIUM_ARGS)
            .arg(url)
            .env("HOME", home.path())
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).contains("<h1>smime-proxy</h1>")
    };
    assert!(bare("http://smime-proxy.invalid/"), "the bare browser goes through the proxy");
    assert!(!bare("https://smime-proxy.invalid/"), "but does not trust the CA");
}

#[test]
fn firefox_gets_a_profile_with_the_pac_file_and_the_ca() {
    if !chromium_present() {
        return;
    }
    let proxy = RunningProxy::start();
    // A stand-in for Firefox that reports the profile it was given.
    let fake = proxy.tmp.path().join("firefox");
    std::fs::write(
        &fake,
        "#!/bin/sh\nwhile [ \"$1\" != -profile ]; do shift; done\necho \"args: $*\"\n\
         cat \"$2/user.js\"\ncertutil -d \"sql:$2\" -L\n",
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let out = proxy.smime_proxy(&[
        "browser",
        "firefox",
        "--headless",
        "--url",
        "https://mail.example.org/",
        "--program",
        fake.to_str().unwrap(),
    ]);
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(report.contains("-no-remote -new-instance -headless https://mail.example.org/"), "{report}");
    assert!(report.contains("user_pref(\"network.proxy.type\", 2);"), "{report}");
    assert!(
        report
            .contains(&format!("user_pref(\"network.proxy.autoconfig_url\", \"http://{}/proxy.pac\");", proxy.listen)),
        "{report}"
    );
    let trusted: Vec<&str> = report.lines().filter(|l| l.trim_end().ends_with(",,")).collect();
    assert_eq!(trusted.len(), 1, "only the local CA: {report}");
    assert!(trusted[0].starts_with("smime-proxy local CA") && trusted[0].trim_end().ends_with("C,,"), "{report}");
}

#[test]
fn without_a_running_proxy_it_says_to_start_one() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
        .arg("--config-dir")
        .arg(tmp.path())
        .args(["browser", "chromium"])
        .env("HOME", tmp.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("no smime-proxy runs with") && stderr.contains("start `smime-proxy run` first"),
        "{stderr}"
    );
}
