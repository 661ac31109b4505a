//! OCSP (RFC 6960) without I/O: the request for one certificate, and the verdict from a
//! response's bytes. The caller fetches (POST to the certificate's responder) and caches.
//!
//! The ASN.1 types are written here from RFC 6960 §4 on the workspace's der 0.8 (the
//! x509-ocsp crate has no release on it). Only what a client needs: unsigned requests,
//! basic responses.
//!
//! A response is accepted only when, in this order ([`check_response`]):
//! 1. its status is `successful` (the error statuses are unsigned, never a verdict) and
//!    its type is id-pkix-ocsp-basic;
//! 2. its signer, named by responderID, is the certificate's issuer or a certificate in
//!    the response issued directly by that issuer with id-kp-OCSPSigning (§4.2.2.2);
//! 3. the signature over the received tbsResponseData verifies with the signer's key;
//! 4. an echoed nonce equals ours (a missing echo falls back to time, RFC 5019 §2.2);
//! 5. it has a SingleResponse for our CertID;
//! 6. it is fresh: thisUpdate not in the future, nextUpdate not passed (without
//!    nextUpdate: thisUpdate at most [`MAX_AGE_WITHOUT_NEXT_UPDATE`] old), with
//!    [`CLOCK_SKEW`] of tolerance.

use std::time::{Duration, SystemTime};

use const_oid::ObjectIdentifier as Oid;
use const_oid::db::{rfc5280, rfc5912, rfc6960};
use der::asn1::{BitString, GeneralizedTime, Null, OctetString};
use der::{Any, Decode, Encode, Enumerated, Sequence};
use digest::Digest;
use rustls_pki_types::{CertificateDer, UnixTime};
use spki::AlgorithmIdentifierOwned;
use x509_cert::ext::pkix::CrlReason;
use x509_cert::ext::{Extension, Extensions};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;

use crate::Certificate;
use crate::revocation::{Revocation, crl_reason_name};

/// Tolerance for clocks that disagree (responder vs. this machine).
pub const CLOCK_SKEW: Duration = Duration::from_secs(5 * 60);
/// How old a response without nextUpdate may be.
pub const MAX_AGE_WITHOUT_NEXT_UPDATE: Duration = Duration::from_secs(7 * 24 * 3600);

/// What the caller asked about: the certificate, its issuer, the nonce sent (if any).
#[derive(Debug, Clone, Copy)]
pub struct OcspQuery<'a> {
    /// The certificate whose status is asked.
    pub certificate: &'a Certificate,
    /// Its issuer (from the validated path).
    pub issuer: &'a Certificate,
    /// The nonce of the request, when one was sent; `None` for a cached response.
    pub nonce: Option<&'a [u8]>,
}

/// A verified answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OcspAnswer {
    /// Good, revoked or unknown.
    pub status: Revocation,
    /// When the responder last knew the status to be correct.
    pub this_update: SystemTime,
    /// Until when it may be used (cache lifetime), when the responder said.
    pub next_update: Option<SystemTime>,
    /// True when a delegated responder (not the CA itself) signed it.
    pub delegated: bool,
}

/// Why a response gives no verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OcspError {
    /// Not DER, or not the structure of RFC 6960.
    #[error("the OCSP response cannot be read: {0}")]
    Malformed(String),
    /// An unsigned error status (malformedRequest, internalError, tryLater, ...).
    #[error("the OCSP responder answered \"{0}\"")]
    NotSuccessful(&'static str),
    /// A response type other than id-pkix-ocsp-basic.
    #[error("the OCSP response is of an unsupported type {0}")]
    UnsupportedType(String),
    /// responderID names no certificate we have.
    #[error("the OCSP response is signed by a responder that is neither the CA nor in the response")]
    UnknownSigner,
    /// The signer is not the CA nor authorised by it.
    #[error("the OCSP responder is not authorised by the certificate's CA ({0})")]
    UnauthorisedResponder(String),
    /// The signature does not verify.
    #[error("the OCSP response's signature is not valid")]
    BadSignature,
    /// The response echoes another nonce (a replayed or foreign response).
    #[error("the OCSP response answers another request (nonce mismatch)")]
    NonceMismatch,
    /// No SingleResponse for our certificate.
    #[error("the OCSP response does not cover this certificate")]
    NotCovered,
    /// Too old, or from the future.
    #[error("the OCSP response is not fresh ({0})")]
    Stale(String),
}

