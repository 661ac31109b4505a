//! [`StoreError`]: why the key store or the certificate store could not do what was
//! asked. One sentence each; secrets never appear in them.

use std::path::PathBuf;

/// A key store or certificate store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A file or directory of the store could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A file of the store is not what this version of smime-proxy wrote (damaged,
    /// changed by hand, or from a newer version).
    #[error("{}: {reason}", path.display())]
    Damaged {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The PKCS#12 file's passphrase does not open it (or the file is damaged: its MAC
    /// cannot tell the two apart).
    #[error("wrong passphrase for the PKCS#12 file (or the file is damaged)")]
    WrongPkcs12Passphrase,
    /// The store passphrase does not open the store's keys.
    #[error("wrong store passphrase")]
    WrongStorePassphrase,
    /// An empty store passphrase was given.
    #[error("the store passphrase must not be empty")]
    EmptyPassphrase,
    /// The key store holds no keys.
    #[error("the key store is empty: import a key with `smime-proxy keys import FILE.p12`")]
    NoKeys,
    /// No entry matches the fingerprint or address given.
    #[error("nothing in the {store} store matches `{query}`")]
    NotFound {
        /// "key" or "certificate".
        store: &'static str,
        /// What was asked for.
        query: String,
    },
    /// Several keys match the address given.
    #[error("`{query}` matches several keys ({}); give a fingerprint instead", candidates.join(", "))]
    Ambiguous {
        /// What was asked for.
        query: String,
        /// The fingerprints that match.
        candidates: Vec<String>,
    },
    /// A certificate without any e-mail address cannot be found by address, so it is not
    /// stored.
    #[error("the certificate \"{subject}\" contains no e-mail address")]
    NoAddress {
        /// Its subject.
        subject: String,
    },
    /// A CA certificate was given where an end-entity certificate is needed.
    #[error("\"{subject}\" is a CA certificate; add it to `trust_anchors` in config.toml instead")]
    CaCertificate {
        /// Its subject.
        subject: String,
    },
    /// The S/MIME engine failed (encoding, sealing, a key that does not match).
    #[error(transparent)]
    Crypto(#[from] smime_crypto::Error),
    /// The interception CA's files or certificates failed (not a wrong passphrase: that
    /// is [`StoreError::WrongStorePassphrase`]).
    #[error(transparent)]
    Ca(smime_ca::Error),
}

impl From<smime_ca::Error> for StoreError {
    fn from(error: smime_ca::Error) -> Self {
        match error {
            smime_ca::Error::WrongPassphrase => Self::WrongStorePassphrase,
            smime_ca::Error::EmptyPassphrase => Self::EmptyPassphrase,
            other => Self::Ca(other),
        }
    }
}
