//! JSON paths of rule files: `$`, then `.key`, `['key']` (any key, e.g. `['imp:message']`),
//! `[N]` (an array index) and `[*]` (every element of an array or value of an object).
//! A small subset of RFC 9535, enough to name where a webmail's JSON holds a field.

use std::fmt;

use serde_json::Value;

/// A parsed JSON path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonPath {
    text: String,
    steps: Vec<Step>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
    Every,
}

impl JsonPath {
    /// Parses `text`; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |at: usize, what: &str| format!("JSON path `{text}`: {what} at character {}", at + 1);
        let Some(mut rest) = text.strip_prefix('$') else {
            return Err(format!("JSON path `{text}` must start with `$`"));
        };
        let mut steps = Vec::new();
        while !rest.is_empty() {
            let at = text.len() - rest.len();
            if let Some(after) = rest.strip_prefix('.') {
                let end = after.find(['.', '[']).unwrap_or(after.len());
                let key = &after[..end];
                if key.is_empty() || !key.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
                    return Err(bad(
                        at,
                        "expected a key of letters, digits, `_` or `-` after `.` (use ['key'] for others)",
                    ));
                }
                steps.push(Step::Key(key.to_owned()));
                rest = &after[end..];
            } else if let Some(after) = rest.strip_prefix('[') {
                let close = after.find(']').ok_or_else(|| bad(at, "`[` without `]`"))?;
                let inner = &after[..close];
                let quoted = |q: char| inner.len() >= 2 && inner.starts_with(q) && inner.ends_with(q);
                let step = if inner == "*" {
                    Step::Every
                } else if quoted('\'') || quoted('"') {
                    let key = &inner[1..inner.len() - 1];
                    if key.contains(['\'', '"', '\\']) {
                        return Err(bad(at, "quotes and backslashes inside a quoted key are not supported"));
                    }
                    Step::Key(key.to_owned())
                } else {
                    Step::Index(inner.parse().map_err(|_| bad(at, "expected [N], [*] or ['key']"))?)
                };
                steps.push(step);
                rest = &after[close + 1..];
            } else {
                return Err(bad(at, "expected `.` or `[`"));
            }
        }
        Ok(Self { text: text.to_owned(), steps })
    }

    /// The path as written.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Every value the path selects in `root`, in document order.
    pub fn select<'v>(&self, root: &'v Value) -> Vec<&'v Value> {
        let mut at = vec![root];
        for step in &self.steps {
            at = at
                .into_iter()
                .flat_map(|v| -> Vec<&'v Value> {
                    match (step, v) {
                        (Step::Key(k), Value::Object(map)) => map.get(k).into_iter().collect(),
                        (Step::Index(i), Value::Array(list)) => list.get(*i).into_iter().collect(),
                        (Step::Every, Value::Array(list)) => list.iter().collect(),
                        (Step::Every, Value::Object(map)) => map.values().collect(),
                        _ => Vec::new(),
                    }
                })
                .collect();
        }
        at
    }

    /// The first value the path selects.
    pub fn first<'v>(&self, root: &'v Value) -> Option<&'v Value> {
        self.select(root).into_iter().next()
    }

    /// Calls `f` on every value the path selects in `root`; returns how many there were.
    pub fn for_each_mut(&self, root: &mut Value, f: &mut dyn FnMut(&mut Value)) -> usize {
        fn walk(steps: &[Step], v: &mut Value, f: &mut dyn FnMut(&mut Value)) -> usize {
            let Some((step, rest)) = steps.split_first() else {
                f(v);
                return 1;
            };
            match (step, v) {
                (Step::Key(k), Value::Object(map)) => map.get_mut(k).map_or(0, |v| walk(rest, v, f)),
                (Step::Index(i), Value::Array(list)) => list.get_mut(*i).map_or(0, |v| walk(rest, v, f)),
                (Step::Every, Value::Array(list)) => list.iter_mut().map(|v| walk(rest, v, f)).sum(),
                (Step::Every, Value::Object(map)) => map.values_mut().map(|v| walk(rest, v, f)).sum(),
                _ => 0,
            }
        }
        walk(&self.steps, root, f)
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::form::json_text;

    #[test]
    fn paths_select_what_they_name() {
        let doc: Value = serde_json::from_str(
            r#"{"tasks":{"imp:message":[{"buid":36,"data":{"msgtext":"a"}},{"buid":35,"data":{"msgtext":"b"}}]},
                "to":["bob@example.test","carol@example.test"],"isHTML":0,"sign":true}"#,
        )
        .unwrap();
        let p = |t: &str| JsonPath::parse(t).unwrap();
        assert_eq!(p("$.tasks['imp:message'][*].buid").select(&doc), [&Value::from(36), &Value::from(35)]);
        assert_eq!(p("$.tasks[\"imp:message\"][1].data.msgtext").first(&doc), Some(&Value::from("b")));
        assert_eq!(json_text(p("$.to").first(&doc).unwrap()), "bob@example.test, carol@example.test");
        assert_eq!(json_text(p("$.isHTML").first(&doc).unwrap()), "0");
        assert_eq!(json_text(p("$.sign").first(&doc).unwrap()), "1");
        assert_eq!(p("$.nothing.here").first(&doc), None);
        assert_eq!(p("$").first(&doc), Some(&doc));
        let mut doc = doc;
        let n = p("$.tasks['imp:message'][*].data.msgtext").for_each_mut(&mut doc, &mut |v| *v = "x".into());
        assert_eq!(n, 2);
        assert_eq!(p("$.tasks['imp:message'][0].data.msgtext").first(&doc), Some(&Value::from("x")));
    }

    #[test]
    fn bad_paths_say_why() {
        let e = |t: &str| JsonPath::parse(t).unwrap_err();
        assert!(e("tasks").contains("must start with `$`"));
        assert!(e("$.").contains("expected a key"));
        assert!(e("$.a:b").contains("use ['key']"));
        assert!(e("$[").contains("without `]`"));
        assert!(e("$[x]").contains("expected [N]"));
        assert!(e("$x").contains("expected `.` or `[`"));
        assert!(e("$['a\\'b']").contains("quotes"));
    }
}
