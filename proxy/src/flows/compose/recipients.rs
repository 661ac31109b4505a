//! Addresses as a webmail posts them (`Bob <bob@example.test>, carol@example.test,`) and
//! the certificates to encrypt to: every recipient and the sender, each validated now.

use std::time::SystemTime;

use smime_crypto::{Certificate, TrustOptions};

use crate::store::{CertStore, StoreError};

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

/// A plausible `local@domain` (the webmail and its SMTP server judge the rest).
fn is_address(a: &str) -> bool {
    let Some((local, domain)) = a.rsplit_once('@') else { return false };
    !local.is_empty() && !domain.is_empty() && !a.contains(char::is_whitespace) && !a.contains(['<', '>', ','])
}

/// A recipient that cannot be encrypted to, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NoCertificate {
    /// The address.
    pub(crate) address: String,
    /// Why: no certificate, or each stored one's reason.
    pub(crate) reason: String,
}

/// The certificate of each address, validated for encryption now; or every address that
/// has none usable.
pub(crate) fn certificates_for(
    store: &CertStore,
    trust: &TrustOptions,
    addresses: &[&str],
) -> Result<Result<Vec<Certificate>, Vec<NoCertificate>>, StoreError> {
    let now = SystemTime::now();
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for address in addresses {
        match store.usable_for(address, trust, now)? {
            Ok(certificate) => found.push(certificate),
            Err(candidates) if candidates.is_empty() => {
                missing.push(NoCertificate { address: (*address).to_owned(), reason: "no certificate is known".into() })
            }
            Err(candidates) => {
                let reasons: Vec<String> =
                    candidates.iter().filter_map(|c| c.verdict.as_ref().err()).map(ToString::to_string).collect();
                missing.push(NoCertificate { address: (*address).to_owned(), reason: reasons.join("; ") });
            }
        }
    }
    Ok(if missing.is_empty() { Ok(found) } else { Err(missing) })
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
    }
}
