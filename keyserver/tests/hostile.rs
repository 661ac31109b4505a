//! What an attacker can send or steal: malformed protocol messages, oversized envelopes and
//! unknown versions get a clear error and change nothing; a copy of the database (SQLite
//! file, pg_dump) holds neither the key nor anything that opens it without the server
//! secrets.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;
use smime_keyserver::Error;
use smime_keyserver::envelope::{self, Header};
use smime_keyserver::opaque::{PendingLogin, PendingRegistration, ServerKeys};
use smime_keyserver::server::GuessLimit;
use support::*;

const ALICE: &str = "alice@example.test";
const PASSWORD: &[u8] = b"correct horse battery staple";

fn json_body(value: serde_json::Value) -> Vec<u8> {
    serde_json::to_vec(&value).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_gets_a_clear_error_and_changes_nothing() {
    for db in backends().await {
        let tls = TestTls::new();
        let secrets = secrets_file(tls.dir.path());
        // One login start per window: a counted bad request would lock the next login out.
        let a = replica(&db.url, &secrets, &tls, GuessLimit { starts: 1, window_secs: 3600 }).await;
        let token = enrol(&db.url, ALICE).await;

        let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
            ("/v1/login/start", b"not json".to_vec(), 400, "The request is not valid for this endpoint"),
            (
                "/v1/login/start",
                json_body(json!({"v": 2, "email": ALICE, "ke1": "AA=="})),
                400,
                "Protocol version 2 is not supported; this key server speaks version 1.",
            ),
            (
                "/v1/login/start",
                json_body(json!({"v": 1, "email": ALICE, "ke1": "AA==", "extra": 1})),
                400,
                "unknown field `extra`",
            ),
            ("/v1/login/start", json_body(json!({"v": 1, "email": ALICE, "ke1": "!!"})), 400, "not base64"),
            (
                "/v1/login/start",
                json_body(json!({"v": 1, "email": ALICE, "ke1": STANDARD.encode([7u8; 96])})),
                400,
                "The OPAQUE KE1 message is malformed.",
            ),
            (
                "/v1/login/finish",
                json_body(json!({"v": 1, "session": "nope", "ke3": "AA==", "release_envelope": true,
                "device": {"public_key": STANDARD.encode(smime_keyserver::device::DeviceKey::generate().public_key()), "name": "d"}})),
                401,
                "The login session is unknown or expired; start the login again.",
            ),
            (
                "/v1/register/start",
                json_body(json!({"v": 1, "enrolment_token": token, "request": "AAAA"})),
                400,
                "The OPAQUE registration request is malformed.",
            ),
            (
                "/v1/register/start",
                vec![b' '; 300 * 1024],
                413,
                "The request is larger than the 262144 bytes a key server reads.",
            ),
            ("/v1/nothing", Vec::new(), 404, "There is no such key-server endpoint."),
        ];
        for (path, body, status, sentence) in cases {
            let (got, text) = raw_request(&a, &tls, "POST", path, body).await;
            assert_eq!(got, status, "{}: {path}: {text}", db.name);
            assert!(text.contains(sentence), "{}: {path}: {text:?} lacks {sentence:?}", db.name);
        }

        // register/finish with a bad envelope: refused, and the token still works.
        let account = [0u8; 16];
        let big = envelope::MAX_LEN;
        let format2 = {
            let mut e = envelope::seal(Header { version: 1, account_id: account }, &[1; 64], b"k").unwrap();
            e[4] = 2;
            e
        };
        for (envelope, status, sentence) in [
            (vec![0u8; big + 1], 413, "The envelope is larger than the 131072 bytes a key server accepts."),
            (format2, 400, "The envelope has format 2, which this version does not read"),
            (b"SKSE".to_vec(), 400, "The envelope is malformed"),
        ] {
            let body = json_body(
                json!({"v": 1, "enrolment_token": token, "upload": "AAAA", "envelope": STANDARD.encode(&envelope),
                "device": {"public_key": STANDARD.encode(smime_keyserver::device::DeviceKey::generate().public_key()), "name": "d"}}),
            );
            let (got, text) = raw_request(&a, &tls, "POST", "/v1/register/finish", body).await;
            assert_eq!(got, status, "{}: {text}", db.name);
            assert!(text.contains(sentence), "{}: {text:?} lacks {sentence:?}", db.name);
        }
        client(&a, &tls).register(&token, PASSWORD, b"key", "laptop").await.unwrap();

        // Password changes: a malformed request, an unknown login session, a bad upload, a
        // bad envelope or an unknown ticket change nothing (and count no login start).
        let (_, request) = PendingRegistration::start(b"new").unwrap();
        let request = STANDARD.encode(request);
        let upload = {
            let keys = ServerKeys::generate();
            let (pending, request) = PendingRegistration::start(b"new").unwrap();
            let response = keys.registration_response(&request, b"x").unwrap();
            STANDARD.encode(pending.finish(b"new", &response).unwrap().message)
        };
        let envelope =
            STANDARD.encode(envelope::seal(Header { version: 2, account_id: account }, &[1; 64], b"k").unwrap());
        let cases = [
            (
                "/v1/password/start",
                json!({"v": 1, "session": "nope", "ke3": "AA==", "request": "AAAA"}),
                400,
                "The OPAQUE registration request is malformed.",
            ),
            (
                "/v1/password/start",
                json!({"v": 1, "session": "nope", "ke3": "AA==", "request": request}),
                401,
                "The login session is unknown or expired; start the login again.",
            ),
            (
                "/v1/password/finish",
                json!({"v": 1, "ticket": "nope", "upload": "AAAA", "envelope": envelope}),
                400,
                "The OPAQUE registration upload is malformed.",
            ),
            (
                "/v1/password/finish",
                json!({"v": 1, "ticket": "nope", "upload": upload, "envelope": "U0tTRQ=="}),
                400,
                "The envelope is malformed",
            ),
            (
                "/v1/password/finish",
                json!({"v": 1, "ticket": "nope", "upload": upload, "envelope": envelope}),
                401,
                "The password-change ticket is unknown, used or expired",
            ),
            (
                "/v1/password/finish",
                json!({"v": 2, "ticket": "nope", "upload": upload, "envelope": envelope}),
                400,
                "Protocol version 2 is not supported",
            ),
        ];
        for (path, body, status, sentence) in cases {
            let (got, text) = raw_request(&a, &tls, "POST", path, json_body(body)).await;
            assert_eq!(got, status, "{}: {path}: {text}", db.name);
            assert!(text.contains(sentence), "{}: {path}: {text:?} lacks {sentence:?}", db.name);
        }
        // None of the bad login starts counted: the one allowed start still logs in, with
        // the password and envelope of the registration.
        client(&a, &tls).login(ALICE, PASSWORD, "d", 1, true).await.unwrap();
    }
}

