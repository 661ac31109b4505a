//! The S/MIME engine of smime-proxy.
//!
//! Bytes and keys in, bytes and verdicts out: this crate does no I/O, runs no async
//! runtime, holds no globals and reads no configuration. The proxy and the
//! `smime-proxy message` command feed it whole RFC 5322 messages.
//!
//! ```text
//! message.rs   whole messages: outer headers stay outside, the body entity is protected
//!   ├─ mime.rs       split / build RFC 5322 + MIME, CRLF canonicalisation
//!   ├─ sign.rs       CMS SignedData (RFC 5652 §5) out
//!   ├─ verify.rs     CMS SignedData in, one report per signer
//!   ├─ encrypt.rs    CMS EnvelopedData / AuthEnvelopedData (RFC 5652 §6, RFC 5083) out
//!   ├─ decrypt.rs    the same in
//!   ├─ ecdh.rs       ECDH key agreement recipients (RFC 5753), both directions
//!   └─ ber.rs        BER -> DER normalisation of everything that comes in
//! capabilities.rs  SMIMECapabilities in and out; the algorithms a message gets
//! keys.rs       private keys (PEM PKCS#8 / PKCS#1 / SEC1), identities
//! pkcs12.rs     PKCS#12 files (OpenSSL 3 default and -legacy)
//! seal.rs       secrets at rest: Argon2id + AES-256-GCM
//! validate.rs   certificate policy: chain, EKU, key usage, validity, address, CRL
//! revocation.rs where a certificate's status can be asked; a CRL's verdict
//! ocsp.rs       OCSP requests and verified responses (RFC 6960)
//! page_record.rs  signed records of web pages: the bytes, their URL and time received
//! ```
#![warn(missing_docs)]

mod algorithms;
pub mod armor;
pub mod ber;
mod capabilities;
mod content_cipher;
mod decrypt;
mod ecdh;
mod encrypt;
mod error;
mod keys;
mod message;
pub mod mime;
mod ocsp;
pub mod page_record;
pub mod pkcs12;
mod revocation;
pub mod seal;
mod sign;
mod validate;
mod verify;

pub use capabilities::{AlgorithmChoice, Capabilities, Capability, KeyKind, RecipientProfile, choose_algorithms};
pub use decrypt::{Decrypted, decrypt_data};
pub use encrypt::{ContentCipher, EncryptOptions, KeyTransport, RecipientIdKind, encrypt_data};
pub use error::{Error, Result};
pub use keys::{Identity, PrivateKey, load_certificates};
pub use message::{
    Layer, OpenOptions, Opened, Protection, SignatureSummary, encrypt_message, open_message, protect_entity,
    sign_and_encrypt_message, sign_message,
};
pub use ocsp::{OcspAnswer, OcspError, OcspQuery, check_response as check_ocsp_response, ocsp_request};
pub use revocation::{CrlAnswer, CrlError, Revocation, RevocationPointers, check_crl};
pub use sign::{DigestAlgorithm, RsaSignaturePadding, SignOptions, sign_data};
pub use validate::{CertificateProblem, Purpose, TrustOptions, ValidatedChain, email_addresses, validate_certificate};
pub use verify::{EmbeddedRevocation, SignatureStatus, SignerReport, Verified, VerifyOptions, verify_signed_data};

/// An X.509 certificate (RFC 5280), as parsed by `x509-cert`.
pub type Certificate = x509_cert::Certificate;
