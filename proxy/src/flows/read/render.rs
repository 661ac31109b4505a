//! The view frame's document: the proxy's trust banner on top, then the sanitised
//! content, then the attachments (links to the own origin). The only style is the
//! proxy's own `<style>` element; the content has none left after sanitising.

use smime_crypto::{Layer, SignatureStatus, SignatureSummary};

use super::banner;
use super::content::Content;
use super::open::{Failure, Reading};
use crate::markup::escape;

/// The frame's stylesheet (allowed by the frame's CSP, `style-src 'unsafe-inline'`:
/// sanitised content carries no style of its own).
const STYLE: &str = "body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#222;background:#fff}\
.smime-banner{position:sticky;top:0;margin:0;padding:.5em 1em;border-bottom:3px solid;font-size:14px}\
.smime-banner h1{font-size:15px;margin:0}.smime-banner ul{margin:.2em 0 0;padding-left:1.2em}\
.smime-banner .by{float:right;margin:0;font-size:12px;opacity:.7}\
.good{background:#e6f4ea;border-color:#1e8e3e}.neutral{background:#fef7e0;border-color:#f9ab00}\
.bad{background:#fce8e6;border-color:#d93025}\
main{padding:1em}pre{white-space:pre-wrap;word-wrap:break-word;font:14px/1.45 ui-monospace,monospace;margin:0}\
.part+.part{border-top:1px solid #ddd;margin-top:1em;padding-top:1em}img{max-width:100%}\
.attachments{padding:0 1em 1em}.attachments h2{font-size:14px}\
.protected-headers{padding:.4em 1em;border-bottom:1px solid #ddd;font-size:14px}\
.protected-headers .note{margin:0;font-size:12px;opacity:.7}\
.protected-headers dl{display:grid;grid-template-columns:max-content 1fr;gap:0 .8em;margin:.2em 0}\
.protected-headers dt{font-weight:600}.protected-headers dd{margin:0}";

/// The document for `reading`; attachment links are `/view/{id}/part/{n}`.
pub fn document(reading: &Reading, id: &str) -> String {
    let (banner, mut body) = match reading {
        Reading::Opened { layers, signature, revocation, content } => (
            banner::opened(layers, signature.as_deref(), revocation.as_deref()),
            format!(
                "{}<main>{}</main>\n{}",
                protected_headers(content, layers, signature.as_deref()),
                content.html,
                attachments(content, id)
            ),
        ),
        Reading::Failed(failure) => (failure_banner(failure), String::new()),
    };
    let document = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\">\
         <title>smime-proxy: message</title><style>{STYLE}</style></head>\n<body>\n{banner}{body}</body></html>\n"
    );
    zeroize::Zeroize::zeroize(&mut body);
    document
}

/// The banner for a message that was not opened.
fn failure_banner(failure: &Failure) -> String {
    match failure {
        Failure::Locked { hint } => banner::failed(
            "Cannot decrypt: the key store is locked",
            &[format!("This message is encrypted. {hint}"), "Then reload this message.".into()],
        ),
        Failure::NotForYou => banner::failed(
            "Not for your key",
            &["This message is encrypted, but not to any of the keys in your key store.".into()],
        ),
        Failure::DecryptionFailed => banner::failed(
            "Decryption failed",
            &[
                "A key of yours is a recipient, but the message could not be decrypted: it was damaged or tampered with."
                    .into(),
                "Nothing of its content is shown.".into(),
            ],
        ),
        Failure::Unreadable(reason) => banner::failed(
            "This S/MIME message cannot be read",
            &[reason.clone(), "Nothing of its content is shown.".into()],
        ),
    }
}

/// The header fields from inside the S/MIME layers, marked as such: the real subject of
/// a header-protected message (the webmail shows "[...]"), and From/To/Date as the
/// sender wrote them under the signature or encryption.
fn protected_headers(content: &Content, layers: &[Layer], signature: Option<&SignatureSummary>) -> String {
    let encrypted = layers.iter().any(|l| matches!(l, Layer::Encrypted { .. }));
    let signed = signature.is_some();
    let inside = match (encrypted, signed) {
        _ if content.headers.is_empty() => return String::new(),
        (_, true) if signature.is_some_and(|s| s.status != SignatureStatus::Valid) => {
            "From inside the signed part, whose signature is NOT valid:"
        }
        (true, true) => "From inside the encrypted and signed part:",
        (true, false) => "From inside the encrypted part (not signed):",
        (false, true) => "From inside the signed part:",
        (false, false) => return String::new(),
    };
    let mut html = format!("<section class=\"protected-headers\"><p class=\"note\">{inside}</p><dl>");
    for (name, value) in &content.headers {
        html.push_str(&format!("<dt>{name}</dt><dd>{}</dd>", escape(value)));
    }
    html.push_str("</dl></section>\n");
    html
}

