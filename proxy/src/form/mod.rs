//! Bodies as browsers post them: `application/x-www-form-urlencoded`,
//! `multipart/form-data` and JSON objects. Parsing a form keeps every field's byte range,
//! so that fields can be removed while everything else stays byte for byte as the browser
//! sent it; a JSON object is written again without the removed keys. No I/O.

mod json;
mod multipart;
mod urlencoded;

use std::ops::Range;

pub use json::json_text;
pub use urlencoded::decode_pairs;

/// A parsed form body.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Form {
    encoding: Encoding,
    fields: Vec<Field>,
}

/// One form field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    /// The field name.
    pub name: String,
    /// The value as text (UTF-8, invalid bytes replaced); empty for a file.
    pub value: String,
    /// The file name of a file part (multipart only).
    pub filename: Option<String>,
    /// The part's `Content-Type` (multipart only).
    pub content_type: Option<String>,
    /// The value's bytes in the body (a file's content).
    pub data: Range<usize>,
    /// The whole field in the body (what removing it removes).
    span: Range<usize>,
}

/// How the body was encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Encoding {
    /// Not a form (or a form that could not be parsed): no fields.
    #[default]
    None,
    /// `application/x-www-form-urlencoded`.
    UrlEncoded,
    /// `multipart/form-data` with this boundary.
    Multipart(String),
    /// A JSON object.
    Json(serde_json::Value),
    /// A body that says it is JSON and is not a JSON object.
    Unreadable,
}

impl Form {
    /// Parses `body` according to `content_type` (the request's `Content-Type`). Any other
    /// type, or a multipart body without a valid boundary, gives a form without fields.
    pub fn parse(content_type: Option<&str>, body: &[u8]) -> Self {
        let Some(content_type) = content_type else { return Self::default() };
        let essence = content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/x-www-form-urlencoded" => {
                Self { encoding: Encoding::UrlEncoded, fields: urlencoded::fields(body) }
            }
            "multipart/form-data" => match multipart::boundary(content_type) {
                Some(boundary) => match multipart::fields(body, &boundary) {
                    Some(fields) => Self { encoding: Encoding::Multipart(boundary), fields },
                    None => Self::default(),
                },
                None => Self::default(),
            },
            json if json == "application/json" || json.ends_with("+json") => match json::fields(body) {
                Some((value, fields)) => Self { encoding: Encoding::Json(value), fields },
                None => Self { encoding: Encoding::Unreadable, fields: Vec::new() },
            },
            _ => Self::default(),
        }
    }

    /// Whether the body was a form or JSON object this module understands.
    pub fn is_form(&self) -> bool {
        !matches!(self.encoding, Encoding::None | Encoding::Unreadable)
    }

    /// Whether the body claimed to be JSON and could not be read as a JSON object: what it
    /// asks for cannot be known, so it must not be forwarded where S/MIME may be on.
    pub fn is_unreadable(&self) -> bool {
        self.encoding == Encoding::Unreadable
    }

    /// The JSON document of a JSON body.
    pub fn json(&self) -> Option<&serde_json::Value> {
        match &self.encoding {
            Encoding::Json(value) => Some(value),
            _ => None,
        }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.iter().find(|f| f.name == name).map(|f| f.value.as_str())
    }

    /// Every field, in body order.
    pub fn fields(&self) -> &[Field] {
        &self.fields
    }

    /// Overwrites the text copy of every value (a passphrase posted to the own page must
    /// not outlive its use).
    pub fn wipe(&mut self) {
        for field in &mut self.fields {
            zeroize::Zeroize::zeroize(&mut field.value);
        }
    }

    /// `body` without the fields for which `drop` is true; everything else unchanged.
    /// Returns `None` when nothing is dropped.
    pub fn without(&self, body: &[u8], drop: impl Fn(&str) -> bool) -> Option<Vec<u8>> {
        if !self.fields.iter().any(|f| drop(&f.name)) {
            return None;
        }
        match &self.encoding {
            Encoding::None | Encoding::Unreadable => None,
            Encoding::Json(value) => json::without(value, drop),
            Encoding::UrlEncoded => {
                let kept: Vec<&[u8]> =
                    self.fields.iter().filter(|f| !drop(&f.name)).map(|f| &body[f.span.clone()]).collect();
                Some(kept.join(&b"&"[..]))
            }
            Encoding::Multipart(_) => {
                let mut out = Vec::with_capacity(body.len());
                let mut at = 0;
                for field in self.fields.iter().filter(|f| drop(&f.name)) {
                    out.extend_from_slice(&body[at..field.span.start]);
                    at = field.span.end;
                }
                out.extend_from_slice(&body[at..]);
                Some(out)
            }
        }
    }
}

