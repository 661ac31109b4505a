//! Work limits for hostile files: a `.p12` chooses its own iteration counts, so a small
//! file could otherwise ask for hours of hashing.

use crate::{Error, Result};

/// The largest iteration count accepted for any one derivation (the MAC key, or one
/// bag's key). OpenSSL 3 writes 2048, NSS 10,000; RFC 8018 §4.2 calls 10,000,000
/// appropriate for "especially critical keys".
pub(super) const MAX_ITERATIONS: u32 = 10_000_000;

/// The iterations a whole file may spend, summed over all its derivations: enough for a
/// MAC and two encrypted parts at the maximum, not for a thousand bags at it.
pub(super) const MAX_TOTAL_ITERATIONS: u64 = 3 * MAX_ITERATIONS as u64;

/// Counts the iterations spent while reading one file.
#[derive(Debug, Default)]
pub(super) struct Budget {
    spent: u64,
}

impl Budget {
    /// Accounts for one derivation of `iterations`, refusing 0 (RFC 8018 requires at
    /// least 1) and anything over the limits before any hashing is done.
    pub(super) fn spend(&mut self, iterations: u32) -> Result<()> {
        if iterations == 0 {
            return Err(Error::malformed("PKCS#12 file", "iteration count 0"));
        }
        if iterations > MAX_ITERATIONS {
            return Err(Error::Key {
                what: "PKCS#12 file",
                reason: format!("iteration count {iterations} is above the limit of {MAX_ITERATIONS}"),
            });
        }
        self.spent += u64::from(iterations);
        if self.spent > MAX_TOTAL_ITERATIONS {
            return Err(Error::Key {
                what: "PKCS#12 file",
                reason: format!(
                    "the file asks for more than {MAX_TOTAL_ITERATIONS} key-derivation iterations in total"
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_derivation_and_per_file() {
        let mut budget = Budget::default();
        assert!(matches!(budget.spend(0), Err(Error::Malformed { .. })));
        assert!(matches!(budget.spend(MAX_ITERATIONS + 1), Err(Error::Key { .. })));
        for _ in 0..3 {
            assert!(budget.spend(MAX_ITERATIONS).is_ok());
        }
        assert!(matches!(budget.spend(1), Err(Error::Key { .. })));
    }
}
