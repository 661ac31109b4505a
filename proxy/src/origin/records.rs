//! "Sign a page" on the own origin: the home page lists the sites' pages kept for signed
//! records ([`crate::records`]), and `POST /api/pages/sign` (fields `token`, `page`; the
//! same checks as every state-changing request, [`super::guard`]) answers with a download:
//! a CMS SignedData whose content is the page's exact bytes, signed with the user's key,
//! the URL and the time received among its signed attributes
//! ([`smime_crypto::page_record`]). Another site's page can neither ask for a record
//! (it would sign in the user's name) nor read one.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hudsucker::Body;
use hudsucker::hyper::{Request, Response, StatusCode};
use smime_crypto::SignOptions;
use smime_crypto::page_record::{PageRecord, sign_page};

use super::OwnOrigin;
use super::keys::{form_value, message_page};
use crate::http::download;
use crate::markup::escape;
use crate::records::{LIFETIME, RecentPage};
use crate::timestamp::rfc3339;

/// The Content-Type of a record (RFC 8551 §3.2: signed-data).
const RECORD_TYPE: &str = "application/pkcs7-mime; smime-type=signed-data";

impl OwnOrigin {
    /// The home page's "Sign a page" section: the kept pages, newest first, each with its
    /// "Save a signed record" button.
    pub(super) fn records_section(&self) -> String {
        let pages = self.pages.list();
        let minutes = LIFETIME.as_secs() / 60;
        let intro = format!(
            "<h3>Sign a page</h3>\n<p>Pages of the sites above that you loaded in the last {minutes} minutes, as \
                     their server sent them. “Save a signed record” downloads one signed with your key (CMS \
                     SignedData; its URL and the time it was received are signed with it): evidence of what the \
                     page said. Check it with <code>smime-proxy message verify-page --in FILE</code> or \
                     <code>openssl cms -verify -inform DER</code>.</p>"
        );
        if pages.is_empty() {
            return format!("{intro}\n<p>No page kept yet.</p>");
        }
        let rows: String = pages
            .iter()
            .map(|page| {
                format!(
                    r#"<tr><td>{received}</td><td><code>{url}</code></td><td>{len} bytes, <code>{content_type}</code></td><td>
<form method="post" action="/api/pages/sign"><input type="hidden" name="token" value="{token}">
<input type="hidden" name="page" value="{id}"><button>Save a signed record</button></form></td></tr>"#,
                    received = escape(&rfc3339(seconds(page.received))),
                    url = escape(&page.url),
                    len = page.bytes.len(),
                    content_type = escape(&page.content_type),
                    token = self.token,
                    id = page.id,
                )
            })
            .collect();
        format!("{intro}\n<table><tr><th>received</th><th>page</th><th>what</th><th></th></tr>\n{rows}</table>")
    }

    /// `POST /api/pages/sign`: the signed record of the kept page `page`.
    pub(super) async fn sign_page(&self, req: Request<Body>) -> Response<Body> {
        let form = match self.checked_form(req).await {
            Ok(form) => form,
            Err(refusal) => return refusal,
        };
        let id = form_value(&form, b"page").and_then(|id| String::from_utf8(id.to_vec()).ok()).unwrap_or_default();
        let Some(page) = self.pages.get(&id) else {
            let minutes = LIFETIME.as_secs() / 60;
            let text =
                format!("This page is no longer kept (pages are kept {minutes} minutes): load it again, then sign it.");
            return message_page(StatusCode::GONE, &text);
        };
        let signer = match self.keys.identities() {
            Ok(identities) => identities.into_iter().next(),
            Err(error) => {
                return message_page(StatusCode::SERVICE_UNAVAILABLE, &format!("Nothing was signed: {error}."));
            }
        };
        let Some(signer) = signer else {
            return message_page(StatusCode::SERVICE_UNAVAILABLE, "Nothing was signed: the key store holds no key.");
        };
        let record = PageRecord { url: page.url.clone(), received: page.received };
        let bytes = std::sync::Arc::clone(&page.bytes);
        let signed =
            tokio::task::spawn_blocking(move || sign_page(&bytes, &record, &signer, &SignOptions::default())).await;
        match signed {
            Ok(Ok(der)) => {
                tracing::info!(len = page.bytes.len(), "signed record of a page saved");
                download(RECORD_TYPE, &file_name(&page), der)
            }
            Ok(Err(error)) => {
                tracing::error!(%error, "signing a page failed");
                message_page(StatusCode::INTERNAL_SERVER_ERROR, &format!("Nothing was signed: {error}."))
            }
            Err(_) => message_page(StatusCode::INTERNAL_SERVER_ERROR, "Nothing was signed: signing stopped."),
        }
    }
}

/// `at` to the second (the record keeps seconds).
fn seconds(at: SystemTime) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(at.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs()))
}

/// `page-record-HOST-20261207T083045Z.p7m`.
fn file_name(page: &RecentPage) -> String {
    let host = page.url.split('/').nth(2).unwrap_or("page").replace(':', "_");
    let when: String = rfc3339(seconds(page.received)).chars().filter(|c| !matches!(c, '-' | ':')).collect();
    format!("page-record-{host}-{when}.p7m")
}
