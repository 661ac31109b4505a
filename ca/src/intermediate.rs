//! [`Intermediate`]: the CA that signs the leaves of one run. Minted in memory from the
//! unsealed root, never written, valid a few days, and name-constrained (RFC 5280
//! §4.2.1.10, critical) to the names the proxy intercepts: a leaf for any other name,
//! even one minted by hand with its key, fails validation in every browser.
//!
//! ```text
//! NameConstraints ::= SEQUENCE {
//!      permittedSubtrees       [0]     GeneralSubtrees OPTIONAL,
//!      excludedSubtrees        [1]     GeneralSubtrees OPTIONAL }
//! ```
//!
//! Permitted: one dNSName subtree per intercepted host (the host and its subdomains), one
//! iPAddress subtree (a /32 or /128) per intercepted IP address. A verifier checks names
//! only against subtrees of their own type, so when no IP address is intercepted every
//! IPv4 and IPv6 address is excluded explicitly.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rcgen::{
    BasicConstraints, CertificateParams, CidrSubnet, DistinguishedName, DnType, GeneralSubtree, IsCa, Issuer,
    KeyUsagePurpose, NameConstraints,
};
use rustls::pki_types::CertificateDer;
use time::{Duration, OffsetDateTime};

use crate::key::CaKey;
use crate::{Error, LocalCa, serial::random_serial};

/// How long an intermediate is valid: a stolen copy of a running proxy's memory
/// impersonates the configured sites for at most this long. Each unlock mints a new one.
pub const INTERMEDIATE_VALIDITY: Duration = Duration::days(7);

/// The name-constrained CA of one run.
pub struct Intermediate {
    issuer: Issuer<'static, CaKey>,
    der: CertificateDer<'static>,
    permitted: Vec<Permitted>,
    not_after: OffsetDateTime,
}

/// One permitted name: a DNS subtree or one address.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Permitted {
    Dns(String),
    Ip(IpAddr),
}

impl Intermediate {
    /// Mints an intermediate under `root` permitting exactly `hosts` (DNS names, with
    /// their subdomains, or IP addresses, IPv6 with or without brackets), valid for
    /// `validity` from now (the start back-dated an hour for clock skew).
    pub fn mint(root: &LocalCa, hosts: &[String], validity: Duration) -> Result<Self, Error> {
        if !root.certificate().allows_an_intermediate() {
            return Err(Error::RootTooNarrow);
        }
        let permitted = hosts.iter().map(|h| permitted_name(h)).collect::<Result<Vec<_>, _>>()?;
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, "smime-proxy run intermediate");
        name.push(DnType::OrganizationName, "smime-proxy");
        params.distinguished_name = name;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::DigitalSignature];
        params.name_constraints = Some(constraints(&permitted));
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + validity;
        params.serial_number = Some(random_serial()?);
        let key = CaKey::generate()?;
        let cert = params.signed_by(&key, root.issuer())?;
        let der = cert.der().clone();
        let not_after = params.not_after;
        Ok(Self { issuer: Issuer::new(params, key), der, permitted, not_after })
    }

    /// The certificate, DER.
    pub fn der(&self) -> &CertificateDer<'static> {
        &self.der
    }

    /// When it expires.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// Whether a leaf for `host` falls inside the name constraints (compared as the
    /// verifiers do: a DNS name equal to a permitted one or below it; an IP address equal).
    pub fn permits(&self, host: &str) -> bool {
        let bare = host.trim_start_matches('[').trim_end_matches(']');
        if let Ok(ip) = bare.parse::<IpAddr>() {
            return self.permitted.contains(&Permitted::Ip(ip));
        }
        let host = host.to_ascii_lowercase();
        self.permitted.iter().any(|p| match p {
            Permitted::Dns(name) => host == *name || host.strip_suffix(name.as_str()).is_some_and(|s| s.ends_with('.')),
            Permitted::Ip(_) => false,
        })
    }

    /// The issuer that signs leaves.
    pub(crate) fn issuer(&self) -> &Issuer<'static, CaKey> {
        &self.issuer
    }
}

