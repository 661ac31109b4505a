//! The proxy's own origin (`smime-proxy.invalid` by default): pages the proxy answers
//! itself, over HTTP and HTTPS, never forwarded. Home page (CA download, how to trust it,
//! how to set the proxy, status, key store unlock/lock), `/ca.pem`, `/ca.der`,
//! `/proxy.pac`, and the state-changing endpoints `POST /api/rewriting`, `/api/unlock`,
//! `/api/lock`, `/api/keys/import` and `/api/certs/add` (each token + same-origin checked,
//! never CORS), and the read flow's
//! single-use message frames under `/view/`, and `/probe.gif` (what the listen address's
//! setup page, `direct.rs`, loads to tell whether the browser goes through the proxy).

mod direct;
mod guard;
mod import;
mod keys;
mod pac;
mod pages;
mod router;
mod site;
mod view;

pub use site::{OwnOrigin, RuntimeSettings};
