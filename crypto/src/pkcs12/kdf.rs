//! The PKCS#12 key derivation function (RFC 7292 Appendix B.2) and its password
//! encoding (Appendix B.1). It derives the MAC key (ID 3) of every `.p12` file, and the
//! key (ID 1) and IV (ID 2) of the legacy `pbeWithSHAAnd...` schemes.

use digest::Digest;
use digest::block_api::{BlockSizeUser, EagerHash};
use zeroize::{Zeroize, Zeroizing};

/// The purpose byte `ID` of RFC 7292 Appendix B.3.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Purpose {
    /// Key material for encryption or decryption.
    Key = 1,
    /// An initial value (IV).
    Iv = 2,
    /// Integrity key for MACing.
    Mac = 3,
}

/// The password as a BMPString with two trailing zero bytes (RFC 7292 Appendix B.1).
///
/// UTF-8 input becomes UTF-16BE (characters outside the BMP become surrogate pairs, as
/// OpenSSL writes them); input that is not UTF-8 is taken as Latin-1, byte by byte,
/// again as OpenSSL does (`OPENSSL_utf82uni` falls back to `OPENSSL_asc2uni`).
pub(super) fn bmp_password(passphrase: &[u8]) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(passphrase.len() * 2 + 2));
    match std::str::from_utf8(passphrase) {
        Ok(text) => {
            for unit in text.encode_utf16() {
                out.extend_from_slice(&unit.to_be_bytes());
            }
        }
        Err(_) => {
            for &byte in passphrase {
                out.extend_from_slice(&[0, byte]);
            }
        }
    }
    out.extend_from_slice(&[0, 0]);
    out
}

/// RFC 7292 Appendix B.2 with hash `D` (whose input block is v bytes): derives `n` bytes
/// for `purpose` from the encoded `password` (see [`bmp_password`]) and `salt`.
/// `iterations` must be at least 1 (the caller checks the upper bound).
pub(super) fn derive<D: EagerHash>(
    purpose: Purpose,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    n: usize,
) -> Zeroizing<Vec<u8>> {
    let u = <D as Digest>::output_size();
    let v = <D as BlockSizeUser>::block_size();
    // Steps 1-4: D = ID repeated, I = S || P with S and P each extended to a multiple of v.
    let diversifier = vec![purpose as u8; v];
    let mut input = Zeroizing::new(Vec::with_capacity(v * (salt.len().div_ceil(v) + password.len().div_ceil(v))));
    for part in [salt, password] {
        input.extend(part.iter().cycle().take(v * part.len().div_ceil(v)));
    }
    let mut out = Zeroizing::new(Vec::with_capacity(n));
    let mut a = digest::Output::<D>::default();
    let mut b = Zeroizing::new(vec![0u8; v]);
    while out.len() < n {
        // Step 6a: A_i = H^r(D || I).
        let mut hash = D::new();
        hash.update(&diversifier);
        hash.update(input.as_slice());
        hash.finalize_into(&mut a);
        for _ in 1..iterations {
            let mut hash = D::new();
            hash.update(&a);
            hash.finalize_into(&mut a);
        }
        let take = u.min(n - out.len());
        out.extend_from_slice(&a[..take]);
        if out.len() == n {
            break;
        }
        // Steps 6b-6c: B = A_i repeated to v bytes; I_j = (I_j + B + 1) mod 2^(8v).
        for (dst, src) in b.iter_mut().zip(a.iter().cycle()) {
            *dst = *src;
        }
        for block in input.chunks_mut(v) {
            let mut carry = 1u16;
            for (x, y) in block.iter_mut().zip(b.iter()).rev() {
                let sum = u16::from(*x) + u16::from(*y) + carry;
                *x = sum.to_be_bytes()[1];
                carry = sum >> 8;
            }
        }
    }
    a.as_mut_slice().zeroize();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn bmp_encoding() {
        assert_eq!(bmp_password(b"test").as_slice(), b"\0t\0e\0s\0t\0\0");
        assert_eq!(bmp_password(b"").as_slice(), b"\0\0");
        // U+00E9 in UTF-8, then a lone Latin-1 byte.
        assert_eq!(bmp_password("\u{e9}".as_bytes()).as_slice(), b"\0\xe9\0\0");
        assert_eq!(bmp_password(b"\xe9").as_slice(), b"\0\xe9\0\0");
        // U+1F600 is a surrogate pair.
        assert_eq!(bmp_password("\u{1f600}".as_bytes()).as_slice(), b"\xd8\x3d\xde\x00\0\0");
    }

    /// The test vectors circulated with OpenSSL's and Bouncy Castle's PKCS#12 code
    /// (password "smeg", SHA-1; also used in the RustCrypto and Go test suites).
    #[test]
    fn known_vectors_sha1() {
        let p = bmp_password(b"smeg");
        let salt = [0x0a, 0x58, 0xcf, 0x64, 0x53, 0x0d, 0x82, 0x3f];
        let key = derive::<sha1::Sha1>(Purpose::Key, &p, &salt, 1, 24);
        assert_eq!(hex(&key), "8aaae6297b6cb04642ab5b077851284eb7128f1a2a7fbca3");
        let iv = derive::<sha1::Sha1>(Purpose::Iv, &p, &salt, 1, 8);
        assert_eq!(hex(&iv), "79993dfe048d3b76");
    }

    /// Reference values computed independently by a direct transcription of Appendix B.2
    /// with Python's hashlib (not OpenSSL): several output blocks, so that the I_j update of
    /// step 6c is exercised, for SHA-256 (v = 64) and SHA-512 (v = 128).
    #[test]
    fn multi_block_vectors() {
        let p = bmp_password(b"test");
        let salt: Vec<u8> = (1..=16).collect();
        let mac = derive::<sha2::Sha256>(Purpose::Mac, &p, &salt, 3, 80);
        assert_eq!(
            hex(&mac),
            "599b393ef52641085b20de8bbe56afbf4e99616c6b00e8dc8e552c74c10dd64e\
             95d7c42741f440a0dcf48067f8313caef56381ca856503897e78cbd10c69611c\
             0faeb18ca0c3af8296d50c0f66c31f56"
        );
        let salt: Vec<u8> = (1..=8).collect();
        let key = derive::<sha2::Sha512>(Purpose::Key, &p, &salt, 1000, 100);
        assert_eq!(
            hex(&key),
            "a2e4b6bb2ece71bed4427104abc172c743e3b1d2f4f5e3a28bdb9558a959546a\
             557c6ddced5a5633c1d77241530566395034bc1261c6c4f2e9cd43271883375475\
             bd43354a632dbda33c10de3a4e0bd1517526cf0bfdca56c5634f47c4ff5f5c7f3e83d1"
        );
    }
}
