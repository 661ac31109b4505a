//! Signed records of web pages: a CMS SignedData whose encapsulated content is the exact
//! bytes a server sent, and whose signed attributes say where and when they were
//! received, so that the signer can later show what a page said.
//!
//! Two signed attributes besides RFC 5652's (content-type, message-digest, signing-time,
//! the time of signing) and SMIMECapabilities, both existing attribute types (the
//! project has no registered arc of its own, and the UUID arc 2.25 does not fit the
//! 32-bit arcs `const-oid` reads):
//!
//! ```text
//! labeledURI ATTRIBUTE ::= { WITH SYNTAX DirectoryString   -- RFC 2079
//!     ID 1.3.6.1.4.1.250.1.57 }           -- the page's URL, a UTF8String, no label
//! createTimestamp ATTRIBUTE ::= { WITH SYNTAX GeneralizedTime  -- X.501, RFC 4512 §3.4
//!     ID 2.5.18.1 }                        -- when the last byte of the page arrived
//! ```
//!
//! Each must appear exactly once, with exactly one value, in the one SignerInfo.

use std::time::SystemTime;

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use const_oid::ObjectIdentifier as Oid;
use der::asn1::GeneralizedTime;
use der::{Any, Decode};

use crate::sign::{attribute, encode_error, sign_data_with};
use crate::{Error, Identity, Result, SignOptions, algorithms};

/// `labeledURI` (RFC 2079): the URL of the recorded page.
pub const ID_LABELED_URI: Oid = Oid::new_unwrap("1.3.6.1.4.1.250.1.57");
/// `createTimestamp` (X.501): the time the recorded page was received.
pub const ID_CREATE_TIMESTAMP: Oid = Oid::new_unwrap("2.5.18.1");

/// Where and when a recorded page was received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRecord {
    /// The page's URL.
    pub url: String,
    /// When its last byte arrived (kept to the second).
    pub received: SystemTime,
}

/// Signs `page` (the exact bytes received) as an opaque SignedData (the bytes are its
/// eContent) carrying `record` in its signed attributes; DER `ContentInfo`.
pub fn sign_page(page: &[u8], record: &PageRecord, signer: &Identity, options: &SignOptions) -> Result<Vec<u8>> {
    let url = Any::encode_from(&record.url);
    let received = GeneralizedTime::from_system_time(record.received)
        .map_err(|e| encode_error("createTimestamp", e))
        .map(|time| Any::encode_from(&time))?;
    let extra = vec![attribute(ID_LABELED_URI, url)?, attribute(ID_CREATE_TIMESTAMP, received)?];
    sign_data_with(page, signer, options, false, extra)
}

/// The URL and time a page record's signer signed (BER or DER). This reads the
/// attributes only: whether the signature holds is [`crate::verify_signed_data`]'s
/// question, to be asked as well.
pub fn read_page_record(cms: &[u8]) -> Result<PageRecord> {
    let der = crate::ber::to_der(cms)?;
    let content_info = ContentInfo::from_der(&der).map_err(|e| Error::malformed("CMS ContentInfo", e))?;
    if content_info.content_type != algorithms::ID_SIGNED_DATA {
        return Err(Error::NotSmime("the record is not a CMS signed-data".into()));
    }
    let signed: SignedData = content_info.content.decode_as().map_err(|e| Error::malformed("CMS SignedData", e))?;
    let [signer] = signed.signer_infos.0.as_slice() else {
        return Err(not_a_record("it has not exactly one signer"));
    };
    let attributes = signer.signed_attrs.as_ref().ok_or_else(|| not_a_record("it has no signed attributes"))?;
    let single = |oid: Oid, name: &str| -> Result<Any> {
        let mut found = attributes.iter().filter(|a| a.oid == oid);
        match (found.next(), found.next()) {
            (Some(attr), None) if attr.values.len() == 1 => {
                attr.values.iter().next().cloned().ok_or_else(|| not_a_record(&format!("its {name} has no value")))
            }
            (None, _) => Err(not_a_record(&format!("it has no {name} attribute"))),
            _ => Err(not_a_record(&format!("its {name} attribute is not single"))),
        }
    };
    let url: String = single(ID_LABELED_URI, "URL (labeledURI)")?
        .decode_as()
        .map_err(|_| not_a_record("its URL is not a UTF8String"))?;
    let received: GeneralizedTime = single(ID_CREATE_TIMESTAMP, "received time (createTimestamp)")?
        .decode_as()
        .map_err(|_| not_a_record("its received time is not a GeneralizedTime"))?;
    Ok(PageRecord { url, received: received.to_system_time() })
}

fn not_a_record(why: &str) -> Error {
    Error::NotSmime(format!("not a page record: {why}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use der::Encode;
    use std::time::Duration;

    #[test]
    fn the_attributes_are_encoded_as_documented() {
        let url =
            attribute(ID_LABELED_URI, Any::encode_from(&"https://a.example/p?q=1".to_owned())).expect("attribute");
        // SEQUENCE { OID 1.3.6.1.4.1.250.1.57, SET { UTF8String "https://..." } }
        let der = url.to_der().expect("DER");
        assert_eq!(&der[..15], &[0x30, 0x26, 0x06, 0x09, 0x2b, 6, 1, 4, 1, 0x81, 0x7a, 1, 0x39, 0x31, 0x19]);
        assert_eq!(der[15], 0x0c, "UTF8String");
        assert_eq!(&der[17..], b"https://a.example/p?q=1");

        let time = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_632_245);
        let at = Any::encode_from(&GeneralizedTime::from_system_time(time).expect("time"));
        let der = attribute(ID_CREATE_TIMESTAMP, at).expect("attribute").to_der().expect("DER");
        // SEQUENCE { OID 2.5.18.1, SET { GeneralizedTime "20261207083045Z" } }
        let mut expected = vec![0x30, 0x18, 0x06, 0x03, 0x55, 0x12, 0x01, 0x31, 0x11, 0x18, 0x0f];
        expected.extend_from_slice(b"20261207083045Z");
        assert_eq!(der, expected);
    }

    #[test]
    fn records_without_the_attributes_are_named() {
        for (bad, why) in [
            (&b""[..], "malformed"),
            (b"\x30\x03\x02\x01\x00", "malformed"),
            (
                &[0x30, 0x0f, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01, 0xa0, 0x02, 0x04, 0x00]
                    [..],
                "not a CMS signed-data",
            ),
        ] {
            let err = read_page_record(bad).expect_err("not a record").to_string();
            assert!(err.contains(why), "{err}");
        }
    }
}
