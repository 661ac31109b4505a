//! The command line: init, configuration errors, listen address policy.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

use std::net::TcpListener;
use std::process::{Command, Output};

fn smime_proxy(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
        .arg("--config-dir")
        .arg(dir)
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .unwrap()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[cfg(unix)]
#[test]
fn init_creates_an_owner_only_sealed_key_and_the_documented_config() {
    use std::os::unix::fs::PermissionsExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("home");
    // No terminal, no passphrase file: nothing to seal the CA's key with.
    let out = smime_proxy(&dir, &["init"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("give --store-passphrase-file FILE"), "{}", stderr(&out));
    assert!(!dir.join("ca.pem").exists());

    let pass = tmp.path().join("pass");
    std::fs::write(&pass, "init passphrase\n").unwrap();
    let with_file = ["init", "--store-passphrase-file", pass.to_str().unwrap()];
    let out = smime_proxy(&dir, &with_file);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("sealed under the store passphrase"), "{}", stderr(&out));
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&dir.join("ca-key.sealed")), 0o600);
    assert!(!dir.join("ca-key.pem").exists(), "no clear key");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(std::fs::read_to_string(dir.join("config.toml")).unwrap(), smime_proxy::config::DEFAULT_CONFIG_TOML);
    // Idempotent: a second init keeps the CA.
    let before = std::fs::read(dir.join("ca.pem")).unwrap();
    assert!(smime_proxy(&dir, &["init"]).status.success(), "a CA is kept without asking for the passphrase");
    assert_eq!(std::fs::read(dir.join("ca.pem")).unwrap(), before);
    // spki-sha256 export is 44 base64 characters.
    let spki = smime_proxy(&dir, &["ca", "export", "--format", "spki-sha256"]);
    assert_eq!(String::from_utf8(spki.stdout).unwrap().trim().len(), 44);
}

#[test]
fn non_loopback_listen_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for addr in ["0.0.0.0:8080", "10.1.2.3:8080", "[::]:8080"] {
        let out = smime_proxy(tmp.path(), &["run", "--listen", addr]);
        assert!(!out.status.success());
        assert!(stderr(&out).contains("is not a loopback address"), "{}", stderr(&out));
    }
    std::fs::write(tmp.path().join("config.toml"), "listen = \"0.0.0.0:8080\"\n").unwrap();
    let out = smime_proxy(tmp.path(), &["run"]);
    assert!(stderr(&out).contains("line 1, key `listen`"), "{}", stderr(&out));
}

#[test]
fn busy_port_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = smime_proxy(tmp.path(), &["run", "--listen", &addr]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains(&format!("cannot listen on {addr}: the port is already in use")), "{err}");
}

/// `run --listen ADDR` on `dir` in the background, once it says it listens.
fn started_run(dir: &std::path::Path) -> (std::process::Child, String) {
    let listen = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let mut child = Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
        .arg("--config-dir")
        .arg(dir)
        .args(["run", "--listen", &listen])
        .env_remove("RUST_LOG")
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stderr.take().unwrap()));
    let started = lines.by_ref().map_while(Result::ok).find(|l| l.contains("smime-proxy listening on"));
    assert!(started.is_some_and(|l| l.contains(&format!("set up a browser: http://{listen}/"))), "it started");
    (child, listen)
}

#[test]
fn a_second_run_on_one_config_directory_is_refused_and_names_the_first() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut first, listen) = started_run(tmp.path());
    let other = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().to_string();
    let second = smime_proxy(tmp.path(), &["run", "--listen", &other]);
    let pid = first.id();
    let _ = first.kill();
    let _ = first.wait();
    assert!(!second.status.success());
    let err = stderr(&second);
    assert!(err.contains(&format!("another smime-proxy run uses {}", tmp.path().display())), "{err}");
    assert!(
        err.contains(&format!("PID {pid}, listening on {listen}")) && err.contains(&format!("kill {pid}")),
        "{err}"
    );

    // Once the first has ended (here: killed), the directory is free again.
    let (mut again, _) = started_run(tmp.path());
    let _ = again.kill();
    let _ = again.wait();
}

#[test]
fn a_first_run_on_a_new_config_directory_starts_sealed_without_a_terminal() {
    // The README's first command on a fresh machine: no directory yet, no passphrase, no
    // terminal. It starts (the own page chooses the passphrase), the directory owner-only.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("new").join("smime-proxy");
    let (mut child, _) = started_run(&dir);
    let _ = child.kill();
    let _ = child.wait();
    let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&dir).unwrap().permissions());
    assert_eq!(mode & 0o777, 0o700);
    assert!(!dir.join("ca-key.pem").exists() && !dir.join("ca-key.sealed").exists(), "no CA key without a passphrase");
}

#[test]
fn bad_config_names_the_key_and_line() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("config.toml"), "# comment\norigin = \"smime-proxy.invalid\"\nlisten_port = 8080\n")
        .unwrap();
    let out = smime_proxy(tmp.path(), &["run"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("config.toml, line 3, key `listen_port`: unknown field `listen_port`"), "{err}");

    std::fs::write(tmp.path().join("config.toml"), "[sites]\n\"mail.example.org\" = 5\n").unwrap();
    let err = stderr(&smime_proxy(tmp.path(), &["run"]));
    assert!(err.contains("line 2, key `mail.example.org`"), "{err}");
}

#[test]
fn unknown_rule_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let out = smime_proxy(tmp.path(), &["run", "--site", "mail.example.org=gmail"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("unknown rule `gmail` (known rules: horde, roundcube, sogo)"), "{err}");
}

#[test]
fn smtp_sites_need_a_submission_server() {
    let tmp = tempfile::tempdir().unwrap();
    let err = stderr(&smime_proxy(tmp.path(), &["run", "--site", "sogo.example.org=sogo"]));
    assert!(err.contains("rule `sogo` sends mail over SMTP: give the site's submission server"), "{err}");
    let err = stderr(&smime_proxy(tmp.path(), &["run", "--site", "sogo.example.org=sogo,submission=mail.example.org"]));
    assert!(err.contains("give the port (587 for STARTTLS, 465 for TLS)"), "{err}");
    let err = stderr(&smime_proxy(tmp.path(), &["run", "--site", "sogo.example.org=sogo,relay=x:1"]));
    assert!(err.contains("the options are submission=HOST:PORT and encrypted_fields=true|false"), "{err}");
    let err =
        stderr(&smime_proxy(tmp.path(), &["run", "--site", "mail.example.org=roundcube,submission=m.example:587"]));
    assert!(err.contains("sends through the webmail: it takes no submission server"), "{err}");

    std::fs::write(tmp.path().join("config.toml"), "[sites]\n\"sogo.example.org\" = \"sogo\"\n").unwrap();
    let err = stderr(&smime_proxy(tmp.path(), &["run"]));
    assert!(err.contains("line 2") && err.contains("submission server"), "{err}");
    let table = "[sites]\n\"sogo.example.org\" = { rule = \"sogo\", submision = \"m.example:587\" }\n";
    std::fs::write(tmp.path().join("config.toml"), table).unwrap();
    let err = stderr(&smime_proxy(tmp.path(), &["run"]));
    assert!(err.contains("line 2"), "{err}");
}
