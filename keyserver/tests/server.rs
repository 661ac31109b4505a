//! The key server end to end over TLS, on SQLite and on PostgreSQL: two in-process
//! replicas share one database; the client is the one the proxy uses.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use hyper::StatusCode;
use smime_keyserver::client::is_status;
use smime_keyserver::device::DeviceKey;
use smime_keyserver::server::GuessLimit;
use smime_keyserver::{Error, wire};
use support::*;

const ALICE: &str = "alice@example.test";
const BOB: &str = "bob@example.test";
const PASSWORD: &[u8] = b"correct horse battery staple";

/// Registration through one replica, login and key release through the other; KE3 taken
/// once; audit log, devices and revocation.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_on_one_replica_unlock_on_the_other() {
    for db in backends().await {
        let tls = TestTls::new();
        let secrets = secrets_file(tls.dir.path());
        let (a, b) = replica_pair(&db.url, &secrets, &tls, GuessLimit::default()).await;
        let token = enrol(&db.url, ALICE).await;
        let (email, first) =
            client(&a, &tls).register(&token, PASSWORD, &key_material("alice"), "laptop").await.unwrap();
        assert_eq!(email, ALICE, "{}", db.name);
        assert_eq!(first.envelope_version, 1);
        // The token is used up.
        let again = client(&a, &tls).register(&token, PASSWORD, b"x", "laptop").await.unwrap_err();
        assert!(is_status(&again, StatusCode::FORBIDDEN), "{again}");

        let second = client(&b, &tls).login(ALICE, PASSWORD, "desktop", 1, true).await.unwrap();
        assert_eq!(second.payload.as_deref().unwrap(), key_material("alice").as_slice(), "{}", db.name);
        assert_eq!(second.session.account_id, first.account_id);

        // Login without release: no envelope, and no key_release in the log.
        let third = client(&a, &tls).login(ALICE, PASSWORD, "phone", 1, false).await.unwrap();
        assert!(third.payload.is_none());

        let audit = second.session.audit().await.unwrap();
        let events: Vec<&str> = audit.entries.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(
            events,
            ["register", "device_add", "login", "device_add", "key_release", "login", "device_add"],
            "{}",
            db.name
        );

        let devices = second.session.devices().await.unwrap().devices;
        assert_eq!(devices.len(), 3);
        assert!(devices.iter().any(|d| d.current && d.name == "desktop"));
        // Revoke the phone from the desktop: the phone's token dies at once.
        second.session.revoke(&third.session.device_id).await.unwrap();
        let denied = third.session.devices().await.unwrap_err();
        assert!(is_status(&denied, StatusCode::UNAUTHORIZED), "{denied}");
        assert!(denied.to_string().contains("revoked"), "{denied}");
    }
}

/// A wrong password is one clear sentence and counts; the guess limit counts login
/// starts, across replicas, for unknown names the same way; the right password is refused
/// too once the limit is reached.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guess_limit_holds_across_replicas() {
    for db in backends().await {
        let tls = TestTls::new();
        let secrets = secrets_file(tls.dir.path());
        let limit = GuessLimit { starts: 3, window_secs: 3600 };
        let (a, b) = replica_pair(&db.url, &secrets, &tls, limit).await;
        let token = enrol(&db.url, ALICE).await;
        client(&a, &tls).register(&token, PASSWORD, b"k", "laptop").await.unwrap();

        let wrong = client(&a, &tls).login(ALICE, b"wrong", "d", 0, true).await.unwrap_err();
        assert!(matches!(wrong, Error::LoginRefused { guesses_left: 2 }), "{}: {wrong}", db.name);
        assert_eq!(
            wrong.to_string(),
            "the password is wrong or there is no such account on this key server (2 more login attempts allowed before the account pauses logins)"
        );
        // A start that never sends KE3 counts too (an attacker checks KE2 offline).
        let wrong = client(&b, &tls).login(ALICE, b"wrong again", "d", 0, true).await.unwrap_err();
        assert!(matches!(wrong, Error::LoginRefused { guesses_left: 1 }), "{wrong}");
        client(&a, &tls).login(ALICE, b"third", "d", 0, true).await.unwrap_err();
        let locked = client(&b, &tls).login(ALICE, PASSWORD, "d", 0, true).await.unwrap_err();
        assert!(is_status(&locked, StatusCode::TOO_MANY_REQUESTS), "{}: {locked}", db.name);
        assert!(locked.to_string().contains("Too many login attempts for this account"), "{locked}");

        // An unknown name: the same answers, the same limit (no enumeration).
        let unknown = client(&a, &tls).login("nobody@example.test", PASSWORD, "d", 0, true).await.unwrap_err();
        assert!(matches!(unknown, Error::LoginRefused { guesses_left: 2 }), "{unknown}");
        for _ in 0..2 {
            client(&b, &tls).login("nobody@example.test", PASSWORD, "d", 0, true).await.unwrap_err();
        }
        let locked = client(&a, &tls).login("nobody@example.test", PASSWORD, "d", 0, true).await.unwrap_err();
        assert!(is_status(&locked, StatusCode::TOO_MANY_REQUESTS), "{locked}");

        // Another account is not affected.
        let token = enrol(&db.url, BOB).await;
        client(&a, &tls).register(&token, b"bob's password", b"k", "laptop").await.unwrap();
        client(&b, &tls).login(BOB, b"bob's password", "d", 0, true).await.unwrap();
    }
}

