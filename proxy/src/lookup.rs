//! `certs fetch` and `certs lookup` for the command line: a recipient's certificate from
//! the configured directories, validated and revocation-checked exactly as the compose
//! flow does it, and (for `fetch`) remembered in the store.

use std::sync::Arc;

use crate::directory::Directories;
use std::time::SystemTime;

use crate::flows::compose::recipients::{Resolver, from_directories, usable};
use crate::pki::Pki;
use crate::store::{CertEntry, CertStore};
use crate::{Config, Error};

/// What the directories hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// A usable certificate (now in the store when it was asked to be remembered): its
    /// fingerprint, and a notice when its revocation could not be checked.
    Usable {
        /// SHA-256 fingerprint.
        fingerprint: String,
        /// Why revocation could not be checked (soft mode), if so.
        notice: Option<String>,
    },
    /// None usable: each reason (directory failures, refused candidates).
    NotFound(Vec<String>),
}

/// Every stored certificate of `address` with the verdict a send would reach now: usable
/// (how: the anchor, the revocation check) or why not. Unlike the store's own lookup,
/// this completes chains from caIssuers and checks revocation.
pub async fn check_stored(config: &Config, address: &str) -> Result<Vec<(CertEntry, Result<String, String>)>, Error> {
    let online = Online::new(config)?;
    let resolver = online.resolver();
    let mut checked = Vec::new();
    for candidate in online.certs.lookup(address, &online.trust, SystemTime::now())? {
        let verdict = usable(resolver, &candidate.entry.certificate, &[], address, candidate.verdict)
            .await
            .map(|accepted| format!("yes, trusted via {}; {}", accepted.chain.anchor, accepted.checked.describe()));
        checked.push((candidate.entry, verdict));
    }
    Ok(checked)
}

/// What the online checks of one command need, built from the configuration.
struct Online {
    certs: CertStore,
    trust: smime_crypto::TrustOptions,
    pki: Pki,
    directories: Directories,
}

impl Online {
    fn new(config: &Config) -> Result<Self, Error> {
        let tls = crate::http::client_config(&config.upstream_ca)?;
        Ok(Self {
            certs: CertStore::new(&config.dir),
            trust: config.trust()?,
            pki: Pki::from_config(config),
            directories: Directories::from_config(config, Arc::clone(&tls)),
        })
    }

    fn resolver(&self) -> Resolver<'_> {
        Resolver { certs: &self.certs, trust: &self.trust, pki: &self.pki, directories: &self.directories }
    }
}

/// Asks `config`'s directories for `address`, storing a usable certificate when
/// `remember`; see [`Fetched`].
pub async fn fetch_certificate(config: &Config, address: &str, remember: bool) -> Result<Fetched, Error> {
    if config.directories.is_empty() {
        return Ok(Fetched::NotFound(vec!["no [[directories]] are configured in config.toml".into()]));
    }
    let online = Online::new(config)?;
    Ok(match from_directories(online.resolver(), address, remember).await {
        Ok(accepted) => {
            let fingerprint = crate::store::CertSummary::of(&accepted.certificate)
                .map(|s| s.fingerprint.to_string())
                .unwrap_or_default();
            Fetched::Usable { fingerprint, notice: accepted.notice() }
        }
        Err(reasons) => Fetched::NotFound(reasons),
    })
}
