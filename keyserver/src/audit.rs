//! The audit log's hash chain: each entry's hash covers the previous entry's hash, so an
//! entry deleted or changed in the database breaks every hash after it. The server writes
//! the chain; the client checks it before showing the log.

use sha2::{Digest, Sha256};

use crate::wire::AuditEntry;

/// The hash of the entry before the first one.
pub const GENESIS: [u8; 32] = [0; 32];

/// The chained hash of an entry, given the previous entry's hash.
pub fn chain_hash(previous: &[u8], seq: i64, at: i64, event: &str, detail: &str) -> Vec<u8> {
    let mut hash = Sha256::new();
    hash.update(b"smime-keyserver audit v1");
    hash.update(previous);
    hash.update(seq.to_be_bytes());
    hash.update(at.to_be_bytes());
    for field in [event, detail] {
        hash.update((field.len() as u64).to_be_bytes());
        hash.update(field.as_bytes());
    }
    hash.finalize().to_vec()
}

/// Whether `entries` (oldest first, starting at seq 1) form an unbroken chain.
pub fn chain_is_intact(entries: &[AuditEntry]) -> bool {
    let mut previous = GENESIS.to_vec();
    for (at, entry) in entries.iter().enumerate() {
        let expected_seq = i64::try_from(at).map_or(i64::MAX, |n| n + 1);
        if entry.seq != expected_seq
            || chain_hash(&previous, entry.seq, entry.at, &entry.event, &entry.detail) != entry.hash
        {
            return false;
        }
        previous = entry.hash.clone();
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(previous: &[u8], seq: i64, event: &str) -> AuditEntry {
        let hash = chain_hash(previous, seq, 100 + seq, event, "d");
        AuditEntry { seq, at: 100 + seq, event: event.into(), detail: "d".into(), hash }
    }

    #[test]
    fn a_deleted_or_changed_entry_breaks_the_chain() {
        let first = entry(&GENESIS, 1, "register");
        let second = entry(&first.hash, 2, "login");
        let third = entry(&second.hash, 3, "key_release");
        assert!(chain_is_intact(&[first.clone(), second.clone(), third.clone()]));
        assert!(!chain_is_intact(&[first.clone(), third.clone()]));
        let mut changed = second.clone();
        changed.event = "device_add".into();
        assert!(!chain_is_intact(&[first, changed, third]));
    }
}
