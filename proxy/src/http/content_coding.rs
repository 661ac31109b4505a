//! Which content codings the proxy can remove from a response before reading its body.

use hudsucker::Body;
use hudsucker::hyper::Response;
use hudsucker::hyper::header::{self, HeaderMap};

/// Content codings the proxy can decode (`hudsucker::decode_response`).
const DECODABLE: &[&str] = &["gzip", "x-gzip", "deflate", "br", "zstd", "identity"];

/// `res` (from `host`) with its content coding removed. `Err` is what to pass on instead:
/// `res` as it came when it names a coding the proxy does not decode, or a 502 page when
/// its body does not decode.
#[allow(clippy::result_large_err, reason = "both sides are a response, moved once per page")]
pub(crate) fn decoded(res: Response<Body>, host: &str) -> Result<Response<Body>, Response<Body>> {
    if !decodable(res.headers()) {
        tracing::info!(host, "unknown content coding, passed through");
        return Err(res);
    }
    hudsucker::decode_response(res).map_err(|error| {
        tracing::warn!(host, %error, "cannot decode a page");
        super::bad_gateway(host, "the page's content coding could not be decoded")
    })
}

/// Whether every content coding `headers` name is one the proxy can decode.
fn decodable(headers: &HeaderMap) -> bool {
    headers.get_all(header::CONTENT_ENCODING).iter().all(|value| {
        value.to_str().is_ok_and(|codings| {
            codings
                .split(',')
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .all(|c| DECODABLE.iter().any(|d| d.eq_ignore_ascii_case(c)))
        })
    })
}
