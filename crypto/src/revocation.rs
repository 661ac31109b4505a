//! Revocation without I/O: where a certificate says its status can be asked
//! ([`RevocationPointers`]), and the verdict of a CRL for it ([`check_crl`]). OCSP is in
//! `ocsp.rs`. The proxy fetches and caches; the engine only judges bytes.
//!
//! A CRL counts only when webpki accepts it for the certificate: issued by the
//! certificate's issuer (signature checked with the issuer's key, cRLSign when the issuer
//! has a keyUsage), its scope covering the certificate, and not expired at the time of
//! use (nextUpdate enforced: a stale CRL is never silently accepted).

use std::time::SystemTime;

use const_oid::db::rfc5280;
use der::{Decode, Encode};
use rustls_pki_types::{CertificateDer, UnixTime};
use x509_cert::ext::pkix::name::{DistributionPointName, GeneralName};
use x509_cert::ext::pkix::{AuthorityInfoAccessSyntax, CrlDistributionPoints};

use crate::Certificate;

/// The status of one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revocation {
    /// Not revoked.
    Good,
    /// Revoked at `at`, for `reason` (RFC 5280 CRLReason name) when given.
    Revoked {
        /// Revocation time.
        at: SystemTime,
        /// The reason code's name, e.g. "keyCompromise".
        reason: Option<String>,
    },
    /// The responder does not know the certificate (treated like revoked by callers).
    Unknown,
}

/// The HTTP URLs a certificate names for its revocation status and its issuer.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RevocationPointers {
    /// id-ad-ocsp responders (authorityInfoAccess).
    pub ocsp: Vec<String>,
    /// CRL distribution points (full names; those with cRLIssuer or reasons are skipped,
    /// as webpki cannot use them).
    pub crl: Vec<String>,
    /// id-ad-caIssuers: where the issuer's certificate can be fetched.
    pub ca_issuers: Vec<String>,
}

impl RevocationPointers {
    /// The `http://` URLs of `certificate`'s AIA and CRL DP extensions (other schemes,
    /// e.g. ldap://, are left out). An unreadable extension contributes none.
    pub fn of(certificate: &Certificate) -> Self {
        let tbs = certificate.tbs_certificate();
        let mut pointers = Self::default();
        if let Ok(Some((_, AuthorityInfoAccessSyntax(access)))) = tbs.get_extension::<AuthorityInfoAccessSyntax>() {
            for description in access {
                let Some(url) = http_url(&description.access_location) else { continue };
                if description.access_method == rfc5280::ID_AD_OCSP {
                    pointers.ocsp.push(url);
                } else if description.access_method == rfc5280::ID_AD_CA_ISSUERS {
                    pointers.ca_issuers.push(url);
                }
            }
        }
        if let Ok(Some((_, CrlDistributionPoints(points)))) = tbs.get_extension::<CrlDistributionPoints>() {
            for point in points.iter().filter(|p| p.crl_issuer.is_none() && p.reasons.is_none()) {
                if let Some(DistributionPointName::FullName(names)) = &point.distribution_point {
                    pointers.crl.extend(names.iter().filter_map(http_url));
                }
            }
        }
        pointers
    }

    /// True when the certificate names no OCSP responder and no CRL.
    pub fn is_empty(&self) -> bool {
        self.ocsp.is_empty() && self.crl.is_empty()
    }
}

fn http_url(name: &GeneralName) -> Option<String> {
    match name {
        GeneralName::UniformResourceIdentifier(uri) if uri.as_str().starts_with("http://") => {
            Some(uri.as_str().to_owned())
        }
        _ => None,
    }
}

/// A CRL's verdict for one certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrlAnswer {
    /// Good or revoked (a CRL never says unknown: it does not cover, see [`CrlError`]).
    pub status: Revocation,
    /// The CRL's thisUpdate.
    pub this_update: SystemTime,
    /// The CRL's nextUpdate (until when it may be cached), when present.
    pub next_update: Option<SystemTime>,
}

/// Why a CRL gives no verdict.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CrlError {
    /// Not a CRL.
    #[error("the CRL cannot be read: {0}")]
    Malformed(String),
    /// Not issued by the certificate's issuer, or not covering it.
    #[error("the CRL does not cover this certificate")]
    NotCovered,
    /// Its signature does not verify with the issuer's key.
    #[error("the CRL's signature is not valid")]
    BadSignature,
    /// Its nextUpdate has passed.
    #[error("the CRL is out of date (nextUpdate {0} has passed)")]
    Stale(String),
}

