//! [`ReadFlow`]: a message view of the webmail (an HTML page, or a JSON answer holding one
//! or more messages) on its way to the browser. When a message may be S/MIME, its raw
//! message is fetched with the browser's session (the rule's `raw_message` URL), opened,
//! rendered into a single-use view, and the rule's `replace` element or JSON value gets
//! an iframe to it on the own origin instead of the webmail's body. The webmail's page
//! never holds the plaintext.

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hudsucker::hyper::header::{self, HeaderMap, HeaderName};
use hudsucker::hyper::{Method, Request, StatusCode};
use smime_crypto::{SignatureStatus, VerifyOptions};
use zeroize::Zeroizing;

use super::open::{self, Reading, Shape};
use super::render;
use super::views::{View, ViewId, ViewStore};
use crate::flows::Services;
use crate::flows::original::{Inner, Original};
use crate::form::json_text;
use crate::http::{FetchError, Fetched, session_headers, web_origin};
use crate::markup::escape;
use crate::rewrite::{JsonAnswer, PageCharset, replace_content};
use crate::rules::{AnswerKind, AnswerPage, Query, Rule, ViewBody, ViewPage};

/// Largest raw message fetched for decryption.
const MAX_RAW: usize = 64 * 1024 * 1024;

/// Words whose presence in a view page means it may show an S/MIME message: every
/// webmail that lists the message's parts names the `application/pkcs7-mime` part or the
/// `.p7m`/`.p7s` file. Pages without them are passed on without fetching anything.
const SMIME_HINTS: &[&[u8]] = &[b"pkcs7", b".p7m", b".p7s"];

/// A view request, as the handler saw it: what the flow needs to fetch the raw message
/// with the same session.
#[derive(Debug, Clone)]
pub struct ViewRequest {
    /// The site's rule.
    pub rule: Arc<Rule>,
    /// The rule's view this request loads.
    pub view: ViewPage,
    /// The page's origin, `https://host[:port]` (default port left out).
    pub origin: String,
    /// The request path.
    pub path: String,
    /// The raw query string.
    pub query: String,
    /// The browser's session headers ([`session_headers`]), plus the rule's CSRF header
    /// when the browser sent one (JSON apps want it on every request).
    pub session: HeaderMap,
}

impl ViewRequest {
    /// From the browser's request parts; `None` when the URI has no authority.
    pub fn new(rule: Arc<Rule>, view: &ViewPage, uri: &hudsucker::hyper::Uri, headers: &HeaderMap) -> Option<Self> {
        let mut session = session_headers(headers);
        if let Some(name) = rule.csrf.header.as_deref().and_then(|n| HeaderName::from_bytes(n.as_bytes()).ok())
            && let Some(value) = headers.get(&name)
        {
            session.insert(name, value.clone());
        }
        Some(Self {
            rule,
            view: view.clone(),
            origin: web_origin(uri)?,
            path: uri.path().to_owned(),
            query: uri.query().unwrap_or_default().to_owned(),
            session,
        })
    }

    /// Whether the view's answer is JSON.
    pub fn is_json(&self) -> bool {
        matches!(self.view.body, ViewBody::Json(_))
    }

    /// The raw message's URL, with `values` of a message in a JSON answer.
    fn raw_message_url(&self, values: &[(String, String)]) -> Option<String> {
        let target = self.view.raw_message_target(&self.path, &Query::parse(&self.query), values)?;
        Some(format!("{}{target}", self.origin))
    }
}

/// A request that opens a compose answering a message, as the handler saw it: where the
/// original is, and the session to fetch it with.
#[derive(Debug, Clone)]
pub struct AnswerRequest {
    /// Reply or forward.
    pub kind: AnswerKind,
    /// The page's origin, `https://host[:port]`.
    pub origin: String,
    /// The original's raw message URL (`None` when the request lacks a parameter).
    raw_url: Option<String>,
    /// The raw message comes with LF line ends.
    raw_message_lf: bool,
    /// The browser's session headers.
    session: HeaderMap,
}

