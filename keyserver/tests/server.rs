//! The key server end to end over TLS, on SQLite and on PostgreSQL: two in-process
//! replicas share one database; the client is the one the proxy uses.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use hyper::StatusCode;
use smime_keyserver::Error;
use smime_keyserver::client::is_status;
use smime_keyserver::server::GuessLimit;
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
        let (a, b) = (
            replica(&db.url, &secrets, &tls, GuessLimit::default()).await,
            replica(&db.url, &secrets, &tls, GuessLimit::default()).await,
        );
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
        let (a, b) = (replica(&db.url, &secrets, &tls, limit).await, replica(&db.url, &secrets, &tls, limit).await);
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
