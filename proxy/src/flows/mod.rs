//! Flows: what the proxy does with the requests and pages a rule has recognised. The
//! MITM core (`mitm::handler`) hands them compose pages, toggle reports and compose
//! requests (the compose flow, `compose/`), and message view pages (the read flow,
//! `read/`); each decides to forward, rewrite or answer.

pub(crate) mod compose;
pub(crate) mod fields;
pub(crate) mod original;
pub(crate) mod read;
pub mod signed_forms;

use std::sync::Arc;

use hudsucker::Body;
use hudsucker::hyper::{Request, Response, StatusCode};

use smime_crypto::TrustOptions;

use crate::directory::Directories;
use crate::http::UpstreamClient;
use crate::pki::Pki;
use crate::store::{CertStore, KeyRing};

/// What the flows use of the running proxy: the unlocked keys, the recipients'
/// certificates with the trust anchors they are checked against (and the online checks:
/// directories, revocation), and a client for the requests the proxy makes to the
/// webmail itself (with the browser's session).
#[derive(Debug)]
pub(crate) struct Services {
    /// The user's keys (locked → every flow that needs one fails closed).
    pub(crate) keys: Arc<KeyRing>,
    /// Recipients' certificates, and the senders' learned from verified mail.
    pub(crate) certs: CertStore,
    /// Anchors for recipients' and signers' certificates (`trust_anchors`).
    pub(crate) trust: TrustOptions,
    /// Verified TLS to the webmail, for fetching raw messages and delivering.
    pub(crate) upstream: UpstreamClient,
    /// The TLS client configuration of `upstream`, for SMTP submission too.
    pub(crate) tls: Arc<rustls::ClientConfig>,
    /// Chain completion and revocation checks (OCSP, CRL), cached.
    pub(crate) pki: Pki,
    /// LDAP directories for recipients' certificates.
    pub(crate) directories: Directories,
}

/// What a flow decided about a request.
#[derive(Debug)]
pub enum Verdict {
    /// Send this request upstream.
    Forward(Request<Body>),
    /// Answer the browser with this response; nothing goes upstream.
    Respond(Response<Body>),
}

/// `400 Bad Request`: a compose request whose JSON body cannot be read; whether it asks
/// for S/MIME cannot be known, so nothing goes upstream (fail closed).
pub(crate) fn not_readable() -> Response<Body> {
    refused(
        StatusCode::BAD_REQUEST,
        "This request said it carried JSON, and smime-proxy could not read it, so it cannot tell whether Sign or \
         Encrypt was on. It was stopped before it reached the webmail.",
    )
}

/// `501 Not Implemented`: S/MIME was asked for and cannot be done, so the proxy answers
/// itself and nothing goes upstream (fail closed).
pub(crate) fn not_sent() -> Response<Body> {
    refused(
        StatusCode::NOT_IMPLEMENTED,
        "Sign or Encrypt (S/MIME) was on, and smime-proxy cannot sign or encrypt this request (its rule has no \
         adapter for this webmail), so it was stopped before it reached the webmail. Turn Sign and Encrypt off to \
         send without S/MIME.",
    )
}

/// A form request read whole: its head, body, content type and fields.
#[derive(Debug)]
pub(crate) struct PostedForm {
    pub(crate) parts: hudsucker::hyper::http::request::Parts,
    pub(crate) body: bytes::Bytes,
    pub(crate) content_type: Option<String>,
    pub(crate) form: crate::form::Form,
}

impl PostedForm {
    /// `req` read whole, up to `max` bytes; the refusal page when it is larger or cut off
    /// (nothing of it goes upstream then).
    pub(crate) async fn read(req: Request<Body>, max: usize) -> Result<Self, Response<Body>> {
        use http_body_util::BodyExt as _;
        let (parts, body) = req.into_parts();
        let body = http_body_util::Limited::new(body, max).collect().await.map(|c| c.to_bytes()).map_err(|_| {
            tracing::warn!("a form was too large or cut off: not sent");
            let reason = format!("this form is larger than {} MiB or was cut off.", max / (1024 * 1024));
            refused(StatusCode::PAYLOAD_TOO_LARGE, &reason)
        })?;
        let content_type = parts.headers.get(hudsucker::hyper::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let content_type = content_type.map(str::to_owned);
        let form = crate::form::Form::parse(content_type.as_deref(), &body);
        Ok(Self { parts, body, content_type, form })
    }

    /// The request as it came.
    pub(crate) fn unchanged(self) -> Request<Body> {
        Request::from_parts(self.parts, Body::from(self.body))
    }
}

/// The request of `parts` with `body` in place of the body it had (its framing headers
/// fixed).
pub(crate) fn with_new_body(mut parts: hudsucker::hyper::http::request::Parts, body: Vec<u8>) -> Request<Body> {
    use hudsucker::hyper::header::{self, HeaderValue};
    parts.headers.remove(header::TRANSFER_ENCODING);
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    Request::from_parts(parts, Body::from(body))
}

/// The page the proxy answers with when it stops a request (fail closed): nothing of it
/// went upstream; `reason` (text, escaped here) says why.
pub(crate) fn refused(status: StatusCode, reason: &str) -> Response<Body> {
    crate::http::html_response(
        status,
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>smime-proxy: not sent</title></head>\n\
             <body><h1>Nothing was sent</h1>\n<p>{}</p></body></html>\n",
            crate::markup::escape(reason)
        ),
    )
}
