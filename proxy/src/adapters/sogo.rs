//! SOGo 5.8. Its compose dialog reads JSON answers: `{"status":"success"}` for a send, an
//! HTTP error with `{"message": …}` shown in the dialog otherwise. SOGo cannot send a
//! finished message unchanged, so its rule has `delivery = "smtp"`: the proxy submits the
//! message itself and this adapter stores the sender's copy with SOGo's raw `PUT` into
//! the sent folder (an IMAP APPEND, byte for byte). With S/MIME on, an attached file is
//! kept on the device; since SOGo's page then moves to the stored draft, the proxy first
//! stores the compose as an empty draft and answers with its uid.

use bytes::Bytes;
use http_body_util::Full;
use hudsucker::Body;
use hudsucker::hyper::header::{self, HeaderValue};
use hudsucker::hyper::{Method, Response, StatusCode};
use serde_json::json;

use super::exchange::{self, with_session};
use super::{Delivery, DeliveryError, HeldAttachment, Pending, PendingId, Webmail, WebmailRequest};
use crate::http::UpstreamClient;
use crate::rules::ComposeKind;

/// SOGo 5.8.
pub(super) struct Sogo;

impl Webmail for Sogo {
    fn name(&self) -> &'static str {
        "sogo"
    }

    /// SOGo's page shows its own toast on success and no text of the answer.
    fn sent(
        &self,
        _req: &WebmailRequest,
        _compose_id: &str,
        _sent_folder: &str,
        _confirmation: &str,
    ) -> Response<Body> {
        json_answer(StatusCode::OK, &json!({"status": "success"}))
    }

    fn refused(&self, _req: &WebmailRequest, kind: ComposeKind, message: &str) -> Response<Body> {
        let status = match kind {
            ComposeKind::Upload => StatusCode::FORBIDDEN,
            _ => StatusCode::BAD_REQUEST,
        };
        json_answer(status, &json!({"status": "failure", "message": message}))
    }

    /// SOGo's page moves to the stored draft once a file is attached (the upload's answer
    /// names its uid, which the page then reloads): store the compose as an empty draft,
    /// so that there is one.
    fn prepare_hold<'a>(
        &'a self,
        upstream: &'a UpstreamClient,
        req: &'a WebmailRequest,
        _compose_id: &'a str,
    ) -> PendingId<'a> {
        // The draft id is in the request's path: the empty draft is saved at the same URL.
        Box::pin(async move {
            let mut built = with_session(req, Method::POST, &req.base)
                .header(header::CONTENT_TYPE, "application/json;charset=UTF-8")
                .header(header::ACCEPT, "application/json");
            if let Some(token) = &req.token {
                built = built.header("X-XSRF-TOKEN", token);
            }
            let empty = json!({"to": [], "cc": [], "bcc": [], "subject": "", "text": ""});
            let built = built.body(Full::new(Bytes::from(empty.to_string())));
            let fetched = exchange::send(upstream, "SOGo", "draft for the attachment", built).await?;
            draft_uid(&fetched.body).map(Some)
        })
    }

    /// As SOGo answers an upload: the draft's uid and the file (kept here, not there).
    fn held(&self, _req: &WebmailRequest, stored: &str, files: &[HeldAttachment<'_>]) -> Response<Body> {
        let attrs: Vec<serde_json::Value> = files
            .iter()
            .map(|f| json!({"filename": f.name, "size": f.size.to_string(), "mimetype": f.content_type, "path": f.id, "url": "", "urlAsAttachment": ""}))
            .collect();
        json_answer(StatusCode::OK, &json!({"uid": stored, "lastAttachmentAttrs": attrs}))
    }

    fn removed(&self, _req: &WebmailRequest, _id: &str) -> Response<Body> {
        let mut res = Response::new(Body::empty());
        *res.status_mut() = StatusCode::NO_CONTENT;
        res
    }

    fn attachment_id<'a>(&self, posted: &'a str) -> &'a str {
        posted
    }

    /// Stores the sender's copy (the proxy has submitted the message over SMTP).
    fn deliver<'a>(
        &'a self,
        upstream: &'a UpstreamClient,
        req: &'a WebmailRequest,
        d: &'a Delivery<'a>,
    ) -> Pending<'a> {
        Box::pin(async move {
            let url = sent_folder_url(&req.base, d.sent_folder)
                .ok_or_else(|| DeliveryError::Refused("the send did not come from a SOGo mail account".into()))?;
            let mut built = with_session(req, Method::PUT, &url).header(header::CONTENT_TYPE, "message/rfc822");
            if let Some(token) = &req.token {
                built = built.header("X-XSRF-TOKEN", token);
            }
            let built = built.body(Full::new(Bytes::copy_from_slice(d.message)));
            let fetched = exchange::send(upstream, "SOGo", "copy into the sent folder", built).await?;
            if fetched.status != StatusCode::CREATED {
                return Err(DeliveryError::Refused(format!("SOGo answered the copy with HTTP {}", fetched.status)));
            }
            Ok(())
        })
    }
}

