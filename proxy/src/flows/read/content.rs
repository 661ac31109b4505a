//! The readable content of an opened message's innermost entity, as safe HTML: text
//! parts as escaped text, HTML parts through ammonia (no scripts, styles, forms, frames,
//! remote or relative URLs; images only from `cid:` parts of the same entity, inlined as
//! `data:` URLs), and the attachments listed for download.
//!
//! EFAIL: each part is sanitised on its own and only parts of the entity given (the
//! decrypted or signed content) are used: nothing is ever joined with the unprotected
//! parts or headers of the outer message before sanitising.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use base64::Engine as _;
use mail_parser::{MessageParser, MimeHeaders as _, PartType};
use zeroize::Zeroizing;

use super::views::Attachment;
use crate::markup::escape;

/// Image types an inline `cid:` image may have to be shown.
const INLINE_IMAGES: &[&str] = &["image/png", "image/jpeg", "image/gif", "image/webp"];

/// What the frame shows of the content.
#[derive(Debug)]
pub struct Content {
    /// Safe HTML of the body parts, each in its own block.
    pub html: String,
    /// Attachments, in order (their index is their download path).
    pub attachments: Vec<AttachmentInfo>,
    /// The entity's own header fields a reader cares about (Subject, From, To, Cc,
    /// Date), decoded: with header protection (RFC 9788) the real ones, which the
    /// webmail never saw.
    pub headers: Vec<(&'static str, String)>,
    /// The body as plain text (what a reply quotes), wiped on drop.
    pub text: Zeroizing<String>,
}

impl Drop for Content {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.html);
        for (_, value) in &mut self.headers {
            zeroize::Zeroize::zeroize(value);
        }
    }
}

/// An attachment: what the list shows, and the bytes for the view store.
#[derive(Debug)]
pub struct AttachmentInfo {
    /// Its MIME type, as declared (shown only; downloads are `application/octet-stream`).
    pub content_type: String,
    /// The stored part.
    pub part: Attachment,
}

/// Renders `entity` (a MIME entity: content fields, blank line, body).
pub fn render(entity: &[u8]) -> Content {
    let Some(message) = MessageParser::default().parse(entity) else {
        return Content {
            html: text_block(&String::from_utf8_lossy(entity)),
            attachments: Vec::new(),
            headers: Vec::new(),
            text: Zeroizing::new(String::from_utf8_lossy(entity).into_owned()),
        };
    };
    let inline = Arc::new(inline_images(&message));
    let sanitiser = sanitiser(Arc::clone(&inline));
    let mut html = String::new();
    for part in message.html_bodies() {
        match &part.body {
            PartType::Html(markup) => {
                html.push_str("<div class=\"part html\">");
                html.push_str(&sanitiser.clean(markup).to_string());
                html.push_str("</div>\n");
            }
            PartType::Text(text) => html.push_str(&text_block(text)),
            _ => {}
        }
    }
    let attachments = message
        .attachments()
        .filter(|part| !part.content_id().is_some_and(|id| inline.contains_key(&bare_cid(id))))
        .enumerate()
        .map(|(index, part)| {
            let content_type = part
                .content_type()
                .map(|ct| format!("{}/{}", ct.ctype(), ct.subtype().unwrap_or("octet-stream")))
                .unwrap_or_else(|| "application/octet-stream".into());
            let filename = safe_filename(part.attachment_name(), index);
            AttachmentInfo {
                content_type,
                part: Attachment { filename, data: Zeroizing::new(part.contents().to_vec()) },
            }
        })
        .collect();
    let text = Zeroizing::new(message.body_text(0).map(|t| t.into_owned()).unwrap_or_default());
    Content { html, attachments, headers: header_fields(&message), text }
}

/// Subject, From, To, Cc and Date of the entity itself, when it has them.
fn header_fields(message: &mail_parser::Message<'_>) -> Vec<(&'static str, String)> {
    let addresses = |address: Option<&mail_parser::Address<'_>>| address.map(crate::flows::original::mailboxes);
    [
        ("Subject", message.subject().map(str::to_owned)),
        ("From", addresses(message.from())),
        ("To", addresses(message.to())),
        ("Cc", addresses(message.cc())),
        ("Date", message.date().map(|d| d.to_rfc3339())),
    ]
    .into_iter()
    .filter_map(|(name, value)| value.filter(|v| !v.is_empty()).map(|v| (name, v)))
    .collect()
}