/// The DER of an unsigned OCSP request for `certificate` (CertID with SHA-1, as RFC 5019
/// clients send it), with `nonce` in the id-pkix-ocsp-nonce extension when given (RFC
/// 8954: 32 octets).
pub fn ocsp_request(certificate: &Certificate, issuer: &Certificate, nonce: Option<&[u8]>) -> crate::Result<Vec<u8>> {
    let bad = |e: der::Error| crate::Error::Crypto(format!("OCSP request: {e}"));
    let request_extensions = match nonce {
        Some(nonce) => Some(vec![Extension {
            extn_id: rfc6960::ID_PKIX_OCSP_NONCE,
            critical: false,
            extn_value: OctetString::new(OctetString::new(nonce).map_err(bad)?.to_der().map_err(bad)?).map_err(bad)?,
        }]),
        None => None,
    };
    let request = OcspRequest {
        tbs_request: TbsRequest {
            request_list: vec![Request { req_cert: cert_id(rfc5912::ID_SHA_1, certificate, issuer).map_err(bad)? }],
            request_extensions,
        },
    };
    request.to_der().map_err(bad)
}

/// Verifies `response` (DER) for `query` at time `at`; see the module documentation for
/// the checks.
pub fn check_response(response: &[u8], query: &OcspQuery<'_>, at: SystemTime) -> Result<OcspAnswer, OcspError> {
    let malformed = |what: &str, e: der::Error| OcspError::Malformed(format!("{what}: {e}"));
    let outer = OcspResponse::from_der(response).map_err(|e| malformed("OCSPResponse", e))?;
    if outer.response_status != ResponseStatus::Successful {
        return Err(OcspError::NotSuccessful(outer.response_status.name()));
    }
    let bytes = outer.response_bytes.ok_or_else(|| OcspError::Malformed("no responseBytes".into()))?;
    if bytes.response_type != rfc6960::ID_PKIX_OCSP_BASIC {
        return Err(OcspError::UnsupportedType(bytes.response_type.to_string()));
    }
    let basic =
        BasicOcspResponse::from_der(bytes.response.as_bytes()).map_err(|e| malformed("BasicOCSPResponse", e))?;
    let tbs = basic.tbs_response_data.to_der().map_err(|e| malformed("tbsResponseData", e))?;
    let data = ResponseData::from_der(&tbs).map_err(|e| malformed("ResponseData", e))?;

    let presented = basic.certs.unwrap_or_default();
    let signer = find_signer(&data.responder_id, query.issuer, &presented)?;
    verify_signature(signer, &basic.signature_algorithm, &tbs, &basic.signature)?;
    let delegated = !same_certificate(signer, query.issuer);
    if delegated {
        authorised_responder(signer, query.issuer, at)?;
    }

    if let Some(ours) = query.nonce
        && let Some(theirs) = nonce_of(data.response_extensions.as_deref())
        && theirs != ours
    {
        return Err(OcspError::NonceMismatch);
    }

    let single =
        data.responses.iter().find(|single| matches_cert_id(&single.cert_id, query)).ok_or(OcspError::NotCovered)?;
    let this_update = single.this_update.to_system_time();
    let next_update = single.next_update.map(|t| t.to_system_time());
    check_fresh(this_update, next_update, at)?;

    let status = match &single.cert_status {
        CertStatus::Good(_) => Revocation::Good,
        CertStatus::Revoked(info) => Revocation::Revoked {
            at: info.revocation_time.to_system_time(),
            reason: info.revocation_reason.map(|r| crl_reason_name(r as u32)),
        },
        CertStatus::Unknown(_) => Revocation::Unknown,
    };
    Ok(OcspAnswer { status, this_update, next_update, delegated })
}

