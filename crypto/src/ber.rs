//! BER -> DER normalisation of incoming CMS (OpenSSL `-stream`, Outlook and NSS emit
//! indefinite lengths and constructed strings; the `der` crate accepts DER only).
//!
//! What changes (X.690 §10 restrictions applied to a BER encoding, X.690 §8.1):
//! - indefinite lengths (`0x80` ... end-of-contents `00 00`) become definite ones, and
//!   every length is re-encoded in its shortest form;
//! - constructed `OCTET STRING`s and `BIT STRING`s (universal tags 4 and 3) are joined
//!   into one primitive string, wherever they occur;
//! - the IMPLICIT-tagged `encryptedContent` of RFC 5652 §6.1 is joined as well:
//!
//!   ```text
//!   EncryptedContentInfo ::= SEQUENCE {
//!     contentType ContentType,
//!     contentEncryptionAlgorithm ContentEncryptionAlgorithmIdentifier,
//!     encryptedContent [0] IMPLICIT EncryptedContent OPTIONAL }
//!   EncryptedContent ::= OCTET STRING
//!   ```
//!
//!   A BER writer sends it as a constructed `[0]` holding `OCTET STRING` chunks. A
//!   constructed `[0]` elsewhere may be a genuinely constructed type (`content [0]
//!   EXPLICIT` of ContentInfo, `eContent [0] EXPLICIT OCTET STRING` of SignedData,
//!   `certificates [0] IMPLICIT SET OF`), which looks the same when it holds a single
//!   OCTET STRING. So a constructed `[0]` is joined only where EncryptedContentInfo puts
//!   it: the third element of a SEQUENCE whose first two elements are an OBJECT
//!   IDENTIFIER and a SEQUENCE, and only when all its children are OCTET STRINGs.
//!
//! What stays: tags, primitive contents (no re-sorting of SETs, no BOOLEAN
//! canonicalisation). DER input comes back byte for byte.
//!
//! The work is linear in the input size: one pass builds a tree of nodes that refer to
//! the input by offset (each knows its DER length), a second pass writes the output
//! once. Nesting is limited to [`MAX_DEPTH`]; lengths are checked against the input.

use crate::{Error, Result};

/// The deepest nesting of constructed values accepted (CMS needs about 15).
pub const MAX_DEPTH: usize = 64;

/// Re-encodes a BER TLV tree as DER: definite lengths, constructed OCTET/BIT STRINGs
/// (also under IMPLICIT context tags, e.g. `encryptedContent [0]`) joined into primitive
/// ones. DER input comes back unchanged. Bounded recursion; never panics.
pub fn to_der(input: &[u8]) -> Result<Vec<u8>> {
    let mut parser = Parser { input, nodes: Vec::new(), chunks: Vec::new() };
    let (root, end) = parser.parse(0, 0, false)?;
    if end != input.len() {
        return Err(malformed(format!("{} bytes of trailing data after the outer value", input.len() - end)));
    }
    let total = parser.encoded_len(root);
    let mut out = Vec::with_capacity(total);
    parser.write(root, &mut out);
    Ok(out)
}

const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;
const CONSTRUCTED: u8 = 0x20;
const CONTEXT_0_CONSTRUCTED: u8 = 0xA0;
const CONTEXT_0_PRIMITIVE: u8 = 0x80;

/// One value of the tree. Contents refer to the input by offset.
struct Node {
    /// The identifier octets as written in DER (the input's, except for joined values).
    tag: Tag,
    /// The length of the DER contents.
    len: usize,
    body: Body,
}

/// Identifier octets: the input's bytes, or a single replacement byte.
enum Tag {
    Input(usize, usize),
    Byte(u8),
}

enum Body {
    /// Primitive contents: `input[start..end]`.
    Primitive(usize, usize),
    /// Children, as indices into `Parser::nodes`.
    Constructed(Vec<usize>),
    /// A joined string: `chunks[first..last]`, each a range of the input; for a BIT
    /// STRING, `unused` is the unused-bits octet written first.
    Joined { first: usize, last: usize, unused: Option<u8> },
}

struct Parser<'a> {
    input: &'a [u8],
    nodes: Vec<Node>,
    chunks: Vec<(usize, usize)>,
}

/// A decoded identifier + length.
struct Header {
    tag_start: usize,
    tag_end: usize,
    /// First identifier octet (class, constructed bit, low tag number).
    first: u8,
    /// `None` for the indefinite form.
    len: Option<usize>,
    /// Where the contents start.
    body: usize,
}

