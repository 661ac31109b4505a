//! [`LeafAuthority`]: hudsucker's `CertificateAuthority`. It starts sealed (no
//! intermediate: every handshake is refused) until [`LeafAuthority::install`] hands it the
//! run's name-constrained [`Intermediate`]; then it mints one cached leaf per intercepted
//! host, served with the chain leaf → intermediate → root. An expired intermediate seals
//! it again.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use hudsucker::certificate_authority::CertificateAuthority;
use hudsucker::hyper::http::uri::Authority;
use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256};
use rustls::ServerConfig;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use time::OffsetDateTime;

use crate::{Error, Intermediate, LeafProfile, RootCertificate, cache::BoundedCache};

/// Cached configs are re-minted after a day, well inside the leaf and intermediate validity.
const CACHE_MAX_AGE: Duration = Duration::from_secs(24 * 3600);

/// The intermediate is put aside this long before it expires, so no leaf is served that a
/// browser with a slightly fast clock would find expired.
const EXPIRY_MARGIN: time::Duration = time::Duration::hours(1);

/// Mints and caches TLS server configurations for intercepted hosts. Clones share state.
///
/// All leaves share one P-256 key generated in memory when the authority is created
/// (never written anywhere): minting then costs one signature, and the key dies with the
/// process.
#[derive(Debug, Clone)]
pub struct LeafAuthority {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    profile: LeafProfile,
    leaf_key: KeyPair,
    provider: Arc<CryptoProvider>,
    cache_size: usize,
    signer: RwLock<Option<Arc<Signer>>>,
}

/// An installed intermediate, the chain above the leaves, and their cache.
#[derive(Debug)]
struct Signer {
    intermediate: Intermediate,
    chain_above_leaf: [CertificateDer<'static>; 2],
    cache: BoundedCache<String, Arc<ServerConfig>>,
}

impl LeafAuthority {
    /// A sealed authority caching at most `cache_size` hosts once an intermediate is in.
    pub fn new(cache_size: usize) -> Result<Self, Error> {
        Ok(Self {
            inner: Arc::new(Inner {
                profile: LeafProfile::default(),
                leaf_key: KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?,
                provider: Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
                cache_size,
                signer: RwLock::new(None),
            }),
        })
    }

    /// Signs leaves with `intermediate` (issued by `root`) from now on, replacing any
    /// earlier one and its cached leaves.
    pub fn install(&self, intermediate: Intermediate, root: &RootCertificate) {
        let chain_above_leaf = [intermediate.der().clone(), root.der().clone()];
        let signer =
            Signer { intermediate, chain_above_leaf, cache: BoundedCache::new(self.inner.cache_size, CACHE_MAX_AGE) };
        *self.inner.signer.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(Arc::new(signer));
    }

    /// Until when leaves can be minted; `None` while sealed (or once the intermediate
    /// expired).
    pub fn ready_until(&self) -> Option<OffsetDateTime> {
        self.signer().map(|s| s.intermediate.not_after() - EXPIRY_MARGIN)
    }

    /// The server configuration for `host` (chain: leaf, intermediate, root; ALPN
    /// `http/1.1`), from the cache or freshly minted. [`Error::Sealed`] while no
    /// intermediate is installed; [`Error::NotPermitted`] for a host outside its
    /// constraints.
    pub fn server_config(&self, host: &str) -> Result<Arc<ServerConfig>, Error> {
        let signer = self.signer().ok_or(Error::Sealed)?;
        let host = host.to_ascii_lowercase();
        if let Some(config) = signer.cache.get(&host) {
            return Ok(config);
        }
        let leaf = self.inner.profile.mint(&signer.intermediate, &self.inner.leaf_key, &host)?;
        let mut chain = vec![leaf];
        chain.extend(signer.chain_above_leaf.iter().cloned());
        let key = PrivateKeyDer::from(PrivatePkcs8KeyDer::from(self.inner.leaf_key.serialize_der()));
        let mut config = ServerConfig::builder_with_provider(Arc::clone(&self.inner.provider))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        signer.cache.insert(host, Arc::clone(&config));
        Ok(config)
    }

    /// The installed signer, if it has not expired; an expired one is dropped here.
    fn signer(&self) -> Option<Arc<Signer>> {
        let current = self.inner.signer.read().unwrap_or_else(std::sync::PoisonError::into_inner).clone()?;
        if OffsetDateTime::now_utc() < current.intermediate.not_after() - EXPIRY_MARGIN {
            return Some(current);
        }
        let mut slot = self.inner.signer.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot.as_ref().is_some_and(|s| Arc::ptr_eq(s, &current)) {
            tracing::warn!("the run's intermediate CA expired: interception is sealed until the next unlock");
            *slot = None;
        }
        None
    }
}

impl CertificateAuthority for LeafAuthority {
    async fn gen_server_config(&self, authority: &Authority) -> Arc<ServerConfig> {
        match self.server_config(authority.host()) {
            Ok(config) => config,
            Err(error) => {
                tracing::warn!(host = authority.host(), %error, "cannot mint a leaf certificate");
                refusing_config(&self.inner.provider)
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
    use crate::LocalCa;

    fn installed(hosts: &[&str], validity: time::Duration) -> LeafAuthority {
        let root = LocalCa::generate("t").unwrap();
        let hosts: Vec<String> = hosts.iter().map(|h| (*h).to_owned()).collect();
        let authority = LeafAuthority::new(10).unwrap();
        authority.install(Intermediate::mint(&root, &hosts, validity).unwrap(), root.certificate());
        authority
    }

    #[test]
    fn sealed_until_an_intermediate_is_installed() {
        let authority = LeafAuthority::new(10).unwrap();
        assert!(matches!(authority.server_config("mail.example.org"), Err(Error::Sealed)));
        assert!(authority.ready_until().is_none());
    }

    #[test]
    fn chain_holds_leaf_intermediate_root_and_is_cached() {
        let authority = installed(&["mail.example.org"], time::Duration::days(7));
        let first = authority.server_config("Mail.Example.org").unwrap();
        let again = authority.server_config("mail.example.org").unwrap();
        assert!(Arc::ptr_eq(&first, &again));
        let signer = authority.signer().unwrap();
        assert_eq!(signer.cache.len(), 1);
        assert!(matches!(authority.server_config("www.bank.example"), Err(Error::NotPermitted { .. })));
    }

    #[test]
    fn an_expired_intermediate_seals_the_authority() {
        let authority = installed(&["mail.example.org"], time::Duration::minutes(30));
        assert!(matches!(authority.server_config("mail.example.org"), Err(Error::Sealed)));
        assert!(authority.ready_until().is_none());
    }

    #[test]
    fn invalid_host_is_an_error_not_a_panic() {
        let authority = installed(&["mail.example.org"], time::Duration::days(1));
        assert!(authority.server_config("bad host").is_err());
    }
}
