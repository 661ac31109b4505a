//! Addresses as a webmail posts them (`Bob <bob@example.test>, carol@example.test,`) and
//! the certificates to encrypt to: every recipient and the sender, each validated now.

use std::time::SystemTime;

use smime_crypto::{Capabilities, Certificate, CertificateProblem, Purpose, TrustOptions, ValidatedChain};

use crate::directory::Directories;
use crate::flows::Services;
use crate::pki::{Checked, Pki};
use crate::store::{self, CertStore, StoreError, Unusable};

/// One mailbox: display name and address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Mailbox {
    /// Display name, when given.
    pub(crate) name: Option<String>,
    /// The address.
    pub(crate) address: String,
}

/// Parses a posted address list. Returns the mailboxes, or the part that is not an
/// address.
pub(crate) fn parse_list(posted: &str) -> Result<Vec<Mailbox>, String> {
    let trimmed = posted.trim().trim_end_matches([',', ';']).trim();
    if trimmed.is_empty() {
        return Ok(Vec::new());
    }
    // mail-parser reads address lists as header values; feed it one field.
    let raw = format!("To: {}\r\n\r\n", trimmed.replace(['\r', '\n'], " "));
    let message = mail_parser::MessageParser::default().parse(raw.as_bytes());
    let list: Vec<Mailbox> = message
        .as_ref()
        .and_then(|m| m.to())
        .map(|to| {
            to.iter()
                .map(|a| Mailbox {
                    name: a.name().map(str::to_owned).filter(|n| !n.is_empty()),
                    address: a.address().unwrap_or_default().trim().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default();
    match list.iter().find(|m| !is_address(&m.address)) {
        Some(bad) => Err(bad.name.clone().unwrap_or_else(|| bad.address.clone())),
        None if list.is_empty() => Err(trimmed.to_owned()),
        None => Ok(list),
    }
}

/// A plausible `local@domain`: an unquoted local part, a domain of letters, digits, `-`
/// and `.` (or an internationalised one), nothing that separates or groups addresses in
/// a header field (the webmail and its SMTP server judge the rest).
fn is_address(a: &str) -> bool {
    const SPECIALS: [char; 11] = ['<', '>', ',', ';', ':', '"', '(', ')', '[', ']', '\\'];
    let Some((local, domain)) = a.rsplit_once('@') else { return false };
    let domain_ok = domain.chars().all(|c| c.is_alphanumeric() || c == '-' || c == '.')
        && !domain.starts_with('.')
        && !domain.ends_with('.');
    !local.is_empty()
        && !domain.is_empty()
        && domain_ok
        && !local.contains('@')
        && !a.contains(char::is_whitespace)
        && !a.chars().any(|c| c.is_control() || SPECIALS.contains(&c))
}

/// A recipient that cannot be encrypted to, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NoCertificate {
    /// The address.
    pub(crate) address: String,
    /// Why: no certificate, or each candidate's reason.
    pub(crate) reason: String,
}

/// A certificate to encrypt to.
#[derive(Debug, Clone)]
pub(crate) struct Recipient {
    /// The address it is for.
    pub(crate) address: String,
    /// The certificate.
    pub(crate) certificate: Certificate,
    /// What its holder announced it can decrypt, when known (see `certs list`).
    pub(crate) capabilities: Option<Capabilities>,
}

/// The certificates to encrypt to, with what the user should know about them.
#[derive(Debug, Default)]
pub(crate) struct Resolved {
    /// One usable certificate per address.
    pub(crate) recipients: Vec<Recipient>,
    /// Addresses without one (nothing may be sent when this is not empty).
    pub(crate) missing: Vec<NoCertificate>,
    /// Revocation sources that could not be asked (soft mode went on without them).
    pub(crate) notices: Vec<String>,
}

/// What finding recipients' certificates uses: the store, the anchors, the online checks.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Resolver<'a> {
    /// Stored certificates.
    pub(crate) certs: &'a CertStore,
    /// Trust anchors.
    pub(crate) trust: &'a TrustOptions,
    /// Chain completion and revocation.
    pub(crate) pki: &'a Pki,
    /// LDAP directories.
    pub(crate) directories: &'a Directories,
}

impl<'a> From<&'a Services> for Resolver<'a> {
    fn from(services: &'a Services) -> Self {
        Self { certs: &services.certs, trust: &services.trust, pki: &services.pki, directories: &services.directories }
    }
}

/// A certificate that may be encrypted to now, with how that was established.
#[derive(Debug, Clone)]
pub(crate) struct Accepted {
    /// The certificate.
    pub(crate) certificate: Certificate,
    /// The chain it validated through.
    pub(crate) chain: ValidatedChain,
    /// What its revocation check found (good, no sources, off, or unavailable in soft mode).
    pub(crate) checked: Checked,
}

impl Accepted {
    /// What the user should be told: the reason its revocation could not be checked.
    pub(crate) fn notice(&self) -> Option<String> {
        matches!(self.checked, Checked::Unavailable(_)).then(|| self.checked.describe())
    }
}

/// The certificate of each address, validated for encryption now (chain completed from
/// caIssuers when an intermediate is missing) and checked for revocation: from the store
/// first, then from the configured directories (a usable one found there is remembered).
pub(crate) async fn certificates_for(resolver: Resolver<'_>, addresses: &[&str]) -> Result<Resolved, StoreError> {
    let mut resolved = Resolved::default();
    for address in addresses {
        let mut reasons = Vec::new();
        let mut chosen = None;
        for candidate in resolver.certs.lookup(address, resolver.trust, SystemTime::now())? {
            match usable(resolver, &candidate.entry.certificate, &[], address, candidate.verdict).await {
                Ok(ok) => {
                    chosen = Some((ok, candidate.entry.capabilities()));
                    break;
                }
                Err(reason) => reasons.push(reason),
            }
        }
        if chosen.is_none() && !resolver.directories.is_empty() {
            match from_directories(resolver, address, true).await {
                Ok(ok) => chosen = Some((ok, None)),
                Err(more) => reasons.extend(more),
            }
        }
        match chosen {
            Some((accepted, capabilities)) => {
                resolved.notices.extend(accepted.notice().map(|n| format!("{address}: {n}")));
                let certificate = accepted.certificate;
                resolved.recipients.push(Recipient { address: (*address).to_owned(), certificate, capabilities });
            }
            None => {
                let reason = if reasons.is_empty() { "no certificate is known".to_owned() } else { reasons.join("; ") };
                resolved.missing.push(NoCertificate { address: (*address).to_owned(), reason });
            }
        }
    }
    Ok(resolved)
}

/// The first usable certificate the directories hold for `address`, remembered in the
/// store with its source when `remember`; or every reason there is none.
pub(crate) async fn from_directories(
    resolver: Resolver<'_>,
    address: &str,
    remember: bool,
) -> Result<Accepted, Vec<String>> {
    let lookup = resolver.directories.lookup(address).await;
    let mut reasons = Vec::new();
    for found in lookup.found {
        let verdict = store::check(&found.certificate, address, resolver.trust, SystemTime::now());
        match usable(resolver, &found.certificate, &found.bundle, address, verdict).await {
            Ok(ok) if !remember => return Ok(ok),
            Ok(ok) => {
                let source = format!("directory {}", found.directory);
                match resolver.certs.add_from(&found.certificate, &source, SystemTime::now()) {
                    Ok((entry, _)) => tracing::info!(fingerprint = %entry.summary.fingerprint, %source,
                        "remembered a recipient's certificate from a directory"),
                    Err(error) => tracing::warn!(%error, "cannot store a directory's certificate"),
                }
                return Ok(ok);
            }
            Err(reason) => reasons.push(format!("{reason} (from {})", found.directory)),
        }
    }
    reasons.extend(lookup.failures);
    if reasons.is_empty() {
        reasons.push("no directory knows a certificate for it".into());
    }
    Err(reasons)
}

/// A candidate whose offline verdict is `verdict`: accepted (revocation checked), or why
/// not. An untrusted chain is retried with its missing issuers fetched.
pub(crate) async fn usable(
    resolver: Resolver<'_>,
    certificate: &Certificate,
    presented: &[Certificate],
    address: &str,
    verdict: Result<ValidatedChain, Unusable>,
) -> Result<Accepted, String> {
    let now = SystemTime::now();
    let chain = match verdict {
        Ok(chain) => chain,
        Err(Unusable::Certificate(CertificateProblem::Untrusted(_))) => resolver
            .pki
            .validate(certificate, presented, Purpose::Encryption, resolver.trust, now)
            .await
            .map_err(|e| e.to_string())?,
        Err(other) => return Err(other.to_string()),
    };
    let checked = resolver.pki.check(certificate, &chain.issuer).await;
    if let Some(refusal) = resolver.pki.refusal(&checked) {
        tracing::info!(address, "recipient certificate refused after its revocation check");
        return Err(refusal);
    }
    Ok(Accepted { certificate: certificate.clone(), chain, checked })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mb(name: Option<&str>, address: &str) -> Mailbox {
        Mailbox { name: name.map(str::to_owned), address: address.into() }
    }

    #[test]
    fn posted_lists() {
        assert_eq!(parse_list("").unwrap(), vec![]);
        assert_eq!(parse_list(" , ").unwrap(), vec![]);
        assert_eq!(parse_list("bob@example.test,").unwrap(), vec![mb(None, "bob@example.test")]);
        assert_eq!(
            parse_list("Bob Smith <bob@example.test>, \"Carol, C.\" <carol@example.test>; ").unwrap(),
            vec![mb(Some("Bob Smith"), "bob@example.test"), mb(Some("Carol, C."), "carol@example.test")]
        );
        assert_eq!(parse_list("bob, carol@example.test").unwrap_err(), "bob");
        assert!(parse_list("<>").is_err());
        // Found by the address_list fuzz target: a colon (group syntax) in the domain.
        assert_eq!(parse_list("Bob Smith <bob@example.te:t>").unwrap_err(), "Bob Smith");
        assert!(parse_list("x@[127.0.0.1]").is_err(), "no address literals");
        assert!(parse_list("a@b@example.test").is_err());
        assert_eq!(parse_list("Jörg <joerg@bücher.example>").unwrap(), vec![mb(Some("Jörg"), "joerg@bücher.example")]);
    }
}
