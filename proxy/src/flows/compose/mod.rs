//! The compose flow: what leaves the device when the user sends with Sign and/or Encrypt.
//!
//! ```text
//! compose page ──▶ controls shown, senders remembered (sessions.rs)
//! toggle change ─▶ report (answered here, never forwarded)
//! upload ────────▶ S/MIME on: kept on the device (sessions.rs); off: forwarded
//! remove ────────▶ a held attachment: dropped here; else forwarded
//! spell check,
//! editor switch ─▶ refused while a compose of the site encrypts (the text would go)
//! draft ─────────▶ Encrypt on: refused (drafts are never stored in clear); else forwarded
//! send ──────────▶ S/MIME on: sender, recipients (recipients.rs), key and certificates,
//!                  message (build.rs), smime_crypto::protect_entity, delivery through
//!                  the webmail (adapters), the page's "sent" answer. Any failure: the
//!                  page's error answer, nothing sent.
//! ```
//!
//! Fail closed everywhere: a request asking for S/MIME is never forwarded as it is.

mod build;
pub(crate) mod recipients;
mod sessions;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt as _, Limited};
use hudsucker::Body;
use hudsucker::hyper::header::{self, HeaderMap};
use hudsucker::hyper::{Request, Response, StatusCode};
use smime_crypto::{
    AlgorithmChoice, Capabilities, Certificate, Identity, KeyKind, Protection, RecipientProfile, SignOptions,
    choose_algorithms, protect_entity,
};
use zeroize::Zeroizing;

use self::build::{Draft, HIDDEN_SUBJECT, HeaderProtection, Thread, build};
use self::recipients::{Mailbox, NoCertificate, Recipient, certificates_for, parse_list};
use self::sessions::{HeldFile, SenderOption, Sessions};
use super::original::Original;
use super::{Services, Verdict, not_sent};
use crate::adapters::{self, Delivery, DeliveryError, HeldAttachment, Webmail, WebmailRequest};
use crate::config::ComposeOptions;
use crate::form::Form;
use crate::http::{FetchError, session_headers};
use crate::rewrite::ControlsState;
use crate::rules::{ComposeKind, ComposeRequest, DeliveryRoute, ENCRYPT_FIELD, Query, Rule, SIGN_FIELD, SmimeChoice};
use crate::smtp::{self, Envelope, Submission};
use crate::store::StoreError;

/// How a finished message leaves (the rule's `delivery`, with the site's server).
#[derive(Debug)]
enum Route {
    /// Through the webmail (the adapter).
    Webmail,
    /// Over SMTP by the proxy; the adapter stores the sender's copy.
    Smtp(Submission),
}

/// The compose flow of a running proxy.
#[derive(Debug)]
pub(crate) struct ComposeFlow {
    services: Arc<Services>,
    sessions: Sessions,
    options: ComposeOptions,
}

/// Largest toggle report body.
const MAX_REPORT: usize = 4096;

impl ComposeFlow {
    pub(crate) fn new(services: Arc<Services>, options: ComposeOptions) -> Self {
        Self { services, sessions: Sessions::default(), options }
    }

    /// The state a compose page's controls are shown in (the last known choice of this
    /// compose, else the rule's defaults).
    pub(crate) fn compose_page(&self, rule: &Rule, site: &str, compose_id: Option<&str>) -> ControlsState {
        let mut state = ControlsState::defaults(rule);
        if compose_id.and_then(|id| self.sessions.original(site, id)).is_some_and(|o| o.encrypted) {
            // Answering an encrypted message: encrypted and signed unless the user says otherwise.
            (state.sign, state.encrypt) = (true, true);
            state.status = Some(ANSWERING_ENCRYPTED.to_owned());
            state.frame = compose_id.and_then(|id| self.sessions.take_frame(site, id));
        }
        if let Some(choice) = compose_id.and_then(|id| self.sessions.choice(site, id)) {
            (state.sign, state.encrypt) = (choice.sign, choice.encrypt);
        }
        state.compose_id = compose_id.map(str::to_owned);
        state
    }

    /// Wipes what composes hold decrypted with the user's keys (answered originals) each
    /// time the key store locks. Runs for the life of the proxy.
    pub(crate) async fn forget_decrypted_on_lock(&self) {
        loop {
            self.services.keys.wait_for_lock().await;
            let forgotten = self.sessions.forget_originals();
            tracing::info!(forgotten, "key store locked: answered originals wiped");
        }
    }

