//! Rewriting one intercepted HTML response: decode the content coding, collect, rewrite
//! in the page's charset (compose controls, or the read flow for a view), fix the
//! framing headers. Anything that cannot be rewritten safely passes through unchanged.

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hudsucker::Body;
use hudsucker::hyper::header::{self, HeaderMap, HeaderValue};
use hudsucker::hyper::{Response, StatusCode};

use crate::http::bad_gateway;
use std::sync::Arc;

use crate::flows::Services;
use crate::flows::read::{ReadFlow, ViewRequest};
use crate::rewrite::{ControlsState, PageCharset, controls, insert_reading, is_html};
use crate::rules::Rule;

/// Largest HTML page the proxy rewrites (a whole inbox page is a few MB).
const MAX_PAGE: usize = 64 * 1024 * 1024;

/// Content codings the proxy can decode before rewriting.
const DECODABLE: &[&str] = &["gzip", "x-gzip", "deflate", "br", "zstd", "identity"];

/// Whether `res` should be rewritten: an HTML page, or any answer of a JSON view (whose
/// body is checked when read: JSON apps label their JSON in many ways).
pub(crate) fn wants_rewrite(res: &Response<Body>, json_view: bool) -> bool {
    let status = res.status();
    let html = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(is_html);
    (html || json_view)
        && status != StatusCode::NO_CONTENT
        && status != StatusCode::NOT_MODIFIED
        && !status.is_informational()
}

/// Rewrites `res` (a compose page, already known to be HTML): `rule`'s controls in
/// `state`. `host` and `path_len` are for the log line only.
pub(crate) async fn rewrite(
    res: Response<Body>,
    rule: &Rule,
    state: &ControlsState,
    host: &str,
    path_len: usize,
) -> (Response<Body>, Vec<(String, String)>) {
    let page = match collect(res, host, path_len).await {
        Ok(page) => page,
        Err(res) => return (res, Vec::new()),
    };
    let inserts = controls(rule, state);
    let (out, senders) = match insert_reading(&page.bytes, page.charset, &inserts, rule.fields.from_options.as_deref())
    {
        Ok(rewritten) => {
            if rewritten.placed < inserts.len() {
                let placed = rewritten.placed;
                tracing::warn!(host, rule = rule.name, placed, "not every control found its place in the compose page");
            }
            (rewritten.page, rewritten.options)
        }
        Err(error) => {
            tracing::warn!(host, path_len, %error, "rewriting failed, page passed through");
            (page.bytes.to_vec(), Vec::new())
        }
    };
    tracing::info!(
        host,
        path_len,
        rule = rule.name,
        bytes_in = page.bytes.len(),
        bytes_out = out.len(),
        "rewrote compose page"
    );
    (page.with_body(out), senders)
}

/// Hands `res` (a message view page, already known to be HTML) to the read flow.
pub(crate) async fn rewrite_view(
    res: Response<Body>,
    flow: &ReadFlow,
    services: &Arc<Services>,
    request: &ViewRequest,
    host: &str,
    path_len: usize,
) -> Response<Body> {
    let page = match collect(res, host, path_len).await {
        Ok(page) => page,
        Err(res) => return res,
    };
    match flow.view_page(services, request, &page.bytes, page.charset).await {
        Some(out) => {
            tracing::info!(host, path_len, bytes_in = page.bytes.len(), bytes_out = out.len(), "rewrote view page");
            page.with_body(out)
        }
        None => {
            let bytes = page.bytes.clone();
            page.with_body(bytes)
        }
    }
}

/// A page read completely and decoded, ready to be rewritten.
struct Page {
    parts: hudsucker::hyper::http::response::Parts,
    bytes: Bytes,
    charset: PageCharset,
}

impl Page {
    /// The response with `body` as its (identity-coded) body.
    fn with_body(self, body: impl Into<Bytes>) -> Response<Body> {
        let body = body.into();
        let mut parts = self.parts;
        parts.headers.remove(header::TRANSFER_ENCODING);
        parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
        Response::from_parts(parts, Body::from(Full::new(body)))
    }
}

/// Decodes and collects `res`; `Err` is the response to send instead: `res` unchanged
/// when it cannot be rewritten safely, or an error page when it could not be read.
async fn collect(res: Response<Body>, host: &str, path_len: usize) -> Result<Page, Response<Body>> {
    let content_type = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let charset = PageCharset::from_content_type(content_type);
    if matches!(charset, PageCharset::Unsupported) {
        tracing::info!(host, path_len, "page charset not rewritable, passed through");
        return Err(res);
    }
    if !decodable(res.headers()) {
        tracing::info!(host, path_len, "unknown content coding, passed through");
        return Err(res);
    }
    let res = match hudsucker::decode_response(res) {
        Ok(res) => res,
        Err(error) => {
            tracing::warn!(host, %error, "cannot decode page");
            return Err(bad_gateway(host, "the page's content coding could not be decoded"));
        }
    };
    let (parts, body) = res.into_parts();
    match Limited::new(body, MAX_PAGE).collect().await {
        Ok(collected) => Ok(Page { parts, bytes: collected.to_bytes(), charset }),
        Err(error) => {
            tracing::warn!(host, %error, "cannot read page");
            Err(bad_gateway(host, "the page could not be read completely (too large or cut off)"))
        }
    }
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