impl Parser<'_> {
    /// Parses the value at `pos`; returns its node and the offset after it.
    /// `join_context_0` is set where a constructed `[0]` is an IMPLICIT OCTET STRING.
    fn parse(&mut self, pos: usize, depth: usize, join_context_0: bool) -> Result<(usize, usize)> {
        if depth > MAX_DEPTH {
            return Err(malformed(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let h = self.header(pos)?;
        let tag = Tag::Input(h.tag_start, h.tag_end);
        if h.first & CONSTRUCTED == 0 {
            let Some(len) = h.len else {
                return Err(malformed("indefinite length on a primitive value"));
            };
            let end = h.body + len;
            if h.first == 0 && h.tag_end - h.tag_start == 1 {
                return Err(malformed("unexpected end-of-contents marker"));
            }
            return Ok((self.push(Node { tag, len, body: Body::Primitive(h.body, end) }), end));
        }

        let (children, end) = self.parse_children(&h, depth)?;
        let first = h.first;
        let input = self.input;
        let is_string = |n: &Node, t: u8| n.tag.len() == 1 && n.tag_byte(input) == t;
        let joined_tag = if first == (TAG_OCTET_STRING | CONSTRUCTED) {
            Some(TAG_OCTET_STRING)
        } else if first == (TAG_BIT_STRING | CONSTRUCTED) {
            Some(TAG_BIT_STRING)
        } else if first == CONTEXT_0_CONSTRUCTED
            && join_context_0
            && children.iter().all(|&c| is_string(&self.nodes[c], TAG_OCTET_STRING))
        {
            Some(CONTEXT_0_PRIMITIVE)
        } else {
            None
        };
        let node = match joined_tag {
            Some(TAG_BIT_STRING) => self.join_bits(&children)?,
            Some(new_tag) => {
                if new_tag == TAG_OCTET_STRING && !children.iter().all(|&c| is_string(&self.nodes[c], TAG_OCTET_STRING))
                {
                    return Err(malformed("a constructed OCTET STRING holds something else"));
                }
                let first_chunk = self.chunks.len();
                let mut len = 0usize;
                for &c in &children {
                    len += self.collect_chunks(c);
                }
                Node {
                    tag: Tag::Byte(new_tag),
                    len,
                    body: Body::Joined { first: first_chunk, last: self.chunks.len(), unused: None },
                }
            }
            None => {
                let len = children.iter().map(|&c| self.encoded_len(c)).sum();
                Node { tag, len, body: Body::Constructed(children) }
            }
        };
        Ok((self.push(node), end))
    }

    /// Parses the children of a constructed value; returns them and the offset after
    /// the value (after the end-of-contents octets for the indefinite form).
    fn parse_children(&mut self, h: &Header, depth: usize) -> Result<(Vec<usize>, usize)> {
        let mut children = Vec::new();
        let mut pos = h.body;
        let is_sequence = h.first == TAG_SEQUENCE;
        loop {
            match h.len {
                Some(len) if pos == h.body + len => return Ok((children, pos)),
                Some(len) if pos > h.body + len => return Err(malformed("a child overruns its parent's length")),
                None if self.input.get(pos..pos + 2) == Some(&[0, 0]) => return Ok((children, pos + 2)),
                _ => {}
            }
            if pos >= self.input.len() {
                return Err(malformed("missing end-of-contents"));
            }
            // EncryptedContentInfo: SEQUENCE { OID, SEQUENCE, [0] IMPLICIT OCTET STRING }.
            let join = is_sequence
                && children.len() == 2
                && self.nodes[children[0]].tag_byte(self.input) == TAG_OID
                && self.nodes[children[1]].tag_byte(self.input) == TAG_SEQUENCE;
            let (child, next) = self.parse(pos, depth + 1, join)?;
            children.push(child);
            pos = next;
        }
    }

    /// Reads the identifier and length octets at `pos`.
    fn header(&self, pos: usize) -> Result<Header> {
        let input = self.input;
        let first = *input.get(pos).ok_or_else(|| malformed("truncated (identifier expected)"))?;
        let mut p = pos + 1;
        if first & 0x1F == 0x1F {
            // High tag number form: base-128 octets, the last without bit 8.
            loop {
                let b = *input.get(p).ok_or_else(|| malformed("truncated tag number"))?;
                p += 1;
                if p - pos > 6 {
                    return Err(malformed("tag number too long"));
                }
                if b & 0x80 == 0 {
                    break;
                }
            }
        }
        let tag_end = p;
        let l = *input.get(p).ok_or_else(|| malformed("truncated (length expected)"))?;
        p += 1;
        let len = if l < 0x80 {
            Some(usize::from(l))
        } else if l == 0x80 {
            None
        } else {
            let n = usize::from(l & 0x7F);
            if n > 4 {
                return Err(malformed("length field too long"));
            }
            let bytes = input.get(p..p + n).ok_or_else(|| malformed("truncated length"))?;
            p += n;
            Some(bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)))
        };
        if let Some(len) = len
            && len > input.len() - p
        {
            return Err(malformed("a length runs past the end of the input"));
        }
        Ok(Header { tag_start: pos, tag_end, first, len, body: p })
    }

    fn push(&mut self, node: Node) -> usize {
        self.nodes.push(node);
        self.nodes.len() - 1
    }

    /// Appends the data ranges of an OCTET STRING node (primitive or constructed) to
    /// `chunks`; returns their total length.
    fn collect_chunks(&mut self, node: usize) -> usize {
        match &self.nodes[node].body {
            Body::Primitive(s, e) => {
                self.chunks.push((*s, *e));
                e - s
            }
            Body::Joined { first, last, .. } => {
                // Already joined (a nested constructed OCTET STRING): reuse its ranges.
                let (first, last) = (*first, *last);
                let mut len = 0;
                for i in first..last {
                    let c = self.chunks[i];
                    self.chunks.push(c);
                    len += c.1 - c.0;
                }
                len
            }
            Body::Constructed(_) => 0,
        }
    }

    /// Joins a constructed BIT STRING: each chunk starts with its unused-bits octet,
    /// which must be zero except in the last chunk (X.690 §8.6.4).
    fn join_bits(&mut self, children: &[usize]) -> Result<Node> {
        let first_chunk = self.chunks.len();
        let mut len = 1usize;
        let mut unused = 0u8;
        for (i, &c) in children.iter().enumerate() {
            let node = &self.nodes[c];
            let (Body::Primitive(s, e), TAG_BIT_STRING) = (&node.body, node.tag_byte(self.input)) else {
                return Err(malformed("a constructed BIT STRING holds something other than primitive BIT STRINGs"));
            };
            let (s, e) = (*s, *e);
            let Some(&bits) = self.input.get(s) else {
                return Err(malformed("empty BIT STRING chunk"));
            };
            if bits > 7 || (bits != 0 && (i + 1 != children.len() || e - s == 1)) {
                return Err(malformed("bad unused-bits count in a BIT STRING chunk"));
            }
            unused = bits;
            self.chunks.push((s + 1, e));
            len += e - s - 1;
        }
        let tag = Tag::Byte(TAG_BIT_STRING);
        Ok(Node { tag, len, body: Body::Joined { first: first_chunk, last: self.chunks.len(), unused: Some(unused) } })
    }

    /// The size of a node's DER encoding (identifier + length + contents).
    fn encoded_len(&self, node: usize) -> usize {
        let n = &self.nodes[node];
        n.tag.len() + length_octets(n.len) + n.len
    }

    fn write(&self, node: usize, out: &mut Vec<u8>) {
        let n = &self.nodes[node];
        match n.tag {
            Tag::Input(s, e) => out.extend_from_slice(&self.input[s..e]),
            Tag::Byte(b) => out.push(b),
        }
        write_length(n.len, out);
        match &n.body {
            Body::Primitive(s, e) => out.extend_from_slice(&self.input[*s..*e]),
            Body::Constructed(children) => {
                for &c in children {
                    self.write(c, out);
                }
            }
            Body::Joined { first, last, unused } => {
                if let Some(u) = unused {
                    out.push(*u);
                }
                for &(s, e) in &self.chunks[*first..*last] {
                    out.extend_from_slice(&self.input[s..e]);
                }
            }
        }
    }
}