/// A server that swaps in another account's envelope, or rolls one back, is caught by the
/// client; a stale update is refused by the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn swapped_and_rolled_back_envelopes_are_refused() {
    for db in backends().await {
        let tls = TestTls::new();
        let secrets = secrets_file(tls.dir.path());
        let a = replica(&db.url, &secrets, &tls, GuessLimit::default()).await;
        let token = enrol(&db.url, ALICE).await;
        let (_, mut alice) =
            client(&a, &tls).register(&token, PASSWORD, &key_material("alice v1"), "laptop").await.unwrap();
        let token = enrol(&db.url, BOB).await;
        client(&a, &tls).register(&token, PASSWORD, &key_material("bob"), "laptop").await.unwrap();
        let alice_v1 = raw_envelope(&db.url, ALICE).await;

        // Version 2 (a rotated certificate); a second "version 2" is stale.
        assert_eq!(alice.replace_payload(&key_material("alice v2")).await.unwrap(), 2);
        alice.envelope_version = 1;
        let stale = alice.replace_payload(&key_material("alice v2b")).await.unwrap_err();
        assert!(is_status(&stale, StatusCode::CONFLICT), "{stale}");
        let unlocked = client(&a, &tls).login(ALICE, PASSWORD, "d", 2, true).await.unwrap();
        assert_eq!(unlocked.payload.as_deref().unwrap(), key_material("alice v2").as_slice());

        let bob_envelope = raw_envelope(&db.url, BOB).await;
        let alice_v2 = raw_envelope(&db.url, ALICE).await;

        // The server hands Alice Bob's envelope.
        set_envelope(&db.url, ALICE, 2, &bob_envelope).await;
        let swapped = client(&a, &tls).login(ALICE, PASSWORD, "d", 2, true).await.unwrap_err();
        assert!(matches!(swapped, Error::EnvelopeRefused(_)), "{}: {swapped}", db.name);

        // The server rolls Alice back to a version-1 envelope: refused by the high-water mark.
        set_envelope(&db.url, ALICE, 1, &alice_v1).await;
        let rolled = client(&a, &tls).login(ALICE, PASSWORD, "d", 2, true).await.unwrap_err();
        assert!(matches!(rolled, Error::EnvelopeRolledBack { got: 1, seen: 2 }), "{rolled}");
        // Put back, it opens again.
        set_envelope(&db.url, ALICE, 2, &alice_v2).await;
        client(&a, &tls).login(ALICE, PASSWORD, "d", 2, true).await.unwrap();
    }
}

