//! Certificate policy for S/MIME (RFC 8550): a chain to a trust anchor, the
//! emailProtection EKU (or none), key usage for the purpose, validity at a time,
//! revocation by CRL, and the certificate's e-mail addresses.
//!
//! Path building, signatures on the chain, validity, basic constraints, the EKU and CRLs
//! are `rustls-webpki`'s job; the keyUsage bits and e-mail addresses, which webpki does
//! not look at, are done here with `x509-cert`. No network: CRLs come from the caller,
//! there is no OCSP. Used by `verify.rs` (signers) and `encrypt.rs` (recipients).
//!
//! Policy decisions:
//! - An absent extendedKeyUsage allows any purpose (RFC 8550 §4.4.4); a present one must
//!   include id-kp-emailProtection.
//! - Revocation is checked for the end-entity only; a CRL that does not cover its issuer
//!   leaves the status unknown, which is allowed and reported as `revocation_checked:
//!   false`.
//! - Encryption needs an e-mail address in the certificate; signing does not (the
//!   message layer compares the signer's addresses with From).

use crate::Certificate;
use crate::algorithms;
use der::{Decode, Encode, Reader, Tag, Tagged};
use rustls_pki_types::{CertificateDer, UnixTime};
use std::time::SystemTime;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{KeyUsage, SubjectAltName};

/// What a certificate is about to be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Checking a signature: keyUsage must allow digitalSignature or nonRepudiation.
    Signing,
    /// Encrypting to it: keyUsage must allow keyEncipherment (RSA) or keyAgreement (EC).
    Encryption,
}

/// The trust a caller configures.
#[derive(Debug, Clone, Default)]
pub struct TrustOptions {
    /// Trust anchors (self-signed roots or any certificate the user trusts as a root).
    pub anchors: Vec<Certificate>,
    /// Extra intermediate certificates to build paths with.
    pub intermediates: Vec<Certificate>,
    /// CRLs, DER or PEM; a CRL that cannot be read makes validation fail.
    pub crls: Vec<Vec<u8>>,
}

/// A certificate that passed validation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedChain {
    /// Subject of the trust anchor the chain ends in.
    pub anchor: String,
    /// True when a CRL covered the certificate (and it was not revoked).
    pub revocation_checked: bool,
    /// The certificate's issuer in the validated path (an intermediate, or the anchor):
    /// what OCSP and CRL checks need.
    pub issuer: Certificate,
}

/// Why a certificate cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CertificateProblem {
    /// No chain to a configured anchor.
    #[error("the certificate is not trusted ({0})")]
    Untrusted(String),
    /// Outside its validity period at the time of use.
    #[error("the certificate is not valid at that time ({0})")]
    Expired(String),
    /// The extended key usage does not include emailProtection.
    #[error("the certificate is not for e-mail protection (extended key usage)")]
    WrongExtendedKeyUsage,
    /// The key usage bits do not allow the purpose.
    #[error("the certificate's key usage does not allow {0}")]
    KeyUsage(&'static str),
    /// Revoked according to a CRL.
    #[error("the certificate has been revoked")]
    Revoked,
    /// No rfc822Name / emailAddress at all.
    #[error("the certificate contains no e-mail address")]
    NoEmailAddress,
    /// Anything the validator cannot read.
    #[error("the certificate cannot be checked: {0}")]
    Malformed(String),
}

