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
