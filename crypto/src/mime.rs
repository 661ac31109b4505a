//! RFC 5322 + MIME (RFC 2045/2046) as the engine needs it, on raw bytes: split a
//! message into header fields and body, read `Content-Type`, cut a multipart body into
//! its exact parts, decode transfer encodings, and build the S/MIME wrappers
//! (`multipart/signed`, RFC 8551 §3.5; `application/pkcs7-mime`, RFC 8551 §3.2).
//!
//! The parser borrows from its input and never copies a body: a 25 MB message is
//! split without allocating 25 MB. Everything it cannot read is an [`Error::Mime`].

use crate::{Error, Result};
use base64::Engine as _;
use std::borrow::Cow;
use zeroize::Zeroizing;

/// One header field, borrowed from the message.
#[derive(Debug, Clone, Copy)]
pub struct HeaderField<'a> {
    /// The field name as written ("Content-Type").
    pub name: &'a str,
    /// The whole field as written, folding included, without its final line break.
    pub raw: &'a [u8],
}

impl HeaderField<'_> {
    /// The unfolded value after the colon, trimmed (lossy for non-UTF-8 bytes).
    pub fn value(&self) -> String {
        let after = &self.raw[self.name.len() + 1..];
        let text = String::from_utf8_lossy(after);
        let unfolded: String = text.split(['\r', '\n']).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("");
        unfolded.trim().to_string()
    }

    /// True for the fields that describe the body (`Content-*`, `MIME-Version`): they
    /// travel inside the protected entity, all others stay outside.
    pub fn is_content_field(&self) -> bool {
        let name = self.name.to_ascii_lowercase();
        name.starts_with("content-") || name == "mime-version"
    }

    /// Case-insensitive name comparison.
    pub fn is(&self, name: &str) -> bool {
        self.name.eq_ignore_ascii_case(name)
    }
}

/// A message or body part: header fields and body, borrowed.
#[derive(Debug, Clone)]
pub struct Entity<'a> {
    /// The header fields in order.
    pub fields: Vec<HeaderField<'a>>,
    /// The body: everything after the blank line that ends the header.
    pub body: &'a [u8],
}

/// The most header fields an entity may have; more is treated as malformed input.
const MAX_FIELDS: usize = 10_000;

impl<'a> Entity<'a> {
    /// Splits `data` into header fields and body. A leading mbox `From ` line is skipped;
    /// an entity without a blank line is all header (empty body).
    pub fn parse(data: &'a [u8]) -> Result<Self> {
        let mut pos = 0;
        if data.starts_with(b"From ") {
            pos = line_end(data, 0);
        }
        let mut fields: Vec<HeaderField<'a>> = Vec::new();
        while pos < data.len() {
            let end = line_end(data, pos);
            let line = trim_eol(&data[pos..end]);
            if line.is_empty() {
                return Ok(Self { fields, body: &data[end..] });
            }
            if line[0] == b' ' || line[0] == b'\t' {
                let Some(last) = fields.last_mut() else {
                    return Err(Error::Mime("the header starts with a continuation line".into()));
                };
                let start = last.raw.as_ptr() as usize - data.as_ptr() as usize;
                last.raw = &data[start..pos + line.len()];
            } else {
                let colon = memchr::memchr(b':', line)
                    .ok_or_else(|| Error::Mime("a header line has no colon (not a MIME entity?)".into()))?;
                let name = std::str::from_utf8(&line[..colon])
                    .ok()
                    .filter(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_graphic()))
                    .ok_or_else(|| Error::Mime("a header field has an invalid name".into()))?;
                if fields.len() == MAX_FIELDS {
                    return Err(Error::Mime("too many header fields".into()));
                }
                fields.push(HeaderField { name, raw: line });
            }
            pos = end;
        }
        Ok(Self { fields, body: &data[data.len()..] })
    }

    /// The first field named `name`.
    pub fn field(&self, name: &str) -> Option<&HeaderField<'a>> {
        self.fields.iter().find(|f| f.is(name))
    }

    /// Every field named `name`, in order.
    pub fn fields_named<'s>(&'s self, name: &'s str) -> impl Iterator<Item = &'s HeaderField<'a>> + 's {
        self.fields.iter().filter(move |f| f.is(name))
    }

    /// The parsed `Content-Type` (`text/plain; charset=us-ascii` when absent, RFC 2045 §5.2).
    pub fn content_type(&self) -> ContentType {
        self.field("Content-Type")
            .map(|f| ContentType::parse(&f.value()))
            .unwrap_or_else(|| ContentType::parse("text/plain; charset=us-ascii"))
    }

    /// The body with its `Content-Transfer-Encoding` undone.
    pub fn decoded_body(&self) -> Result<Cow<'a, [u8]>> {
        let encoding = self.field("Content-Transfer-Encoding").map(|f| f.value().to_ascii_lowercase());
        match encoding.as_deref() {
            None | Some("7bit" | "8bit" | "binary") => Ok(Cow::Borrowed(self.body)),
            Some("base64") => decode_base64(self.body).map(Cow::Owned),
            Some("quoted-printable") => Ok(Cow::Owned(decode_quoted_printable(self.body))),
            Some(other) => Err(Error::Mime(format!("unknown Content-Transfer-Encoding \"{other}\""))),
        }
    }
}

