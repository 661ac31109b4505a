//! CMS SignedData verification (RFC 5652 §5.6, RFC 8551).
//!
//! Reads a ContentInfo(SignedData) in BER or DER, checks every SignerInfo on its own and
//! reports each (never an `Err` for a bad signature: errors are for input that cannot be
//! read at all). Signature schemes: RSA PKCS#1 v1.5 (`rsaEncryption` as OpenSSL writes it,
//! or `sha*WithRSAEncryption`), RSA-PSS with any salt length, ECDSA on P-256 / P-384 with
//! SHA-256/384/512, Ed25519 (RFC 8419); SHA-1 only when the caller allows it. Certificate
//! policy is `validate.rs`'s. The message layer (`message.rs`) decides what a set of
//! reports means for a message ("signed" = exactly one valid signer).
//!
//! ```text
//! SignerInfo ::= SEQUENCE {
//!   version CMSVersion,
//!   sid SignerIdentifier,
//!   digestAlgorithm DigestAlgorithmIdentifier,
//!   signedAttrs [0] IMPLICIT SignedAttributes OPTIONAL,
//!   signatureAlgorithm SignatureAlgorithmIdentifier,
//!   signature SignatureValue,
//!   unsignedAttrs [1] IMPLICIT UnsignedAttributes OPTIONAL }
//! SignedAttributes ::= SET SIZE (1..MAX) OF Attribute
//! ```

use crate::algorithms::{self, DigestKind};
use crate::capabilities::Capabilities;
use crate::sign::PssParams;
use crate::validate::{Purpose, TrustOptions, ValidatedChain, email_addresses, validate_certificate};
use crate::{Certificate, Error, Result};
use cms::cert::CertificateChoices;
use cms::content_info::ContentInfo;
use cms::signed_data::{SignedAttributes, SignedData, SignerIdentifier, SignerInfo};
use const_oid::ObjectIdentifier as Oid;
use der::asn1::OctetString;
use der::{Any, Decode, Encode, Tag, Tagged};
use pkcs1::DecodeRsaPublicKey;
use rsa::traits::PublicKeyParts;
use signature::hazmat::PrehashVerifier;
use spki::AlgorithmIdentifierOwned;
use std::time::SystemTime;
use x509_cert::ext::pkix::SubjectKeyIdentifier;
use x509_cert::time::Time;

/// How to verify.
#[derive(Debug, Clone, Default)]
pub struct VerifyOptions {
    /// Anchors, intermediates, CRLs.
    pub trust: TrustOptions,
    /// Validate as of this time instead of now (for old but correct signatures). The
    /// signing-time attribute must then also fall inside the certificate's validity.
    pub at: Option<SystemTime>,
    /// Accept SHA-1 signatures (refused by default, as Thunderbird does).
    pub allow_sha1: bool,
}

/// The verdict for one signer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureStatus {
    /// The signature is correct and the certificate passed validation.
    Valid,
    /// Why not, in one sentence.
    Invalid(String),
}

/// What was found out about one SignerInfo.
#[derive(Debug, Clone)]
pub struct SignerReport {
    /// The overall verdict.
    pub status: SignatureStatus,
    /// The signer certificate, when it was found in the SignedData.
    pub certificate: Option<Certificate>,
    /// Its subject, RFC 4514 style.
    pub subject: String,
    /// Its e-mail addresses.
    pub addresses: Vec<String>,
    /// The signing-time attribute.
    pub signing_time: Option<SystemTime>,
    /// Digest algorithm name ("SHA-256").
    pub digest: String,
    /// Signature algorithm name ("RSA PKCS#1 v1.5", "RSA-PSS", "ECDSA P-256", "Ed25519").
    pub algorithm: String,
    /// The validated chain, when validation succeeded.
    pub chain: Option<ValidatedChain>,
    /// Revocation data the sender put into the SignedData, for the caller to judge.
    pub embedded_revocation: EmbeddedRevocation,
    /// What the signer announced it can decrypt (its smimeCapabilities signed
    /// attribute), when present and readable.
    pub capabilities: Option<Capabilities>,
}

/// Revocation data carried in a SignedData's `crls` field (RFC 5652 §10.2.1): CRLs and
/// RFC 5940 OCSP responses, as DER, unjudged (the caller checks them with
/// `check_crl` / `check_ocsp_response`, as it would fetched ones).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmbeddedRevocation {
    /// CertificateLists.
    pub crls: Vec<Vec<u8>>,
    /// OCSPResponses (otherRevInfoFormat id-ri-ocsp-response).
    pub ocsp_responses: Vec<Vec<u8>>,
}

