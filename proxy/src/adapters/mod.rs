//! Adapters: what cannot be said declaratively in a rule, in Rust, one small module per
//! webmail, selected by the rule's `adapter` key. An adapter knows the answers the
//! webmail's page expects in place of its server's (sent, refused, attachment held or
//! removed) and how to deliver a finished S/MIME message through the webmail itself.
//! Adding a webmail means one module here and one line in [`ADAPTERS`].

mod exchange;
pub(crate) mod horde;
pub(crate) mod roundcube;
pub(crate) mod sogo;

use std::future::Future;
use std::pin::Pin;

use hudsucker::Body;
use hudsucker::hyper::Response;
use hudsucker::hyper::header::HeaderMap;

use crate::http::{FetchError, UpstreamClient};
use crate::rules::{ComposeKind, Query};

/// Every adapter there is; rules name them with `adapter = "..."`.
static ADAPTERS: &[&dyn Webmail] = &[&roundcube::Roundcube, &horde::Horde, &sogo::Sogo];

/// The names of the adapters, for rule validation and error messages.
pub fn names() -> Vec<&'static str> {
    ADAPTERS.iter().map(|a| a.name()).collect()
}

/// The adapter called `name`.
pub(crate) fn by_name(name: &str) -> Option<&'static dyn Webmail> {
    ADAPTERS.iter().copied().find(|a| a.name() == name)
}

/// A delivery in progress.
pub(crate) type Pending<'a> = Pin<Box<dyn Future<Output = Result<(), DeliveryError>> + Send + 'a>>;

/// A request to the webmail that may return the id of what it stored.
pub(crate) type PendingId<'a> = Pin<Box<dyn Future<Output = Result<Option<String>, DeliveryError>> + Send + 'a>>;

/// What a flow needs of a webmail beyond its rule.
pub(crate) trait Webmail: Sync {
    /// The name rules use.
    fn name(&self) -> &'static str;

    /// The page's answer to a send that the proxy delivered.
    fn sent(&self, req: &WebmailRequest, compose_id: &str, sent_folder: &str, confirmation: &str) -> Response<Body>;

    /// The page's answer when the proxy stopped a request of `kind`: `message` is shown,
    /// the compose stays as it was.
    fn refused(&self, req: &WebmailRequest, kind: ComposeKind, message: &str) -> Response<Body>;

    /// What the webmail needs before the proxy keeps an upload of compose `compose_id`
    /// on the device. Most need nothing (`None`). A webmail whose page moves to the
    /// server's stored draft once a file is attached (SOGo) gets an empty draft stored
    /// (nothing of the message is in it); its id, returned, goes into the answer.
    fn prepare_hold<'a>(
        &'a self,
        _upstream: &'a UpstreamClient,
        _req: &'a WebmailRequest,
        _compose_id: &'a str,
    ) -> PendingId<'a> {
        Box::pin(async { Ok(None) })
    }

    /// The page's answer to an upload the proxy kept; `stored` is the id
    /// [`Webmail::prepare_hold`] returned (else the compose id).
    fn held(&self, req: &WebmailRequest, stored: &str, files: &[HeldAttachment<'_>]) -> Response<Body>;

    /// The page's answer to removing a held attachment.
    fn removed(&self, req: &WebmailRequest, id: &str) -> Response<Body>;

    /// The proxy's id of an attachment as a page's request names it.
    fn attachment_id<'a>(&self, posted: &'a str) -> &'a str;

    /// Delivers `delivery` through the webmail with the user's session: to every
    /// recipient, with the sender's copy in the sent folder. On failure nothing was sent.
    /// For a rule with `delivery = "smtp"` the proxy has submitted the message already:
    /// only the sender's copy is stored.
    fn deliver<'a>(
        &'a self,
        upstream: &'a UpstreamClient,
        req: &'a WebmailRequest,
        delivery: &'a Delivery<'a>,
    ) -> Pending<'a>;
}

impl std::fmt::Debug for dyn Webmail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The browser's request a flow answers: where the webmail is and the user's session.
#[derive(Debug)]
pub(crate) struct WebmailRequest {
    /// `scheme://authority/path` of the request, without its query.
    pub(crate) base: String,
    /// The query of the request.
    pub(crate) query: Query,
    /// The browser's session headers (cookies, user agent, language).
    pub(crate) session: HeaderMap,
    /// The webmail's CSRF token, as the request carried it.
    pub(crate) token: Option<String>,
}

/// An attachment the proxy holds, as the page lists it.
#[derive(Debug)]
pub(crate) struct HeldAttachment<'a> {
    /// The proxy's id for it.
    pub(crate) id: &'a str,
    /// File name.
    pub(crate) name: &'a str,
    /// Content type.
    pub(crate) content_type: &'a str,
    /// Size in bytes.
    pub(crate) size: usize,
}

/// A finished message to deliver through the webmail.
#[derive(Debug)]
pub(crate) struct Delivery<'a> {
    /// The whole RFC 5322 message, CRLF.
    pub(crate) message: &'a [u8],
    /// Its Message-ID, without angle brackets.
    pub(crate) message_id: &'a str,
    /// The folder that keeps the sender's copy.
    pub(crate) sent_folder: &'a str,
    /// The sender as the compose form posted it (Roundcube: identity id).
    pub(crate) from: &'a str,
    /// Recipients as posted.
    pub(crate) to: &'a str,
    /// Cc as posted.
    pub(crate) cc: &'a str,
    /// Bcc as posted: delivered to, named in no header.
    pub(crate) bcc: &'a str,
    /// The Bcc recipients' addresses, one by one.
    pub(crate) bcc_addresses: &'a [String],
}

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DeliveryError {
    /// A request to the webmail failed.
    #[error(transparent)]
    Fetch(#[from] FetchError),
    /// The webmail answered, and refused.
    #[error("{0}")]
    Refused(String),
}

/// A request as a page of `base` would make it, without a session (adapter tests).
#[cfg(test)]
pub(super) fn test_request(base: &str) -> WebmailRequest {
    WebmailRequest { base: base.to_owned(), query: Query::parse(""), session: HeaderMap::new(), token: None }
}
