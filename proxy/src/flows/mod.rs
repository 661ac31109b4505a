//! Flows: what the proxy does with a request a rule has classified. The MITM core
//! (`mitm::handler`) calls them in this order for one exchange: [`Flow::compose_request`]
//! for a compose request (its S/MIME control fields already read and stripped), or
//! [`Flow::compose_page`] when a compose page's response is rewritten. The compose and
//! read flows implement this trait in their own files; today [`PassFlow`] forwards.
//! The read flow (`read::ReadFlow`) is called for message view pages.

mod pass;
pub(crate) mod read;

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use hudsucker::Body;
use hudsucker::hyper::{Request, Response, StatusCode};

pub use pass::PassFlow;

use smime_crypto::TrustOptions;

use crate::mitm::UpstreamClient;
use crate::rewrite::ControlsState;
use crate::rules::{ComposeRequest, Rule};
use crate::store::{CertStore, KeyRing};

/// What the flows use of the running proxy: the unlocked keys, the recipients'
/// certificates with the trust anchors they are checked against, and a client for the
/// requests the proxy makes to the webmail itself (with the browser's session).
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
}

/// What a flow decided about a request.
#[derive(Debug)]
pub enum Verdict {
    /// Send this request upstream.
    Forward(Request<Body>),
    /// Answer the browser with this response; nothing goes upstream.
    Respond(Response<Body>),
}

/// A flow's future.
pub type FlowFuture<'a> = Pin<Box<dyn Future<Output = Verdict> + Send + 'a>>;

/// One behaviour of the proxy for classified requests.
pub trait Flow: Send + Sync + std::fmt::Debug {
    /// A compose request (send, draft, upload, spell check). `forward` is the request as
    /// it would go upstream: the browser's, without the S/MIME control fields.
    fn compose_request<'a>(&'a self, rule: &'a Rule, request: ComposeRequest, forward: Request<Body>)
    -> FlowFuture<'a>;

    /// The state the controls of a compose page are shown in.
    fn compose_page(&self, rule: &Rule) -> ControlsState {
        ControlsState::defaults(rule)
    }
}

/// `501 Not Implemented`: S/MIME was asked for and cannot be done, so the proxy answers
/// itself and nothing goes upstream (fail closed).
pub(crate) fn not_sent() -> Response<Body> {
    crate::origin::html_response(
        StatusCode::NOT_IMPLEMENTED,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>smime-proxy: not sent</title></head>\n\
         <body><h1>Nothing was sent</h1>\n<p>Sign or Encrypt (S/MIME) was on, and smime-proxy cannot sign or \
         encrypt this request, so it was stopped before it reached the webmail. Turn Sign and Encrypt off to \
         send without S/MIME.</p></body></html>\n"
            .to_string(),
    )
}