/// A verified SignedData.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The encapsulated content (opaque signing) or the detached content given.
    pub content: Vec<u8>,
    /// One report per SignerInfo, in order.
    pub signers: Vec<SignerReport>,
    /// All certificates the SignedData carried.
    pub certificates: Vec<Certificate>,
}

/// Verifies a `ContentInfo` holding `SignedData` (BER or DER). For a detached signature
/// pass the signed bytes as `detached_content`. An error means the structure could not be
/// read at all; signature and certificate failures are reported per signer.
///
/// A signer is [`SignatureStatus::Valid`] only when all of these hold, checked in this
/// order (the first failure is the reason given):
/// 1. its certificate is in the SignedData (or in `trust`), found by sid;
/// 2. the digest and signature algorithms are supported (SHA-1 only with `allow_sha1`)
///    and fit the certificate's key;
/// 3. a detached content, when also encapsulated, is identical to the eContent
///    (CVE-2018-18509: never verify one content and show another);
/// 4. with signed attributes: exactly one single-valued content-type equal to
///    eContentType and exactly one single-valued message-digest equal to the content's
///    digest, at most one signing-time (RFC 5652 §5.3, §11); without them the content
///    type must be id-data;
/// 5. the signature over DER(SignedAttributes) with the SET OF tag (or over the content
///    when there are none) is correct (RFC 5652 §5.4);
/// 6. the certificate validates for signing at `options.at` (or now), see
///    [`crate::validate_certificate`];
/// 7. the signing time, when present, lies inside the certificate's validity.
pub fn verify_signed_data(cms: &[u8], detached_content: Option<&[u8]>, options: &VerifyOptions) -> Result<Verified> {
    let parsed = parse_lenient(cms)?;

    let (content, substitution) = match (parsed.econtent.as_deref(), detached_content) {
        (Some(encapsulated), Some(detached)) => (detached.to_vec(), encapsulated != detached),
        (Some(encapsulated), None) => (encapsulated.to_vec(), false),
        (None, Some(detached)) => (detached.to_vec(), false),
        (None, None) => {
            return Err(Error::NotSmime("a detached signature was given without the content it signs".into()));
        }
    };

    let mut pool: Vec<&Certificate> = parsed.certificates.iter().collect();
    pool.extend(options.trust.intermediates.iter());
    pool.extend(options.trust.anchors.iter());
    let context = Context {
        content: &content,
        econtent_type: parsed.econtent_type,
        substitution,
        pool,
        presented: &parsed.certificates,
        options,
        at: options.at.unwrap_or_else(SystemTime::now),
    };
    let embedded = embedded_revocation(cms)
        .or_else(|| crate::ber::to_der(cms).ok().and_then(|der| embedded_revocation(&der)))
        .unwrap_or_default();
    let signers = parsed
        .signers
        .iter()
        .map(|(info, raw_attrs)| SignerReport {
            embedded_revocation: embedded.clone(),
            ..check_signer(info, raw_attrs.as_deref(), &context)
        })
        .collect();
    Ok(Verified { content, signers, certificates: parsed.certificates.clone() })
}

/// A SignedData read into owned parts. SignerInfos are kept in wire order together with
/// the raw bytes of their signed attributes: `der` sorts every SET OF while decoding, so
/// re-encoding the decoded attributes would not reproduce what a signer that did not
/// sort them signed, and the decoded SignerInfos would not be in message order.
struct Parsed {
    econtent_type: Oid,
    econtent: Option<Vec<u8>>,
    certificates: Vec<Certificate>,
    signers: Vec<(SignerInfo, Option<Vec<u8>>)>,
}

