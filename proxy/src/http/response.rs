//! Responses of the proxy's own making, all with the same security headers.

use hudsucker::Body;
use hudsucker::hyper::header::{self, HeaderMap, HeaderValue};
use hudsucker::hyper::{Response, StatusCode};

/// Content-Security-Policy of every own page: nothing but our own stylesheet and forms
/// posting to ourselves; no scripts, no frames, no framing.
const CSP: &str = "default-src 'none'; style-src 'self'; img-src 'none'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

/// Sets the security headers of own pages: CSP, no framing, no sniffing, no caching,
/// same-origin referrers. No CORS header is ever set.
fn secure_headers(headers: &mut HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    headers.insert("cross-origin-resource-policy", HeaderValue::from_static("same-origin"));
}

/// A response with `status`, `content_type` and `body`, plus the security headers.
pub fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response<Body> {
    let mut response = Response::new(body.into());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    secure_headers(headers);
    response
}

/// An HTML page.
pub fn html_response(status: StatusCode, html: String) -> Response<Body> {
    respond(status, "text/html; charset=utf-8", html)
}

/// A plain-text message.
pub fn text_response(status: StatusCode, text: &'static str) -> Response<Body> {
    respond(status, "text/plain; charset=utf-8", text)
}

/// A download: `content_type` with `Content-Disposition: attachment` naming `filename`
/// (any script: see [`attachment_disposition`]).
pub fn download(content_type: &'static str, filename: &str, body: impl Into<Body>) -> Response<Body> {
    let mut response = respond(StatusCode::OK, content_type, body);
    if let Ok(value) = HeaderValue::from_str(&attachment_disposition(filename)) {
        response.headers_mut().insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// RFC 5987 attr-chars: what `filename*` may carry unencoded.
const ATTR_CHAR: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'!')
    .remove(b'#')
    .remove(b'$')
    .remove(b'&')
    .remove(b'+')
    .remove(b'-')
    .remove(b'.')
    .remove(b'^')
    .remove(b'_')
    .remove(b'`')
    .remove(b'|')
    .remove(b'~');

/// `attachment; filename="ASCII fallback"; filename*=UTF-8''…` (RFC 6266 §4.3): browsers
/// use the UTF-8 name, older clients the fallback with every non-ASCII character as `_`.
/// `filename` must already be safe as a file name (no quotes, separators or controls).
fn attachment_disposition(filename: &str) -> String {
    let fallback: String = filename
        .chars()
        .map(|c| if (c.is_ascii_graphic() && c != '"' && c != '\\') || c == ' ' { c } else { '_' })
        .collect();
    let encoded = percent_encoding::utf8_percent_encode(filename, ATTR_CHAR);
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

/// `303 See Other` to `/`.
pub fn see_home() -> Response<Body> {
    let mut response = respond(StatusCode::SEE_OTHER, "text/plain; charset=utf-8", "");
    response.headers_mut().insert(header::LOCATION, HeaderValue::from_static("/"));
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn attachment_names_in_any_script_with_an_ascii_fallback() {
        assert_eq!(
            super::attachment_disposition("Notizen-Köln-東京.txt"),
            "attachment; filename=\"Notizen-K_ln-__.txt\"; filename*=UTF-8''Notizen-K%C3%B6ln-%E6%9D%B1%E4%BA%AC.txt"
        );
        assert_eq!(
            super::attachment_disposition("a b.pem"),
            "attachment; filename=\"a b.pem\"; filename*=UTF-8''a%20b.pem"
        );
    }
}