async fn raw_envelope(db_url: &str, email: &str) -> Vec<u8> {
    use sqlx::{Connection as _, Row as _};
    let mut conn = sqlx::AnyConnection::connect(db_url).await.unwrap();
    sqlx::query("SELECT e.body FROM envelopes e JOIN accounts a ON a.id = e.account_id WHERE a.email = $1")
        .bind(email)
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

async fn set_envelope(db_url: &str, email: &str, version: i64, body: &[u8]) {
    use sqlx::Connection as _;
    let mut conn = sqlx::AnyConnection::connect(db_url).await.unwrap();
    sqlx::query(
        "UPDATE envelopes SET version = $1, body = $2 WHERE account_id = (SELECT id FROM accounts WHERE email = $3)",
    )
    .bind(version)
    .bind(body)
    .bind(email)
    .execute(&mut conn)
    .await
    .unwrap();
}

/// A password change: a wrong current password is refused and counted; the change is a
/// fresh registration swapped in with the re-sealed envelope in one step (through the
/// other replica, the old password stops working at once and the new one releases the same
/// key); a half-done change, a forged ticket and a login begun before the change leave
/// nothing changed or get nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_change_swaps_the_record_and_the_envelope_together() {
    const NEW: &[u8] = b"a new and better passphrase";
    for db in backends().await {
        let tls = TestTls::new();
        let secrets = secrets_file(tls.dir.path());
        let (a, b) = replica_pair(&db.url, &secrets, &tls, GuessLimit::default()).await;
        let token = enrol(&db.url, ALICE).await;
        client(&a, &tls).register(&token, PASSWORD, &key_material("alice"), "laptop").await.unwrap();

        // A wrong current password is a counted guess and changes nothing.
        let wrong = client(&a, &tls).change_password(ALICE, b"wrong", NEW, 1).await.unwrap_err();
        assert!(matches!(wrong, Error::LoginRefused { guesses_left: 4 }), "{}: {wrong}", db.name);
        let wrong = client(&b, &tls).login(ALICE, NEW, "d", 0, false).await.unwrap_err();
        assert!(matches!(wrong, Error::LoginRefused { guesses_left: 3 }), "{wrong}");

        // Half done: a login with the current password and a new registration started, but
        // the finish carries an envelope of the wrong version: refused, the ticket used up,
        // the old password still works and the new one does not.
        let (started, registration) = start_change(&a, &tls, PASSWORD, NEW).await;
        let registered = registration.finish(NEW, &started.response).unwrap();
        let account_id: [u8; 16] = started.account_id.as_slice().try_into().unwrap();
        let wrong_version = seal(5, account_id, &registered.export_key);
        let finish = |ticket: &str, envelope: Vec<u8>| {
            json_body(&wire::PasswordFinish {
                v: 1,
                ticket: ticket.into(),
                upload: registered.message.clone(),
                envelope,
            })
        };
        let (status, text) =
            raw_request(&b, &tls, "POST", "/v1/password/finish", finish(&started.ticket, wrong_version)).await;
        assert_eq!(
            (status, text.as_str()),
            (400, "The new envelope must be version 2 of this account; the password was not changed."),
            "{}",
            db.name
        );
        let right = seal(2, account_id, &registered.export_key);
        let (status, text) =
            raw_request(&b, &tls, "POST", "/v1/password/finish", finish(&started.ticket, right.clone())).await;
        assert_eq!(status, 401, "a ticket is single-use: {text}");
        let (status, _) = raw_request(&b, &tls, "POST", "/v1/password/finish", finish("forged", right)).await;
        assert_eq!(status, 401);
        client(&b, &tls).login(ALICE, PASSWORD, "d", 1, true).await.unwrap();
        assert!(matches!(client(&b, &tls).login(ALICE, NEW, "d", 0, true).await, Err(Error::LoginRefused { .. })));

        // A login started with the old password before the change.
        let (early, early_ke1) = smime_keyserver::opaque::PendingLogin::start(PASSWORD).unwrap();
        let (status, text) = raw_request(
            &a,
            &tls,
            "POST",
            "/v1/login/start",
            json_body(&wire::LoginStart { v: 1, email: ALICE.into(), ke1: early_ke1 }),
        )
        .await;
        assert_eq!(status, 200, "{text}");
        let early_started: wire::LoginStarted = serde_json::from_str(&text).unwrap();

        // The change, through replica A.
        let version = client(&a, &tls).change_password(ALICE, PASSWORD, NEW, 1).await.unwrap();
        assert_eq!(version, 2, "{}", db.name);

        // Through replica B: the old password is refused at once, the new one releases the
        // same key as envelope version 2.
        let old = client(&b, &tls).login(ALICE, PASSWORD, "d", 0, true).await.unwrap_err();
        assert!(matches!(old, Error::LoginRefused { .. }), "{}: {old}", db.name);
        let unlocked = client(&b, &tls).login(ALICE, NEW, "desktop", 2, true).await.unwrap();
        assert_eq!(unlocked.payload.as_deref().unwrap(), key_material("alice").as_slice());
        assert_eq!(unlocked.session.envelope_version, 2);

        // The login begun before the change cannot complete with the old password now.
        let early_outcome = early.finish(PASSWORD, &early_started.ke2).unwrap();
        let device = wire::DeviceHello { public_key: DeviceKey::generate().public_key(), name: "late".into() };
        let late = wire::LoginFinish {
            v: 1,
            session: early_started.session,
            ke3: early_outcome.message,
            device,
            release_envelope: true,
        };
        let (status, text) = raw_request(&b, &tls, "POST", "/v1/login/finish", json_body(&late)).await;
        assert_eq!(status, 401, "{}: {text}", db.name);

        let audit = unlocked.session.audit().await.unwrap();
        let events: Vec<&str> = audit.entries.iter().map(|e| e.event.as_str()).collect();
        assert_eq!(events.iter().filter(|e| **e == "password_change").count(), 1, "{events:?}");
        assert!(audit.entries.iter().any(|e| e.event == "login_failed" && e.detail.contains("password changed")));
    }
}

