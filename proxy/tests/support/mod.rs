//! Shared test support: a throw-away upstream PKI, an in-process HTTPS upstream on
//! 127.0.0.1, the proxy started in-process, and a client that talks through the proxy
//! (CONNECT + TLS, or plain HTTP with an absolute URI) like a browser does.
#![allow(dead_code, reason = "each test file uses a different part")]
#![allow(clippy::unwrap_used, reason = "test support: a failing unwrap is a failing test")]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use smime_ca::LocalCa;
use smime_proxy::{Config, Overrides, RunningProxy};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{TcpListener, TcpStream};

/// The HTML every page route serves (before encoding): the two places where the roundcube
/// rule puts its controls and status line.
pub const PAGE: &str = "<!doctype html><html><head><title>t</title></head><body>\
<h2 id=\"aria-label-composeheaders\">h</h2><h2 id=\"aria-label-composeoptions\">o</h2><p>hello</p></body></html>";
/// The query that makes a request a Roundcube compose page (append to a route's path).
pub const COMPOSE: &str = "?_task=mail&_action=compose&_id=t1";
/// The start of the controls the roundcube rule inserts into a compose page.
pub const MARKER: &str = r#"<div id="smime-proxy-controls" data-smime-proxy="roundcube">"#;

/// A CA plus a leaf for `localhost` and `127.0.0.1`, made for one test.
pub struct UpstreamPki {
    pub ca_pem: String,
    pub ca_der: CertificateDer<'static>,
    pub leaf_der: CertificateDer<'static>,
    leaf_key: Vec<u8>,
}

impl UpstreamPki {
    pub fn new(name: &str) -> Self {
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(params, ca_key);

        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        leaf.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        leaf.distinguished_name.push(DnType::CommonName, "upstream");
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
        Self {
            ca_pem: ca_cert.pem(),
            ca_der: ca_cert.der().clone(),
            leaf_der: leaf_cert.der().clone(),
            leaf_key: leaf_key.serialize_der(),
        }
    }

    pub fn write_ca(&self, dir: &Path) -> PathBuf {
        let path = dir.join("upstream-ca.pem");
        std::fs::write(&path, &self.ca_pem).unwrap();
        path
    }

    pub fn server_config(&self) -> Arc<rustls::ServerConfig> {
        let key = PrivateKeyDer::from(PrivatePkcs8KeyDer::from(self.leaf_key.clone()));
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(vec![self.leaf_der.clone(), self.ca_der.clone()], key)
                .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    }
}

/// An HTTPS server on 127.0.0.1 with fixed routes. It records the bodies it receives.
pub struct Upstream {
    pub addr: SocketAddr,
    pub received: Arc<Mutex<Vec<Vec<u8>>>>,
}

/// Extra routes of a test's own, tried before the fixed ones: `None` falls through.
pub type Routes = Arc<dyn Fn(&hyper::http::request::Parts) -> Option<Response<Full<Bytes>>> + Send + Sync>;

impl Upstream {
    pub async fn start(pki: &UpstreamPki) -> Self {
        Self::start_with(pki, Arc::new(|_: &hyper::http::request::Parts| None)).await
    }

    /// An upstream answering `routes` first, then the fixed routes.
    pub async fn start_with(pki: &UpstreamPki, routes: Routes) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(pki.server_config());
        let received = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&received);
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else { return };
                let acceptor = acceptor.clone();
                let seen = Arc::clone(&seen);
                let routes = Arc::clone(&routes);
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else { return };
                    let service = hyper::service::service_fn(move |req| {
                        let seen = Arc::clone(&seen);
                        let routes = Arc::clone(&routes);
                        async move { Ok::<_, std::convert::Infallible>(route(req, seen, routes).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tls), service)
                        .with_upgrades()
                        .await;
                });
            }
        });
        Self { addr, received }
    }

    /// `localhost:PORT` (intercepted in the tests).
    pub fn by_name(&self) -> String {
        format!("localhost:{}", self.addr.port())
    }

    /// `127.0.0.1:PORT` (not configured: tunnelled).
    pub fn by_ip(&self) -> String {
        self.addr.to_string()
    }
}

