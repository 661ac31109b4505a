//! `certs fetch` for the command line: a recipient's certificate from the configured
//! directories, validated and revocation-checked exactly as the compose flow does it,
//! and remembered in the store.

use std::sync::Arc;

use crate::directory::Directories;
use crate::flows::compose::recipients::{Resolver, from_directories};
use crate::pki::Pki;
use crate::store::CertStore;
use crate::{Config, Error};

/// What `certs fetch` found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    /// A usable certificate, now in the store: its fingerprint, and a notice when its
    /// revocation could not be checked.
    Stored {
        /// SHA-256 fingerprint.
        fingerprint: String,
        /// Why revocation could not be checked (soft mode), if so.
        notice: Option<String>,
    },
    /// None usable: each reason (directory failures, refused candidates).
    NotFound(Vec<String>),
}

/// Asks `config`'s directories for `address`; see [`Fetched`].
pub async fn fetch_certificate(config: &Config, address: &str) -> Result<Fetched, Error> {
    if config.directories.is_empty() {
        return Ok(Fetched::NotFound(vec!["no [[directories]] are configured in config.toml".into()]));
    }
    let tls = crate::http::client_config(&config.upstream_ca)?;
    let certs = CertStore::new(&config.dir);
    let trust = config.trust()?;
    let pki = Pki::from_config(config);
    let directories = Directories::from_config(config, Arc::clone(&tls));
    let resolver = Resolver { certs: &certs, trust: &trust, pki: &pki, directories: &directories };
    Ok(match from_directories(resolver, address).await {
        Ok((certificate, notice)) => {
            let fingerprint =
                crate::store::CertSummary::of(&certificate).map(|s| s.fingerprint.to_string()).unwrap_or_default();
            Fetched::Stored { fingerprint, notice }
        }
        Err(reasons) => Fetched::NotFound(reasons),
    })
}
