//! Signed form submissions: a rule's `[[signed_forms]]` requests get a detached CMS
//! signature (SignedData, RFC 7468 `CMS` armor) over the canonical form of their fields,
//! in one more field, so that a site can keep proof of what was submitted;
//! `smime-proxy message verify-form` checks such a record.
//!
//! The canonical form ([`canonical_form`]), UTF-8 bytes: every field of the body except
//! the signature field, as `NAME=VALUE` with name and value percent-encoded (every byte
//! but the RFC 3986 unreserved `A-Z a-z 0-9 - . _ ~` as `%XX`, upper-case hex; a file
//! part's value is its bytes), sorted by name (byte order), fields of the same name in the
//! order posted, joined by `&`. Urlencoded and multipart bodies only.

use std::sync::Arc;

use hudsucker::Body;
use hudsucker::hyper::{Request, StatusCode};
use smime_crypto::{SignOptions, sign_data};

use super::{PostedForm, Services, Verdict, refused, with_new_body};
use crate::form::Form;
use crate::rules::SignedForm;

/// Largest body of a signed form.
const MAX_BODY: usize = 16 * 1024 * 1024;

/// Characters left as they are in the canonical form (RFC 3986 unreserved).
const UNRESERVED: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// The canonical form of a body of `content_type` without the field `signature_field`;
/// `Err` says (one sentence) why there is none.
pub fn canonical_form(content_type: Option<&str>, body: &[u8], signature_field: &str) -> Result<Vec<u8>, String> {
    let form = Form::parse(content_type, body);
    if !form.is_form() || form.json().is_some() {
        return Err("only urlencoded and multipart forms can be signed.".into());
    }
    let mut fields: Vec<(&str, &[u8])> = form
        .fields()
        .iter()
        .filter(|f| f.name != signature_field)
        .map(|f| {
            let value: &[u8] = if f.filename.is_some() { &body[f.data.clone()] } else { f.value.as_bytes() };
            (f.name.as_str(), value)
        })
        .collect();
    fields.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
    let mut out = Vec::new();
    for (index, (name, value)) in fields.into_iter().enumerate() {
        if index > 0 {
            out.push(b'&');
        }
        out.extend(percent_encoding::utf8_percent_encode(name, UNRESERVED).flat_map(str::bytes));
        out.push(b'=');
        out.extend(percent_encoding::percent_encode(value, UNRESERVED).flat_map(str::bytes));
    }
    Ok(out)
}

/// A stored signed submission: the canonical form of `body` and the DER of the signature
/// in its field `signature_field`; `Err` says (one sentence) why it is not one.
pub fn signed_record(
    content_type: Option<&str>,
    body: &[u8],
    signature_field: &str,
) -> Result<(Vec<u8>, Vec<u8>), String> {
    let form = Form::parse(content_type, body);
    let value = form.get(signature_field).ok_or_else(|| format!("the form has no field {signature_field}."))?;
    let der = match smime_crypto::armor::find(value).as_slice() {
        [found] if value.trim() == &value[found.range.clone()] => found.der.clone()?,
        _ => return Err(format!("the field {signature_field} does not hold one CMS armor.")),
    };
    Ok((canonical_form(content_type, body, signature_field)?, der))
}

/// The request `req`, whose head matched `entries`: when its body makes it one of them,
/// with the signature field added; the refusal page when it cannot be signed (nothing of
/// it goes upstream then); else unchanged.
pub(crate) async fn request(services: &Arc<Services>, entries: &[SignedForm], req: Request<Body>) -> Verdict {
    let posted = match PostedForm::read(req, MAX_BODY).await {
        Ok(posted) => posted,
        Err(refusal) => return Verdict::Respond(refusal),
    };
    let Some(entry) = entries.iter().find(|entry| entry.matches_body(&posted.form)) else {
        return Verdict::Forward(posted.unchanged());
    };
    let signed = sign(services, entry, posted.content_type.as_deref(), &posted.form, &posted.body).await;
    match signed {
        Ok(out) => {
            tracing::info!(bytes_in = posted.body.len(), bytes_out = out.len(), "form submission signed");
            Verdict::Forward(with_new_body(posted.parts, out))
        }
        Err(reason) => {
            tracing::warn!(%reason, "a form submission cannot be signed: not sent");
            Verdict::Respond(refused(StatusCode::UNPROCESSABLE_ENTITY, &format!("cannot sign this form: {reason}")))
        }
    }
}

/// `body` with `entry.field` holding the armored signature of its canonical form.
async fn sign(
    services: &Services,
    entry: &SignedForm,
    content_type: Option<&str>,
    form: &Form,
    body: &[u8],
) -> Result<Vec<u8>, String> {
    if form.get(&entry.field).is_some() {
        return Err(format!("it already has a field named {}.", entry.field));
    }
    let canonical = canonical_form(content_type, body, &entry.field)?;
    let identities = services.keys.identities().map_err(|e| format!("{e}."))?;
    let signer = identities.into_iter().next().ok_or("the key store holds no key.")?;
    let der = tokio::task::spawn_blocking(move || sign_data(&canonical, &signer, &SignOptions::default(), true))
        .await
        .map_err(|_| "signing stopped unexpectedly.".to_owned())?
        .map_err(|e| format!("signing failed: {e}."))?;
    let armor = smime_crypto::armor::armor(&der);
    form.with_field(body, &entry.field, &armor).ok_or_else(|| "the form could not be written again.".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_canonical_form_is_sorted_and_encoded() {
        let body = b"b=2&a=x+y%2F%C3%BC&sig=old&a=1&c";
        let out = canonical_form(Some("application/x-www-form-urlencoded"), body, "sig").unwrap();
        assert_eq!(out, b"a=x%20y%2F%C3%BC&a=1&b=2&c=");
        let multipart = b"--B\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\n\r\n\x00\xff\r\n\
--B\r\nContent-Disposition: form-data; name=\"e~\"\r\n\r\nv\r\n--B--\r\n";
        let out = canonical_form(Some("multipart/form-data; boundary=B"), multipart, "sig").unwrap();
        assert_eq!(out, b"e~=v&f=%00%FF");
        for (content_type, body) in [(Some("application/json"), &b"{}"[..]), (Some("text/plain"), b"a=1"), (None, b"a")]
        {
            assert!(canonical_form(content_type, body, "sig").is_err(), "{content_type:?}");
        }
    }
}
