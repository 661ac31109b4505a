//! The pass-through flow: forwards classified requests (without the proxy's control
//! fields) when no S/MIME was asked for, and logs what it saw (kind and toggles, never
//! content).
//!
//! Fail closed: this flow cannot sign or encrypt, so a compose request with Sign or
//! Encrypt on is answered by the proxy itself and nothing goes upstream. The compose
//! flow that does the signing and encryption replaces this one.

use hudsucker::Body;
use hudsucker::hyper::{Request, StatusCode};

use super::{Flow, FlowFuture, Verdict};
use crate::origin::html_response;
use crate::rules::{ComposeRequest, Rule};

/// Forwards what asks for no S/MIME; refuses what does.
#[derive(Debug, Default, Clone, Copy)]
pub struct PassFlow;

impl Flow for PassFlow {
    fn compose_request<'a>(
        &'a self,
        rule: &'a Rule,
        request: ComposeRequest,
        forward: Request<Body>,
    ) -> FlowFuture<'a> {
        let wants_smime = request.smime.is_some_and(|s| s.sign || s.encrypt);
        tracing::info!(
            rule = rule.name,
            kind = request.kind.name(),
            sign = request.smime.map(|s| s.sign),
            encrypt = request.smime.map(|s| s.encrypt),
            refused = wants_smime,
            "compose request (pass-through)"
        );
        Box::pin(async move { if wants_smime { Verdict::Respond(refusal()) } else { Verdict::Forward(forward) } })
    }
}

/// `501 Not Implemented`: S/MIME was asked for and cannot be done, so nothing was sent.
fn refusal() -> hudsucker::hyper::Response<Body> {
    html_response(
        StatusCode::NOT_IMPLEMENTED,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>smime-proxy: not sent</title></head>\n\
         <body><h1>Nothing was sent</h1>\n<p>Sign or Encrypt (S/MIME) was on, and this version of smime-proxy \
         cannot yet sign or encrypt webmail messages, so the request was stopped before it reached the \
         webmail. Turn Sign and Encrypt off to send without S/MIME.</p></body></html>\n"
            .to_string(),
    )
}
