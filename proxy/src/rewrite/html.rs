//! Insertion of markup at CSS-selected places of a page, streaming with lol_html, and
//! the options of the page's sender select read in the same pass.

use std::borrow::Cow;
use std::cell::Cell;
use std::rc::Rc;

use lol_html::errors::RewritingError;
use lol_html::html_content::{ContentType, Element};
use lol_html::{ElementContentHandlers, HtmlRewriter, Selector, Settings, end_tag};

use super::PageCharset;
use super::options::OptionReader;
use crate::rules::Position;

/// Input is fed to lol_html in chunks of this size, so that rewriting can stop soon
/// after the last insertion point.
const CHUNK: usize = 512;

/// One piece of markup to insert at the first element matching a selector.
#[derive(Debug, Clone)]
pub struct Insert {
    /// The selector, as written in the rule (already checked when the rule was loaded).
    pub selector: String,
    /// Where relative to the element.
    pub position: Position,
    /// The markup (UTF-8; encoded into the page's charset by lol_html).
    pub html: String,
}

/// Why a page could not be rewritten.
#[derive(Debug, thiserror::Error)]
pub enum RewriteError {
    /// A selector does not parse (rules are checked at load time, so this is a bug).
    #[error("CSS selector `{0}` does not parse")]
    Selector(String),
    /// lol_html failed.
    #[error(transparent)]
    Html(#[from] RewritingError),
}

/// What [`insert_reading`] made of a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rewritten {
    /// The page with the insertions.
    pub page: Vec<u8>,
    /// How many inserts found their element.
    pub placed: usize,
    /// The `(value, text)` of the options read (see [`insert_reading`]).
    pub options: Vec<(String, String)>,
}

/// Returns `page` with each insert placed at the first element its selector matches.
/// Bytes outside the insertions are passed through unchanged, in the page's own charset
/// (an [`PageCharset::Unsupported`] page comes back unchanged). Returns how many inserts
/// found their element.
pub fn insert(page: &[u8], charset: PageCharset, inserts: &[Insert]) -> Result<(Vec<u8>, usize), RewriteError> {
    insert_reading(page, charset, inserts, None).map(|r| (r.page, r.placed))
}

/// [`insert`], reading in the same pass the `(value, text)` of every `<option>` the
/// selector `options` matches (the compose page's senders), entities decoded.
///
/// The page is parsed once, and only as far as needed: once every insertion is done and
/// the options are read (another element followed them), nothing else in the page can
/// change, so the rest is copied as is. The cost is that of parsing up to the later of
/// the last insertion point and the end of the options, not the whole page.
pub fn insert_reading(
    page: &[u8],
    charset: PageCharset,
    inserts: &[Insert],
    options: Option<&str>,
) -> Result<Rewritten, RewriteError> {
    let mut settings = Settings::new();
    match charset {
        PageCharset::Declared(encoding) => settings = settings.with_encoding(encoding),
        PageCharset::Undeclared => settings = settings.with_adjust_charset_on_meta_tag(true),
        PageCharset::Unsupported => return Ok(Rewritten { page: page.to_vec(), placed: 0, options: Vec::new() }),
    }
    let reader = OptionReader::default();
    if let Some(selector) = options {
        for handler in reader.handlers(selector)? {
            settings = settings.append_element_content_handler(handler);
        }
    }
    let done = Rc::new(Cell::new(0usize));
    for item in inserts {
        let selector: Selector = item.selector.parse().map_err(|_| RewriteError::Selector(item.selector.clone()))?;
        let started = Cell::new(false);
        let done = Rc::clone(&done);
        let handler = move |el: &mut Element<'_, '_>| {
            if started.replace(true) {
                return Ok(());
            }
            let html = item.html.as_str();
            match item.position {
                Position::Before => el.before(html, ContentType::Html),
                Position::Prepend => el.prepend(html, ContentType::Html),
                Position::After => el.after(html, ContentType::Html),
                Position::Append => el.append(html, ContentType::Html),
            }
            // After/append content is written with the end tag: only then is it done.
            let at_end = matches!(item.position, Position::After | Position::Append);
            match el.end_tag_handlers() {
                Some(handlers) if at_end => {
                    let done = Rc::clone(&done);
                    handlers.push(end_tag!(move |_end| {
                        done.set(done.get() + 1);
                        Ok(())
                    }));
                }
                _ => done.set(done.get() + 1),
            }
            Ok(())
        };
        settings = settings
            .append_element_content_handler((Cow::Owned(selector), ElementContentHandlers::default().element(handler)));
    }

    let extra: usize = inserts.iter().map(|i| i.html.len()).sum();
    let mut out = Vec::with_capacity(page.len() + extra);
    let mut rewriter = HtmlRewriter::new(settings, |chunk: &[u8]| out.extend_from_slice(chunk));
    let mut fed = 0;
    for chunk in page.chunks(CHUNK) {
        rewriter.write(chunk)?;
        fed += chunk.len();
        if done.get() == inserts.len() && (options.is_none() || reader.complete()) {
            break;
        }
    }
    // Flushes what lol_html still buffers of the chunks fed so far, unchanged.
    rewriter.end()?;
    out.extend_from_slice(&page[fed..]);
    Ok(Rewritten { page: out, placed: done.get(), options: reader.options() })
}

#[cfg(test)]
mod tests {
    use super::*;

    const MARK: &str = r#"<div id="m" hidden></div>"#;

    fn at(selector: &str, position: Position) -> Vec<Insert> {
        vec![Insert { selector: selector.into(), position, html: MARK.into() }]
    }

