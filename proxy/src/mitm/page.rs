//! Rewriting one intercepted HTML response: decode the content coding, collect, rewrite
//! in the page's charset, fix the framing headers. Anything that cannot be rewritten
//! safely passes through unchanged.

use http_body_util::{BodyExt as _, Limited};
use hudsucker::Body;
use hudsucker::hyper::header::{self, HeaderMap, HeaderValue};
use hudsucker::hyper::{Response, StatusCode};

use super::error_page::bad_gateway;
use crate::rewrite::{ControlsState, PageCharset, controls, insert, is_html, select_options};
use crate::rules::Rule;

/// Largest HTML page the proxy rewrites (a whole inbox page is a few MB).
const MAX_PAGE: usize = 64 * 1024 * 1024;

/// Content codings the proxy can decode before rewriting.
const DECODABLE: &[&str] = &["gzip", "x-gzip", "deflate", "br", "zstd", "identity"];

/// Whether `res` is an HTML page this rule should rewrite.
pub(crate) fn wants_rewrite(res: &Response<Body>) -> bool {
    let status = res.status();
    let html = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(is_html);
    html && status != StatusCode::NO_CONTENT && status != StatusCode::NOT_MODIFIED && !status.is_informational()
}

/// Rewrites `res` (a compose page, already known to be HTML): `rule`'s controls in
/// `state`. Also returns the page's sender options (`rule.fields.from_options`), when
/// it could be read. `host` and `path_len` are for the log line only.
pub(crate) async fn rewrite(
    res: Response<Body>,
    rule: &Rule,
    state: &ControlsState,
    host: &str,
    path_len: usize,
) -> (Response<Body>, Vec<(String, String)>) {
    let content_type = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let charset = PageCharset::from_content_type(content_type);
    if matches!(charset, PageCharset::Unsupported) {
        tracing::info!(host, path_len, "page charset not rewritable, passed through");
        return (res, Vec::new());
    }
    if !decodable(res.headers()) {
        tracing::info!(host, path_len, "unknown content coding, passed through");
        return (res, Vec::new());
    }
    let res = match hudsucker::decode_response(res) {
        Ok(res) => res,
        Err(error) => {
            tracing::warn!(host, %error, "cannot decode page");
            return (bad_gateway(host, "the page's content coding could not be decoded"), Vec::new());
        }
    };
    let (mut parts, body) = res.into_parts();
    let page = match Limited::new(body, MAX_PAGE).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) => {
            tracing::warn!(host, %error, "cannot read page");
            return (bad_gateway(host, "the page could not be read completely (too large or cut off)"), Vec::new());
        }
    };
    let senders = rule.fields.from_options.as_deref().map(|s| select_options(&page, charset, s)).unwrap_or_default();
    let inserts = controls(rule, state);
    let out = match insert(&page, charset, &inserts) {
        Ok((out, placed)) => {
            if placed < inserts.len() {
                tracing::warn!(host, rule = rule.name, placed, "not every control found its place in the compose page");
            }
            out
        }
        Err(error) => {
            tracing::warn!(host, path_len, %error, "rewriting failed, page passed through");
            page.to_vec()
        }
    };
    tracing::info!(
        host,
        path_len,
        rule = rule.name,
        bytes_in = page.len(),
        bytes_out = out.len(),
        "rewrote compose page"
    );
    parts.headers.remove(header::TRANSFER_ENCODING);
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(out.len()));
    (Response::from_parts(parts, Body::from(out)), senders)
}

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