/// A parsed `Content-Type` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentType {
    /// `type/subtype`, lowercase.
    pub mime_type: String,
    /// Parameters with lowercase names and unquoted values, in order.
    pub params: Vec<(String, String)>,
}

impl ContentType {
    /// Parses `type/subtype; name=value; name="quoted value"` leniently.
    pub fn parse(value: &str) -> Self {
        let mut pieces = split_params(value).into_iter();
        let mime_type = pieces.next().unwrap_or_default().trim().to_ascii_lowercase();
        let params = pieces
            .filter_map(|p| {
                let (name, value) = p.split_once('=')?;
                let value = value.trim();
                let value = value.strip_prefix('"').and_then(|v| v.strip_suffix('"')).unwrap_or(value);
                Some((name.trim().to_ascii_lowercase(), value.replace("\\\"", "\"")))
            })
            .collect();
        Self { mime_type, params }
    }

    /// The value of parameter `name` (lowercase).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// True for `multipart/*`.
    pub fn is_multipart(&self) -> bool {
        self.mime_type.starts_with("multipart/")
    }
}

/// Splits at `;` outside double quotes.
fn split_params(value: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut quoted = false;
    let mut escaped = false;
    for c in value.chars() {
        match c {
            '\\' if quoted && !escaped => escaped = true,
            '"' if !escaped => quoted = !quoted,
            ';' if !quoted => out.push(String::new()),
            _ => escaped = false,
        }
        if (c != ';' || quoted)
            && let Some(last) = out.last_mut()
        {
            last.push(c);
        }
    }
    out
}

/// The body parts of a multipart body, each exactly as transmitted: from its first
/// header byte up to, not including, the line break before the next delimiter (that
/// line break belongs to the delimiter, RFC 2046 §5.1.1). A missing close delimiter is
/// an error: a truncated multipart/signed must not verify.
pub fn split_multipart<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<&'a [u8]>> {
    if boundary.is_empty() || boundary.len() > 200 {
        return Err(Error::Mime("a multipart boundary is missing or too long".into()));
    }
    let delimiter = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let mut parts = Vec::new();
    let mut part_start: Option<usize> = None;
    let mut search = 0;
    while let Some(found) = finder.find(&body[search..]).map(|i| i + search) {
        let at_line_start = found == 0 || body[found - 1] == b'\n';
        let after = found + delimiter.len();
        let is_close = body[after..].starts_with(b"--");
        let rest_of_line = &body[after + if is_close { 2 } else { 0 }..line_end(body, after)];
        if !at_line_start || !trim_eol(rest_of_line).iter().all(|b| *b == b' ' || *b == b'\t') {
            search = after;
            continue;
        }
        if let Some(start) = part_start {
            let mut end = found;
            if end > start && body[end - 1] == b'\n' {
                end -= 1;
                if end > start && body[end - 1] == b'\r' {
                    end -= 1;
                }
            }
            parts.push(&body[start..end.max(start)]);
        }
        if is_close {
            return Ok(parts);
        }
        let next = line_end(body, after);
        part_start = Some(next);
        search = next;
    }
    Err(Error::Mime("a multipart body has no closing boundary (truncated?)".into()))
}

