//! Routing of own-origin requests. GET never changes state; POST is checked by
//! [`super::guard`].

use http_body_util::{BodyExt as _, Limited};
use hudsucker::Body;
use hudsucker::hyper::header::HeaderValue;
use hudsucker::hyper::{Method, Request, Response, StatusCode};

use super::OwnOrigin;
use super::direct::PROBE_GIF;
use super::guard::{Refusal, check_same_origin, form_field, token_matches};
use super::pages::STYLE_CSS;
use crate::http::{download, html_response, respond, see_home, text_response};
use zeroize::Zeroizing;

/// Largest form body accepted by the own origin.
const MAX_FORM: usize = 4096;

impl OwnOrigin {
    /// Answers a request addressed to the own origin.
    pub async fn serve(&self, req: Request<Body>) -> Response<Body> {
        let method = req.method().clone();
        let path = req.uri().path().to_owned();
        tracing::info!(method = %method, path_len = path.len(), "own page");
        if let Some(res) = self.public_file(&method, &path) {
            return res;
        }
        match (method, path.as_str()) {
            (Method::GET | Method::HEAD, "/") => html_response(StatusCode::OK, self.home_page()),
            (Method::GET | Method::HEAD, "/probe.gif") => {
                let mut res = respond(StatusCode::OK, "image/gif", PROBE_GIF);
                // Loaded by the listen address's setup page, another origin: it holds nothing.
                res.headers_mut().insert("cross-origin-resource-policy", HeaderValue::from_static("cross-origin"));
                res
            }
            (Method::POST, "/api/rewriting") => self.set_rewriting(req).await,
            (Method::POST, "/api/unlock") => self.unlock(req).await,
            (Method::POST, "/api/lock") => self.lock(req).await,
            (Method::POST, "/api/keys/import") => self.import_key(req).await,
            (Method::POST, "/api/certs/add") => self.add_certificate(req).await,
            (Method::POST, "/api/roam/unlock") => self.roam_unlock(req).await,
            (Method::POST, "/api/pages/sign") => self.sign_page(req).await,
            (Method::GET, view) if view.starts_with("/view/") => self.view(&req, &view["/view/".len()..]),
            (
                _,
                "/" | "/probe.gif" | "/api/rewriting" | "/api/unlock" | "/api/lock" | "/api/keys/import"
                | "/api/certs/add" | "/api/roam/unlock" | "/api/pages/sign",
            ) => text_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
            (_, view) if view.starts_with("/view/") => {
                text_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
            }
            _ => text_response(StatusCode::NOT_FOUND, "not found\n"),
        }
    }

    /// The read-only files both the own origin and the listen address serve (the style
    /// sheet, the PAC file, the CA certificate), or `None` for another path. Methods other
    /// than GET and HEAD get 405.
    pub(super) fn public_file(&self, method: &Method, path: &str) -> Option<Response<Body>> {
        let file: fn(&Self) -> Response<Body> = match path {
            "/style.css" => |_| respond(StatusCode::OK, "text/css; charset=utf-8", STYLE_CSS),
            "/proxy.pac" => |origin| respond(StatusCode::OK, "application/x-ns-proxy-autoconfig", origin.pac()),
            "/ca.pem" => |origin| match origin.ca.root() {
                Some(root) => download("application/x-pem-file", "smime-proxy-ca.pem", root.pem().to_owned()),
                None => no_ca_yet(origin),
            },
            "/ca.der" => |origin| match origin.ca.root() {
                Some(root) => download("application/x-x509-ca-cert", "smime-proxy-ca.der", root.der().to_vec()),
                None => no_ca_yet(origin),
            },
            _ => return None,
        };
        Some(if matches!(*method, Method::GET | Method::HEAD) {
            file(self)
        } else {
            text_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n")
        })
    }

    /// The body of a state-changing `POST`, once it passed the same-origin check and
    /// carries the per-run token; otherwise the refusal to send. The body is held in a
    /// wiping buffer: the unlock form carries a passphrase.
    pub(super) async fn checked_form(&self, req: Request<Body>) -> Result<Zeroizing<Vec<u8>>, Response<Body>> {
        let (parts, body) = req.into_parts();
        if check_same_origin(&parts.headers, &self.host).is_err() {
            return Err(refused(Refusal::CrossOrigin));
        }
        let Ok(collected) = Limited::new(body, MAX_FORM).collect().await else {
            return Err(text_response(StatusCode::PAYLOAD_TOO_LARGE, "form too large\n"));
        };
        let form = Zeroizing::new(Vec::from(collected.to_bytes()));
        let token_ok = std::str::from_utf8(&form)
            .ok()
            .and_then(|form| form_field(form, "token"))
            .is_some_and(|t| token_matches(&self.token, t));
        if !token_ok {
            return Err(refused(Refusal::BadToken));
        }
        Ok(form)
    }

    /// `POST /api/rewriting` with form fields `token` and `enabled=on|off`.
    async fn set_rewriting(&self, req: Request<Body>) -> Response<Body> {
        let form = match self.checked_form(req).await {
            Ok(form) => form,
            Err(refusal) => return refusal,
        };
        let form = std::str::from_utf8(&form).unwrap_or_default();
        match form_field(form, "enabled") {
            Some("on") => self.settings.set_rewriting(true),
            Some("off") => self.settings.set_rewriting(false),
            _ => return text_response(StatusCode::BAD_REQUEST, "enabled must be on or off\n"),
        }
        tracing::info!(rewriting = self.settings.rewriting(), "setting changed");
        see_home()
    }
}

/// The answer for the CA files before the first store passphrase created the CA.
fn no_ca_yet(origin: &OwnOrigin) -> Response<Body> {
    respond(
        StatusCode::NOT_FOUND,
        "text/plain; charset=utf-8",
        format!("no local CA yet: choose the store passphrase on http://{}/ first\n", origin.host),
    )
}

pub(super) fn refused(why: Refusal) -> Response<Body> {
    tracing::warn!(?why, "refused a state-changing request to the own origin");
    let text = match why {
        Refusal::CrossOrigin => "refused: this request does not come from the proxy's own page\n",
        Refusal::BadToken => "refused: missing or wrong token; reload the proxy's page\n",
    };
    text_response(StatusCode::FORBIDDEN, text)
}
