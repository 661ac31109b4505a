//! The proxy's own origin (`smime-proxy.invalid` by default): pages the proxy answers
//! itself, over HTTP and HTTPS, never forwarded. Home page (CA download, how to trust it,
//! how to set the proxy, status), `/ca.pem`, `/ca.der`, `/proxy.pac`, and the one
//! state-changing endpoint so far, `POST /api/rewriting` (token + same-origin checked).

mod guard;
mod pac;
mod pages;
mod respond;
mod router;
mod site;

pub use respond::html_response;
pub use site::{OwnOrigin, RuntimeSettings};