impl Node {
    /// The first identifier octet.
    fn tag_byte(&self, input: &[u8]) -> u8 {
        match self.tag {
            Tag::Input(s, _) => input.get(s).copied().unwrap_or(0),
            Tag::Byte(b) => b,
        }
    }
}

impl Tag {
    fn len(&self) -> usize {
        match self {
            Tag::Input(s, e) => e - s,
            Tag::Byte(_) => 1,
        }
    }
}

/// The number of octets of a DER length (X.690 §10.1: shortest form).
fn length_octets(len: usize) -> usize {
    if len < 0x80 { 1 } else { 1 + (usize::BITS - len.leading_zeros()).div_ceil(8) as usize }
}

fn write_length(len: usize, out: &mut Vec<u8>) {
    if len < 0x80 {
        // Fits in 7 bits: the short form.
        out.push(len as u8);
        return;
    }
    let n = length_octets(len) - 1;
    out.push(0x80 | n as u8);
    for i in (0..n).rev() {
        out.push((len >> (8 * i)) as u8);
    }
}

fn malformed(reason: impl std::fmt::Display) -> Error {
    Error::malformed("BER", reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indefinite_sequence_becomes_definite() {
        let ber = [0x30, 0x80, 0x02, 0x01, 0x05, 0x00, 0x00];
        assert_eq!(to_der(&ber).unwrap(), [0x30, 0x03, 0x02, 0x01, 0x05]);
    }

    #[test]
    fn constructed_octet_string_is_joined() {
        let ber = [0x24, 0x80, 0x04, 0x02, 0xAA, 0xBB, 0x24, 0x03, 0x04, 0x01, 0xCC, 0x00, 0x00];
        assert_eq!(to_der(&ber).unwrap(), [0x04, 0x03, 0xAA, 0xBB, 0xCC]);
    }

    #[test]
    fn constructed_bit_string_is_joined() {
        let ber = [0x23, 0x80, 0x03, 0x02, 0x00, 0xAA, 0x03, 0x02, 0x04, 0xB0, 0x00, 0x00];
        assert_eq!(to_der(&ber).unwrap(), [0x03, 0x03, 0x04, 0xAA, 0xB0]);
    }

    #[test]
    fn encrypted_content_is_joined_but_explicit_content_is_not() {
        // SEQUENCE { OID, SEQUENCE {}, [0] { 04 01 AA, 04 01 BB } }
        let eci = [
            0x30, 0x80, 0x06, 0x01, 0x2A, 0x30, 0x00, 0xA0, 0x80, 0x04, 0x01, 0xAA, 0x04, 0x01, 0xBB, 0x00, 0x00, 0x00,
            0x00,
        ];
        assert_eq!(to_der(&eci).unwrap(), [0x30, 0x09, 0x06, 0x01, 0x2A, 0x30, 0x00, 0x80, 0x02, 0xAA, 0xBB]);
        // SEQUENCE { OID, [0] EXPLICIT OCTET STRING }: the [0] stays.
        let eci = [0x30, 0x80, 0x06, 0x01, 0x2A, 0xA0, 0x80, 0x04, 0x01, 0xAA, 0x00, 0x00, 0x00, 0x00];
        assert_eq!(to_der(&eci).unwrap(), [0x30, 0x08, 0x06, 0x01, 0x2A, 0xA0, 0x03, 0x04, 0x01, 0xAA]);
    }

    #[test]
    fn long_lengths_are_shortened_and_large_ones_kept() {
        assert_eq!(to_der(&[0x04, 0x81, 0x01, 0xAA]).unwrap(), [0x04, 0x01, 0xAA]);
        let mut big = vec![0x04, 0x82, 0x01, 0x00];
        big.extend(std::iter::repeat_n(7u8, 256));
        assert_eq!(to_der(&big).unwrap(), big);
    }

    #[test]
    fn garbage_is_an_error() {
        for bad in [
            &[][..],
            &[0x30],
            &[0x30, 0x05, 0x02],
            &[0x04, 0x80, 0x00, 0x00],
            &[0x30, 0x80, 0x02, 0x01, 0x05],
            &[0x30, 0x89, 1, 2, 3, 4, 5, 6, 7, 8, 9],
            &[0x02, 0x01, 0x01, 0x00],
        ] {
            assert!(to_der(bad).is_err(), "{bad:02x?}");
        }
    }

    #[test]
    fn nesting_is_limited() {
        let mut deep = Vec::new();
        for _ in 0..(MAX_DEPTH + 2) {
            deep.extend([0x30, 0x80]);
        }
        deep.extend(std::iter::repeat_n(0u8, 2 * (MAX_DEPTH + 2)));
        assert!(to_der(&deep).is_err());
    }
}
