//! Roundcube 1.6: the answers its compose page expects, and delivery of a finished
//! message through Roundcube's own functions (research/webmail-stack.md, sections 4, 7):
//!
//! 1. import the message into the sent folder (`_action=import`, an XHR upload), which
//!    stores it byte for byte: the sender's copy;
//! 2. find its UID with an IMAP search for its Message-ID (`_action=search` with
//!    `_filter=HEADER Message-ID id`);
//! 3. redirect it to the recipients (`_action=bounce`): Roundcube sends the stored message
//!    unchanged through its SMTP server, adding only `Resent-*` fields; Bcc recipients go
//!    into `Resent-Bcc`, which Roundcube removes before sending.
//!
//! If the redirect fails, the imported copy is deleted again: nothing was sent.

use bytes::Bytes;
use http_body_util::Full;
use hudsucker::Body;
use hudsucker::hyper::header::{self, HeaderValue};
use hudsucker::hyper::http;
use hudsucker::hyper::{Method, Request, Response, StatusCode};

use super::exchange::{self, human_size, multipart, q, with_session};
use super::{Delivery, DeliveryError, HeldAttachment, Pending, Webmail, WebmailRequest};
use crate::http::{Fetched, UpstreamClient};
use crate::markup::{escape, js_string};
use crate::rules::ComposeKind;

/// Prefix of attachment ids in Roundcube's page (`rcmfile<ID>`).
const FILE_PREFIX: &str = "rcmfile";

/// The `<script>` document Roundcube answers a framed form POST with. Its generator meta
/// is what Roundcube's page looks for to know the frame holds its own answer; without it
/// the page also shows "Connection Error".
fn frame_script(calls: &[String]) -> Response<Body> {
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta http-equiv=\"content-type\" content=\"text/html; charset=UTF-8\">\
         <meta name=\"generator\" content=\"Roundcube\"><title></title>\n<script>\nif (window.parent && parent.rcmail) {{\n{}\n}}\n</script>\n</head>\n<body>\n</body>\n</html>\n",
        calls.iter().map(|c| format!("\tparent.rcmail.{c};")).collect::<Vec<_>>().join("\n")
    );
    no_store(Response::new(Body::from(body)), "text/html; charset=UTF-8")
}

/// The JSON Roundcube answers an XHR with: `exec` runs in the page's `rcmail`.
fn xhr_exec(action: &str, calls: &[String]) -> Response<Body> {
    let exec: String = calls.iter().map(|c| format!("this.{c};")).collect();
    let body = format!("{{\"action\":{},\"exec\":{}}}", js_string(action), js_string(&exec));
    no_store(Response::new(Body::from(body)), "application/json; charset=UTF-8")
}

