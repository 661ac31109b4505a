//! Which `host:port` is served with which rule: parsing `HOST[:PORT]` and looking up a
//! request's authority.

use std::sync::Arc;

use super::Rule;

/// One intercepted site.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Site {
    /// Lower-case host name or IP address (IPv6 without brackets).
    pub host: String,
    /// TCP port (443 when not given).
    pub port: u16,
    /// The rule serving it.
    pub rule: Arc<Rule>,
    /// The site's SMTP submission server (`host`, `port`), for rules that deliver over
    /// SMTP.
    pub submission: Option<(String, u16)>,
    /// Whether the rule's `[[encrypted_fields]]` apply to this site (opt-in: config
    /// `encrypted_fields = true`, flag option `encrypted_fields=true`). Off, the site's
    /// forms go as typed and its pages are not searched for armor.
    pub encrypted_fields: bool,
}

impl Site {
    /// `host:port` as a browser sends it in CONNECT (IPv6 bracketed).
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Parses `HOST[:PORT]` (IPv6 as `[::1]:443`) into a lower-case host and a port, 443 by
/// default. Returns a one-phrase reason on failure.
pub fn parse_host_port(spec: &str) -> Result<(String, u16), String> {
    let (host, port) = split_host_port(spec);
    let port = match port {
        None => 443,
        Some(p) => p.parse::<u16>().ok().filter(|p| *p != 0).ok_or_else(|| format!("`{p}` is not a port number"))?,
    };
    let host = host.to_ascii_lowercase();
    if !valid_host(&host) {
        return Err(format!("`{host}` is not a host name or IP address"));
    }
    Ok((host, port))
}

/// Splits an authority into host (brackets removed) and optional port text.
pub fn split_host_port(authority: &str) -> (&str, Option<&str>) {
    if let Some(rest) = authority.strip_prefix('[') {
        if let Some((host, after)) = rest.split_once(']') {
            return (host, after.strip_prefix(':'));
        }
        return (authority, None);
    }
    match authority.rsplit_once(':') {
        // A bare IPv6 address has several colons: no port.
        Some((host, port)) if !host.contains(':') => (host, Some(port)),
        _ => (authority, None),
    }
}

/// A DNS name (letters, digits, `-`, `_`, dot-separated labels) or an IP address.
pub fn valid_host(host: &str) -> bool {
    host.parse::<std::net::IpAddr>().is_ok() || smime_ca::is_dns_name(host)
}

/// The configured sites, looked up by request authority.
#[derive(Debug, Clone, Default)]
pub struct SiteTable {
    sites: Vec<Site>,
}

impl SiteTable {
    /// A table of `sites` (a later entry for the same host:port replaces an earlier one).
    pub fn new(sites: Vec<Site>) -> Self {
        let mut table = Self { sites: Vec::new() };
        for site in sites {
            table.sites.retain(|s| !(s.host == site.host && s.port == site.port));
            table.sites.push(site);
        }
        table
    }

    /// The site for `host` and `port` (host compared case-insensitively).
    pub fn lookup(&self, host: &str, port: u16) -> Option<&Site> {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.sites.iter().find(|s| s.port == port && s.host.eq_ignore_ascii_case(host))
    }

    /// Whether a configured site's rule blocks `host` (a third-party service the
    /// webmail's page would send text to, such as a cloud spell checker).
    pub fn blocks(&self, host: &str) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        self.sites.iter().any(|s| s.rule.blocked_hosts.iter().any(|b| b.eq_ignore_ascii_case(host)))
    }

    /// All sites, in configuration order.
    pub fn iter(&self) -> impl Iterator<Item = &Site> {
        self.sites.iter()
    }

    /// Every host these sites make the proxy intercept: the sites' hosts and the hosts
    /// their rules block, lower case, each once, in configuration order.
    pub fn intercepted_hosts(&self) -> Vec<String> {
        let mut hosts: Vec<String> = Vec::new();
        let all = self.sites.iter().flat_map(|s| std::iter::once(&s.host).chain(&s.rule.blocked_hosts));
        for host in all {
            let host = host.to_ascii_lowercase();
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
        hosts
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    #[test]
    fn host_port_forms() {
        assert_eq!(parse_host_port("Mail.Example.org"), Ok(("mail.example.org".into(), 443)));
        assert_eq!(parse_host_port("localhost:8443"), Ok(("localhost".into(), 8443)));
        assert_eq!(parse_host_port("[::1]:9"), Ok(("::1".into(), 9)));
        assert!(parse_host_port("host:0").is_err());
        assert!(parse_host_port("host:http").is_err());
        assert!(parse_host_port("a/b").is_err());
    }

    #[test]
    fn lookup_matches_host_and_port() {
        let rule = RuleSet::bundled().unwrap().get("roundcube").unwrap().clone();
        let table = SiteTable::new(vec![Site {
            host: "mail.example.org".into(),
            port: 443,
            rule,
            submission: None,
            encrypted_fields: false,
        }]);
        assert!(table.lookup("MAIL.example.org", 443).is_some());
        assert!(table.lookup("mail.example.org", 8443).is_none());
        assert!(table.lookup("example.org", 443).is_none());
    }
}