/// Logs in with `current` and starts a change to `new` by hand (what the client does
/// before its last step).
async fn start_change(
    replica: &Replica,
    tls: &TestTls,
    current: &[u8],
    new: &[u8],
) -> (wire::PasswordStarted, smime_keyserver::opaque::PendingRegistration) {
    let (login, ke1) = smime_keyserver::opaque::PendingLogin::start(current).unwrap();
    let (status, text) = raw_request(
        replica,
        tls,
        "POST",
        "/v1/login/start",
        json_body(&wire::LoginStart { v: 1, email: ALICE.into(), ke1 }),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let started: wire::LoginStarted = serde_json::from_str(&text).unwrap();
    let outcome = login.finish(current, &started.ke2).unwrap();
    let (registration, request) = smime_keyserver::opaque::PendingRegistration::start(new).unwrap();
    let start = wire::PasswordStart { v: 1, session: started.session, ke3: outcome.message, request };
    let (status, text) = raw_request(replica, tls, "POST", "/v1/password/start", json_body(&start)).await;
    assert_eq!(status, 200, "{text}");
    (serde_json::from_str(&text).unwrap(), registration)
}

fn seal(version: u64, account_id: [u8; 16], export_key: &[u8]) -> Vec<u8> {
    smime_keyserver::envelope::seal(
        smime_keyserver::envelope::Header { version, account_id },
        export_key,
        &key_material("alice"),
    )
    .unwrap()
}

fn json_body(value: &impl serde::Serialize) -> Vec<u8> {
    serde_json::to_vec(value).unwrap()
}

/// Escalating lockout: a window in which the limit was reached is followed by one twice as
/// long, for a known and an unknown name alike (the same answers, across replicas); a
/// successful login forgets it. Login starts are sent by hand (no Argon2id), and the clock
/// is read in whole seconds as the server does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_lockout_window_doubles_while_the_limit_keeps_being_reached() {
    const NOBODY: &str = "nobody@example.test";
    let limit = GuessLimit { starts: 2, window_secs: 3 };
    for db in backends().await {
        let tls = TestTls::new();
        let secrets = secrets_file(tls.dir.path());
        let (a, b) = replica_pair(&db.url, &secrets, &tls, limit).await;
        let token = enrol(&db.url, ALICE).await;
        client(&a, &tls).register(&token, PASSWORD, b"k", "laptop").await.unwrap();

        // One round: login starts for alice and an unknown name, alternating replicas; the
        // answers must be `expected`, and the same for both names.
        let round = async |expected: &[&str]| {
            for (i, want) in expected.iter().enumerate() {
                let server = if i % 2 == 0 { &a } else { &b };
                for name in [ALICE, NOBODY] {
                    assert_eq!(login_start(server, &tls, name).await, *want, "{}: {name}, start {i}", db.name);
                }
            }
        };
        // Window 1 (3 s): the limit is reached. Rounds start just after a whole second, so
        // that a window's start is known to a second.
        let first = second_start() + 1;
        sleep_until(first).await;
        round(&["1 left", "0 left", "locked"]).await;
        // Window 2 is 6 s long: 4 s in, where a 3-second window would have let it go, it is
        // still closed.
        let second = first + 4;
        sleep_until(second).await;
        round(&["1 left", "0 left", "locked"]).await;
        sleep_until(second + 4).await;
        round(&["locked"]).await;
        // Open again after 6 s (the next window would be 12 s); the right password resets
        // alice, and the unknown name's window has run out too.
        sleep_until(second + 7).await;
        client(&a, &tls).login(ALICE, PASSWORD, "d", 0, false).await.unwrap();
        round(&["1 left"]).await;
    }
}

/// Sends a login start for `name` (the password does not matter: no KE3 follows).
async fn login_start(server: &Replica, tls: &TestTls, name: &str) -> String {
    let (_, ke1) = smime_keyserver::opaque::PendingLogin::start(b"guess").unwrap();
    let body = json_body(&wire::LoginStart { v: 1, email: name.into(), ke1 });
    match raw_request(server, tls, "POST", "/v1/login/start", body).await {
        (200, text) => format!("{} left", serde_json::from_str::<wire::LoginStarted>(&text).unwrap().guesses_left),
        (429, _) => "locked".to_owned(),
        (status, text) => panic!("unexpected {status}: {text}"),
    }
}

/// The current whole second (Unix time), as the server counts.
fn second_start() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Sleeps until a tenth of a second into the whole second `second`.
async fn sleep_until(second: u64) {
    let target = std::time::UNIX_EPOCH + std::time::Duration::from_millis(second * 1000 + 100);
    if let Ok(left) = target.duration_since(std::time::SystemTime::now()) {
        tokio::time::sleep(left).await;
    }
}
