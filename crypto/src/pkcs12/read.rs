//! `read_identity`: PFX → MAC check → AuthenticatedSafe → SafeContents → bags → Identity.

use super::asn1::{CertBag, ContentInfo, EncryptedData, EncryptedPrivateKeyInfo, Pfx, SafeBag};
use super::budget::Budget;
use super::pbe::{self, Passwords};
use super::{mac, oids};
use crate::algorithms::{ID_DATA, ID_ENVELOPED_DATA, ID_SIGNED_DATA};
use crate::{Certificate, Error, Identity, PrivateKey, Result};
use der::asn1::{AnyRef, OctetStringRef};
use der::{Decode, Encode, Tag, TagNumber, Tagged};
use zeroize::Zeroizing;

const WHAT: &str = "PKCS#12 file";

/// At most this many `ContentInfo`s in the AuthenticatedSafe (OpenSSL writes 2).
const MAX_CONTENT_INFOS: usize = 64;
/// At most this many bags in the whole file, nested ones included.
const MAX_BAGS: usize = 1024;
/// How deep `safeContentsBag`s may nest inside the top-level SafeContents.
const MAX_NESTING: usize = 2;

/// Opens a PKCS#12 file with `passphrase`: verifies the MAC, decrypts the bags and
/// returns the key with the certificate that matches it and the other certificates.
///
/// The passphrase is taken as bytes (UTF-8 for non-ASCII, as OpenSSL 3 and NSS write
/// files), with no newline stripping. Errors: [`Error::WrongPassphrase`] when the MAC
/// does not verify or a decryption fails its padding check; [`Error::Malformed`] for input
/// that is not a PKCS#12 PFX; [`Error::Unsupported`] for algorithms outside the module's
/// list; [`Error::Key`] for a file without a key or certificate, or over the work limits;
/// [`Error::KeyMismatch`] when no certificate belongs to a key.
pub fn read_identity(der: &[u8], passphrase: &[u8]) -> Result<Identity> {
    let input = normalise(der);
    let pfx = Pfx::from_der(&input).map_err(|e| Error::malformed(WHAT, e))?;
    if pfx.version != 3 {
        return Err(Error::Unsupported { what: "PKCS#12 version", oid: pfx.version.to_string() });
    }
    let auth_safe = match pfx.auth_safe.content_type {
        ID_DATA => data_octets(&pfx.auth_safe)?,
        ID_SIGNED_DATA => {
            return Err(Error::Unsupported {
                what: "PKCS#12 public-key integrity mode",
                oid: ID_SIGNED_DATA.to_string(),
            });
        }
        other => return Err(Error::Unsupported { what: "PKCS#12 authSafe content", oid: other.to_string() }),
    };

    let mut budget = Budget::default();
    let mut passwords = Passwords::new(passphrase);
    let authenticated = match &pfx.mac_data {
        Some(mac_data) => {
            let mut ok = mac::verifies(mac_data, auth_safe, &passwords.bmp, &mut budget)?;
            // An empty passphrase is a two-zero-byte BMPString to OpenSSL 3 but an empty
            // octet string to some writers (OpenSSL's "NULL password"); accept both.
            if !ok && passphrase.is_empty() {
                let empty = Zeroizing::new(Vec::new());
                if mac::verifies(mac_data, auth_safe, &empty, &mut budget)? {
                    passwords.bmp = empty;
                    ok = true;
                }
            }
            if !ok {
                return Err(Error::WrongPassphrase);
            }
            true
        }
        // No MAC (`openssl pkcs12 -nomac`): see "Files without a MAC" in the module docs.
        None => false,
    };

    let mut reader = Reader { passwords, budget, authenticated, bags: 0, keys: Vec::new(), certificates: Vec::new() };
    let safe = normalise(auth_safe);
    let infos: Vec<ContentInfo<'_>> = Vec::from_der(&safe).map_err(|e| Error::malformed(WHAT, e))?;
    if infos.len() > MAX_CONTENT_INFOS {
        return Err(Error::malformed(WHAT, "too many ContentInfos in the AuthenticatedSafe"));
    }
    for info in &infos {
        reader.content_info(info)?;
    }
    reader.into_identity()
}

