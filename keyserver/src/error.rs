//! The crate's one error type: each variant's message is one sentence for the user.

/// What went wrong, on either side.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// An OPAQUE message could not be parsed or did not verify.
    #[error("the OPAQUE {0} is malformed")]
    Malformed(&'static str),
    /// The password is wrong, or the account does not exist (OPAQUE cannot tell them apart).
    #[error("the password is wrong or there is no such account on this key server")]
    WrongPassword,
    /// A login found the password wrong (or the account unknown); the start was counted.
    #[error(
        "the password is wrong or there is no such account on this key server ({guesses_left} more login attempts allowed before the account pauses logins)"
    )]
    LoginRefused {
        /// Login starts left in the server's window.
        guesses_left: u32,
    },
    /// The audit log's hash chain does not verify.
    #[error("the key server's audit log is broken: an entry was removed or changed")]
    BrokenAuditChain,
    /// The server's OPAQUE public key is not the pinned one.
    #[error("the key server's OPAQUE public key is not the one pinned in the configuration; refusing to continue")]
    ServerKeyMismatch,
    /// Not an envelope.
    #[error("the envelope is malformed: {0}")]
    BadEnvelope(&'static str),
    /// An envelope format this code does not know.
    #[error("the envelope has format {0}, which this version does not read (it reads format 1)")]
    UnsupportedEnvelopeFormat(u8),
    /// Over [`crate::envelope::MAX_LEN`].
    #[error("the envelope is larger than the {max} bytes a key server accepts")]
    EnvelopeTooLarge {
        /// The limit.
        max: usize,
    },
    /// The envelope failed a check: its seals, its account.
    #[error("the envelope is refused: {0}")]
    EnvelopeRefused(&'static str),
    /// The envelope is older than one this client has seen.
    #[error(
        "the envelope is refused: it is version {got}, older than version {seen} this device has already seen (a rolled-back copy)"
    )]
    EnvelopeRolledBack {
        /// The version served.
        got: u64,
        /// The client's high-water mark.
        seen: u64,
    },
    /// The server answered with an error.
    #[error("the key server says: {message}")]
    Server {
        /// The HTTP status.
        status: u16,
        /// Its sentence.
        message: String,
    },
    /// The server could not be reached or spoke nonsense.
    #[error("the key server at {url} cannot be used: {reason}")]
    Transport {
        /// The server's URL.
        url: String,
        /// Why.
        reason: String,
    },
}
