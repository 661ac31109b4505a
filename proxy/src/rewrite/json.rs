//! JSON answers of webmails that are JavaScript apps: parsed (inside an envelope such as
//! Horde's `/*-secure-` … `*/`), one message value replaced, written again. Pure, no I/O.

use serde_json::Value;

use crate::rules::{JsonPath, JsonView};

/// A JSON answer read completely.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonAnswer {
    before: String,
    document: Value,
    after: String,
}

impl JsonAnswer {
    /// Parses `bytes` inside `envelope` (text before and after the JSON); `None` when the
    /// answer is not that (an error page, another format): such answers pass unchanged.
    pub fn parse(bytes: &[u8], envelope: Option<&(String, String)>) -> Option<Self> {
        let text = std::str::from_utf8(bytes).ok()?;
        let trimmed = text.trim();
        let (before, json, after) = match envelope {
            None => ("", trimmed, ""),
            Some((open, close)) => {
                let inner = trimmed.strip_prefix(open.as_str())?.strip_suffix(close.as_str())?;
                (open.as_str(), inner, close.as_str())
            }
        };
        let document = serde_json::from_str(json).ok()?;
        Some(Self { before: before.to_owned(), document, after: after.to_owned() })
    }

    /// The messages `each` selects.
    pub fn messages(&self, each: &JsonPath) -> Vec<&Value> {
        each.select(&self.document)
    }

    /// Replaces, in the `index`-th message of `view`, the value `view.replace` by `html`
    /// (through `view.with` when set), or with `keep` puts `html` before a string value.
    /// Returns whether a value was replaced.
    pub fn replace(&mut self, view: &JsonView, index: usize, html: &str, keep: bool) -> bool {
        let replacement = replacement(view, html);
        let mut seen = 0;
        let mut replaced = 0;
        view.each.for_each_mut(&mut self.document, &mut |message| {
            if seen == index {
                replaced += view.replace.for_each_mut(message, &mut |value| {
                    *value = match (keep, &*value) {
                        (true, Value::String(old)) => Value::String(format!("{html}{old}")),
                        _ => replacement.clone(),
                    };
                });
            }
            seen += 1;
        });
        replaced > 0
    }

    /// The answer as bytes, in its envelope.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.before.clone().into_bytes();
        // Serialising a `Value` cannot fail.
        out.extend(serde_json::to_vec(&self.document).unwrap_or_default());
        out.extend_from_slice(self.after.as_bytes());
        out
    }
}

/// The value that stands for `html`: the string itself, or `with` with `{frame}` in its
/// strings replaced by it.
fn replacement(view: &JsonView, html: &str) -> Value {
    fn fill(value: &mut Value, html: &str) {
        match value {
            Value::String(s) => *s = s.replace("{frame}", html),
            Value::Array(list) => list.iter_mut().for_each(|v| fill(v, html)),
            Value::Object(map) => map.values_mut().for_each(|v| fill(v, html)),
            Value::Null | Value::Bool(_) | Value::Number(_) => {}
        }
    }
    let Some(mut value) = view.with.as_deref().and_then(|w| serde_json::from_str::<Value>(w).ok()) else {
        return Value::String(html.to_owned());
    };
    fill(&mut value, html);
    value
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn view(each: &str, replace: &str, with: Option<&str>) -> JsonView {
        JsonView {
            envelope: Some(("/*-secure-".into(), "*/".into())),
            each: JsonPath::parse(each).unwrap(),
            values: BTreeMap::new(),
            replace: JsonPath::parse(replace).unwrap(),
            with: with.map(str::to_owned),
        }
    }

    #[test]
    fn horde_preview_message_text_is_replaced_in_its_envelope() {
        let raw = br#"/*-secure-{"tasks":{"imp:message":[{"buid":36,"data":{"msgtext":"<p>one</p>"}},{"buid":35,"data":{"msgtext":"<p>two</p>"}}]}}*/"#;
        let v = view("$.tasks['imp:message'][*]", "$.data.msgtext", None);
        let mut answer = JsonAnswer::parse(raw, v.envelope.as_ref()).unwrap();
        assert_eq!(answer.messages(&v.each).len(), 2);
        assert!(answer.replace(&v, 1, "<iframe></iframe>", false));
        assert!(answer.replace(&v, 0, "<p>note</p>", true));
        assert!(!answer.replace(&v, 2, "x", false));
        let out = String::from_utf8(answer.to_bytes()).unwrap();
        assert_eq!(
            out,
            r#"/*-secure-{"tasks":{"imp:message":[{"buid":36,"data":{"msgtext":"<p>note</p><p>one</p>"}},{"buid":35,"data":{"msgtext":"<iframe></iframe>"}}]}}*/"#
        );
    }

    #[test]
    fn sogo_parts_become_one_part_holding_the_frame() {
        let mut v = view("$", "$.parts", Some(r#"{"type":"UIxMailPartHTMLViewer","content":"<b>{frame}</b>"}"#));
        v.envelope = None;
        let mut answer = JsonAnswer::parse(br#"{"subject":"s","parts":{"type":"x","content":[]}}"#, None).unwrap();
        assert!(answer.replace(&v, 0, "<iframe src=\"a\"></iframe>", false));
        assert_eq!(
            String::from_utf8(answer.to_bytes()).unwrap(),
            r#"{"subject":"s","parts":{"type":"UIxMailPartHTMLViewer","content":"<b><iframe src=\"a\"></iframe></b>"}}"#
        );
    }

    #[test]
    fn other_answers_are_not_json_answers() {
        let envelope = ("/*-secure-".to_owned(), "*/".to_owned());
        assert!(JsonAnswer::parse(b"<html>error</html>", None).is_none());
        assert!(JsonAnswer::parse(b"{\"a\":1}", Some(&envelope)).is_none());
        assert!(JsonAnswer::parse(b"/*-secure-{\"a\":*/", Some(&envelope)).is_none());
        assert!(JsonAnswer::parse(b"\xff", None).is_none());
    }
}
