//! Plain-HTTP fetches of public PKI data (CRLs, OCSP, issuers' certificates): direct to
//! the server named in the certificate, never through the proxy itself or a system proxy,
//! bounded in time and size. Only `http://` (RFC 5280 and the S/MIME BRs publish these
//! over HTTP; the data is signed, so TLS adds nothing but a way to loop).

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hudsucker::hyper::{Method, Request, StatusCode, header};
use hudsucker::hyper_util::client::legacy::Client;
use hudsucker::hyper_util::client::legacy::connect::HttpConnector;
use hudsucker::hyper_util::rt::TokioExecutor;

/// Why a fetch gave nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url}: {reason}")]
pub struct PlainFetchError {
    /// What was asked.
    pub url: String,
    /// What went wrong, in words.
    pub reason: String,
}

/// A direct HTTP/1.1 client with a time limit per request.
#[derive(Debug, Clone)]
pub struct PlainClient {
    client: Client<HttpConnector, Full<Bytes>>,
    timeout: Duration,
}

impl PlainClient {
    /// A client whose requests (connect, answer and body together) end after `timeout`.
    pub fn new(timeout: Duration) -> Self {
        let mut connector = HttpConnector::new();
        connector.enforce_http(true);
        connector.set_connect_timeout(Some(timeout));
        Self { client: Client::builder(TokioExecutor::new()).build(connector), timeout }
    }

    /// GET `url`; the body, at most `limit` bytes, when the answer is 200.
    pub async fn get(&self, url: &str, limit: usize) -> Result<Vec<u8>, PlainFetchError> {
        self.send(Method::GET, url, None, limit).await
    }

    /// POST `body` as `content_type` to `url`; the answer's body as for [`Self::get`].
    pub async fn post(
        &self,
        url: &str,
        content_type: &'static str,
        body: Vec<u8>,
        limit: usize,
    ) -> Result<Vec<u8>, PlainFetchError> {
        self.send(Method::POST, url, Some((content_type, body)), limit).await
    }

    async fn send(
        &self,
        method: Method,
        url: &str,
        body: Option<(&'static str, Vec<u8>)>,
        limit: usize,
    ) -> Result<Vec<u8>, PlainFetchError> {
        let fail = |reason: String| PlainFetchError { url: url.to_owned(), reason };
        if !url.starts_with("http://") {
            return Err(fail("only http:// URLs are fetched".into()));
        }
        let mut builder = Request::builder().method(method).uri(url);
        let payload = match body {
            Some((content_type, bytes)) => {
                builder = builder.header(header::CONTENT_TYPE, content_type);
                Bytes::from(bytes)
            }
            None => Bytes::new(),
        };
        let request = builder.body(Full::new(payload)).map_err(|e| fail(format!("not a usable URL ({e})")))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| fail(crate::http::root_cause(&e)))?;
            if response.status() != StatusCode::OK {
                return Err(fail(format!("answered {}", response.status())));
            }
            let body = Limited::new(response.into_body(), limit)
                .collect()
                .await
                .map_err(|e| fail(format!("the answer is unreadable or larger than {limit} bytes ({e})")))?;
            Ok(body.to_bytes().to_vec())
        };
        tokio::time::timeout(self.timeout, exchange)
            .await
            .map_err(|_| fail(format!("no complete answer within {} s", self.timeout.as_secs())))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// One connection answered with `answer` (or held open when `None`).
    async fn server(answer: Option<&'static [u8]>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut buf = [0u8; 4096];
            let _ = socket.read(&mut buf).await;
            match answer {
                Some(answer) => {
                    let _ = socket.write_all(answer).await;
                }
                None => tokio::time::sleep(Duration::from_secs(30)).await,
            }
        });
        format!("http://{addr}/x.crl")
    }

    #[tokio::test]
    async fn answers_statuses_sizes_and_silence() {
        let client = PlainClient::new(Duration::from_secs(1));
        let ok = server(Some(b"HTTP/1.1 200 OK\r\ncontent-length: 3\r\n\r\nabc")).await;
        assert_eq!(client.get(&ok, 10).await, Ok(b"abc".to_vec()));
        let big = server(Some(b"HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello world")).await;
        assert!(client.get(&big, 10).await.unwrap_err().reason.contains("larger than 10 bytes"));
        let missing = server(Some(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n")).await;
        assert!(client.get(&missing, 10).await.unwrap_err().reason.contains("404"));
        let silent = server(None).await;
        assert!(client.get(&silent, 10).await.unwrap_err().reason.contains("within 1 s"));
        assert!(client.get("https://example.invalid/", 10).await.unwrap_err().reason.contains("only http://"));
    }
}
