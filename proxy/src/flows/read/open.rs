//! Opening a raw message for the read view: where its S/MIME is ([`shape`]), then
//! decrypting and verifying it with the user's unlocked keys ([`open`]). Pure and
//! blocking (RSA, signature checks): the flow runs it off the async executor.

use mail_parser::{MessageParser, MimeHeaders as _};
use smime_crypto::mime::Entity;
use smime_crypto::{
    Error as CryptoError, Identity, Layer, OpenOptions, Opened, SignatureStatus, SignatureSummary, VerifyOptions,
    open_message,
};
use zeroize::Zeroizing;

use super::content::{self, Content};
use crate::store::{KeyRing, KeyUnavailable};

/// Where a message's S/MIME is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// The whole message is S/MIME (encrypted, opaque- or clear-signed).
    TopLevel,
    /// Only a part inside an unprotected message is: it is not opened (EFAIL).
    NestedOnly,
    /// No S/MIME at all.
    Plain,
}

/// What opening gave.
#[derive(Debug)]
pub enum Reading {
    /// Decrypted and/or verified.
    Opened {
        /// The layers, outermost first.
        layers: Vec<Layer>,
        /// The signature verdict, when signed (boxed: it is large).
        signature: Option<Box<SignatureSummary>>,
        /// What the signer's revocation check found, for the banner.
        revocation: Option<String>,
        /// The innermost entity, rendered.
        content: Content,
    },
    /// Not readable; nothing of the content is shown.
    Failed(Failure),
}

/// Why a message could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// The key store is locked (`hint` says how to unlock).
    Locked {
        /// How to unlock.
        hint: String,
    },
    /// None of the unlocked keys is a recipient.
    NotForYou,
    /// A recipient key matched but decryption failed (damaged or tampered).
    DecryptionFailed,
    /// The S/MIME structure could not be read.
    Unreadable(String),
}

/// Where `raw`'s S/MIME is, from its MIME structure.
pub fn shape(raw: &[u8]) -> Shape {
    let Some(message) = MessageParser::default().parse(raw) else { return Shape::Plain };
    let is_smime = |part: &mail_parser::MessagePart<'_>| {
        let Some(ct) = part.content_type() else { return false };
        let mime = format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or_default()).to_ascii_lowercase();
        match mime.as_str() {
            "application/pkcs7-mime" | "application/x-pkcs7-mime" => true,
            "multipart/signed" => ct.attribute("protocol").is_some_and(|p| {
                let p = p.to_ascii_lowercase();
                p == "application/pkcs7-signature" || p == "application/x-pkcs7-signature"
            }),
            "application/octet-stream" => {
                part.attachment_name().is_some_and(|n| n.to_ascii_lowercase().ends_with(".p7m"))
            }
            _ => false,
        }
    };
    match message.parts.split_first() {
        Some((root, _)) if is_smime(root) => Shape::TopLevel,
        Some((_, rest)) if rest.iter().any(is_smime) => Shape::NestedOnly,
        _ => Shape::Plain,
    }
}

/// Opens `raw`: verifies signatures against `verify`; when it is encrypted, tries each
/// unlocked key of `keys` until one is a recipient.
pub fn open(raw: &[u8], keys: &KeyRing, verify: &VerifyOptions) -> Reading {
    match open_layers(raw, keys, verify) {
        Ok(opened) => {
            let content = content::render(opened.content());
            Reading::Opened {
                layers: opened.layers,
                signature: opened.signature.map(Box::new),
                revocation: None,
                content,
            }
        }
        Err(failure) => Reading::Failed(failure),
    }
}

