//! Recipients' certificates from LDAP directories (`[[directories]]` in config.toml), as
//! Thunderbird and Outlook find them: search `(mail={address})` (the address escaped per
//! RFC 4515), read userSMIMECertificate (a PKCS#7 bundle, Outlook's choice and preferred)
//! and then userCertificate;binary. What is found is only a candidate: the caller
//! validates it exactly like a stored certificate before anything is encrypted to it.
//!
//! Each search runs in a task of its own, so that a panic in the LDAP client on a
//! malformed answer (ldap3's `SearchEntry::construct` panics by design) becomes an error
//! naming the directory, never a dead proxy.

mod ldap;

use std::sync::Arc;
use std::time::Duration;

use smime_crypto::Certificate;

use crate::config::DirectoryConfig;

/// A certificate a directory holds for an address.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    /// The certificate.
    pub(crate) certificate: Certificate,
    /// The other certificates of the same value (a bundle's intermediates).
    pub(crate) bundle: Vec<Certificate>,
    /// The directory's URL, for the store's `source` and messages.
    pub(crate) directory: String,
}

/// What the directories answered for one address.
#[derive(Debug, Default)]
pub(crate) struct Lookup {
    /// Every certificate found, in directory order.
    pub(crate) found: Vec<Found>,
    /// Directories that failed (down, refused the bind, answered garbage), each in one
    /// sentence that names it.
    pub(crate) failures: Vec<String>,
}

/// The configured directories with the TLS they are reached over.
#[derive(Debug, Clone)]
pub(crate) struct Directories {
    list: Vec<DirectoryConfig>,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

impl Directories {
    /// `list` over `tls` (the proxy's verified TLS roots), each search bounded by `timeout`.
    pub(crate) fn new(list: Vec<DirectoryConfig>, tls: Arc<rustls::ClientConfig>, timeout: Duration) -> Self {
        let mut tls = (*tls).clone();
        tls.alpn_protocols.clear();
        Self { list, tls: Arc::new(tls), timeout }
    }

    /// The directories `config` lists, with its PKI time limit.
    pub(crate) fn from_config(config: &crate::Config, tls: Arc<rustls::ClientConfig>) -> Self {
        Self::new(config.directories.clone(), tls, config.pki_timeout)
    }

    /// True when none is configured.
    pub(crate) fn is_empty(&self) -> bool {
        self.list.is_empty()
    }

    /// Asks every directory, in order, for `address`.
    pub(crate) async fn lookup(&self, address: &str) -> Lookup {
        let mut lookup = Lookup::default();
        for directory in &self.list {
            let started = std::time::Instant::now();
            let task =
                tokio::spawn(ldap::search(directory.clone(), Arc::clone(&self.tls), self.timeout, address.to_owned()));
            // The whole exchange is bounded too (ldap3's own timeouts cover its parts).
            let answer = tokio::time::timeout(self.timeout * 2, task).await;
            let ms = started.elapsed().as_millis() as u64;
            match answer {
                Ok(Ok(Ok(values))) => {
                    tracing::info!(directory = %directory.url, values = values.certificates.len(), ms, "directory searched");
                    for reason in values.unreadable {
                        lookup.failures.push(format!("directory {}: {reason}", directory.url));
                    }
                    for mut bundle in values.certificates {
                        if bundle.is_empty() {
                            continue;
                        }
                        let certificate = bundle.remove(0);
                        lookup.found.push(Found { certificate, bundle, directory: directory.url.clone() });
                    }
                }
                Ok(Ok(Err(reason))) => lookup.failures.push(format!("directory {}: {reason}", directory.url)),
                Ok(Err(_panic)) => lookup
                    .failures
                    .push(format!("directory {}: it answered something that cannot be read", directory.url)),
                Err(_) => lookup.failures.push(format!(
                    "directory {}: no answer within {} s",
                    directory.url,
                    (self.timeout * 2).as_secs()
                )),
            }
            if !lookup.found.is_empty() {
                break;
            }
        }
        lookup
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// An "LDAP server" that answers every request with `entry` and a success.
    async fn server(entry: &'static [u8]) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 4096];
            while let Ok(n) = socket.read(&mut buf).await {
                // LDAPMessage ::= SEQUENCE { messageID INTEGER, protocolOp ... }; short form here.
                if n < 5 || buf[2] != 0x02 || buf[3] != 0x01 {
                    return;
                }
                let id = buf[4];
                let mut answer = Vec::new();
                answer.extend([0x30, (entry.len() + 3) as u8, 0x02, 0x01, id]);
                answer.extend(entry);
                answer.extend([0x30, 0x0c, 0x02, 0x01, id, 0x65, 0x07, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00]);
                if socket.write_all(&answer).await.is_err() {
                    return;
                }
            }
        });
        format!("ldap://{addr}")
    }

    fn directories(url: String) -> Directories {
        let config = DirectoryConfig {
            url,
            starttls: false,
            base: "dc=example".into(),
            filter: crate::config::DEFAULT_DIRECTORY_FILTER.into(),
            bind: None,
        };
        let tls = crate::http::client_config(&[]).unwrap();
        Directories::new(vec![config], tls, Duration::from_secs(2))
    }

    #[tokio::test]
    async fn a_malformed_entry_is_an_error_naming_the_directory_not_a_dead_proxy() {
        // SearchResultEntry [APPLICATION 4] holding an INTEGER where objectName and
        // attributes belong: ldap3's SearchEntry::construct panics on it.
        let url = server(&[0x64, 0x03, 0x02, 0x01, 0x00]).await;
        let lookup = directories(url.clone()).lookup("carol@example.test").await;
        assert!(lookup.found.is_empty());
        assert_eq!(lookup.failures, [format!("directory {url}: it answered something that cannot be read")]);
    }

    #[tokio::test]
    async fn an_entry_without_certificates_and_a_directory_that_is_down() {
        // SearchResultEntry { objectName "cn=x", attributes { mail: "x@y" } }
        let entry: &[u8] = &[
            0x64, 0x17, 0x04, 0x04, b'c', b'n', b'=', b'x', 0x30, 0x0f, 0x30, 0x0d, 0x04, 0x04, b'm', b'a', b'i', b'l',
            0x31, 0x05, 0x04, 0x03, b'x', b'@', b'y',
        ];
        let lookup = directories(server(entry).await).lookup("x@y").await;
        assert!(lookup.found.is_empty() && lookup.failures.is_empty(), "{lookup:?}");

        let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
        let down = directories(format!("ldap://{closed}")).lookup("x@y").await;
        assert_eq!(down.failures.len(), 1);
        assert!(down.failures[0].contains("cannot connect"), "{:?}", down.failures);
    }
}
