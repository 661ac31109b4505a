//! PKCS#12 (RFC 7292) reading: the user's `.p12` as exported by OpenSSL 3 (PBES2 with
//! PBKDF2 + AES-CBC, HMAC-SHA-256 MAC), OpenSSL `-legacy` (RC2-40 / 3DES with the
//! PKCS#12 KDF, HMAC-SHA-1 MAC), NSS and Windows. The result is an [`crate::Identity`]
//! that `sign` and `decrypt` take; nothing is written back.
//!
//! ```text
//! read.rs    PFX → MacData check → AuthenticatedSafe → SafeContents → bags → Identity
//!   ├─ mac.rs     HMAC-SHA-1/224/256/384/512 keyed by the PKCS#12 KDF (ID 3)
//!   ├─ pbe.rs     PBES2 (PBKDF2 + AES/3DES-CBC) and pbeWithSHAAnd{3,2}-KeyTripleDES / {128,40}BitRC2
//!   ├─ kdf.rs     RFC 7292 Appendix B: BMPString password, the PKCS#12 KDF
//!   └─ budget.rs  iteration limits
//! asn1.rs    the ASN.1 types;  oids.rs  their object identifiers
//! ```
//!
//! # Decisions
//!
//! * **Our own reader, not `p12-keystore`**: its `pkcs12` dependency pins a `cms`
//!   pre-release that conflicts with ours (research/crates.md §1, §7). PBES2 is done here
//!   too rather than by `pkcs5`, whose 0.8 does not wipe its derived keys and needs
//!   features for SHA-1 PRFs and 3DES.
//! * **The MAC is checked before anything is decrypted**, in constant time; a mismatch is
//!   [`crate::Error::WrongPassphrase`]. So is a padding failure after a good MAC.
//! * **Files without a MAC** (`openssl pkcs12 -nomac`) are accepted, as OpenSSL and NSS
//!   accept them. The passphrase is then checked by decryption (padding, then the DER of
//!   the plaintext: a failure is `WrongPassphrase`), the key must match its certificate
//!   ([`crate::Identity::new`]), and the chain certificates are only ever hints for path
//!   building against the user's trust anchors, so an unauthenticated file cannot make us
//!   trust anything new.
//! * **Keys pair with certificates by public key**, not by `localKeyId`: the first key
//!   with a matching certificate wins; all other certificates are the chain.
//! * **Bounded**: each derivation at most 10,000,000 iterations and 30,000,000 per file;
//!   at most 1024 bags, 64 ContentInfos, safeContentsBags nested 2 deep.
//! * **BER** (NSS writes indefinite lengths at every level, inside OCTET STRINGs too): each
//!   nested blob is passed through [`crate::ber::to_der`] before it is decoded; the MAC is
//!   computed over the original octets, as the writer computed it.
//! * **Not supported** (reported as [`crate::Error::Unsupported`]): public-key privacy and
//!   integrity modes (EnvelopedData / SignedData authSafe), RC4, PBES1, PBMAC1 (RFC 9579),
//!   PBES2 with scrypt.

mod asn1;
mod budget;
mod kdf;
mod mac;
mod oids;
mod pbe;
mod read;

pub use read::read_identity;
