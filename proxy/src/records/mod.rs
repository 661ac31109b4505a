//! Pages kept for signed records: the exact bytes a configured site sent for its recent
//! pages, held briefly in memory so that the user can save a signed record of one from
//! the own page ("Sign a page"; the signing and the page are `origin::records`).
//!
//! Which responses are kept ([`eligible_request`], [`eligible_response`]): answers of a
//! configured site to a `GET` the browser loads as a page or frame (`Sec-Fetch-Dest`
//! `document` or `iframe`, or no such header), status 200, whose Content-Type is HTML, or
//! S/MIME on a site whose rule opens S/MIME pages; complete (a cut-off answer is not
//! kept), at most [`MAX_PAGE`] bytes. The bytes are the body as the server sent it, its
//! content coding (gzip, br, ...) removed, before the proxy changed anything: never a
//! decrypted view, never plaintext the proxy put into a page. Never written to disk.

mod recent;
mod tee;

pub(crate) use recent::{LIFETIME, RecentPage, RecentPages};
pub(crate) use tee::recording;

use hudsucker::Body;
use hudsucker::hyper::header::{self, HeaderMap};
use hudsucker::hyper::{Method, Response, StatusCode};

/// Largest page kept (a larger one is passed on and not kept).
pub(crate) const MAX_PAGE: usize = 8 * 1024 * 1024;

/// Whether a request to a configured site may give a page to keep: a `GET` loading a
/// page or a frame (not a script's fetch, an image, a style sheet).
pub(crate) fn eligible_request(method: &Method, headers: &HeaderMap) -> bool {
    let dest = headers.get("sec-fetch-dest").and_then(|v| v.to_str().ok());
    *method == Method::GET && dest.is_none_or(|dest| dest == "document" || dest == "iframe")
}

/// Whether `res` is a page to keep: 200, HTML (or S/MIME when `smime_pages`), and not
/// announced larger than [`MAX_PAGE`].
pub(crate) fn eligible_response(res: &Response<Body>, smime_pages: bool) -> bool {
    let text = |name| res.headers().get(name).and_then(|v| v.to_str().ok());
    let content_type = text(header::CONTENT_TYPE).unwrap_or_default();
    let kind_ok = if crate::http::is_smime(content_type) { smime_pages } else { crate::rewrite::is_html(content_type) };
    let size_ok = text(header::CONTENT_LENGTH).and_then(|l| l.parse::<usize>().ok()).is_none_or(|l| l <= MAX_PAGE);
    res.status() == StatusCode::OK && kind_ok && size_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, content_type: &str) -> Response<Body> {
        Response::builder().status(status).header("content-type", content_type).body(Body::empty()).unwrap()
    }

    #[test]
    fn only_pages_are_kept() {
        let headers = |dest: &'static str| {
            let mut h = HeaderMap::new();
            h.insert("sec-fetch-dest", dest.parse().unwrap());
            h
        };
        assert!(eligible_request(&Method::GET, &HeaderMap::new()));
        assert!(eligible_request(&Method::GET, &headers("document")));
        assert!(eligible_request(&Method::GET, &headers("iframe")));
        assert!(!eligible_request(&Method::GET, &headers("empty")));
        assert!(!eligible_request(&Method::GET, &headers("script")));
        assert!(!eligible_request(&Method::POST, &HeaderMap::new()));
        assert!(!eligible_request(&Method::HEAD, &HeaderMap::new()));

        assert!(eligible_response(&response(200, "text/html; charset=utf-8"), false));
        assert!(!eligible_response(&response(404, "text/html"), false));
        assert!(!eligible_response(&response(200, "application/json"), true));
        assert!(!eligible_response(&response(200, "application/pkcs7-mime; smime-type=enveloped-data"), false));
        assert!(eligible_response(&response(200, "application/pkcs7-mime; smime-type=enveloped-data"), true));
        assert!(eligible_response(&response(200, "multipart/signed; protocol=\"application/pkcs7-signature\""), true));
        let mut big = response(200, "text/html");
        big.headers_mut().insert(header::CONTENT_LENGTH, (MAX_PAGE + 1).into());
        assert!(!eligible_response(&big, false));
    }
}