/// Characters left as they are in a urlencoded value written by [`Form::with_values`]
/// (RFC 3986 unreserved); everything else is percent-encoded.
const URLENCODED_VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

impl Form {
    /// `body` with one more field `name` = `value` at its end; `None` when the body is not
    /// an urlencoded or multipart form, or a multipart value would hold the boundary.
    pub fn with_field(&self, body: &[u8], name: &str, value: &str) -> Option<Vec<u8>> {
        let mut out = Vec::with_capacity(body.len() + name.len() + value.len() * 3 + 128);
        match &self.encoding {
            Encoding::UrlEncoded => {
                out.extend_from_slice(body);
                if !body.is_empty() && !body.ends_with(b"&") {
                    out.push(b'&');
                }
                out.extend(percent_encoding::utf8_percent_encode(name, URLENCODED_VALUE).flat_map(str::bytes));
                out.push(b'=');
                out.extend(percent_encoding::utf8_percent_encode(value, URLENCODED_VALUE).flat_map(str::bytes));
            }
            Encoding::Multipart(boundary) => {
                let delimiter = format!("--{boundary}");
                if value.contains(&delimiter) || name.contains(['"', '\r', '\n']) {
                    return None;
                }
                // Before the closing delimiter (the last `--boundary--` at a line start).
                let close = format!("{delimiter}--");
                let at = (0..body.len())
                    .rev()
                    .find(|&i| body[i..].starts_with(close.as_bytes()) && (i == 0 || body[i - 1] == b'\n'))?;
                out.extend_from_slice(&body[..at]);
                out.extend_from_slice(
                    format!("{delimiter}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                        .as_bytes(),
                );
                out.extend_from_slice(&body[at..]);
            }
            _ => return None,
        }
        Some(out)
    }

    /// `body` with the values of the fields at the given indexes (into [`Form::fields`])
    /// replaced; everything else byte for byte as it was. `None` when the body is not an
    /// urlencoded or multipart form (a JSON body is written again by its caller), an index
    /// is out of range, or a multipart value would hold the boundary.
    pub fn with_values(&self, body: &[u8], values: &[(usize, String)]) -> Option<Vec<u8>> {
        let mut ordered: Vec<(&Range<usize>, &str)> = Vec::with_capacity(values.len());
        for (index, value) in values {
            ordered.push((&self.fields.get(*index)?.data, value.as_str()));
        }
        ordered.sort_by_key(|(range, _)| range.start);
        let mut out = Vec::with_capacity(body.len() + values.iter().map(|(_, v)| v.len() * 3).sum::<usize>());
        let mut at = 0;
        for (range, value) in ordered {
            out.extend_from_slice(body.get(at..range.start)?);
            match &self.encoding {
                Encoding::UrlEncoded => {
                    out.extend(percent_encoding::utf8_percent_encode(value, URLENCODED_VALUE).flat_map(str::bytes));
                }
                Encoding::Multipart(boundary) if !value.contains(&format!("--{boundary}")) => {
                    out.extend_from_slice(value.as_bytes());
                }
                _ => return None,
            }
            at = range.end;
        }
        out.extend_from_slice(body.get(at..)?);
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urlencoded_strip_keeps_the_rest_byte_for_byte() {
        let body = b"_token=t&_to=bob%40example.test%2C&_smime_sign=1&_message=a+b%0D%0Ac&_smime_encrypt=&_mdn=";
        let form = Form::parse(Some("application/x-www-form-urlencoded"), body);
        assert_eq!(form.get("_to"), Some("bob@example.test,"));
        assert_eq!(form.get("_message"), Some("a b\r\nc"));
        assert_eq!(form.get("_smime_encrypt"), Some(""));
        let out = form.without(body, |n| n.starts_with("_smime_")).unwrap();
        assert_eq!(out, b"_token=t&_to=bob%40example.test%2C&_message=a+b%0D%0Ac&_mdn=");
        assert_eq!(form.without(body, |n| n == "nope"), None);
    }

    #[test]
    fn multipart_fields_and_strip() {
        let body = b"--XY\r\nContent-Disposition: form-data; name=\"_smime_sign\"\r\n\r\n1\r\n\
--XY\r\nContent-Disposition: form-data; name=\"_attachments[]\"; filename=\"a.bin\"\r\nContent-Type: application/octet-stream\r\n\r\n\x00\xff\r\n\r\n\
--XY--\r\n";
        let form = Form::parse(Some("multipart/form-data; boundary=XY"), body);
        assert_eq!(form.fields().len(), 2);
        assert_eq!(form.get("_smime_sign"), Some("1"));
        let file = &form.fields()[1];
        assert_eq!(file.filename.as_deref(), Some("a.bin"));
        assert_eq!(file.content_type.as_deref(), Some("application/octet-stream"));
        assert_eq!(&body[file.data.clone()], b"\x00\xff\r\n");
        let out = form.without(body, |n| n.starts_with("_smime_")).unwrap();
        let second = body.windows(8).rposition(|w| w == b"\r\n--XY\r\n").unwrap() + 2;
        assert_eq!(out, &body[second..]);
        assert!(out.starts_with(b"--XY\r\nContent-Disposition: form-data; name=\"_attachments[]\""));
        let again = Form::parse(Some("multipart/form-data; boundary=\"XY\""), &out);
        assert_eq!(again.fields().len(), 1);
    }

    #[test]
    fn json_keys_are_fields_and_strip_rewrites_the_object() {
        let body = br#"{"to":["bob@example.test","carol@example.test"],"isHTML":0,"_smime_sign":true,"_smime_encrypt":false,"text":"hi"}"#;
        let form = Form::parse(Some("application/json;charset=UTF-8"), body);
        assert!(form.is_form() && !form.is_unreadable());
        assert_eq!(form.get("to"), Some("bob@example.test, carol@example.test"));
        assert_eq!(form.get("_smime_sign"), Some("1"));
        assert_eq!(form.get("_smime_encrypt"), Some(""));
        assert_eq!(form.get("isHTML"), Some("0"));
        let out = form.without(body, |n| n.starts_with("_smime_")).unwrap();
        assert_eq!(out, br#"{"to":["bob@example.test","carol@example.test"],"isHTML":0,"text":"hi"}"#);
        for bad in [&b"{\"to\":"[..], b"[1,2]", b"\"text\"", b"\xff"] {
            let form = Form::parse(Some("application/json"), bad);
            assert!(form.is_unreadable() && !form.is_form(), "{bad:?}");
            assert_eq!(form.without(bad, |_| true), None);
        }
    }

    #[test]
    fn values_are_replaced_and_the_rest_kept() {
        let body = b"_token=t&_notes=secret+note&_phone%5B%5D=123&_phone%5B%5D=456&x";
        let form = Form::parse(Some("application/x-www-form-urlencoded"), body);
        let out = form.with_values(body, &[(3, "a+b/c\n=".into()), (1, "N".into())]).unwrap();
        assert_eq!(out, b"_token=t&_notes=N&_phone%5B%5D=123&_phone%5B%5D=a%2Bb%2Fc%0A%3D&x");
        let again = Form::parse(Some("application/x-www-form-urlencoded"), &out);
        assert_eq!(again.fields()[3].value, "a+b/c\n=");
        assert_eq!(form.with_values(body, &[(9, "x".into())]), None);

        let body = b"--XY\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nold\r\n--XY--\r\n";
        let form = Form::parse(Some("multipart/form-data; boundary=XY"), body);
        let out = form.with_values(body, &[(0, "new\nvalue".into())]).unwrap();
        assert_eq!(out, b"--XY\r\nContent-Disposition: form-data; name=\"n\"\r\n\r\nnew\nvalue\r\n--XY--\r\n");
        assert_eq!(form.with_values(body, &[(0, "a\r\n--XY--".into())]), None, "the boundary inside a value");
        let json = Form::parse(Some("application/json"), br#"{"a":"b"}"#);
        assert_eq!(json.with_values(br#"{"a":"b"}"#, &[(0, "c".into())]), None);
    }

    #[test]
    fn a_field_is_added_at_the_end() {
        let body = b"a=1";
        let form = Form::parse(Some("application/x-www-form-urlencoded"), body);
        assert_eq!(form.with_field(body, "sig", "x y\n").unwrap(), b"a=1&sig=x%20y%0A");
        let body = b"--XY\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--XY--\r\n";
        let form = Form::parse(Some("multipart/form-data; boundary=XY"), body);
        let out = form.with_field(body, "sig", "S").unwrap();
        let again = Form::parse(Some("multipart/form-data; boundary=XY"), &out);
        assert_eq!((again.get("a"), again.get("sig")), (Some("1"), Some("S")));
        assert_eq!(form.with_field(body, "sig", "\r\n--XY--"), None);
        assert_eq!(Form::parse(Some("application/json"), b"{}").with_field(b"{}", "sig", "S"), None);
    }

    #[test]
    fn other_bodies_have_no_fields() {
        assert!(!Form::parse(Some("text/xml"), b"<a/>").is_form());
        assert!(!Form::parse(None, b"a=b").is_form());
        assert!(!Form::parse(Some("multipart/form-data"), b"--x\r\n").is_form());
        assert!(!Form::parse(Some("multipart/form-data; boundary=q"), b"no delimiter").is_form());
    }
}
