//! The on-disk cache of public PKI data: CRLs, OCSP responses and issuers' certificates,
//! one file per entry under `<config-dir>/cache/pki/`, named by a hash of what it is for.
//! Nothing here is secret (it is all signed public data), but the files still say which
//! correspondents' CAs were asked, so they are owner-only and `cleanup` lists them.
//!
//! Freshness is not decided here: the engine judges every entry again at each use
//! (nextUpdate, signatures), and a stale entry is fetched anew. The cache only keeps its
//! total size under a cap by dropping the least recently written entries.

use std::path::PathBuf;

use sha2::{Digest as _, Sha256};

use crate::private_file::{self, Durability};

/// A size-capped directory of entries.
#[derive(Debug, Clone)]
pub(crate) struct PkiCache {
    dir: PathBuf,
    cap_bytes: u64,
}

impl PkiCache {
    /// The cache in `dir`, holding at most `cap_bytes` in total.
    pub(crate) fn new(dir: PathBuf, cap_bytes: u64) -> Self {
        Self { dir, cap_bytes }
    }

    /// The entry for `kind` ("crl", "ocsp", "issuer") and `key` (a URL, a certificate).
    pub(crate) fn get(&self, kind: &str, key: &[u8]) -> Option<Vec<u8>> {
        std::fs::read(self.path(kind, key)).ok()
    }

    /// Stores an entry (larger than the whole cap: not stored), then trims the cache.
    /// Failures are logged: the cache is an optimisation, never a reason to fail.
    pub(crate) fn put(&self, kind: &str, key: &[u8], data: &[u8]) {
        if data.len() as u64 > self.cap_bytes {
            return;
        }
        let result = std::fs::create_dir_all(&self.dir)
            .and_then(|()| private_file::write(&self.path(kind, key), Durability::Buffered, |out| out.write_all(data)));
        if let Err(error) = result {
            tracing::warn!(%error, dir = %self.dir.display(), "cannot write to the PKI cache");
            return;
        }
        self.trim();
    }

    /// Removes the oldest entries until the total is under the cap.
    fn trim(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else { return };
        let mut files: Vec<(std::time::SystemTime, u64, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let meta = e.metadata().ok()?;
                meta.is_file().then(|| (meta.modified().unwrap_or(std::time::UNIX_EPOCH), meta.len(), e.path()))
            })
            .collect();
        let mut total: u64 = files.iter().map(|(_, len, _)| len).sum();
        files.sort();
        for (_, len, path) in files {
            if total <= self.cap_bytes {
                break;
            }
            if std::fs::remove_file(&path).is_ok() {
                total -= len;
            }
        }
    }

    fn path(&self, kind: &str, key: &[u8]) -> PathBuf {
        let hash: String = Sha256::digest(key).iter().take(16).map(|b| format!("{b:02x}")).collect();
        self.dir.join(format!("{kind}-{hash}"))
    }

    /// The size cap.
    pub(crate) fn cap(&self) -> u64 {
        self.cap_bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_round_trip_and_the_cap_drops_the_oldest() {
        let dir = tempfile::tempdir().unwrap();
        let cache = PkiCache::new(dir.path().join("pki"), 10);
        assert_eq!(cache.get("crl", b"http://a/"), None);
        cache.put("crl", b"http://a/", b"123456");
        assert_eq!(cache.get("crl", b"http://a/").as_deref(), Some(&b"123456"[..]));
        std::thread::sleep(std::time::Duration::from_millis(20));
        cache.put("crl", b"http://b/", b"abcdef");
        assert_eq!(cache.get("crl", b"http://a/"), None, "over the cap: the older entry goes");
        assert!(cache.get("crl", b"http://b/").is_some());
        cache.put("crl", b"http://c/", b"way too large for the cap");
        assert_eq!(cache.get("crl", b"http://c/"), None);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(cache.path("crl", b"http://b/")).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