fn parse(der: &[u8]) -> Result<Parsed> {
    // ContentInfo ::= SEQUENCE { contentType ContentType, content [0] EXPLICIT ANY }
    let content_info = ContentInfo::from_der(der).map_err(|e| Error::malformed("CMS ContentInfo", e))?;
    if content_info.content_type != algorithms::ID_SIGNED_DATA {
        return Err(Error::NotSmime(format!("the CMS content is {}, not signed-data", content_info.content_type)));
    }
    let signed_data: SignedData =
        content_info.content.decode_as().map_err(|e| Error::malformed("CMS SignedData", e))?;

    let econtent = match &signed_data.encap_content_info.econtent {
        // eContent [0] EXPLICIT OCTET STRING: the digest covers the OCTET STRING's value only.
        Some(any) if any.tag() == Tag::OctetString => Some(any.value().to_vec()),
        Some(any) => {
            return Err(Error::malformed(
                "CMS SignedData",
                format!("eContent is a {}, not an OCTET STRING", any.tag()),
            ));
        }
        None => None,
    };
    let certificates = signed_data
        .certificates
        .iter()
        .flat_map(|set| set.0.iter())
        .filter_map(|choice| match choice {
            CertificateChoices::Certificate(c) => Some(c.clone()),
            CertificateChoices::Other(_) => None,
        })
        .collect();

    let mut signers = Vec::new();
    for raw in raw_signer_infos(der)? {
        let info = SignerInfo::from_der(raw).map_err(|e| Error::malformed("CMS SignerInfo", e))?;
        signers.push((info, raw_signed_attributes(raw)?));
    }
    if signers.len() != signed_data.signer_infos.0.len() {
        return Err(Error::malformed("CMS SignedData", "signerInfos could not be read in order"));
    }
    Ok(Parsed { econtent_type: signed_data.encap_content_info.econtent_type, econtent, certificates, signers })
}

/// [`parse`], after BER normalisation if needed, and once more without the embedded
/// revocation information if that is what fails: the engine never uses it (CRLs come
/// from the caller), and the `cms` crate rejects some of what real signers put there
/// (version-1 CRLs without a version field, RFC 5940 OCSP responses as otherRevInfo).
fn parse_lenient(cms: &[u8]) -> Result<Parsed> {
    let (der, error) = match parse(cms) {
        Ok(parsed) => return Ok(parsed),
        Err(first) => match crate::ber::to_der(cms) {
            Ok(der) if der != cms => match parse(&der) {
                Ok(parsed) => return Ok(parsed),
                Err(error) => (der, error),
            },
            _ => (cms.to_vec(), first),
        },
    };
    match without_revocation_info(&der) {
        Some(stripped) => parse(&stripped).map_err(|_| error),
        None => Err(error),
    }
}

/// The ContentInfo with its SignedData's `crls [1] IMPLICIT RevocationInfoChoices`
/// field removed, or `None` when there is none (or the DER cannot be walked).
fn without_revocation_info(der: &[u8]) -> Option<Vec<u8>> {
    let fields = children(single(der).ok()?.value).ok()?;
    let [content_type, explicit] = fields.as_slice() else { return None };
    let signed_data = single(explicit.value).ok()?;
    let parts = children(signed_data.value).ok()?;
    if explicit.tag != 0xA0 || !parts.iter().any(|part| part.tag == 0xA1) {
        return None;
    }
    let kept: Vec<u8> =
        parts.iter().filter(|part| part.tag != 0xA1).flat_map(|part| part.raw.iter().copied()).collect();
    let mut content_info = content_type.raw.to_vec();
    content_info.extend(encode_tlv(0xA0, &encode_tlv(0x30, &kept)));
    Some(encode_tlv(0x30, &content_info))
}

