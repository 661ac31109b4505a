//! [`CertSummary`]: what `keys list` and `certs list` show about a certificate.

use std::time::SystemTime;

use smime_crypto::{Certificate, email_addresses};
use x509_cert::ext::pkix::BasicConstraints;

use super::Fingerprint;

/// The facts about a certificate that listings show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertSummary {
    /// SHA-256 of the DER certificate.
    pub fingerprint: Fingerprint,
    /// E-mail addresses (SAN rfc822Name first; domain lower-cased).
    pub addresses: Vec<String>,
    /// Subject, RFC 4514 style.
    pub subject: String,
    /// Issuer, RFC 4514 style.
    pub issuer: String,
    /// Start of validity.
    pub not_before: SystemTime,
    /// End of validity.
    pub not_after: SystemTime,
}

impl CertSummary {
    /// Summarises `certificate`; `None` only if it cannot be re-encoded.
    pub fn of(certificate: &Certificate) -> Option<Self> {
        let tbs = certificate.tbs_certificate();
        Some(Self {
            fingerprint: Fingerprint::of(certificate)?,
            addresses: email_addresses(certificate),
            subject: tbs.subject().to_string(),
            issuer: tbs.issuer().to_string(),
            not_before: tbs.validity().not_before.to_system_time(),
            not_after: tbs.validity().not_after.to_system_time(),
        })
    }

    /// True when `address` is one of the certificate's (ASCII case-insensitive).
    pub fn has_address(&self, address: &str) -> bool {
        let address = address.trim();
        self.addresses.iter().any(|a| a.eq_ignore_ascii_case(address))
    }

    /// `not_before .. not_after` as RFC 3339 dates.
    pub fn validity(&self) -> String {
        format!("{} .. {}", super::files::rfc3339(self.not_before), super::files::rfc3339(self.not_after))
    }
}

/// True when `certificate` says it is a CA (basicConstraints cA = TRUE).
pub fn is_ca(certificate: &Certificate) -> bool {
    matches!(certificate.tbs_certificate().get_extension::<BasicConstraints>(), Ok(Some((_, bc))) if bc.ca)
}
