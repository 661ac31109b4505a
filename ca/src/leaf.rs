//! Leaf certificates for intercepted hosts: the policy ([`LeafProfile`]) and the minting,
//! always by the run's [`Intermediate`], only for names its constraints permit.

use std::net::IpAddr;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
    string::Ia5String,
};
use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use crate::{Error, Intermediate, serial::random_serial};

/// The policy for minted leaves.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct LeafProfile {
    /// Validity from issuance (the start is back-dated by one hour for clock skew), cut
    /// to the intermediate's own expiry.
    pub validity: Duration,
}

impl Default for LeafProfile {
    /// 30 days: short, so a leaked leaf key (held in memory only) is useless soon; the
    /// cache re-mints long before expiry.
    fn default() -> Self {
        Self { validity: Duration::days(30) }
    }
}

impl LeafProfile {
    /// Mints a TLS server certificate for `host` (a DNS name, or an IP address with or
    /// without IPv6 brackets) with the public key of `leaf_key`, signed by `intermediate`.
    /// A host outside the intermediate's name constraints is [`Error::NotPermitted`].
    ///
    /// Profile: subject CN = host, one SAN (dNSName or iPAddress), keyUsage
    /// digitalSignature, extKeyUsage serverAuth, basicConstraints CA:FALSE, authority key
    /// identifier, random serial.
    pub fn mint(
        &self,
        intermediate: &Intermediate,
        leaf_key: &KeyPair,
        host: &str,
    ) -> Result<CertificateDer<'static>, Error> {
        let san = subject_alt_name(host)?;
        if !intermediate.permits(host) {
            return Err(Error::NotPermitted { host: host.to_owned() });
        }
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, host);
        params.distinguished_name = name;
        params.subject_alt_names = vec![san];
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = (now + self.validity).min(intermediate.not_after());
        params.serial_number = Some(random_serial()?);
        let cert = params.signed_by(leaf_key, intermediate.issuer())?;
        Ok(cert.der().clone())
    }
}

/// A DNS name: dot-separated labels of letters, digits, `-` and `_`, 253 octets at most
/// (what the CA mints leaves for; the proxy checks configured hosts with it too).
pub fn is_dns_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

fn subject_alt_name(host: &str) -> Result<SanType, Error> {
    let invalid = || Error::InvalidHost { host: host.to_owned() };
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(SanType::IpAddress(ip));
    }
    if !is_dns_name(host) {
        return Err(invalid());
    }
    Ia5String::try_from(host).map(SanType::DnsName).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::LocalCa;
    use x509_parser::extensions::GeneralName;

    const PERMITTED: [&str; 4] = ["mail.example.org", "127.0.0.1", "::1", "a_b.example"];

    fn mint(host: &str) -> Result<Vec<u8>, Error> {
        let root = LocalCa::generate("t").unwrap();
        let hosts: Vec<String> = PERMITTED.iter().map(|h| (*h).to_owned()).collect();
        let inter = Intermediate::mint(&root, &hosts, Duration::days(2)).unwrap();
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        LeafProfile::default().mint(&inter, &key, host).map(|c| c.to_vec())
    }

    #[test]
    fn dns_leaf_has_san_and_server_auth_and_ends_with_the_intermediate() {
        let der = mint("mail.example.org").unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
        let san = cert.subject_alternative_name().unwrap().unwrap().value;
        assert_eq!(san.general_names, vec![GeneralName::DNSName("mail.example.org")]);
        assert!(cert.extended_key_usage().unwrap().unwrap().value.server_auth);
        assert!(!cert.basic_constraints().unwrap().unwrap().value.ca);
        assert!(cert.validity().time_to_expiration().unwrap() <= Duration::days(2), "cut to the intermediate");
    }

    #[test]
    fn ip_hosts_get_an_ip_san() {
        for host in ["127.0.0.1", "[::1]"] {
            let der = mint(host).unwrap();
            let (_, cert) = x509_parser::parse_x509_certificate(&der).unwrap();
            let san = cert.subject_alternative_name().unwrap().unwrap().value;
            assert!(matches!(san.general_names[0], GeneralName::IPAddress(_)), "{host}");
        }
    }

    #[test]
    fn hosts_outside_the_constraints_are_refused() {
        for host in ["www.bank.example", "example.org", "10.0.0.1", "[::2]"] {
            assert!(matches!(mint(host), Err(Error::NotPermitted { .. })), "{host}");
        }
    }

    #[test]
    fn garbage_hosts_are_refused() {
        for host in ["", "a..b", "evil.com/x", "sp ace"] {
            assert!(matches!(mint(host), Err(Error::InvalidHost { .. })), "{host}");
        }
    }
}
