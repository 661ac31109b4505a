//! Insertion of a rule's HTML right after the opening `<body>` tag.

use std::cell::Cell;

use lol_html::errors::RewritingError;
use lol_html::html_content::ContentType;
use lol_html::{HtmlRewriter, Settings, element};

use super::PageCharset;

/// Input is fed to lol_html in chunks of this size, so that rewriting can stop soon
/// after the insertion point.
const CHUNK: usize = 512;

/// Returns `page` with `snippet` inserted as the first child of the first `<body>`.
/// Bytes outside the insertion are passed through unchanged, in the page's own charset
/// (`charset` must not be [`PageCharset::Unsupported`]; such pages are not rewritten and
/// come back unchanged). A page without `<body>` comes back unchanged.
///
/// Once the insertion is done nothing else in the page can change, so the rest of the
/// page is copied as is instead of being parsed: the cost is that of parsing up to the
/// `<body>` tag, not the whole page (a 100 KB inbox table costs almost nothing).
pub fn prepend_to_body(page: &[u8], charset: PageCharset, snippet: &str) -> Result<Vec<u8>, RewritingError> {
    let mut settings = Settings::new();
    match charset {
        PageCharset::Declared(encoding) => settings = settings.with_encoding(encoding),
        PageCharset::Undeclared => settings = settings.with_adjust_charset_on_meta_tag(true),
        PageCharset::Unsupported => return Ok(page.to_vec()),
    }
    let done = Cell::new(false);
    settings = settings.append_element_content_handler(element!("body", |el| {
        if !done.get() {
            el.prepend(snippet, ContentType::Html);
            done.set(true);
        }
        Ok(())
    }));

    let mut out = Vec::with_capacity(page.len() + snippet.len());
    let mut rewriter = HtmlRewriter::new(settings, |chunk: &[u8]| out.extend_from_slice(chunk));
    let mut fed = 0;
    for chunk in page.chunks(CHUNK) {
        rewriter.write(chunk)?;
        fed += chunk.len();
        if done.get() {
            break;
        }
    }
    // Flushes what lol_html still buffers of the chunks fed so far, unchanged.
    rewriter.end()?;
    out.extend_from_slice(&page[fed..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARK: &str = r#"<div id="m" hidden></div>"#;

    #[test]
    fn inserts_after_body_open_tag() {
        let out =
            prepend_to_body(b"<html><body class=x><p>hi</p></body></html>", PageCharset::Undeclared, MARK).unwrap();
        assert_eq!(out, br#"<html><body class=x><div id="m" hidden></div><p>hi</p></body></html>"#);
    }

    #[test]
    fn windows_1252_bytes_are_kept() {
        let page = b"<html><head><meta charset=windows-1252></head><body>caf\xe9</body></html>";
        let out = prepend_to_body(page, PageCharset::Undeclared, "<i>Sign\u{e9}</i>").unwrap();
        assert!(out.windows(4).any(|w| w == b"caf\xe9"));
        // The inserted text is encoded in the page's charset, not UTF-8.
        assert!(out.windows(6).any(|w| w == b"Sign\xe9<"), "{out:?}");
    }

    #[test]
    fn unsupported_charset_passes_through() {
        let page = b"\xff\xfe<\x00b\x00";
        let out = prepend_to_body(page, PageCharset::Unsupported, MARK).unwrap();
        assert_eq!(out, page);
    }

    #[test]
    fn page_without_body_is_unchanged() {
        let page = b"<tr><td>row</td></tr>";
        let out = prepend_to_body(page, PageCharset::Undeclared, MARK).unwrap();
        assert_eq!(out, page);
    }

    /// The early stop gives the same bytes as letting lol_html parse the whole page, for
    /// every position of the `<body>` tag relative to the chunk boundaries.
    #[test]
    fn early_stop_equals_full_rewrite() {
        for pad in [0, 1, 100, CHUNK - 7, CHUNK - 1, CHUNK, CHUNK + 3, 3 * CHUNK - 2] {
            let mut page = format!("<html><head><title>t</title><!--{}--></head>", "x".repeat(pad));
            page.push_str("<body class=\"a\"><table>");
            for i in 0..300 {
                page.push_str(&format!(
                    "<tr><td><a href=\"/?_uid={i}\">M{i}</a></td><td>caf\u{e9} &amp; <b>x</b></td></tr>"
                ));
            }
            page.push_str("</table><script>if (a < b) { document.write('<body>') }</script></body></html>");
            let fast = prepend_to_body(page.as_bytes(), PageCharset::Undeclared, MARK).unwrap();

            let mut full = Vec::new();
            let mut once = false;
            let settings = Settings::new().with_adjust_charset_on_meta_tag(true).append_element_content_handler(
                element!("body", |el| {
                    if !once {
                        el.prepend(MARK, ContentType::Html);
                        once = true;
                    }
                    Ok(())
                }),
            );
            let mut rewriter = HtmlRewriter::new(settings, |c: &[u8]| full.extend_from_slice(c));
            rewriter.write(page.as_bytes()).unwrap();
            rewriter.end().unwrap();
            assert_eq!(String::from_utf8(fast).unwrap(), String::from_utf8(full).unwrap(), "pad {pad}");
        }
    }
}
