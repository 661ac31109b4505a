//! [`LeafAuthority`]: hudsucker's `CertificateAuthority`, backed by the local CA, minting
//! one cached leaf per intercepted host, served with the CA certificate in the chain.

use std::sync::Arc;
use std::time::Duration;

use hudsucker::certificate_authority::CertificateAuthority;
use hudsucker::hyper::http::uri::Authority;
use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::{Error, LeafProfile, LocalCa, cache::BoundedCache};

/// Cached configs are re-minted after a week, well inside the 30-day leaf validity.
const CACHE_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);

/// Mints and caches TLS server configurations for intercepted hosts.
///
/// All leaves of one `LeafAuthority` share one P-256 key generated in memory when it is
/// created (never written anywhere): minting then costs one signature, and the key dies
/// with the process.
#[derive(Debug)]
pub struct LeafAuthority {
    ca: Arc<LocalCa>,
    profile: LeafProfile,
    leaf_key: KeyPair,
    provider: Arc<CryptoProvider>,
    cache: BoundedCache<String, Arc<ServerConfig>>,
}

impl LeafAuthority {
    /// An authority for `ca` caching at most `cache_size` hosts.
    pub fn new(ca: Arc<LocalCa>, cache_size: usize) -> Result<Self, Error> {
        Ok(Self {
            ca,
            profile: LeafProfile::default(),
            leaf_key: KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?,
            provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
            cache: BoundedCache::new(cache_size, CACHE_MAX_AGE),
        })
    }

    /// The CA this authority signs with.
    pub fn ca(&self) -> &LocalCa {
        &self.ca
    }

    /// The server configuration for `host` (chain: leaf, then CA; ALPN `http/1.1`),
    /// from the cache or freshly minted.
    pub fn server_config(&self, host: &str) -> Result<Arc<ServerConfig>, Error> {
        let host = host.to_ascii_lowercase();
        if let Some(config) = self.cache.get(&host) {
            return Ok(config);
        }
        let leaf = self.profile.mint(&self.ca, &self.leaf_key, &host)?;
        let chain = vec![leaf, self.ca.cert_der().clone()];
        let key = PrivateKeyDer::from(PrivatePkcs8KeyDer::from(self.leaf_key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(Arc::clone(&self.provider))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        self.cache.insert(host, Arc::clone(&config));
        Ok(config)
    }
}

impl CertificateAuthority for LeafAuthority {
    async fn gen_server_config(&self, authority: &Authority) -> Arc<ServerConfig> {
        match self.server_config(authority.host()) {
            Ok(config) => config,
            Err(error) => {
                tracing::warn!(host = authority.host(), %error, "cannot mint a leaf certificate");
                refusing_config(&self.provider)
            }
        }
    }
}

/// A server config without any certificate: every handshake fails cleanly. Used when a
/// leaf cannot be minted, because hudsucker's trait has no error path.
fn refusing_config(provider: &Arc<CryptoProvider>) -> Arc<ServerConfig> {
    #[derive(Debug)]
    struct NoCert;
    impl ResolvesServerCert for NoCert {
        fn resolve(&self, _: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
            None
        }
    }
    let builder = ServerConfig::builder_with_provider(Arc::clone(provider))
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|_| {
            // The aws-lc-rs provider supports the safe default versions; this branch
            // exists only because the builder API is fallible.
            ServerConfig::builder_with_protocol_versions(rustls::DEFAULT_VERSIONS)
        });
    Arc::new(builder.with_no_client_auth().with_cert_resolver(Arc::new(NoCert)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_holds_leaf_then_ca_and_is_cached() {
        let ca = Arc::new(LocalCa::generate("t").unwrap());
        let authority = LeafAuthority::new(Arc::clone(&ca), 10).unwrap();
        let first = authority.server_config("Mail.Example.org").unwrap();
        let again = authority.server_config("mail.example.org").unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        assert_eq!(authority.cache.len(), 1);
    }

    #[test]
    fn invalid_host_is_an_error_not_a_panic() {
        let ca = Arc::new(LocalCa::generate("t").unwrap());
        let authority = LeafAuthority::new(ca, 10).unwrap();
        assert!(authority.server_config("bad host").is_err());
    }
}