    /// Remembers the message compose `compose_id` of `site` answers (reply, forward) and
    /// the frame its page shows it in.
    pub(crate) fn answering(&self, site: &str, compose_id: &str, original: Original, frame: Option<String>) {
        tracing::info!(kind = ?original.kind, encrypted = original.encrypted, "compose answers a message");
        self.sessions.answering(site, compose_id, original, frame);
    }

    /// Remembers a compose page once shown: its sender options and its controls' state.
    pub(crate) fn page_shown(&self, site: &str, state: &ControlsState, senders: Vec<(String, String)>) {
        if let Some(id) = &state.compose_id {
            let senders = senders.into_iter().map(|(value, text)| SenderOption { value, text }).collect();
            self.sessions.opened(site, id, senders, SmimeChoice { sign: state.sign, encrypt: state.encrypt });
        }
    }

    /// A toggle report from a compose page of `site` (`origin` is its `scheme://host`):
    /// only from that page itself (same origin), answered here.
    pub(crate) async fn report(&self, site: &str, origin: &str, req: Request<Body>) -> Response<Body> {
        let (parts, body) = req.into_parts();
        if !same_origin(&parts.headers, origin) {
            tracing::warn!("refused a toggle report from another origin");
            return status(StatusCode::FORBIDDEN);
        }
        let Ok(body) = Limited::new(body, MAX_REPORT).collect().await.map(|c| c.to_bytes()) else {
            return status(StatusCode::PAYLOAD_TOO_LARGE);
        };
        let form = Form::parse(Some("application/x-www-form-urlencoded"), &body);
        let on = |name| form.get(name).is_some_and(|v| !v.is_empty() && v != "0");
        match form.get("_id").filter(|id| !id.is_empty()) {
            Some(id) => {
                let choice = SmimeChoice { sign: on(SIGN_FIELD), encrypt: on(ENCRYPT_FIELD) };
                tracing::info!(sign = choice.sign, encrypt = choice.encrypt, "compose toggles changed");
                self.sessions.choose(site, id, choice);
                status(StatusCode::NO_CONTENT)
            }
            None => status(StatusCode::BAD_REQUEST),
        }
    }

