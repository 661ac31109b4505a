//! `roam.json`: per account, what this machine knows about it on the key server: its id
//! and the highest envelope version seen (the high-water mark a rolled-back envelope is
//! checked against). Nothing in it is secret.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::private_file::{self, Durability};

/// One account.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccountState {
    /// The key server's URL.
    pub server: String,
    /// The account's id (hex).
    pub account_id: String,
    /// The highest envelope version seen here.
    pub high_water: u64,
}

/// The file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoamState {
    /// By account name (e-mail address, lower case).
    pub accounts: BTreeMap<String, AccountState>,
}

impl RoamState {
    /// The file's path in the configuration directory.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("roam.json")
    }

    /// Reads the file (empty when there is none).
    pub fn load(dir: &Path) -> Result<Self, Error> {
        let path = Self::path(dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::Roam(format!("{} is damaged ({e}); remove it to start over", path.display()))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(Error::Roam(format!("cannot read {}: {e}", path.display()))),
        }
    }

    /// The high-water mark of `account` on `server` (0 when never seen).
    pub fn high_water(&self, server: &str, account: &str) -> u64 {
        self.accounts.get(account).filter(|a| a.server == server).map_or(0, |a| a.high_water)
    }

    /// Records that `account` has envelope `version` (never lowering the mark) and writes
    /// the file.
    pub fn record(dir: &Path, server: &str, account: &str, account_id: &str, version: u64) -> Result<(), Error> {
        let mut state = Self::load(dir)?;
        let entry = state.accounts.entry(account.to_owned()).or_default();
        if entry.server != server || entry.account_id != account_id {
            *entry = AccountState { server: server.to_owned(), account_id: account_id.to_owned(), high_water: 0 };
        }
        entry.high_water = entry.high_water.max(version);
        let text = serde_json::to_vec_pretty(&state).map_err(|e| Error::Roam(e.to_string()))?;
        let path = Self::path(dir);
        private_file::write(&path, Durability::Synced, |out| out.write_all(&text))
            .map_err(|e| Error::Roam(format!("cannot write {}: {e}", path.display())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mark_never_goes_down() {
        let dir = tempfile::tempdir().unwrap();
        RoamState::record(dir.path(), "https://k", "a@x", "01", 3).unwrap();
        RoamState::record(dir.path(), "https://k", "a@x", "01", 2).unwrap();
        let state = RoamState::load(dir.path()).unwrap();
        assert_eq!(state.high_water("https://k", "a@x"), 3);
        assert_eq!(state.high_water("https://other", "a@x"), 0);
        std::fs::write(RoamState::path(dir.path()), b"{").unwrap();
        assert!(RoamState::load(dir.path()).unwrap_err().to_string().contains("damaged"));
    }
}
