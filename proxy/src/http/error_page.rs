//! The page the browser gets when the proxy cannot fetch from the upstream: it names the
//! host and the reason, and never carries upstream content.

use std::error::Error as StdError;

use hudsucker::Body;
use hudsucker::hyper::{Response, StatusCode};

use super::response::html_response;
use crate::markup::escape;

/// `502 Bad Gateway` for `host`, explaining `reason`.
pub(crate) fn bad_gateway(host: &str, reason: &str) -> Response<Body> {
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>smime-proxy: cannot reach {host}</title></head>\n\
         <body><h1>smime-proxy could not load this page from {host}</h1>\n\
         <p>Reason: <code>{reason}</code></p>\n\
         <p>If the server's certificate is not trusted, smime-proxy refuses to talk to it, \
         because anyone on the network could be pretending to be {host}. If this is a private \
         server with its own CA, add that CA with <code>--upstream-ca</code> or \
         <code>upstream_ca</code> in config.toml.</p></body></html>\n",
        host = escape(host),
        reason = escape(reason),
    );
    html_response(StatusCode::BAD_GATEWAY, page)
}

/// The most specific message in an error chain (e.g. `invalid peer certificate:
/// UnknownIssuer` rather than `client error (Connect)`).
pub(crate) fn root_cause(error: &(dyn StdError + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