/// The `crls [1] IMPLICIT RevocationInfoChoices` of a DER ContentInfo holding SignedData:
/// `CertificateList`s, and `[1] OtherRevocationInfoFormat` entries of RFC 5940's
/// id-ri-ocsp-response; other formats are skipped. `None` when the DER cannot be walked.
fn embedded_revocation(der: &[u8]) -> Option<EmbeddedRevocation> {
    const ID_RI_OCSP_RESPONSE: [u8; 10] = [0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x10, 0x02];
    let fields = children(single(der).ok()?.value).ok()?;
    let explicit = fields.get(1).filter(|f| f.tag == 0xA0)?;
    let parts = children(single(explicit.value).ok()?.value).ok()?;
    let mut found = EmbeddedRevocation::default();
    let Some(crls) = parts.iter().find(|part| part.tag == 0xA1) else { return Some(found) };
    for choice in children(crls.value).ok()? {
        match choice.tag {
            0x30 => found.crls.push(choice.raw.to_vec()),
            0xA1 => {
                if let Ok([format, info]) = <[Tlv<'_>; 2]>::try_from(children(choice.value).ok()?)
                    && format.raw == ID_RI_OCSP_RESPONSE
                {
                    found.ocsp_responses.push(info.raw.to_vec());
                }
            }
            _ => {}
        }
    }
    Some(found)
}

/// A DER TLV with a single-byte tag.
fn encode_tlv(tag: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    match value.len() {
        len @ 0..=0x7f => out.push(len as u8),
        len => {
            let bytes = len.to_be_bytes();
            let skip = bytes.iter().take_while(|b| **b == 0).count();
            out.push(0x80 | (bytes.len() - skip) as u8);
            out.extend_from_slice(&bytes[skip..]);
        }
    }
    out.extend_from_slice(value);
    out
}

/// The raw SignerInfo TLVs, in wire order: ContentInfo → [0] → SignedData → last field.
fn raw_signer_infos(der: &[u8]) -> Result<Vec<&[u8]>> {
    let bad = |reason: &str| Error::malformed("CMS SignedData", reason.to_string());
    let content_info = single(der)?;
    let fields = children(content_info.value)?;
    let explicit = fields.get(1).filter(|f| f.tag == 0xA0).ok_or_else(|| bad("no content"))?;
    let signed_data = single(explicit.value)?;
    let fields = children(signed_data.value)?;
    let signer_infos = fields.last().filter(|f| f.tag == 0x31).ok_or_else(|| bad("no signerInfos"))?;
    Ok(children(signer_infos.value)?.into_iter().map(|tlv| tlv.raw).collect())
}

/// The raw `signedAttrs [0] IMPLICIT` field of a SignerInfo, re-tagged as the SET OF
/// (0x31) it is signed as (RFC 5652 §5.4).
fn raw_signed_attributes(signer_info: &[u8]) -> Result<Option<Vec<u8>>> {
    let fields = children(single(signer_info)?.value)?;
    // version, sid, digestAlgorithm, then signedAttrs [0] (tag 0xA0) when present.
    Ok(fields.get(3).filter(|f| f.tag == 0xA0).map(|f| {
        let mut set = f.raw.to_vec();
        if let Some(tag) = set.first_mut() {
            *tag = 0x31;
        }
        set
    }))
}

/// One DER TLV: its tag byte, the whole encoding and the value octets.
#[derive(Debug, Clone, Copy)]
struct Tlv<'a> {
    tag: u8,
    raw: &'a [u8],
    value: &'a [u8],
}

/// Reads the first TLV of `input` (DER: single-byte tags, definite lengths); returns it
/// and the rest. Every offset is checked, so no input can make it panic.
fn next_tlv(input: &[u8]) -> Result<(Tlv<'_>, &[u8])> {
    let bad = |reason: &str| Error::malformed("DER", reason.to_string());
    let (&tag, rest) = input.split_first().ok_or_else(|| bad("unexpected end of data"))?;
    if tag & 0x1f == 0x1f {
        return Err(bad("multi-byte tags are not used in CMS"));
    }
    let (&first, rest) = rest.split_first().ok_or_else(|| bad("unexpected end of data"))?;
    let (length, rest) = match first {
        0x00..=0x7f => (usize::from(first), rest),
        0x80 => return Err(bad("indefinite length")),
        _ => {
            let count = usize::from(first & 0x7f);
            if count > 4 {
                return Err(bad("length too large"));
            }
            let (bytes, rest) = rest.split_at_checked(count).ok_or_else(|| bad("unexpected end of data"))?;
            (bytes.iter().fold(0usize, |acc, &b| (acc << 8) | usize::from(b)), rest)
        }
    };
    let header_len = input.len() - rest.len();
    let value = rest.get(..length).ok_or_else(|| bad("length beyond the end of the data"))?;
    let raw = input.get(..header_len + length).ok_or_else(|| bad("length beyond the end of the data"))?;
    let rest = rest.get(length..).unwrap_or_default();
    Ok((Tlv { tag, raw, value }, rest))
}

/// `input` must be exactly one TLV.
fn single(input: &[u8]) -> Result<Tlv<'_>> {
    let (tlv, rest) = next_tlv(input)?;
    if !rest.is_empty() {
        return Err(Error::malformed("DER", "trailing data"));
    }
    Ok(tlv)
}

/// The TLVs inside a constructed value.
fn children(mut value: &[u8]) -> Result<Vec<Tlv<'_>>> {
    let mut out = Vec::new();
    while !value.is_empty() {
        let (tlv, rest) = next_tlv(value)?;
        out.push(tlv);
        value = rest;
    }
    Ok(out)
}

struct Context<'a> {
    content: &'a [u8],
    econtent_type: Oid,
    substitution: bool,
    pool: Vec<&'a Certificate>,
    presented: &'a [Certificate],
    options: &'a VerifyOptions,
    at: SystemTime,
}

fn check_signer(info: &SignerInfo, raw_attrs: Option<&[u8]>, context: &Context<'_>) -> SignerReport {
    let mut report = SignerReport {
        status: SignatureStatus::Valid,
        certificate: None,
        subject: String::new(),
        addresses: Vec::new(),
        signing_time: None,
        digest: info.digest_alg.oid.to_string(),
        algorithm: info.signature_algorithm.oid.to_string(),
        chain: None,
        embedded_revocation: EmbeddedRevocation::default(),
        capabilities: None,
    };
    if let Err(reason) = evaluate(info, raw_attrs, context, &mut report) {
        report.status = SignatureStatus::Invalid(reason);
    }
    report
}