/// The text an encrypted form field held (see `flows::fields`): `raw` opened as [`open`]
/// does, and the innermost entity's body as text, only when a layer was decrypted, any
/// signature is valid, the entity is `text/plain` and its header field `site.0` is `site.1`.
pub fn field_text(
    raw: &[u8],
    keys: &KeyRing,
    verify: &VerifyOptions,
    site: (&str, &str),
) -> Result<Zeroizing<String>, Failure> {
    let opened = open_layers(raw, keys, verify)?;
    if !opened.was_encrypted() {
        return Err(Failure::Unreadable("the field is not encrypted.".into()));
    }
    if opened.signature.as_ref().is_some_and(|s| s.status != SignatureStatus::Valid) {
        return Err(Failure::Unreadable("the field's signature is not valid.".into()));
    }
    let entity = Entity::parse(opened.content()).map_err(|e| Failure::Unreadable(e.to_string()))?;
    if entity.field(site.0).map(|f| f.value()).as_deref().map(str::trim) != Some(site.1) {
        return Err(Failure::Unreadable("the field was not encrypted on this site.".into()));
    }
    if entity.content_type().mime_type != "text/plain" {
        return Err(Failure::Unreadable("the field does not hold text.".into()));
    }
    let body = entity.decoded_body().map_err(|e| Failure::Unreadable(e.to_string()))?;
    let text = std::str::from_utf8(&body).map_err(|_| Failure::Unreadable("the field's text is not UTF-8.".into()))?;
    Ok(Zeroizing::new(text.to_owned()))
}

/// The layers of `raw` peeled with the unlocked keys.
fn open_layers(raw: &[u8], keys: &KeyRing, verify: &VerifyOptions) -> Result<Opened, Failure> {
    let attempt = |identity: Option<&Identity>| open_message(raw, &OpenOptions { identity, verify: verify.clone() });
    let result = match attempt(None) {
        Err(CryptoError::KeyRequired) => {
            let identities = match keys.identities() {
                Ok(identities) => identities,
                Err(KeyUnavailable::Locked { hint }) => return Err(Failure::Locked { hint }),
                Err(_) => return Err(Failure::NotForYou),
            };
            identities
                .iter()
                .map(|identity| attempt(Some(identity)))
                .find(|result| !matches!(result, Err(CryptoError::NoMatchingRecipient)))
                .unwrap_or(Err(CryptoError::NoMatchingRecipient))
        }
        other => other,
    };
    result.map_err(|error| match error {
        CryptoError::NoMatchingRecipient => Failure::NotForYou,
        CryptoError::DecryptionFailed => Failure::DecryptionFailed,
        error => Failure::Unreadable(error.to_string()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes() {
        let enveloped =
            b"From: a@x\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\n\
            Content-Transfer-Encoding: base64\r\n\r\nMIIB\r\n";
        assert_eq!(shape(enveloped), Shape::TopLevel);
        let signed = b"Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; boundary=b\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pkcs7-signature\r\n\r\nx\r\n--b--\r\n";
        assert_eq!(shape(signed), Shape::TopLevel);
        let pgp = b"Content-Type: multipart/signed; protocol=\"application/pgp-signature\"; boundary=b\r\n\r\n\
            --b\r\nContent-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pgp-signature\r\n\r\nx\r\n--b--\r\n";
        assert_eq!(shape(pgp), Shape::Plain);
        let nested =
            b"Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\nsee below\r\n\
            --m\r\nContent-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\r\nMIIB\r\n--m--\r\n";
        assert_eq!(shape(nested), Shape::NestedOnly);
        assert_eq!(shape(b"Content-Type: text/plain\r\n\r\nhello\r\n"), Shape::Plain);
    }

    #[test]
    fn locked_store_and_garbage() {
        let keys = KeyRing::without_store("unlock at http://smime-proxy.invalid/");
        let enveloped = b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n\
            Content-Transfer-Encoding: base64\r\n\r\nMIIB\r\n";
        // Not even a ContentInfo: unreadable, before any key is asked for.
        assert!(matches!(open(enveloped, &keys, &VerifyOptions::default()), Reading::Failed(Failure::Unreadable(_))));
    }
}
