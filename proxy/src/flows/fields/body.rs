//! A request body with the values of the named fields sealed: urlencoded and multipart
//! forms keep every other byte as the browser sent it; a JSON body is written again.
//! Values that already are armored S/MIME (a field the proxy could not open for editing)
//! go as they are; empty values stay empty. Anything that cannot be sealed is an error,
//! and then nothing is sent.

use serde_json::Value;
use smime_crypto::armor::is_armored;

use crate::form::{Form, json_text};
use crate::rules::JsonPath;

/// `body` (of `content_type`) with each field of `fields` sealed by `seal`; `None` when
/// no named field has a value to seal. `Err` is one sentence for the user.
pub(crate) fn seal_body(
    content_type: Option<&str>,
    body: &[u8],
    fields: &[String],
    seal: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Option<Vec<u8>>, String> {
    let form = Form::parse(content_type, body);
    if form.is_unreadable() {
        return Err("this request says it carries JSON and is not a JSON object.".into());
    }
    if let Some(document) = form.json() {
        return seal_json(document.clone(), fields, seal);
    }
    if !form.is_form() {
        return Err(format!(
            "this request's body ({}) is not a form smime-proxy can read (urlencoded, multipart or JSON).",
            content_type.unwrap_or("no content type")
        ));
    }
    let mut sealed = Vec::new();
    for (index, field) in form.fields().iter().enumerate() {
        if !fields.contains(&field.name) {
            continue;
        }
        if field.filename.is_some() {
            return Err(format!("the field {} is a file; only text fields are encrypted.", field.name));
        }
        if field.value.is_empty() || is_armored(&field.value) {
            continue;
        }
        sealed.push((index, seal(&field.value)?));
    }
    if sealed.is_empty() {
        return Ok(None);
    }
    form.with_values(body, &sealed).map(Some).ok_or_else(|| "the request's form could not be rewritten.".into())
}

/// A JSON body with the named top-level keys and JSON paths sealed.
fn seal_json(
    mut document: Value,
    fields: &[String],
    seal: &dyn Fn(&str) -> Result<String, String>,
) -> Result<Option<Vec<u8>>, String> {
    let mut changed = false;
    let mut failure: Option<String> = None;
    for field in fields {
        let mut seal_value = |value: &mut Value| {
            if failure.is_some() {
                return;
            }
            match seal_one(value, seal) {
                Ok(done) => changed |= done,
                Err(reason) => failure = Some(format!("{field}: {reason}")),
            }
        };
        if field.starts_with('$') {
            let path = JsonPath::parse(field).map_err(|e| format!("{field}: {e}"))?;
            path.for_each_mut(&mut document, &mut seal_value);
        } else if let Some(value) = document.as_object_mut().and_then(|map| map.get_mut(field)) {
            seal_value(value);
        }
        if let Some(reason) = failure {
            return Err(reason);
        }
    }
    if !changed {
        return Ok(None);
    }
    serde_json::to_vec(&document).map(Some).map_err(|e| format!("the JSON body could not be written again: {e}."))
}

/// One JSON value sealed in place (a string, number or boolean becomes the armor string);
/// whether it changed.
fn seal_one(value: &mut Value, seal: &dyn Fn(&str) -> Result<String, String>) -> Result<bool, String> {
    match value {
        Value::Null => Ok(false),
        Value::String(text) if text.is_empty() || is_armored(text) => Ok(false),
        Value::String(_) | Value::Number(_) | Value::Bool(_) => {
            *value = Value::String(seal(&json_text(value))?);
            Ok(true)
        }
        Value::Array(_) | Value::Object(_) => {
            Err("is a JSON array or object; name its text values with a JSON path such as `$.list[*]`.".into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fake_seal(value: &str) -> Result<String, String> {
        if value == "fail" { Err("no key.".into()) } else { Ok(format!("[{value}]")) }
    }

    #[test]
    fn urlencoded_and_multipart_fields_are_sealed_in_place() {
        let fields = vec!["_notes".to_owned(), "_phone[]".to_owned()];
        let body = b"_token=t&_notes=my+note&_phone%5B%5D=1&_phone%5B%5D=&_name=Bob";
        let out = seal_body(Some("application/x-www-form-urlencoded"), body, &fields, &fake_seal).unwrap().unwrap();
        assert_eq!(out, b"_token=t&_notes=%5Bmy%20note%5D&_phone%5B%5D=%5B1%5D&_phone%5B%5D=&_name=Bob");
        let none = seal_body(Some("application/x-www-form-urlencoded"), b"_name=Bob", &fields, &fake_seal).unwrap();
        assert_eq!(none, None);
        let err = seal_body(Some("application/x-www-form-urlencoded"), b"_notes=fail", &fields, &fake_seal);
        assert_eq!(err, Err("no key.".into()));

        let body = b"--B\r\nContent-Disposition: form-data; name=\"_notes\"\r\n\r\nnote\r\n--B--\r\n";
        let out = seal_body(Some("multipart/form-data; boundary=B"), body, &fields, &fake_seal).unwrap().unwrap();
        assert_eq!(out, b"--B\r\nContent-Disposition: form-data; name=\"_notes\"\r\n\r\n[note]\r\n--B--\r\n");
        let file = b"--B\r\nContent-Disposition: form-data; name=\"_notes\"; filename=\"a\"\r\n\r\nx\r\n--B--\r\n";
        assert!(seal_body(Some("multipart/form-data; boundary=B"), file, &fields, &fake_seal).is_err());
    }

    #[test]
    fn json_keys_and_paths_are_sealed() {
        let fields = vec!["note".to_owned(), "$.phones[*]".to_owned()];
        let body = br#"{"note":"n","phones":["1",2,null],"other":"o"}"#;
        let out = seal_body(Some("application/json"), body, &fields, &fake_seal).unwrap().unwrap();
        assert_eq!(out, br#"{"note":"[n]","phones":["[1]","[2]",null],"other":"o"}"#);
        let nested = seal_body(Some("application/json"), br#"{"note":{"a":1}}"#, &fields, &fake_seal);
        assert!(nested.is_err_and(|e| e.contains("array or object")));
    }

    #[test]
    fn bodies_that_cannot_be_read_are_refused() {
        let fields = vec!["_notes".to_owned()];
        for (content_type, body) in
            [(Some("application/json"), &b"{\"_notes\":"[..]), (Some("text/plain"), b"_notes=x"), (None, b"_notes=x")]
        {
            let result = seal_body(content_type, body, &fields, &fake_seal);
            assert!(result.is_err(), "{content_type:?}: {result:?}");
        }
        let armored = smime_crypto::armor::armor(&[0x30, 0x00]);
        let body =
            format!("_notes={}", percent_encoding::utf8_percent_encode(&armored, percent_encoding::NON_ALPHANUMERIC));
        let kept = seal_body(Some("application/x-www-form-urlencoded"), body.as_bytes(), &fields, &fake_seal).unwrap();
        assert_eq!(kept, None, "armor goes as it is");
    }
}
