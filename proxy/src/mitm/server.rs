//! Building and starting the proxy: bind the loopback listener (clear error for a busy
//! port), wire the CA, the verified upstream connectors and the handler into hudsucker.

use std::net::SocketAddr;
use std::sync::Arc;

use hudsucker::Proxy;
use hudsucker::hyper_util::client::legacy::connect::HttpConnector;
use hudsucker::tokio_tungstenite::Connector;
use smime_ca::LocalCa;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::handler::{Handler, Shared};
use crate::directory::Directories;
use crate::flows::Services;
use crate::flows::compose::ComposeFlow;
use crate::flows::read::{ReadFlow, ViewStore};
use crate::http::{UpstreamClient, client_config};
use crate::origin::{OwnOrigin, Roaming, RuntimeSettings};
use crate::pki::Pki;
use crate::store::{CaVault, CertStore, KeyRing};
use crate::{Config, Error};

/// A started proxy.
#[derive(Debug)]
pub struct RunningProxy {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<Result<(), hudsucker::Error>>,
}

impl RunningProxy {
    /// The address the proxy listens on (with the real port when 0 was asked for).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, lets open exchanges finish, and waits.
    pub async fn shutdown(mut self) -> Result<(), Error> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        self.wait().await
    }

    /// Waits until the proxy stops.
    pub async fn wait(self) -> Result<(), Error> {
        match self.task.await {
            Ok(result) => result.map_err(Error::from),
            Err(join) => Err(Error::Task(join.to_string())),
        }
    }
}

/// Binds the listener. `TCP_NODELAY` is set on the listening socket, which accepted
/// sockets inherit on Linux: responses leave without waiting for the client's delayed
/// ACK (hudsucker gives no hook to set it per accepted connection).
fn bind(addr: SocketAddr) -> Result<TcpListener, Error> {
    let error = |source: std::io::Error| {
        if source.kind() == std::io::ErrorKind::AddrInUse {
            Error::AddrInUse { addr }
        } else {
            Error::Bind { addr, source }
        }
    };
    let socket = if addr.is_ipv4() { TcpSocket::new_v4() } else { TcpSocket::new_v6() }.map_err(error)?;
    #[cfg(unix)]
    socket.set_reuseaddr(true).map_err(error)?;
    socket.set_nodelay(true).map_err(error)?;
    socket.bind(addr).map_err(error)?;
    socket.listen(1024).map_err(error)
}

/// Binds `config.listen` and starts serving in a background task, with no key store
/// (flows that need a key fail closed), intercepting at once with an intermediate minted
/// from `root` (which the caller holds; `run` keeps its root sealed, see [`CaVault`]).
pub async fn start(config: &Config, root: &LocalCa) -> Result<RunningProxy, Error> {
    let keys = KeyRing::without_store(format!(
        "this proxy was started without a key store (import a key, then restart; unlock at http://{}/)",
        config.origin
    ));
    let ca = CaVault::from_root(root, config.intercepted_names(), config.leaf_cache_size)?;
    start_with_keys(config, Arc::new(ca), Arc::new(keys)).await
}

/// Binds `config.listen` and starts serving in a background task; `ca` mints the leaves
/// (once unlocked) and `keys` is the ring the own page unlocks and locks and that flows
/// take keys from. The caller runs its idle timer ([`KeyRing::lock_when_idle`]) and
/// locks it at shutdown.
pub async fn start_with_keys(config: &Config, ca: Arc<CaVault>, keys: Arc<KeyRing>) -> Result<RunningProxy, Error> {
    let listener = bind(config.listen)?;
    let addr = listener.local_addr().map_err(|source| Error::Bind { addr: config.listen, source })?;

    let tls = client_config(&config.upstream_ca)?;
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config((*tls).clone())
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);

    let views = Arc::new(ViewStore::new());
    let services = Arc::new(Services {
        keys: Arc::clone(&keys),
        certs: CertStore::new(&config.dir),
        trust: config.trust()?,
        upstream: UpstreamClient::new(&tls, config.upstream_timeout),
        pki: Pki::from_config(config),
        directories: Directories::from_config(config, Arc::clone(&tls)),
        tls: Arc::clone(&tls),
    });
    let settings = Arc::new(RuntimeSettings::new());
    let origin = OwnOrigin::new(
        config.origin.clone(),
        addr,
        config.sites.clone(),
        Arc::clone(&ca),
        Arc::clone(&settings),
        keys,
        Arc::clone(&views),
        CertStore::new(&config.dir),
    )?;
    let origin = match &config.keyserver {
        Some(keyserver) => origin.with_roaming(Roaming::new(
            crate::roam::connect(keyserver, Arc::clone(&tls), None)?,
            config.dir.clone(),
            keyserver.account.clone(),
        )),
        None => origin,
    };
    let compose = ComposeFlow::new(Arc::clone(&services), config.compose);
    let read = ReadFlow::new(views, config.origin.clone());
    let ca_unlock_page = format!("http://{}/", config.origin);
    let shared = Arc::new(Shared {
        origin,
        sites: config.sites.clone(),
        settings,
        compose,
        services,
        read,
        ca: Arc::clone(&ca),
        ca_unlock_page,
    });
    let wiping = Arc::clone(&shared);
    tokio::spawn(async move { wiping.compose.forget_decrypted_on_lock().await });
    let handler = Handler::new(shared);
    let authority = ca.authority().clone();

    let (tx, rx) = oneshot::channel::<()>();
    let proxy = Proxy::builder()
        .with_listener(listener)
        .with_ca(authority)
        .with_http_connector(https)
        .with_http_handler(handler)
        .with_websocket_connector(Connector::Rustls(tls))
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        })
        .build()?;
    let task = tokio::spawn(proxy.start());
    tracing::info!(%addr, origin = config.origin, sites = config.sites.iter().count(), "proxy listening");
    Ok(RunningProxy { addr, shutdown: Some(tx), task })
}
