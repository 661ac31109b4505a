//! Object identifiers of PKCS#12 (RFC 7292) and of the password-based algorithms it uses.
//! The CMS content types come from `crate::algorithms`.

use const_oid::ObjectIdentifier as Oid;

/// pkcs-7 1.2.840.113549.1.7.6, `encryptedData` (RFC 2315 §13).
pub(super) const ID_ENCRYPTED_DATA: Oid = Oid::new_unwrap("1.2.840.113549.1.7.6");

/// RFC 7292 Appendix D, `bagtypes`.
pub(super) const KEY_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.1");
pub(super) const PKCS8_SHROUDED_KEY_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.2");
pub(super) const CERT_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.3");
pub(super) const SAFE_CONTENTS_BAG: Oid = Oid::new_unwrap("1.2.840.113549.1.12.10.1.6");
/// RFC 7292 §4.2.3, `certTypes` `x509Certificate`.
pub(super) const X509_CERTIFICATE: Oid = Oid::new_unwrap("1.2.840.113549.1.9.22.1");

/// RFC 7292 Appendix C, `pkcs-12PbeIds`.
pub(super) const PBE_SHA1_RC4_128: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.1");
pub(super) const PBE_SHA1_RC4_40: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.2");
pub(super) const PBE_SHA1_3DES_3KEY: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.3");
pub(super) const PBE_SHA1_3DES_2KEY: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.4");
pub(super) const PBE_SHA1_RC2_128: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.5");
pub(super) const PBE_SHA1_RC2_40: Oid = Oid::new_unwrap("1.2.840.113549.1.12.1.6");

/// RFC 8018 Appendix A and B.
pub(super) const ID_PBKDF2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.12");
pub(super) const ID_PBES2: Oid = Oid::new_unwrap("1.2.840.113549.1.5.13");
pub(super) const ID_PBMAC1: Oid = Oid::new_unwrap("1.2.840.113549.1.5.14");
pub(super) const HMAC_WITH_SHA1: Oid = Oid::new_unwrap("1.2.840.113549.2.7");
pub(super) const HMAC_WITH_SHA224: Oid = Oid::new_unwrap("1.2.840.113549.2.8");
pub(super) const HMAC_WITH_SHA256: Oid = Oid::new_unwrap("1.2.840.113549.2.9");
pub(super) const HMAC_WITH_SHA384: Oid = Oid::new_unwrap("1.2.840.113549.2.10");
pub(super) const HMAC_WITH_SHA512: Oid = Oid::new_unwrap("1.2.840.113549.2.11");
pub(super) const DES_EDE3_CBC: Oid = Oid::new_unwrap("1.2.840.113549.3.7");
pub(super) const AES128_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.2");
pub(super) const AES192_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.22");
pub(super) const AES256_CBC: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.1.42");

/// Digest algorithms of `MacData` (RFC 3370 §2.1, RFC 5754 §2).
pub(super) const ID_SHA1: Oid = Oid::new_unwrap("1.3.14.3.2.26");
pub(super) const ID_SHA224: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.4");
pub(super) const ID_SHA256: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.1");
pub(super) const ID_SHA384: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.2");
pub(super) const ID_SHA512: Oid = Oid::new_unwrap("2.16.840.1.101.3.4.2.3");
