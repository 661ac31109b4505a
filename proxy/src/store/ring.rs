//! [`KeyRing`]: the keys unlocked for a running proxy, and the idle timer that locks
//! them again. Flows that sign or decrypt ask it for an identity with
//! [`KeyRing::identity_for`]; while it is locked they get [`KeyUnavailable::Locked`],
//! whose message says how to unlock, and must fail closed.
//!
//! Locking drops the ring's references to the identities: the key material (RSA and EC
//! secret types wipe themselves on drop) is wiped as soon as the last flow still using
//! one finishes. Time is `tokio::time::Instant`, so tests can pause and advance it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use smime_crypto::Identity;
use tokio::sync::Notify;
use tokio::time::Instant;
use zeroize::Zeroizing;

use super::{KeyStore, StoreError};

/// Why no identity could be had.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyUnavailable {
    /// The key store is locked (never unlocked, idle too long, or locked on demand).
    #[error("the key store is locked: {hint}")]
    Locked {
        /// How to unlock it.
        hint: String,
    },
    /// The store is unlocked but holds no key for this address.
    #[error("no private key for {address} in the key store (import one with `smime-proxy keys import FILE.p12`)")]
    NoKey {
        /// The address asked for.
        address: String,
    },
}

/// What the status page shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingStatus {
    /// Keys in the store (on disk); 0 also when there is no store.
    pub stored: usize,
    /// Keys unlocked in memory (0 = locked).
    pub unlocked: usize,
    /// The idle timeout.
    pub lock_after_idle: Duration,
}

/// The unlocked keys of a running proxy.
#[derive(Debug)]
pub struct KeyRing {
    store: Option<KeyStore>,
    idle: Duration,
    hint: String,
    state: Mutex<State>,
    unlocked: Notify,
    locked: Notify,
}

#[derive(Debug)]
struct State {
    keys: Vec<Unlocked>,
    last_used: Instant,
    /// Webmail logins seen this run, by site (for SMTP submission); wiped with the keys.
    logins: HashMap<String, Login>,
}

/// A webmail login, as the browser posted it.
#[derive(Clone)]
pub struct Login {
    /// The user name.
    pub user: String,
    /// The password (wiped when dropped).
    pub password: Zeroizing<String>,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login").field("user", &self.user).finish_non_exhaustive()
    }
}

#[derive(Debug)]
struct Unlocked {
    addresses: Vec<String>,
    identity: Arc<Identity>,
}

impl KeyRing {
    /// A locked ring over `store`, locking again after `idle` without use. `hint` tells a
    /// user how to unlock (shown in every [`KeyUnavailable::Locked`]).
    pub fn new(store: KeyStore, idle: Duration, hint: impl Into<String>) -> Self {
        Self::build(Some(store), idle, hint.into())
    }

    /// A ring with no key store at all: always locked, nothing to unlock.
    pub fn without_store(hint: impl Into<String>) -> Self {
        Self::build(None, Duration::from_secs(30 * 60), hint.into())
    }

    fn build(store: Option<KeyStore>, idle: Duration, hint: String) -> Self {
        let state = State { keys: Vec::new(), last_used: Instant::now(), logins: HashMap::new() };
        Self { store, idle, hint, state: Mutex::new(state), unlocked: Notify::new(), locked: Notify::new() }
    }

    /// The key store this ring unlocks, if it has one.
    pub fn store(&self) -> Option<&KeyStore> {
        self.store.as_ref()
    }

    /// Unseals every stored key with `passphrase` (Argon2id per key: call it off the
    /// async executor) and starts the idle timer. Returns how many keys are unlocked.
    pub fn unlock(&self, passphrase: &[u8]) -> Result<usize, StoreError> {
        let store = self.store.as_ref().ok_or(StoreError::NoKeys)?;
        let keys: Vec<Unlocked> = store
            .open_all(passphrase)?
            .into_iter()
            .map(|(entry, identity)| Unlocked { addresses: entry.summary.addresses, identity: Arc::new(identity) })
            .collect();
        let count = keys.len();
        {
            let mut state = self.state();
            state.keys = keys;
            state.last_used = Instant::now();
        }
        self.unlocked.notify_waiters();
        tracing::info!(keys = count, "key store unlocked");
        Ok(count)
    }

    /// Checks `passphrase` against a stored key without unlocking anything (any non-empty
    /// passphrase when the store is empty or absent).
    pub fn check_passphrase(&self, passphrase: &[u8]) -> Result<(), StoreError> {
        match &self.store {
            Some(store) => store.check_passphrase(passphrase),
            None if passphrase.is_empty() => Err(StoreError::EmptyPassphrase),
            None => Ok(()),
        }
    }

