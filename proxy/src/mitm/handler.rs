//! The one `HttpHandler`: it only dispatches. hudsucker clones it per request, so the
//! per-exchange state (`Exchange`) set in `handle_request` is there in `handle_response`
//! or `handle_error` of the same exchange.
//!
//! Order of calls per exchange: `handle_request` (refuse non-loopback peers; own origin
//! answered here; otherwise match the request against the site's rule: a compose request
//! has its body read, classified, stripped of the S/MIME control fields and handed to the
//! flow, which forwards or answers it) → upstream → `handle_response` (the compose page
//! gets the controls; a message view page goes to the read flow) or `handle_error` (502
//! page). For CONNECT: `handle_request`, then
//! `should_intercept_connect` (MITM for configured sites and the own origin, else tunnel).
//! A page of a site (see [`crate::records`]) is copied aside as it streams, before any
//! rewriting, for the own page's signed records.

use std::sync::Arc;

use http_body_util::{BodyExt as _, Limited};
use hudsucker::hyper::header::{self, HeaderValue};
use hudsucker::hyper::{Method, Request, Response, StatusCode};
use hudsucker::{Body, HttpContext, HttpHandler, RequestOrResponse};
use zeroize::Zeroizing;

use super::page;
use crate::flows::Verdict;
use crate::flows::compose::ComposeFlow;
use crate::flows::read::{AnswerRequest, ReadFlow, ViewRequest};
use crate::form::Form;
use crate::http::{bad_gateway, html_response, root_cause, web_origin};
use crate::origin::{OwnOrigin, RuntimeSettings};
use crate::records::{self, RecentPages};
use crate::rewrite::STATE_QUERY;
use crate::rules::{
    Head, LoginRequest, Match, Query, RequestRule, Rule, SiteTable, classify, encrypted_fields_for, match_request,
    shows_encrypted_fields, signed_forms_for, split_host_port,
};
use crate::store::{CaStatus, CaVault, Login};

/// Largest compose request body the proxy reads (attachments included).
const MAX_COMPOSE_BODY: usize = 64 * 1024 * 1024;
/// Largest login request body read.
const MAX_LOGIN_BODY: usize = 64 * 1024;

/// What the handler shares across all exchanges.
#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) origin: OwnOrigin,
    pub(crate) sites: SiteTable,
    pub(crate) settings: Arc<RuntimeSettings>,
    /// What happens to compose pages and compose requests.
    pub(crate) compose: ComposeFlow,
    /// Keys, certificates and the upstream client the flows use.
    pub(crate) services: Arc<crate::flows::Services>,
    /// What happens to message view pages.
    pub(crate) read: ReadFlow,
    /// The interception CA: sealed until the store passphrase is given.
    pub(crate) ca: Arc<CaVault>,
    /// `http://<own origin>/`, where a sealed CA is unlocked.
    pub(crate) ca_unlock_page: String,
    /// The sites' recent pages, kept for signed records.
    pub(crate) pages: Arc<RecentPages>,
}

/// The per-exchange handler.
#[derive(Debug, Clone)]
pub(crate) struct Handler {
    shared: Arc<Shared>,
    exchange: Option<Exchange>,
}

/// What `handle_request` learned, for the response or error of the same exchange. Holds
/// no body, and a query string and session headers only for a message view.
#[derive(Debug, Clone)]
struct Exchange {
    host: String,
    path_len: usize,
    /// The site's rule and the compose id, when the response is a compose page to rewrite.
    compose_page: Option<(Arc<Rule>, Option<String>)>,
    /// What the read flow needs, when the response is a message view page.
    view: Option<ViewRequest>,
    /// The site's rule and where the original is, when the response opens a compose
    /// answering a message.
    answer: Option<(Arc<Rule>, AnswerRequest)>,
    /// What the fields flow and S/MIME pages need, when the response may be one of those.
    site_pages: Option<SitePage>,
    /// The URL, and whether the rule opens S/MIME pages, when the response may be a page
    /// to keep for a signed record.
    record: Option<(String, bool)>,
    head: bool,
}

/// A response that may hold encrypted fields or be an S/MIME page.
#[derive(Debug, Clone)]
struct SitePage {
    rule: Arc<Rule>,
    /// The page's origin, `https://host[:port]`.
    origin: String,
    /// The request loads a page of an `[[encrypted_fields]]` entry's `pages`.
    fields: bool,
}

