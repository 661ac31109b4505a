//! Object identifiers and digest helpers shared by the CMS operations.
//!
//! One place for every OID the engine produces or accepts, so that `sign.rs`,
//! `verify.rs`, `encrypt.rs` and `decrypt.rs` never spell one twice.

use const_oid::ObjectIdentifier as Oid;

/// id-data (RFC 5652 §4).
pub const ID_DATA: Oid = const_oid::db::rfc5911::ID_DATA;
/// id-signedData (RFC 5652 §5).
pub const ID_SIGNED_DATA: Oid = const_oid::db::rfc5911::ID_SIGNED_DATA;
/// id-envelopedData (RFC 5652 §6).
pub const ID_ENVELOPED_DATA: Oid = const_oid::db::rfc5911::ID_ENVELOPED_DATA;
/// id-ct-authEnvelopedData (RFC 5083).
pub const ID_AUTH_ENVELOPED_DATA: Oid = const_oid::db::rfc5911::ID_CT_AUTH_ENVELOPED_DATA;

// Content encryption (RFC 3565 AES-CBC, RFC 5084 AES-GCM, RFC 3370 §5.1 3DES).
/// id-aes128-CBC.
pub const ID_AES_128_CBC: Oid = const_oid::db::rfc5911::ID_AES_128_CBC;
/// id-aes192-CBC.
pub const ID_AES_192_CBC: Oid = const_oid::db::rfc5911::ID_AES_192_CBC;
/// id-aes256-CBC.
pub const ID_AES_256_CBC: Oid = const_oid::db::rfc5911::ID_AES_256_CBC;
/// id-aes128-GCM.
pub const ID_AES_128_GCM: Oid = const_oid::db::rfc5911::ID_AES_128_GCM;
/// id-aes192-GCM.
pub const ID_AES_192_GCM: Oid = const_oid::db::rfc5911::ID_AES_192_GCM;
/// id-aes256-GCM.
pub const ID_AES_256_GCM: Oid = const_oid::db::rfc5911::ID_AES_256_GCM;
/// des-ede3-cbc (legacy, decryption only).
pub const DES_EDE3_CBC: Oid = const_oid::db::rfc5911::DES_EDE_3_CBC;

// Key transport (RFC 8017, RFC 4055, RFC 3560).
/// rsaEncryption (RSAES-PKCS1-v1_5 key transport).
pub const RSA_ENCRYPTION: Oid = const_oid::db::rfc5912::RSA_ENCRYPTION;
/// id-RSAES-OAEP.
pub const ID_RSAES_OAEP: Oid = const_oid::db::rfc5912::ID_RSAES_OAEP;
/// id-mgf1.
pub const ID_MGF1: Oid = const_oid::db::rfc5912::ID_MGF_1;
/// id-pSpecified (OAEP label source).
pub const ID_P_SPECIFIED: Oid = const_oid::db::rfc5912::ID_P_SPECIFIED;
/// id-sha1.
pub const ID_SHA1: Oid = const_oid::db::rfc5912::ID_SHA_1;
/// id-sha224.
pub const ID_SHA224: Oid = const_oid::db::rfc5912::ID_SHA_224;
/// id-sha256.
pub const ID_SHA256: Oid = const_oid::db::rfc5912::ID_SHA_256;
/// id-sha384.
pub const ID_SHA384: Oid = const_oid::db::rfc5912::ID_SHA_384;
/// id-sha512.
pub const ID_SHA512: Oid = const_oid::db::rfc5912::ID_SHA_512;

// Key agreement (RFC 5753 ECDH, RFC 3394 / RFC 3565 AES key wrap).
/// id-ecPublicKey.
pub const ID_EC_PUBLIC_KEY: Oid = const_oid::db::rfc5912::ID_EC_PUBLIC_KEY;
/// secp256r1 (P-256).
pub const SECP256R1: Oid = const_oid::db::rfc5912::SECP_256_R_1;
/// secp384r1 (P-384).
pub const SECP384R1: Oid = const_oid::db::rfc5912::SECP_384_R_1;
/// dhSinglePass-stdDH-sha1kdf-scheme (OpenSSL's default).
pub const ECDH_SHA1_KDF: Oid = const_oid::db::rfc5753::DH_SINGLE_PASS_STD_DH_SHA_1_KDF_SCHEME;
/// dhSinglePass-stdDH-sha224kdf-scheme.
pub const ECDH_SHA224_KDF: Oid = const_oid::db::rfc5753::DH_SINGLE_PASS_STD_DH_SHA_224_KDF_SCHEME;
/// dhSinglePass-stdDH-sha256kdf-scheme.
pub const ECDH_SHA256_KDF: Oid = const_oid::db::rfc5753::DH_SINGLE_PASS_STD_DH_SHA_256_KDF_SCHEME;
/// dhSinglePass-stdDH-sha384kdf-scheme.
pub const ECDH_SHA384_KDF: Oid = const_oid::db::rfc5753::DH_SINGLE_PASS_STD_DH_SHA_384_KDF_SCHEME;
/// dhSinglePass-stdDH-sha512kdf-scheme.
pub const ECDH_SHA512_KDF: Oid = const_oid::db::rfc5753::DH_SINGLE_PASS_STD_DH_SHA_512_KDF_SCHEME;
/// id-aes128-wrap.
pub const ID_AES_128_WRAP: Oid = const_oid::db::rfc5911::ID_AES_128_WRAP;
/// id-aes192-wrap.
pub const ID_AES_192_WRAP: Oid = const_oid::db::rfc5911::ID_AES_192_WRAP;
/// id-aes256-wrap.
pub const ID_AES_256_WRAP: Oid = const_oid::db::rfc5911::ID_AES_256_WRAP;
/// id-alg-CMS3DESwrap (RFC 3217; OpenSSL wraps 3DES content keys with it).
pub const ID_ALG_CMS3DES_WRAP: Oid = const_oid::db::rfc5911::ID_ALG_CMS_3_DE_SWRAP;
// --- Signatures (sign.rs, verify.rs, validate.rs) -------------------------------------

