//! The read flow's frames: `GET /view/<id>` (the document, once) and
//! `GET /view/<id>/part/<n>` (its attachments, briefly after). See
//! [`crate::flows::read::ViewStore`] for lifetimes.
//!
//! The document is only handed to a frame of the webmail page that asked for it: the
//! `Referer` origin (the iframe sends it, `referrerpolicy="strict-origin"`) must be the
//! view's webmail origin, `Sec-Fetch-Dest` (when sent) must be `iframe`, and its CSP
//! `frame-ancestors` names that origin only. The webmail's scripts cannot read it: it is
//! another origin, no CORS header is ever sent, and the frame is sandboxed without
//! scripts.

use hudsucker::Body;
use hudsucker::hyper::header::{self, HeaderMap, HeaderValue};
use hudsucker::hyper::{Request, Response, StatusCode};

use super::OwnOrigin;
use crate::flows::read::ViewId;
use crate::http::{download, respond, text_response};

impl OwnOrigin {
    /// `GET /view/...`; `rest` is the path after `/view/`.
    pub(super) fn view(&self, req: &Request<Body>, rest: &str) -> Response<Body> {
        let mut segments = rest.split('/');
        let Some(id) = segments.next().and_then(ViewId::parse) else {
            return gone();
        };
        match (segments.next(), segments.next(), segments.next()) {
            (None, ..) => self.view_document(req.headers(), &id),
            (Some("part"), Some(index), None) => match index.parse::<usize>() {
                Ok(index) => self.view_attachment(&id, index),
                Err(_) => gone(),
            },
            _ => gone(),
        }
    }

    fn view_document(&self, headers: &HeaderMap, id: &ViewId) -> Response<Body> {
        let Some(origin) = self.views.origin(id) else {
            return gone();
        };
        if let Err(why) = from_frame_of(headers, &origin) {
            tracing::warn!(why, "refused a view frame request");
            return text_response(StatusCode::FORBIDDEN, "refused: this view belongs to another page\n");
        }
        let Ok(document) = self.views.take_document(id) else {
            return gone();
        };
        tracing::info!(doc_len = document.len(), "view frame served");
        let mut response = respond(StatusCode::OK, "text/html; charset=utf-8", document.to_vec());
        let headers = response.headers_mut();
        headers.remove(header::X_FRAME_OPTIONS);
        headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
        let csp = format!(
            "default-src 'none'; img-src data:; style-src 'unsafe-inline'; form-action 'none'; base-uri 'none'; \
             frame-ancestors {origin}"
        );
        if let Ok(value) = HeaderValue::from_str(&csp) {
            headers.insert(header::CONTENT_SECURITY_POLICY, value);
        }
        response
    }

    fn view_attachment(&self, id: &ViewId, index: usize) -> Response<Body> {
        let Ok((filename, data)) = self.views.attachment(id, index) else {
            return gone();
        };
        tracing::info!(index, len = data.len(), "view attachment served");
        download("application/octet-stream", &filename, data.to_vec())
    }
}

/// Whether the request is a frame of a page of `origin` loading the document.
pub(super) fn from_frame_of(headers: &HeaderMap, origin: &str) -> Result<(), &'static str> {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if text("sec-fetch-dest").is_some_and(|dest| dest != "iframe") {
        return Err("not loaded as a frame");
    }
    let referer = text(header::REFERER.as_str()).ok_or("no Referer")?;
    let referer_origin = referer.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
    if referer_origin.eq_ignore_ascii_case(origin) { Ok(()) } else { Err("Referer of another origin") }
}

/// `410 Gone` for every unknown, used or expired view (no difference is shown).
fn gone() -> Response<Body> {
    text_response(StatusCode::GONE, "this view is gone: views are shown once; reload the message\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (header::HeaderName::from_static(k), HeaderValue::from_static(v))).collect()
    }

    #[test]
    fn only_a_frame_of_the_webmail_gets_the_document() {
        let mail = "https://mail.example:8443";
        let ok = headers(&[("referer", "https://mail.example:8443/"), ("sec-fetch-dest", "iframe")]);
        assert_eq!(from_frame_of(&ok, mail), Ok(()));
        assert_eq!(from_frame_of(&headers(&[("referer", "https://mail.example:8443/?_task=mail")]), mail), Ok(()));
        for bad in [
            headers(&[]),
            headers(&[("referer", "https://evil.example/"), ("sec-fetch-dest", "iframe")]),
            headers(&[("referer", "https://mail.example:8443.evil.example/")]),
            headers(&[("referer", "https://mail.example/")]),
            headers(&[("referer", "https://mail.example:8443/"), ("sec-fetch-dest", "document")]),
            headers(&[("referer", "https://mail.example:8443/"), ("sec-fetch-dest", "empty")]),
        ] {
            assert!(from_frame_of(&bad, mail).is_err(), "{bad:?}");
        }
    }
}