    /// Remembers the login the user gave `site` (for sending over SMTP as that user), in
    /// memory only, until the ring is locked (on demand, when idle, at shutdown).
    pub fn remember_login(&self, site: &str, login: Login) {
        self.state().logins.insert(site.to_owned(), login);
    }

    /// The login last seen for `site`.
    pub fn login_for(&self, site: &str) -> Option<Login> {
        self.state().logins.get(site).cloned()
    }

    /// Forgets every unlocked key and every login. Returns true when something was
    /// unlocked.
    pub fn lock(&self) -> bool {
        std::mem::take(&mut self.state().logins);
        let keys = std::mem::take(&mut self.state().keys);
        let was = !keys.is_empty();
        drop(keys);
        if was {
            tracing::info!("key store locked");
            self.locked.notify_waiters();
        }
        was
    }

    /// Returns at the next lock of an unlocked ring: what holds plaintext decrypted with
    /// its keys waits here to wipe it.
    pub async fn wait_for_lock(&self) {
        self.locked.notified().await;
    }

    /// True while keys are unlocked.
    pub fn is_unlocked(&self) -> bool {
        !self.state().keys.is_empty()
    }

    /// Counts for the status page.
    pub fn status(&self) -> RingStatus {
        let stored = self.store.as_ref().and_then(|s| s.list().ok()).map_or(0, |l| l.len());
        RingStatus { stored, unlocked: self.state().keys.len(), lock_after_idle: self.idle }
    }

    /// The identity for `address` (case-insensitive), counting as use for the idle
    /// timer. Fails closed while locked, including when the idle time has just run out.
    pub fn identity_for(&self, address: &str) -> Result<Arc<Identity>, KeyUnavailable> {
        let mut state = self.state();
        let now = Instant::now();
        if state.keys.is_empty() || now.duration_since(state.last_used) >= self.idle {
            state.keys.clear();
            return Err(KeyUnavailable::Locked { hint: self.hint.clone() });
        }
        state.last_used = now;
        let address = address.trim();
        state
            .keys
            .iter()
            .find(|k| k.addresses.iter().any(|a| a.eq_ignore_ascii_case(address)))
            .map(|k| Arc::clone(&k.identity))
            .ok_or_else(|| KeyUnavailable::NoKey { address: address.to_owned() })
    }

    /// Every unlocked identity, counting as use for the idle timer: for decrypting a
    /// message whose recipient is not known by address. Fails closed while locked.
    pub fn identities(&self) -> Result<Vec<Arc<Identity>>, KeyUnavailable> {
        let mut state = self.state();
        let now = Instant::now();
        if state.keys.is_empty() || now.duration_since(state.last_used) >= self.idle {
            state.keys.clear();
            return Err(KeyUnavailable::Locked { hint: self.hint.clone() });
        }
        state.last_used = now;
        Ok(state.keys.iter().map(|k| Arc::clone(&k.identity)).collect())
    }

    /// Locks when the idle time has run out. Returns true when it locked.
    pub fn lock_if_idle(&self) -> bool {
        let expired = {
            let state = self.state();
            !state.keys.is_empty() && state.last_used.elapsed() >= self.idle
        };
        expired && {
            tracing::info!(after = ?self.idle, "locking the key store: idle");
            self.lock()
        }
    }