impl AnswerRequest {
    /// From the browser's request parts; `None` when the URI has no authority.
    pub fn new(answer: &AnswerPage, uri: &hudsucker::hyper::Uri, headers: &HeaderMap) -> Option<Self> {
        let origin = web_origin(uri)?;
        let target = answer.raw_message_target(uri.path(), &Query::parse(uri.query().unwrap_or_default()));
        Some(Self {
            kind: answer.kind,
            raw_url: target.map(|t| format!("{origin}{t}")),
            origin,
            raw_message_lf: answer.raw_message_lf,
            session: session_headers(headers),
        })
    }
}

/// What the read flow makes of one message a view shows.
enum Outcome {
    /// Not S/MIME (or cannot be checked without a raw message): unchanged.
    Unchanged,
    /// The frame showing the opened message, in place of the webmail's body.
    Frame(String),
    /// A notice put before the webmail's body.
    Notice(String),
}

/// The read flow.
#[derive(Debug)]
pub struct ReadFlow {
    views: Arc<ViewStore>,
    /// The own origin's host, where the frames are served.
    origin_host: String,
}

impl ReadFlow {
    /// A flow storing its views in `views`, served by the own origin `origin_host`.
    pub fn new(views: Arc<ViewStore>, origin_host: String) -> Self {
        Self { views, origin_host }
    }

    /// The own origin's host, where the frames are served.
    pub fn origin_host(&self) -> &str {
        &self.origin_host
    }

    /// The view answer `page` (in `charset` when HTML) rewritten, or `None` to pass it
    /// unchanged. Keys, certificates and the upstream client come from `services`.
    pub async fn view_page(
        &self,
        services: &Arc<Services>,
        request: &ViewRequest,
        page: &[u8],
        charset: PageCharset,
    ) -> Option<Vec<u8>> {
        match &request.view.body {
            ViewBody::Html { replace } => {
                if !mentions_smime(page) {
                    return None;
                }
                let url = request.raw_message_url(&[]);
                match self.outcome(services, request, url).await {
                    Outcome::Unchanged => None,
                    Outcome::Notice(html) => match replace_content(page, charset, replace, &html, true) {
                        Ok((out, true)) => Some(out),
                        _ => None,
                    },
                    Outcome::Frame(html) => match replace_content(page, charset, replace, &html, false) {
                        Ok((out, true)) => Some(out),
                        Ok((_, false)) => {
                            tracing::warn!(rule = request.rule.name, "view: the replace selector matched nothing");
                            None
                        }
                        Err(error) => {
                            tracing::warn!(%error, "view: rewriting failed");
                            None
                        }
                    },
                }
            }
            ViewBody::Json(json) => {
                let mut answer = JsonAnswer::parse(page, json.envelope.as_ref())?;
                let messages: Vec<(bool, Vec<(String, String)>)> = answer
                    .messages(&json.each)
                    .into_iter()
                    .map(|message| {
                        let values = json
                            .values
                            .iter()
                            .filter_map(|(name, path)| Some((name.clone(), json_text(path.first(message)?))))
                            .collect();
                        (mentions_smime(message.to_string().as_bytes()), values)
                    })
                    .collect();
                let mut changed = false;
                for (index, (smime, values)) in messages.into_iter().enumerate() {
                    if !smime {
                        continue;
                    }
                    let url = request.raw_message_url(&values);
                    changed |= match self.outcome(services, request, url).await {
                        Outcome::Unchanged => false,
                        Outcome::Notice(html) => answer.replace(json, index, &html, true),
                        Outcome::Frame(html) => answer.replace(json, index, &html, false),
                    };
                }
                changed.then(|| answer.to_bytes())
            }
        }
    }

