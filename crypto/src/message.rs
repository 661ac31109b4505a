//! Whole messages: the outer headers (From, To, Cc, Subject, Date, Message-ID, ...) stay
//! outside, the body entity is signed and/or encrypted; opening peels the layers.

use crate::{
    Certificate, EncryptOptions, Error, Identity, Result, SignOptions, SignatureStatus, SignerReport, VerifyOptions,
};
use zeroize::Zeroizing;

/// Signs the body entity of `message`: `multipart/signed` (detached, the default) or
/// `application/pkcs7-mime; smime-type=signed-data` with `opaque`.
pub fn sign_message(message: &[u8], signer: &Identity, options: &SignOptions, opaque: bool) -> Result<Vec<u8>> {
    let _ = (message, signer, options, opaque);
    Err(Error::Mime("not implemented yet".into()))
}

/// Encrypts the body entity of `message` to `recipients`.
pub fn encrypt_message(message: &[u8], recipients: &[Certificate], options: &EncryptOptions) -> Result<Vec<u8>> {
    let _ = (message, recipients, options);
    Err(Error::Mime("not implemented yet".into()))
}

/// Signs (detached), then encrypts the signed entity.
pub fn sign_and_encrypt_message(
    message: &[u8],
    signer: &Identity,
    sign_options: &SignOptions,
    recipients: &[Certificate],
    encrypt_options: &EncryptOptions,
) -> Result<Vec<u8>> {
    let _ = (message, signer, sign_options, recipients, encrypt_options);
    Err(Error::Mime("not implemented yet".into()))
}

/// How to open a message.
#[derive(Debug, Default)]
pub struct OpenOptions<'a> {
    /// The identity to decrypt with, if any.
    pub identity: Option<&'a Identity>,
    /// How signatures are verified.
    pub verify: VerifyOptions,
}

/// One S/MIME layer, outermost first.
#[derive(Debug, Clone)]
pub enum Layer {
    /// An EnvelopedData / AuthEnvelopedData layer that was decrypted.
    Encrypted {
        /// Content cipher name.
        cipher: &'static str,
        /// AuthEnvelopedData.
        authenticated: bool,
    },
    /// A SignedData layer.
    Signed {
        /// multipart/signed (true) or opaque signed-data (false).
        detached: bool,
        /// One report per signer.
        signers: Vec<SignerReport>,
    },
}

/// The signature verdict of a whole message.
#[derive(Debug, Clone)]
pub struct SignatureSummary {
    /// Valid only for exactly one valid signer over the whole message.
    pub status: SignatureStatus,
    /// The signer, when there is exactly one.
    pub signer: Option<SignerReport>,
    /// Whether one of the signer certificate's addresses equals the From address.
    pub from_matches: bool,
}

/// An opened message.
#[derive(Debug)]
pub struct Opened {
    /// The layers found, outermost first.
    pub layers: Vec<Layer>,
    /// The innermost entity (headers + body), CRLF, wiped on drop.
    pub content: Zeroizing<Vec<u8>>,
    /// The message's outer headers followed by the innermost entity: a readable message.
    pub message: Zeroizing<Vec<u8>>,
    /// Present when the message is signed at its top level.
    pub signature: Option<SignatureSummary>,
}

/// Peels every S/MIME layer of `message` (decrypting with `options.identity`, verifying
/// signatures), up to a fixed nesting depth.
pub fn open_message(message: &[u8], options: &OpenOptions<'_>) -> Result<Opened> {
    let _ = (message, options);
    Err(Error::Mime("not implemented yet".into()))
}