/// Validates `certificate` for `purpose` at time `at` against `trust`, using `presented`
/// certificates (e.g. those in a SignedData) as candidate intermediates.
///
/// In order: a path to an anchor with `rustls-webpki` (signatures, validity at `at`,
/// basic constraints, the emailProtection EKU wherever an EKU extension is present, and
/// revocation of the end-entity by the CRLs in `trust`, unknown status allowed); then the
/// keyUsage bits for `purpose`; then, for [`Purpose::Encryption`] only, an e-mail address.
/// Signing certificates without an address pass here: the message layer compares the
/// signer's addresses with From and reports the mismatch there.
pub fn validate_certificate(
    certificate: &Certificate,
    presented: &[Certificate],
    purpose: Purpose,
    trust: &TrustOptions,
    at: SystemTime,
) -> Result<ValidatedChain, CertificateProblem> {
    let ee_der = certificate.to_der().map_err(|e| CertificateProblem::Malformed(format!("certificate: {e}")))?;
    let ee_der = CertificateDer::from(ee_der);
    let end_entity =
        webpki::EndEntityCert::try_from(&ee_der).map_err(|e| CertificateProblem::Malformed(format!("{e}")))?;

    let anchor_ders = encode_all(&trust.anchors)?;
    let mut anchors = Vec::with_capacity(anchor_ders.len());
    for der in &anchor_ders {
        let anchor = webpki::anchor_from_trusted_cert(der)
            .map_err(|e| CertificateProblem::Malformed(format!("trust anchor: {e}")))?;
        anchors.push(anchor.to_owned());
    }
    let intermediates: Vec<CertificateDer<'static>> =
        encode_all(presented)?.into_iter().chain(encode_all(&trust.intermediates)?).collect();

    let crl_ders = crl_der_list(&trust.crls)?;
    let mut crls = Vec::with_capacity(crl_ders.len());
    for der in &crl_ders {
        let crl = webpki::BorrowedCertRevocationList::from_der(der)
            .map_err(|e| CertificateProblem::Malformed(format!("CRL: {e}")))?;
        crls.push(webpki::CertRevocationList::from(crl));
    }
    let crl_refs: Vec<&webpki::CertRevocationList<'_>> = crls.iter().collect();
    // `new` fails only for an empty list: then there is no revocation checking at all.
    let revocation = webpki::RevocationOptionsBuilder::new(&crl_refs).ok().map(|builder| {
        builder
            .with_depth(webpki::RevocationCheckDepth::EndEntity)
            .with_status_policy(webpki::UnknownStatusPolicy::Allow)
            .build()
    });

    let since_epoch = at.duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default();
    let time = UnixTime::since_unix_epoch(since_epoch);
    let path = end_entity
        .verify_for_usage(
            webpki::ALL_VERIFICATION_ALGS,
            &anchors,
            &intermediates,
            time,
            webpki::KeyUsage::required_if_present(EKU_EMAIL_PROTECTION),
            revocation,
            None,
        )
        .map_err(|e| map_webpki_error(e, certificate))?;

    let anchor_subject = path.anchor().subject.as_ref().to_vec();
    let anchor_certificate = trust
        .anchors
        .iter()
        .zip(&anchor_ders)
        .find(|(_, der)| webpki::anchor_from_trusted_cert(der).is_ok_and(|a| a.subject.as_ref() == anchor_subject))
        .map(|(cert, _)| cert);
    let anchor = anchor_certificate.map(|cert| cert.tbs_certificate().subject().to_string()).unwrap_or_default();
    let issuer_certificate = match path.intermediate_certificates().next() {
        Some(intermediate) => Certificate::from_der(intermediate.der().as_ref())
            .map_err(|e| CertificateProblem::Malformed(format!("issuer: {e}")))?,
        None => anchor_certificate
            .cloned()
            .ok_or_else(|| CertificateProblem::Malformed("the trust anchor of the path is not configured".into()))?,
    };

    check_key_usage(certificate, purpose)?;
    if purpose == Purpose::Encryption && email_addresses(certificate).is_empty() {
        return Err(CertificateProblem::NoEmailAddress);
    }

    // webpki consults a CRL only when its issuer is the certificate's issuer (and checks
    // its signature with the issuer's key); with `UnknownStatusPolicy::Allow` it does not
    // tell whether one did, so look for such a CRL ourselves.
    let issuer = certificate.tbs_certificate().issuer().to_der().unwrap_or_default();
    let revocation_checked = crls.iter().any(|crl| name_value(&issuer) == Some(crl.issuer()));

    Ok(ValidatedChain { anchor, revocation_checked, issuer: issuer_certificate })
}

/// The certificate's e-mail addresses: rfc822Name SANs, SmtpUTF8Mailbox otherNames and
/// legacy PKCS#9 emailAddress in the subject, in that order, without duplicates.
///
/// The domain part is lowercased (RFC 5321 §2.4: domains are case-insensitive; local
/// parts are kept as they are). Values without `@` are skipped.
pub fn email_addresses(certificate: &Certificate) -> Vec<String> {
    let tbs = certificate.tbs_certificate();
    let mut found: Vec<String> = Vec::new();
    let mut push = |address: &str| {
        if let Some(normalised) = normalise_address(address)
            && !found.contains(&normalised)
        {
            found.push(normalised);
        }
    };
    // SubjectAltName ::= GeneralNames (RFC 5280 §4.2.1.6); a certificate with two SAN
    // extensions is malformed and contributes none.
    if let Ok(Some((_, SubjectAltName(names)))) = tbs.get_extension::<SubjectAltName>() {
        for name in &names {
            if let GeneralName::Rfc822Name(address) = name {
                push(address.as_str());
            }
        }
        for name in &names {
            // SmtpUTF8Mailbox ::= UTF8String (SIZE (1..MAX)), in an otherName (RFC 8398 §3).
            if let GeneralName::OtherName(other) = name
                && other.type_id == algorithms::ID_ON_SMTP_UTF8_MAILBOX
                && let Ok(mailbox) = other.value.decode_as::<String>()
            {
                push(&mailbox);
            }
        }
    }
    for atav in tbs.subject().iter() {
        if atav.oid == algorithms::PKCS9_EMAIL_ADDRESS
            && let Ok(text) = std::str::from_utf8(atav.value.value())
            && matches!(atav.value.tag(), Tag::Ia5String | Tag::Utf8String | Tag::PrintableString)
        {
            push(text);
        }
    }
    found
}

