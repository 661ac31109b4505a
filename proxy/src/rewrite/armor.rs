//! Armored S/MIME (`-----BEGIN CMS-----`, RFC 7468) in an HTML page: every block, in page
//! order, with the context it is in ([`find_armor`]), and the page with each block
//! replaced as the caller decided ([`replace_armor`]). Both walk the page the same way, so
//! the n-th block found is the n-th replaced.
//!
//! Contexts: the value of an `<input>` or the text of a `<textarea>` inside a `<form>`,
//! named like one of the fields the caller edits, is an [`ArmorContext::Edit`]; any other
//! text is [`ArmorContext::Display`]. Text of `<script>`, `<style>`, `<title>` and other
//! raw-text elements is never touched.

use std::borrow::Cow;
use std::cell::RefCell;
use std::rc::Rc;

use lol_html::html_content::{ContentType, Element, TextChunk};
use lol_html::{DocumentContentHandlers, ElementContentHandlers, HtmlRewriter, Selector, Settings, end_tag};
use smime_crypto::armor::{self, BEGIN, END};
use zeroize::Zeroizing;

use super::{PageCharset, RewriteError};
use crate::markup::escape;

/// At most this many blocks of a page are looked at; later ones stay as they are.
pub const MAX_ARMOR_PER_PAGE: usize = 32;

/// Elements whose text is never rewritten.
const RAW_TEXT: &[&str] = &["script", "style", "title", "noscript", "xmp", "iframe", "noembed", "noframes"];

/// Where a block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArmorContext {
    /// The value of a field the user edits: it may be filled with the plaintext.
    Edit,
    /// Text the page shows: it may be replaced by markup (a frame), never by plaintext.
    Display,
}

/// One block found in a page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmorFound {
    /// Its context.
    pub context: ArmorContext,
    /// The DER it holds, or why it cannot be read.
    pub der: Result<Vec<u8>, String>,
}

/// What becomes of one block.
#[derive(Debug, Clone, Default)]
pub enum ArmorReplacement {
    /// It stays as it is.
    #[default]
    Keep,
    /// (Edit) the block is replaced by this plaintext, escaped.
    Plaintext(Zeroizing<String>),
    /// (Display) the block is replaced by this markup; in a field's value, where markup
    /// cannot go, the block stays and the markup follows the field.
    Markup(String),
}

/// Every armored block of `page` (at most [`MAX_ARMOR_PER_PAGE`]), in order.
/// `edit_fields` names the form fields that are edited.
pub fn find_armor(page: &[u8], charset: PageCharset, edit_fields: &[&str]) -> Result<Vec<ArmorFound>, RewriteError> {
    Ok(walk(page, charset, edit_fields, None)?.1)
}

/// `page` with the n-th block (as [`find_armor`] found it) replaced as `replacements[n]`
/// says; blocks without an entry are kept.
pub fn replace_armor(
    page: &[u8],
    charset: PageCharset,
    edit_fields: &[&str],
    replacements: Vec<ArmorReplacement>,
) -> Result<Vec<u8>, RewriteError> {
    Ok(walk(page, charset, edit_fields, Some(replacements))?.0)
}

/// Whether `page` has a block at all (a cheap test before parsing).
pub fn has_armor(page: &[u8]) -> bool {
    memchr::memmem::find(page, BEGIN.as_bytes()).is_some()
}

/// Line breaks a webmail puts into multi-line text it shows (`nl2br`) taken out of every
/// block, so that a block is one text node: between `BEGIN` and `END`, only base64,
/// whitespace and `<br>`, `<br/>` or `<br />` may be, and the `<br>`s are removed.
/// Anything else there leaves that block as it is.
pub fn join_broken_lines(page: &[u8]) -> Cow<'_, [u8]> {
    let mut out = Vec::new();
    // `page[..copied]` is in `out`.
    let mut copied = 0;
    let mut at = 0;
    while let Some(begin) = memchr::memmem::find(&page[at..], BEGIN.as_bytes()).map(|i| at + i) {
        let body = begin + BEGIN.len();
        let Some(end) = memchr::memmem::find(&page[body..], END.as_bytes()).map(|i| body + i) else { break };
        if let Some(joined) = without_br(&page[body..end]) {
            out.extend_from_slice(&page[copied..body]);
            out.extend_from_slice(&joined);
            copied = end;
        }
        at = end;
    }
    if copied == 0 {
        return Cow::Borrowed(page);
    }
    out.extend_from_slice(&page[copied..]);
    Cow::Owned(out)
}

