//! RFC 7468 text armor of CMS structures (label `CMS`, §9): how an encrypted form field
//! travels and is stored as text. [`armor`] writes the strict form; [`find`] finds every
//! armored block in text as a web page shows it, leniently (RFC 7468 §3 "lax"): the
//! base64 may be broken by any whitespace, or none at all (an `<input>` drops line breaks).

use std::ops::Range;

use base64::Engine as _;

/// The armor's label (RFC 7468 §9).
pub const LABEL: &str = "CMS";
/// The line that opens an armored block.
pub const BEGIN: &str = "-----BEGIN CMS-----";
/// The line that closes an armored block.
pub const END: &str = "-----END CMS-----";
/// Largest armored block read (base64 text between the lines); a larger one is refused.
pub const MAX_ARMOR: usize = 16 * 1024 * 1024;

/// `der` armored: the `BEGIN` line, base64 in lines of 64, the `END` line; LF line ends,
/// no trailing line break.
pub fn armor(der: &[u8]) -> String {
    let base64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = String::with_capacity(base64.len() + base64.len() / 64 + BEGIN.len() + END.len() + 4);
    out.push_str(BEGIN);
    out.push('\n');
    for line in base64.as_bytes().chunks(64) {
        out.push_str(&String::from_utf8_lossy(line));
        out.push('\n');
    }
    out.push_str(END);
    out
}

/// One armored block found in text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Found {
    /// Where it is in the text, from the `B` of `BEGIN` to the last `-` of `END`.
    pub range: Range<usize>,
    /// The DER it holds, or why it cannot be read (one sentence).
    pub der: Result<Vec<u8>, String>,
}

/// Every armored block in `text`, in order. A `BEGIN` line without an `END` line after it
/// is a block that cannot be read, running to the end of the text.
pub fn find(text: &str) -> Vec<Found> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(start) = text[at..].find(BEGIN).map(|i| at + i) {
        let body_start = start + BEGIN.len();
        let Some(body_end) = text[body_start..].find(END).map(|i| body_start + i) else {
            out.push(Found { range: start..text.len(), der: Err("the armor has no END line.".into()) });
            break;
        };
        let end = body_end + END.len();
        out.push(Found { range: start..end, der: decode(&text[body_start..body_end]) });
        at = end;
    }
    out
}

/// Whether `text`, without surrounding whitespace, is exactly one armored block that reads.
pub fn is_armored(text: &str) -> bool {
    let trimmed = text.trim();
    matches!(find(trimmed).as_slice(), [Found { range, der: Ok(_) }] if *range == (0..trimmed.len()))
}

/// The DER of an armor's body (the text between the lines).
fn decode(body: &str) -> Result<Vec<u8>, String> {
    if body.len() > MAX_ARMOR {
        return Err(format!("the armor is larger than {} MiB.", MAX_ARMOR / (1024 * 1024)));
    }
    let compact: Vec<u8> = body.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err("the armor is empty.".into());
    }
    if let Some(bad) = compact.iter().find(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))) {
        return Err(format!("the armor holds {:?}, which is not base64.", char::from(*bad)));
    }
    let der = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .map_err(|e| format!("the armor's base64 is broken ({e})."))?;
    // A ContentInfo is a SEQUENCE: anything else is not CMS.
    if der.first() != Some(&0x30) {
        return Err("the armor does not hold a CMS structure.".into());
    }
    Ok(der)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn armor_and_find_round_trip_with_any_whitespace() {
        let der: Vec<u8> = [0x30, 0x82].into_iter().chain((0..200u8).map(|i| i.wrapping_mul(7))).collect();
        let text = armor(&der);
        assert!(text.starts_with("-----BEGIN CMS-----\n") && text.ends_with("\n-----END CMS-----"));
        assert!(text.lines().all(|l| l.len() <= 64));
        assert!(is_armored(&text) && is_armored(&format!("  {text}\r\n")));
        for variant in [text.clone(), text.replace('\n', ""), text.replace('\n', "\r\n"), text.replace('\n', " ")] {
            let page = format!("<p>before {variant} after</p>");
            let found = find(&page);
            assert_eq!(found.len(), 1, "{variant}");
            assert_eq!(found[0].der.as_deref(), Ok(der.as_slice()));
            assert_eq!(&page[found[0].range.clone()], variant);
        }
        assert!(!is_armored(&format!("x{text}")));
        assert_eq!(find(&format!("{text} and {text}")).len(), 2);
    }

    #[test]
    fn broken_armor_is_named_never_a_panic() {
        let cases = [
            ("-----BEGIN CMS-----\nMIIB", "no END line"),
            ("-----BEGIN CMS----------END CMS-----", "empty"),
            ("-----BEGIN CMS-----\nMII<b>B\n-----END CMS-----", "not base64"),
            ("-----BEGIN CMS-----\nMIIBx\n-----END CMS-----", "base64 is broken"),
            ("-----BEGIN CMS-----\nAAAA\n-----END CMS-----", "not hold a CMS"),
        ];
        for (text, reason) in cases {
            let found = find(text);
            assert_eq!(found.len(), 1, "{text}");
            assert!(found[0].der.as_ref().is_err_and(|e| e.contains(reason)), "{text}: {:?}", found[0].der);
            assert!(!is_armored(text));
        }
        assert!(find("no armor -----BEGIN PGP-----").is_empty());
        assert!(find("ü-----BEGIN CMS-----é").first().is_some_and(|f| f.der.is_err()));
    }
}
