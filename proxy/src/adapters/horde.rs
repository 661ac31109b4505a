//! Horde IMP 6.2 (dynamic view). Its page expects AJAX answers as JSON inside
//! `/*-secure-` … `*/`: `response` (with `success` for actions), `msgs` (notifications the
//! page shows) and `tasks`. A finished message is delivered byte for byte through IMP's
//! own functions: `importMailbox` into the sent mailbox (the sender's copy), the quick
//! search finds it by Message-ID, the redirect page gives a compose cache for it, and
//! `redirectMessage` sends it, once for To and Cc together and once per Bcc recipient (a
//! redirect names all its recipients in `Resent-To`).

use bytes::Bytes;
use http_body_util::Full;
use hudsucker::Body;
use hudsucker::hyper::header::{self, HeaderValue};
use hudsucker::hyper::{Method, Response, StatusCode};
use serde_json::{Value, json};

use super::exchange::{self, human_size, multipart, q, with_session};
use super::{Delivery, DeliveryError, HeldAttachment, Pending, Webmail, WebmailRequest};
use crate::http::UpstreamClient;
use crate::rules::ComposeKind;

/// The envelope of IMP's JSON answers.
const SECURE: (&str, &str) = ("/*-secure-", "*/");
/// The icon of a held attachment in IMP's list (IMP's page needs one; a 1×1 PNG).
const ICON: &str = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
/// IMP's quick-search view (`DimpCore.conf.qsearchid`: base64url of `impsearch\0dimpqsearch`).
const QSEARCH_VIEW: &str = "aW1wc2VhcmNoAGRpbXBxc2VhcmNo";

/// Horde IMP 6.2, dynamic view.
pub(super) struct Horde;

impl Webmail for Horde {
    fn name(&self) -> &'static str {
        "horde"
    }

    fn sent(&self, _req: &WebmailRequest, _compose_id: &str, _sent_folder: &str, confirmation: &str) -> Response<Body> {
        answer(
            &json!({
                "response": {"action": "sendMessage", "success": 1},
                "msgs": [{"message": confirmation, "type": "horde.success"}],
            }),
            "application/json",
        )
    }

    fn refused(&self, _req: &WebmailRequest, kind: ComposeKind, message: &str) -> Response<Body> {
        let msgs = json!([{"message": message, "type": "horde.error"}]);
        match kind {
            ComposeKind::Send => {
                answer(&json!({"response": {"action": "sendMessage", "success": 0}, "msgs": msgs}), "application/json")
            }
            ComposeKind::Draft => {
                answer(&json!({"response": {"action": "saveDraft", "success": 0}, "msgs": msgs}), "application/json")
            }
            // The upload is a form posted into a frame: IMP reads the frame's text.
            ComposeKind::Upload => {
                answer(&json!({"response": {"action": "addAttachment", "success": 0}, "msgs": msgs}), "text/html")
            }
            ComposeKind::Remove | ComposeKind::Convert => {
                answer(&json!({"response": {}, "msgs": msgs}), "application/json")
            }
            ComposeKind::Spellcheck => {
                let mut res = Response::new(Body::from(format!("{message}\n")));
                *res.status_mut() = StatusCode::FORBIDDEN;
                no_store(res, "text/plain; charset=UTF-8")
            }
        }
    }

    fn held(&self, _req: &WebmailRequest, _compose_id: &str, files: &[HeldAttachment<'_>]) -> Response<Body> {
        let atc: Vec<Value> = files
            .iter()
            .map(|f| {
                json!({"name": f.name, "num": f.id, "type": f.content_type, "size": human_size(f.size), "icon": ICON, "view": 0})
            })
            .collect();
        let msgs: Vec<Value> = files
            .iter()
            .map(|f| json!({"message": format!("\"{}\" is kept on this device (S/MIME).", f.name), "type": "horde.success"}))
            .collect();
        answer(
            &json!({
                "response": {"action": "addAttachment", "success": 1},
                "msgs": msgs,
                "tasks": {"imp:compose-atc": atc},
            }),
            "text/html",
        )
    }

    fn removed(&self, _req: &WebmailRequest, id: &str) -> Response<Body> {
        answer(&json!({"response": [id]}), "application/json")
    }

    /// `atc_indices` is a JSON array (`["smp1a"]`, or `[2]` for IMP's own).
    fn attachment_id<'a>(&self, posted: &'a str) -> &'a str {
        let inner = posted.trim().trim_start_matches('[').trim_end_matches(']');
        inner.split(',').next().unwrap_or_default().trim().trim_matches('"')
    }

    fn deliver<'a>(
        &'a self,
        upstream: &'a UpstreamClient,
        req: &'a WebmailRequest,
        d: &'a Delivery<'a>,
    ) -> Pending<'a> {
        Box::pin(async move {
            let token = req.token.as_deref().ok_or_else(|| {
                DeliveryError::Refused("the request carried no Horde session token; reload the page".into())
            })?;
            let imp = Imp::at(req)?;
            imp.import(upstream, token, d).await?;
            let buid = imp.find(upstream, token, d).await?;
            let together: Vec<&str> = [d.to, d.cc].into_iter().filter(|l| !l.trim().is_empty()).collect();
            let mut batches: Vec<String> = Vec::new();
            if !together.is_empty() {
                batches.push(together.join(", "));
            }
            batches.extend(d.bcc_addresses.iter().cloned());
            for (i, recipients) in batches.iter().enumerate() {
                if let Err(error) = imp.redirect(upstream, token, &buid, recipients).await {
                    if i == 0 {
                        tracing::warn!("the redirect failed; the copy stays in the sent mailbox");
                    }
                    return Err(error);
                }
            }
            Ok(())
        })
    }
}

