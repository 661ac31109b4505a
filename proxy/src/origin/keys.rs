//! The key store and the interception CA on the own origin: their state on the home
//! page, `POST /api/unlock` (form fields `token`, `passphrase`, and `confirm` when the
//! passphrase is being chosen) and `POST /api/lock` (field `token`). Both pass
//! the same checks as every state-changing request ([`super::guard`]): a page of another
//! origin can neither unlock nor lock, and never learns whether a passphrase was right.

use std::sync::Arc;
use std::time::Duration;

use hudsucker::Body;
use hudsucker::hyper::{Request, Response, StatusCode};
use zeroize::Zeroizing;

use super::OwnOrigin;
use crate::http::{html_response, see_home, text_response};
use crate::markup::escape;
use crate::store::{CaStatus, StoreError, unlock_all};

impl OwnOrigin {
    /// The key store part of the home page: the state of the CA and the keys, and the
    /// form that fits (choose the passphrase, unlock, or lock).
    pub(super) fn keys_section(&self) -> String {
        let status = self.keys.status();
        let idle = human_duration(status.lock_after_idle);
        let ca = self.ca.status();
        let ca_state = match ca {
            CaStatus::Missing => "<p><strong>No local CA yet.</strong> Choose the store passphrase: it seals the \
                                  CA's key and every key you import. Until then no site is intercepted.</p>"
                .to_owned(),
            CaStatus::Sealed => "<p><strong>Sealed.</strong> The local CA's key is sealed under the store \
                                 passphrase: the webmail sites are refused until you unlock.</p>"
                .to_owned(),
            CaStatus::Ready { until } => format!(
                "<p>Intercepting the sites below with an intermediate CA held in memory only, valid until \
                 {} (each unlock renews it).</p>",
                escape(&crate::timestamp::rfc3339(until.into()))
            ),
        };
        let keys_state = match (status.stored, status.unlocked) {
            (0, _) => "<p>No keys imported yet: import your <code>.p12</code> below (or run \
                       <code>smime-proxy keys import FILE.p12</code>).</p>"
                .to_owned(),
            (n, 0) => format!(
                "<p>Locked ({n} key{s} stored). Signing and decrypting need the keys unlocked; they lock again \
                 after {idle} without use.</p>",
                s = plural(n)
            ),
            (_, n) => {
                format!("<p>Unlocked ({n} key{s}); the keys lock again after {idle} without use.</p>", s = plural(n))
            }
        };
        let token = &self.token;
        let form = if ca == CaStatus::Missing && status.stored == 0 {
            format!(
                r#"<form method="post" action="/api/unlock">
<input type="hidden" name="token" value="{token}">
<label>New store passphrase <input type="password" name="passphrase" autocomplete="new-password" required></label>
<label>Again <input type="password" name="confirm" autocomplete="new-password" required></label>
<button>Create the local CA</button>
</form>"#
            )
        } else if !matches!(ca, CaStatus::Ready { .. }) || (status.stored > 0 && status.unlocked == 0) {
            format!(
                r#"<form method="post" action="/api/unlock">
<input type="hidden" name="token" value="{token}">
<label>Store passphrase <input type="password" name="passphrase" autocomplete="current-password" required></label>
<button>Unlock</button>
</form>"#
            )
        } else if status.unlocked > 0 {
            format!(
                r#"<form method="post" action="/api/lock">
<input type="hidden" name="token" value="{token}">
<button>Lock the keys now</button>
</form>"#
            )
        } else {
            String::new()
        };
        format!("<h3>Key store</h3>\n{ca_state}\n{keys_state}\n{form}")
    }

