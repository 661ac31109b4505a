//! The pass-through flow: forwards classified requests (without the proxy's control
//! fields) when no S/MIME was asked for, and logs what it saw (kind and toggles, never
//! content).
//!
//! Fail closed: this flow cannot sign or encrypt, so a compose request with Sign or
//! Encrypt on is answered by the proxy itself and nothing goes upstream. The compose
//! flow that does the signing and encryption replaces this one.

use hudsucker::Body;
use hudsucker::hyper::Request;

use super::{Flow, FlowFuture, Verdict, not_sent};
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
        Box::pin(async move { if wants_smime { Verdict::Respond(not_sent()) } else { Verdict::Forward(forward) } })
    }
}