/// The uid of the draft SOGo stored, from its answer to the save (`{"uid": …}`: digits).
pub(crate) fn draft_uid(answer: &[u8]) -> Result<String, DeliveryError> {
    let answer: serde_json::Value = serde_json::from_slice(answer)
        .map_err(|_| DeliveryError::Refused("SOGo's answer to the draft save is not JSON".into()))?;
    match &answer["uid"] {
        serde_json::Value::String(s) if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() => Ok(s.clone()),
        serde_json::Value::Number(n) if n.is_u64() => Ok(n.to_string()),
        _ => Err(DeliveryError::Refused("SOGo stored no draft for the attachment".into())),
    }
}

/// `…/SOGo/so/<user>/Mail/<account>/folder<Sent>` from the URL of a compose request
/// (`…/Mail/<account>/folderDrafts/<draft>/send`).
pub(crate) fn sent_folder_url(base: &str, folder: &str) -> Option<String> {
    let (root, rest) = base.split_once("/Mail/")?;
    let account = rest.split('/').next().filter(|a| !a.is_empty())?;
    let folder = exchange::q(folder);
    Some(format!("{root}/Mail/{account}/folder{folder}"))
}

fn json_answer(status: StatusCode, value: &serde_json::Value) -> Response<Body> {
    let mut res = Response::new(Body::from(value.to_string()));
    *res.status_mut() = status;
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sent_folder_is_next_to_the_drafts() {
        assert_eq!(
            sent_folder_url(
                "https://s.example/SOGo/so/alice@example.test/Mail/0/folderDrafts/newDraft1-1/send",
                "Sent"
            )
            .as_deref(),
            Some("https://s.example/SOGo/so/alice@example.test/Mail/0/folderSent")
        );
        assert_eq!(sent_folder_url("https://s.example/SOGo/connect", "Sent"), None);
    }

    #[test]
    fn a_draft_uid_is_digits() {
        assert_eq!(draft_uid(br#"{"uid":"17"}"#).ok().as_deref(), Some("17"));
        assert_eq!(draft_uid(br#"{"uid":17}"#).ok().as_deref(), Some("17"));
        // Whatever else SOGo might answer never becomes part of a URL.
        for bad in
            [&br#"{"uid":-1}"#[..], br#"{"uid":1.5}"#, br#"{"uid":"1/../2"}"#, br#"{"uid":""}"#, b"{}", b"<html>"]
        {
            assert!(draft_uid(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn a_held_upload_is_answered_as_sogo_answers_one() {
        let req = crate::adapters::test_request("");
        let files = [HeldAttachment { id: "smp1", name: "a.txt", content_type: "text/plain", size: 3 }];
        let res = Sogo.held(&req, "12", &files);
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let body = rt.block_on(http_body_util::BodyExt::collect(res.into_body())).unwrap().to_bytes();
        let answer: serde_json::Value = serde_json::from_slice(&body).unwrap();
        // SOGo's uploader reads `uid` (then reloads that draft) and the first attachment's
        // `url` and `filename`.
        assert_eq!(answer["uid"], "12");
        assert_eq!(answer["lastAttachmentAttrs"][0]["filename"], "a.txt");
        assert_eq!(answer["lastAttachmentAttrs"][0]["path"], "smp1");
        assert!(answer["lastAttachmentAttrs"][0].get("url").is_some());
    }

    #[test]
    fn refusals_are_json_errors_the_dialog_shows() {
        let req = crate::adapters::test_request("");
        let res = Sogo.refused(&req, ComposeKind::Send, "Not sent: no certificate for dave@example.test.");
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert_eq!(res.headers()[header::CONTENT_TYPE], "application/json");
    }
}