/// A block's body without its `<br>` tags; `None` when it has none, or has anything but
/// base64, whitespace and `<br>` tags.
fn without_br(body: &[u8]) -> Option<Vec<u8>> {
    const BREAKS: &[&[u8]] = &[b"<br>", b"<br/>", b"<br />"];
    let mut out = Vec::with_capacity(body.len());
    let mut found = false;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        if b == b'<' {
            let tag = BREAKS.iter().find(|t| body.get(i..i + t.len()).is_some_and(|s| s.eq_ignore_ascii_case(t)))?;
            found = true;
            i += tag.len();
            continue;
        }
        if !(b.is_ascii_alphanumeric() || b.is_ascii_whitespace() || matches!(b, b'+' | b'/' | b'=')) {
            return None;
        }
        out.push(b);
        i += 1;
    }
    found.then_some(out)
}

/// The walker's state, shared by the handlers of one pass.
#[derive(Debug, Default)]
struct Walker {
    edit_fields: Vec<String>,
    /// `None`: only finding.
    replacements: Option<Vec<ArmorReplacement>>,
    found: Vec<ArmorFound>,
    /// Inside a `<form>`.
    form_depth: usize,
    /// Inside a raw-text element.
    raw_depth: usize,
    /// Inside a `<textarea>`: whether it is edited.
    textarea: Option<bool>,
    /// Markup to put after the current `<textarea>`.
    after_textarea: String,
    /// The current text node so far.
    text: String,
}

impl Walker {
    fn replacing(&self) -> bool {
        self.replacements.is_some()
    }

    fn edits(&self, el: &Element<'_, '_>) -> bool {
        self.form_depth > 0 && el.get_attribute("name").is_some_and(|name| self.edit_fields.contains(&name))
    }

    /// Records the next block; its replacement when replacing (`Keep` past the limit).
    fn next(&mut self, context: ArmorContext, der: Result<Vec<u8>, String>) -> ArmorReplacement {
        if self.found.len() >= MAX_ARMOR_PER_PAGE {
            return ArmorReplacement::Keep;
        }
        let index = self.found.len();
        self.found.push(ArmorFound { context, der });
        let replacements = self.replacements.as_mut();
        replacements.and_then(|r| r.get_mut(index)).map(std::mem::take).unwrap_or_default()
    }

    /// `text` (raw HTML text) with its blocks replaced, and the markup that must follow
    /// the element (`markup_inside`: markup may replace a block in place).
    fn rewrite(&mut self, text: &str, context: ArmorContext, markup_inside: bool) -> (String, String) {
        let mut out = String::with_capacity(text.len());
        let mut after = String::new();
        let mut at = 0;
        for block in armor::find(text) {
            out.push_str(&text[at..block.range.start]);
            let original = &text[block.range.clone()];
            match self.next(context, block.der) {
                ArmorReplacement::Plaintext(plain) if context == ArmorContext::Edit => out.push_str(&escape(&plain)),
                ArmorReplacement::Markup(markup) if markup_inside => out.push_str(&markup),
                ArmorReplacement::Markup(markup) => {
                    out.push_str(original);
                    after.push_str(&markup);
                }
                _ => out.push_str(original),
            }
            at = block.range.end;
        }
        out.push_str(&text[at..]);
        (out, after)
    }

    fn on_text(&mut self, chunk: &mut TextChunk<'_>) {
        if self.raw_depth > 0 {
            return;
        }
        self.text.push_str(chunk.as_str());
        if !chunk.last_in_text_node() {
            if self.replacing() {
                chunk.remove();
            }
            return;
        }
        let text = std::mem::take(&mut self.text);
        let (out, after) = match self.textarea {
            _ if !text.contains(BEGIN) => (text, String::new()),
            Some(true) => self.rewrite(&text, ArmorContext::Edit, false),
            Some(false) => self.rewrite(&text, ArmorContext::Display, false),
            None => self.rewrite(&text, ArmorContext::Display, true),
        };
        self.after_textarea.push_str(&after);
        if self.replacing() {
            chunk.replace(&out, ContentType::Html);
        }
    }