fn check_fresh(this_update: SystemTime, next_update: Option<SystemTime>, at: SystemTime) -> Result<(), OcspError> {
    let when = |t: SystemTime| crate::revocation::rfc3339(t);
    if this_update > at + CLOCK_SKEW {
        return Err(OcspError::Stale(format!("thisUpdate {} is in the future", when(this_update))));
    }
    match next_update {
        Some(next) if next + CLOCK_SKEW < at => Err(OcspError::Stale(format!("nextUpdate {} has passed", when(next)))),
        None if this_update + MAX_AGE_WITHOUT_NEXT_UPDATE < at => Err(OcspError::Stale(format!(
            "thisUpdate {} is more than 7 days old, and no nextUpdate",
            when(this_update)
        ))),
        _ => Ok(()),
    }
}

/// responderID → the signer among the issuer and the response's certificates.
fn find_signer<'a>(
    responder: &ResponderId,
    issuer: &'a Certificate,
    presented: &'a [Certificate],
) -> Result<&'a Certificate, OcspError> {
    std::iter::once(issuer)
        .chain(presented)
        .find(|candidate| match responder {
            ResponderId::ByName(name) => candidate.tbs_certificate().subject() == name,
            ResponderId::ByKey(hash) => key_hash::<sha1::Sha1>(candidate).as_slice() == hash.as_bytes(),
        })
        .ok_or(OcspError::UnknownSigner)
}

/// The signature over `tbs` with the signer's key, by the webpki algorithm whose
/// identifiers match the signer's key and the response's signatureAlgorithm.
fn verify_signature(
    signer: &Certificate,
    algorithm: &AlgorithmIdentifierOwned,
    tbs: &[u8],
    signature: &BitString,
) -> Result<(), OcspError> {
    let der = signer.to_der().map_err(|e| OcspError::Malformed(format!("signer certificate: {e}")))?;
    let der = CertificateDer::from(der);
    let signer = webpki::EndEntityCert::try_from(&der).map_err(|e| OcspError::Malformed(format!("signer: {e}")))?;
    let wanted = algorithm_contents(algorithm)?;
    let signature = signature.as_bytes().ok_or(OcspError::BadSignature)?;
    let mut tried = false;
    for candidate in webpki::ALL_VERIFICATION_ALGS.iter().filter(|a| a.signature_alg_id().as_ref() == wanted) {
        tried = true;
        if signer.verify_signature(*candidate, tbs, signature).is_ok() {
            return Ok(());
        }
    }
    if tried {
        Err(OcspError::BadSignature)
    } else {
        Err(OcspError::Malformed(format!("unsupported signature algorithm {}", algorithm.oid)))
    }
}

/// The AlgorithmIdentifier's DER without its SEQUENCE header (webpki's form).
fn algorithm_contents(algorithm: &AlgorithmIdentifierOwned) -> Result<Vec<u8>, OcspError> {
    let mut contents = algorithm.oid.to_der().map_err(|e| OcspError::Malformed(format!("algorithm: {e}")))?;
    if let Some(parameters) = &algorithm.parameters {
        contents.extend(parameters.to_der().map_err(|e| OcspError::Malformed(format!("algorithm: {e}")))?);
    }
    Ok(contents)
}

