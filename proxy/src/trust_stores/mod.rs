//! Trusting the local CA outside the proxy (`smime-proxy ca install|uninstall|status`, like
//! mkcert): the operating system's store and the NSS databases of Chromium and of every
//! Firefox profile. One module per store kind; every function is given the places it works
//! on (the user's home, the root of the system tree), so that tests never touch the real
//! ones. Each store gets one [`Report`] line.

mod firefox;
mod nss;
mod system;

use std::fmt;
use std::path::{Path, PathBuf};

pub use nss::{NICKNAME, find_program};

/// Where the stores are.
#[derive(Debug, Clone)]
pub struct Places {
    /// The user's home directory (`~/.pki/nssdb`, `~/.mozilla/firefox`).
    pub home: PathBuf,
    /// The root of the system tree whose store is changed (`/`, or an image being built).
    pub system_root: PathBuf,
}

/// The CA certificate to trust, as the file it is kept in and its two encodings.
#[derive(Debug, Clone, Copy)]
pub struct CaCertificate<'a> {
    /// The PEM file (`<config-dir>/ca.pem`), named in commands the user runs by hand.
    pub path: &'a Path,
    /// The PEM text.
    pub pem: &'a str,
    /// The DER bytes.
    pub der: &'a [u8],
}

/// What to do with every store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Trust the CA (idempotent).
    Install,
    /// Stop trusting it (idempotent).
    Uninstall,
    /// Only tell.
    Status,
}

/// What happened to one store, or what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The CA was added.
    Added,
    /// Another certificate under this CA's name (an earlier `init`) was replaced by it.
    Replaced,
    /// The CA was trusted already; nothing changed.
    AlreadyTrusted,
    /// The CA was removed.
    Removed,
    /// The CA was not there; nothing changed.
    WasAbsent,
    /// Status: the CA is trusted.
    Trusted,
    /// Status: the CA is not trusted.
    NotTrusted,
    /// Status: another certificate holds this CA's name (an earlier `init`).
    OtherCa,
    /// The store was not looked at, and why (no such database, no tool).
    Skipped(String),
    /// Nothing was done here; the user runs this command.
    Manual(String),
    /// The store could not be changed or read, and why.
    Failed(String),
}

/// One store's line of the report.
#[derive(Debug, Clone)]
pub struct Report {
    /// The store, named so that the user finds it (`Chromium NSS database ~/.pki/nssdb`).
    pub store: String,
    /// What happened.
    pub outcome: Outcome,
}

impl Report {
    /// True when the store could not be handled.
    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let outcome = match &self.outcome {
            Outcome::Added => "trusted now (added)",
            Outcome::Replaced => "trusted now (replaced an older smime-proxy CA)",
            Outcome::AlreadyTrusted => "already trusted, unchanged",
            Outcome::Removed => "no longer trusted (removed)",
            Outcome::WasAbsent => "not trusted, unchanged",
            Outcome::Trusted => "trusted",
            Outcome::NotTrusted => "not trusted",
            Outcome::OtherCa => "not trusted (holds an older smime-proxy CA: run `ca install`)",
            Outcome::Skipped(why) => return write!(f, "{}: skipped: {why}", self.store),
            Outcome::Manual(command) => return write!(f, "{}: not changed; run: {command}", self.store),
            Outcome::Failed(why) => return write!(f, "{}: FAILED: {why}", self.store),
        };
        write!(f, "{}: {outcome}", self.store)
    }
}

/// Trusts the CA in the NSS database in directory `db` (created when missing): a
/// throw-away browser profile's.
pub fn trust_in_nss_database(db: &Path, ca: CaCertificate<'_>) -> Outcome {
    nss::apply(Action::Install, db, ca)
}

/// Applies `action` to every store: the system store, Chromium's NSS database, then each
/// Firefox profile's.
pub fn apply(action: Action, places: &Places, ca: CaCertificate<'_>) -> Vec<Report> {
    let mut reports = vec![system::apply(action, &places.system_root, ca)];
    let chromium = places.home.join(".pki/nssdb");
    reports.push(Report {
        store: format!("Chromium NSS database {}", chromium.display()),
        outcome: nss::apply(action, &chromium, ca),
    });
    for profile in firefox::profiles(&places.home) {
        let outcome = nss::apply(action, &profile, ca);
        reports.push(Report { store: format!("Firefox profile {}", profile.display()), outcome });
    }
    reports
}
