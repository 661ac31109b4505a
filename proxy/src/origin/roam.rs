//! "Unlock from key server" on the own origin: `POST /api/roam/unlock` (form fields
//! `token`, `account`, `password`) logs in to the configured roaming key server with
//! OPAQUE, inside the proxy, and puts the released key in the [`KeyRing`] for this run
//! only (never on disk; wiped on lock, idle timeout, SIGUSR1 and shutdown like a local
//! key). With the box `keep_local_copy` ticked (off by default) and the store passphrase
//! (`store_passphrase`, and `store_passphrase_again` when the store has no key yet), the
//! key is also sealed into the key store exactly as an imported key is, and unlocks
//! locally from then on. The same checks as every state-changing request
//! ([`super::guard`]) apply. The home page shows the account's devices and audit log
//! from the last unlock.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use hudsucker::Body;
use hudsucker::hyper::{Request, Response, StatusCode};
use smime_crypto::Identity;
use smime_keyserver::client::KeyServer;
use zeroize::Zeroizing;

use super::OwnOrigin;
use super::keys::{form_value, message_page};
use crate::http::see_home;
use crate::markup::escape;
use crate::roam::{self, Report};
use crate::store::{StoreError, check_store_passphrase, import_and_unlock};

/// The key server the page unlocks from.
#[derive(Debug)]
pub struct Roaming {
    server: KeyServer,
    dir: PathBuf,
    account: Option<String>,
    last: Mutex<Option<Report>>,
}

impl Roaming {
    /// The configured key server; `roam.json` (the envelope high-water marks) is in `dir`.
    pub fn new(server: KeyServer, dir: PathBuf, account: Option<String>) -> Self {
        Self { server, dir, account, last: Mutex::new(None) }
    }

    fn last(&self) -> std::sync::MutexGuard<'_, Option<Report>> {
        self.last.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl OwnOrigin {
    /// The key-server part of the home page: the unlock form, and the account's devices
    /// and audit log from the last unlock.
    pub(super) fn roam_section(&self) -> String {
        let Some(roaming) = &self.roaming else { return String::new() };
        let account = roaming.account.as_deref().unwrap_or_default();
        let mut html = format!(
            r#"<h3>Key server</h3>
<p>Your key can also come from the key server <code>{server}</code>: it is released only to
the right password, checked here (OPAQUE), and kept in memory for this run only.</p>
<form method="post" action="/api/roam/unlock">
<input type="hidden" name="token" value="{token}">
<label>Account <input type="email" name="account" value="{account}" autocomplete="username" required></label>
<label>Key-server password <input type="password" name="password" autocomplete="current-password" required></label>
{local_copy}<button>Unlock from key server</button>
</form>"#,
            server = escape(roaming.server.url()),
            token = self.token,
            account = escape(account),
            local_copy = self.local_copy_fields(),
        );
        if let Some(report) = roaming.last().as_ref() {
            html.push_str(&report_html(report));
        }
        html
    }

    /// The form's choice of a local copy (only when this proxy has a key store).
    fn local_copy_fields(&self) -> String {
        let Some(store) = self.keys.store() else { return String::new() };
        let again = if store.is_empty().unwrap_or(false) {
            "<label>Store passphrase again <input type=\"password\" name=\"store_passphrase_again\" \
             autocomplete=\"new-password\"></label>\n"
        } else {
            ""
        };
        format!(
            "<label><input type=\"checkbox\" name=\"keep_local_copy\"> Also keep a local copy, sealed in \
             the key store like an imported key (it then unlocks without the key server)</label>\n\
             <label>Store passphrase (for the local copy) <input type=\"password\" name=\"store_passphrase\" \
             autocomplete=\"current-password\"></label>\n{again}"
        )
    }

    /// `POST /api/roam/unlock`.
    pub(super) async fn roam_unlock(&self, req: Request<Body>) -> Response<Body> {
        let Some(roaming) = &self.roaming else {
            return message_page(StatusCode::NOT_FOUND, "No key server is configured ([keyserver] in config.toml).");
        };
        let form = match self.checked_form(req).await {
            Ok(form) => form,
            Err(refusal) => return refusal,
        };
        let account = form_value(&form, b"account").map(|a| String::from_utf8_lossy(&a).trim().to_owned());
        let (Some(account), Some(password)) = (account.filter(|a| !a.is_empty()), form_value(&form, b"password"))
        else {
            return message_page(StatusCode::BAD_REQUEST, "The form needs the account and the key-server password.");
        };
        let local_copy = match form_value(&form, b"keep_local_copy") {
            Some(_) => match self.local_copy_passphrase(&form).await {
                Ok(passphrase) => Some(passphrase),
                Err(refusal) => return refusal,
            },
            None => None,
        };
        drop(form);
        match roam::release(&roaming.server, &roaming.dir, &account, &password).await {
            Ok(released) => {
                *roaming.last() = Some(released.report);
                match local_copy {
                    None => {
                        let count = self.keys.unlock_with(vec![released.identity]);
                        tracing::info!(keys = count, "unlocked from the key server on the own page");
                        see_home()
                    }
                    Some(passphrase) => self.keep_local_copy(released.identity, passphrase).await,
                }
            }
            Err(error) => {
                tracing::warn!(%error, "unlock from the key server failed");
                let mut sentence = error.to_string();
                if let Some(first) = sentence.get(..1) {
                    sentence = first.to_uppercase() + &sentence[1..];
                }
                message_page(StatusCode::FORBIDDEN, &format!("{sentence}. Nothing was unlocked."))
            }
        }
    }

    /// The store passphrase of a form that asks for a local copy, checked (against the
    /// stored keys, or the sealed CA) before the key server is asked, so that a typo costs
    /// no key release.
    async fn local_copy_passphrase(&self, form: &[u8]) -> Result<Zeroizing<Vec<u8>>, Response<Body>> {
        let passphrase = form_value(form, b"store_passphrase").filter(|p| !p.is_empty()).ok_or_else(|| {
            message_page(StatusCode::BAD_REQUEST, "A local copy needs the store passphrase. Nothing was unlocked.")
        })?;
        let again = form_value(form, b"store_passphrase_again");
        if let Some(refusal) =
            self.store_passphrase_refusal(&passphrase, again.as_ref().map(|a| a.as_slice()), "unlocked")
        {
            return Err(refusal);
        }
        let (ca, keys, given) = (Arc::clone(&self.ca), Arc::clone(&self.keys), passphrase.clone());
        // Argon2id: off the executor.
        match tokio::task::spawn_blocking(move || check_store_passphrase(&ca, &keys, &given)).await {
            Ok(Ok(())) => Ok(passphrase),
            Ok(Err(StoreError::WrongStorePassphrase)) => Err(message_page(
                StatusCode::FORBIDDEN,
                "Wrong store passphrase (the one that seals the local CA and your keys). Nothing was unlocked.",
            )),
            Ok(Err(error)) => Err(message_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                &format!("The key store cannot take a local copy: {error}. Nothing was unlocked."),
            )),
            Err(_) => Err(message_page(StatusCode::INTERNAL_SERVER_ERROR, "The store passphrase cannot be checked.")),
        }
    }