impl Handler {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self { shared, exchange: None }
    }

    /// Whether the interception CA is unlocked: until then no configured site is served,
    /// neither intercepted (no certificate) nor tunnelled (it would bypass S/MIME).
    fn ca_ready(&self) -> bool {
        matches!(self.shared.ca.status(), CaStatus::Ready { .. })
    }

    /// The refusal of a configured site while the CA is sealed. A browser shows a CONNECT
    /// refusal only as a tunnel error, so the log says it too.
    fn sealed(&self, host: &str) -> Response<Body> {
        let origin = &self.shared.ca_unlock_page;
        tracing::warn!(host, "refused: the local CA is sealed; unlock it at {origin}");
        html_response(
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "<!doctype html><title>smime-proxy</title><p>smime-proxy is locked: {} is neither intercepted nor \
                 passed on until you unlock it with the store passphrase at <a href=\"{origin}\">{origin}</a>.</p>\n",
                crate::markup::escape(host)
            ),
        )
    }

    fn should_intercept(&self, authority: &str) -> bool {
        let (host, port) = split_host_port(authority);
        let port = port.and_then(|p| p.parse().ok()).unwrap_or(443);
        self.shared.origin.is(host) || self.shared.sites.lookup(host, port).is_some() || self.shared.sites.blocks(host)
    }
}

impl HttpHandler for Handler {
    async fn handle_request(&mut self, ctx: &HttpContext, req: Request<Body>) -> RequestOrResponse {
        if !ctx.client_addr.ip().is_loopback() {
            tracing::warn!(peer = %ctx.client_addr.ip(), "refused a non-loopback client");
            return forbidden_peer().into();
        }
        if req.method() == Method::CONNECT {
            let authority = req.uri().authority().map(|a| a.as_str()).unwrap_or_default();
            if self.should_intercept(authority) && !self.ca_ready() {
                return self.sealed(split_host_port(authority).0).into();
            }
            return req.into();
        }
        let Some(authority) = req.uri().authority().cloned() else {
            return self.shared.origin.serve_direct(&req).into();
        };
        if self.shared.origin.is_listen_address(authority.as_str()) {
            return self.shared.origin.serve_direct(&req).into();
        }
        let host = authority.host().trim_start_matches('[').trim_end_matches(']');
        if self.shared.origin.is(host) {
            return self.shared.origin.serve(req).await.into();
        }
        if self.shared.sites.blocks(host) {
            tracing::info!(host, "refused a host a site's rule blocks");
            return blocked_host(host).into();
        }
        let default_port = if req.uri().scheme_str() == Some("https") { 443 } else { 80 };
        let port = authority.port_u16().unwrap_or(default_port);
        let mut exchange = Exchange {
            host: authority.to_string(),
            path_len: req.uri().path().len(),
            compose_page: None,
            view: None,
            answer: None,
            site_pages: None,
            record: None,
            head: req.method() == Method::HEAD,
        };
        let Some((rule, submission, fields_on)) = self
            .shared
            .sites
            .lookup(host, port)
            .map(|site| (Arc::clone(&site.rule), site.submission.clone(), site.encrypted_fields))
        else {
            self.exchange = Some(exchange);
            return req.into();
        };
        if !self.ca_ready() {
            return self.sealed(host).into();
        }
        if records::eligible_request(req.method(), req.headers()) {
            exchange.record = Some((req.uri().to_string(), rule.smime_pages));
        }
        let query_text = req.uri().query().unwrap_or_default();
        if query_text == STATE_QUERY && req.method() == Method::POST {
            let origin = web_origin(req.uri()).unwrap_or_default();
            return self.shared.compose.report(&exchange.host, &origin, req).await.into();
        }
        let query = Query::parse(query_text);
        let content_type = req.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let head = Head { method: req.method().as_str(), path: req.uri().path(), query: &query, content_type };
        let matched = match_request(&rule, &head);
        if !matches!(matched, Some(Match::ComposeRequest(_) | Match::Login(_))) {
            // Opt-in per site: without it the rule's entries are not applied at all.
            let encrypted: Vec<_> =
                if fields_on { encrypted_fields_for(&rule, &head).into_iter().cloned().collect() } else { Vec::new() };
            let signed: Vec<_> = signed_forms_for(&rule, &head).into_iter().cloned().collect();
            if !encrypted.is_empty() || !signed.is_empty() {
                self.exchange = Some(exchange);
                return self.form_request(&encrypted, &signed, req).await;
            }
        }
        let fields = fields_on && shows_encrypted_fields(&rule, &head);
        if fields || rule.smime_pages {
            exchange.site_pages =
                web_origin(req.uri()).map(|origin| SitePage { rule: Arc::clone(&rule), origin, fields });
        }
        match matched {
            Some(Match::Compose) => {
                // A compose page whose URL carries no compose id (Horde, SOGo's template)
                // gets one of the proxy's own, so that its toggles still report their
                // changes (what spell checks and uploads without the form are judged by).
                let id = rule.fields.compose_id.as_deref().and_then(|name| query.get(name)).map(str::to_owned);
                let id = id.or_else(|| crate::random::random_hex(8).ok().map(|hex| format!("page-{hex}")));
                exchange.compose_page = Some((Arc::clone(&rule), id));
            }
            Some(Match::ComposeRequest(candidates)) => {
                self.exchange = Some(exchange);
                return self.compose_request(&rule, submission.as_ref(), candidates, &query, req).await;
            }
            Some(Match::View(view)) => {
                exchange.view = ViewRequest::new(Arc::clone(&rule), view, req.uri(), req.headers());
            }
            Some(Match::Answer(answer)) => {
                exchange.answer =
                    AnswerRequest::new(answer, req.uri(), req.headers()).map(|request| (Arc::clone(&rule), request));
            }
            Some(Match::Login(login)) => {
                self.exchange = Some(exchange);
                return self.login_request(login, req).await;
            }
            Some(Match::List) | None => {}
        }
        self.exchange = Some(exchange);
        req.into()
    }