/// sha1WithRSAEncryption (RFC 3370 §3.2).
pub const SHA1_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.5");
/// sha256WithRSAEncryption (RFC 5754 §3.2).
pub const SHA256_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.11");
/// sha384WithRSAEncryption (RFC 5754 §3.2).
pub const SHA384_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.12");
/// sha512WithRSAEncryption (RFC 5754 §3.2).
pub const SHA512_WITH_RSA: Oid = Oid::new_unwrap("1.2.840.113549.1.1.13");
/// id-RSASSA-PSS (RFC 4055 §3.1, for CMS RFC 4056).
pub const ID_RSASSA_PSS: Oid = Oid::new_unwrap("1.2.840.113549.1.1.10");
/// ecdsa-with-SHA1 (RFC 3279 §2.2.3).
pub const ECDSA_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.10045.4.1");
/// ecdsa-with-SHA256 (RFC 5758 §3.2, for CMS RFC 5753 §2.1.1).
pub const ECDSA_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.10045.4.3.2");
/// ecdsa-with-SHA384 (RFC 5758 §3.2).
pub const ECDSA_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.10045.4.3.3");
/// ecdsa-with-SHA512 (RFC 5758 §3.2).
pub const ECDSA_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.10045.4.3.4");
/// id-Ed25519 (RFC 8410 §3, for CMS RFC 8419).
pub const ID_ED25519: Oid = Oid::new_unwrap("1.3.101.112");
/// id-contentType signed attribute (RFC 5652 §11.1).
pub const ID_CONTENT_TYPE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.3");
/// id-messageDigest signed attribute (RFC 5652 §11.2).
pub const ID_MESSAGE_DIGEST: Oid = Oid::new_unwrap("1.2.840.113549.1.9.4");
/// id-signingTime signed attribute (RFC 5652 §11.3).
pub const ID_SIGNING_TIME: Oid = Oid::new_unwrap("1.2.840.113549.1.9.5");
/// smimeCapabilities signed attribute (RFC 8551 §2.5.2).
pub const ID_SMIME_CAPABILITIES: Oid = Oid::new_unwrap("1.2.840.113549.1.9.15");
/// id-kp-emailProtection (RFC 5280 §4.2.1.12).
pub const ID_KP_EMAIL_PROTECTION: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.3.4");
/// id-on-SmtpUTF8Mailbox otherName (RFC 8398 §3).
pub const ID_ON_SMTP_UTF8_MAILBOX: Oid = Oid::new_unwrap("1.3.6.1.5.5.7.8.9");
/// PKCS#9 emailAddress in a subject name (RFC 2985 §5.2.1; legacy, RFC 8550 §3).
pub const PKCS9_EMAIL_ADDRESS: Oid = Oid::new_unwrap("1.2.840.113549.1.9.1");

/// A message digest the signature code computes (RFC 5754, RFC 3370 §2.1 for SHA-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestKind {
    /// SHA-1: verification only, and only when explicitly allowed.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl DigestKind {
    /// The digest for a digestAlgorithm / hashAlgorithm OID, if it is one we compute.
    pub fn from_oid(oid: &Oid) -> Option<Self> {
        match *oid {
            ID_SHA1 => Some(Self::Sha1),
            ID_SHA256 => Some(Self::Sha256),
            ID_SHA384 => Some(Self::Sha384),
            ID_SHA512 => Some(Self::Sha512),
            _ => None,
        }
    }

    /// Its OID.
    pub fn oid(self) -> Oid {
        match self {
            Self::Sha1 => ID_SHA1,
            Self::Sha256 => ID_SHA256,
            Self::Sha384 => ID_SHA384,
            Self::Sha512 => ID_SHA512,
        }
    }

    /// Its display name ("SHA-256").
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "SHA-1",
            Self::Sha256 => "SHA-256",
            Self::Sha384 => "SHA-384",
            Self::Sha512 => "SHA-512",
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        use sha2::Digest;
        match self {
            Self::Sha1 => sha1::Sha1::digest(data).to_vec(),
            Self::Sha256 => sha2::Sha256::digest(data).to_vec(),
            Self::Sha384 => sha2::Sha384::digest(data).to_vec(),
            Self::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }
}
