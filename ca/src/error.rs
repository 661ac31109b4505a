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
    /// A CA file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
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
    #[error("the CA certificate in {} does not belong to its private key", path.display())]
    KeyMismatch {
        /// The certificate file.
        path: PathBuf,
    },
    /// rustls refused the minted certificate chain or key.
    #[error("TLS server configuration failed: {0}")]
    Tls(#[from] rustls::Error),
    /// The system random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}
