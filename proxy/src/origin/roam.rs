//! "Unlock from key server" on the own origin: `POST /api/roam/unlock` (form fields
//! `token`, `account`, `password`) logs in to the configured roaming key server with
//! OPAQUE, inside the proxy, and puts the released key in the [`KeyRing`] for this run
//! only (never on disk; wiped on lock, idle timeout, SIGUSR1 and shutdown like a local
//! key). The same checks as every state-changing request ([`super::guard`]) apply. The
//! home page shows the account's devices and audit log from the last unlock.

use std::path::PathBuf;
use std::sync::Mutex;

use hudsucker::Body;
use hudsucker::hyper::{Request, Response, StatusCode};
use smime_keyserver::client::KeyServer;

use super::OwnOrigin;
use super::keys::{form_value, message_page};
use crate::http::see_home;
use crate::markup::escape;
use crate::roam::{self, Report};

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
<button>Unlock from key server</button>
</form>"#,
            server = escape(roaming.server.url()),
            token = self.token,
            account = escape(account),
        );
        if let Some(report) = roaming.last().as_ref() {
            html.push_str(&report_html(report));
        }
        html
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
        drop(form);
        match roam::release(&roaming.server, &roaming.dir, &account, &password).await {
            Ok(released) => {
                let count = self.keys.unlock_with(vec![released.identity]);
                tracing::info!(keys = count, "unlocked from the key server on the own page");
                *roaming.last() = Some(released.report);
                see_home()
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