    fn on_input(&mut self, el: &mut Element<'_, '_>) {
        let Some(value) = el.get_attribute("value").filter(|v| v.contains(BEGIN)) else { return };
        let context = if self.edits(el) { ArmorContext::Edit } else { ArmorContext::Display };
        let (out, after) = self.rewrite(&value, context, false);
        if self.replacing() {
            if out != value {
                // Already escaped: `set_attribute` only escapes a `"` itself.
                let _ = el.set_attribute("value", &out);
            }
            el.after(&after, ContentType::Html);
        }
    }
}

/// One pass over `page`: the page with blocks replaced (when `replacements` is given) and
/// the blocks found.
fn walk(
    page: &[u8],
    charset: PageCharset,
    edit_fields: &[&str],
    replacements: Option<Vec<ArmorReplacement>>,
) -> Result<(Vec<u8>, Vec<ArmorFound>), RewriteError> {
    let mut settings = Settings::new();
    match charset {
        PageCharset::Declared(encoding) => settings = settings.with_encoding(encoding),
        PageCharset::Undeclared => settings = settings.with_adjust_charset_on_meta_tag(true),
        PageCharset::Unsupported => return Ok((page.to_vec(), Vec::new())),
    }
    let walker = Rc::new(RefCell::new(Walker {
        edit_fields: edit_fields.iter().map(|f| (*f).to_owned()).collect(),
        replacements,
        ..Walker::default()
    }));
    let selector = |css: &str| css.parse::<Selector>().map_err(|_| RewriteError::Selector(css.to_owned()));

    let w = Rc::clone(&walker);
    let form = move |el: &mut Element<'_, '_>| {
        w.borrow_mut().form_depth += 1;
        let w = Rc::clone(&w);
        if let Some(handlers) = el.end_tag_handlers() {
            handlers.push(end_tag!(move |_end| {
                let mut w = w.borrow_mut();
                w.form_depth = w.form_depth.saturating_sub(1);
                Ok(())
            }));
        }
        Ok(())
    };
    settings = settings.append_element_content_handler((
        Cow::Owned(selector("form")?),
        ElementContentHandlers::default().element(form),
    ));

    let w = Rc::clone(&walker);
    let raw = move |el: &mut Element<'_, '_>| {
        w.borrow_mut().raw_depth += 1;
        let w = Rc::clone(&w);
        if let Some(handlers) = el.end_tag_handlers() {
            handlers.push(end_tag!(move |_end| {
                let mut w = w.borrow_mut();
                w.raw_depth = w.raw_depth.saturating_sub(1);
                Ok(())
            }));
        }
        Ok(())
    };
    settings = settings.append_element_content_handler((
        Cow::Owned(selector(&RAW_TEXT.join(","))?),
        ElementContentHandlers::default().element(raw),
    ));

    let w = Rc::clone(&walker);
    let textarea = move |el: &mut Element<'_, '_>| {
        let edits = w.borrow().edits(el);
        w.borrow_mut().textarea = Some(edits);
        let w = Rc::clone(&w);
        if let Some(handlers) = el.end_tag_handlers() {
            handlers.push(end_tag!(move |end| {
                let mut w = w.borrow_mut();
                w.textarea = None;
                let after = std::mem::take(&mut w.after_textarea);
                if w.replacing() && !after.is_empty() {
                    end.after(&after, ContentType::Html);
                }
                Ok(())
            }));
        }
        Ok(())
    };
    settings = settings.append_element_content_handler((
        Cow::Owned(selector("textarea")?),
        ElementContentHandlers::default().element(textarea),
    ));

    let w = Rc::clone(&walker);
    let input = move |el: &mut Element<'_, '_>| {
        w.borrow_mut().on_input(el);
        Ok(())
    };
    settings = settings.append_element_content_handler((
        Cow::Owned(selector("input")?),
        ElementContentHandlers::default().element(input),
    ));

    let w = Rc::clone(&walker);
    let text = move |chunk: &mut TextChunk<'_>| {
        w.borrow_mut().on_text(chunk);
        Ok(())
    };
    settings = settings.append_document_content_handler(DocumentContentHandlers::default().text(text));

    let mut out = Vec::with_capacity(page.len());
    let mut rewriter = HtmlRewriter::new(settings, |chunk: &[u8]| out.extend_from_slice(chunk));
    rewriter.write(page)?;
    rewriter.end()?;
    let found = std::mem::take(&mut walker.borrow_mut().found);
    Ok((out, found))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block() -> String {
        armor::armor(&[0x30, 0x03, 0x02, 0x01, 0x07])
    }

    #[test]
    fn contexts_are_told_apart() {
        let a = block();
        let page = format!(
            "<html><head><title>{a}</title><script>var x = \"{a}\";</script></head><body>\
             <form method=post><textarea name=_notes>{a}</textarea><input name=\"_phone[]\" value=\"{a}\">\
             <input name=other value=\"{a}\"></form>\
             <textarea name=_notes>{a}</textarea><p>shown: {a}</p></body></html>"
        );
        let found = find_armor(page.as_bytes(), PageCharset::Undeclared, &["_notes", "_phone[]"]).unwrap();
        let contexts: Vec<ArmorContext> = found.iter().map(|f| f.context).collect();
        use ArmorContext::{Display, Edit};
        assert_eq!(contexts, [Edit, Edit, Display, Display, Display], "title and script are skipped");
        assert!(found.iter().all(|f| f.der.as_deref() == Ok(&[0x30, 0x03, 0x02, 0x01, 0x07][..])));

        let replacements = vec![
            ArmorReplacement::Plaintext(Zeroizing::new("line 1\n<b>&\"".into())),
            ArmorReplacement::Plaintext(Zeroizing::new("+49 \"30\"".into())),
            ArmorReplacement::Markup("<iframe id=f3></iframe>".into()),
            ArmorReplacement::Markup("<iframe id=f4></iframe>".into()),
            ArmorReplacement::Markup("<iframe id=f5></iframe>".into()),
        ];
        let out =
            replace_armor(page.as_bytes(), PageCharset::Undeclared, &["_notes", "_phone[]"], replacements).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("<textarea name=_notes>line 1\n&lt;b&gt;&amp;&quot;</textarea>"), "{out}");
        assert!(out.contains("<input name=\"_phone[]\" value=\"+49 &quot;30&quot;\">"), "{out}");
        assert!(out.contains(&format!("<input name=other value=\"{a}\"><iframe id=f3></iframe>")), "{out}");
        assert!(out.contains(&format!("</form><textarea name=_notes>{a}</textarea><iframe id=f4></iframe>")), "{out}");
        assert!(out.contains("<p>shown: <iframe id=f5></iframe></p>"), "{out}");
        assert!(out.contains(&format!("<title>{a}</title><script>var x = \"{a}\";</script>")), "{out}");

        // Fewer replacements than blocks: the rest stay.
        let out = replace_armor(page.as_bytes(), PageCharset::Undeclared, &["_notes"], Vec::new()).unwrap();
        assert_eq!(out, page.as_bytes());
    }

    #[test]
    fn broken_lines_are_joined_only_inside_blocks_of_base64() {
        let a = block();
        let shown = a.replace('\n', "<br />\n");
        let page = format!("<p>x<br>{shown}<br />\ny</p><p>-----BEGIN CMS-----<b>no</b>-----END CMS-----</p>");
        let joined = join_broken_lines(page.as_bytes());
        let joined = std::str::from_utf8(&joined).unwrap();
        assert!(joined.starts_with(&format!("<p>x<br>{a}<br />\ny</p>")), "{joined}");
        assert!(joined.ends_with("<p>-----BEGIN CMS-----<b>no</b>-----END CMS-----</p>"));
        assert!(matches!(join_broken_lines(b"<p>plain</p>"), Cow::Borrowed(_)));
        let found = find_armor(joined.as_bytes(), PageCharset::Undeclared, &[]).unwrap();
        assert_eq!(found.len(), 2);
        assert!(found[0].der.is_ok() && found[1].der.is_err());
    }

    #[test]
    fn at_most_the_limit_is_looked_at() {
        let a = block();
        let page: String = (0..MAX_ARMOR_PER_PAGE + 5).map(|_| format!("<p>{a}</p>")).collect();
        assert_eq!(find_armor(page.as_bytes(), PageCharset::Undeclared, &[]).unwrap().len(), MAX_ARMOR_PER_PAGE);
    }
}