/// Converts every line break to CRLF (RFC 5751 §3.1.1 canonical form); borrows when
/// there is nothing to change.
pub fn canonicalize_crlf(data: &[u8]) -> Cow<'_, [u8]> {
    let needs = data.iter().enumerate().any(|(i, &b)| {
        (b == b'\n' && (i == 0 || data[i - 1] != b'\r')) || (b == b'\r' && data.get(i + 1) != Some(&b'\n'))
    });
    if !needs {
        return Cow::Borrowed(data);
    }
    let mut out = Vec::with_capacity(data.len() + data.len() / 32);
    let mut i = 0;
    while i < data.len() {
        match data[i] {
            b'\r' if data.get(i + 1) == Some(&b'\n') => {
                out.extend_from_slice(b"\r\n");
                i += 1;
            }
            b'\r' | b'\n' => out.extend_from_slice(b"\r\n"),
            b => out.push(b),
        }
        i += 1;
    }
    Cow::Owned(out)
}

/// Writes `data` as base64 with a CRLF line break every 76 characters, as MIME wants it.
pub fn write_base64_lines<W: std::io::Write + ?Sized>(data: &[u8], out: &mut W) -> std::io::Result<()> {
    const LINE_INPUT: usize = 57;
    const LINES_PER_WRITE: usize = 1024;
    let engine = base64::engine::general_purpose::STANDARD;
    let mut buffer = Vec::with_capacity(78 * LINES_PER_WRITE);
    let mut line = [0u8; 76];
    for block in data.chunks(LINE_INPUT * LINES_PER_WRITE) {
        buffer.clear();
        for chunk in block.chunks(LINE_INPUT) {
            let n = engine.encode_slice(chunk, &mut line).unwrap_or(0);
            buffer.extend_from_slice(&line[..n]);
            buffer.extend_from_slice(b"\r\n");
        }
        out.write_all(&buffer)?;
    }
    Ok(())
}

/// A message or entity as built for sending: raw pieces and pieces to be written in
/// base64, in order. A large S/MIME message streams to a file or socket without its
/// base64 text ever being held in memory. Raw pieces are wiped on drop (they may hold
/// the signed plaintext).
#[derive(Debug, Default)]
pub struct Assembled {
    pieces: Vec<Piece>,
}

#[derive(Debug)]
enum Piece {
    Raw(Zeroizing<Vec<u8>>),
    Base64(Vec<u8>),
}

impl Assembled {
    fn raw(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.pieces.push(Piece::Raw(Zeroizing::new(bytes.into())));
        self
    }

    fn base64(mut self, bytes: Vec<u8>) -> Self {
        self.pieces.push(Piece::Base64(bytes));
        self
    }

    /// Writes the whole message to `out`.
    pub fn write_to<W: std::io::Write + ?Sized>(&self, out: &mut W) -> std::io::Result<()> {
        for piece in &self.pieces {
            match piece {
                Piece::Raw(bytes) => out.write_all(bytes)?,
                Piece::Base64(bytes) => write_base64_lines(bytes, out)?,
            }
        }
        Ok(())
    }

    /// The length of what `write_to` writes.
    pub fn len(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Raw(bytes) => bytes.len(),
                Piece::Base64(bytes) => bytes.len().div_ceil(57) * 2 + bytes.len().div_ceil(3) * 4,
            })
            .sum()
    }

    /// True when nothing would be written.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The whole message in one buffer.
    pub fn to_vec(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.len());
        // Writing into a Vec cannot fail.
        let _ = self.write_to(&mut out);
        out
    }
}

