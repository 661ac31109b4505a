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
//! The work is linear in the input size and needs little memory: a first pass
//! validates the input and records the DER length of every constructed value (one slot
//! each, in pre-order), a second pass writes the output once. Nesting is limited to
//! [`MAX_DEPTH`]; every length is checked against the input.

use crate::{Error, Result};

/// The deepest nesting of constructed values accepted (CMS needs about 15).
pub const MAX_DEPTH: usize = 64;

/// Re-encodes a BER TLV tree as DER: definite lengths, constructed OCTET/BIT STRINGs
/// (also under IMPLICIT context tags, e.g. `encryptedContent [0]`) joined into primitive
/// ones. DER input comes back unchanged. Bounded recursion; never panics.
pub fn to_der(input: &[u8]) -> Result<Vec<u8>> {
    let mut walker = Walker { input, slots: Vec::new(), next: 0 };
    let (total, end) = walker.measure(0, 0, false)?;
    if end != input.len() {
        return Err(malformed(format!("{} bytes of trailing data after the outer value", input.len() - end)));
    }
    let mut out = Vec::with_capacity(total);
    walker.emit(0, &mut out)?;
    Ok(out)
}

const TAG_BIT_STRING: u8 = 0x03;
const TAG_OCTET_STRING: u8 = 0x04;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;
const CONSTRUCTED: u8 = 0x20;
const CONTEXT_0_CONSTRUCTED: u8 = 0xA0;
const CONTEXT_0_PRIMITIVE: u8 = 0x80;

/// What the first pass decided about one constructed value.
#[derive(Clone, Copy)]
struct Slot {
    /// Length of the DER contents.
    len: usize,
    join: Join,
}

#[derive(Clone, Copy)]
enum Join {
    /// Stays constructed.
    No,
    /// Joined OCTET STRING chunks, written under this (primitive) identifier octet.
    Octets(u8),
    /// Joined BIT STRING chunks with this unused-bits count.
    Bits(u8),
}

struct Walker<'a> {
    input: &'a [u8],
    /// One per constructed value outside joined strings, in pre-order.
    slots: Vec<Slot>,
    /// The next slot the second pass consumes.
    next: usize,
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

impl Header {
    fn constructed(&self) -> bool {
        self.first & CONSTRUCTED != 0
    }

    /// A one-octet identifier equal to `tag`.
    fn is(&self, tag: u8) -> bool {
        self.first == tag && self.tag_end == self.tag_start + 1
    }
}