fn no_store(mut res: Response<Body>, content_type: &'static str) -> Response<Body> {
    let headers = res.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// `iframe_loaded("<unlock>")`, which ends the page's "sending..." state.
fn unlock(req: &WebmailRequest) -> Option<String> {
    req.query.get("_unlock").map(|u| format!("iframe_loaded({})", js_string(u)))
}

/// Roundcube 1.6: answers as its `rcmail` page expects; delivers by import into Sent,
/// search by Message-ID and bounce (Redirect).
pub(super) struct Roundcube;

impl Webmail for Roundcube {
    fn name(&self) -> &'static str {
        "roundcube"
    }

    fn sent(&self, req: &WebmailRequest, compose_id: &str, sent_folder: &str, confirmation: &str) -> Response<Body> {
        let mut calls: Vec<String> = unlock(req).into_iter().collect();
        calls.push(format!("remove_compose_data({})", js_string(compose_id)));
        calls.push(format!(
            "sent_successfully(\"confirmation\",{},[{}],false)",
            js_string(confirmation),
            js_string(sent_folder)
        ));
        frame_script(&calls)
    }

    fn refused(&self, req: &WebmailRequest, kind: ComposeKind, message: &str) -> Response<Body> {
        let show = format!("display_message({},\"error\",0)", js_string(message));
        match kind {
            ComposeKind::Send | ComposeKind::Draft => {
                let mut calls: Vec<String> = unlock(req).into_iter().collect();
                calls.push(show);
                frame_script(&calls)
            }
            ComposeKind::Upload => {
                let mut calls = vec![show];
                if let Some(upload) = req.query.get("_uploadid") {
                    calls.push(format!("remove_from_attachment_list({})", js_string(upload)));
                }
                xhr_exec("upload", &calls)
            }
            ComposeKind::Remove => xhr_exec("remove-attachment", &[show]),
            ComposeKind::Spellcheck | ComposeKind::Convert => {
                let mut res = Response::new(Body::from(format!("{message}\n")));
                *res.status_mut() = StatusCode::FORBIDDEN;
                no_store(res, "text/plain; charset=UTF-8")
            }
        }
    }

    fn held(&self, req: &WebmailRequest, _compose_id: &str, files: &[HeldAttachment<'_>]) -> Response<Body> {
        let upload = req.query.get("_uploadid").unwrap_or_default();
        let calls: Vec<String> = files
            .iter()
            .map(|f| {
                let list_id = format!("{FILE_PREFIX}{}", f.id);
                let html = format!(
                    "<a href=\"#load\" class=\"filename\"><span class=\"attachment-name\">{name}</span>\
                     <span class=\"attachment-size\">({size}, kept on this device)</span></a>\
                     <a href=\"#delete\" onclick=\"return rcmail.command('remove-attachment','{list_id}', this, event)\" \
                     title=\"Delete\" class=\"delete\" aria-label=\"Delete {name}\"></a>",
                    name = escape(f.name),
                    size = human_size(f.size),
                );
                let class = f.content_type.replace('/', " ");
                format!(
                    "add2attachment_list({},{{\"html\":{},\"name\":{},\"mimetype\":{},\"classname\":{},\"complete\":true}},{})",
                    js_string(&list_id),
                    js_string(&html),
                    js_string(f.name),
                    js_string(f.content_type),
                    js_string(&escape(&class)),
                    js_string(upload)
                )
            })
            .collect();
        xhr_exec("upload", &calls)
    }

    fn removed(&self, _req: &WebmailRequest, id: &str) -> Response<Body> {
        xhr_exec(
            "remove-attachment",
            &[format!("remove_from_attachment_list({})", js_string(&format!("{FILE_PREFIX}{id}")))],
        )
    }

    fn attachment_id<'a>(&self, posted: &'a str) -> &'a str {
        posted.strip_prefix(FILE_PREFIX).unwrap_or(posted)
    }

    fn deliver<'a>(
        &'a self,
        upstream: &'a UpstreamClient,
        req: &'a WebmailRequest,
        d: &'a Delivery<'a>,
    ) -> Pending<'a> {
        Box::pin(async move {
            let token = req.token.as_deref().ok_or_else(|| {
                DeliveryError::Refused("the request carried no Roundcube request token; reload the page".into())
            })?;
            import(upstream, req, token, d).await?;
            let uid = find(upstream, req, token, d).await?;
            if let Err(error) = bounce(upstream, req, token, d, &uid).await {
                if let Err(cleanup) = delete(upstream, req, token, d.sent_folder, &uid).await {
                    tracing::warn!(%cleanup, "could not delete the undelivered copy from the sent folder");
                }
                return Err(error);
            }
            Ok(())
        })
    }
}

/// A request to Roundcube with the user's session; XHRs carry the token as a header.
fn request(req: &WebmailRequest, method: Method, query: &str, xhr_token: Option<&str>) -> http::request::Builder {
    let builder = with_session(req, method, &format!("{}?{query}", req.base));
    match xhr_token {
        Some(token) => builder.header("X-Roundcube-Request", token).header("X-Requested-With", "XMLHttpRequest"),
        None => builder,
    }
}

async fn send(
    upstream: &UpstreamClient,
    what: &str,
    built: http::Result<Request<Full<Bytes>>>,
) -> Result<Fetched, DeliveryError> {
    exchange::send(upstream, "Roundcube", what, built).await
}

/// The message Roundcube showed in an answer (`display_message("...", "error")`), if any.
pub(crate) fn error_shown(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    text.split("display_message(").skip(1).find_map(|call| {
        let (message, rest) = string_literal(call)?;
        rest.trim_start().strip_prefix(',')?.trim_start().starts_with("\"error\"").then_some(message)
    })
}

/// A double-quoted JavaScript string at the start of `text` (escapes resolved loosely)
/// and what follows it.
fn string_literal(text: &str) -> Option<(String, &str)> {
    let rest = text.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((out, &rest[i + 1..])),
            '\\' => out.extend(chars.next().map(|(_, c)| c)),
            c => out.push(c),
        }
    }
    None
}

async fn import(
    upstream: &UpstreamClient,
    req: &WebmailRequest,
    token: &str,
    d: &Delivery<'_>,
) -> Result<(), DeliveryError> {
    let (content_type, body) = multipart(d.message_id, &[], ("_file[]", "smime.eml", "message/rfc822", d.message));
    let query = format!("_task=mail&_action=import&_mbox={}&_remote=1&_uploadid=smime-proxy", q(d.sent_folder));
    let built = request(req, Method::POST, &query, Some(token))
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(body));
    let fetched = send(upstream, "import", built).await?;
    if let Some(error) = error_shown(&fetched.body) {
        return Err(DeliveryError::Refused(format!("Roundcube did not store the message: {error}")));
    }
    Ok(())
}