/// Runs the checks of [`verify_signed_data`] for one signer, filling `report` on the way;
/// the error is the one-sentence reason.
fn evaluate(
    info: &SignerInfo,
    raw_attrs: Option<&[u8]>,
    context: &Context<'_>,
    report: &mut SignerReport,
) -> std::result::Result<(), String> {
    let certificate = find_signer(&info.sid, &context.pool)
        .ok_or_else(|| "the signer's certificate is not included in the message".to_string())?;
    report.certificate = Some(certificate.clone());
    report.subject = certificate.tbs_certificate().subject().to_string();
    report.addresses = email_addresses(certificate);

    let digest = DigestKind::from_oid(&info.digest_alg.oid)
        .ok_or_else(|| format!("unsupported digest algorithm {}", info.digest_alg.oid))?;
    report.digest = digest.name().to_string();
    let scheme = Scheme::select(info, digest, certificate)?;
    report.algorithm = scheme.name().to_string();
    if (digest == DigestKind::Sha1 || scheme.hash() == Some(DigestKind::Sha1)) && !context.options.allow_sha1 {
        return Err(SHA1_REFUSED.to_string());
    }
    if context.substitution {
        return Err("the signature carries its own copy of the content, which differs from the message \
                    content (content substitution)"
            .to_string());
    }

    let content_digest = digest.digest(context.content);
    let signed_message: &[u8] = match (&info.signed_attrs, raw_attrs) {
        (Some(attributes), Some(raw)) => {
            report.signing_time = check_signed_attributes(attributes, context.econtent_type, &content_digest)?;
            report.capabilities = single_value(attributes, algorithms::ID_SMIME_CAPABILITIES, "smimeCapabilities")
                .ok()
                .flatten()
                .and_then(Capabilities::from_attribute);
            raw
        }
        (None, None) => {
            if context.econtent_type != algorithms::ID_DATA {
                return Err("signed attributes are missing although the content is not plain data".to_string());
            }
            context.content
        }
        _ => return Err("the signed attributes cannot be read".to_string()),
    };

    scheme.verify(certificate, signed_message, info.signature.as_bytes())?;

    let chain =
        validate_certificate(certificate, context.presented, Purpose::Signing, &context.options.trust, context.at)
            .map_err(|problem| format!("the signer's {}", problem.to_string().trim_start_matches("the ")))?;
    report.chain = Some(chain);

    if let Some(signing_time) = report.signing_time {
        let validity = certificate.tbs_certificate().validity();
        if signing_time < validity.not_before.to_system_time() || signing_time > validity.not_after.to_system_time() {
            return Err(format!(
                "the signing time lies outside the certificate's validity ({} to {})",
                validity.not_before, validity.not_after
            ));
        }
    }
    Ok(())
}

const SHA1_REFUSED: &str = "SHA-1 signatures are not accepted";
/// The reason given when the content's digest differs from the message-digest attribute.
pub(crate) const DIGEST_MISMATCH: &str = "the content was changed after signing (message digest mismatch)";

/// Finds the certificate named by `sid` (RFC 5652 §5.3):
///
/// ```text
/// SignerIdentifier ::= CHOICE {
///   issuerAndSerialNumber IssuerAndSerialNumber,
///   subjectKeyIdentifier [0] SubjectKeyIdentifier }
/// ```
fn find_signer<'a>(sid: &SignerIdentifier, pool: &[&'a Certificate]) -> Option<&'a Certificate> {
    pool.iter().copied().find(|certificate| {
        let tbs = certificate.tbs_certificate();
        match sid {
            SignerIdentifier::IssuerAndSerialNumber(isn) => {
                tbs.issuer() == &isn.issuer && tbs.serial_number() == &isn.serial_number
            }
            SignerIdentifier::SubjectKeyIdentifier(ski) => {
                matches!(tbs.get_extension::<SubjectKeyIdentifier>(), Ok(Some((_, own))) if &own == ski)
            }
        }
    })
}