    /// `POST /api/unlock`: fields `passphrase` and, when the passphrase is being chosen
    /// (no CA and no key yet), `confirm`.
    pub(super) async fn unlock(&self, req: Request<Body>) -> Response<Body> {
        let form = match self.checked_form(req).await {
            Ok(form) => form,
            Err(refusal) => return refusal,
        };
        let Some(passphrase) = form_value(&form, b"passphrase") else {
            return text_response(StatusCode::BAD_REQUEST, "the form has no passphrase\n");
        };
        let confirm = form_value(&form, b"confirm");
        drop(form);
        let choosing = self.ca.status() == CaStatus::Missing && self.keys.status().stored == 0;
        if choosing && confirm.as_deref() != Some(&*passphrase) {
            return message_page(StatusCode::BAD_REQUEST, "The two passphrases differ. Nothing was created.");
        }
        let (ca, keys) = (Arc::clone(&self.ca), Arc::clone(&self.keys));
        // Argon2id takes memory and time: off the executor.
        let result = tokio::task::spawn_blocking(move || unlock_all(&ca, &keys, &passphrase)).await;
        match result {
            Ok(Ok(opened)) => {
                if opened.ca.created {
                    tracing::info!("local CA created, sealed under the store passphrase chosen on the own page");
                }
                see_home()
            }
            Ok(Err(StoreError::WrongStorePassphrase | StoreError::EmptyPassphrase)) => {
                tracing::warn!("unlock refused: wrong store passphrase");
                message_page(StatusCode::FORBIDDEN, "Wrong store passphrase. Everything stays locked.")
            }
            Ok(Err(error)) => {
                tracing::error!(%error, "unlock failed");
                message_page(StatusCode::INTERNAL_SERVER_ERROR, &format!("The key store cannot be unlocked: {error}"))
            }
            Err(_) => message_page(StatusCode::INTERNAL_SERVER_ERROR, "The key store cannot be unlocked."),
        }
    }

    /// `POST /api/lock`: locks the keys (the interception CA stays ready: browsing goes
    /// on; signing and decrypting need the passphrase again).
    pub(super) async fn lock(&self, req: Request<Body>) -> Response<Body> {
        if let Err(refusal) = self.checked_form(req).await {
            return refusal;
        }
        if self.keys.lock() {
            tracing::info!("key store locked from the own page");
        }
        see_home()
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// A short page with one message and a link home.
pub(super) fn message_page(status: StatusCode, message: &str) -> Response<Body> {
    html_response(
        status,
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>smime-proxy</title>\
             <link rel=\"stylesheet\" href=\"/style.css\"></head>\n<body><h1>smime-proxy</h1><p>{}</p>\
             <p><a href=\"/\">Back</a></p></body></html>\n",
            escape(message)
        ),
    )
}

/// The percent-decoded value of `name` in an `application/x-www-form-urlencoded` body,
/// in a wiping buffer (`+` is a space; a bad `%` escape is kept as it is).
fn form_value(form: &[u8], name: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
    let raw = form.split(|b| *b == b'&').find_map(|pair| {
        let at = pair.iter().position(|b| *b == b'=')?;
        (&pair[..at] == name).then(|| &pair[at + 1..])
    })?;
    let mut out = Zeroizing::new(Vec::with_capacity(raw.len()));
    let mut i = 0;
    while i < raw.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < raw.len() => match (hex(raw[i + 1]), hex(raw[i + 2])) {
                (Some(h), Some(l)) => {
                    out.push((h * 16 + l) as u8);
                    i += 2;
                }
                _ => out.push(b'%'),
            },
            other => out.push(other),
        }
        i += 1;
    }
    Some(out)
}

/// `30m`, `1h`, `90s`, `200ms`.
fn human_duration(d: Duration) -> String {
    let secs = d.as_secs();
    if d.subsec_millis() != 0 || secs == 0 {
        format!("{}ms", d.as_millis())
    } else if secs.is_multiple_of(3600) {
        format!("{}h", secs / 3600)
    } else if secs.is_multiple_of(60) {
        format!("{}m", secs / 60)
    } else {
        format!("{secs}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_values_are_percent_decoded() {
        let form = b"token=ab&passphrase=p%C3%A4ss+word%21%2&x=1";
        assert_eq!(form_value(form, b"passphrase").unwrap().as_slice(), "päss word!%2".as_bytes());
        assert_eq!(form_value(form, b"x").unwrap().as_slice(), b"1");
        assert!(form_value(form, b"pass").is_none());
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(human_duration(Duration::from_secs(1800)), "30m");
        assert_eq!(human_duration(Duration::from_secs(7200)), "2h");
        assert_eq!(human_duration(Duration::from_secs(90)), "90s");
        assert_eq!(human_duration(Duration::from_millis(200)), "200ms");
    }
}
