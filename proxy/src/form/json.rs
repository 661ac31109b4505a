//! JSON bodies (`application/json`, `*+json`): the top-level keys as fields, so that rules
//! name them like form fields; the parsed document for JSON paths.

use serde_json::Value;

use super::Field;

/// The parsed document and its top-level keys as fields; `None` when `body` is not a
/// JSON object.
pub(super) fn fields(body: &[u8]) -> Option<(Value, Vec<Field>)> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let fields = value
        .as_object()?
        .iter()
        .map(|(name, v)| Field {
            name: name.clone(),
            value: json_text(v),
            filename: None,
            content_type: None,
            data: 0..0,
            span: 0..0,
        })
        .collect();
    Some((value, fields))
}

/// `value` without the top-level keys for which `drop` is true, as JSON text; `None` when
/// nothing is dropped.
pub(super) fn without(value: &Value, drop: impl Fn(&str) -> bool) -> Option<Vec<u8>> {
    let map = value.as_object()?;
    if !map.keys().any(|k| drop(k)) {
        return None;
    }
    let kept: serde_json::Map<String, Value> =
        map.iter().filter(|(k, _)| !drop(k)).map(|(k, v)| (k.clone(), v.clone())).collect();
    serde_json::to_vec(&kept).ok()
}

/// A JSON value as the text a form field would hold: strings as they are, numbers and
/// booleans written out (`true` → `1`, `false` → empty), arrays of those joined with
/// `, ` (recipient lists), `null` and objects empty.
pub fn json_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(true) => "1".into(),
        Value::Bool(false) | Value::Null | Value::Object(_) => String::new(),
        Value::Array(list) => list.iter().map(json_text).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", "),
    }
}
