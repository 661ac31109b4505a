//! The local interception CA of smime-proxy.
//!
//! What it does: creates a CA (ECDSA P-256), persists it as two PEM files (the key readable
//! by the owner only), loads it back, exports it (PEM, DER, or the base64 SHA-256 of its
//! SubjectPublicKeyInfo that Chromium's `--ignore-certificate-errors-spki-list` takes), and
//! mints leaf certificates for the hosts the proxy intercepts ([`LeafAuthority`], which
//! implements hudsucker's `CertificateAuthority`). Leaves are cached (size-bounded) and
//! served with the CA certificate in the chain: Chromium needs it there to apply SPKI-list
//! trust.
//!
//! What it never does: networking, async runtimes, reading configuration. The proxy decides
//! *which* hosts are intercepted; this crate only mints for the names it is handed.
//!
//! # Design decision: no name constraints
//!
//! A name-constrained CA (RFC 5280 §4.2.1.10) would limit the damage of a stolen CA key to
//! the listed webmail hosts. We do not constrain: the user adds webmail hosts to the
//! configuration over time, and every addition would mean re-creating the CA and
//! re-trusting it in every browser and OS store, which trains users to click through trust
//! dialogs. Instead the CA key is per installation, generated locally, never leaves the
//! configuration directory (file mode 0600, directory 0700), the CA has
//! `pathLenConstraint = 0` (it cannot create sub-CAs), and leaves are short-lived (30 days).
//! [`LocalCa::generate`] documents this next to the code.
#![warn(missing_docs)]
#![cfg_attr(test, allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test"))]

mod authority;
mod cache;
mod error;
mod leaf;
mod root;
mod serial;
mod store;

pub use authority::LeafAuthority;
pub use error::Error;
pub use leaf::LeafProfile;
pub use root::LocalCa;
pub use store::{CaFiles, LoadOrCreate};