/// Where IMP is, from the URL of one of its AJAX requests.
struct Imp<'r> {
    req: &'r WebmailRequest,
    /// `scheme://host/…/services/ajax.php/imp/`.
    ajax: String,
    /// `scheme://host/…/imp/dynamic.php`.
    dynamic: String,
}

impl<'r> Imp<'r> {
    fn at(req: &'r WebmailRequest) -> Result<Self, DeliveryError> {
        let Some((root, _)) = req.base.split_once("/services/ajax.php/") else {
            return Err(DeliveryError::Refused("the send did not come from IMP's AJAX interface".into()));
        };
        Ok(Self { req, ajax: format!("{root}/services/ajax.php/imp/"), dynamic: format!("{root}/imp/dynamic.php") })
    }

    /// An AJAX action, urlencoded `form` (with the token).
    async fn action(&self, upstream: &UpstreamClient, action: &str, form: String) -> Result<Value, DeliveryError> {
        let built = with_session(self.req, Method::POST, &format!("{}{action}", self.ajax))
            .header("X-Requested-With", "XMLHttpRequest")
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded; charset=UTF-8")
            .body(Full::new(Bytes::from(form)));
        let fetched = exchange::send(upstream, "Horde", action, built).await?;
        parse_answer(&fetched.body, action)
    }

    async fn import(&self, upstream: &UpstreamClient, token: &str, d: &Delivery<'_>) -> Result<(), DeliveryError> {
        let (content_type, body) = multipart(
            d.message_id,
            &[("import_mbox", d.sent_folder), ("token", token)],
            ("import_file", "smime.eml", "message/rfc822", d.message),
        );
        let built = with_session(self.req, Method::POST, &format!("{}importMailbox", self.ajax))
            .header("X-Requested-With", "XMLHttpRequest")
            .header(header::CONTENT_TYPE, content_type)
            .body(Full::new(body));
        let fetched = exchange::send(upstream, "Horde", "import", built).await?;
        let answer = parse_answer(&fetched.body, "import")?;
        if answer.pointer("/response/mbox").is_none() {
            return Err(DeliveryError::Refused("Horde did not store the message in the sent mailbox".into()));
        }
        Ok(())
    }

    /// The id of the imported copy, found by its Message-ID with IMP's quick search.
    async fn find(&self, upstream: &UpstreamClient, token: &str, d: &Delivery<'_>) -> Result<String, DeliveryError> {
        let viewport = json!({
            "view": QSEARCH_VIEW, "initial": 1, "slice": "1:50", "qsearch": d.message_id,
            "qsearchmbox": d.sent_folder, "qsearchfield": "all", "force": 1,
        });
        let form = format!("view={QSEARCH_VIEW}&viewport={}&token={}", q(&viewport.to_string()), q(token));
        let answer = self.action(upstream, "viewPort", form).await?;
        let rows = answer.pointer("/tasks/imp:viewport/data").and_then(Value::as_object);
        let mut buids = rows.into_iter().flat_map(|rows| rows.keys());
        match (buids.next(), buids.next()) {
            (Some(buid), None) => Ok(buid.clone()),
            (None, _) => Err(DeliveryError::Refused("the stored message was not found in the sent mailbox".into())),
            (Some(_), Some(_)) => Err(DeliveryError::Refused("the stored message's Message-ID is not unique".into())),
        }
    }

    /// Redirects the stored message `buid` to `recipients`.
    async fn redirect(
        &self,
        upstream: &UpstreamClient,
        token: &str,
        buid: &str,
        recipients: &str,
    ) -> Result<(), DeliveryError> {
        let url =
            format!("{}?page=compose&type=forward_redirect&buid={}&mailbox={QSEARCH_VIEW}", self.dynamic, q(buid));
        let built = with_session(self.req, Method::GET, &url).body(Full::new(Bytes::new()));
        let page = exchange::send(upstream, "Horde", "redirect page", built).await?;
        let cache = compose_cache(&page.body)
            .ok_or_else(|| DeliveryError::Refused("Horde's redirect page has no compose cache".into()))?;
        let form = format!("composeCache={}&redirect_to={}&token={}", q(&cache), q(recipients), q(token));
        let answer = self.action(upstream, "redirectMessage", form).await?;
        if answer.pointer("/response/success").and_then(Value::as_i64) != Some(1) {
            return Err(DeliveryError::Refused("Horde did not confirm sending the message".into()));
        }
        Ok(())
    }
}