/// Checks content-type and message-digest and returns the signing time (RFC 5652 §11):
///
/// ```text
/// Attribute ::= SEQUENCE { attrType OBJECT IDENTIFIER, attrValues SET OF AttributeValue }
/// ContentType ::= OBJECT IDENTIFIER
/// MessageDigest ::= OCTET STRING
/// SigningTime ::= Time   -- UTCTime or GeneralizedTime
/// ```
fn check_signed_attributes(
    attributes: &SignedAttributes,
    econtent_type: Oid,
    content_digest: &[u8],
) -> std::result::Result<Option<SystemTime>, String> {
    let content_type = single_value(attributes, algorithms::ID_CONTENT_TYPE, "content-type")?
        .ok_or_else(|| "the content-type signed attribute is missing".to_string())?;
    let content_type: Oid =
        content_type.decode_as().map_err(|_| "the content-type signed attribute is malformed".to_string())?;
    if content_type != econtent_type {
        return Err("the content-type signed attribute does not match the content".to_string());
    }

    let message_digest = single_value(attributes, algorithms::ID_MESSAGE_DIGEST, "message-digest")?
        .ok_or_else(|| "the message-digest signed attribute is missing".to_string())?;
    let message_digest: OctetString =
        message_digest.decode_as().map_err(|_| "the message-digest signed attribute is malformed".to_string())?;
    if message_digest.as_bytes() != content_digest {
        return Err(DIGEST_MISMATCH.to_string());
    }

    match single_value(attributes, algorithms::ID_SIGNING_TIME, "signing-time")? {
        None => Ok(None),
        Some(value) => {
            let time = value
                .to_der()
                .ok()
                .and_then(|der| Time::from_der(&der).ok())
                .ok_or_else(|| "the signing-time signed attribute is malformed".to_string())?;
            Ok(Some(time.to_system_time()))
        }
    }
}

/// The value of an attribute that must occur at most once and hold exactly one value.
fn single_value<'a>(
    attributes: &'a SignedAttributes,
    oid: Oid,
    name: &str,
) -> std::result::Result<Option<&'a Any>, String> {
    let mut matching = attributes.iter().filter(|attribute| attribute.oid == oid);
    let Some(attribute) = matching.next() else { return Ok(None) };
    if matching.next().is_some() {
        return Err(format!("the {name} signed attribute occurs more than once"));
    }
    let mut values = attribute.values.iter();
    match (values.next(), values.next()) {
        (Some(value), None) => Ok(Some(value)),
        _ => Err(format!("the {name} signed attribute must have exactly one value")),
    }
}

/// A signature scheme with its parameters, chosen from signatureAlgorithm, the
/// digestAlgorithm and the certificate's key.
#[derive(Debug, Clone, Copy)]
enum Scheme {
    /// RSASSA-PKCS1-v1_5 (RFC 3370 §3.2, RFC 5754 §3.2).
    RsaPkcs1(DigestKind),
    /// RSASSA-PSS (RFC 4056) with MGF1 over the same hash and the given salt length.
    RsaPss(DigestKind, usize),
    /// ECDSA (RFC 5753 §2.1.1) on P-256.
    EcdsaP256(DigestKind),
    /// ECDSA on P-384.
    EcdsaP384(DigestKind),
    /// PureEdDSA over the signed attributes (RFC 8419 §3).
    Ed25519,
}