/// Decodes base64, ignoring whitespace and line breaks; tolerates missing padding.
/// Works through the text in blocks, so no whitespace-free copy of a large body is made.
pub fn decode_base64(text: &[u8]) -> Result<Vec<u8>> {
    const BLOCK: usize = 64 * 1024;
    let engine = base64::engine::GeneralPurpose::new(
        &base64::alphabet::STANDARD,
        base64::engine::GeneralPurposeConfig::new()
            .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
            .with_decode_allow_trailing_bits(true),
    );
    let bad = |e: base64::DecodeError| Error::Mime(format!("bad base64: {e}"));
    let mut out = Vec::with_capacity(text.len() / 4 * 3);
    let mut block = Vec::with_capacity(BLOCK);
    let mut padded = false;
    for &byte in text {
        if byte.is_ascii_whitespace() {
            continue;
        }
        block.push(byte);
        padded |= byte == b'=';
        // Decode whole blocks (a multiple of 4 characters) until padding shows up; from
        // then on everything is the tail, decoded (or refused) at the end.
        if block.len() == BLOCK && !padded {
            engine.decode_vec(&block, &mut out).map_err(bad)?;
            block.clear();
        }
    }
    engine.decode_vec(&block, &mut out).map_err(bad)?;
    Ok(out)
}

fn decode_quoted_printable(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'=' {
            let rest = &text[i + 1..];
            if rest.starts_with(b"\r\n") {
                i += 3;
                continue;
            }
            if rest.starts_with(b"\n") {
                i += 2;
                continue;
            }
            let hex =
                rest.get(..2).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
            if let Some(byte) = hex {
                out.push(byte);
                i += 3;
                continue;
            }
        }
        out.push(text[i]);
        i += 1;
    }
    out
}

/// The header fields of an S/MIME message built from an original: every non-content
/// field of the original, verbatim, then `MIME-Version: 1.0`.
pub fn outer_header(original: &Entity<'_>) -> Vec<u8> {
    let mut out = Vec::new();
    for field in original.fields.iter().filter(|f| !f.is_content_field()) {
        out.extend_from_slice(&canonicalize_crlf(field.raw));
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"MIME-Version: 1.0\r\n");
    out
}

