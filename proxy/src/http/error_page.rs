//! The page the browser gets when the proxy cannot fetch from the upstream: it names the
//! host and the reason, and never carries upstream content.

use std::error::Error as StdError;
use std::time::Duration;

use hudsucker::Body;
use hudsucker::hyper::{Response, StatusCode};

use super::response::html_response;
use crate::markup::escape;

/// `502 Bad Gateway` for `host`, explaining `reason`.
pub(crate) fn bad_gateway(host: &str, reason: &str) -> Response<Body> {
    error_page(
        StatusCode::BAD_GATEWAY,
        host,
        reason,
        "If the server's certificate is not trusted, smime-proxy refuses to talk to it, because anyone on \
         the network could be pretending to be {host}. If this is a private server with its own CA, add that \
         CA with <code>--upstream-ca</code> or <code>upstream_ca</code> in config.toml.",
    )
}

/// `504 Gateway Timeout` for `host`: its response was not complete within `limit`.
pub(crate) fn gateway_timeout(host: &str, limit: Duration) -> Response<Body> {
    error_page(
        StatusCode::GATEWAY_TIMEOUT,
        host,
        &format!("the page was not complete within {} s", limit.as_secs()),
        "smime-proxy reads this page whole before showing it, and {host} sent it too slowly or stopped \
         sending. Reload to try again; a slow server needs a longer <code>upstream_timeout</code> in \
         config.toml.",
    )
}

/// The page for `status`: `host`, `reason`, and `advice` (HTML, `{host}` filled in).
fn error_page(status: StatusCode, host: &str, reason: &str, advice: &str) -> Response<Body> {
    let host = escape(host);
    let page = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>smime-proxy: cannot reach {host}</title></head>\n\
         <body><h1>smime-proxy could not load this page from {host}</h1>\n\
         <p>Reason: <code>{reason}</code></p>\n<p>{advice}</p></body></html>\n",
        reason = escape(reason),
        advice = advice.replace("{host}", &host),
    );
    html_response(status, page)
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