    fn run(page: &str, selector: &str, position: Position) -> String {
        let (out, n) = insert(page.as_bytes(), PageCharset::Undeclared, &at(selector, position)).unwrap();
        assert_eq!(n, 1);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn positions() {
        let page = "<html><body><h2 id=x>t</h2><p>a</p><h2 id=x>u</h2></body></html>";
        let m = MARK;
        assert_eq!(
            run(page, "#x", Position::Before),
            format!("<html><body>{m}<h2 id=x>t</h2><p>a</p><h2 id=x>u</h2></body></html>")
        );
        assert_eq!(
            run(page, "#x", Position::After),
            format!("<html><body><h2 id=x>t</h2>{m}<p>a</p><h2 id=x>u</h2></body></html>")
        );
        assert_eq!(
            run(page, "#x", Position::Prepend),
            format!("<html><body><h2 id=x>{m}t</h2><p>a</p><h2 id=x>u</h2></body></html>")
        );
        assert_eq!(
            run(page, "#x", Position::Append),
            format!("<html><body><h2 id=x>t{m}</h2><p>a</p><h2 id=x>u</h2></body></html>")
        );
        assert_eq!(
            run(page, "body", Position::Prepend),
            format!("<html><body>{m}<h2 id=x>t</h2><p>a</p><h2 id=x>u</h2></body></html>")
        );
        // A void element has no end tag: `after` is done at once.
        assert_eq!(
            run("<p><input id=i><b>x</b></p>", "#i", Position::After),
            format!("<p><input id=i>{m}<b>x</b></p>")
        );
    }

    #[test]
    fn options_are_read_in_the_same_pass_before_or_after_the_insertion_point() {
        let select = r#"<select name="_from"><option value="1" selected>Alice &lt;alice@example.test&gt;</option>
            <option value="2">bob@example.test</option></select><select name=x><option value=9>no</option></select>"#;
        let rows = "<p>row</p>".repeat(2000);
        let want = vec![("1".into(), "Alice <alice@example.test>".into()), ("2".into(), "bob@example.test".into())];
        for page in [format!("<body><h2 id=x>t</h2>{select}{rows}"), format!("<body>{select}<h2 id=x>t</h2>{rows}")] {
            let inserts = at("#x", Position::After);
            let read =
                insert_reading(page.as_bytes(), PageCharset::Undeclared, &inserts, Some("select[name=_from] option"))
                    .unwrap();
            assert_eq!((read.placed, &read.options), (1, &want));
            assert_eq!(read.page, insert(page.as_bytes(), PageCharset::Undeclared, &inserts).unwrap().0);
        }
    }

    #[test]
    fn windows_1252_bytes_are_kept() {
        let page = b"<html><head><meta charset=windows-1252></head><body>caf\xe9</body></html>";
        let inserts =
            vec![Insert { selector: "body".into(), position: Position::Prepend, html: "<i>Sign\u{e9}</i>".into() }];
        let (out, _) = insert(page, PageCharset::Undeclared, &inserts).unwrap();
        assert!(out.windows(4).any(|w| w == b"caf\xe9"));
        // The inserted text is encoded in the page's charset, not UTF-8.
        assert!(out.windows(6).any(|w| w == b"Sign\xe9<"), "{out:?}");
    }

    #[test]
    fn unsupported_charset_and_missing_element_pass_through() {
        let page = b"\xff\xfe<\x00b\x00";
        assert_eq!(insert(page, PageCharset::Unsupported, &at("body", Position::Prepend)).unwrap(), (page.to_vec(), 0));
        let page = b"<tr><td>row</td></tr>";
        assert_eq!(insert(page, PageCharset::Undeclared, &at("#nope", Position::After)).unwrap(), (page.to_vec(), 0));
    }

    /// The early stop gives the same bytes as letting lol_html parse the whole page, for
    /// every position of the insertion point relative to the chunk boundaries.
    #[test]
    fn early_stop_equals_full_rewrite() {
        for pad in [0, 1, 100, CHUNK - 7, CHUNK - 1, CHUNK, CHUNK + 3, 3 * CHUNK - 2] {
            let mut page = format!("<html><head><title>t</title><!--{}--></head>", "x".repeat(pad));
            page.push_str("<body class=\"a\"><h2 id=\"opts\">Options</h2><table>");
            for i in 0..300 {
                page.push_str(&format!(
                    "<tr><td><a href=\"/?_uid={i}\">M{i}</a></td><td>caf\u{e9} &amp; <b>x</b></td></tr>"
                ));
            }
            page.push_str("</table><script>if (a < b) { document.write('<body>') }</script></body></html>");
            for position in [Position::Before, Position::After, Position::Prepend, Position::Append] {
                let (fast, _) = insert(page.as_bytes(), PageCharset::Undeclared, &at("#opts", position)).unwrap();
                let mut full = Vec::new();
                let mut once = false;
                let settings = Settings::new().with_adjust_charset_on_meta_tag(true).append_element_content_handler(
                    lol_html::element!("#opts", |el| {
                        if !once {
                            once = true;
                            match position {
                                Position::Before => el.before(MARK, ContentType::Html),
                                Position::After => el.after(MARK, ContentType::Html),
                                Position::Prepend => el.prepend(MARK, ContentType::Html),
                                Position::Append => el.append(MARK, ContentType::Html),
                            }
                        }
                        Ok(())
                    }),
                );
                let mut rewriter = HtmlRewriter::new(settings, |c: &[u8]| full.extend_from_slice(c));
                rewriter.write(page.as_bytes()).unwrap();
                rewriter.end().unwrap();
                assert_eq!(
                    String::from_utf8(fast).unwrap(),
                    String::from_utf8(full).unwrap(),
                    "pad {pad} {position:?}"
                );
            }
        }
    }
}
