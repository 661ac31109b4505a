//! Which content codings the proxy can remove from a response before reading its body.

use hudsucker::hyper::header::{self, HeaderMap};

/// Content codings the proxy can decode (`hudsucker::decode_response`).
const DECODABLE: &[&str] = &["gzip", "x-gzip", "deflate", "br", "zstd", "identity"];

/// Whether every content coding `headers` name is one the proxy can decode.
pub(crate) fn decodable(headers: &HeaderMap) -> bool {
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