/// The verdict of `crl` (DER) for `certificate`, issued by `issuer`, at `at`.
pub fn check_crl(
    certificate: &Certificate,
    issuer: &Certificate,
    crl: &[u8],
    at: SystemTime,
) -> Result<CrlAnswer, CrlError> {
    let malformed = |e: String| CrlError::Malformed(e);
    let parsed: x509_cert::crl::CertificateList =
        x509_cert::crl::CertificateList::from_der(crl).map_err(|e| malformed(e.to_string()))?;
    let this_update = parsed.tbs_cert_list.this_update.to_system_time();
    let next_update = parsed.tbs_cert_list.next_update.map(|t| t.to_system_time());
    let borrowed = webpki::BorrowedCertRevocationList::from_der(crl).map_err(|e| malformed(e.to_string()))?;
    let crl = webpki::CertRevocationList::from(borrowed);

    let ee_der = CertificateDer::from(certificate.to_der().map_err(|e| malformed(e.to_string()))?);
    let issuer_der = CertificateDer::from(issuer.to_der().map_err(|e| malformed(e.to_string()))?);
    let end_entity = webpki::EndEntityCert::try_from(&ee_der).map_err(|e| malformed(e.to_string()))?;
    let anchor = webpki::anchor_from_trusted_cert(&issuer_der).map_err(|e| malformed(e.to_string()))?;
    let crls = [&crl];
    let options = webpki::RevocationOptionsBuilder::new(&crls)
        .map_err(|_| malformed("no CRL".into()))?
        .with_depth(webpki::RevocationCheckDepth::EndEntity)
        .with_status_policy(webpki::UnknownStatusPolicy::Deny)
        .with_expiration_policy(webpki::ExpirationPolicy::Enforce)
        .build();
    let since_epoch = at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let anchors = [anchor];
    let verdict = end_entity.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &[],
        UnixTime::since_unix_epoch(since_epoch),
        webpki::KeyUsage::required_if_present(crate::algorithms::ID_KP_EMAIL_PROTECTION.as_bytes()),
        Some(options),
        None,
    );
    let status = match verdict {
        Ok(_) => Revocation::Good,
        Err(webpki::Error::CertRevoked) => {
            let serial = certificate.tbs_certificate().serial_number().as_bytes();
            let entry = crl.find_serial(serial).ok().flatten();
            Revocation::Revoked {
                at: entry.as_ref().map_or(this_update, |e| unix_to_system(e.revocation_date)),
                reason: entry.and_then(|e| e.reason_code).map(|r| crl_reason_name(r as u32)),
            }
        }
        Err(webpki::Error::UnknownRevocationStatus) => return Err(CrlError::NotCovered),
        Err(webpki::Error::CrlExpired { .. }) => {
            return Err(CrlError::Stale(next_update.map(rfc3339).unwrap_or_default()));
        }
        Err(
            webpki::Error::InvalidCrlSignatureForPublicKey
            | webpki::Error::UnsupportedCrlSignatureAlgorithmContext(_)
            | webpki::Error::UnsupportedCrlSignatureAlgorithmForPublicKeyContext(_),
        ) => return Err(CrlError::BadSignature),
        Err(other) => return Err(malformed(other.to_string())),
    };
    Ok(CrlAnswer { status, this_update, next_update })
}

fn unix_to_system(time: UnixTime) -> SystemTime {
    SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(time.as_secs())
}

/// The RFC 5280 name of a CRLReason code.
pub(crate) fn crl_reason_name(code: u32) -> String {
    match code {
        0 => "unspecified",
        1 => "keyCompromise",
        2 => "cACompromise",
        3 => "affiliationChanged",
        4 => "superseded",
        5 => "cessationOfOperation",
        6 => "certificateHold",
        8 => "removeFromCRL",
        9 => "privilegeWithdrawn",
        10 => "aACompromise",
        _ => "unknown reason",
    }
    .to_owned()
}

/// `YYYY-MM-DDTHH:MM:SSZ`.
pub(crate) fn rfc3339(time: SystemTime) -> String {
    der::DateTime::from_system_time(time).map(|t| t.to_string()).unwrap_or_else(|_| "?".into())
}