    /// A compose request (its `_smime_*` fields already read and stripped): forwarded,
    /// or answered here.
    pub(crate) async fn request(
        &self,
        rule: &Rule,
        site: &str,
        submission: Option<&(String, u16)>,
        mut request: ComposeRequest,
        forward: Request<Body>,
    ) -> Verdict {
        let id = request.fields.compose_id.clone();
        if let (Some(choice), false) = (request.smime, id.is_empty()) {
            self.sessions.choose(site, &id, choice);
        }
        // A webmail that keeps a compose's attachments on its server and names none in
        // its requests (no `attachments` field: Horde) sends every one held for it.
        if rule.fields.attachments.is_none() && !id.is_empty() {
            request.fields.attachments = self.sessions.held_ids(site, &id);
        }
        let choice = request
            .smime
            .or_else(|| self.sessions.choice(site, &id))
            .unwrap_or(SmimeChoice { sign: false, encrypt: false });
        let smime = choice.sign || choice.encrypt;
        // Spell checks and editor conversions carry no compose id: any encrypting compose
        // of the site stops them.
        let text_only = matches!(request.kind, ComposeKind::Spellcheck | ComposeKind::Convert);
        let encrypting = choice.encrypt || (text_only && self.sessions.any_encrypting(site));
        tracing::info!(
            rule = rule.name,
            kind = request.kind.name(),
            sign = choice.sign,
            encrypt = choice.encrypt,
            "compose request"
        );
        let Some(adapter) = rule.adapter.as_deref().and_then(adapters::by_name) else {
            // Without an adapter the proxy can neither deliver nor answer for the webmail.
            return if smime || encrypting { Verdict::Respond(not_sent()) } else { Verdict::Forward(forward) };
        };
        let page = webmail_request(&forward, request.csrf_token.clone());
        let refuse = |message: &str| Verdict::Respond(adapter.refused(&page, request.kind, message));
        match request.kind {
            // Attachments the webmail keeps (and names in no request) cannot go into a
            // message the proxy builds: refuse rather than send without them.
            ComposeKind::Send
                if smime && rule.fields.attachments.is_none() && self.sessions.uploaded(site, &id) > 0 =>
            {
                refuse(
                    "Not sent: attachments added while Sign and Encrypt were off are on the webmail's server, not \
                     on this device, and would be missing from the S/MIME message. Remove them and attach them \
                     again with Sign or Encrypt on, or send without S/MIME.",
                )
            }
            ComposeKind::Send if smime => {
                let route = match (rule.delivery, submission) {
                    (DeliveryRoute::Smtp, Some((host, port))) => {
                        Route::Smtp(Submission { host: host.clone(), port: *port })
                    }
                    (DeliveryRoute::Smtp, None) => return refuse("Not sent: this site has no submission server set."),
                    (DeliveryRoute::Webmail, _) => Route::Webmail,
                };
                self.send(adapter, &route, site, choice, &request, &page).await
            }
            ComposeKind::Send | ComposeKind::Draft
                if self.sessions.holds_any(site, &id, &request.fields.attachments) =>
            {
                refuse(
                    "Attachments added while Sign or Encrypt was on are kept on this device and cannot go out \
                     unprotected: turn Sign or Encrypt on again, or remove those attachments and attach them again.",
                )
            }
            ComposeKind::Draft if choice.encrypt => refuse(
                "Drafts of an encrypted message are not saved to the webmail (it would store them readable). \
                 The message stays in this window; send it, or turn Encrypt off to save a draft.",
            ),
            ComposeKind::Upload if smime => self.hold(adapter, site, &id, &request, &page).await,
            ComposeKind::Remove => {
                let file = adapter.attachment_id(&request.fields.attachment_id);
                if self.sessions.remove(site, &id, file) {
                    Verdict::Respond(adapter.removed(&page, file))
                } else {
                    self.sessions.note_uploaded(site, &id, false);
                    Verdict::Forward(forward)
                }
            }
            ComposeKind::Upload => {
                self.sessions.note_uploaded(site, &id, true);
                Verdict::Forward(forward)
            }
            ComposeKind::Spellcheck if encrypting => {
                refuse("Spell checking is off while Encrypt is on: it would send the text to the webmail.")
            }
            ComposeKind::Convert if encrypting => refuse(
                "Switching the editor is off while Encrypt is on: the webmail converts the text on its server. \
                 Choose the editor before turning Encrypt on.",
            ),
            ComposeKind::Send | ComposeKind::Draft | ComposeKind::Spellcheck | ComposeKind::Convert => {
                Verdict::Forward(forward)
            }
        }
    }

    /// Keeps an upload's files on the device and answers as the webmail would.
    async fn hold(
        &self,
        adapter: &dyn Webmail,
        site: &str,
        id: &str,
        request: &ComposeRequest,
        page: &WebmailRequest,
    ) -> Verdict {
        let refuse = |message: &str| Verdict::Respond(adapter.refused(page, ComposeKind::Upload, message));
        if id.is_empty() {
            return refuse(
                "smime-proxy could not tell which message this attachment belongs to; nothing was uploaded.",
            );
        }
        let stored = match adapter.prepare_hold(&self.services.upstream, page, id).await {
            Ok(stored) => stored.unwrap_or_else(|| id.to_owned()),
            Err(error) => {
                return refuse(&format!("smime-proxy could not keep this attachment ({error}); nothing was uploaded."));
            }
        };
        let mut held = Vec::new();
        for upload in &request.fields.uploads {
            let Ok(file_id) = crate::random::random_hex(8).map(|hex| format!("smp{hex}")) else {
                return refuse("smime-proxy could not keep this attachment (no randomness); nothing was uploaded.");
            };
            let content_type = if upload.content_type.is_empty() {
                "application/octet-stream".to_owned()
            } else {
                upload.content_type.clone()
            };
            let file = HeldFile {
                id: file_id,
                name: upload.name.clone(),
                content_type,
                data: Zeroizing::new(upload.data.to_vec()),
            };
            held.push((file.id.clone(), file.name.clone(), file.content_type.clone(), file.data.len()));
            if let Err(error) = self.sessions.hold(site, id, file) {
                return refuse(&error.to_string());
            }
        }
        tracing::info!(
            files = held.len(),
            bytes = held.iter().map(|h| h.3).sum::<usize>(),
            "attachment kept on the device"
        );
        let listed: Vec<HeldAttachment<'_>> = held
            .iter()
            .map(|(id, name, content_type, size)| HeldAttachment { id, name, content_type, size: *size })
            .collect();
        Verdict::Respond(adapter.held(page, &stored, &listed))
    }

