//! Insertion of a rule's HTML right after the opening `<body>` tag.

use lol_html::errors::RewritingError;
use lol_html::html_content::ContentType;
use lol_html::{HtmlRewriter, Settings, element};

use super::PageCharset;

/// Returns `page` with `snippet` inserted as the first child of the first `<body>`.
/// Bytes outside the insertion are passed through unchanged, in the page's own charset
/// (`charset` must not be [`PageCharset::Unsupported`]; such pages are not rewritten and
/// come back unchanged). A page without `<body>` comes back unchanged.
pub fn prepend_to_body(page: &[u8], charset: PageCharset, snippet: &str) -> Result<Vec<u8>, RewritingError> {
    let mut settings = Settings::new();
    match charset {
        PageCharset::Declared(encoding) => settings = settings.with_encoding(encoding),
        PageCharset::Undeclared => settings = settings.with_adjust_charset_on_meta_tag(true),
        PageCharset::Unsupported => return Ok(page.to_vec()),
    }
    let mut done = false;
    settings = settings.append_element_content_handler(element!("body", move |el| {
        if !done {
            el.prepend(snippet, ContentType::Html);
            done = true;
        }
        Ok(())
    }));

    let mut out = Vec::with_capacity(page.len() + snippet.len());
    let mut rewriter = HtmlRewriter::new(settings, |chunk: &[u8]| out.extend_from_slice(chunk));
    rewriter.write(page)?;
    rewriter.end()?;
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
}
