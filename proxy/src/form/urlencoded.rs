//! `application/x-www-form-urlencoded` (and query strings): `name=value` pairs joined by
//! `&`, `+` for space, percent-encoding.

use super::Field;

/// Decoded `(name, value)` pairs of a query string or urlencoded body, in order.
pub fn decode_pairs(raw: &[u8]) -> Vec<(String, String)> {
    fields(raw).into_iter().map(|f| (f.name, f.value)).collect()
}

/// The fields of an urlencoded body, with their byte ranges.
pub(super) fn fields(body: &[u8]) -> Vec<Field> {
    let mut out = Vec::new();
    let mut start = 0;
    for segment in body.split(|b| *b == b'&') {
        let span = start..start + segment.len();
        start = span.end + 1;
        if segment.is_empty() {
            continue;
        }
        let (name, value, data) = match segment.iter().position(|b| *b == b'=') {
            Some(eq) => (&segment[..eq], &segment[eq + 1..], span.start + eq + 1..span.end),
            None => (segment, &b""[..], span.end..span.end),
        };
        out.push(Field { name: decode(name), value: decode(value), filename: None, content_type: None, data, span });
    }
    out
}

fn decode(raw: &[u8]) -> String {
    let plus: Vec<u8> = raw.iter().map(|b| if *b == b'+' { b' ' } else { *b }).collect();
    percent_encoding::percent_decode(&plus).decode_utf8_lossy().into_owned()
}
