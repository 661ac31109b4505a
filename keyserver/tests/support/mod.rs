//! Shared by the key-server tests: the database backends (SQLite always; PostgreSQL when
//! `SMIME_KEYSERVER_TEST_POSTGRES` names a server, required when
//! `SMIME_KEYSERVER_POSTGRES_REQUIRED=1`), a test TLS CA, and in-process replicas.
#![allow(dead_code, reason = "each test file uses part of the support module")]
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, SanType};
use smime_keyserver::client::KeyServer;
use smime_keyserver::server::{self, App, GuessLimit, ServerSecrets, Store};
use sqlx::Connection as _;
use tempfile::TempDir;

/// A database for one test.
pub struct Backend {
    /// "sqlite" or "postgres".
    pub name: &'static str,
    /// The sqlx URL.
    pub url: String,
    /// The PostgreSQL database name (for pg_dump).
    pub pg_database: Option<String>,
    /// The SQLite file.
    pub sqlite_file: Option<PathBuf>,
    _dir: Option<TempDir>,
}

/// The PostgreSQL server for tests, if one is configured. Panics when it is required but
/// missing, so that CI cannot silently skip.
pub fn postgres_url() -> Option<String> {
    match std::env::var("SMIME_KEYSERVER_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("SMIME_KEYSERVER_POSTGRES_REQUIRED").as_deref() != Ok("1"),
                "SMIME_KEYSERVER_POSTGRES_REQUIRED=1 but SMIME_KEYSERVER_TEST_POSTGRES is not set"
            );
            eprintln!("skipped the PostgreSQL variant: SMIME_KEYSERVER_TEST_POSTGRES is not set");
            None
        }
    }
}

/// Every backend available: a fresh SQLite file, and a fresh PostgreSQL database.
pub async fn backends() -> Vec<Backend> {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("keyserver.sqlite");
    let mut out = vec![Backend {
        name: "sqlite",
        url: format!("sqlite://{}?mode=rwc", file.display()),
        pg_database: None,
        sqlite_file: Some(file),
        _dir: Some(dir),
    }];
    if let Some(admin) = postgres_url() {
        let name = format!("ks_test_{}", hex(&rand::random::<[u8; 6]>()));
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&admin).await.unwrap();
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
        let base = admin.rsplit_once('/').map_or(admin.as_str(), |(base, _)| base);
        out.push(Backend {
            name: "postgres",
            url: format!("{base}/{name}"),
            pg_database: Some(name),
            sqlite_file: None,
            _dir: None,
        });
    }
    out
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A CA and a server certificate for `localhost` and 127.0.0.1, and the client side.
pub struct TestTls {
    pub dir: TempDir,
    pub ca_pem: PathBuf,
    pub cert_pem: PathBuf,
    pub key_pem: PathBuf,
    pub client: Arc<rustls::ClientConfig>,
}

impl TestTls {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::default();
        params.distinguished_name.push(DnType::CommonName, "keyserver test CA");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = params.self_signed(&ca_key).unwrap();
        let issuer = Issuer::new(params, ca_key);
        let leaf_key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        leaf.subject_alt_names.push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
        let leaf_cert = leaf.signed_by(&leaf_key, &issuer).unwrap();
        let write = |name: &str, text: &str| {
            let path = dir.path().join(name);
            std::fs::write(&path, text).unwrap();
            path
        };
        let ca_pem = write("ca.pem", &ca_cert.pem());
        let cert_pem = write("cert.pem", &leaf_cert.pem());
        let key_pem = write("key.pem", &leaf_key.serialize_pem());
        let mut roots = rustls::RootCertStore::empty();
        roots.add(ca_cert.der().clone()).unwrap();
        let client =
            rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_root_certificates(roots)
                .with_no_client_auth();
        Self { dir, ca_pem, cert_pem, key_pem, client: Arc::new(client) }
    }
}

/// A server secrets file, made once per test.
pub fn secrets_file(dir: &Path) -> PathBuf {
    let path = dir.join("server-secrets.json");
    ServerSecrets::create(&path).unwrap();
    path
}

/// An in-process replica; stops when dropped.
pub struct Replica {
    pub url: String,
    pub public_key: Vec<u8>,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub async fn replica(db_url: &str, secrets: &Path, tls: &TestTls, limit: GuessLimit) -> Replica {
    let secrets = ServerSecrets::load(secrets).unwrap();
    let public_key = secrets.opaque.public_key();
    let store = Store::connect(db_url).await.unwrap();
    let app = Arc::new(App { store, secrets, limit });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("https://localhost:{}", listener.local_addr().unwrap().port());
    let config = server::server_config(&tls.cert_pem, &tls.key_pem).unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(server::serve(listener, config, app, async {
        let _ = stopped.await;
    }));
    Replica { url, public_key, _stop: stop }
}

/// Two replicas on one database, with the same secrets.
pub async fn replica_pair(db_url: &str, secrets: &Path, tls: &TestTls, limit: GuessLimit) -> (Replica, Replica) {
    (replica(db_url, secrets, tls, limit).await, replica(db_url, secrets, tls, limit).await)
}

/// A client of `replica`, pinning its key.
pub fn client(replica: &Replica, tls: &TestTls) -> KeyServer {
    KeyServer::new(&replica.url, tls.client.clone(), replica.public_key.clone()).unwrap()
}

/// Enrols `email` in the database at `db_url`.
pub async fn enrol(db_url: &str, email: &str) -> String {
    server::enrol(&Store::connect(db_url).await.unwrap(), email, 1).await.unwrap()
}

/// Key material as the proxy would seal it (any bytes: the server never sees them).
pub fn key_material(tag: &str) -> Vec<u8> {
    format!("-----BEGIN PRIVATE KEY-----\nSECRET-KEY-BYTES-{tag}-6b1f0e\n-----END PRIVATE KEY-----\n").into_bytes()
}

/// Sends `body` to `replica` as `method path` without the client's checks: for requests
/// a well-behaved client would never make. Returns the status and the error sentence (or
/// the body).
pub async fn raw_request(replica: &Replica, tls: &TestTls, method: &str, path: &str, body: Vec<u8>) -> (u16, String) {
    use http_body_util::{BodyExt as _, Full};
    let connector = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config((*tls.client).clone())
        .https_only()
        .enable_http1()
        .build();
    let http: hyper_util::client::legacy::Client<_, Full<bytes::Bytes>> =
        hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector);
    let request = hyper::Request::builder()
        .method(method)
        .uri(format!("{}{path}", replica.url))
        .body(Full::new(bytes::Bytes::from(body)))
        .unwrap();
    let response = http.request(request).await.unwrap();
    let status = response.status().as_u16();
    let body = response.into_body().collect().await.unwrap().to_bytes();
    let text = String::from_utf8_lossy(&body).into_owned();
    let sentence = serde_json::from_str::<serde_json::Value>(&text)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
        .unwrap_or(text);
    (status, sentence)
}
