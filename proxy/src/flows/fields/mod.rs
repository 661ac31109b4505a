//! Encrypted form fields ("persistent field level encryption"): the values of the form
//! fields a rule's `[[encrypted_fields]]` names leave the device as armored S/MIME
//! (`-----BEGIN CMS-----`), so the site stores only that; pages of the site that show such
//! armor show it decrypted, in a frame of the own origin (the read flow's view, banner
//! and sanitiser), or, in a form that edits the field, as the plaintext to change.
//!
//! ```text
//! request ─▶ request(): body read (bounded) ─▶ seal.rs (recipients, signer) ─▶ body.rs (values sealed)
//!            any failure: the refusal page, nothing forwarded
//! page    ─▶ page(): rewrite::find_armor ─▶ read flow (frame, or the field's text) ─▶ rewrite::replace_armor
//! ```

mod body;

pub(crate) use body::seal_body;
mod seal;

use std::sync::Arc;

use hudsucker::Body;
use hudsucker::hyper::{Request, StatusCode};

use self::seal::{SITE_FIELD, Sealer};
use super::read::ReadFlow;
use super::{PostedForm, Services, Verdict, refused, with_new_body};
use crate::rewrite::{
    ArmorContext, ArmorReplacement, PageCharset, find_armor, has_armor, join_broken_lines, replace_armor,
};
use crate::rules::{EncryptedFields, Rule};

/// Largest body of a request with encrypted fields.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// The request `req`, whose head matched `entries`: when its body makes it one of them,
/// with that entry's fields sealed, or the refusal page when any of them cannot be
/// (nothing of it goes upstream then); else unchanged.
pub(crate) async fn request(services: &Arc<Services>, entries: &[EncryptedFields], req: Request<Body>) -> Verdict {
    let posted = match PostedForm::read(req, MAX_BODY).await {
        Ok(posted) => posted,
        Err(refusal) => return Verdict::Respond(refusal),
    };
    if posted.form.is_unreadable() {
        // Whether it is one of the requests, and what it holds, cannot be known.
        tracing::warn!("a request that may have encrypted fields has a JSON body that cannot be read: not sent");
        let reason = "cannot encrypt this form: this request says it carries JSON and is not a JSON object.";
        return Verdict::Respond(refused(StatusCode::UNPROCESSABLE_ENTITY, reason));
    }
    let Some(entry) = entries.iter().find(|entry| entry.matches_body(&posted.form)) else {
        return Verdict::Forward(posted.unchanged());
    };
    let Some(site) = crate::http::web_origin(&posted.parts.uri) else {
        return Verdict::Respond(refused(StatusCode::BAD_REQUEST, "this request names no site."));
    };
    let sealer = match Sealer::for_entry(services, entry, &site).await {
        Ok(sealer) => sealer,
        Err(reason) => {
            tracing::warn!(%reason, "a form's fields cannot be encrypted: not sent");
            return Verdict::Respond(refused(StatusCode::SERVICE_UNAVAILABLE, &reason));
        }
    };
    let fields = entry.fields.clone();
    let (original, content_type) = (posted.body.clone(), posted.content_type.clone());
    let sealed = tokio::task::spawn_blocking(move || {
        seal_body(content_type.as_deref(), &original, &fields, &|value| sealer.seal(value))
    })
    .await
    .unwrap_or_else(|_| Err("encrypting the form stopped unexpectedly.".into()));
    match sealed {
        Ok(None) => Verdict::Forward(posted.unchanged()),
        Ok(Some(sealed)) => {
            tracing::info!(bytes_in = posted.body.len(), bytes_out = sealed.len(), "form fields encrypted");
            Verdict::Forward(with_new_body(posted.parts, sealed))
        }
        Err(reason) => {
            tracing::warn!(%reason, "a form's fields cannot be encrypted: not sent");
            Verdict::Respond(refused(StatusCode::UNPROCESSABLE_ENTITY, &format!("cannot encrypt this form: {reason}")))
        }
    }
}

/// A page of `rule`'s site (at `origin`) with its armored S/MIME opened: a field of an
/// edit form gets the plaintext, anything else a frame of the own origin; `None` when the
/// page holds none.
///
/// Filling the plaintext into an edit form is the documented trade-off of editing: the
/// site's scripts can read a form's values. Shown text never enters the site's page.
pub(crate) async fn page(
    services: &Arc<Services>,
    read: &ReadFlow,
    rule: &Rule,
    origin: &str,
    page: &[u8],
    charset: PageCharset,
) -> Option<Vec<u8>> {
    if !has_armor(page) {
        return None;
    }
    let page = join_broken_lines(page);
    let names = rule.encrypted_field_names();
    let found = match find_armor(&page, charset, &names) {
        Ok(found) => found,
        Err(error) => {
            tracing::warn!(%error, "a page with encrypted fields could not be read");
            return None;
        }
    };
    let mut replacements = Vec::with_capacity(found.len());
    for block in found {
        let der = match (block.context, block.der) {
            (ArmorContext::Edit, Ok(der)) => match read.field_text(services, der.clone(), SITE_FIELD, origin).await {
                Ok(text) => {
                    replacements.push(ArmorReplacement::Plaintext(text));
                    continue;
                }
                Err(reason) => {
                    tracing::info!(%reason, "an encrypted field is not filled in for editing");
                    Ok(der)
                }
            },
            (_, der) => der,
        };
        let frame = read.cms_frame(services, origin, der).await;
        replacements.push(frame.map_or(ArmorReplacement::Keep, ArmorReplacement::Markup));
    }
    tracing::info!(blocks = replacements.len(), "page with encrypted fields opened");
    match replace_armor(&page, charset, &names, replacements) {
        Ok(out) => Some(out),
        Err(error) => {
            tracing::warn!(%error, "a page with encrypted fields could not be rewritten");
            None
        }
    }
}