/// RFC 6960 §4.2.2.2: a delegated responder's certificate is issued directly by the CA
/// and carries id-kp-OCSPSigning. Its own revocation is not checked (id-pkix-ocsp-nocheck
/// is what CAs put in it; without it there is nothing better to ask).
fn authorised_responder(signer: &Certificate, issuer: &Certificate, at: SystemTime) -> Result<(), OcspError> {
    let unauthorised = |e: String| OcspError::UnauthorisedResponder(e);
    let signer_der = CertificateDer::from(signer.to_der().map_err(|e| unauthorised(e.to_string()))?);
    let issuer_der = CertificateDer::from(issuer.to_der().map_err(|e| unauthorised(e.to_string()))?);
    let anchor = webpki::anchor_from_trusted_cert(&issuer_der).map_err(|e| unauthorised(e.to_string()))?;
    let responder = webpki::EndEntityCert::try_from(&signer_der).map_err(|e| unauthorised(e.to_string()))?;
    let since_epoch = at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let anchors = [anchor];
    responder
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &[],
            UnixTime::since_unix_epoch(since_epoch),
            webpki::KeyUsage::required(rfc5280::ID_KP_OCSP_SIGNING.as_bytes()),
            None,
            None,
        )
        .map(|_| ())
        .map_err(|e| match e {
            webpki::Error::RequiredEkuNotFoundContext(_) => {
                unauthorised("its certificate lacks id-kp-OCSPSigning".into())
            }
            webpki::Error::UnknownIssuer => unauthorised("its certificate is not issued by the CA".into()),
            other => unauthorised(other.to_string()),
        })
}

fn same_certificate(a: &Certificate, b: &Certificate) -> bool {
    a.to_der().ok() == b.to_der().ok()
}

/// The nonce octets of a response's extensions (the extnValue holds an OCTET STRING;
/// a bare value, as some responders send, is taken as it is).
fn nonce_of(extensions: Option<&[Extension]>) -> Option<Vec<u8>> {
    let extension = extensions?.iter().find(|e| e.extn_id == rfc6960::ID_PKIX_OCSP_NONCE)?;
    let value = extension.extn_value.as_bytes();
    Some(OctetString::from_der(value).map(|o| o.as_bytes().to_vec()).unwrap_or_else(|_| value.to_vec()))
}

fn matches_cert_id(id: &CertId, query: &OcspQuery<'_>) -> bool {
    let expected = match id.hash_algorithm.oid {
        rfc5912::ID_SHA_1 => cert_id(rfc5912::ID_SHA_1, query.certificate, query.issuer),
        rfc5912::ID_SHA_256 => cert_id(rfc5912::ID_SHA_256, query.certificate, query.issuer),
        _ => return false,
    };
    expected.is_ok_and(|ours| {
        ours.issuer_name_hash == id.issuer_name_hash
            && ours.issuer_key_hash == id.issuer_key_hash
            && ours.serial_number == id.serial_number
    })
}

/// CertID (RFC 6960 §4.1.1): hashes of the issuer's Name and of its public key's BIT
/// STRING contents, and the serial number.
fn cert_id(hash: Oid, certificate: &Certificate, issuer: &Certificate) -> der::Result<CertId> {
    let name = issuer.tbs_certificate().subject().to_der()?;
    let (name_hash, key_hash) = match hash {
        rfc5912::ID_SHA_256 => (sha2::Sha256::digest(&name).to_vec(), key_hash::<sha2::Sha256>(issuer)),
        _ => (sha1::Sha1::digest(&name).to_vec(), key_hash::<sha1::Sha1>(issuer)),
    };
    Ok(CertId {
        // RFC 5019 §2.1.1 and what OpenSSL sends: the parameters are an explicit NULL.
        hash_algorithm: AlgorithmIdentifierOwned { oid: hash, parameters: Some(Any::from(Null)) },
        issuer_name_hash: OctetString::new(name_hash)?,
        issuer_key_hash: OctetString::new(key_hash)?,
        serial_number: certificate.tbs_certificate().serial_number().clone(),
    })
}

fn key_hash<D: Digest>(certificate: &Certificate) -> Vec<u8> {
    D::digest(certificate.tbs_certificate().subject_public_key_info().subject_public_key.raw_bytes()).to_vec()
}

// ---- RFC 6960 §4 ASN.1 (EXPLICIT tags; CertStatus IMPLICIT) --------------------------------

