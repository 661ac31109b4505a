//! The one error type of the engine.

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the engine. Each variant's message is one clear
/// sentence fit to show a user; none of them carries plaintext or key material.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Input that is not valid DER/BER, or a CMS structure that does not parse.
    #[error("malformed {what}: {reason}")]
    Malformed {
        /// Which structure was being read ("CMS ContentInfo", "certificate", ...).
        what: &'static str,
        /// What was wrong with it.
        reason: String,
    },
    /// A MIME message or entity that cannot be read.
    #[error("malformed MIME: {0}")]
    Mime(String),
    /// An algorithm (by OID or name) the engine does not implement or refuses.
    #[error("unsupported {what}: {oid}")]
    Unsupported {
        /// The kind of algorithm ("content cipher", "digest", ...).
        what: &'static str,
        /// Its OID or name.
        oid: String,
    },
    /// None of the message's recipients matches the decrypting identity.
    #[error("the message is not encrypted for this key (no matching recipient)")]
    NoMatchingRecipient,
    /// Decryption failed: wrong key, tampered or truncated ciphertext. Deliberately uniform.
    #[error("decryption failed: wrong key, or the message was damaged or tampered with")]
    DecryptionFailed,
    /// The message is not S/MIME of the kind the operation expects.
    #[error("not an S/MIME message: {0}")]
    NotSmime(String),
    /// A private key or certificate could not be loaded.
    #[error("cannot load {what}: {reason}")]
    Key {
        /// What was being loaded ("private key", "PKCS#12 file", "certificate").
        what: &'static str,
        /// Why it failed.
        reason: String,
    },
    /// A wrong passphrase for an encrypted key or PKCS#12 file (MAC or padding check failed).
    #[error("wrong passphrase (or the file is damaged)")]
    WrongPassphrase,
    /// The private key does not belong to the certificate it is used with.
    #[error("the private key does not match the certificate")]
    KeyMismatch,
    /// A recipient certificate that cannot be encrypted to.
    #[error("cannot encrypt to {subject}: {reason}")]
    Recipient {
        /// The recipient certificate's subject.
        subject: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The message is encrypted but no identity was given to decrypt it with.
    #[error("the message is encrypted; a private key is needed to read it")]
    KeyRequired,
    /// Neither signing nor encryption was asked for.
    #[error("neither signing nor encryption was asked for")]
    NothingToDo,
    /// S/MIME layers nested deeper than the engine follows.
    #[error("S/MIME layers are nested too deeply")]
    TooDeep,
    /// A signing or encryption operation failed inside a primitive.
    #[error("cryptographic operation failed: {0}")]
    Crypto(String),
}

impl Error {
    /// Shorthand for [`Error::Malformed`].
    pub(crate) fn malformed(what: &'static str, reason: impl std::fmt::Display) -> Self {
        Self::Malformed { what, reason: reason.to_string() }
    }
}
