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