    /// Signs and/or encrypts the message and delivers it through the webmail.
    async fn send(
        &self,
        adapter: &dyn Webmail,
        route: &Route,
        site: &str,
        choice: SmimeChoice,
        request: &ComposeRequest,
        page: &WebmailRequest,
    ) -> Verdict {
        let f = &request.fields;
        let started = std::time::Instant::now();
        let folder = if f.sent_folder.is_empty() { "Sent" } else { f.sent_folder.as_str() };
        match self.protect_and_deliver(adapter, route, site, choice, request, page, folder).await {
            Ok((bytes, notices)) => {
                self.sessions.finish(site, &f.compose_id);
                tracing::info!(
                    sign = choice.sign,
                    encrypt = choice.encrypt,
                    bytes,
                    ms = started.elapsed().as_millis() as u64,
                    "sent an S/MIME message"
                );
                let mut confirmation = String::from("Message sent successfully (S/MIME, by smime-proxy).");
                for notice in &notices {
                    confirmation.push_str(" Note: ");
                    confirmation.push_str(notice);
                }
                Verdict::Respond(adapter.sent(page, &f.compose_id, folder, &confirmation))
            }
            Err(message) => {
                tracing::warn!(sign = choice.sign, encrypt = choice.encrypt, "S/MIME send stopped, nothing sent");
                Verdict::Respond(adapter.refused(page, ComposeKind::Send, &format!("Not sent: {message}")))
            }
        }
    }

