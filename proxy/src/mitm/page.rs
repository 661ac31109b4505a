//! Rewriting one intercepted HTML response: decode the content coding, collect, rewrite
//! in the page's charset (compose controls, or the read flow for a view), fix the
//! framing headers. Anything that cannot be rewritten safely passes through unchanged.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hudsucker::Body;
use hudsucker::hyper::header::{self, HeaderValue};
use hudsucker::hyper::{Response, StatusCode};

use crate::flows::Services;
use crate::flows::read::{ReadFlow, ViewRequest};
use crate::http::{bad_gateway, decoded, gateway_timeout};
use crate::rewrite::{ControlsState, PageCharset, controls, insert_reading, is_html};
use crate::rules::Rule;

/// Largest HTML page the proxy rewrites (a whole inbox page is a few MB).
const MAX_PAGE: usize = 64 * 1024 * 1024;

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

/// Rewrites `res` (a compose page, already known to be HTML, read within `limit`):
/// `rule`'s controls in `state`. `host` and `path_len` are for the log line only.
pub(crate) async fn rewrite(
    res: Response<Body>,
    rule: &Rule,
    state: &ControlsState,
    limit: Duration,
    host: &str,
    path_len: usize,
) -> (Response<Body>, Vec<(String, String)>) {
    let page = match collect(res, host, path_len, limit).await {
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
    let page = match collect(res, host, path_len, services.upstream.timeout()).await {
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

/// Hands `res` (an HTML page of a site with encrypted fields, at `origin`) to the fields
/// flow.
pub(crate) async fn rewrite_fields(
    res: Response<Body>,
    read: &ReadFlow,
    services: &Arc<Services>,
    rule: &Rule,
    origin: &str,
    host: &str,
) -> Response<Body> {
    let page = match collect(res, host, 0, services.upstream.timeout()).await {
        Ok(page) => page,
        Err(res) => return res,
    };
    match crate::flows::fields::page(services, read, rule, origin, &page.bytes, page.charset).await {
        Some(out) => page.with_body(out),
        None => {
            let bytes = page.bytes.clone();
            page.with_body(bytes)
        }
    }
}

/// Whether `res`'s body is S/MIME (see [`crate::http::is_smime`]).
pub(crate) fn is_smime(res: &Response<Body>) -> bool {
    crate::http::is_smime(res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default())
}

/// `res` (an S/MIME body of a page at `origin`, see [`is_smime`]) replaced by the read
/// flow's page showing it opened, with its banner, in a frame of the own origin.
pub(crate) async fn smime_page(
    res: Response<Body>,
    read: &ReadFlow,
    services: &Arc<Services>,
    origin: &str,
    host: &str,
) -> Response<Body> {
    let content_type =
        res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let page = match collect(res, host, 0, services.upstream.timeout()).await {
        Ok(page) => page,
        Err(res) => return res,
    };
    let Some(html) = read.smime_page(services, origin, &content_type, page.bytes.clone()).await else {
        return bad_gateway(host, "the S/MIME page could not be opened");
    };
    let mut out = crate::http::html_response(StatusCode::OK, html);
    let csp =
        format!("default-src 'none'; frame-src https://{}; base-uri 'none'; form-action 'none'", read.origin_host());
    if let Ok(value) = HeaderValue::from_str(&csp) {
        out.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
    }
    out.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    out
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
async fn collect(res: Response<Body>, host: &str, path_len: usize, limit: Duration) -> Result<Page, Response<Body>> {
    let content_type = res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let charset = PageCharset::from_content_type(content_type);
    if matches!(charset, PageCharset::Unsupported) {
        tracing::info!(host, path_len, "page charset not rewritable, passed through");
        return Err(res);
    }
    let res = decoded(res, host)?;
    let (parts, body) = res.into_parts();
    match tokio::time::timeout(limit, Limited::new(body, MAX_PAGE).collect()).await {
        Ok(Ok(collected)) => Ok(Page { parts, bytes: collected.to_bytes(), charset }),
        Err(_) => {
            tracing::warn!(host, path_len, limit_s = limit.as_secs(), "page not complete in time");
            Err(gateway_timeout(host, limit))
        }
        Ok(Err(error)) => {
            tracing::warn!(host, %error, "cannot read page");
            Err(bad_gateway(host, "the page could not be read completely (too large or cut off)"))
        }
    }
}
