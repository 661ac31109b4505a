//! [`OwnOrigin`]: everything the own pages show or check, fixed at start-up, plus the
//! runtime settings they may change.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::flows::read::ViewStore;
use crate::records::RecentPages;
use crate::rules::SiteTable;
use crate::store::{CaVault, CertStore, KeyRing};

/// Settings the user may change while the proxy runs (only from the own origin).
#[derive(Debug)]
pub struct RuntimeSettings {
    rewriting: AtomicBool,
}

impl RuntimeSettings {
    /// Rewriting on.
    pub fn new() -> Self {
        Self { rewriting: AtomicBool::new(true) }
    }

    /// Whether pages of intercepted sites are rewritten (off = pure pass-through).
    pub fn rewriting(&self) -> bool {
        self.rewriting.load(Ordering::Relaxed)
    }

    /// Turns rewriting on or off.
    pub fn set_rewriting(&self, on: bool) {
        self.rewriting.store(on, Ordering::Relaxed);
    }
}

impl Default for RuntimeSettings {
    fn default() -> Self {
        Self::new()
    }
}

/// The own origin's data.
#[derive(Debug)]
pub struct OwnOrigin {
    pub(super) host: String,
    pub(super) listen: SocketAddr,
    pub(super) sites: SiteTable,
    /// The interception CA: its public root for downloads, its state for the home page.
    pub(super) ca: Arc<CaVault>,
    /// Per-run secret that every state-changing request must carry.
    pub(super) token: String,
    pub(super) settings: Arc<RuntimeSettings>,
    /// The user's keys, locked or unlocked from the home page.
    pub(super) keys: Arc<KeyRing>,
    /// The read flow's pending views.
    pub(super) views: Arc<ViewStore>,
    /// Recipients' certificates, listed and added on the home page.
    pub(super) certs: CertStore,
    /// The roaming key server the page unlocks from, if configured.
    pub(super) roaming: Option<super::Roaming>,
    /// Pages of the sites kept for signed records.
    pub(super) pages: Arc<RecentPages>,
}

impl OwnOrigin {
    /// The origin `host`, for a proxy listening on `listen`, serving `views`, listing and
    /// adding to `certs`, offering records of `pages`.
    #[expect(clippy::too_many_arguments, reason = "wired once, in mitm::server, from values it holds anyway")]
    pub fn new(
        host: String,
        listen: SocketAddr,
        sites: SiteTable,
        ca: Arc<CaVault>,
        settings: Arc<RuntimeSettings>,
        keys: Arc<KeyRing>,
        views: Arc<ViewStore>,
        certs: CertStore,
        pages: Arc<RecentPages>,
    ) -> Result<Self, crate::Error> {
        Ok(Self {
            host,
            listen,
            sites,
            ca,
            token: crate::random::random_hex(32)?,
            settings,
            keys,
            views,
            certs,
            roaming: None,
            pages,
        })
    }

    /// Adds the "Unlock from key server" form.
    pub fn with_roaming(mut self, roaming: super::Roaming) -> Self {
        self.roaming = Some(roaming);
        self
    }

    /// True when `host` (from a request URI or CONNECT) is this origin.
    pub fn is(&self, host: &str) -> bool {
        host.eq_ignore_ascii_case(&self.host)
    }
}