    /// Everything a send needs, each failure as the sentence the user sees. Returns the
    /// size of the delivered message and what the user should know about it.
    #[allow(clippy::too_many_arguments, reason = "one send's context, each part used once")]
    async fn protect_and_deliver(
        &self,
        adapter: &dyn Webmail,
        route: &Route,
        site: &str,
        choice: SmimeChoice,
        request: &ComposeRequest,
        page: &WebmailRequest,
        folder: &str,
    ) -> Result<(usize, Vec<String>), String> {
        let f = &request.fields;
        let from = self.sender(site, &f.compose_id, &f.from)?;
        let list =
            |posted: &str| parse_list(posted).map_err(|bad| format!("\u{201c}{bad}\u{201d} is not an e-mail address."));
        let (to, cc, bcc) = (list(&f.to)?, list(&f.cc)?, list(&f.bcc)?);
        if to.is_empty() && cc.is_empty() && bcc.is_empty() {
            return Err("add at least one recipient.".into());
        }
        let attachments = self.sessions.held(site, &f.compose_id, &f.attachments).map_err(|missing| {
            format!(
                "{} attachment{} went to the webmail before Sign or Encrypt was turned on, so {} not on this \
                 device: remove {} and attach {} again.",
                missing.len(),
                if missing.len() == 1 { "" } else { "s" },
                if missing.len() == 1 { "it is" } else { "they are" },
                if missing.len() == 1 { "it" } else { "them" },
                if missing.len() == 1 { "it" } else { "them" },
            )
        })?;

        let identity: Option<Arc<Identity>> = if choice.sign {
            Some(self.services.keys.identity_for(&from.address).map_err(|e| format!("cannot sign: {e}."))?)
        } else {
            None
        };
        let (encryption, notices) = if choice.encrypt {
            let (recipients, mut notices) = self.recipients(&from, identity.as_deref(), [&to, &cc, &bcc]).await?;
            let algorithms = algorithms_for(&recipients);
            notices.extend(algorithms.mixed_key_kinds.then(|| mixed_key_kinds_notice(&recipients)));
            let certificates: Vec<Certificate> = recipients.into_iter().map(|r| r.certificate).collect();
            (Some((certificates, algorithms.options)), notices)
        } else {
            (None, Vec::new())
        };

        let original = self.sessions.original(site, &f.compose_id);
        let subject_hidden = choice.encrypt && self.options.header_protection;
        let answer = Answer::of(original.as_deref(), choice.encrypt, subject_hidden, &f.subject, &f.body, f.html);
        let mut notices = notices;
        notices.extend(answer.notice.clone());
        let date = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let domain = from.address.rsplit_once('@').map_or("smime-proxy.invalid", |(_, d)| d);
        let message_id = crate::random::random_hex(16)
            .map(|hex| format!("{hex}@{domain}"))
            .map_err(|_| "the system random number generator failed.".to_owned())?;
        let protection = match (self.options.header_protection, choice.encrypt) {
            (false, _) => HeaderProtection::Off,
            (true, true) => HeaderProtection::Cipher,
            (true, false) => HeaderProtection::Clear,
        };
        let references = original.as_deref().and_then(Original::references);
        let draft = Draft {
            from: &from,
            to: &to,
            cc: &cc,
            subject: &answer.subject,
            body: answer.body(&f.body),
            html: f.html,
            attachments: &attachments,
            date,
            message_id: &message_id,
            thread: Thread {
                in_reply_to: original.as_deref().and_then(Original::in_reply_to),
                references: references.as_deref(),
            },
        };
        let built = build(&draft, protection);
        drop(attachments);
        let bcc_addresses: Vec<String> = bcc.iter().map(|m| m.address.clone()).collect();

        let message = tokio::task::spawn_blocking(move || {
            let sign_options = SignOptions::default();
            let protection = Protection {
                sign: identity.as_deref().map(|i| (i, &sign_options)),
                encrypt: encryption.as_ref().map(|(certificates, options)| (certificates.as_slice(), options)),
                opaque: false,
            };
            protect_entity(built.outer, built.entity, &protection).map(|m| m.to_vec())
        })
        .await
        .map_err(|_| "signing or encryption stopped unexpectedly.".to_owned())?
        .map_err(|e| format!("signing or encryption failed: {e}."))?;

        let delivery = Delivery {
            message: &message,
            message_id: &message_id,
            sent_folder: folder,
            from: &f.from,
            to: &f.to,
            cc: &f.cc,
            bcc: &f.bcc,
            bcc_addresses: &bcc_addresses,
        };
        match route {
            Route::Webmail => adapter.deliver(&self.services.upstream, page, &delivery).await.map_err(|e| match e {
                DeliveryError::Fetch(FetchError::TimedOut(_)) => {
                    format!("{e}: it may or may not have been sent; look in your Sent folder before sending it again.")
                }
                e => format!("the webmail did not deliver it ({e}); it was not sent."),
            })?,
            Route::Smtp(server) => {
                let login = self.services.keys.login_for(site).ok_or(
                    "smime-proxy sends this webmail's mail itself, as you, and has not seen you log in since it \
                     started or was last locked: log out of the webmail and log in again.",
                )?;
                let everyone: Vec<String> = to.iter().chain(&cc).chain(&bcc).map(|m| m.address.clone()).collect();
                let envelope = Envelope {
                    user: &login.user,
                    password: &login.password,
                    from: &from.address,
                    recipients: &everyone,
                    message: &message,
                };
                smtp::submit(server, Arc::clone(&self.services.tls), &envelope)
                    .await
                    .map_err(|e| format!("{e}; it was not sent."))?;
                // Sent: a failure to store the sender's copy no longer stops anything.
                if let Err(error) = adapter.deliver(&self.services.upstream, page, &delivery).await {
                    tracing::warn!(%error, "sent, but the copy for the sent folder could not be stored");
                }
            }
        }
        Ok((message.len(), notices))
    }

    /// The sender's mailbox: the posted value when it is an address, else the compose
    /// page's option with that value.
    fn sender(&self, site: &str, compose_id: &str, posted: &str) -> Result<Mailbox, String> {
        let text = if posted.contains('@') {
            Some(posted.to_owned())
        } else {
            self.sessions.senders(site, compose_id).into_iter().find(|s| s.value == posted).map(|s| s.text)
        };
        text.and_then(|t| parse_list(&t).ok()).and_then(|list| list.into_iter().next()).ok_or_else(|| {
            "smime-proxy does not know the sender of this message (the compose page was opened before \
                 the proxy started?): reload the compose page."
                .to_owned()
        })
    }