    /// Runs forever, locking the ring whenever it has been idle for the timeout. Spawn
    /// it once per proxy.
    pub async fn lock_when_idle(self: Arc<Self>) {
        loop {
            // Register for the unlock notification before looking, so none is missed.
            let unlocked = self.unlocked.notified();
            let deadline = {
                let state = self.state();
                (!state.keys.is_empty()).then(|| state.last_used + self.idle)
            };
            match deadline {
                Some(deadline) => {
                    tokio::time::sleep_until(deadline).await;
                    self.lock_if_idle();
                }
                None => unlocked.await,
            }
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave `State` half-updated (each update
        // is a single assignment), so a poisoned lock is still usable.
        self.state.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use smime_crypto::seal::SealCost;
    use smime_crypto::{SignOptions, pkcs12, sign_message};
    use smime_proxy_tests::{pki_bytes, sample_message};

    const FAST: SealCost = SealCost { memory_kib: 8 * 1024, iterations: 1, parallelism: 1 };
    const HINT: &str = "unlock it at http://smime-proxy.invalid/";

    fn ring(idle: Duration) -> (tempfile::TempDir, Arc<KeyRing>) {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path()).with_cost(FAST);
        let alice = pkcs12::read_identity(&pki_bytes("alice.p12"), b"test").unwrap();
        store.import(&alice, b"store pass").unwrap();
        (dir, Arc::new(KeyRing::new(store, idle, HINT)))
    }

    #[test]
    fn logins_are_wiped_with_the_keys() {
        let ring = KeyRing::without_store("unlock it");
        let login = Login { user: "alice@example.test".into(), password: Zeroizing::new("alicepass".into()) };
        ring.remember_login("sogo.example:443", login);
        assert_eq!(ring.login_for("sogo.example:443").unwrap().user, "alice@example.test");
        assert!(ring.login_for("other:443").is_none());
        assert!(!format!("{:?}", ring.login_for("sogo.example:443")).contains("alicepass"));
        ring.lock();
        assert!(ring.login_for("sogo.example:443").is_none());
    }

    #[tokio::test(start_paused = true)]
    async fn locks_after_the_idle_timeout_and_use_postpones_it() {
        let (_dir, ring) = ring(Duration::from_millis(200));
        tokio::spawn(Arc::clone(&ring).lock_when_idle());
        assert!(matches!(ring.identity_for("alice@example.test"), Err(KeyUnavailable::Locked { .. })));
        assert_eq!(ring.unlock(b"store pass").unwrap(), 1);

        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(ring.identity_for("ALICE@example.test").is_ok(), "in time, any case");
        tokio::time::sleep(Duration::from_millis(150)).await;
        assert!(ring.is_unlocked(), "the use at 150 ms moved the deadline to 350 ms");
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!ring.is_unlocked(), "the timer task locked it at 350 ms");
        let err = ring.identity_for("alice@example.test").unwrap_err();
        assert_eq!(err.to_string(), format!("the key store is locked: {HINT}"));

        // Unlocking again re-arms the timer.
        ring.unlock(b"store pass").unwrap();
        tokio::time::sleep(Duration::from_millis(250)).await;
        assert!(!ring.is_unlocked());
    }

    #[tokio::test]
    async fn a_lock_of_an_unlocked_ring_wakes_what_waits_for_it() {
        let (_dir, ring) = ring(Duration::from_secs(600));
        let waiting = tokio::spawn({
            let ring = Arc::clone(&ring);
            async move { ring.wait_for_lock().await }
        });
        tokio::task::yield_now().await;
        assert!(!ring.lock(), "locking a locked ring wakes nobody");
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished());
        ring.unlock(b"store pass").unwrap();
        assert!(ring.lock());
        tokio::time::timeout(Duration::from_secs(5), waiting).await.expect("woken").unwrap();
    }

    #[tokio::test(start_paused = true)]
    async fn an_expired_ring_fails_closed_even_before_the_timer_runs() {
        let (_dir, ring) = ring(Duration::from_millis(200));
        ring.unlock(b"store pass").unwrap();
        tokio::time::advance(Duration::from_millis(201)).await;
        assert!(matches!(ring.identity_for("alice@example.test"), Err(KeyUnavailable::Locked { .. })));
        assert!(!ring.is_unlocked(), "the keys were dropped");
    }

    #[tokio::test(start_paused = true)]
    async fn identities_fail_closed_when_locked_and_count_as_use() {
        let (_dir, ring) = ring(Duration::from_millis(200));
        assert!(matches!(ring.identities(), Err(KeyUnavailable::Locked { .. })));
        ring.unlock(b"store pass").unwrap();
        tokio::time::advance(Duration::from_millis(150)).await;
        assert_eq!(ring.identities().unwrap().len(), 1);
        tokio::time::advance(Duration::from_millis(150)).await;
        assert!(ring.identities().is_ok(), "the last call postponed the lock");
        tokio::time::advance(Duration::from_millis(200)).await;
        assert!(matches!(ring.identities(), Err(KeyUnavailable::Locked { .. })));
    }

    #[test]
    fn signing_needs_an_unlocked_ring() {
        let (_dir, ring) = ring(Duration::from_secs(60));
        let message = sample_message("alice@example.test", "bob@example.test", "hi");
        let sign = |ring: &KeyRing| -> Result<Vec<u8>, String> {
            let identity = ring.identity_for("alice@example.test").map_err(|e| e.to_string())?;
            sign_message(&message, &identity, &SignOptions::default(), false)
                .map(|m| m.to_vec())
                .map_err(|e| e.to_string())
        };
        let locked = sign(&ring).unwrap_err();
        assert!(locked.contains("locked") && locked.contains("unlock it at"), "{locked}");

        assert!(matches!(ring.unlock(b"wrong"), Err(StoreError::WrongStorePassphrase)));
        ring.unlock(b"store pass").unwrap();
        assert!(sign(&ring).is_ok());
        assert!(matches!(ring.identity_for("bob@example.test"), Err(KeyUnavailable::NoKey { .. })));

        assert!(ring.lock());
        assert!(sign(&ring).unwrap_err().contains("locked"));
        assert!(!ring.lock(), "already locked");
    }

    #[test]
    fn a_ring_without_store_cannot_unlock() {
        let ring = KeyRing::without_store(HINT);
        assert!(matches!(ring.unlock(b"x"), Err(StoreError::NoKeys)));
        assert_eq!(ring.status().stored, 0);
    }
}
