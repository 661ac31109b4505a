//! Reading the options of a `<select>` out of a page (the compose page's sender
//! identities): each option's `value` and its text.

use std::cell::RefCell;
use std::rc::Rc;

use lol_html::{HtmlRewriter, Settings, element, text};

use super::PageCharset;

/// The `(value, text)` of every element `selector` matches in `page`, text with the
/// basic entities decoded and whitespace trimmed. Empty when the page cannot be read.
pub fn select_options(page: &[u8], charset: PageCharset, selector: &str) -> Vec<(String, String)> {
    let mut settings = Settings::new();
    match charset {
        PageCharset::Declared(encoding) => settings = settings.with_encoding(encoding),
        PageCharset::Undeclared => settings = settings.with_adjust_charset_on_meta_tag(true),
        PageCharset::Unsupported => return Vec::new(),
    }
    let found: Rc<RefCell<Vec<(String, String)>>> = Rc::default();
    let on_element = Rc::clone(&found);
    let on_text = Rc::clone(&found);
    settings = settings
        .append_element_content_handler(element!(selector, move |el| {
            on_element.borrow_mut().push((el.get_attribute("value").unwrap_or_default(), String::new()));
            Ok(())
        }))
        .append_element_content_handler(text!(selector, move |chunk| {
            if let Some(last) = on_text.borrow_mut().last_mut() {
                last.1.push_str(chunk.as_str());
            }
            Ok(())
        }));
    let mut rewriter = HtmlRewriter::new(settings, |_: &[u8]| {});
    if rewriter.write(page).and_then(|()| rewriter.end()).is_err() {
        return Vec::new();
    }
    found
        .take()
        .into_iter()
        .map(|(value, text)| (decode_entities(value.trim()), decode_entities(text.trim())))
        .collect()
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_values_and_texts() {
        let page = br#"<select name="_from"><option value="1" selected>Alice &lt;alice@example.test&gt;</option>
            <option value="2">bob@example.test</option></select><select name=x><option value=9>no</option></select>"#;
        assert_eq!(
            select_options(page, PageCharset::Undeclared, "select[name=_from] option"),
            vec![("1".into(), "Alice <alice@example.test>".into()), ("2".into(), "bob@example.test".into())]
        );
    }
}