    /// Fetches the raw message at `url` and decides what the view shows of it.
    async fn outcome(&self, services: &Arc<Services>, request: &ViewRequest, url: Option<String>) -> Outcome {
        let started = Instant::now();
        let raw = match fetch_raw(services, &request.session, url, request.view.raw_message_lf).await {
            Ok(raw) => raw,
            Err(reason) => {
                tracing::warn!(rule = request.rule.name, %reason, "cannot fetch the raw message of a view");
                return Outcome::Notice(notice(&format!(
                    "smime-proxy could not fetch this message to check it for S/MIME: {reason}"
                )));
            }
        };
        let fetched = started.elapsed();
        match open::shape(&raw) {
            Shape::Plain => {
                tracing::debug!(raw_len = raw.len(), "view: not S/MIME");
                Outcome::Unchanged
            }
            Shape::NestedOnly => {
                tracing::info!(raw_len = raw.len(), "view: S/MIME in a nested part only, not opened");
                Outcome::Notice(notice(
                    "smime-proxy: only a part inside this message is S/MIME; the message as a whole is neither \
                     encrypted nor signed. smime-proxy does not open such parts, so nothing here is verified.",
                ))
            }
            Shape::TopLevel => match self.open_into_view(services, &request.origin, raw, None, MESSAGE_HEIGHT).await {
                Some((frame, _)) => {
                    tracing::info!(
                        fetch_ms = fetched.as_millis() as u64,
                        total_ms = started.elapsed().as_millis() as u64,
                        "view: S/MIME message shown in a frame"
                    );
                    Outcome::Frame(frame)
                }
                None => Outcome::Unchanged,
            },
        }
    }

    /// The message a compose answers, fetched and opened with the user's keys, and (when
    /// it is S/MIME) the frame that shows it in the compose page; `None` when it cannot
    /// be fetched.
    pub async fn original(
        &self,
        services: &Arc<Services>,
        request: &AnswerRequest,
    ) -> Option<(Original, Option<String>)> {
        let raw = match fetch_raw(services, &request.session, request.raw_url.clone(), request.raw_message_lf).await {
            Ok(raw) => raw,
            Err(reason) => {
                tracing::warn!(%reason, "cannot fetch the message a compose answers");
                return None;
            }
        };
        match open::shape(&raw) {
            Shape::TopLevel => {
                let (frame, original) =
                    self.open_into_view(services, &request.origin, raw, Some(request.kind), ORIGINAL_HEIGHT).await?;
                Some((original?, Some(frame)))
            }
            Shape::Plain | Shape::NestedOnly => Some((Original::new(request.kind, &raw, None), None)),
        }
    }

    /// Opens `raw`, checks a valid signer for revocation, learns it, stores the rendered
    /// view for a frame of `origin`; returns the iframe markup pointing at it, and what an
    /// answer of `answer`'s kind needs of the message.
    async fn open_into_view(
        &self,
        services: &Arc<Services>,
        origin: &str,
        raw: Bytes,
        answer: Option<AnswerKind>,
        height: &str,
    ) -> Option<(String, Option<Original>)> {
        let services = Arc::clone(services);
        let id = ViewId::random().ok()?;
        let frame_id = id.as_str().to_owned();
        let opening = Arc::clone(&services);
        let raw_headers = raw.clone();
        let opened = tokio::task::spawn_blocking(move || {
            let verify = VerifyOptions { trust: opening.trust.clone(), ..VerifyOptions::default() };
            open::open(&raw, &opening.keys, &verify)
        })
        .await;
        let Ok(mut reading) = opened else {
            tracing::error!("view: opening the message panicked");
            return None;
        };
        check_signer_revocation(&services, &mut reading).await;
        let result = tokio::task::spawn_blocking(move || {
            learn(&services, &raw_headers, &reading);
            let original = answer.map(|kind| Original::new(kind, &raw_headers, inner(&reading)));
            let document = render::document(&reading, &frame_id);
            let attachments = match &mut reading {
                Reading::Opened { content, .. } => {
                    std::mem::take(&mut content.attachments).into_iter().map(|a| a.part).collect()
                }
                Reading::Failed(_) => Vec::new(),
            };
            (describe(&reading), document, attachments, original)
        })
        .await;
        let Ok((kind, document, attachments, original)) = result else {
            tracing::error!("view: rendering the message panicked");
            return None;
        };
        tracing::info!(kind, doc_len = document.len(), attachments = attachments.len(), "view: opened");
        let view = View { origin: origin.to_owned(), document: Zeroizing::new(document.into_bytes()), attachments };
        let id = self.views.insert(id, view);
        Some((self.frame(&id, height), original))
    }