async fn find(
    upstream: &UpstreamClient,
    req: &WebmailRequest,
    token: &str,
    d: &Delivery<'_>,
) -> Result<String, DeliveryError> {
    // Without angle brackets: Roundcube strips anything tag-like from its input. The id
    // is random hex @ domain, so a substring match is exact.
    let filter = format!("HEADER Message-ID {}", d.message_id);
    let query = format!(
        "_task=mail&_action=search&_q=&_headers=&_scope=base&_filter={}&_mbox={}&_remote=1",
        q(&filter),
        q(d.sent_folder)
    );
    let built = request(req, Method::GET, &query, Some(token)).body(Full::new(Bytes::new()));
    let fetched = send(upstream, "search", built).await?;
    let mut uids = listed_uids(&fetched.body).into_iter();
    match (uids.next(), uids.next()) {
        (Some(uid), None) => Ok(uid),
        (None, _) => Err(DeliveryError::Refused(format!("the stored message was not found in {}", d.sent_folder))),
        (Some(_), Some(_)) => Err(DeliveryError::Refused("the stored message's Message-ID is not unique".into())),
    }
}

/// The uids of the rows a search answer lists (`add_message_row(<uid>, …)`).
pub(crate) fn listed_uids(body: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(body);
    text.split("add_message_row(")
        .skip(1)
        .filter_map(|rest| {
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            (!digits.is_empty()).then_some(digits)
        })
        .collect()
}

async fn bounce(
    upstream: &UpstreamClient,
    req: &WebmailRequest,
    token: &str,
    d: &Delivery<'_>,
    uid: &str,
) -> Result<(), DeliveryError> {
    // An empty _store_target: the redirect saves no second copy (the imported one is the
    // sender's copy).
    let form = format!(
        "_token={}&_task=mail&_action=bounce&_uid={}&_mbox={}&_from={}&_to={}&_cc={}&_bcc={}&_store_target=",
        q(token),
        q(uid),
        q(d.sent_folder),
        q(d.from),
        q(d.to),
        q(d.cc),
        q(d.bcc)
    );
    let built = request(req, Method::POST, "_task=mail&_action=bounce&_framed=1", None)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)));
    let fetched = send(upstream, "redirect", built).await?;
    if let Some(error) = error_shown(&fetched.body) {
        return Err(DeliveryError::Refused(format!("Roundcube did not send the message: {error}")));
    }
    if !String::from_utf8_lossy(&fetched.body).contains("\"confirmation\"") {
        return Err(DeliveryError::Refused("Roundcube did not confirm sending the message".into()));
    }
    Ok(())
}

async fn delete(
    upstream: &UpstreamClient,
    req: &WebmailRequest,
    token: &str,
    folder: &str,
    uid: &str,
) -> Result<(), DeliveryError> {
    let form = format!("_uid={}&_mbox={}", q(uid), q(folder));
    let built = request(req, Method::POST, "_task=mail&_action=delete&_remote=1", Some(token))
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(form)));
    send(upstream, "delete", built).await.map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_shown_by_roundcube() {
        assert_eq!(
            error_shown(br#"parent.rcmail.display_message("SMTP Error (550): rejected","error",0);"#).as_deref(),
            Some("SMTP Error (550): rejected")
        );
        assert_eq!(error_shown(br#"this.display_message("Successfully imported 1 messages","confirmation",0);"#), None);
        assert_eq!(Roundcube.attachment_id("rcmfilesmp1a"), "smp1a");
    }

    #[test]
    fn uids_of_a_search_answer() {
        let answer = br#"this.add_message_row(42,{"subject":"s"});this.add_message_row(x);this.add_message_row(7,{})"#;
        assert_eq!(listed_uids(answer), ["42", "7"]);
        assert!(listed_uids(br#"this.set_rowcount("0");"#).is_empty());
    }

    #[test]
    fn framed_answers_are_ones_roundcube_accepts_as_its_own() {
        let answer = frame_script(&["display_message(\"x\",\"error\",0)".into()]);
        let body = body_text(answer);
        assert!(body.contains("<meta name=\"generator\" content=\"Roundcube\">"), "{body}");
    }

    fn body_text(response: Response<Body>) -> String {
        use http_body_util::BodyExt as _;
        let bytes = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(response.into_body().collect())
            .unwrap()
            .to_bytes();
        String::from_utf8(bytes.to_vec()).unwrap()
    }
}