/// Whoever copies the database gets neither the key nor the password, and cannot open the
/// envelope even knowing the password: the OPRF seed is in the secrets file, not in the
/// database, so a server run on the stolen database with its own secrets cannot complete a
/// login.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_dump_opens_nothing() {
    for db in backends().await {
        let tls = TestTls::new();
        let secrets = secrets_file(tls.dir.path());
        let a = replica(&db.url, &secrets, &tls, GuessLimit::default()).await;
        let token = enrol(&db.url, ALICE).await;
        let material = key_material("alice");
        client(&a, &tls).register(&token, PASSWORD, &material, "laptop").await.unwrap();
        client(&a, &tls).login(ALICE, PASSWORD, "desktop", 1, true).await.unwrap();
        // A login in progress sits in the database too.
        let (_pending, ke1) = PendingLogin::start(PASSWORD).unwrap();
        let body = json_body(json!({"v": 1, "email": ALICE, "ke1": STANDARD.encode(ke1)}));
        assert_eq!(raw_request(&a, &tls, "POST", "/v1/login/start", body).await.0, 200);

        let dump = dump(&db);
        assert!(dump.len() > 1000, "{}: the dump is suspiciously small", db.name);
        for (what, needle) in [
            ("key material", &b"SECRET-KEY-BYTES"[..]),
            ("password", PASSWORD),
            ("secrets file", &std::fs::read(&secrets).unwrap()[..]),
        ] {
            assert!(!contains(&dump, needle), "{}: the dump holds the {what}", db.name);
        }
        let secrets_json: serde_json::Value = serde_json::from_slice(&std::fs::read(&secrets).unwrap()).unwrap();
        for field in ["opaque_server_setup", "pepper"] {
            let value = STANDARD.decode(secrets_json[field].as_str().unwrap()).unwrap();
            assert!(!contains(&dump, &value), "{}: the dump holds the {field}", db.name);
        }

        // The thief runs a server on the stolen database with secrets of their own, and
        // knows the password: the login still fails, so the envelope stays shut.
        let thief_dir = tempfile::tempdir().unwrap();
        let thief = replica(&db.url, &secrets_file(thief_dir.path()), &tls, GuessLimit::default()).await;
        let refused = client(&thief, &tls).login(ALICE, PASSWORD, "thief", 0, true).await.unwrap_err();
        assert!(matches!(refused, Error::LoginRefused { .. }), "{}: {refused}", db.name);
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// The whole database as a thief would copy it.
fn dump(db: &Backend) -> Vec<u8> {
    if let Some(file) = &db.sqlite_file {
        let mut bytes = std::fs::read(file).unwrap();
        for suffix in ["-wal", "-shm"] {
            if let Ok(more) = std::fs::read(format!("{}{suffix}", file.display())) {
                bytes.extend(more);
            }
        }
        return bytes;
    }
    let output = std::process::Command::new("pg_dump")
        .arg("--dbname")
        .arg(&db.url)
        .output()
        .expect("pg_dump (Debian's postgresql-client) must be installed to dump the PostgreSQL variant");
    assert!(output.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&output.stderr));
    // BYTEA is dumped as hex: search the decoded form too.
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let mut bytes = output.stdout.clone();
    for word in text.split(|c: char| !c.is_ascii_hexdigit() && c != 'x' && c != '\\') {
        if let Some(hex) = word.strip_prefix("\\\\x").or_else(|| word.strip_prefix("\\x")) {
            bytes.extend((0..hex.len() / 2).filter_map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()));
        }
    }
    bytes
}