async fn route(req: Request<Incoming>, seen: Arc<Mutex<Vec<Vec<u8>>>>, routes: Routes) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_owned();
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    seen.lock().unwrap().push(body.to_vec());
    if let Some(response) = routes(&parts) {
        return response;
    }
    let html = |bytes: Vec<u8>, content_type: &str, encoding: Option<&str>| {
        let mut builder = Response::builder().header("content-type", content_type);
        if let Some(encoding) = encoding {
            builder = builder.header("content-encoding", encoding);
        }
        builder.body(Full::new(Bytes::from(bytes))).unwrap()
    };
    match path.as_str() {
        "/page" => html(PAGE.into(), "text/html; charset=utf-8", None),
        "/gzip" => html(gzip(PAGE.as_bytes()).await, "text/html; charset=utf-8", Some("gzip")),
        "/br" => html(brotli(PAGE.as_bytes()).await, "text/html; charset=utf-8", Some("br")),
        "/latin1" => {
            let page = b"<html><body><h2 id=aria-label-composeoptions>o</h2><p>caf\xe9</p></body></html>";
            html(page.to_vec(), "text/html; charset=windows-1252", None)
        }
        "/data.json" => html(b"{\"body\":\"<body>\"}".to_vec(), "application/json", None),
        "/echo" => html(body.to_vec(), "application/octet-stream", None),
        _ => Response::builder().status(404).body(Full::new(Bytes::from_static(b"no such page"))).unwrap(),
    }
}

pub async fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    async_compression::tokio::bufread::GzipEncoder::new(data).read_to_end(&mut out).await.unwrap();
    out
}

pub async fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    async_compression::tokio::bufread::BrotliEncoder::new(data).read_to_end(&mut out).await.unwrap();
    out
}

/// The proxy, in-process, on a free loopback port.
pub struct TestProxy {
    pub proxy: RunningProxy,
    pub ca: Arc<LocalCa>,
}

impl TestProxy {
    /// Intercepts `sites` (HOST:PORT, all with the roundcube rule) and trusts `upstream_ca`.
    pub async fn start(sites: &[String], upstream_ca: Vec<PathBuf>) -> Self {
        Self::start_with_ca(sites, upstream_ca, Arc::new(LocalCa::generate("test").unwrap())).await
    }

    pub async fn start_with_ca(sites: &[String], upstream_ca: Vec<PathBuf>, ca: Arc<LocalCa>) -> Self {
        Self::start_with_config(&Self::config(sites, upstream_ca), ca).await
    }

    /// The configuration [`TestProxy::start`] runs with, to change before
    /// [`TestProxy::start_with_config`].
    pub fn config(sites: &[String], upstream_ca: Vec<PathBuf>) -> Config {
        let overrides = Overrides {
            listen: Some("127.0.0.1:0".into()),
            sites: sites.iter().map(|s| format!("{s}=roundcube")).collect(),
            upstream_ca,
            log: None,
            revocation: None,
        };
        Config::from_overrides(&overrides).unwrap()
    }

    pub async fn start_with_config(config: &Config, ca: Arc<LocalCa>) -> Self {
        let proxy = smime_proxy::start(config, &ca).await.unwrap();
        Self { proxy, ca }
    }

    pub fn addr(&self) -> SocketAddr {
        self.proxy.local_addr()
    }

    /// Trusts only the proxy's local CA.
    pub fn local_ca_roots(&self) -> Vec<CertificateDer<'static>> {
        vec![self.ca.certificate().der().clone()]
    }
}

/// What a client got back through the proxy.
#[derive(Debug)]
pub struct Fetched {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Vec<u8>,
    /// The certificate chain the client saw (empty for plain HTTP).
    pub chain: Vec<CertificateDer<'static>>,
}