/// The bags collected while walking one file.
struct Reader {
    passwords: Passwords,
    budget: Budget,
    /// The MAC verified: decrypted content that fails to parse is damage, not a wrong
    /// passphrase.
    authenticated: bool,
    bags: usize,
    /// PKCS#8 PrivateKeyInfo DER, in file order.
    keys: Vec<Zeroizing<Vec<u8>>>,
    certificates: Vec<Certificate>,
}

impl Reader {
    /// One element of the AuthenticatedSafe: `data` (plain SafeContents) or
    /// `encryptedData` (password-encrypted SafeContents). RFC 7292 §4.1.
    fn content_info(&mut self, info: &ContentInfo<'_>) -> Result<()> {
        match info.content_type {
            ID_DATA => {
                let octets = data_octets(info)?;
                self.safe_contents(octets, 0)
            }
            oids::ID_ENCRYPTED_DATA => {
                let content = info.content.ok_or_else(|| Error::malformed(WHAT, "encryptedData without content"))?;
                let encrypted: EncryptedData<'_> = content.decode_as().map_err(|e| Error::malformed(WHAT, e))?;
                let eci = encrypted.encrypted_content_info;
                if eci.content_type != ID_DATA {
                    return Err(Error::malformed(WHAT, "encryptedData does not hold data"));
                }
                let ciphertext = encrypted_content(eci.encrypted_content)?;
                let plain =
                    pbe::decrypt(&eci.content_encryption_algorithm, &self.passwords, &ciphertext, &mut self.budget)?;
                self.safe_contents(&plain, 0).map_err(|e| self.decrypted_damage(e))
            }
            ID_ENVELOPED_DATA => {
                Err(Error::Unsupported { what: "PKCS#12 public-key privacy mode", oid: ID_ENVELOPED_DATA.to_string() })
            }
            other => Err(Error::Unsupported { what: "PKCS#12 content type", oid: other.to_string() }),
        }
    }