/// The DER value bytes of id-kp-emailProtection (1.3.6.1.5.5.7.3.4), as webpki wants them.
const EKU_EMAIL_PROTECTION: &[u8] = algorithms::ID_KP_EMAIL_PROTECTION.as_bytes();

fn encode_all(certificates: &[Certificate]) -> Result<Vec<CertificateDer<'static>>, CertificateProblem> {
    certificates
        .iter()
        .map(|c| c.to_der().map(CertificateDer::from))
        .collect::<der::Result<Vec<_>>>()
        .map_err(|e| CertificateProblem::Malformed(format!("certificate: {e}")))
}

/// DER CRLs; PEM ("-----BEGIN X509 CRL-----") input is decoded too, so that a caller
/// passing a file's contents unchanged still gets revocation checking. PEM without a
/// readable CRL block is an error: a CRL the user gave must never be silently ignored.
fn crl_der_list(crls: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, CertificateProblem> {
    let mut out = Vec::new();
    for crl in crls {
        if !crate::keys::is_pem(crl) {
            out.push(crl.clone());
            continue;
        }
        let before = out.len();
        out.extend(
            crate::keys::pem_blocks(crl).into_iter().filter(|(label, _)| label.ends_with("CRL")).map(|(_, d)| d),
        );
        if out.len() == before {
            return Err(CertificateProblem::Malformed("CRL: no readable PEM CRL block".into()));
        }
    }
    Ok(out)
}

/// The value octets of a DER TLV (a Name without its SEQUENCE header), as webpki stores it.
fn name_value(der: &[u8]) -> Option<&[u8]> {
    let mut reader = der::SliceReader::new(der).ok()?;
    let header = der::Header::decode(&mut reader).ok()?;
    reader.read_slice(header.length()).ok()
}

/// Key usage for the purpose (RFC 8550 §4.4.2, RFC 5280 §4.2.1.3). No extension means
/// no restriction.
fn check_key_usage(certificate: &Certificate, purpose: Purpose) -> Result<(), CertificateProblem> {
    let tbs = certificate.tbs_certificate();
    let usage = match tbs.get_extension::<KeyUsage>() {
        Ok(Some((_, usage))) => usage,
        Ok(None) => return Ok(()),
        Err(e) => return Err(CertificateProblem::Malformed(format!("key usage extension: {e}"))),
    };
    match purpose {
        Purpose::Signing if !(usage.digital_signature() || usage.non_repudiation()) => {
            Err(CertificateProblem::KeyUsage("signing (digitalSignature or nonRepudiation)"))
        }
        Purpose::Encryption => {
            let key_algorithm = tbs.subject_public_key_info().algorithm.oid;
            if key_algorithm == algorithms::ID_EC_PUBLIC_KEY {
                if usage.key_agreement() { Ok(()) } else { Err(CertificateProblem::KeyUsage("key agreement")) }
            } else if usage.key_encipherment() {
                Ok(())
            } else {
                Err(CertificateProblem::KeyUsage("key encipherment"))
            }
        }
        Purpose::Signing => Ok(()),
    }
}

fn map_webpki_error(error: webpki::Error, certificate: &Certificate) -> CertificateProblem {
    let validity = certificate.tbs_certificate().validity();
    let period = format!("valid from {} to {}", validity.not_before, validity.not_after);
    match error {
        webpki::Error::UnknownIssuer => {
            CertificateProblem::Untrusted("it does not chain to a configured trust anchor".into())
        }
        webpki::Error::CertExpired { .. } => CertificateProblem::Expired(format!("expired; {period}")),
        webpki::Error::CertNotValidYet { .. } => CertificateProblem::Expired(format!("not yet valid; {period}")),
        webpki::Error::InvalidCertValidity => CertificateProblem::Expired(format!("invalid validity; {period}")),
        webpki::Error::CertRevoked => CertificateProblem::Revoked,
        webpki::Error::RequiredEkuNotFoundContext(_) | webpki::Error::EmptyEkuExtension => {
            CertificateProblem::WrongExtendedKeyUsage
        }
        webpki::Error::UnsupportedSignatureAlgorithmContext(_)
        | webpki::Error::UnsupportedSignatureAlgorithmForPublicKeyContext(_) => CertificateProblem::Untrusted(
            "its chain is signed with an algorithm that is not accepted (e.g. SHA-1, MD5 or RSA below 2048 bits)"
                .into(),
        ),
        webpki::Error::BadDer | webpki::Error::BadDerTime | webpki::Error::TrailingData(_) => {
            CertificateProblem::Malformed(format!("{error}"))
        }
        other => CertificateProblem::Untrusted(format!("{other}")),
    }
}

/// `local@domain` with the domain lowercased; `None` without an `@`.
fn normalise_address(address: &str) -> Option<String> {
    let address = address.trim();
    let (local, domain) = address.rsplit_once('@')?;
    if local.is_empty() || domain.is_empty() {
        return None;
    }
    Some(format!("{local}@{}", domain.to_lowercase()))
}
