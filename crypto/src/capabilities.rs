//! SMIMECapabilities (RFC 8551 §2.5.2): what a signer announces it can decrypt, read
//! from signed mail and written into ours, and the algorithms a message gets from what
//! its recipients announced.
//!
//! ```text
//! SMIMECapabilities ::= SEQUENCE OF SMIMECapability
//! SMIMECapability ::= SEQUENCE {
//!    capabilityID OBJECT IDENTIFIER,
//!    parameters ANY DEFINED BY capabilityID OPTIONAL }
//! ```
//!
//! The rule ([`choose_algorithms`]): AES-256-CBC with RSAES-PKCS1-v1_5, which every
//! S/MIME client reads, unless *every* recipient announced better. AES-256-GCM
//! (AuthEnvelopedData) when all announced it; RSAES-OAEP (SHA-256) when every RSA
//! recipient announced it. A recipient whose capabilities are unknown (a certificate
//! from a file or a directory) counts as announcing nothing. Recipients' key types are
//! reported when they mix RSA and EC: NSS (Thunderbird) cannot read such a message at all.

use crate::algorithms::{self, ID_MGF1, ID_RSAES_OAEP, ID_SHA256};
use crate::encrypt::{ContentCipher, EncryptOptions, KeyTransport, oaep_sha256_algorithm};
use crate::{Certificate, Error, Result};
use der::{Any, Tag, Tagged};
use pkcs1::RsaOaepParams;
use spki::AlgorithmIdentifierOwned;

/// One algorithm a signer can decrypt with (the ones this engine can also produce).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// AES-256-GCM (RFC 5084).
    Aes256Gcm,
    /// AES-128-GCM (RFC 5084).
    Aes128Gcm,
    /// AES-256-CBC (RFC 3565).
    Aes256Cbc,
    /// AES-192-CBC (RFC 3565).
    Aes192Cbc,
    /// AES-128-CBC (RFC 3565).
    Aes128Cbc,
    /// RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 4055 §4.1, announced as RFC 3560 §3 says).
    RsaOaepSha256,
}

const ALL: [Capability; 6] = [
    Capability::Aes256Gcm,
    Capability::Aes128Gcm,
    Capability::Aes256Cbc,
    Capability::Aes192Cbc,
    Capability::Aes128Cbc,
    Capability::RsaOaepSha256,
];

impl Capability {
    /// Its display name, also how the certificate store records it ("AES-256-GCM").
    pub fn name(self) -> &'static str {
        match self {
            Self::Aes256Gcm => "AES-256-GCM",
            Self::Aes128Gcm => "AES-128-GCM",
            Self::Aes256Cbc => "AES-256-CBC",
            Self::Aes192Cbc => "AES-192-CBC",
            Self::Aes128Cbc => "AES-128-CBC",
            Self::RsaOaepSha256 => "RSAES-OAEP-SHA256",
        }
    }

    /// The capability of this [`Self::name`].
    pub fn from_name(name: &str) -> Option<Self> {
        ALL.into_iter().find(|c| c.name() == name)
    }

    /// The capability an SMIMECapability names, if it is one of ours; OAEP only with
    /// SHA-256 for both the hash and MGF1 (absent parameters mean SHA-1).
    fn from_algorithm(algorithm: &AlgorithmIdentifierOwned) -> Option<Self> {
        Some(match algorithm.oid {
            algorithms::ID_AES_256_GCM => Self::Aes256Gcm,
            algorithms::ID_AES_128_GCM => Self::Aes128Gcm,
            algorithms::ID_AES_256_CBC => Self::Aes256Cbc,
            algorithms::ID_AES_192_CBC => Self::Aes192Cbc,
            algorithms::ID_AES_128_CBC => Self::Aes128Cbc,
            ID_RSAES_OAEP => {
                let parameters = algorithm.parameters.as_ref().filter(|p| p.tag() != Tag::Null)?;
                let params: RsaOaepParams<Any> = parameters.decode_as().ok()?;
                let mgf_hash = params.mask_gen.parameters.map(|p| p.oid);
                (params.hash.oid == ID_SHA256 && params.mask_gen.oid == ID_MGF1 && mgf_hash == Some(ID_SHA256))
                    .then_some(Self::RsaOaepSha256)?
            }
            _ => return None,
        })
    }

    fn algorithm(self) -> Result<AlgorithmIdentifierOwned> {
        let oid = match self {
            Self::Aes256Gcm => algorithms::ID_AES_256_GCM,
            Self::Aes128Gcm => algorithms::ID_AES_128_GCM,
            Self::Aes256Cbc => algorithms::ID_AES_256_CBC,
            Self::Aes192Cbc => algorithms::ID_AES_192_CBC,
            Self::Aes128Cbc => algorithms::ID_AES_128_CBC,
            Self::RsaOaepSha256 => return oaep_sha256_algorithm(),
        };
        Ok(AlgorithmIdentifierOwned { oid, parameters: None })
    }
}

/// What a signer announced, in its order of preference (capabilities this engine does
/// not produce are left out).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Capabilities(pub Vec<Capability>);

impl Capabilities {
    /// What this engine announces: everything it can decrypt and produce, most
    /// preferred first.
    pub fn ours() -> Self {
        Self(ALL.to_vec())
    }

    /// Whether `capability` was announced.
    pub fn has(&self, capability: Capability) -> bool {
        self.0.contains(&capability)
    }

