//! `multipart/form-data` (RFC 7578): parts between `--boundary` delimiter lines, each
//! with a `Content-Disposition: form-data; name="..."` header.

use super::Field;

/// The `boundary` parameter of a multipart `Content-Type` (quotes removed).
pub(super) fn boundary(content_type: &str) -> Option<String> {
    content_type.split(';').skip(1).find_map(|param| {
        let (key, value) = param.split_once('=')?;
        if !key.trim().eq_ignore_ascii_case("boundary") {
            return None;
        }
        let value = value.trim().trim_matches('"');
        (!value.is_empty() && value.len() <= 70).then(|| value.to_owned())
    })
}

/// The parts of `body`, or `None` when it is not a well-formed multipart body.
pub(super) fn fields(body: &[u8], boundary: &str) -> Option<Vec<Field>> {
    let delimiter = format!("--{boundary}");
    let delimiter = delimiter.as_bytes();
    // Start of every delimiter line: at the very start or right after a line break.
    let mut starts = Vec::new();
    let mut i = 0;
    while let Some(pos) = find(&body[i..], delimiter) {
        let at = i + pos;
        if at == 0 || body[at - 1] == b'\n' {
            starts.push(at);
        }
        i = at + delimiter.len();
    }
    let last = *starts.last()?;
    if !body[last + delimiter.len()..].starts_with(b"--") {
        return None;
    }
    let mut out = Vec::new();
    for pair in starts.windows(2) {
        let (start, next) = (pair[0], pair[1]);
        let after_delimiter = start + delimiter.len();
        let header_start = after_delimiter + find(&body[after_delimiter..next], b"\n")? + 1;
        let (headers, content_start) = split_headers(&body[header_start..next])?;
        let content_start = header_start + content_start;
        // The line break before the next delimiter belongs to the delimiter.
        let mut content_end = next;
        if content_end > content_start && body[content_end - 1] == b'\n' {
            content_end -= 1;
            if content_end > content_start && body[content_end - 1] == b'\r' {
                content_end -= 1;
            }
        }
        let (name, filename, content_type) = disposition(headers)?;
        let value = if filename.is_some() {
            String::new()
        } else {
            String::from_utf8_lossy(&body[content_start..content_end]).into_owned()
        };
        out.push(Field { name, value, filename, content_type, data: content_start..content_end, span: start..next });
    }
    Some(out)
}

/// Splits a part into its header block (text) and the offset of its content.
fn split_headers(part: &[u8]) -> Option<(&str, usize)> {
    let (end, skip) = match (find(part, b"\r\n\r\n"), find(part, b"\n\n")) {
        (Some(crlf), Some(lf)) if lf < crlf => (lf, 2),
        (Some(crlf), _) => (crlf, 4),
        (None, Some(lf)) => (lf, 2),
        (None, None) => return None,
    };
    Some((std::str::from_utf8(&part[..end]).ok()?, end + skip))
}

/// `(name, filename, content type)` from a part's headers.
fn disposition(headers: &str) -> Option<(String, Option<String>, Option<String>)> {
    let mut name = None;
    let mut filename = None;
    let mut content_type = None;
    for line in headers.lines() {
        let Some((key, value)) = line.split_once(':') else { continue };
        if key.trim().eq_ignore_ascii_case("content-disposition") {
            for param in value.split(';').skip(1) {
                let Some((k, v)) = param.split_once('=') else { continue };
                let v = v.trim().trim_matches('"').to_owned();
                match k.trim().to_ascii_lowercase().as_str() {
                    "name" => name = Some(v),
                    "filename" => filename = Some(v),
                    _ => {}
                }
            }
        } else if key.trim().eq_ignore_ascii_case("content-type") {
            content_type = Some(value.trim().to_owned());
        }
    }
    Some((name?, filename, content_type))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