impl Scheme {
    fn select(info: &SignerInfo, digest: DigestKind, certificate: &Certificate) -> std::result::Result<Self, String> {
        let algorithm = &info.signature_algorithm;
        let spki = certificate.tbs_certificate().subject_public_key_info();
        let key = spki.algorithm.oid;
        let unsupported = || format!("unsupported signature algorithm {}", algorithm.oid);
        let mismatch = || "the signature algorithm does not fit the signer's key".to_string();
        let same_digest = |hash: DigestKind| {
            if hash == digest {
                Ok(hash)
            } else {
                Err(format!(
                    "the signature algorithm's digest ({}) differs from the digest algorithm ({})",
                    hash.name(),
                    digest.name()
                ))
            }
        };
        let is_rsa_key = key == algorithms::RSA_ENCRYPTION || key == algorithms::ID_RSASSA_PSS;
        let scheme = match algorithm.oid {
            algorithms::RSA_ENCRYPTION => Self::RsaPkcs1(digest),
            algorithms::SHA1_WITH_RSA => Self::RsaPkcs1(same_digest(DigestKind::Sha1)?),
            algorithms::SHA256_WITH_RSA => Self::RsaPkcs1(same_digest(DigestKind::Sha256)?),
            algorithms::SHA384_WITH_RSA => Self::RsaPkcs1(same_digest(DigestKind::Sha384)?),
            algorithms::SHA512_WITH_RSA => Self::RsaPkcs1(same_digest(DigestKind::Sha512)?),
            algorithms::ID_RSASSA_PSS => {
                let (hash, salt) = pss_parameters(algorithm.parameters.as_ref())?;
                Self::RsaPss(same_digest(hash)?, salt)
            }
            algorithms::ECDSA_WITH_SHA1
            | algorithms::ECDSA_WITH_SHA256
            | algorithms::ECDSA_WITH_SHA384
            | algorithms::ECDSA_WITH_SHA512
            | algorithms::ID_EC_PUBLIC_KEY => {
                let hash = match algorithm.oid {
                    algorithms::ECDSA_WITH_SHA1 => same_digest(DigestKind::Sha1)?,
                    algorithms::ECDSA_WITH_SHA256 => same_digest(DigestKind::Sha256)?,
                    algorithms::ECDSA_WITH_SHA384 => same_digest(DigestKind::Sha384)?,
                    algorithms::ECDSA_WITH_SHA512 => same_digest(DigestKind::Sha512)?,
                    _ => digest,
                };
                if key != algorithms::ID_EC_PUBLIC_KEY {
                    return Err(mismatch());
                }
                match spki.algorithm.parameters.as_ref().and_then(|p| p.decode_as::<Oid>().ok()) {
                    Some(algorithms::SECP256R1) => Self::EcdsaP256(hash),
                    Some(algorithms::SECP384R1) => Self::EcdsaP384(hash),
                    _ => return Err("the signer's elliptic curve is not supported".to_string()),
                }
            }
            algorithms::ID_ED25519 => {
                if key != algorithms::ID_ED25519 {
                    return Err(mismatch());
                }
                Self::Ed25519
            }
            _ => return Err(unsupported()),
        };
        if matches!(scheme, Self::RsaPkcs1(_) | Self::RsaPss(..)) && !is_rsa_key {
            return Err(mismatch());
        }
        Ok(scheme)
    }

    fn name(self) -> &'static str {
        match self {
            Self::RsaPkcs1(_) => "RSA PKCS#1 v1.5",
            Self::RsaPss(..) => "RSA-PSS",
            Self::EcdsaP256(_) => "ECDSA P-256",
            Self::EcdsaP384(_) => "ECDSA P-384",
            Self::Ed25519 => "Ed25519",
        }
    }

    fn hash(self) -> Option<DigestKind> {
        match self {
            Self::RsaPkcs1(hash) | Self::RsaPss(hash, _) | Self::EcdsaP256(hash) | Self::EcdsaP384(hash) => Some(hash),
            Self::Ed25519 => None,
        }
    }

    /// Checks `signature` over `message` with the certificate's public key.
    fn verify(self, certificate: &Certificate, message: &[u8], signature: &[u8]) -> std::result::Result<(), String> {
        let bad_key = || "the signer's public key cannot be read".to_string();
        let invalid = || "the signature is not valid (the signed data or the signature was altered)".to_string();
        let public_key = certificate.tbs_certificate().subject_public_key_info().subject_public_key.as_bytes();
        let public_key = public_key.ok_or_else(bad_key)?;
        let ok = match self {
            Self::RsaPkcs1(hash) | Self::RsaPss(hash, _) => {
                let key = rsa::PublicKey::from_pkcs1_der(public_key).map_err(|_| bad_key())?;
                if key.size() * 8 < MIN_RSA_BITS {
                    return Err(format!("the signer's RSA key is too small ({} bits)", key.size() * 8));
                }
                let digest = hash.digest(message);
                match self {
                    Self::RsaPss(_, salt) => verify_pss(key, hash, salt, &digest, signature),
                    _ => match hash {
                        DigestKind::Sha1 => key.pkcs1v15_verify_prehash::<sha1::Sha1>(&digest, signature),
                        DigestKind::Sha256 => key.pkcs1v15_verify_prehash::<sha2::Sha256>(&digest, signature),
                        DigestKind::Sha384 => key.pkcs1v15_verify_prehash::<sha2::Sha384>(&digest, signature),
                        DigestKind::Sha512 => key.pkcs1v15_verify_prehash::<sha2::Sha512>(&digest, signature),
                    }
                    .is_ok(),
                }
            }
            Self::EcdsaP256(hash) => {
                let key = p256::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| bad_key())?;
                p256::ecdsa::Signature::from_der(signature)
                    .is_ok_and(|sig| key.verify_prehash(&hash.digest(message), &sig).is_ok())
            }
            Self::EcdsaP384(hash) => {
                let key = p384::ecdsa::VerifyingKey::from_sec1_bytes(public_key).map_err(|_| bad_key())?;
                p384::ecdsa::Signature::from_der(signature)
                    .is_ok_and(|sig| key.verify_prehash(&hash.digest(message), &sig).is_ok())
            }
            Self::Ed25519 => webpki::aws_lc_rs::ED25519.verify_signature(public_key, message, signature).is_ok(),
        };
        if ok { Ok(()) } else { Err(invalid()) }
    }
}

