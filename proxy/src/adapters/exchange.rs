//! What every adapter does when it talks to its webmail itself: requests with the user's
//! session, a complete answer or a clear error, multipart bodies, query encoding and the
//! sizes pages show.

use bytes::Bytes;
use http_body_util::Full;
use hudsucker::hyper::header;
use hudsucker::hyper::http;
use hudsucker::hyper::{Method, Request};

use super::{DeliveryError, WebmailRequest};
use crate::http::{Fetched, UpstreamClient};

/// Largest answer of a webmail an adapter reads while delivering.
const MAX_RESPONSE: usize = 4 * 1024 * 1024;

/// A request to `url` with the browser's session (cookies, user agent, language), asking
/// for an uncompressed answer.
pub(super) fn with_session(req: &WebmailRequest, method: Method, url: &str) -> http::request::Builder {
    let mut builder = Request::builder().method(method).uri(url);
    for (name, value) in &req.session {
        builder = builder.header(name, value);
    }
    builder.header(header::ACCEPT_ENCODING, "identity")
}

/// Sends `built` (the `what` request to `webmail`) and reads its answer; anything but a
/// 2xx status is an error naming both.
pub(super) async fn send(
    upstream: &UpstreamClient,
    webmail: &str,
    what: &str,
    built: http::Result<Request<Full<Bytes>>>,
) -> Result<Fetched, DeliveryError> {
    let request = built.map_err(|e| DeliveryError::Refused(format!("cannot build the {what} request: {e}")))?;
    let fetched = upstream.send(request, MAX_RESPONSE).await?;
    if !fetched.status.is_success() {
        return Err(DeliveryError::Refused(format!("{webmail} answered the {what} with HTTP {}", fetched.status)));
    }
    Ok(fetched)
}

/// A `multipart/form-data` body: text `fields`, then one file part; returns the content
/// type and the body.
pub(super) fn multipart(
    boundary_seed: &str,
    fields: &[(&str, &str)],
    file: (&str, &str, &str, &[u8]),
) -> (String, Bytes) {
    let boundary = format!("----smime-proxy-{}", boundary_seed.split('@').next().unwrap_or("b"));
    let (name, filename, content_type, data) = file;
    let mut body = Vec::with_capacity(data.len() + 512);
    for (field, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"\r\n\r\n{value}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
             Content-Type: {content_type}\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(data);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), Bytes::from(body))
}

/// `value` percent-encoded for a query string or a urlencoded form.
pub(super) fn q(value: &str) -> String {
    percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// A size as webmails show it (`33 B`, `1.2 KB`, `3.4 MB`).
pub(super) fn human_size(bytes: usize) -> String {
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < 1024 * 1024 => format!("{:.1} KB", b as f64 / 1024.0),
        b => format!("{:.1} MB", b as f64 / (1024.0 * 1024.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multipart_bodies_and_sizes() {
        let (content_type, body) = multipart("abc@x", &[("token", "T")], ("f", "m.eml", "message/rfc822", b"X\r\n"));
        assert_eq!(content_type, "multipart/form-data; boundary=----smime-proxy-abc");
        assert_eq!(
            &body[..],
            b"------smime-proxy-abc\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\nT\r\n\
------smime-proxy-abc\r\nContent-Disposition: form-data; name=\"f\"; filename=\"m.eml\"\r\nContent-Type: message/rfc822\r\n\r\nX\r\n\r\n------smime-proxy-abc--\r\n"
        );
        assert_eq!(human_size(33), "33 B");
        assert_eq!(human_size(2048), "2.0 KB");
        assert_eq!(q("a b@c"), "a%20b%40c");
    }
}
