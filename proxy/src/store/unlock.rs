//! [`unlock_all`]: everything the one store passphrase opens, in an order that never
//! seals the CA under a passphrase the key store does not share; [`import_and_unlock`]:
//! a key added to the store under that passphrase (the own page's imports: a PKCS#12
//! upload, a local copy of a key released by the key server).

use smime_crypto::Identity;

use super::{CaUnlocked, CaVault, Imported, KeyRing, StoreError};

/// What [`unlock_all`] opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Opened {
    /// What the CA did (created, migrated, or only unsealed).
    pub ca: CaUnlocked,
    /// How many keys are unlocked (0 when the store is empty).
    pub keys: usize,
}

/// Unseals the CA and mints the run's intermediate, then unlocks the keys (when there are
/// any). A CA that takes any passphrase (none yet: it is created; a clear key of an older
/// version: it is sealed) is only given one the stored keys accept, so the CA and the keys
/// always share the store passphrase. Argon2id per key and for the CA: call it off the
/// async executor.
pub fn unlock_all(ca: &CaVault, keys: &KeyRing, passphrase: &[u8]) -> Result<Opened, StoreError> {
    if passphrase.is_empty() {
        return Err(StoreError::EmptyPassphrase);
    }
    let stored = keys.status().stored > 0;
    if stored && ca.takes_any_passphrase()? {
        keys.check_passphrase(passphrase)?;
    }
    let report = ca.unlock(passphrase)?;
    let count = if stored { keys.unlock(passphrase)? } else { 0 };
    Ok(Opened { ca: report, keys: count })
}

/// Seals `identity` into the ring's key store under `passphrase` ([`super::KeyStore::import`],
/// as every import does) and unlocks everything the passphrase opens. The first key sets
/// the store passphrase, which must be the one the local CA is already sealed under (a CA
/// not made yet is then made under it). Argon2id: call it off the async executor.
pub fn import_and_unlock(
    ca: &CaVault,
    keys: &KeyRing,
    identity: &Identity,
    passphrase: &[u8],
) -> Result<Imported, StoreError> {
    let store = keys.store().ok_or(StoreError::NoKeys)?;
    if store.is_empty()? && !ca.takes_any_passphrase()? {
        ca.unlock(passphrase)?;
    }
    // Checks the passphrase against the keys already stored.
    let imported = store.import(identity, passphrase)?;
    unlock_all(ca, keys, passphrase)?;
    Ok(imported)
}

/// Checks `passphrase` as [`import_and_unlock`] will: against the stored keys or, when
/// there are none yet, against the sealed CA (which it then unlocks). A store with neither
/// takes any non-empty passphrase. Fails when the ring has no key store.
pub fn check_store_passphrase(ca: &CaVault, keys: &KeyRing, passphrase: &[u8]) -> Result<(), StoreError> {
    let store = keys.store().ok_or(StoreError::NoKeys)?;
    if store.is_empty()? && !passphrase.is_empty() && !ca.takes_any_passphrase()? {
        ca.unlock(passphrase)?;
        return Ok(());
    }
    store.check_passphrase(passphrase)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{CaStatus, KeyStore};
    use smime_crypto::seal::SealCost;
    use smime_proxy_tests::pki_bytes;
    use std::time::Duration;

    const FAST: SealCost = SealCost { memory_kib: 8 * 1024, iterations: 1, parallelism: 1 };

    #[test]
    fn a_new_ca_is_only_sealed_under_the_passphrase_of_the_stored_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = KeyStore::new(dir.path()).with_cost(FAST);
        let alice = smime_crypto::pkcs12::read_identity(&pki_bytes("alice.p12"), b"test").unwrap();
        store.import(&alice, b"store pass").unwrap();
        let keys = KeyRing::new(store, Duration::from_secs(60), "unlock");
        let files = smime_ca::CaFiles::new(dir.path()).with_cost(FAST);
        let ca = CaVault::sealed(files, "t".into(), vec!["smime-proxy.invalid".into()], 4).unwrap();

        assert!(matches!(unlock_all(&ca, &keys, b"other"), Err(StoreError::WrongStorePassphrase)));
        assert_eq!(ca.status(), CaStatus::Missing, "no CA sealed under a passphrase the keys refuse");
        assert!(!keys.is_unlocked());

        let opened = unlock_all(&ca, &keys, b"store pass").unwrap();
        assert!(opened.ca.created);
        assert_eq!(opened.keys, 1);
        assert!(matches!(ca.status(), CaStatus::Ready { .. }));
    }
}
