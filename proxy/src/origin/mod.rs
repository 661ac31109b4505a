//! The proxy's own origin (`smime-proxy.invalid` by default): pages the proxy answers
//! itself, over HTTP and HTTPS, never forwarded. Home page (CA download, how to trust it,
//! how to set the proxy, status, key store unlock/lock), `/ca.pem`, `/ca.der`,
//! `/proxy.pac`, and the state-changing endpoints `POST /api/rewriting`, `/api/unlock`,
//! `/api/lock`, `/api/keys/import`, `/api/certs/add` and `/api/pages/sign` (a signed
//! record of a site's page; each token + same-origin checked, never CORS), and the read
//! flow's
//! single-use message frames under `/view/`, and `/probe.gif` (what the listen address's
//! setup page, `direct.rs`, loads to tell whether the browser goes through the proxy).

mod direct;
mod guard;
mod import;
mod keys;
mod pac;
mod pages;
mod records;
mod roam;
mod router;
mod site;
mod view;

pub use roam::Roaming;
pub use site::{OwnOrigin, RuntimeSettings};

/// The checks of a request to the own origin that a page of another origin can shape
/// (for [`crate::fuzzing`]): same origin, frame of a webmail page, token, form fields.
pub(crate) fn fuzz_request(headers: &hudsucker::hyper::header::HeaderMap, body: &[u8]) {
    let _ = guard::check_same_origin(headers, "smime-proxy.invalid");
    let _ = view::from_frame_of(headers, "https://mail.example:8443");
    if let Some(token) = std::str::from_utf8(body).ok().and_then(|form| guard::form_field(form, "token")) {
        let _ = guard::token_matches(&"0".repeat(64), token);
        let _ = crate::flows::read::ViewId::parse(token);
    }
    if let Some(value) = keys::form_value(body, b"passphrase") {
        assert!(value.len() <= body.len(), "a decoded value is never longer than the form");
    }
}
