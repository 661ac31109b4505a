//! The ASN.1 of PKCS#12 (RFC 7292) and of the password-based schemes it uses (RFC 8018),
//! as borrowed `der` 0.8 types. Only what a reader needs: nothing here is ever encoded.

use der::Sequence;
use der::asn1::{AnyRef, ObjectIdentifier, OctetStringRef};
use spki::AlgorithmIdentifierRef;

/// The outer structure of a `.p12` file (RFC 7292 §4).
///
/// ```asn1
/// PFX ::= SEQUENCE {
///     version     INTEGER {v3(3)}(v3,...),
///     authSafe    ContentInfo,
///     macData     MacData OPTIONAL
/// }
/// ```
#[derive(Debug, Sequence)]
pub(super) struct Pfx<'a> {
    pub version: u8,
    pub auth_safe: ContentInfo<'a>,
    #[asn1(optional = "true")]
    pub mac_data: Option<MacData<'a>>,
}

/// The password integrity check (RFC 7292 §4).
///
/// ```asn1
/// MacData ::= SEQUENCE {
///     mac         DigestInfo,
///     macSalt     OCTET STRING,
///     iterations  INTEGER DEFAULT 1
///     -- Note: The default is for historical reasons and its use is
///     -- deprecated.
/// }
/// ```
#[derive(Debug, Sequence)]
pub(super) struct MacData<'a> {
    pub mac: DigestInfo<'a>,
    pub mac_salt: &'a OctetStringRef,
    #[asn1(default = "one")]
    pub iterations: u32,
}

fn one() -> u32 {
    1
}

/// RFC 8017 §9.2 (here: the MAC value and its digest algorithm).
///
/// ```asn1
/// DigestInfo ::= SEQUENCE {
///     digestAlgorithm DigestAlgorithmIdentifier,
///     digest          OCTET STRING
/// }
/// ```
#[derive(Debug, Sequence)]
pub(super) struct DigestInfo<'a> {
    pub digest_algorithm: AlgorithmIdentifierRef<'a>,
    pub digest: &'a OctetStringRef,
}

/// RFC 5652 §3 (PKCS#7 `ContentInfo`), used for `authSafe` and for each element of the
/// `AuthenticatedSafe`.
///
/// ```asn1
/// ContentInfo ::= SEQUENCE {
///     contentType ContentType,
///     content     [0] EXPLICIT ANY DEFINED BY contentType OPTIONAL }
///
/// AuthenticatedSafe ::= SEQUENCE OF ContentInfo
///     -- Data if unencrypted
///     -- EncryptedData if password-encrypted
///     -- EnvelopedData if public key-encrypted
/// ```
#[derive(Debug, Sequence)]
pub(super) struct ContentInfo<'a> {
    pub content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    pub content: Option<AnyRef<'a>>,
}

/// RFC 5652 §8 (PKCS#7 `EncryptedData`; `unprotectedAttrs` never occurs in PKCS#12 and is
/// refused as trailing data).
///
/// ```asn1
/// EncryptedData ::= SEQUENCE {
///     version CMSVersion,
///     encryptedContentInfo EncryptedContentInfo,
///     unprotectedAttrs [1] IMPLICIT UnprotectedAttributes OPTIONAL }
/// ```
#[derive(Debug, Sequence)]
pub(super) struct EncryptedData<'a> {
    pub version: u8,
    pub encrypted_content_info: EncryptedContentInfo<'a>,
}

/// RFC 5652 §6.1.
///
/// ```asn1
/// EncryptedContentInfo ::= SEQUENCE {
///     contentType ContentType,
///     contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,
///     encryptedContent [0] IMPLICIT EncryptedContent OPTIONAL }
/// ```
#[derive(Debug, Sequence)]
pub(super) struct EncryptedContentInfo<'a> {
    pub content_type: ObjectIdentifier,
    pub content_encryption_algorithm: AlgorithmIdentifierRef<'a>,
    /// `[0] IMPLICIT OCTET STRING`, primitive or (BER) constructed: the tag is checked by
    /// the reader.
    #[asn1(optional = "true")]
    pub encrypted_content: Option<AnyRef<'a>>,
}

