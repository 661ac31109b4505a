//! The `smime-proxy` library: configuration, the MITM core, rules, rewriting and the
//! proxy's own pages. The binary (`main.rs`) is the command line on top of it; tests start
//! the proxy in-process through [`start`].
//!
//! ```text
//!  browser ──CONNECT host:port──▶ mitm::handler ──▶ should_intercept_connect
//!                                      │              ├─ configured site / own origin → MITM
//!                                      │              │    (leaf from smime_ca::LeafAuthority,
//!                                      │              │     chain = leaf + run intermediate +
//!                                      │              │     local CA; sealed CA → 503, no tunnel)
//!                                      │              └─ anything else → blind TCP tunnel
//!  request ─▶ handle_request ─┬─ own origin → origin::OwnOrigin::serve (never forwarded)
//!                             ├─ site request → rules::match_request (compose page / view /
//!                             │   list / compose request)
//!                             │   └─ compose request → body read → rules::classify (kind,
//!                             │       fields, S/MIME toggles; `_smime_*` fields stripped)
//!                             │       → flows::Flow (forward, or answer the browser)
//!                             └─ otherwise → upstream (TLS verified: webpki + system roots
//!                                 + --upstream-ca) ─▶ handle_response
//!                                     ├─ compose page HTML → mitm::page → rewrite::controls
//!                                     │   + rewrite::insert (the rule's selectors, lol_html)
//!                                     ├─ view page HTML → flows::read (raw message fetched
//!                                     │   with the browser's session, decrypted + verified,
//!                                     │   stored as a single-use view; the page gets an
//!                                     │   iframe to origin /view/<id>)
//!                                     └─ everything else unchanged
//!                                 or ─▶ handle_error → 502 page naming host and reason
//! ```
//!
//! Keys and certificates ([`store`]): the key store (sealed at rest), the [`store::KeyRing`]
//! of keys unlocked for a run (locked again when idle, on demand, at shutdown), and the
//! recipient certificate store. [`cleanup`] says what is wiped and when.
#![cfg_attr(test, allow(clippy::unwrap_used, reason = "a failing unwrap is a failing test"))]

pub mod adapters;
pub mod cleanup;
pub mod config;
mod directory;
mod error;
pub mod fixtures;
pub mod flows;
mod form;
#[doc(hidden)]
pub mod fuzzing;
mod http;
mod lookup;
mod markup;
mod mitm;
mod origin;
mod pki;
pub mod private_file;
mod random;
mod records;
pub mod rewrite;
pub mod roam;
pub mod rules;
pub mod run_lock;
mod smtp;
pub mod store;
pub mod timestamp;
pub mod trust_stores;

pub use config::{Config, Overrides};
pub use error::Error;
pub use http::client_config;
pub use lookup::{Fetched, check_stored, fetch_certificate};
pub use mitm::{RunningProxy, start, start_with_keys};