impl std::fmt::Debug for Intermediate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Intermediate")
            .field("permitted", &self.permitted)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

fn permitted_name(host: &str) -> Result<Permitted, Error> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(Permitted::Ip(ip));
    }
    let host = host.to_ascii_lowercase();
    if crate::leaf::is_dns_name(&host) { Ok(Permitted::Dns(host)) } else { Err(Error::InvalidHost { host }) }
}

fn constraints(permitted: &[Permitted]) -> NameConstraints {
    let permitted_subtrees = permitted
        .iter()
        .map(|name| match name {
            Permitted::Dns(dns) => GeneralSubtree::DnsName(dns.clone()),
            Permitted::Ip(ip) => {
                let prefix = if ip.is_ipv4() { 32 } else { 128 };
                GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(*ip, prefix))
            }
        })
        .collect();
    let any_ip = permitted.iter().any(|p| matches!(p, Permitted::Ip(_)));
    let excluded_subtrees = if any_ip {
        Vec::new()
    } else {
        vec![
            GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)),
            GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(IpAddr::V6(Ipv6Addr::UNSPECIFIED), 0)),
        ]
    };
    NameConstraints { permitted_subtrees, excluded_subtrees }
}

#[cfg(test)]
mod tests {
    use super::*;
    use x509_parser::extensions::{GeneralName, ParsedExtension};