/// RSA keys below this size are refused (still accepted by many clients, but breakable).
const MIN_RSA_BITS: usize = 1024;

fn verify_pss(key: rsa::PublicKey, hash: DigestKind, salt: usize, digest: &[u8], signature: &[u8]) -> bool {
    let Ok(signature) = rsa::pss::Signature::try_from(signature) else { return false };
    match hash {
        DigestKind::Sha1 => rsa::pss::VerifyingKey::<sha1::Sha1>::new_with_salt_len(key, salt)
            .verify_prehash(digest, &signature)
            .is_ok(),
        DigestKind::Sha256 => rsa::pss::VerifyingKey::<sha2::Sha256>::new_with_salt_len(key, salt)
            .verify_prehash(digest, &signature)
            .is_ok(),
        DigestKind::Sha384 => rsa::pss::VerifyingKey::<sha2::Sha384>::new_with_salt_len(key, salt)
            .verify_prehash(digest, &signature)
            .is_ok(),
        DigestKind::Sha512 => rsa::pss::VerifyingKey::<sha2::Sha512>::new_with_salt_len(key, salt)
            .verify_prehash(digest, &signature)
            .is_ok(),
    }
}

/// Reads RSASSA-PSS-params (RFC 4055 §3.1; absent fields take their defaults: SHA-1,
/// MGF1-SHA-1, salt 20, trailer 1). MGF1 must use the same hash as the signature, which
/// is what every implementation writes and what the `rsa` crate implements. OpenSSL
/// signs with the maximum salt length, so any salt length is accepted as stated.
fn pss_parameters(parameters: Option<&Any>) -> std::result::Result<(DigestKind, usize), String> {
    let malformed = || "the RSA-PSS parameters are malformed".to_string();
    let params: PssParams = match parameters {
        Some(any) => any.decode_as().map_err(|_| malformed())?,
        None => return Err("the RSA-PSS parameters are missing".to_string()),
    };
    let hash_oid = params.hash.as_ref().map_or(algorithms::ID_SHA1, |h| h.oid);
    let hash = DigestKind::from_oid(&hash_oid).ok_or_else(|| format!("unsupported RSA-PSS digest {hash_oid}"))?;
    let mgf_hash = match &params.mask_gen {
        None => algorithms::ID_SHA1,
        Some(mgf) if mgf.oid == algorithms::ID_MGF1 => {
            let inner: AlgorithmIdentifierOwned =
                mgf.parameters.as_ref().ok_or_else(malformed)?.decode_as().map_err(|_| malformed())?;
            inner.oid
        }
        Some(mgf) => return Err(format!("unsupported RSA-PSS mask generation function {}", mgf.oid)),
    };
    if mgf_hash != hash_oid {
        return Err("RSA-PSS with a different MGF1 digest is not supported".to_string());
    }
    if params.trailer_field.is_some_and(|t| t != 1) {
        return Err(malformed());
    }
    let salt = params.salt_length.map_or(Ok(20), usize::try_from).map_err(|_| malformed())?;
    Ok((hash, salt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issue_9_revocation_info_is_dropped_only_when_present() {
        // ContentInfo { id-signedData, [0] SignedData { INTEGER 1, [1] { garbage }, SET {} } }
        let oid = [0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
        let signed_data =
            encode_tlv(0x30, &[&[0x02, 0x01, 0x01][..], &[0xa1, 0x02, 0xff, 0xff], &[0x31, 0x00]].concat());
        let content_info = encode_tlv(0x30, &[&oid[..], &encode_tlv(0xa0, &signed_data)].concat());
        let stripped = without_revocation_info(&content_info).expect("has crls");
        let expected_sd = encode_tlv(0x30, &[0x02, 0x01, 0x01, 0x31, 0x00]);
        assert_eq!(stripped, encode_tlv(0x30, &[&oid[..], &encode_tlv(0xa0, &expected_sd)].concat()));
        assert!(without_revocation_info(&stripped).is_none());
        assert!(without_revocation_info(&[0x30, 0x80]).is_none());
        assert_eq!(encode_tlv(0x04, &[0; 300])[..4], [0x04, 0x82, 0x01, 0x2c]);
    }
}
