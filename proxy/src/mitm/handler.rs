//! The one `HttpHandler`: it only dispatches. hudsucker clones it per request, so the
//! per-exchange state (`Exchange`) set in `handle_request` is there in `handle_response`
//! or `handle_error` of the same exchange.
//!
//! Order of calls per exchange: `handle_request` (refuse non-loopback peers; own origin
//! answered here; otherwise note the site) → upstream → `handle_response` (rewrite HTML of
//! intercepted sites) or `handle_error` (502 page). For CONNECT: `handle_request`, then
//! `should_intercept_connect` (MITM for configured sites and the own origin, else tunnel).

use std::sync::Arc;

use hudsucker::hyper::{Method, Request, Response, StatusCode};
use hudsucker::{Body, HttpContext, HttpHandler, RequestOrResponse};

use super::error_page::{bad_gateway, root_cause};
use super::page;
use crate::origin::{OwnOrigin, RuntimeSettings, html_response};
use crate::rules::{Rule, SiteTable, split_host_port};

/// What the handler shares across all exchanges.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) origin: OwnOrigin,
    pub(crate) sites: SiteTable,
    pub(crate) settings: Arc<RuntimeSettings>,
}

/// The per-exchange handler.
#[derive(Debug, Clone)]
pub(crate) struct Handler {
    shared: Arc<Shared>,
    exchange: Option<Exchange>,
}

/// What `handle_request` learned, for the response or error of the same exchange. Holds
/// no query string, headers or body.
#[derive(Debug, Clone)]
struct Exchange {
    host: String,
    path_len: usize,
    rule: Option<&'static Rule>,
    head: bool,
}

impl Handler {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared, exchange: None }
    }

    fn should_intercept(&self, authority: &str) -> bool {
        let (host, port) = split_host_port(authority);
        let port = port.and_then(|p| p.parse().ok()).unwrap_or(443);
        self.shared.origin.is(host) || self.shared.sites.lookup(host, port).is_some()
    }
}

impl HttpHandler for Handler {
    async fn handle_request(&mut self, ctx: &HttpContext, req: Request<Body>) -> RequestOrResponse {
        if !ctx.client_addr.ip().is_loopback() {
            tracing::warn!(peer = %ctx.client_addr.ip(), "refused a non-loopback client");
            return forbidden_peer().into();
        }
        if req.method() == Method::CONNECT {
            return req.into();
        }
        let Some(authority) = req.uri().authority().cloned() else {
            return not_a_proxy_request().into();
        };
        let host = authority.host().trim_start_matches('[').trim_end_matches(']');
        if self.shared.origin.is(host) {
            return self.shared.origin.serve(req).await.into();
        }
        let default_port = if req.uri().scheme_str() == Some("https") { 443 } else { 80 };
        let port = authority.port_u16().unwrap_or(default_port);
        self.exchange = Some(Exchange {
            host: authority.to_string(),
            path_len: req.uri().path().len(),
            rule: self.shared.sites.lookup(host, port).map(|site| site.rule),
            head: req.method() == Method::HEAD,
        });
        req.into()
    }

    async fn handle_response(&mut self, _ctx: &HttpContext, res: Response<Body>) -> Response<Body> {
        let Some(exchange) = self.exchange.take() else {
            return res;
        };
        match exchange.rule {
            Some(rule) if !exchange.head && self.shared.settings.rewriting() && page::wants_rewrite(&res) => {
                page::rewrite(res, rule, &exchange.host, exchange.path_len).await
            }
            _ => res,
        }
    }

    async fn handle_error(
        &mut self,
        _ctx: &HttpContext,
        err: hudsucker::hyper_util::client::legacy::Error,
    ) -> Response<Body> {
        let host = self.exchange.take().map_or_else(|| "the server".to_owned(), |e| e.host);
        let reason = root_cause(&err);
        tracing::warn!(host, reason, "upstream request failed");
        bad_gateway(&host, &reason)
    }

    async fn should_intercept_connect(&mut self, _ctx: &HttpContext, req: &Request<Body>) -> bool {
        let authority = req.uri().authority().map(|a| a.as_str()).unwrap_or_default();
        let intercept = self.should_intercept(authority);
        tracing::info!(authority, decision = if intercept { "MITM" } else { "TUNNEL" }, "CONNECT");
        intercept
    }
}

fn forbidden_peer() -> Response<Body> {
    html_response(
        StatusCode::FORBIDDEN,
        "<!doctype html><title>smime-proxy</title><p>smime-proxy serves this machine only.</p>\n".to_owned(),
    )
}

/// A request sent to the proxy as if it were a web server (no absolute URI): a web page
/// trying to reach the proxy directly. Answered with nothing useful.
fn not_a_proxy_request() -> Response<Body> {
    html_response(
        StatusCode::BAD_REQUEST,
        "<!doctype html><title>smime-proxy</title><p>This is a proxy. Its pages are at \
         <code>http://smime-proxy.invalid/</code> (through the proxy).</p>\n"
            .to_owned(),
    )
}