/// Plain text, escaped, line breaks kept.
fn text_block(text: &str) -> String {
    format!("<div class=\"part text\"><pre>{}</pre></div>\n", escape(text))
}

/// The ammonia configuration for decrypted HTML (see the module docs). `inline` maps
/// content ids to `data:` URLs.
fn sanitiser(inline: Arc<HashMap<String, String>>) -> ammonia::Builder<'static> {
    let mut builder = ammonia::Builder::default();
    builder
        .url_schemes(HashSet::from(["https", "http", "mailto", "cid", "data"]))
        .url_relative(ammonia::UrlRelative::Deny)
        .link_rel(Some("noopener noreferrer nofollow"))
        .set_tag_attribute_value("a", "target", "_blank")
        .strip_comments(true)
        .attribute_filter(move |element, attribute, value| match (element, attribute) {
            // Everything that loads by itself: only inline images of this entity.
            ("img", "src") => {
                let cid = value.strip_prefix("cid:")?;
                inline.get(&bare_cid(cid)).map(|url| Cow::Owned(url.clone()))
            }
            (_, "background" | "srcset" | "poster" | "lowsrc" | "dynsrc" | "longdesc" | "cite") => None,
            // Links load only when clicked, in a new top-level page.
            ("a", "href") => {
                (value.starts_with("https:") || value.starts_with("http:") || value.starts_with("mailto:"))
                    .then_some(Cow::Borrowed(value))
            }
            _ => Some(Cow::Borrowed(value)),
        });
    builder
}

/// `data:` URLs of the image parts that have a Content-ID, by bare content id.
fn inline_images(message: &mail_parser::Message<'_>) -> HashMap<String, String> {
    message
        .parts
        .iter()
        .filter_map(|part| {
            let id = part.content_id()?;
            let ct = part.content_type()?;
            let mime = format!("{}/{}", ct.ctype(), ct.subtype()?).to_ascii_lowercase();
            if !INLINE_IMAGES.contains(&mime.as_str()) {
                return None;
            }
            let data = match &part.body {
                PartType::Binary(data) | PartType::InlineBinary(data) => data,
                _ => return None,
            };
            let url = format!("data:{mime};base64,{}", base64::engine::general_purpose::STANDARD.encode(data));
            Some((bare_cid(id), url))
        })
        .collect()
}

/// A content id without angle brackets, percent-decoding left aside (RFC 2392 ids in
/// `cid:` URLs are rarely encoded), lowercased.
fn bare_cid(id: &str) -> String {
    id.trim().trim_start_matches('<').trim_end_matches('>').to_ascii_lowercase()
}

/// A file name safe for a `Content-Disposition` header and a file system, in any script
/// (mail-parser has already decoded RFC 2231 and RFC 2047): the last path component,
/// with quotes, separators, controls and invisible formatting characters (bidi overrides
/// that would show `txt.exe` as `exe.txt`, zero-width characters) made `_`; or
/// `attachment-N`.
fn safe_filename(name: Option<&str>, index: usize) -> String {
    let base = name.unwrap_or_default().rsplit(['/', '\\']).next().unwrap_or_default();
    let clean: String = base.chars().map(|c| if safe_in_name(c) { c } else { '_' }).take(100).collect();
    let clean = clean.trim().trim_start_matches('.');
    if clean.is_empty() { format!("attachment-{}", index + 1) } else { clean.to_owned() }
}