    /// The certificates to encrypt to: every recipient and the sender (whose copy in the
    /// sent folder must stay readable); and the notices of revocation checks that could
    /// not be made (soft mode).
    async fn recipients(
        &self,
        from: &Mailbox,
        identity: Option<&Identity>,
        lists: [&[Mailbox]; 3],
    ) -> Result<(Vec<Recipient>, Vec<String>), String> {
        let mut addresses: Vec<&str> = lists.iter().flat_map(|l| l.iter()).map(|m| m.address.as_str()).collect();
        addresses.sort_unstable_by_key(|a| a.to_ascii_lowercase());
        addresses.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        let unreadable = |e: StoreError| format!("the certificate store could not be read ({e}).");
        let resolved = certificates_for((&*self.services).into(), &addresses).await.map_err(unreadable)?;
        if !resolved.missing.is_empty() {
            return Err(no_certificate_message(&resolved.missing));
        }
        let mut recipients = resolved.recipients;
        let ours = |identity: &Identity| Recipient {
            address: from.address.clone(),
            certificate: identity.certificate.clone(),
            capabilities: Some(Capabilities::ours()),
        };
        let own = match identity {
            Some(identity) => ours(identity),
            None => match self.services.keys.identity_for(&from.address) {
                Ok(identity) => ours(&identity),
                Err(_) => certificates_for((&*self.services).into(), &[from.address.as_str()])
                    .await
                    .ok()
                    .and_then(|r| r.missing.is_empty().then_some(r.recipients))
                    .and_then(|mut c| c.pop())
                    .ok_or_else(|| {
                        format!(
                            "there is no certificate of your own ({}) to encrypt your copy in the sent folder to: \
                             unlock the key store or add your certificate.",
                            from.address
                        )
                    })?,
            },
        };
        if !addresses.iter().any(|a| a.eq_ignore_ascii_case(&from.address)) {
            recipients.push(own);
        }
        Ok((recipients, resolved.notices))
    }
}

/// What the user sees when a compose answers an encrypted message.
const ANSWERING_ENCRYPTED: &str = "You are answering an encrypted message. smime-proxy shows it below, from this \
     device only. While Encrypt is on, your message gets its real subject and quotes it, inside the encryption; \
     the webmail never sees either.";

/// The subject and body of a message as sent, after what answering its original adds.
struct Answer<'a> {
    subject: Cow<'a, str>,
    /// The body with the quote, when one was added (plaintext: wiped on drop).
    quoted: Option<Zeroizing<String>>,
    notice: Option<String>,
}

impl<'a> Answer<'a> {
    /// For an encrypted original and Encrypt on: the quote after the text (in an HTML
    /// body, before `</body>`), and the real subject for the hidden one when the subject
    /// travels inside only (`subject_hidden`). With Encrypt off, neither (they would reach
    /// the webmail in clear), and a notice says so.
    fn of(
        original: Option<&Original>,
        encrypt: bool,
        subject_hidden: bool,
        subject: &'a str,
        body: &'a str,
        html: bool,
    ) -> Self {
        let unchanged = Self { subject: Cow::Borrowed(subject), quoted: None, notice: None };
        let Some(original) = original.filter(|o| o.encrypted) else { return unchanged };
        if !encrypt {
            return Self {
                notice: Some(
                    "the message you answered was encrypted; with Encrypt off, it was not quoted and its subject \
                     was not used."
                        .into(),
                ),
                ..unchanged
            };
        }
        let real = original.subject_for(subject, HIDDEN_SUBJECT).filter(|_| subject_hidden);
        let subject = real.map_or(Cow::Borrowed(subject), Cow::Owned);
        let body = if html { body } else { without_empty_quote(body) };
        let quote = original.quote(html);
        let at = if html { body.to_ascii_lowercase().rfind("</body>").unwrap_or(body.len()) } else { body.len() };
        let quoted = Zeroizing::new([&body[..at], quote.as_str(), &body[at..]].concat());
        Self { subject, quoted: Some(quoted), notice: None }
    }

    /// The body to send: `posted` with what answering added.
    fn body<'b>(&'b self, posted: &'b str) -> &'b str {
        self.quoted.as_deref().map_or(posted, String::as_str)
    }
}

