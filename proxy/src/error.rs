//! The one error type of the proxy library: configuration and start-up failures. Errors
//! during traffic never surface here: they become responses (an error page) or a closed
//! connection, and a log line.

use std::net::SocketAddr;
use std::path::PathBuf;

/// Why the proxy could not be configured or started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration file is not valid TOML, has an unknown key, or a value is invalid.
    #[error("{}, line {line}{}: {message}", file.display(), key.as_ref().map(|k| format!(", key `{k}`")).unwrap_or_default())]
    ConfigFile {
        /// The file.
        file: PathBuf,
        /// 1-based line of the offending key or value.
        line: usize,
        /// The key on that line, when there is one.
        key: Option<String>,
        /// What is wrong.
        message: String,
    },
    /// A rule file is not valid TOML, has an unknown key, lacks a required part, or holds
    /// an invalid value (a CSS selector lol_html cannot parse, a template without its
    /// placeholders).
    #[error("{file}, line {line}: {message}")]
    RuleFile {
        /// The file (`NAME.toml (bundled)` for an embedded rule).
        file: String,
        /// 1-based line of the offending key or table.
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// A rules directory or rule file could not be read.
    #[error("cannot read rules {}: {source}", path.display())]
    ReadRules {
        /// The directory or file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A command-line flag has an invalid value.
    #[error("{flag} {value}: {message}")]
    Flag {
        /// The flag, e.g. `--listen`.
        flag: &'static str,
        /// The value given.
        value: String,
        /// What is wrong.
        message: String,
    },
    /// The configuration file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// An `upstream_ca` file could not be read or holds no PEM certificate.
    #[error("upstream CA {}: {reason}", path.display())]
    UpstreamCa {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A `trust_anchors` file could not be read or holds no certificate.
    #[error("trust anchor {}: {reason}", path.display())]
    TrustAnchor {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The listen port is already taken by another program.
    #[error("cannot listen on {addr}: the port is already in use (another smime-proxy? choose another with --listen)")]
    AddrInUse {
        /// The address.
        addr: SocketAddr,
    },
    /// Binding the listen address failed for another reason.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The TLS client configuration for upstream connections could not be built.
    #[error("cannot build the upstream TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// The local CA failed.
    #[error(transparent)]
    Ca(#[from] smime_ca::Error),
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
    /// The proxy task ended abnormally.
    #[error("the proxy task failed: {0}")]
    Task(String),
    /// The key store or the certificate store failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// The roaming key server refused or failed.
    #[error(transparent)]
    KeyServer(#[from] smime_keyserver::Error),
    /// The roaming key server's local side: `roam.json`, the released key.
    #[error("{0}")]
    Roam(String),
    /// hudsucker refused the proxy configuration.
    #[error("cannot start the proxy: {0}")]
    Proxy(#[from] hudsucker::Error),
}