    /// Seals a released key into the key store under `passphrase` (as an import does) and
    /// unlocks the store; if that fails, the key is unlocked for this run only and the page
    /// says so.
    async fn keep_local_copy(&self, identity: Identity, passphrase: Zeroizing<Vec<u8>>) -> Response<Body> {
        let (ca, keys) = (Arc::clone(&self.ca), Arc::clone(&self.keys));
        let stored = tokio::task::spawn_blocking(move || {
            let result = import_and_unlock(&ca, &keys, &identity, &passphrase);
            (identity, result)
        })
        .await;
        match stored {
            Ok((_, Ok(imported))) => {
                tracing::info!(fingerprint = %imported.entry.summary.fingerprint, "key from the key server kept in the key store");
                see_home()
            }
            Ok((identity, Err(error))) => {
                tracing::warn!(%error, "local copy of the key from the key server failed");
                self.keys.unlock_with(vec![identity]);
                message_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &format!("The key is unlocked for this run, but no local copy was kept: {error}."),
                )
            }
            Err(_) => message_page(StatusCode::INTERNAL_SERVER_ERROR, "The local copy failed; nothing was kept."),
        }
    }
}

/// The account's devices and recent audit log.
fn report_html(report: &Report) -> String {
    let mut html = format!(
        "<h4>Account {} (envelope version {})</h4>\n<table><tr><th>Device</th><th>Added</th><th>State</th></tr>\n",
        escape(&report.account),
        report.envelope_version
    );
    for device in &report.devices {
        let state = match device.revoked {
            Some(at) => format!("revoked {}", roam::when(at)),
            None if device.current => "this proxy".to_owned(),
            None => format!("last seen {}", roam::when(device.last_seen)),
        };
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(&device.name),
            roam::when(device.created),
            escape(&state)
        ));
    }
    html.push_str("</table>\n<h4>Audit log (newest first; hash chain verified)</h4>\n<table class=\"audit\">\n");
    for entry in report.audit.iter().rev().take(20) {
        html.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            roam::when(entry.at),
            escape(&entry.event),
            escape(&entry.detail)
        ));
    }
    html.push_str("</table>\n");
    html
}