    /// The iframe markup showing the view `id`.
    fn frame(&self, id: &ViewId, height: &str) -> String {
        format!(
            "<iframe class=\"smime-proxy-view\" src=\"https://{host}/view/{id}\" title=\"Message (smime-proxy)\" \
             sandbox=\"allow-downloads allow-popups allow-popups-to-escape-sandbox\" referrerpolicy=\"strict-origin\" \
             style=\"display:block;width:100%;height:{height};border:0\"></iframe>",
            host = escape(&self.origin_host),
            id = id.as_str(),
        )
    }

    /// A frame for a page of `origin` showing one CMS structure of that page (an armored
    /// form field, `flows::fields`), opened like a message with its banner; when `der` is
    /// the reason it cannot be read, the banner says so.
    pub async fn cms_frame(
        &self,
        services: &Arc<Services>,
        origin: &str,
        der: Result<Vec<u8>, String>,
    ) -> Option<String> {
        match der {
            Ok(der) => {
                let raw = cms_message(der);
                Some(self.open_into_view(services, origin, raw, None, FIELD_HEIGHT).await?.0)
            }
            Err(reason) => {
                let id = ViewId::random().ok()?;
                let document = render::document(&Reading::Failed(open::Failure::Unreadable(reason)), id.as_str());
                let view = View {
                    origin: origin.to_owned(),
                    document: Zeroizing::new(document.into_bytes()),
                    attachments: Vec::new(),
                };
                let id = self.views.insert(id, view);
                Some(self.frame(&id, FIELD_HEIGHT))
            }
        }
    }

    /// The text of an encrypted form field's CMS structure, when it opens cleanly with the
    /// unlocked keys (decrypted, any signature valid, text inside, its header field
    /// `site_field` naming `site`); else why not.
    pub async fn field_text(
        &self,
        services: &Arc<Services>,
        der: Vec<u8>,
        site_field: &'static str,
        site: &str,
    ) -> Result<Zeroizing<String>, String> {
        let services = Arc::clone(services);
        let site = site.to_owned();
        tokio::task::spawn_blocking(move || {
            let verify = VerifyOptions { trust: services.trust.clone(), ..VerifyOptions::default() };
            open::field_text(&cms_message(der), &services.keys, &verify, (site_field, &site))
        })
        .await
        .map_err(|_| "opening the field stopped unexpectedly".to_owned())?
        .map_err(|failure| describe_failure(&failure).to_owned())
    }

    /// A response of `origin` whose body is S/MIME (`content_type` is
    /// `application/pkcs7-mime` or `multipart/signed`): opened like a message into a view,
    /// and the page that shows its frame in place of the response.
    pub async fn smime_page(
        &self,
        services: &Arc<Services>,
        origin: &str,
        content_type: &str,
        body: Bytes,
    ) -> Option<String> {
        let mut raw = Vec::with_capacity(body.len() + content_type.len() + 64);
        raw.extend_from_slice(b"MIME-Version: 1.0\r\nContent-Type: ");
        raw.extend_from_slice(content_type.as_bytes());
        raw.extend_from_slice(b"\r\nContent-Transfer-Encoding: binary\r\n\r\n");
        raw.extend_from_slice(&body);
        let (frame, _) = self.open_into_view(services, origin, Bytes::from(raw), None, PAGE_HEIGHT).await?;
        Some(format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">\
             <title>S/MIME page (smime-proxy)</title></head>\n<body style=\"margin:0\">{frame}</body></html>\n"
        ))
    }
}

