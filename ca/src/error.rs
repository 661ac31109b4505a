//! The one error type of this crate.

use std::path::PathBuf;

/// Everything that can go wrong creating, loading, exporting or using the local CA.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// rcgen refused to generate a key or sign a certificate (should not happen with the
    /// fixed ECDSA P-256 profile; an invalid host name is the usual cause for leaves).
    #[error("certificate generation failed: {0}")]
    Generate(#[from] rcgen::Error),
    /// The host name handed to the leaf minter is not a DNS name or IP address.
    #[error("`{host}` is not a valid DNS name or IP address for a certificate")]
    InvalidHost {
        /// The rejected host.
        host: String,
    },
    /// The host is outside the run's intermediate's name constraints (not a configured
    /// site nor the own origin).
    #[error("`{host}` is not a site this proxy intercepts: no certificate is minted for it")]
    NotPermitted {
        /// The refused host.
        host: String,
    },
    /// No intermediate is installed (the store passphrase has not been given yet, or the
    /// intermediate expired).
    #[error("the local CA is sealed: unlock it with the store passphrase")]
    Sealed,
    /// The root allows no intermediate below it (`pathLenConstraint` 0).
    #[error("the local CA certificate allows no intermediate (pathLenConstraint 0)")]
    RootTooNarrow,
    /// The passphrase does not open the sealed CA key.
    #[error("wrong store passphrase: it does not open the local CA's key")]
    WrongPassphrase,
    /// An empty passphrase was given.
    #[error("the store passphrase is empty")]
    EmptyPassphrase,
    /// The sealed key file is not one this program wrote (or was changed).
    #[error("{}: {reason}", path.display())]
    SealedFile {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// A CA file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A CA exists already where a new one was to be created.
    #[error("{} exists already: a new CA would replace the one the browser trusts", path.display())]
    Exists {
        /// The certificate file.
        path: PathBuf,
    },
    /// A CA file exists but does not hold a usable certificate or key.
    #[error("{}: {reason}", path.display())]
    Malformed {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// The CA certificate does not match its private key.
    #[error("the CA certificate does not belong to the private key in {}", path.display())]
    KeyMismatch {
        /// The key file.
        path: PathBuf,
    },
    /// rustls refused the minted certificate chain or key.
    #[error("TLS server configuration failed: {0}")]
    Tls(#[from] rustls::Error),
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}
