//! Two real `smime-keyserver serve` processes on one database (PostgreSQL: the replica
//! set-up; SQLite: one file shared by two processes): `init` and `enrol` through the
//! command line, registration through one process, login and key release through the
//! other, and the guess limit counted across both.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use base64::Engine as _;
use hyper::StatusCode;
use smime_keyserver::Error;
use smime_keyserver::client::{KeyServer, is_status};
use support::*;

const ALICE: &str = "alice@example.test";
const PASSWORD: &[u8] = b"correct horse battery staple";

/// A `serve` process, killed by its PID when dropped.
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn keyserver(data: &Path, db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_smime-keyserver"));
    cmd.arg("--data-dir").arg(data).env_remove("RUST_LOG");
    if !db.starts_with("sqlite:") {
        cmd.arg("--database").arg(db);
    }
    cmd
}

fn output(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

async fn serve(data: &Path, db: &str, tls: &TestTls, port: u16) -> Serve {
    // Waited for in `Serve::drop`.
    let child = Serve(
        keyserver(data, db)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--guess-limit", "2"])
            .arg("--tls-cert")
            .arg(&tls.cert_pem)
            .arg("--tls-key")
            .arg(&tls.key_pem)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("smime-keyserver serve did not listen on {port}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_processes_share_one_database() {
    // Ports of this project's test range, one pair per backend.
    for (db, ports) in backends().await.into_iter().zip([(18450, 18451), (18452, 18453)]) {
        let tls = TestTls::new();
        let data = tempfile::tempdir().unwrap();
        // With SQLite the processes share the file in the data directory.
        let url = if db.name == "sqlite" {
            format!("sqlite://{}?mode=rwc", data.path().join("keyserver.sqlite").display())
        } else {
            db.url.clone()
        };
        let key =
            base64::engine::general_purpose::STANDARD.decode(output(keyserver(data.path(), &url).arg("init"))).unwrap();
        let token = output(keyserver(data.path(), &url).args(["enrol", ALICE]));
        let again = keyserver(data.path(), &url).args(["enrol", "not an address"]).output().unwrap();
        assert!(!again.status.success());
        assert!(String::from_utf8_lossy(&again.stderr).contains("is not an e-mail address"));

        let _a = serve(data.path(), &url, &tls, ports.0).await;
        let _b = serve(data.path(), &url, &tls, ports.1).await;
        let a = KeyServer::new(&format!("https://localhost:{}", ports.0), tls.client.clone(), key.clone()).unwrap();
        let b = KeyServer::new(&format!("https://localhost:{}", ports.1), tls.client.clone(), key.clone()).unwrap();

        a.register(&token, PASSWORD, &key_material("alice"), "laptop").await.unwrap();
        let unlocked = b.login(ALICE, PASSWORD, "desktop", 1, true).await.unwrap();
        assert_eq!(unlocked.payload.as_deref().unwrap(), key_material("alice").as_slice(), "{}", db.name);

        // Two starts allowed per window, counted across the two processes.
        let wrong = a.login(ALICE, b"wrong", "d", 0, true).await.unwrap_err();
        assert!(matches!(wrong, Error::LoginRefused { guesses_left: 1 }), "{}: {wrong}", db.name);
        let wrong = b.login(ALICE, b"wrong", "d", 0, true).await.unwrap_err();
        assert!(matches!(wrong, Error::LoginRefused { guesses_left: 0 }), "{wrong}");
        let locked = a.login(ALICE, PASSWORD, "d", 0, true).await.unwrap_err();
        assert!(is_status(&locked, StatusCode::TOO_MANY_REQUESTS), "{}: {locked}", db.name);

        // The secrets file is 0600, and a server refuses one others can read.
        let secrets = data.path().join("server-secrets.json");
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(std::fs::metadata(&secrets).unwrap().permissions().mode() & 0o777, 0o600);
        std::fs::set_permissions(&secrets, std::fs::Permissions::from_mode(0o644)).unwrap();
        let refused = keyserver(data.path(), &url)
            .args(["serve", "--listen", "127.0.0.1:18454", "--tls-cert"])
            .arg(&tls.cert_pem)
            .arg("--tls-key")
            .arg(&tls.key_pem)
            .output()
            .unwrap();
        assert!(!refused.status.success());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("is readable by others"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
    }
}