/// Frame heights: a message view, the original in an answer's compose, a form field, a
/// whole S/MIME page.
const MESSAGE_HEIGHT: &str = "80vh";
const ORIGINAL_HEIGHT: &str = "40vh";
const FIELD_HEIGHT: &str = "16em";
const PAGE_HEIGHT: &str = "100vh";

/// A CMS structure (DER) as the `application/pkcs7-mime` message the read flow opens.
fn cms_message(der: Vec<u8>) -> Bytes {
    Bytes::from(
        smime_crypto::mime::pkcs7_mime_entity(b"MIME-Version: 1.0\r\n".to_vec(), "enveloped-data", der).to_vec(),
    )
}

/// Why a field could not be opened, in a few words (no content).
fn describe_failure(failure: &open::Failure) -> &str {
    match failure {
        open::Failure::Locked { .. } => "the key store is locked",
        open::Failure::NotForYou => "not for your key",
        open::Failure::DecryptionFailed => "decryption failed",
        open::Failure::Unreadable(reason) => reason,
    }
}

/// What an answer needs of an opened message that was encrypted: its real header fields
/// and its text (`None` for a message that was not encrypted: the webmail saw it all).
fn inner(reading: &Reading) -> Option<Inner> {
    let Reading::Opened { layers, content, .. } = reading else { return None };
    if !layers.iter().any(|l| matches!(l, smime_crypto::Layer::Encrypted { .. })) {
        return None;
    }
    let field = |name: &str| content.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
    Some(Inner { subject: field("Subject"), from: field("From"), date: field("Date"), text: content.text.clone() })
}

/// The raw message at `url`, with the browser's `session`; bare LFs made CRLF when `lf`.
async fn fetch_raw(services: &Services, session: &HeaderMap, url: Option<String>, lf: bool) -> Result<Bytes, String> {
    let url = url.ok_or("the page's URL lacks a parameter")?;
    let mut builder = Request::builder().method(Method::GET).uri(&url);
    for (name, value) in session {
        builder = builder.header(name, value);
    }
    builder = builder.header(header::ACCEPT, "text/plain, message/rfc822, */*");
    let req = builder.body(Full::new(Bytes::new())).map_err(|e| e.to_string())?;
    let fetched: Fetched = services.upstream.send(req, MAX_RAW).await.map_err(|e: FetchError| e.to_string())?;
    if fetched.status != StatusCode::OK {
        return Err(format!("the webmail answered {}", fetched.status));
    }
    // An HTML answer is an error or login page (e.g. an expired session), not a message.
    let content_type = fetched.headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    if crate::rewrite::is_html(content_type) {
        return Err("the webmail answered with a page instead of the message (session expired?)".into());
    }
    Ok(if lf { crlf(&fetched.body) } else { fetched.body })
}

/// `raw` with every bare LF made CRLF (the message as the IMAP server has it).
fn crlf(raw: &Bytes) -> Bytes {
    let mut out = Vec::with_capacity(raw.len() + raw.len() / 32);
    let mut previous = 0u8;
    for &byte in raw.iter() {
        if byte == b'\n' && previous != b'\r' {
            out.push(b'\r');
        }
        out.push(byte);
        previous = byte;
    }
    Bytes::from(out)
}

fn mentions_smime(page: &[u8]) -> bool {
    SMIME_HINTS.iter().any(|hint| page.windows(hint.len()).any(|w| w.eq_ignore_ascii_case(hint)))
}

