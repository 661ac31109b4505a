//! Upstream TLS: always verified, against the webpki roots, the system roots and the
//! configured extra anchors. There is deliberately no way to turn verification off.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hudsucker::hyper::header::{self, HeaderMap};
use hudsucker::hyper::{Request, StatusCode};
use hudsucker::hyper_util::client::legacy::Client;
use hudsucker::hyper_util::client::legacy::connect::HttpConnector;
use hudsucker::hyper_util::rt::TokioExecutor;
use hyper_rustls::HttpsConnector;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use rustls::{ClientConfig, RootCertStore};

use crate::Error;

/// The TLS client configuration for connections to upstream servers.
pub fn client_config(extra_anchors: &[PathBuf]) -> Result<Arc<ClientConfig>, Error> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let native = rustls_native_certs::load_native_certs();
    if !native.errors.is_empty() {
        tracing::debug!(errors = native.errors.len(), "some system roots could not be loaded");
    }
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(system_roots = added, "loaded system roots");

    for path in extra_anchors {
        let bad = |reason: String| Error::UpstreamCa { path: path.clone(), reason };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let certs = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("not PEM: {e}")))?;
        if certs.is_empty() {
            return Err(bad("holds no PEM certificate".into()));
        }
        for cert in certs {
            roots.add(cert).map_err(|e| bad(format!("not a usable trust anchor: {e}")))?;
        }
    }

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Requests the proxy itself makes to a webmail on the user's behalf (fetching a raw
/// message to decrypt, delivering a finished S/MIME message), over the same verified TLS
/// as the intercepted traffic, with the browser's session ([`session_headers`]).
#[derive(Debug, Clone)]
pub struct UpstreamClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

/// A response read completely.
#[derive(Debug)]
pub struct Fetched {
    /// Status code.
    pub status: StatusCode,
    /// Header fields.
    pub headers: HeaderMap,
    /// The body, decoded from its content coding.
    pub body: Bytes,
}

/// Why a request the proxy made did not get a complete response.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// No connection, TLS failure, or the server closed early.
    #[error("the webmail server could not be reached: {0}")]
    Connect(String),
    /// The response was larger than allowed or could not be read or decoded.
    #[error("the webmail's response could not be read: {0}")]
    Body(String),
    /// No complete response in time (the request may still have taken effect).
    #[error("the webmail did not answer completely within {} s", .0.as_secs())]
    TimedOut(Duration),
}

/// The request headers that carry the browser's session to the webmail: cookies, user
/// agent and language. Nothing else of the browser's request is copied.
pub fn session_headers(browser: &HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for name in [header::COOKIE, header::USER_AGENT, header::ACCEPT_LANGUAGE] {
        for value in browser.get_all(&name) {
            out.append(name.clone(), value.clone());
        }
    }
    out
}

/// The web origin (`scheme://host[:port]`, default port left out, as browsers send it in
/// `Origin`) of an absolute request URI; `None` without an authority.
pub fn web_origin(uri: &hudsucker::hyper::Uri) -> Option<String> {
    let authority = uri.authority()?;
    let scheme = uri.scheme_str().unwrap_or("http");
    let default_port = if scheme == "https" { 443 } else { 80 };
    Some(match authority.port_u16() {
        Some(port) if port != default_port => format!("{scheme}://{}:{port}", authority.host()),
        _ => format!("{scheme}://{}", authority.host()),
    })
}

impl UpstreamClient {
    /// A client over `tls` (from [`client_config`]) whose exchanges (connect, answer and
    /// body together) end after `timeout`.
    pub fn new(tls: &ClientConfig, timeout: Duration) -> Self {
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_nodelay(true);
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls.clone())
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Self { client: Client::builder(TokioExecutor::new()).build(https), timeout }
    }

    /// The time limit of one exchange.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `req` and reads the whole response, at most `limit` bytes after decoding.
    pub async fn send(&self, req: Request<Full<Bytes>>, limit: usize) -> Result<Fetched, FetchError> {
        tokio::time::timeout(self.timeout, self.exchange(req, limit))
            .await
            .map_err(|_| FetchError::TimedOut(self.timeout))?
    }

    async fn exchange(&self, req: Request<Full<Bytes>>, limit: usize) -> Result<Fetched, FetchError> {
        let res = self.client.request(req).await.map_err(|e| FetchError::Connect(super::error_page::root_cause(&e)))?;
        let res =
            hudsucker::decode_response(res.map(hudsucker::Body::from)).map_err(|e| FetchError::Body(e.to_string()))?;
        let (parts, body) = res.into_parts();
        let body = Limited::new(body, limit).collect().await.map_err(|e| FetchError::Body(e.to_string()))?.to_bytes();
        Ok(Fetched { status: parts.status, headers: parts.headers, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// A plain HTTP server answering one request with a page's head and one byte a second.
    async fn trickling() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let _ = socket.read(&mut [0u8; 4096]).await;
            let _ = socket.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n").await;
            for _ in 0..100 {
                if socket.write_all(b"x").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        });
        format!("http://{addr}/")
    }

    #[tokio::test]
    async fn an_answer_that_trickles_ends_at_the_time_limit() {
        let client = UpstreamClient::new(&client_config(&[]).expect("tls"), Duration::from_secs(1));
        let req = Request::get(trickling().await).body(Full::new(Bytes::new())).expect("request");
        let error = client.send(req, 1000).await.expect_err("not complete in time");
        assert!(matches!(error, FetchError::TimedOut(_)), "{error}");
        assert_eq!(error.to_string(), "the webmail did not answer completely within 1 s");
    }
}
