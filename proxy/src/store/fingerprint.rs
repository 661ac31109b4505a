//! [`Fingerprint`]: the SHA-256 of a certificate's DER encoding, which names its files in
//! both stores and identifies it on the command line.

use std::fmt;

use der::Encode as _;
use sha2::{Digest as _, Sha256};
use smime_crypto::Certificate;

/// SHA-256 over the DER certificate (what `openssl x509 -fingerprint -sha256` prints).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of `certificate`; `None` only if it cannot be re-encoded.
    pub fn of(certificate: &Certificate) -> Option<Self> {
        let der = certificate.to_der().ok()?;
        Some(Self(Sha256::digest(&der).into()))
    }

    /// 64 lower-case hex digits without separators: the file name stem.
    pub fn hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Parses 64 hex digits, with or without `:` separators, any case.
    pub fn parse(text: &str) -> Option<Self> {
        let digits = normalise_hex(text)?;
        if digits.len() != 64 {
            return None;
        }
        let mut bytes = [0u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(bytes))
    }

    /// True when `query` (hex digits, `:` allowed, any case, at least 8 digits) is a
    /// prefix of this fingerprint.
    pub fn starts_with(&self, query: &str) -> bool {
        normalise_hex(query).is_some_and(|q| q.len() >= 8 && self.hex().starts_with(&q))
    }
}

/// `AB:CD:...` as OpenSSL prints it.
impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({})", self.hex())
    }
}

/// Lower-case hex digits of `text` without `:`; `None` if anything else is in it.
fn normalise_hex(text: &str) -> Option<String> {
    let digits: String = text.trim().chars().filter(|c| *c != ':').collect::<String>().to_ascii_lowercase();
    (!digits.is_empty() && digits.chars().all(|c| c.is_ascii_hexdigit())).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_both_spellings_and_prefixes() {
        let fp = Fingerprint([0xab; 32]);
        assert_eq!(Fingerprint::parse(&fp.to_string()), Some(fp));
        assert_eq!(Fingerprint::parse(&fp.hex().to_uppercase()), Some(fp));
        assert_eq!(Fingerprint::parse("abab"), None);
        assert_eq!(Fingerprint::parse(&"zz".repeat(32)), None);
        assert!(fp.starts_with("AB:AB:AB:AB"));
        assert!(!fp.starts_with("abab"), "too short to be a prefix");
        assert!(!fp.starts_with("abababac"));
    }
}