/// Asks whether the signer of a valid signature is revoked: a revoked or unknown signer
/// (or, in hard mode, one whose status cannot be learned) makes the signature INVALID;
/// the banner says what was checked, how and as of when.
async fn check_signer_revocation(services: &Services, reading: &mut Reading) {
    let Reading::Opened { signature: Some(summary), revocation, .. } = reading else { return };
    if summary.status != SignatureStatus::Valid {
        return;
    }
    let Some(signer) = summary.signer.as_mut() else { return };
    let (Some(certificate), Some(chain)) = (&signer.certificate, &signer.chain) else { return };
    let checked = match services.pki.embedded(certificate, &chain.issuer, &signer.embedded_revocation) {
        Some(checked) => checked,
        None => services.pki.check(certificate, &chain.issuer).await,
    };
    match services.pki.refusal(&checked) {
        // The reason is the banner's "Invalid: ..." line; no second line says it again.
        Some(refusal) => {
            signer.status = SignatureStatus::Invalid(refusal.clone());
            summary.status = SignatureStatus::Invalid(refusal);
        }
        None => *revocation = Some(checked.describe()),
    }
}

/// Remembers the signer's certificate of a valid signature (for encrypted replies).
fn learn(services: &Services, raw: &[u8], reading: &Reading) {
    let Reading::Opened { signature: Some(summary), .. } = reading else { return };
    let Some(signer) = &summary.signer else { return };
    if summary.status != SignatureStatus::Valid {
        return;
    }
    let message_id = mail_parser::MessageParser::default()
        .parse_headers(raw)
        .and_then(|m| m.message_id().map(str::to_owned))
        .unwrap_or_default();
    match services.certs.learn(signer, &message_id, SystemTime::now()) {
        Ok(Some(fingerprint)) => tracing::info!(%fingerprint, "learned a signer's certificate"),
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "cannot store a signer's certificate"),
    }
}

/// The kind of outcome, for the log (no content, no addresses).
fn describe(reading: &Reading) -> &'static str {
    match reading {
        Reading::Opened { signature: Some(s), .. } if s.status == SignatureStatus::Valid => "valid signature",
        Reading::Opened { signature: Some(_), .. } => "invalid signature",
        Reading::Opened { .. } => "not signed",
        Reading::Failed(open::Failure::Locked { .. }) => "locked",
        Reading::Failed(open::Failure::NotForYou) => "not for these keys",
        Reading::Failed(open::Failure::DecryptionFailed) => "decryption failed",
        Reading::Failed(open::Failure::Unreadable(_)) => "unreadable",
    }
}

/// A notice from the proxy in the webmail's page (no message content in it).
fn notice(text: &str) -> String {
    format!(
        "<p class=\"smime-proxy-notice\" role=\"status\" style=\"padding:.5em 1em;border:2px solid #f9ab00;\
         background:#fef7e0\">{}</p>",
        escape(text)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lf_is_restored_to_crlf() {
        assert_eq!(&crlf(&Bytes::from_static(b"a\nb\r\nc\n\n"))[..], b"a\r\nb\r\nc\r\n\r\n");
    }

    #[test]
    fn hints() {
        assert!(mentions_smime(br#"<li class="application pkcs7-mime p7m">"#));
        assert!(mentions_smime(b"<a>SMIME.P7S</a>"));
        assert!(!mentions_smime(b"<div id=messagebody>hello</div>"));
    }

    #[test]
    fn view_requests_know_their_origin() {
        let rule = Arc::new(crate::rules::RuleSet::bundled().unwrap().get("roundcube").unwrap().as_ref().clone());
        let view = rule.views[0].clone();
        let uri: hudsucker::hyper::Uri = "https://mail.example:443/?_task=mail&_uid=1".parse().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "s=1".parse().unwrap());
        headers.insert(header::AUTHORIZATION, "x".parse().unwrap());
        let request = ViewRequest::new(Arc::clone(&rule), &view, &uri, &headers).unwrap();
        assert_eq!(request.origin, "https://mail.example");
        assert_eq!(request.query, "_task=mail&_uid=1");
        assert!(request.session.contains_key(header::COOKIE) && !request.session.contains_key(header::AUTHORIZATION));
        let uri: hudsucker::hyper::Uri = "https://localhost:8443/".parse().unwrap();
        assert_eq!(ViewRequest::new(rule, &view, &uri, &headers).unwrap().origin, "https://localhost:8443");
    }
}