impl Walker<'_> {
    /// First pass over the value at `pos`: validates it, fills the slots of its
    /// constructed values and returns (size of its DER encoding, offset after it).
    /// `join_context_0` is set where a constructed `[0]` is an IMPLICIT OCTET STRING.
    fn measure(&mut self, pos: usize, depth: usize, join_context_0: bool) -> Result<(usize, usize)> {
        if depth > MAX_DEPTH {
            return Err(malformed(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let h = self.header(pos)?;
        let tag_len = h.tag_end - h.tag_start;
        if !h.constructed() {
            let len = h.len.ok_or_else(|| malformed("indefinite length on a primitive value"))?;
            if h.is(0) {
                return Err(malformed("unexpected end-of-contents marker"));
            }
            return Ok((tag_len + length_octets(len) + len, h.body + len));
        }
        let slot = self.slots.len();
        self.slots.push(Slot { len: 0, join: Join::No });
        let (tag_len, content_len, join, end) = if h.is(TAG_OCTET_STRING | CONSTRUCTED) {
            let (len, end) = self
                .measure_octets(&h, depth)?
                .ok_or_else(|| malformed("a constructed OCTET STRING holds something other than OCTET STRINGs"))?;
            (1, len, Join::Octets(TAG_OCTET_STRING), end)
        } else if h.is(TAG_BIT_STRING | CONSTRUCTED) {
            let (len, unused, end) = self.measure_bits(&h)?;
            (1, len, Join::Bits(unused), end)
        } else if let Some((len, end)) =
            if join_context_0 && h.is(CONTEXT_0_CONSTRUCTED) { self.measure_octets(&h, depth)? } else { None }
        {
            (1, len, Join::Octets(CONTEXT_0_PRIMITIVE), end)
        } else {
            let (len, end) = self.measure_children(&h, depth)?;
            (tag_len, len, Join::No, end)
        };
        self.slots[slot] = Slot { len: content_len, join };
        Ok((tag_len + length_octets(content_len) + content_len, end))
    }

    /// The children of an ordinary constructed value: (DER contents length, end).
    fn measure_children(&mut self, h: &Header, depth: usize) -> Result<(usize, usize)> {
        let mut pos = h.body;
        let mut total = 0usize;
        // For EncryptedContentInfo: SEQUENCE { OID, SEQUENCE, [0] IMPLICIT OCTET STRING }.
        let mut shape = [0u8; 2];
        let mut index = 0usize;
        while let Some(child) = self.next_child(h, pos)? {
            let join = h.is(TAG_SEQUENCE) && index == 2 && shape == [TAG_OID, TAG_SEQUENCE];
            if index < 2 {
                let ch = self.header(child)?;
                shape[index] = if ch.tag_end == ch.tag_start + 1 { ch.first } else { 0 };
            }
            let (len, next) = self.measure(child, depth + 1, join)?;
            total += len;
            pos = next;
            index += 1;
        }
        Ok((total, self.end_of(h, pos)))
    }

    /// The chunks of a constructed OCTET STRING (or `[0]` IMPLICIT one): the joined
    /// length and end, or `None` when a child is not an OCTET STRING.
    fn measure_octets(&self, h: &Header, depth: usize) -> Result<Option<(usize, usize)>> {
        if depth > MAX_DEPTH {
            return Err(malformed(format!("nested deeper than {MAX_DEPTH} levels")));
        }
        let mut pos = h.body;
        let mut total = 0usize;
        while let Some(child) = self.next_child(h, pos)? {
            let ch = self.header(child)?;
            if ch.is(TAG_OCTET_STRING) {
                let len = ch.len.ok_or_else(|| malformed("indefinite length on a primitive value"))?;
                total += len;
                pos = ch.body + len;
            } else if ch.is(TAG_OCTET_STRING | CONSTRUCTED) {
                let Some((len, end)) = self.measure_octets(&ch, depth + 1)? else { return Ok(None) };
                total += len;
                pos = end;
            } else {
                return Ok(None);
            }
        }
        Ok(Some((total, self.end_of(h, pos))))
    }

    /// The chunks of a constructed BIT STRING: each a primitive BIT STRING whose first
    /// octet (unused bits) is zero except in the last one (X.690 §8.6.4).
    /// Returns (joined contents length incl. the unused-bits octet, unused bits, end).
    fn measure_bits(&self, h: &Header) -> Result<(usize, u8, usize)> {
        let mut pos = h.body;
        let mut total = 1usize;
        let mut unused = 0u8;
        while let Some(child) = self.next_child(h, pos)? {
            let ch = self.header(child)?;
            let len = match ch.len {
                Some(len) if ch.is(TAG_BIT_STRING) && len > 0 => len,
                _ => return Err(malformed("a constructed BIT STRING holds something other than BIT STRINGs")),
            };
            if unused != 0 {
                return Err(malformed("unused bits in a BIT STRING chunk that is not the last"));
            }
            unused = self.input.get(ch.body).copied().unwrap_or(8);
            if unused > 7 || (unused != 0 && len == 1) {
                return Err(malformed("bad unused-bits count in a BIT STRING chunk"));
            }
            total += len - 1;
            pos = ch.body + len;
        }
        Ok((total, unused, self.end_of(h, pos)))
    }

    /// The offset of the next child of `h` at `pos`, or `None` at its end.
    fn next_child(&self, h: &Header, pos: usize) -> Result<Option<usize>> {
        match h.len {
            Some(len) if pos == h.body + len => Ok(None),
            Some(len) if pos > h.body + len => Err(malformed("a child overruns its parent's length")),
            None if self.input.get(pos..pos + 2) == Some(&[0, 0]) => Ok(None),
            _ if pos >= self.input.len() => Err(malformed("missing end-of-contents")),
            _ => Ok(Some(pos)),
        }
    }

    /// The offset after a constructed value whose last child ended at `pos`.
    fn end_of(&self, h: &Header, pos: usize) -> usize {
        if h.len.is_some() { pos } else { pos + 2 }
    }

    /// Second pass: writes the DER of the value at `pos`; returns the offset after it.
    fn emit(&mut self, pos: usize, out: &mut Vec<u8>) -> Result<usize> {
        let h = self.header(pos)?;
        if !h.constructed() {
            let len = h.len.unwrap_or(0);
            out.extend_from_slice(self.bytes(h.tag_start, h.tag_end)?);
            write_length(len, out);
            out.extend_from_slice(self.bytes(h.body, h.body + len)?);
            return Ok(h.body + len);
        }
        let slot = *self.slots.get(self.next).ok_or_else(|| malformed("internal: slot missing"))?;
        self.next += 1;
        match slot.join {
            Join::No => {
                out.extend_from_slice(self.bytes(h.tag_start, h.tag_end)?);
                write_length(slot.len, out);
                let mut pos = h.body;
                while let Some(child) = self.next_child(&h, pos)? {
                    pos = self.emit(child, out)?;
                }
                Ok(self.end_of(&h, pos))
            }
            Join::Octets(tag) => {
                out.push(tag);
                write_length(slot.len, out);
                self.emit_chunks(&h, 0, out)
            }
            Join::Bits(unused) => {
                out.push(TAG_BIT_STRING);
                write_length(slot.len, out);
                out.push(unused);
                self.emit_chunks(&h, 1, out)
            }
        }
    }

    /// Copies the contents of the string chunks under `h`, skipping `skip` leading
    /// octets of each (the unused-bits octet of BIT STRING chunks).
    fn emit_chunks(&self, h: &Header, skip: usize, out: &mut Vec<u8>) -> Result<usize> {
        let mut pos = h.body;
        while let Some(child) = self.next_child(h, pos)? {
            let ch = self.header(child)?;
            pos = match ch.len {
                Some(len) if !ch.constructed() => {
                    out.extend_from_slice(self.bytes(ch.body + skip, ch.body + len)?);
                    ch.body + len
                }
                _ => self.emit_chunks(&ch, skip, out)?,
            };
        }
        Ok(self.end_of(h, pos))
    }

    /// `input[start..end]`, checked.
    fn bytes(&self, start: usize, end: usize) -> Result<&[u8]> {
        self.input.get(start..end).ok_or_else(|| malformed("truncated"))
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
        assert_eq!(to_der(&ber).expect("to_der"), [0x30, 0x03, 0x02, 0x01, 0x05]);
    }

    #[test]
    fn constructed_octet_string_is_joined() {
        let ber = [0x24, 0x80, 0x04, 0x02, 0xAA, 0xBB, 0x24, 0x03, 0x04, 0x01, 0xCC, 0x00, 0x00];
        assert_eq!(to_der(&ber).expect("to_der"), [0x04, 0x03, 0xAA, 0xBB, 0xCC]);
    }

    #[test]
    fn constructed_bit_string_is_joined() {
        let ber = [0x23, 0x80, 0x03, 0x02, 0x00, 0xAA, 0x03, 0x02, 0x04, 0xB0, 0x00, 0x00];
        assert_eq!(to_der(&ber).expect("to_der"), [0x03, 0x03, 0x04, 0xAA, 0xB0]);
    }

    #[test]
    fn encrypted_content_is_joined_but_explicit_content_is_not() {
        // SEQUENCE { OID, SEQUENCE {}, [0] { 04 01 AA, 04 01 BB } }
        let eci = [
            0x30, 0x80, 0x06, 0x01, 0x2A, 0x30, 0x00, 0xA0, 0x80, 0x04, 0x01, 0xAA, 0x04, 0x01, 0xBB, 0x00, 0x00, 0x00,
            0x00,
        ];
        assert_eq!(to_der(&eci).expect("to_der"), [0x30, 0x09, 0x06, 0x01, 0x2A, 0x30, 0x00, 0x80, 0x02, 0xAA, 0xBB]);
        // SEQUENCE { OID, [0] EXPLICIT OCTET STRING }: the [0] stays.
        let eci = [0x30, 0x80, 0x06, 0x01, 0x2A, 0xA0, 0x80, 0x04, 0x01, 0xAA, 0x00, 0x00, 0x00, 0x00];
        assert_eq!(to_der(&eci).expect("to_der"), [0x30, 0x08, 0x06, 0x01, 0x2A, 0xA0, 0x03, 0x04, 0x01, 0xAA]);
    }

    #[test]
    fn context_0_holding_other_things_stays_constructed() {
        // SEQUENCE { OID, SEQUENCE {}, [0] { OCTET STRING, SEQUENCE {} } }: not a string.
        let ber = [
            0x30, 0x80, 0x06, 0x01, 0x2A, 0x30, 0x00, 0xA0, 0x80, 0x04, 0x01, 0xAA, 0x30, 0x00, 0x00, 0x00, 0x00, 0x00,
        ];
        let der = [0x30, 0x0C, 0x06, 0x01, 0x2A, 0x30, 0x00, 0xA0, 0x05, 0x04, 0x01, 0xAA, 0x30, 0x00];
        assert_eq!(to_der(&ber).expect("to_der"), der);
        assert_eq!(to_der(&der).expect("to_der"), der);
    }

    #[test]
    fn long_lengths_are_shortened_and_large_ones_kept() {
        assert_eq!(to_der(&[0x04, 0x81, 0x01, 0xAA]).expect("to_der"), [0x04, 0x01, 0xAA]);
        let mut big = vec![0x04, 0x82, 0x01, 0x00];
        big.extend(std::iter::repeat_n(7u8, 256));
        assert_eq!(to_der(&big).expect("to_der"), big);
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