    /// Reads the value of an smimeCapabilities attribute. `None` when it is not a
    /// SEQUENCE OF SMIMECapability; unknown capabilities are skipped.
    pub fn from_attribute(value: &Any) -> Option<Self> {
        let list: Vec<AlgorithmIdentifierOwned> = value.decode_as().ok()?;
        let mut found: Vec<Capability> = Vec::new();
        for capability in list.iter().filter_map(Capability::from_algorithm) {
            if !found.contains(&capability) {
                found.push(capability);
            }
        }
        Some(Self(found))
    }

    /// The attribute value announcing these capabilities.
    pub fn to_attribute(&self) -> Result<Any> {
        let list = self.0.iter().map(|c| c.algorithm()).collect::<Result<Vec<_>>>()?;
        Any::encode_from(&list).map_err(|e| Error::Crypto(format!("cannot encode SMIMECapabilities: {e}")))
    }

    /// Their names, for storing and showing.
    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|c| c.name()).collect()
    }

    /// From stored names (unknown names are skipped: a newer version may know more).
    pub fn from_names<S: AsRef<str>>(names: &[S]) -> Self {
        Self(names.iter().filter_map(|n| Capability::from_name(n.as_ref())).collect())
    }
}

/// One recipient of a message, as the algorithm choice sees it.
#[derive(Debug, Clone, Copy)]
pub struct RecipientProfile<'a> {
    /// Its certificate.
    pub certificate: &'a Certificate,
    /// What it announced, when known.
    pub capabilities: Option<&'a Capabilities>,
}

/// The kind of a recipient's public key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    /// RSA: key transport.
    Rsa,
    /// EC: key agreement.
    Ec,
    /// Anything else (encryption to it fails later with its own error).
    Other,
}

impl KeyKind {
    /// The kind of `certificate`'s key.
    pub fn of(certificate: &Certificate) -> Self {
        match certificate.tbs_certificate().subject_public_key_info().algorithm.oid {
            algorithms::RSA_ENCRYPTION => Self::Rsa,
            algorithms::ID_EC_PUBLIC_KEY => Self::Ec,
            _ => Self::Other,
        }
    }
}

/// The algorithms for one message, and what its recipients should be warned of.
#[derive(Debug, Clone, Copy)]
pub struct AlgorithmChoice {
    /// How to encrypt.
    pub options: EncryptOptions,
    /// The recipients' keys mix RSA and EC (NSS-based clients, such as Thunderbird,
    /// cannot read the message).
    pub mixed_key_kinds: bool,
}

/// The algorithms a message to `recipients` gets (see the module documentation).
pub fn choose_algorithms(recipients: &[RecipientProfile<'_>]) -> AlgorithmChoice {
    // Whether every recipient (of this key kind) announced `capability`, and there is one.
    let all_announced = |capability: Capability, kind: Option<KeyKind>| {
        let mut them = recipients.iter().filter(|r| kind.is_none_or(|k| KeyKind::of(r.certificate) == k)).peekable();
        them.peek().is_some() && them.all(|r| r.capabilities.is_some_and(|c| c.has(capability)))
    };
    let cipher =
        if all_announced(Capability::Aes256Gcm, None) { ContentCipher::Aes256Gcm } else { ContentCipher::Aes256Cbc };
    let key_transport = if all_announced(Capability::RsaOaepSha256, Some(KeyKind::Rsa)) {
        KeyTransport::RsaOaep
    } else {
        KeyTransport::RsaPkcs1
    };
    let kinds: Vec<KeyKind> = recipients.iter().map(|r| KeyKind::of(r.certificate)).collect();
    AlgorithmChoice {
        options: EncryptOptions { cipher, key_transport, ..EncryptOptions::default() },
        mixed_key_kinds: kinds.contains(&KeyKind::Rsa) && kinds.contains(&KeyKind::Ec),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_announcement_reads_back_in_order() {
        let ours = Capabilities::ours();
        let attribute = ours.to_attribute().expect("encodes");
        assert_eq!(Capabilities::from_attribute(&attribute), Some(ours));
    }

    #[test]
    fn unknown_and_sha1_oaep_capabilities_are_skipped_and_garbage_is_none() {
        let sha1_oaep = AlgorithmIdentifierOwned { oid: ID_RSAES_OAEP, parameters: None };
        let des3 = AlgorithmIdentifierOwned { oid: algorithms::DES_EDE3_CBC, parameters: None };
        let gcm = AlgorithmIdentifierOwned { oid: algorithms::ID_AES_256_GCM, parameters: None };
        let attribute = Any::encode_from(&vec![sha1_oaep, des3, gcm.clone(), gcm]).expect("encodes");
        assert_eq!(Capabilities::from_attribute(&attribute), Some(Capabilities(vec![Capability::Aes256Gcm])));
        let not_a_list = Any::encode_from(&algorithms::ID_AES_256_GCM).expect("encodes");
        assert_eq!(Capabilities::from_attribute(&not_a_list), None);
    }

    #[test]
    fn stored_names_round_trip_and_unknown_names_are_skipped() {
        let names = Capabilities::ours().names();
        assert_eq!(Capabilities::from_names(&names), Capabilities::ours());
        assert_eq!(Capabilities::from_names(&["AES-512-XTS", "AES-128-CBC"]).0, [Capability::Aes128Cbc]);
    }
}