fn attachments(content: &Content, id: &str) -> String {
    if content.attachments.is_empty() {
        return String::new();
    }
    let mut html = String::from("<section class=\"attachments\"><h2>Attachments</h2><ul>");
    for (index, attachment) in content.attachments.iter().enumerate() {
        html.push_str(&format!(
            "<li><a href=\"/view/{id}/part/{index}\" download=\"{name}\">{name}</a> ({kind}, {size} bytes)</li>",
            name = escape(&attachment.part.filename),
            kind = escape(&attachment.content_type),
            size = attachment.part.data.len(),
        ));
    }
    html.push_str("</ul></section>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::flows::read::content;

    #[test]
    fn the_banner_comes_before_the_content_and_failures_show_no_content() {
        let reading = Reading::Opened {
            layers: vec![],
            signature: None,
            revocation: None,
            content: content::render(
                b"Content-Type: multipart/mixed; boundary=m\r\n\r\n--m\r\nContent-Type: text/plain\r\n\r\n\
                  <h1 class=\"smime-banner good\">Signature valid</h1>\r\n--m\r\n\
                  Content-Type: text/plain; name=a.txt\r\nContent-Disposition: attachment; filename=a.txt\r\n\r\nA\r\n--m--\r\n",
            ),
        };
        let html = document(&reading, "00ff");
        let banner = html.find("smime-banner neutral").unwrap();
        assert!(banner < html.find("<main>").unwrap());
        assert!(html.contains("&lt;h1 class=&quot;smime-banner good&quot;&gt;"), "the sender's fake banner is text");
        assert!(html.contains("href=\"/view/00ff/part/0\" download=\"a.txt\""), "{html}");

        let html = document(&Reading::Failed(Failure::NotForYou), "00ff");
        assert!(html.contains("Not for your key") && !html.contains("<main>"));
        let html = document(&Reading::Failed(Failure::Locked { hint: "unlock it at http://p.invalid/".into() }), "x");
        assert!(html.contains("unlock it at http://p.invalid/"));
    }

    #[test]
    fn protected_headers_are_shown_above_the_content_marked_as_from_inside() {
        let reading = Reading::Opened {
            layers: vec![Layer::Encrypted { cipher: "AES-256-CBC", authenticated: false, legacy: false }],
            signature: None,
            revocation: None,
            content: content::render(
                "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe_<b>aus</b>_K=C3=B6ln?=\r\nFrom: Alice <alice@example.test>\r\n\
                 To: bob@example.test\r\nDate: Fri, 04 Dec 2026 10:00:00 +0000\r\nContent-Type: text/plain\r\n\r\nHi\r\n"
                    .as_bytes(),
            ),
        };
        let html = document(&reading, "00ff");
        let headers = html.find("From inside the encrypted part (not signed):").expect("marked");
        assert!(headers < html.find("<main>").unwrap());
        assert!(html.contains("<dt>Subject</dt><dd>Grüße &lt;b&gt;aus&lt;/b&gt; Köln</dd>"), "{html}");
        assert!(html.contains("<dt>From</dt><dd>Alice &lt;alice@example.test&gt;</dd>"), "{html}");
        assert!(html.contains("<dt>Date</dt><dd>2026-12-04T10:00:00Z</dd>"), "{html}");

        // No header fields inside (no header protection): nothing is shown.
        let plain = Reading::Opened {
            layers: vec![Layer::Encrypted { cipher: "AES-256-CBC", authenticated: false, legacy: false }],
            signature: None,
            revocation: None,
            content: content::render(b"Content-Type: text/plain\r\n\r\nHi\r\n"),
        };
        assert!(!document(&plain, "00ff").contains("protected-headers\""));
    }
}