/// An IMP answer: the JSON in its envelope; an error when it is not one, or when IMP
/// reported an error (`msgs` of type `horde.error`).
pub(crate) fn parse_answer(body: &[u8], what: &str) -> Result<Value, DeliveryError> {
    let text = String::from_utf8_lossy(body);
    let json = text.trim().strip_prefix(SECURE.0).and_then(|t| t.strip_suffix(SECURE.1)).unwrap_or(text.trim());
    let value: Value = serde_json::from_str(json).map_err(|_| {
        DeliveryError::Refused(format!("Horde's answer to the {what} is not IMP's JSON (session expired?)"))
    })?;
    let error = value.get("msgs").and_then(Value::as_array).into_iter().flatten().find_map(|m| {
        (m.get("type").and_then(Value::as_str) == Some("horde.error"))
            .then(|| m.get("message").and_then(Value::as_str).unwrap_or("an error").to_owned())
    });
    match error {
        Some(message) => Err(DeliveryError::Refused(format!("Horde refused the {what}: {message}"))),
        None => Ok(value),
    }
}

/// The compose cache id in a compose page (`"imp:compose":{"cacheid":"…"`).
pub(crate) fn compose_cache(page: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(page);
    let after = &text[text.find("\"imp:compose\"")?..];
    let after = &after[after.find("\"cacheid\"")? + "\"cacheid\"".len()..];
    let value = after.trim_start().strip_prefix(':')?.trim_start().strip_prefix('"')?;
    let id: String = value.chars().take_while(|c| *c != '"').collect();
    (!id.is_empty() && id.chars().all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))).then_some(id)
}

/// `value` as IMP's page expects it.
fn answer(value: &Value, content_type: &'static str) -> Response<Body> {
    let body = format!("{}{value}{}", SECURE.0, SECURE.1);
    let content_type = if content_type == "text/html" { "text/html; charset=UTF-8" } else { "application/json" };
    no_store(Response::new(Body::from(body)), content_type)
}

fn no_store(mut res: Response<Body>, content_type: &'static str) -> Response<Body> {
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_in_imp_envelope() {
        assert_eq!(
            parse_answer(br#"/*-secure-{"response":{"action":"importMailbox","mbox":"U2VudA"},"msgs":[]}*/"#, "import")
                .unwrap()
                .pointer("/response/mbox"),
            Some(&Value::from("U2VudA"))
        );
        let refused =
            parse_answer(br#"/*-secure-{"msgs":[{"message":"Bad address","type":"horde.error"}]}*/"#, "redirect");
        assert!(refused.unwrap_err().to_string().contains("Bad address"));
        assert!(parse_answer(b"<html>login</html>", "import").is_err());
    }

    #[test]
    fn compose_cache_from_the_redirect_page() {
        let page = br#"DimpCompose.tasks={"imp:compose":{"cacheid":"iWCKoqQOBeDTM1nfy-NUIME","hmac":"06f8"}};"#;
        assert_eq!(compose_cache(page).as_deref(), Some("iWCKoqQOBeDTM1nfy-NUIME"));
        assert_eq!(compose_cache(br#""imp:compose":{"cacheid":"a\"b"}"#), None);
        assert_eq!(compose_cache(b"nothing"), None);
    }

    #[test]
    fn held_attachments_are_listed_as_imp_lists_its_own() {
        let req = crate::adapters::test_request("");
        let files = [HeldAttachment { id: "smp1", name: "a.bin", content_type: "application/octet-stream", size: 38 }];
        let res = Horde.held(&req, "c", &files);
        let body = futures_body(res);
        let value = parse_answer(body.as_bytes(), "upload").unwrap();
        let entry = &value["tasks"]["imp:compose-atc"][0];
        // IMP's DimpCompose.addAttach uses the icon unconditionally.
        for key in ["name", "num", "type", "size", "icon"] {
            assert!(entry.get(key).is_some(), "{key} in {entry}");
        }
        assert_eq!(entry["num"], "smp1");
    }

    fn futures_body(res: Response<Body>) -> String {
        use http_body_util::BodyExt as _;
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes = rt.block_on(res.into_body().collect()).unwrap().to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn attachment_ids_from_atc_indices() {
        assert_eq!(Horde.attachment_id("[\"smp1a\"]"), "smp1a");
        assert_eq!(Horde.attachment_id("[2]"), "2");
        assert_eq!(Horde.attachment_id("smp1a"), "smp1a");
    }

    #[test]
    fn the_page_gets_imp_answers() {
        let req = crate::adapters::test_request("https://h.example/horde/services/ajax.php/imp/sendMessage");
        let res = Horde.refused(&req, ComposeKind::Upload, "no");
        assert_eq!(res.headers()[header::CONTENT_TYPE], "text/html; charset=UTF-8");
        let imp = Imp::at(&req).unwrap();
        assert_eq!(imp.ajax, "https://h.example/horde/services/ajax.php/imp/");
        assert_eq!(imp.dynamic, "https://h.example/horde/imp/dynamic.php");
    }
}
