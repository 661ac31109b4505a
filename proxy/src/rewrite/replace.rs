//! Replacing the content of the first element a CSS selector matches (the read view's
//! frame goes where a webmail shows the message body).

use std::borrow::Cow;
use std::cell::Cell;
use std::rc::Rc;

use lol_html::html_content::{ContentType, Element};
use lol_html::{ElementContentHandlers, HtmlRewriter, Selector, Settings};

use super::{PageCharset, RewriteError};

/// Returns `page` with the content of the first element matching `selector` replaced by
/// `html` (or, with `keep`, `html` put before its content), and whether the element was
/// found. An [`PageCharset::Unsupported`] page comes back unchanged.
pub fn replace_content(
    page: &[u8],
    charset: PageCharset,
    selector: &str,
    html: &str,
    keep: bool,
) -> Result<(Vec<u8>, bool), RewriteError> {
    let mut settings = Settings::new();
    match charset {
        PageCharset::Declared(encoding) => settings = settings.with_encoding(encoding),
        PageCharset::Undeclared => settings = settings.with_adjust_charset_on_meta_tag(true),
        PageCharset::Unsupported => return Ok((page.to_vec(), false)),
    }
    let parsed: Selector = selector.parse().map_err(|_| RewriteError::Selector(selector.to_owned()))?;
    let found = Rc::new(Cell::new(false));
    let seen = Rc::clone(&found);
    let handler = move |el: &mut Element<'_, '_>| {
        if !seen.replace(true) {
            if keep {
                el.prepend(html, ContentType::Html);
            } else {
                el.set_inner_content(html, ContentType::Html);
            }
        }
        Ok(())
    };
    settings = settings
        .append_element_content_handler((Cow::Owned(parsed), ElementContentHandlers::default().element(handler)));
    let mut out = Vec::with_capacity(page.len() + html.len());
    let mut rewriter = HtmlRewriter::new(settings, |chunk: &[u8]| out.extend_from_slice(chunk));
    rewriter.write(page)?;
    rewriter.end()?;
    Ok((out, found.get()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_or_prepends_the_first_match_only() {
        let page = b"<div id=a><p>secret <b>x</b></p></div><div id=a>two</div>";
        let (out, found) = replace_content(page, PageCharset::Undeclared, "#a", "<i>new</i>", false).unwrap();
        assert!(found);
        assert_eq!(String::from_utf8(out).unwrap(), "<div id=a><i>new</i></div><div id=a>two</div>");
        let (out, _) = replace_content(page, PageCharset::Undeclared, "#a", "<i>n</i>", true).unwrap();
        assert!(String::from_utf8(out).unwrap().starts_with("<div id=a><i>n</i><p>secret"));
        let (out, found) = replace_content(page, PageCharset::Undeclared, "#none", "x", false).unwrap();
        assert!(!found);
        assert_eq!(out, page);
    }
}
