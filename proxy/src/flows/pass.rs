//! The pass-through flow: forwards every classified request as it is (without the
//! proxy's control fields) and logs what it saw (kind and toggles, never content).

use hudsucker::Body;
use hudsucker::hyper::Request;

use super::{Flow, FlowFuture, Verdict};
use crate::rules::{ComposeRequest, Rule};

/// Forwards everything.
#[derive(Debug, Default, Clone, Copy)]
pub struct PassFlow;

impl Flow for PassFlow {
    fn compose_request<'a>(
        &'a self,
        rule: &'a Rule,
        request: ComposeRequest,
        forward: Request<Body>,
    ) -> FlowFuture<'a> {
        tracing::info!(
            rule = rule.name,
            kind = request.kind.name(),
            sign = request.smime.map(|s| s.sign),
            encrypt = request.smime.map(|s| s.encrypt),
            "compose request (pass-through)"
        );
        Box::pin(async move { Verdict::Forward(forward) })
    }
}
