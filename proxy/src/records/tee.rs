//! [`recording`]: a response passed on as it streams, its body copied aside and kept in
//! [`RecentPages`] once the last byte has arrived.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use http_body_util::combinators::BoxBody;
use hudsucker::Body;
use hudsucker::hyper::Response;
use hudsucker::hyper::body::{Body as HttpBody, Bytes, Frame, SizeHint};
use hudsucker::hyper::header;
use zeroize::Zeroizing;

use super::{MAX_PAGE, RecentPages};

/// `res` (an eligible page of `host`, see [`super::eligible_response`]) with its content
/// coding removed and its body copied into `pages` under `url` when it ends complete; a
/// coding the proxy cannot decode passes the response on unkept.
pub(crate) fn recording(res: Response<Body>, pages: Arc<RecentPages>, host: &str, url: String) -> Response<Body> {
    let res = match crate::http::decoded(res, host) {
        Ok(res) => res,
        Err(passed_on) => return passed_on,
    };
    let content_type =
        res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_owned();
    let (parts, inner) = res.into_parts();
    let body = Recording { inner, kept: Some(Zeroizing::new(Vec::new())), sink: Some((pages, url, content_type)) };
    Response::from_parts(parts, Body::from(BoxBody::new(body)))
}

/// A body that copies what passes through it.
struct Recording {
    inner: Body,
    /// The bytes so far; `None` once the page is too large or broke off.
    kept: Option<Zeroizing<Vec<u8>>>,
    /// Where the page goes at its end: the store, the URL, the Content-Type.
    sink: Option<(Arc<RecentPages>, String, String)>,
}

impl Recording {
    /// The page ended complete: keep it (once).
    fn finish(&mut self) {
        if let (Some(bytes), Some((pages, url, content_type))) = (self.kept.take(), self.sink.take()) {
            pages.keep(url, content_type, bytes);
        }
    }
}

impl HttpBody for Recording {
    type Data = Bytes;
    type Error = hudsucker::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(kept), Some(data)) = (this.kept.as_mut(), frame.data_ref()) {
                    if kept.len() + data.len() > MAX_PAGE {
                        this.kept = None;
                    } else {
                        kept.extend_from_slice(data);
                    }
                }
                // The sender may stop polling once the body says it has ended.
                if this.inner.is_end_stream() {
                    this.finish();
                }
            }
            Poll::Ready(Some(Err(_))) => this.kept = None,
            Poll::Ready(None) => this.finish(),
            Poll::Pending => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