    fn hosts(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn carries_critical_name_constraints_for_the_hosts() {
        let root = LocalCa::generate("t").unwrap();
        let inter =
            Intermediate::mint(&root, &hosts(&["mail.example.org", "smime-proxy.invalid"]), INTERMEDIATE_VALIDITY)
                .unwrap();
        let (_, cert) = x509_parser::parse_x509_certificate(inter.der()).unwrap();
        let ext = cert.extensions().iter().find(|e| e.oid == x509_parser::oid_registry::OID_X509_EXT_NAME_CONSTRAINTS);
        let ext = ext.expect("a nameConstraints extension");
        assert!(ext.critical, "name constraints must be critical");
        let ParsedExtension::NameConstraints(nc) = ext.parsed_extension() else { panic!("not parsed") };
        let permitted: Vec<_> = nc.permitted_subtrees.as_ref().unwrap().iter().map(|s| s.base.clone()).collect();
        assert_eq!(
            permitted,
            vec![GeneralName::DNSName("mail.example.org"), GeneralName::DNSName("smime-proxy.invalid")]
        );
        assert_eq!(nc.excluded_subtrees.as_ref().unwrap().len(), 2, "all IPv4 and IPv6 excluded");
        let bc = cert.basic_constraints().unwrap().unwrap().value;
        assert!(bc.ca && bc.path_len_constraint == Some(0));
        assert!(cert.validity().time_to_expiration().unwrap() <= INTERMEDIATE_VALIDITY);
        assert_eq!(cert.issuer(), x509_parser::parse_x509_certificate(root.certificate().der()).unwrap().1.subject());
    }

    #[test]
    fn permits_the_hosts_their_subdomains_and_nothing_else() {
        let root = LocalCa::generate("t").unwrap();
        let inter = Intermediate::mint(&root, &hosts(&["mail.example.org", "127.0.0.1"]), Duration::days(1)).unwrap();
        assert!(inter.permits("mail.example.org") && inter.permits("MAIL.example.org"));
        assert!(inter.permits("a.mail.example.org"));
        assert!(inter.permits("127.0.0.1"));
        for other in ["example.org", "evilmail.example.org", "mail.example.org.evil", "127.0.0.2", "[::1]"] {
            assert!(!inter.permits(other), "{other}");
        }
    }

    #[test]
    fn a_root_that_allows_no_intermediate_is_refused() {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::default();
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        let cert = params.self_signed(&key).unwrap();
        let certificate = crate::RootCertificate::from_pem(&cert.pem(), std::path::Path::new("ca.pem")).unwrap();
        let root = LocalCa::from_parts(certificate, &key.serialize_der(), std::path::Path::new("k")).unwrap();
        let err = Intermediate::mint(&root, &hosts(&["a.example"]), Duration::days(1)).unwrap_err();
        assert!(matches!(err, Error::RootTooNarrow), "{err}");
    }

    /// Mints, with the intermediate's key but past our minter's check, a leaf for a host
    /// outside the constraints (what a thief of the running proxy's memory could do), and
    /// asks OpenSSL: the leaf for a permitted host verifies, this one does not. With
    /// `SMIME_CA_CHAIN_OUT=DIR` the chain is left in DIR for the browser test
    /// (tests/e2e/ca-constraints.mjs): root.pem, intermediate.pem, inside.pem (ours, for
    /// permitted.test), inside-by-hand.pem (for www.permitted.test) and outside.pem (for
    /// outside.test), both made by hand with one profile, and leaf-key.pem.
    #[test]
    fn openssl_rejects_a_hand_minted_leaf_outside_the_constraints() {
        use std::process::Command;
        let tmp = tempfile::tempdir().unwrap();
        let out = std::env::var_os("SMIME_CA_CHAIN_OUT").map_or_else(|| tmp.path().to_path_buf(), Into::into);
        let root = LocalCa::generate("t").unwrap();
        let inter =
            Intermediate::mint(&root, &hosts(&["permitted.test", "smime-proxy.invalid"]), Duration::days(1)).unwrap();
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let inside = crate::LeafProfile::default().mint(&inter, &key, "permitted.test").unwrap();
        assert!(matches!(
            crate::LeafProfile::default().mint(&inter, &key, "outside.test"),
            Err(Error::NotPermitted { .. })
        ));
        let by_hand = |host: &str| {
            let mut params = CertificateParams::new(vec![host.to_owned()]).unwrap();
            params.distinguished_name.push(DnType::CommonName, host);
            params.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
            params.not_before = OffsetDateTime::now_utc() - Duration::hours(1);
            params.not_after = OffsetDateTime::now_utc() + Duration::hours(20);
            params.signed_by(&key, inter.issuer()).unwrap()
        };
        // The same hand-made profile for a permitted name: only the name differs.
        let inside_by_hand = by_hand("www.permitted.test");
        let outside = by_hand("outside.test");

        let pem = crate::root::pem_block;
        let write = |name: &str, text: String| std::fs::write(out.join(name), text).unwrap();
        write("root.pem", root.certificate().pem().to_owned());
        write("intermediate.pem", pem(inter.der()));
        write("inside.pem", pem(&inside));
        write("inside-by-hand.pem", pem(inside_by_hand.der()));
        write("outside.pem", pem(outside.der()));
        write("leaf-key.pem", key.serialize_pem());

        let verify = |leaf: &str| {
            let output = Command::new("openssl")
                .args([
                    "verify",
                    "-purpose",
                    "sslserver",
                    "-CAfile",
                    "root.pem",
                    "-untrusted",
                    "intermediate.pem",
                    leaf,
                ])
                .current_dir(&out)
                .output()
                .expect("openssl runs");
            (
                output.status.success(),
                String::from_utf8_lossy(&output.stdout).into_owned() + &String::from_utf8_lossy(&output.stderr),
            )
        };
        for leaf in ["inside.pem", "inside-by-hand.pem"] {
            let (ok, text) = verify(leaf);
            assert!(ok, "{leaf}: a permitted leaf verifies: {text}");
        }
        let (ok, text) = verify("outside.pem");
        assert!(!ok, "a leaf outside the constraints must not verify: {text}");
        assert!(text.contains("permitted subtree violation"), "{text}");
    }

    #[test]
    fn bad_hosts_are_refused() {
        let root = LocalCa::generate("t").unwrap();
        let err = Intermediate::mint(&root, &hosts(&["bad host"]), Duration::days(1)).unwrap_err();
        assert!(matches!(err, Error::InvalidHost { .. }), "{err}");
    }
}