#[derive(Clone, Debug, Eq, PartialEq, Sequence)]
struct CertId {
    hash_algorithm: AlgorithmIdentifierOwned,
    issuer_name_hash: OctetString,
    issuer_key_hash: OctetString,
    serial_number: SerialNumber,
}

#[derive(Clone, Debug, Sequence)]
struct Request {
    req_cert: CertId,
}

/// TBSRequest without version (v1 is DEFAULT, so DER omits it) and requestorName.
#[derive(Clone, Debug, Sequence)]
struct TbsRequest {
    request_list: Vec<Request>,
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", optional = "true")]
    request_extensions: Option<Extensions>,
}

/// OCSPRequest, unsigned.
#[derive(Clone, Debug, Sequence)]
struct OcspRequest {
    tbs_request: TbsRequest,
}

#[derive(Clone, Copy, Debug, Eq, PartialEq, Enumerated)]
#[repr(u32)]
enum ResponseStatus {
    Successful = 0,
    MalformedRequest = 1,
    InternalError = 2,
    TryLater = 3,
    SigRequired = 5,
    Unauthorized = 6,
}

impl ResponseStatus {
    fn name(self) -> &'static str {
        match self {
            Self::Successful => "successful",
            Self::MalformedRequest => "malformedRequest",
            Self::InternalError => "internalError",
            Self::TryLater => "tryLater",
            Self::SigRequired => "sigRequired",
            Self::Unauthorized => "unauthorized",
        }
    }
}

#[derive(Clone, Debug, Sequence)]
struct OcspResponse {
    response_status: ResponseStatus,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    response_bytes: Option<ResponseBytes>,
}

#[derive(Clone, Debug, Sequence)]
struct ResponseBytes {
    response_type: Oid,
    response: OctetString,
}

/// BasicOCSPResponse; tbsResponseData is kept as received, for the signature.
#[derive(Clone, Debug, Sequence)]
struct BasicOcspResponse {
    tbs_response_data: Any,
    signature_algorithm: AlgorithmIdentifierOwned,
    signature: BitString,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    certs: Option<Vec<Certificate>>,
}

#[derive(Clone, Debug, Sequence)]
struct ResponseData {
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", default = "Default::default")]
    version: u8,
    responder_id: ResponderId,
    produced_at: GeneralizedTime,
    responses: Vec<SingleResponse>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    response_extensions: Option<Extensions>,
}

#[derive(Clone, Debug, der::Choice)]
enum ResponderId {
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", constructed = "true")]
    ByName(Name),
    #[asn1(context_specific = "2", tag_mode = "EXPLICIT", constructed = "true")]
    ByKey(OctetString),
}

#[derive(Clone, Debug, Sequence)]
struct SingleResponse {
    cert_id: CertId,
    cert_status: CertStatus,
    this_update: GeneralizedTime,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    next_update: Option<GeneralizedTime>,
    #[asn1(context_specific = "1", tag_mode = "EXPLICIT", optional = "true")]
    single_extensions: Option<Extensions>,
}

#[derive(Clone, Debug, der::Choice)]
enum CertStatus {
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT")]
    Good(Null),
    #[asn1(context_specific = "1", tag_mode = "IMPLICIT", constructed = "true")]
    Revoked(RevokedInfo),
    #[asn1(context_specific = "2", tag_mode = "IMPLICIT")]
    Unknown(Null),
}

#[derive(Clone, Debug, Sequence)]
struct RevokedInfo {
    revocation_time: GeneralizedTime,
    #[asn1(context_specific = "0", tag_mode = "EXPLICIT", optional = "true")]
    revocation_reason: Option<CrlReason>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_statuses_are_never_verdicts() {
        // OCSPResponse { responseStatus tryLater }
        let try_later = [0x30, 0x03, 0x0a, 0x01, 0x03];
        let parsed = OcspResponse::from_der(&try_later).expect("parses");
        assert_eq!(parsed.response_status, ResponseStatus::TryLater);
        assert!(parsed.response_bytes.is_none());
    }
}
