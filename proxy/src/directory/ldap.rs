//! One LDAP search with ldap3: connect (ldap://, ldap:// + StartTLS, ldaps://, TLS
//! verified by the proxy's roots), bind (anonymous or simple), search, unbind.

use std::sync::Arc;
use std::time::Duration;

use ldap3::{LdapConnAsync, LdapConnSettings, Scope, SearchEntry, SearchOptions, ldap_escape};
use smime_crypto::Certificate;
use zeroize::Zeroizing;

use crate::config::DirectoryConfig;

/// Attributes asked for, preferred first (RFC 2798 userSMIMECertificate is a PKCS#7
/// bundle; userCertificate;binary a DER certificate).
const ATTRIBUTES: [&str; 3] = ["userSMIMECertificate", "userCertificate;binary", "userCertificate"];
/// At most this many entries per search.
const SIZE_LIMIT: i32 = 10;

/// The certificate values found: one bundle per attribute value, the preferred
/// attribute's first; and the values that are not certificates.
#[derive(Debug, Default)]
pub(super) struct Values {
    pub(super) certificates: Vec<Vec<Certificate>>,
    pub(super) unreadable: Vec<String>,
}

/// Searches `directory` for `address`.
pub(super) async fn search(
    directory: DirectoryConfig,
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
    address: String,
) -> Result<Values, String> {
    let settings = LdapConnSettings::new().set_conn_timeout(timeout).set_starttls(directory.starttls).set_config(tls);
    let (conn, mut ldap) =
        LdapConnAsync::with_settings(settings, &directory.url).await.map_err(|e| format!("cannot connect ({e})"))?;
    ldap3::drive!(conn);
    if let Some((dn, password_file)) = &directory.bind {
        let password = Zeroizing::new(
            std::fs::read_to_string(password_file)
                .map_err(|e| format!("cannot read the password file {} ({e})", password_file.display()))?,
        );
        let password = password.trim_end_matches(['\r', '\n']);
        ldap.with_timeout(timeout)
            .simple_bind(dn, password)
            .await
            .and_then(|r| r.success())
            .map_err(|e| format!("the bind as {dn} failed ({e})"))?;
    }
    let filter = directory.filter.replace("{address}", &ldap_escape(address.as_str()));
    let (entries, _) = ldap
        .with_search_options(SearchOptions::new().sizelimit(SIZE_LIMIT).timelimit(timeout.as_secs().max(1) as i32))
        .with_timeout(timeout)
        .search(&directory.base, Scope::Subtree, &filter, ATTRIBUTES.to_vec())
        .await
        .and_then(|r| r.success())
        .map_err(|e| format!("the search failed ({e})"))?;
    let _ = ldap.unbind().await;

    let mut values = Values::default();
    for entry in entries {
        let entry = SearchEntry::construct(entry);
        let mut by_preference: Vec<(usize, String, Vec<u8>)> = Vec::new();
        let text_values = entry.attrs.iter().flat_map(|(k, vs)| vs.iter().map(move |v| (k, v.as_bytes().to_vec())));
        let binary_values = entry.bin_attrs.iter().flat_map(|(k, vs)| vs.iter().map(move |v| (k, v.clone())));
        for (name, value) in text_values.chain(binary_values) {
            let base = name.split(';').next().unwrap_or_default().to_ascii_lowercase();
            let rank = match base.as_str() {
                "usersmimecertificate" => 0,
                "usercertificate" => 1,
                _ => continue,
            };
            by_preference.push((rank, name.clone(), value));
        }
        by_preference.sort_by_key(|(rank, _, _)| *rank);
        for (_, name, value) in by_preference {
            match smime_crypto::load_certificates(&value) {
                Ok(bundle) => values.certificates.push(bundle),
                Err(_) => values.unreadable.push(format!("{}'s {name} is not a certificate", entry.dn)),
            }
        }
    }
    Ok(values)
}