    async fn handle_response(&mut self, _ctx: &HttpContext, res: Response<Body>) -> Response<Body> {
        let Some(mut exchange) = self.exchange.take() else {
            return res;
        };
        // Kept as the server sent it, before any rewriting below.
        let res = match exchange.record.take() {
            Some((url, smime_pages)) if records::eligible_response(&res, smime_pages) => {
                records::recording(res, Arc::clone(&self.shared.pages), &exchange.host, url)
            }
            _ => res,
        };
        if let Some((rule, request)) = exchange.answer.take() {
            // Paused rewriting shows no original in the compose page: nothing to fetch.
            if self.shared.settings.rewriting() {
                self.answering(&rule, &exchange.host, &request, &res).await;
            }
            return res;
        }
        if let Some(site) = exchange.site_pages.as_ref().filter(|site| site.rule.smime_pages)
            && !exchange.head
            && self.shared.settings.rewriting()
            && page::is_smime(&res)
        {
            tracing::info!(rule = site.rule.name, "S/MIME page");
            return page::smime_page(res, &self.shared.read, &self.shared.services, &site.origin, &exchange.host).await;
        }
        let json_view = exchange.view.as_ref().is_some_and(ViewRequest::is_json);
        if exchange.head || !self.shared.settings.rewriting() || !page::wants_rewrite(&res, json_view) {
            return res;
        }
        if let Some((rule, id)) = exchange.compose_page {
            let state = self.shared.compose.compose_page(&rule, &exchange.host, id.as_deref());
            let limit = self.shared.services.upstream.timeout();
            let (res, senders) = page::rewrite(res, &rule, &state, limit, &exchange.host, exchange.path_len).await;
            self.shared.compose.page_shown(&exchange.host, &state, senders);
            return res;
        }
        if let Some(view) = exchange.view {
            return page::rewrite_view(
                res,
                &self.shared.read,
                &self.shared.services,
                &view,
                &exchange.host,
                exchange.path_len,
            )
            .await;
        }
        if let Some(site) = exchange.site_pages.filter(|site| site.fields)
            && !json_view
        {
            let (read, services) = (&self.shared.read, &self.shared.services);
            return page::rewrite_fields(res, read, services, &site.rule, &site.origin, &exchange.host).await;
        }
        res
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

impl Handler {
    /// A compose answering a message is opening (the webmail redirects to its page, the
    /// compose id in `Location`): the original is fetched and opened now, so that the
    /// compose page shows it and the answer is built with it.
    async fn answering(&self, rule: &Rule, site: &str, request: &AnswerRequest, res: &Response<Body>) {
        let Some(field) = rule.fields.compose_id.as_deref() else { return };
        let location = res.headers().get(header::LOCATION).and_then(|v| v.to_str().ok());
        let Some(compose_id) = location
            .filter(|_| res.status().is_redirection())
            .and_then(|l| l.split_once('?'))
            .and_then(|(_, query)| Query::parse(query).get(field).map(str::to_owned))
        else {
            return;
        };
        if let Some((original, frame)) = self.shared.read.original(&self.shared.services, request).await {
            self.shared.compose.answering(site, &compose_id, original, frame);
        }
    }

    /// A request of `[[encrypted_fields]]` and/or `[[signed_forms]]` entries: its fields
    /// encrypted, then the result signed (the signature is over what the site stores).
    async fn form_request(
        &self,
        encrypted: &[crate::rules::EncryptedFields],
        signed: &[crate::rules::SignedForm],
        mut req: Request<Body>,
    ) -> RequestOrResponse {
        let services = &self.shared.services;
        if !encrypted.is_empty() {
            match crate::flows::fields::request(services, encrypted, req).await {
                Verdict::Forward(forward) => req = forward,
                Verdict::Respond(res) => return res.into(),
            }
        }
        if !signed.is_empty() {
            match crate::flows::signed_forms::request(services, signed, req).await {
                Verdict::Forward(forward) => req = forward,
                Verdict::Respond(res) => return res.into(),
            }
        }
        req.into()
    }

    /// Remembers the credentials of a login request (for SMTP delivery as the user) and
    /// forwards it unchanged.
    async fn login_request(&self, login: &LoginRequest, req: Request<Body>) -> RequestOrResponse {
        let (parts, body) = req.into_parts();
        let Ok(body) = Limited::new(body, MAX_LOGIN_BODY).collect().await.map(|c| c.to_bytes()) else {
            return html_response(
                StatusCode::PAYLOAD_TOO_LARGE,
                "<!doctype html><title>smime-proxy</title><p>smime-proxy could not read this login request.</p>\n"
                    .to_owned(),
            )
            .into();
        };
        let content_type = parts.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let form = Form::parse(content_type, &body);
        if let (Some(user), Some(password)) = (form.get(&login.user), form.get(&login.password)) {
            let site = parts.uri.authority().map(|a| a.to_string()).unwrap_or_default();
            let login = Login { user: user.to_owned(), password: Zeroizing::new(password.to_owned()) };
            self.shared.services.keys.remember_login(&site, login);
            tracing::info!(site, "remembered the webmail login (memory only, until the key store is locked)");
        }
        Request::from_parts(parts, Body::from(body)).into()
    }

    /// Reads a compose request's body, classifies it, strips the S/MIME control fields and
    /// hands it to the flow.
    async fn compose_request(
        &self,
        rule: &Rule,
        submission: Option<&(String, u16)>,
        candidates: &[RequestRule],
        query: &Query,
        req: Request<Body>,
    ) -> RequestOrResponse {
        let (mut parts, body) = req.into_parts();
        let body = match Limited::new(body, MAX_COMPOSE_BODY).collect().await {
            Ok(collected) => collected.to_bytes(),
            Err(error) => {
                tracing::warn!(%error, "cannot read a compose request body");
                return html_response(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "<!doctype html><title>smime-proxy</title><p>smime-proxy could not read this request \
                     (too large or cut off); nothing was sent.</p>\n"
                        .to_owned(),
                )
                .into();
            }
        };
        let header = |name: &str| parts.headers.get(name).and_then(|v| v.to_str().ok());
        let head = Head {
            method: parts.method.as_str(),
            path: parts.uri.path(),
            query,
            content_type: header(header::CONTENT_TYPE.as_str()),
        };
        let csrf_header = rule.csrf.header.as_deref().and_then(header);
        let classified = classify(rule, candidates, &head, csrf_header, body);
        if classified.unreadable && rule.adapter.is_some() {
            // Whether Sign or Encrypt was on cannot be read: fail closed.
            tracing::warn!(rule = rule.name, "a compose request's JSON body could not be read: not sent");
            return crate::flows::not_readable().into();
        }
        if classified.stripped {
            parts.headers.remove(header::TRANSFER_ENCODING);
            parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(classified.body.len()));
        }
        let site = parts.uri.authority().map(|a| a.to_string()).unwrap_or_default();
        let Some(request) = classified.request else {
            if classified.wants_smime() {
                tracing::warn!(rule = rule.name, "S/MIME asked for in a request no rule entry recognised: not sent");
                return crate::flows::not_sent().into();
            }
            return Request::from_parts(parts, Body::from(classified.body)).into();
        };
        let forward = Request::from_parts(parts, Body::from(classified.body));
        match self.shared.compose.request(rule, &site, submission, request, forward).await {
            Verdict::Forward(req) => req.into(),
            Verdict::Respond(res) => res.into(),
        }
    }
}

/// A host a configured webmail's rule blocks: it would receive compose text.
fn blocked_host(host: &str) -> Response<Body> {
    html_response(
        StatusCode::FORBIDDEN,
        format!(
            "<!doctype html><title>smime-proxy</title><p>smime-proxy blocks {}: a webmail you use through it \
             would send the text you write there (a cloud spell checker).</p>\n",
            crate::markup::escape(host)
        ),
    )
}

fn forbidden_peer() -> Response<Body> {
    html_response(
        StatusCode::FORBIDDEN,
        "<!doctype html><title>smime-proxy</title><p>smime-proxy serves this machine only.</p>\n".to_owned(),
    )
}