/// RFC 7292 §4.2. `SafeContents ::= SEQUENCE OF SafeBag`.
///
/// ```asn1
/// SafeBag ::= SEQUENCE {
///     bagId          BAG-TYPE.&id ({PKCS12BagSet}),
///     bagValue       [0] EXPLICIT BAG-TYPE.&Type({PKCS12BagSet}{@bagId}),
///     bagAttributes  SET OF PKCS12Attribute OPTIONAL
/// }
/// ```
#[derive(Debug, Sequence)]
pub(super) struct SafeBag<'a> {
    pub bag_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub bag_value: AnyRef<'a>,
    /// friendlyName / localKeyId: not needed, keys and certificates are paired by
    /// their public keys.
    #[asn1(optional = "true")]
    pub bag_attributes: Option<AnyRef<'a>>,
}

/// RFC 7292 §4.2.3.
///
/// ```asn1
/// CertBag ::= SEQUENCE {
///     certId      BAG-TYPE.&id   ({CertTypes}),
///     certValue   [0] EXPLICIT BAG-TYPE.&Type ({CertTypes}{@certId})
/// }
/// -- x509Certificate: OCTET STRING -- DER-encoded X.509 certificate
/// ```
#[derive(Debug, Sequence)]
pub(super) struct CertBag<'a> {
    pub cert_id: ObjectIdentifier,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT")]
    pub cert_value: AnyRef<'a>,
}

/// RFC 5958 §3 / RFC 7292 §4.2.2 (`pkcs8ShroudedKeyBag`).
///
/// ```asn1
/// EncryptedPrivateKeyInfo ::= SEQUENCE {
///     encryptionAlgorithm  EncryptionAlgorithmIdentifier,
///     encryptedData        EncryptedData }
/// ```
#[derive(Debug, Sequence)]
pub(super) struct EncryptedPrivateKeyInfo<'a> {
    pub encryption_algorithm: AlgorithmIdentifierRef<'a>,
    pub encrypted_data: &'a OctetStringRef,
}

/// RFC 7292 Appendix C, the parameters of the `pbeWithSHAAnd...` schemes.
///
/// ```asn1
/// pkcs-12PbeParams ::= SEQUENCE {
///     salt        OCTET STRING,
///     iterations  INTEGER
/// }
/// ```
#[derive(Debug, Sequence)]
pub(super) struct Pkcs12PbeParams<'a> {
    pub salt: &'a OctetStringRef,
    pub iterations: u32,
}

/// RFC 8018 Appendix A.4.
///
/// ```asn1
/// PBES2-params ::= SEQUENCE {
///     keyDerivationFunc AlgorithmIdentifier {{PBES2-KDFs}},
///     encryptionScheme AlgorithmIdentifier {{PBES2-Encs}} }
/// ```
#[derive(Debug, Sequence)]
pub(super) struct Pbes2Params<'a> {
    pub key_derivation_func: AlgorithmIdentifierRef<'a>,
    pub encryption_scheme: AlgorithmIdentifierRef<'a>,
}

/// RFC 8018 Appendix A.2 (only the `specified` salt; `otherSource` is refused as
/// malformed, nobody writes it).
///
/// ```asn1
/// PBKDF2-params ::= SEQUENCE {
///     salt CHOICE {
///         specified OCTET STRING,
///         otherSource AlgorithmIdentifier {{PBKDF2-SaltSources}}
///     },
///     iterationCount INTEGER (1..MAX),
///     keyLength INTEGER (1..MAX) OPTIONAL,
///     prf AlgorithmIdentifier {{PBKDF2-PRFs}} DEFAULT algid-hmacWithSHA1 }
/// ```
#[derive(Debug, Sequence)]
pub(super) struct Pbkdf2Params<'a> {
    pub salt: &'a OctetStringRef,
    pub iteration_count: u32,
    #[asn1(optional = "true")]
    pub key_length: Option<u16>,
    #[asn1(optional = "true")]
    pub prf: Option<AlgorithmIdentifierRef<'a>>,
}
