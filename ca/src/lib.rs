//! The local interception CA of smime-proxy.
//!
//! What it does: creates a root CA (ECDSA P-256) and persists it as a public certificate
//! and a private key **sealed under the store passphrase** ([`CaFiles`]: Argon2id +
//! AES-256-GCM through `smime_crypto::seal`, the sealing of the S/MIME keys); exports the
//! certificate (PEM, DER, or the base64 SHA-256 of its SubjectPublicKeyInfo that
//! Chromium's `--ignore-certificate-errors-spki-list` takes); mints, from the unsealed
//! root, a short-lived **name-constrained intermediate** ([`Intermediate`]) held in memory
//! only; and mints leaf certificates from that intermediate for the hosts the proxy
//! intercepts ([`LeafAuthority`], which implements hudsucker's `CertificateAuthority`).
//! Leaves are cached (size-bounded) and served with the chain leaf → intermediate → root.
//!
//! What it never does: networking, async runtimes, reading configuration, writing a
//! private key in clear. The proxy decides *which* hosts are intercepted; this crate only
//! mints for the names it is handed.
//!
//! # Design decision: a sealed root and a name-constrained intermediate
//!
//! Whoever holds a CA key the browser trusts can impersonate any HTTPS site to it. Two
//! copies of such a key could exist: the file in the configuration directory, and the
//! memory of the running proxy. We shrink both:
//!
//! - **At rest** the root key exists only sealed under the store passphrase (the one
//!   passphrase that also seals the S/MIME keys). A copy of the configuration directory
//!   (a backup, a synced dotfiles repository, a stolen laptop image) mints nothing without
//!   it; guessing it costs Argon2id (64 MiB, 3 passes) per try.
//! - **At run time** the root is unsealed only long enough to sign an intermediate CA,
//!   then dropped (its key lives in aws-lc memory, which is cleansed when freed). The
//!   intermediate is generated in memory, never written, valid [`INTERMEDIATE_VALIDITY`],
//!   `pathLenConstraint` 0, and carries critical name constraints (RFC 5280 §4.2.1.10)
//!   permitting only the configured sites, the hosts their rules block, and the proxy's own
//!   origin; every IP address is excluded unless a site is one. A copy of the process's
//!   memory impersonates only those names, for days, not every site for years. Our
//!   minter refuses other names, and so does every verifier for a leaf minted by hand.
//! - The **root** stays unconstrained (`pathLenConstraint` 1): adding a webmail site mints
//!   a new intermediate at the next start, never a new root, so the user never re-trusts.
//!
//! The price: the passphrase is needed to intercept at all. A proxy started without it
//! (no terminal, no `--store-passphrase-file`) runs sealed: its own pages work over plain
//! HTTP, where the user unlocks, and configured sites are refused, never tunnelled, until
//! then. Roots made before sealing (a clear `ca-key.pem`, `pathLenConstraint` 0) are sealed
//! at the first unlock, the clear file overwritten and removed, and the certificate
//! re-issued with the same key and subject (so the same SPKI hash).
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test"))]

mod authority;
mod cache;
mod error;
mod intermediate;
mod key;
mod leaf;
mod root;
mod serial;
mod store;

pub use authority::LeafAuthority;
pub use error::Error;
pub use intermediate::{INTERMEDIATE_VALIDITY, Intermediate};
pub use leaf::{LeafProfile, is_dns_name};
pub use root::{LocalCa, RootCertificate};
pub use store::{CaFiles, CaState, Migration, Unsealed};
