//! The key store on the own origin: its state on the home page, `POST /api/unlock`
//! (form fields `token`, `passphrase`) and `POST /api/lock` (field `token`). Both pass
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
use crate::store::StoreError;

impl OwnOrigin {
    /// The key store part of the home page: state, and the unlock or lock form.
    pub(super) fn keys_section(&self) -> String {
        let status = self.keys.status();
        let idle = human_duration(status.lock_after_idle);
        if status.stored == 0 {
            return "<h3>Key store</h3>\n<p>No keys imported yet: run <code>smime-proxy keys import FILE.p12</code>, \
                    then reload this page.</p>"
                .to_owned();
        }
        if status.unlocked > 0 {
            format!(
                r#"<h3>Key store</h3>
<p>Unlocked ({n} key{s}); it locks again after {idle} without use.</p>
<form method="post" action="/api/lock">
<input type="hidden" name="token" value="{token}">
<button>Lock now</button>
</form>"#,
                n = status.unlocked,
                s = if status.unlocked == 1 { "" } else { "s" },
                token = self.token,
            )
        } else {
            format!(
                r#"<h3>Key store</h3>
<p>Locked ({n} key{s} stored). Signing and decrypting need it unlocked; it locks again after
{idle} without use.</p>
<form method="post" action="/api/unlock">
<input type="hidden" name="token" value="{token}">
<label>Store passphrase <input type="password" name="passphrase" autocomplete="current-password" required></label>
<button>Unlock</button>
</form>"#,
                n = status.stored,
                s = if status.stored == 1 { "" } else { "s" },
                token = self.token,
            )
        }
    }

    /// `POST /api/unlock`.
    pub(super) async fn unlock(&self, req: Request<Body>) -> Response<Body> {
        let form = match self.checked_form(req).await {
            Ok(form) => form,
            Err(refusal) => return refusal,
        };
        let Some(passphrase) = form_value(&form, b"passphrase") else {
            return text_response(StatusCode::BAD_REQUEST, "the form has no passphrase\n");
        };
        drop(form);
        let keys = Arc::clone(&self.keys);
        // Argon2id takes memory and time: off the executor.
        let result = tokio::task::spawn_blocking(move || keys.unlock(&passphrase)).await;
        match result {
            Ok(Ok(_)) => see_home(),
            Ok(Err(StoreError::WrongStorePassphrase | StoreError::EmptyPassphrase)) => {
                tracing::warn!("unlock refused: wrong store passphrase");
                message_page(StatusCode::FORBIDDEN, "Wrong store passphrase. The key store stays locked.")
            }
            Ok(Err(StoreError::NoKeys)) => {
                message_page(StatusCode::CONFLICT, "The key store is empty: import a key with smime-proxy keys import.")
            }
            Ok(Err(error)) => {
                tracing::error!(%error, "unlock failed");
                message_page(StatusCode::INTERNAL_SERVER_ERROR, &format!("The key store cannot be unlocked: {error}"))
            }
            Err(_) => message_page(StatusCode::INTERNAL_SERVER_ERROR, "The key store cannot be unlocked."),
        }
    }

    /// `POST /api/lock`.
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

/// A short page with one message and a link home.
fn message_page(status: StatusCode, message: &str) -> Response<Body> {
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
pub(super) fn form_value(form: &[u8], name: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
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