/// The protected entity of a message: its content fields (or a `text/plain` default)
/// and its body, in CRLF canonical form.
pub fn body_entity(original: &Entity<'_>) -> Vec<u8> {
    let mut out = Vec::with_capacity(original.body.len() + 256);
    let mut has_type = false;
    for field in original.fields.iter().filter(|f| f.is_content_field() && !f.is("MIME-Version")) {
        has_type |= field.is("Content-Type");
        out.extend_from_slice(&canonicalize_crlf(field.raw));
        out.extend_from_slice(b"\r\n");
    }
    if !has_type {
        out.extend_from_slice(b"Content-Type: text/plain; charset=us-ascii\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(&canonicalize_crlf(original.body));
    out
}

/// A `multipart/signed` entity (RFC 8551 §3.5.3) around `entity` with the detached
/// signature `signature_der`; `header` (outer fields) goes first when building a whole
/// message. `micalg` is the RFC 8551 §3.5.3.2 name ("sha-256").
pub fn signed_entity(header: Vec<u8>, entity: Zeroizing<Vec<u8>>, signature_der: Vec<u8>, micalg: &str) -> Assembled {
    let boundary = fresh_boundary(&entity);
    let mut head = header;
    head.extend_from_slice(
        format!(
            "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg={micalg};\r\n \
             boundary=\"{boundary}\"\r\n\r\nThis is an S/MIME signed message.\r\n\r\n--{boundary}\r\n"
        )
        .as_bytes(),
    );
    let signature_head = format!(
        "\r\n--{boundary}\r\nContent-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n\
         Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7s\"\r\n\r\n"
    );
    let mut assembled = Assembled::default().raw(head);
    assembled.pieces.push(Piece::Raw(entity));
    assembled.raw(signature_head).base64(signature_der).raw(format!("\r\n--{boundary}--\r\n"))
}

/// An `application/pkcs7-mime` entity (RFC 8551 §3.2) holding `der`; `smime_type` is
/// `enveloped-data`, `authEnveloped-data` or `signed-data`.
pub fn pkcs7_mime_entity(header: Vec<u8>, smime_type: &str, der: Vec<u8>) -> Assembled {
    let mut head = header;
    head.extend_from_slice(
        format!(
            "Content-Type: application/pkcs7-mime; smime-type={smime_type}; name=\"smime.p7m\"\r\n\
             Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n"
        )
        .as_bytes(),
    );
    Assembled::default().raw(head).base64(der)
}

/// A boundary that does not occur in `content`.
fn fresh_boundary(content: &[u8]) -> String {
    loop {
        let boundary = format!("----smime-{:032x}", rand::random::<u128>());
        if memchr::memmem::find(content, boundary.as_bytes()).is_none() {
            return boundary;
        }
    }
}

/// The index just past the line break of the line starting at `pos` (or the end).
fn line_end(data: &[u8], pos: usize) -> usize {
    memchr::memchr(b'\n', &data[pos..]).map_or(data.len(), |i| pos + i + 1)
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_folded_headers_and_body() {
        let msg =
            b"From: a@x\r\nSubject: one\r\n two\r\nContent-Type: text/plain;\r\n charset=\"utf-8\"\r\n\r\nbody\r\n";
        let e = Entity::parse(msg).expect("parse");
        assert_eq!(e.fields.len(), 3);
        assert_eq!(e.field("subject").map(|f| f.value()), Some("one two".to_string()));
        assert_eq!(e.content_type().param("charset"), Some("utf-8"));
        assert_eq!(e.body, b"body\r\n");
    }

    #[test]
    fn splits_multipart_exactly() {
        let body = b"preamble\r\n--b\r\nContent-Type: text/plain\r\n\r\none\r\n--b\r\n\r\ntwo\n--b--\r\nepilogue";
        let parts = split_multipart(body, "b").expect("split");
        assert_eq!(parts, vec![&b"Content-Type: text/plain\r\n\r\none"[..], &b"\r\ntwo"[..]]);
        assert!(split_multipart(b"--b\r\npart\r\n", "b").is_err(), "no close delimiter");
        assert!(split_multipart(b"x--b\r\n--b--", "b").expect("inline").is_empty());
    }

    #[test]
    fn canonicalizes_line_breaks() {
        assert_eq!(&*canonicalize_crlf(b"a\nb\r\nc\rd"), b"a\r\nb\r\nc\r\nd");
        assert!(matches!(canonicalize_crlf(b"a\r\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn base64_round_trip_with_line_breaks() {
        let data: Vec<u8> = (0..=255u8).cycle().take(1000).collect();
        let mut text = Vec::new();
        write_base64_lines(&data, &mut text).expect("into a Vec");
        assert!(text.split(|b| *b == b'\n').all(|l| l.len() <= 77));
        assert_eq!(decode_base64(&text).expect("decode"), data);
        let big: Vec<u8> = (0..=255u8).cycle().take(200_000).collect();
        let mut text = Vec::new();
        write_base64_lines(&big, &mut text).expect("into a Vec");
        assert_eq!(decode_base64(&text).expect("decode across blocks"), big);
        assert!(decode_base64(b"QUJD=QUJD").is_err());
    }

    #[test]
    fn decodes_quoted_printable() {
        assert_eq!(decode_quoted_printable(b"caf=C3=A9 =\r\nsoft=3D"), "café soft=".as_bytes());
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        assert!(Entity::parse(b" continuation first\r\n\r\n").is_err());
        assert!(Entity::parse(b"no colon here\r\n\r\n").is_err());
        for input in [&b""[..], b"\n", b"A:", b"A:\r", b"A: b\r\n x", b"--", b"From x"] {
            let _ = Entity::parse(input);
            let _ = split_multipart(input, "b");
        }
    }

    #[test]
    fn assembled_length_matches_what_is_written() {
        for size in [0, 1, 56, 57, 58, 1000, 57 * 1024 + 5] {
            let assembled =
                signed_entity(b"From: a@b\r\n".to_vec(), Zeroizing::new(vec![b'x'; size]), vec![7u8; size], "sha-256");
            let bytes = assembled.to_vec();
            assert_eq!(assembled.len(), bytes.len(), "size {size}");
            let parsed = Entity::parse(&bytes).expect("parse");
            let boundary = parsed.content_type().param("boundary").expect("boundary").to_string();
            let parts = split_multipart(parsed.body, &boundary).expect("split");
            assert_eq!(parts[0], vec![b'x'; size].as_slice());
            let signature = Entity::parse(parts[1]).expect("part").decoded_body().expect("base64").into_owned();
            assert_eq!(signature, vec![7u8; size]);
        }
    }
}