impl Fetched {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A keep-alive HTTPS session through the proxy: one CONNECT, one TLS handshake.
pub struct Session {
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
    authority: String,
    /// The certificate chain the client saw.
    pub chain: Vec<CertificateDer<'static>>,
}

impl Session {
    /// `CONNECT authority` through the proxy, then TLS trusting only `roots`.
    pub async fn open(proxy: SocketAddr, authority: &str, roots: &[CertificateDer<'static>]) -> Result<Self, String> {
        let (tls, chain) = connect_tls(proxy, authority, roots).await?;
        let (sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.map_err(|e| e.to_string())?;
        tokio::spawn(conn);
        Ok(Self { sender, authority: authority.to_owned(), chain })
    }

    /// One request on the session (`req` holds method, path, headers, body).
    pub async fn send(&mut self, req: Request<Full<Bytes>>) -> Result<Fetched, String> {
        let (mut parts, body) = req.into_parts();
        parts.headers.insert("host", self.authority.parse().unwrap());
        let res = self.sender.send_request(Request::from_parts(parts, body)).await.map_err(|e| e.to_string())?;
        let mut fetched = collect(res).await;
        fetched.chain = self.chain.clone();
        Ok(fetched)
    }
}

/// `CONNECT authority` through the proxy, then a TLS handshake trusting only `roots`.
/// Returns the stream and the certificate chain the server presented.
pub async fn connect_tls(
    proxy: SocketAddr,
    authority: &str,
    roots: &[CertificateDer<'static>],
) -> Result<(tokio_rustls::client::TlsStream<TcpStream>, Vec<CertificateDer<'static>>), String> {
    let mut tcp = TcpStream::connect(proxy).await.map_err(|e| e.to_string())?;
    tcp.set_nodelay(true).ok();
    tcp.write_all(format!("CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\n\r\n").as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        let mut byte = [0u8; 1];
        if tcp.read(&mut byte).await.map_err(|e| e.to_string())? == 0 {
            return Err(format!("proxy closed during CONNECT: {}", String::from_utf8_lossy(&head)));
        }
        head.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&head);
    if !head.starts_with("HTTP/1.1 200") {
        return Err(format!("CONNECT refused: {head}"));
    }
    let mut store = rustls::RootCertStore::empty();
    for root in roots {
        store.add(root.clone()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth();
    let host = authority.rsplit_once(':').map_or(authority, |(h, _)| h);
    let name = ServerName::try_from(host.to_owned()).unwrap();
    let tls =
        tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, tcp).await.map_err(|e| format!("TLS: {e}"))?;
    let chain =
        tls.get_ref().1.peer_certificates().unwrap_or_default().iter().map(|c| c.clone().into_owned()).collect();
    Ok((tls, chain))
}

/// One HTTPS request through the proxy on a new session.
pub async fn https_via_proxy(
    proxy: SocketAddr,
    authority: &str,
    roots: &[CertificateDer<'static>],
    req: Request<Full<Bytes>>,
) -> Result<Fetched, String> {
    Session::open(proxy, authority, roots).await?.send(req).await
}

/// Several GETs on one keep-alive session.
pub async fn https_via_proxy_many(
    proxy: SocketAddr,
    authority: &str,
    roots: &[CertificateDer<'static>],
    paths: &[&str],
) -> Vec<Fetched> {
    let mut session = Session::open(proxy, authority, roots).await.unwrap();
    let mut out = Vec::new();
    for path in paths {
        out.push(session.send(get(path)).await.unwrap());
    }
    out
}

/// A plain-HTTP proxy request (absolute URI) through the proxy.
pub async fn http_via_proxy(proxy: SocketAddr, req: Request<Full<Bytes>>) -> Fetched {
    let tcp = TcpStream::connect(proxy).await.unwrap();
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await.unwrap();
    tokio::spawn(conn);
    let (mut parts, body) = req.into_parts();
    if let Some(authority) = parts.uri.authority() {
        parts.headers.insert("host", authority.as_str().parse().unwrap());
    }
    collect(sender.send_request(Request::from_parts(parts, body)).await.unwrap()).await
}

async fn collect(res: Response<Incoming>) -> Fetched {
    let (parts, body) = res.into_parts();
    Fetched {
        status: parts.status.as_u16(),
        headers: parts.headers,
        body: body.collect().await.unwrap().to_bytes().to_vec(),
        chain: Vec::new(),
    }
}

pub fn get(path: &str) -> Request<Full<Bytes>> {
    Request::get(path).body(Full::new(Bytes::new())).unwrap()
}

/// The issuer common name of a DER certificate.
pub fn issuer_cn(der: &[u8]) -> String {
    let (_, cert) = x509_parser::parse_x509_certificate(der).unwrap();
    cert.issuer().iter_common_name().next().unwrap().as_str().unwrap().to_owned()
}

/// A TLS server on 127.0.0.1 (certificate from `pki`) running `serve` on every
/// connection it accepts.
pub async fn tls_server<F, Fut>(pki: &UpstreamPki, serve: F) -> SocketAddr
where
    F: Fn(tokio_rustls::server::TlsStream<TcpStream>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(pki.server_config());
    let serve = Arc::new(serve);
    tokio::spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let (acceptor, serve) = (acceptor.clone(), Arc::clone(&serve));
            tokio::spawn(async move {
                if let Ok(tls) = acceptor.accept(tcp).await {
                    serve(tls).await;
                }
            });
        }
    });
    addr
}

/// A WebSocket echo server over TLS on 127.0.0.1 (certificate from `pki`).
pub async fn start_ws_echo(pki: &UpstreamPki) -> SocketAddr {
    use hudsucker::futures::{SinkExt as _, StreamExt as _};
    tls_server(pki, |tls| async move {
        let Ok(mut ws) = hudsucker::tokio_tungstenite::accept_async(tls).await else { return };
        while let Some(Ok(message)) = ws.next().await {
            if message.is_text() || message.is_binary() {
                let _ = ws.send(message).await;
            }
        }
    })
    .await
}

/// CONNECT + TLS (trusting `roots`) + WebSocket handshake to `wss://authority/ws`.
pub async fn wss_via_proxy(
    proxy: SocketAddr,
    authority: &str,
    roots: &[CertificateDer<'static>],
) -> hudsucker::tokio_tungstenite::WebSocketStream<tokio_rustls::client::TlsStream<TcpStream>> {
    let tls = connect_tls(proxy, authority, roots).await.unwrap().0;
    hudsucker::tokio_tungstenite::client_async(format!("wss://{authority}/ws"), tls).await.unwrap().0
}

/// `smime-proxy run --listen 127.0.0.1:0 --log info ARGS` on `dir` in the background, stdin
/// not a terminal; its stderr lines arrive on a channel, and it is killed when dropped.
pub struct RunningBinary {
    child: std::process::Child,
    /// Where it listens (from its start line).
    pub addr: SocketAddr,
    lines: std::sync::mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl RunningBinary {
    /// Starts it and waits until it listens.
    pub fn start(dir: &Path, args: &[&str]) -> Self {
        use std::io::BufRead as _;
        use std::process::{Command, Stdio};
        let mut child = Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
            .arg("--config-dir")
            .arg(dir)
            .args(["run", "--listen", "127.0.0.1:0", "--log", "info"])
            .args(args)
            .env_remove("RUST_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut running = Self { child, addr: "127.0.0.1:1".parse().unwrap(), lines, seen: Vec::new() };
        let line = running.wait_for("smime-proxy listening on ");
        let addr = line.split("listening on ").nth(1).unwrap().split_whitespace().next().unwrap();
        running.addr = addr.parse().unwrap();
        running
    }

    /// The first line (already printed, or within 30 s) containing `needle`.
    pub fn wait_for(&mut self, needle: &str) -> String {
        if let Some(line) = self.seen.iter().find(|l| l.contains(needle)) {
            return line.clone();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        while let Some(left) = deadline.checked_duration_since(std::time::Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(line) => self.seen.push(line),
                Err(_) => break,
            }
        }
        panic!("no line with {needle:?} in:\n{}", self.seen.join("\n"));
    }

    /// Waits until it has exited.
    pub fn wait_exit(&mut self) -> std::process::ExitStatus {
        self.child.wait().unwrap()
    }

    /// Sends it signal `name` (`USR1`, `INT`, ...).
    pub fn signal(&self, name: &str) {
        let pid = self.child.id().to_string();
        let status = std::process::Command::new("kill").args(["-s", name, &pid]).status().unwrap();
        assert!(status.success());
    }
}

impl Drop for RunningBinary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The proxy in-process for one upstream site with bob's key (the test PKI's) imported and
/// unlocked, and the test PKI's CA as the S/MIME trust anchor: what the read, fields and
/// page-record tests start.
pub struct BobsProxy {
    pub proxy: RunningProxy,
    /// The interception CA (the client trusts it).
    pub ca: Arc<LocalCa>,
    pub keys: Arc<smime_proxy::store::KeyRing>,
    pub config_dir: PathBuf,
}

impl BobsProxy {
    /// Trusts only the proxy's interception CA.
    pub fn roots(&self) -> Vec<CertificateDer<'static>> {
        vec![self.ca.certificate().der().clone()]
    }

    /// Serves `site` (`HOST:PORT=RULE[,options]`) with `config_text` as config.toml, in `dir`.
    pub async fn start(dir: &Path, config_text: &str, site: String, upstream_ca: PathBuf) -> Self {
        use smime_crypto::{Identity, PrivateKey, load_certificates};
        use smime_proxy::store::{CaVault, KeyRing, KeyStore};
        use smime_proxy_tests::{pki_bytes, pki_file};
        let store = KeyStore::new(&dir.join("store"));
        let key = PrivateKey::from_pem(&String::from_utf8(pki_bytes("bob.key")).unwrap(), None).unwrap();
        let cert = load_certificates(&pki_bytes("bob.pem")).unwrap().remove(0);
        store.import(&Identity::new(key, cert, Vec::new()).unwrap(), b"store pass").unwrap();
        let hint = "unlock it at http://smime-proxy.invalid/".to_owned();
        let keys = Arc::new(KeyRing::new(store, std::time::Duration::from_secs(600), hint));
        keys.unlock(b"store pass").unwrap();

        let overrides = Overrides {
            listen: Some("127.0.0.1:0".into()),
            sites: vec![site],
            upstream_ca: vec![upstream_ca],
            log: None,
            revocation: None,
        };
        let mut config = Config::parse(config_text, Path::new("config.toml"), dir, &overrides).unwrap();
        config.dir = dir.join("config");
        std::fs::create_dir_all(&config.dir).unwrap();
        config.trust_anchors = vec![pki_file("ca.pem")];
        let ca = Arc::new(LocalCa::generate("test").unwrap());
        let vault = CaVault::from_root(&ca, config.intercepted_names(), config.leaf_cache_size).unwrap();
        let proxy = smime_proxy::start_with_keys(&config, Arc::new(vault), Arc::clone(&keys)).await.unwrap();
        Self { proxy, ca, keys, config_dir: config.dir }
    }
}

/// `smime-proxy message COMMAND --in INPUT --trust <test CA> --out OUT` in `dir`: whether it
/// succeeded, its output, and what it wrote to `--out`.
pub fn message_check(dir: &Path, command: &str, input: &[u8]) -> (bool, String, Vec<u8>) {
    let (input_file, out_file) = (dir.join(format!("{command}.in")), dir.join(format!("{command}.out")));
    std::fs::write(&input_file, input).unwrap();
    let _ = std::fs::remove_file(&out_file);
    let ca = smime_proxy_tests::pki_file("ca.pem");
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
        .args(["--config-dir", dir.to_str().unwrap(), "message", command, "--in", input_file.to_str().unwrap()])
        .args(["--trust", ca.to_str().unwrap(), "--out", out_file.to_str().unwrap()])
        .output()
        .unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text, std::fs::read(&out_file).unwrap_or_default())
}