/// `body` without the webmail's own quote of an encrypted original when it is empty (an
/// attribution line ending in `:` followed only by `>` lines, at the end): the proxy's
/// quote replaces it.
fn without_empty_quote(body: &str) -> &str {
    let mut end = body.trim_end().len();
    let mut quoted_lines = 0;
    while let Some(start) = body[..end].rfind('\n').map(|i| i + 1).or((end > 0).then_some(0)) {
        let line = body[start..end].trim();
        if line == ">" {
            quoted_lines += 1;
        } else if line.ends_with(':') && quoted_lines > 0 {
            return body[..start].trim_end_matches(['\r', '\n']);
        } else {
            break;
        }
        if start == 0 {
            break;
        }
        end = start - 1;
    }
    body
}

/// The algorithms a message to `recipients` gets: the best all of them announced.
pub(crate) fn algorithms_for(recipients: &[Recipient]) -> AlgorithmChoice {
    let profiles: Vec<RecipientProfile<'_>> = recipients
        .iter()
        .map(|r| RecipientProfile { certificate: &r.certificate, capabilities: r.capabilities.as_ref() })
        .collect();
    let choice = choose_algorithms(&profiles);
    tracing::debug!(cipher = ?choice.options.cipher, key_transport = ?choice.options.key_transport, "algorithms chosen");
    choice
}

/// The warning for a message whose recipients' keys mix RSA and EC.
fn mixed_key_kinds_notice(recipients: &[Recipient]) -> String {
    let each: Vec<String> = recipients
        .iter()
        .map(|r| {
            let kind = match KeyKind::of(&r.certificate) {
                KeyKind::Rsa => "RSA",
                KeyKind::Ec => "EC",
                KeyKind::Other => "other",
            };
            format!("{} ({kind})", r.address)
        })
        .collect();
    format!(
        "the recipients' keys mix RSA and EC ({}): Thunderbird and other NSS-based mail clients cannot open such a \
         message at all, for any recipient; send to the RSA and the EC recipients separately if one of them uses one.",
        each.join(", ")
    )
}

/// One sentence naming every recipient without a usable certificate.
pub(crate) fn no_certificate_message(missing: &[NoCertificate]) -> String {
    let each: Vec<String> = missing.iter().map(|m| format!("{} ({})", m.address, m.reason)).collect();
    format!(
        "no usable certificate for {}. Add it with `smime-proxy certs add FILE`, or read a signed message from \
         them first; or turn Encrypt off.",
        each.join(", ")
    )
}

/// What the adapter needs of the browser's request.
fn webmail_request(forward: &Request<Body>, token: Option<String>) -> WebmailRequest {
    let uri = forward.uri();
    let base = format!(
        "{}://{}{}",
        uri.scheme_str().unwrap_or("https"),
        uri.authority().map(|a| a.as_str()).unwrap_or_default(),
        uri.path()
    );
    WebmailRequest {
        base,
        query: Query::parse(uri.query().unwrap_or_default()),
        session: session_headers(forward.headers()),
        token,
    }
}

/// True when the request comes from a page of `origin` itself.
fn same_origin(headers: &HeaderMap, origin: &str) -> bool {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let site_ok = value("sec-fetch-site").is_none_or(|s| s == "same-origin");
    site_ok && value(header::ORIGIN.as_str()).is_some_and(|o| o.eq_ignore_ascii_case(origin))
}

