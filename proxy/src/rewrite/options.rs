//! Reading the options of a `<select>` out of a page (the compose page's sender
//! identities): each option's `value` and its text, during the same lol_html pass that
//! places the controls ([`super::insert_reading`]), which may stop once they are read.

use std::borrow::Cow;
use std::cell::{Cell, RefCell};
use std::rc::Rc;

use lol_html::html_content::Element;
use lol_html::{ElementContentHandlers, Selector, end_tag};

use super::RewriteError;

/// Collects the `(value, text)` of every `<option>` a selector matches.
#[derive(Debug, Default, Clone)]
pub(crate) struct OptionReader {
    found: Rc<RefCell<Vec<(String, String)>>>,
    /// Inside a matched option (its end tag not yet seen).
    open: Rc<Cell<bool>>,
    /// An element other than an option came after the options: the list is complete.
    complete: Rc<Cell<bool>>,
}

type Handler<'h> = (Cow<'static, Selector>, ElementContentHandlers<'h>);

impl OptionReader {
    /// The lol_html handlers that read the options `selector` matches and notice the
    /// first other element after them.
    pub(crate) fn handlers<'h>(&self, selector: &str) -> Result<[Handler<'h>; 2], RewriteError> {
        let parsed: Selector = selector.parse().map_err(|_| RewriteError::Selector(selector.to_owned()))?;
        let any: Selector = "*".parse().map_err(|_| RewriteError::Selector("*".into()))?;
        let (found, open) = (Rc::clone(&self.found), Rc::clone(&self.open));
        let on_option = move |el: &mut Element<'_, '_>| {
            found.borrow_mut().push((el.get_attribute("value").unwrap_or_default(), String::new()));
            open.set(true);
            if let Some(handlers) = el.end_tag_handlers() {
                let open = Rc::clone(&open);
                handlers.push(end_tag!(move |_end| {
                    open.set(false);
                    Ok(())
                }));
            }
            Ok(())
        };
        let found = Rc::clone(&self.found);
        let on_text = move |chunk: &mut lol_html::html_content::TextChunk<'_>| {
            if let Some(last) = found.borrow_mut().last_mut() {
                last.1.push_str(chunk.as_str());
            }
            Ok(())
        };
        let (found, open, complete) = (Rc::clone(&self.found), Rc::clone(&self.open), Rc::clone(&self.complete));
        let on_any = move |el: &mut Element<'_, '_>| {
            let tag = el.tag_name();
            if !found.borrow().is_empty() && !open.get() && tag != "option" && tag != "optgroup" {
                complete.set(true);
            }
            Ok(())
        };
        Ok([
            (Cow::Owned(parsed), ElementContentHandlers::default().element(on_option).text(on_text)),
            (Cow::Owned(any), ElementContentHandlers::default().element(on_any)),
        ])
    }

    /// Whether every option has been read (an element other than an option followed them).
    pub(crate) fn complete(&self) -> bool {
        self.complete.get()
    }

    /// The options read, text with the basic entities decoded and whitespace trimmed.
    pub(crate) fn options(&self) -> Vec<(String, String)> {
        self.found
            .borrow()
            .iter()
            .map(|(value, text)| (decode_entities(value.trim()), decode_entities(text.trim())))
            .collect()
    }
}

fn decode_entities(text: &str) -> String {
    text.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'").replace("&amp;", "&")
}