    /// RFC 7292 §4.2: `SafeContents ::= SEQUENCE OF SafeBag`. CRL, secret and unknown
    /// bags are skipped.
    fn safe_contents(&mut self, der: &[u8], depth: usize) -> Result<()> {
        let der = normalise(der);
        let bags: Vec<SafeBag<'_>> = Vec::from_der(&der).map_err(|e| Error::malformed(WHAT, e))?;
        for bag in &bags {
            self.bags += 1;
            if self.bags > MAX_BAGS {
                return Err(Error::malformed(WHAT, "too many bags"));
            }
            match bag.bag_id {
                oids::KEY_BAG => {
                    let key = bag.bag_value.to_der().map_err(|e| Error::malformed(WHAT, e))?;
                    self.keys.push(Zeroizing::new(key));
                }
                oids::PKCS8_SHROUDED_KEY_BAG => {
                    let info: EncryptedPrivateKeyInfo<'_> =
                        bag.bag_value.decode_as().map_err(|e| Error::malformed(WHAT, e))?;
                    let key = pbe::decrypt(
                        &info.encryption_algorithm,
                        &self.passwords,
                        info.encrypted_data.as_bytes(),
                        &mut self.budget,
                    )?;
                    self.keys.push(key);
                }
                oids::CERT_BAG => {
                    let cert: CertBag<'_> = bag.bag_value.decode_as().map_err(|e| Error::malformed(WHAT, e))?;
                    if cert.cert_id == oids::X509_CERTIFICATE {
                        let octets: &OctetStringRef =
                            cert.cert_value.decode_as().map_err(|e| Error::malformed(WHAT, e))?;
                        let der = normalise(octets.as_bytes());
                        let certificate = Certificate::from_der(&der).map_err(|e| Error::malformed(WHAT, e))?;
                        self.certificates.push(certificate);
                    }
                }
                oids::SAFE_CONTENTS_BAG => {
                    if depth >= MAX_NESTING {
                        return Err(Error::malformed(WHAT, "safeContentsBags nested too deeply"));
                    }
                    let nested = bag.bag_value.to_der().map_err(|e| Error::malformed(WHAT, e))?;
                    self.safe_contents(&nested, depth + 1)?;
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// Decrypted content that does not parse: with a verified MAC the file is damaged (or
    /// its parts were encrypted under another password); without one, a wrong passphrase
    /// that happened to leave valid padding is the likely cause.
    fn decrypted_damage(&self, error: Error) -> Error {
        match error {
            Error::Malformed { .. } if !self.authenticated => Error::WrongPassphrase,
            other => other,
        }
    }

    /// Pairs the first key that has a certificate with it; the other certificates become
    /// the chain, in file order.
    fn into_identity(mut self) -> Result<Identity> {
        if self.keys.is_empty() {
            return Err(Error::Key { what: WHAT, reason: "the file holds no private key".into() });
        }
        if self.certificates.is_empty() {
            return Err(Error::Key { what: WHAT, reason: "the file holds no certificate".into() });
        }
        let mut first_error = None;
        for der in &self.keys {
            let key = match PrivateKey::from_pkcs8_der(der) {
                Ok(key) => key,
                Err(e) => {
                    let e = match e {
                        Error::Key { .. } if !self.authenticated => Error::WrongPassphrase,
                        other => other,
                    };
                    first_error.get_or_insert(e);
                    continue;
                }
            };
            if let Some(index) = self.certificates.iter().position(|c| key.matches(c)) {
                let certificate = self.certificates.remove(index);
                let chain: Vec<Certificate> = self.certificates.into_iter().filter(|c| *c != certificate).collect();
                return Identity::new(key, certificate, chain);
            }
        }
        Err(first_error.unwrap_or(Error::KeyMismatch))
    }
}

/// The octets of a `data` ContentInfo: `content [0] EXPLICIT OCTET STRING`.
fn data_octets<'a>(info: &ContentInfo<'a>) -> Result<&'a [u8]> {
    let content = info.content.ok_or_else(|| Error::malformed(WHAT, "data without content"))?;
    let octets: &'a OctetStringRef = content.decode_as().map_err(|e| Error::malformed(WHAT, e))?;
    Ok(octets.as_bytes())
}

/// `encryptedContent [0] IMPLICIT OCTET STRING`, primitive (DER) or constructed from
/// OCTET STRING segments (BER, as NSS and Windows write it when not normalised).
fn encrypted_content(content: Option<AnyRef<'_>>) -> Result<Vec<u8>> {
    let content = content.ok_or_else(|| Error::malformed(WHAT, "encryptedData without encrypted content"))?;
    match content.tag() {
        Tag::ContextSpecific { number: TagNumber(0), constructed: false } => Ok(content.value().to_vec()),
        Tag::ContextSpecific { number: TagNumber(0), constructed: true } => {
            let mut reader = der::SliceReader::new(content.value()).map_err(|e| Error::malformed(WHAT, e))?;
            let mut segments: Vec<&OctetStringRef> = Vec::new();
            while !der::Reader::is_finished(&reader) {
                segments.push(der::Reader::decode(&mut reader).map_err(|e| Error::malformed(WHAT, e))?);
            }
            Ok(segments.iter().flat_map(|s| s.as_bytes()).copied().collect())
        }
        other => Err(Error::malformed(WHAT, format!("encryptedContent has tag {other}"))),
    }
}

/// `bytes` as DER: BER (indefinite lengths, constructed strings) is re-encoded by
/// [`crate::ber::to_der`]; anything it cannot read is passed on as is, for the DER decoder
/// to reject with a precise message. The copy is wiped on drop: it may be a decrypted bag.
fn normalise(bytes: &[u8]) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(crate::ber::to_der(bytes).unwrap_or_else(|_| bytes.to_vec()))
}