fn status(code: StatusCode) -> Response<Body> {
    let mut res = Response::new(Body::empty());
    *res.status_mut() = code;
    res.headers_mut().insert(header::CACHE_CONTROL, header::HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use smime_crypto::{ContentCipher, KeyTransport, load_certificates};
    use smime_proxy_tests::pki_bytes;

    fn recipient(name: &str, capabilities: Option<Capabilities>) -> Recipient {
        Recipient {
            address: format!("{name}@example.test"),
            certificate: load_certificates(&pki_bytes(&format!("{name}.pem"))).unwrap().remove(0),
            capabilities,
        }
    }

    fn original(kind: crate::rules::AnswerKind) -> Original {
        let raw = b"From: Alice <alice@example.test>\r\nSubject: [...]\r\nMessage-ID: <m1@example.test>\r\n\r\nx";
        let inner = crate::flows::original::Inner {
            subject: Some("Notizen aus K\u{f6}ln".into()),
            from: Some("Alice <alice@example.test>".into()),
            date: Some("2026-12-03T10:00:00Z".into()),
            text: Zeroizing::new("Hi Bob".into()),
        };
        Original::new(kind, raw, Some(inner))
    }

    #[test]
    fn answered_originals_are_forgotten_when_the_keys_lock() {
        let sessions = Sessions::default();
        sessions.answering("mail:443", "c1", original(crate::rules::AnswerKind::Reply), Some("<iframe>".into()));
        assert!(sessions.original("mail:443", "c1").is_some());
        assert_eq!(sessions.forget_originals(), 1);
        assert!(sessions.original("mail:443", "c1").is_none());
        assert!(sessions.take_frame("mail:443", "c1").is_none());
    }

    #[test]
    fn an_answer_to_an_encrypted_message_quotes_it_and_gets_its_subject_only_while_encrypted() {
        let reply = original(crate::rules::AnswerKind::Reply);
        let answer = Answer::of(Some(&reply), true, true, "Re: [...]", "Thanks!", false);
        assert_eq!(answer.subject, "Re: Notizen aus K\u{f6}ln");
        assert_eq!(
            answer.body("Thanks!"),
            "Thanks!\r\n\r\nOn 2026-12-03T10:00:00Z, Alice <alice@example.test> wrote:\r\n> Hi Bob\r\n"
        );
        assert!(answer.notice.is_none());

        // HTML: the quote goes before </body>.
        let html = "<html><body><p>Thanks!</p></BODY></html>";
        let answer = Answer::of(Some(&reply), true, true, "Re: [...]", html, true);
        assert!(answer.body(html).ends_with("</blockquote>\r\n</BODY></html>"), "{}", answer.body(html));

        // Without header protection the subject travels outside: the real one stays out.
        let answer = Answer::of(Some(&reply), true, false, "Re: [...]", "Thanks!", false);
        assert_eq!(answer.subject, "Re: [...]");
        assert!(answer.body("Thanks!").contains("> Hi Bob"));

        // Encrypt off: neither the quote nor the subject, and the user is told.
        let answer = Answer::of(Some(&reply), false, false, "Re: [...]", "Thanks!", false);
        assert_eq!((answer.subject.as_ref(), answer.body("Thanks!")), ("Re: [...]", "Thanks!"));
        assert!(answer.notice.unwrap().contains("it was not quoted"));

        // The webmail's own, empty, quote of the encrypted original makes way for the real one.
        let posted = "Thanks!\r\nOn 2026-12-04 18:59, alice@example.test wrote:\r\n>\r\n> \r\n";
        let answer = Answer::of(Some(&reply), true, true, "Re: [...]", posted, false);
        assert!(
            answer.body(posted).starts_with("Thanks!\r\n\r\nOn 2026-12-03T10:00:00Z, Alice"),
            "{}",
            answer.body(posted)
        );
        assert_eq!(without_empty_quote("a:\n> kept\n"), "a:\n> kept\n", "a quote with text stays");
        assert_eq!(without_empty_quote("Hi:\n"), "Hi:\n", "no quote lines: nothing removed");
        assert_eq!(without_empty_quote("wrote:\n>"), "");

        // Not an answer, or the original was not encrypted: unchanged.
        let answer = Answer::of(None, true, true, "Hello", "Thanks!", false);
        assert_eq!((answer.subject.as_ref(), answer.body("Thanks!")), ("Hello", "Thanks!"));
    }

    #[test]
    fn the_algorithms_are_the_best_all_announced_and_a_key_mix_is_named() {
        let both_proxies =
            [recipient("alice", Some(Capabilities::ours())), recipient("bob", Some(Capabilities::ours()))];
        let choice = algorithms_for(&both_proxies);
        assert_eq!(
            (choice.options.cipher, choice.options.key_transport),
            (ContentCipher::Aes256Gcm, KeyTransport::RsaOaep)
        );
        assert!(!choice.mixed_key_kinds);

        let mixed = [recipient("alice", Some(Capabilities::ours())), recipient("carol", None)];
        let choice = algorithms_for(&mixed);
        // carol's capabilities are unknown: CBC; the one RSA recipient announced OAEP.
        assert_eq!(
            (choice.options.cipher, choice.options.key_transport),
            (ContentCipher::Aes256Cbc, KeyTransport::RsaOaep)
        );
        assert!(choice.mixed_key_kinds);
        let notice = mixed_key_kinds_notice(&mixed);
        assert!(notice.contains("alice@example.test (RSA), carol@example.test (EC)"), "{notice}");
        assert!(notice.contains("Thunderbird"), "{notice}");
    }
}