fn safe_in_name(c: char) -> bool {
    let invisible = matches!(c,
        '\u{00AD}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}');
    !invisible
        && !c.is_control()
        && (c == ' ' || !c.is_whitespace())
        && !matches!(c, '"' | '\\' | '/' | ';' | '%' | '*' | ':' | '<' | '>' | '|' | '?')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html_message(html: &str) -> Vec<u8> {
        format!("Content-Type: text/html; charset=utf-8\r\n\r\n{html}").into_bytes()
    }

    #[test]
    fn scripts_forms_styles_and_remote_content_are_removed() {
        let content = render(&html_message(
            "<p onclick=\"x()\">hi</p><script>alert(1)</script><form action=https://e.example><input name=a></form>\
             <style>@import url(https://e.example/s.css)</style><div style=\"background:url(https://e.example/b)\">d</div>\
             <img src=\"https://e.example/p.gif\" alt=p><img src=x.gif><iframe src=https://e.example></iframe>\
             <a href=\"javascript:alert(1)\">j</a><a href=\"/rel\">r</a><a href=\"https://ok.example/\">ok</a>\
             <table background=\"https://e.example/t\"><tr><td>t</td></tr></table><meta http-equiv=refresh content=\"0;url=https://e.example\">",
        ));
        let html = content.html.clone();
        for gone in [
            "script",
            "alert",
            "<form",
            "<input",
            "@import",
            "style=",
            "e.example",
            "x.gif",
            "iframe",
            "/rel",
            "refresh",
        ] {
            assert!(!html.contains(gone), "{gone} in {html}");
        }
        assert!(html.contains("<p>hi</p>"), "{html}");
        assert!(html.contains(r#"href="https://ok.example/""#) && html.contains("noopener"), "{html}");
    }

    #[test]
    fn an_unclosed_efail_image_leaks_nothing() {
        let content = render(&html_message("<p>x</p><img src=\"http://127.0.0.1:9/leak?SECRET plaintext follows"));
        assert!(!content.html.contains("127.0.0.1") && !content.html.contains("leak"), "{}", content.html);
        assert!(!content.html.contains("SECRET"), "the dangling attribute swallowed it, and it stays dropped");
    }

    #[test]
    fn cid_images_are_inlined_and_not_listed() {
        let message = "Content-Type: multipart/related; boundary=b\r\n\r\n--b\r\n\
            Content-Type: text/html\r\n\r\n<p>pic <img src=\"cid:Logo@x\"> <img src=\"cid:none@x\"></p>\r\n--b\r\n\
            Content-Type: image/png\r\nContent-ID: <logo@x>\r\nContent-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo=\r\n--b--\r\n";
        let content = render(message.as_bytes());
        assert!(content.html.contains("src=\"data:image/png;base64,iVBORw0KGgo=\""), "{}", content.html);
        assert!(!content.html.contains("cid:"), "{}", content.html);
        assert!(content.attachments.is_empty());
    }

    #[test]
    fn plain_text_is_shown_as_text() {
        let content = render(b"Content-Type: text/plain\r\n\r\nHello <b>Bob</b> & <script>x</script>\r\n");
        assert!(content.html.contains("<pre>Hello &lt;b&gt;Bob&lt;/b&gt; &amp; &lt;script&gt;x&lt;/script&gt;"));
    }

    #[test]
    fn alternative_shows_html_only_and_attachments_are_listed() {
        let message = "Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\n\
            Content-Type: multipart/alternative; boundary=a\r\n\r\n--a\r\nContent-Type: text/plain\r\n\r\nTEXT\r\n\
            --a\r\nContent-Type: text/html\r\n\r\n<b>HTML</b>\r\n--a--\r\n--m\r\n\
            Content-Type: application/pdf; name=\"../r\\\"e;port.pdf\"\r\nContent-Disposition: attachment\r\n\r\n%PDF\r\n--m--\r\n";
        let content = render(message.as_bytes());
        assert!(content.html.contains("<b>HTML</b>") && !content.html.contains("TEXT"), "{}", content.html);
        assert_eq!(content.attachments.len(), 1);
        assert_eq!(content.attachments[0].content_type, "application/pdf");
        assert_eq!(content.attachments[0].part.data.as_slice(), b"%PDF");
        let name = &content.attachments[0].part.filename;
        assert!(!name.contains(['"', '/', '\\', ';']), "{name}");
    }

    #[test]
    fn file_names_are_made_safe() {
        assert_eq!(safe_filename(Some("a/b/..\\c.txt"), 0), "c.txt");
        assert_eq!(safe_filename(Some("..."), 1), "attachment-2");
        assert_eq!(safe_filename(None, 0), "attachment-1");
        assert_eq!(safe_filename(Some("é\"x\r\n.txt"), 0), "é_x__.txt");
        assert_eq!(safe_filename(Some("Notizen-Köln-東京.txt"), 0), "Notizen-Köln-東京.txt");
        assert_eq!(safe_filename(Some("invoice\u{202E}txt.exe"), 0), "invoice_txt.exe");
        assert_eq!(safe_filename(Some("a\u{200B}b\u{3000}c.pdf"), 0), "a_b_c.pdf");
    }
}
