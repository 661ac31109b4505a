//! Configuration: `config.toml` plus command-line overrides, parsed once into a typed
//! [`Config`] that cannot hold an invalid state (loopback listen address, known rules,
//! valid host names). Errors name the file, line and key, or the flag.
//!
//! The documented default file is the repository's `config.toml`, embedded here as
//! [`DEFAULT_CONFIG_TOML`]; `smime-proxy init` writes it.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::Error;
use crate::rules::{self, DeliveryRoute, RuleSet, Site, SiteTable};

/// The documented default configuration file (every key commented out).
pub const DEFAULT_CONFIG_TOML: &str = include_str!("../../config.toml");

/// Default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
/// Default host name of the proxy's own pages.
pub const DEFAULT_ORIGIN: &str = "smime-proxy.invalid";
/// Default number of hosts whose leaf certificates are cached.
pub const DEFAULT_LEAF_CACHE: usize = 256;
/// Default idle time after which the key store locks again.
pub const DEFAULT_LOCK_AFTER_IDLE: std::time::Duration = std::time::Duration::from_secs(30 * 60);

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The configuration directory (`--config-dir`): CA, key store, certificate store.
    pub dir: PathBuf,
    /// Loopback address to listen on.
    pub listen: SocketAddr,
    /// Host name of the proxy's own pages (lower case, no port).
    pub origin: String,
    /// Intercepted sites and their rules.
    pub sites: SiteTable,
    /// Extra trust anchors (PEM files) for upstream TLS, added to the system and webpki
    /// roots.
    pub upstream_ca: Vec<PathBuf>,
    /// Time limit of a response the proxy reads whole (a page it rewrites, the webmail's
    /// answer to a request the proxy makes itself).
    pub upstream_timeout: std::time::Duration,
    /// Log filter (`RUST_LOG` syntax), when set in the file or by `--log`.
    pub log: Option<String>,
    /// How many hosts' leaf certificates are kept in memory.
    pub leaf_cache_size: usize,
    /// The rules: bundled, plus those of `rules_dir` (which add or override by name).
    pub rules: RuleSet,
    /// Trust anchors (PEM files) for recipients' and signers' certificates.
    pub trust_anchors: Vec<PathBuf>,
    /// The key store locks again after this long without use.
    pub lock_after_idle: std::time::Duration,
    /// A file holding the store passphrase, to unlock at start without a prompt.
    pub store_passphrase_file: Option<PathBuf>,
    /// How outgoing S/MIME messages are built.
    pub compose: ComposeOptions,
    /// Revocation checking of recipients' and signers' certificates.
    pub revocation: RevocationMode,
    /// Size cap of the on-disk cache of CRLs, OCSP responses and issuers' certificates.
    pub pki_cache_bytes: u64,
    /// Time limit of each CRL, OCSP, caIssuers fetch and directory search.
    pub pki_timeout: std::time::Duration,
    /// LDAP directories asked for a recipient's certificate, in order.
    pub directories: Vec<DirectoryConfig>,
    /// The roaming key server (`[keyserver]`), if one is configured.
    pub keyserver: Option<KeyServerConfig>,
}

/// What revocation checking allows (`revocation` in config.toml, flag `--revocation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RevocationMode {
    /// Revoked and unknown refuse; an unreachable source allows, with the reason shown
    /// (Thunderbird's default).
    #[default]
    Soft,
    /// As soft, and an unreachable source refuses too.
    Hard,
    /// Nothing is asked (no CA learns who you write to or read from).
    Off,
}

impl std::str::FromStr for RevocationMode {
    type Err = String;
    fn from_str(value: &str) -> Result<Self, String> {
        match value {
            "soft" => Ok(Self::Soft),
            "hard" => Ok(Self::Hard),
            "off" => Ok(Self::Off),
            other => Err(format!("`{other}` is not a revocation mode: \"soft\", \"hard\" or \"off\"")),
        }
    }
}

/// Default size cap of the PKI cache.
pub const DEFAULT_PKI_CACHE_MB: u64 = 64;
/// Default time limit of a response the proxy reads whole.
pub const DEFAULT_UPSTREAM_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(60);
/// Default time limit of one PKI fetch or directory search.
pub const DEFAULT_PKI_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// One `[[directories]]` entry: an LDAP server holding recipients' certificates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryConfig {
    /// `ldap://HOST[:PORT]` or `ldaps://HOST[:PORT]`.
    pub url: String,
    /// Upgrade an `ldap://` connection with StartTLS (verified like every TLS).
    pub starttls: bool,
    /// Search base DN.
    pub base: String,
    /// Search filter with `{address}` where the (RFC 4515-escaped) address goes.
    pub filter: String,
    /// Simple bind: the DN and the file holding its password; anonymous when `None`.
    pub bind: Option<(String, PathBuf)>,
}

/// Default directory search filter.
pub const DEFAULT_DIRECTORY_FILTER: &str = "(mail={address})";

/// Options of the compose flow (config.toml).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ComposeOptions {
    /// Protect the header (RFC 9788): the real subject travels inside; an encrypted
    /// message shows `[...]` outside.
    pub header_protection: bool,
}

impl Default for ComposeOptions {
    fn default() -> Self {
        Self { header_protection: true }
    }
}

impl Config {
    /// The trust anchors for recipients' and signers' certificates, read from
    /// `trust_anchors` and the files `certs trust add` put in `<config-dir>/trust/`.
    /// Errors name the file.
    pub fn trust(&self) -> Result<smime_crypto::TrustOptions, Error> {
        let mut trust = smime_crypto::TrustOptions::default();
        for path in self.trust_anchors.iter().chain(&self.trust_dir_files()) {
            let bad = |reason: String| Error::TrustAnchor { path: path.clone(), reason };
            let data = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
            trust.anchors.extend(smime_crypto::load_certificates(&data).map_err(|e| bad(e.to_string()))?);
        }
        Ok(trust)
    }
}

impl Config {
    /// The names the run's intermediate CA may sign for (its name constraints): the
    /// intercepted hosts of the sites and the own origin.
    pub fn intercepted_names(&self) -> Vec<String> {
        let mut names = self.sites.intercepted_hosts();
        if !names.contains(&self.origin) {
            names.push(self.origin.clone());
        }
        names
    }

    /// Where `certs trust add` keeps anchors.
    pub fn trust_dir(&self) -> PathBuf {
        self.dir.join("trust")
    }

    /// The `.pem` files of [`Self::trust_dir`], sorted.
    pub fn trust_dir_files(&self) -> Vec<PathBuf> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.trust_dir())
            .into_iter()
            .flatten()
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "pem"))
            .collect();
        files.sort();
        files
    }
}

/// Values from the command line; each one set replaces the file's value.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen ADDR`.
    pub listen: Option<String>,
    /// `--site HOST[:PORT]=RULE` (repeatable; when given, replaces the file's `[sites]`).
    pub sites: Vec<String>,
    /// `--upstream-ca PEM` (repeatable; when given, replaces the file's `upstream_ca`).
    pub upstream_ca: Vec<PathBuf>,
    /// `--log LEVEL`.
    pub log: Option<String>,
    /// `--revocation soft|hard|off`.
    pub revocation: Option<String>,
}

/// The roaming key server the user's key can be kept on (`[keyserver]`).
#[derive(Debug, Clone)]
pub struct KeyServerConfig {
    /// `https://HOST[:PORT]`.
    pub url: String,
    /// The server's OPAQUE public key, pinned (`smime-keyserver init` prints it).
    pub server_key: Vec<u8>,
    /// The account name (an e-mail address) the unlock form suggests.
    pub account: Option<String>,
}

/// The file as written: every key optional, unknown keys rejected.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<Spanned<String>>,
    origin: Option<Spanned<String>>,
    log: Option<Spanned<String>>,
    upstream_ca: Option<Vec<Spanned<String>>>,
    upstream_timeout: Option<Spanned<String>>,
    leaf_cache_size: Option<Spanned<usize>>,
    trust_anchors: Option<Vec<Spanned<String>>>,
    lock_after_idle: Option<Spanned<String>>,
    store_passphrase_file: Option<Spanned<String>>,
    header_protection: Option<bool>,
    sites: Option<BTreeMap<String, Spanned<SiteEntry>>>,
    rules_dir: Option<Spanned<String>>,
    revocation: Option<Spanned<String>>,
    pki_cache_mb: Option<Spanned<u64>>,
    pki_timeout: Option<Spanned<String>>,
    directories: Option<Vec<Spanned<DirectoryEntry>>>,
    keyserver: Option<Spanned<KeyServerEntry>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyServerEntry {
    url: String,
    server_key: String,
    account: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct DirectoryEntry {
    url: String,
    base: String,
    filter: Option<String>,
    starttls: Option<bool>,
    bind_dn: Option<String>,
    password_file: Option<String>,
}

/// A `[sites]` value: the rule's name, or a table with the rule and the site's SMTP
/// submission server.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum SiteEntry {
    Rule(String),
    Table(SiteTableEntry),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SiteTableEntry {
    rule: String,
    submission: Option<String>,
}

impl Config {
    /// The configuration from embedded defaults plus `overrides` (no file).
    pub fn from_overrides(overrides: &Overrides) -> Result<Self, Error> {
        Self::parse("", Path::new("config.toml"), Path::new("."), overrides)
    }

    /// Loads `dir/config.toml` if it exists (otherwise the embedded defaults) and applies
    /// `overrides`. Relative `upstream_ca` paths in the file are relative to `dir`.
    pub fn load(dir: &Path, overrides: &Overrides) -> Result<Self, Error> {
        let path = dir.join("config.toml");
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(source) => return Err(Error::ReadConfig { path, source }),
        };
        Self::parse(&text, &path, dir, overrides)
    }

    /// Parses `text` (the contents of `file`) and applies `overrides`.
    pub fn parse(text: &str, file: &Path, base_dir: &Path, overrides: &Overrides) -> Result<Self, Error> {
        let at = |span: Range<usize>, message: String| file_error(text, file, span, message);
        let raw: FileConfig =
            toml::from_str(text).map_err(|e| at(e.span().unwrap_or(0..0), e.message().trim_end().to_owned()))?;

        let listen = match (&overrides.listen, &raw.listen) {
            (Some(value), _) => parse_listen(value).map_err(|message| Error::Flag {
                flag: "--listen",
                value: value.clone(),
                message,
            })?,
            (None, Some(value)) => parse_listen(value.get_ref()).map_err(|message| at(value.span(), message))?,
            (None, None) => parse_listen(DEFAULT_LISTEN).map_err(|message| Error::Flag {
                flag: "--listen",
                value: DEFAULT_LISTEN.into(),
                message,
            })?,
        };

        let rules = match &raw.rules_dir {
            Some(dir) => RuleSet::bundled_and_dir(&base_dir.join(dir.get_ref())).map_err(|e| match e {
                Error::ReadRules { path, source } => {
                    at(dir.span(), format!("cannot read {}: {source}", path.display()))
                }
                other => other,
            })?,
            None => RuleSet::bundled()?,
        };

        let origin = match &raw.origin {
            Some(value) => parse_origin(value.get_ref()).map_err(|m| at(value.span(), m))?,
            None => DEFAULT_ORIGIN.to_owned(),
        };

        let sites = if overrides.sites.is_empty() {
            let mut sites = Vec::new();
            for (host, entry) in raw.sites.iter().flatten() {
                let (rule, submission) = match entry.get_ref() {
                    SiteEntry::Rule(rule) => (rule.as_str(), None),
                    SiteEntry::Table(t) => (t.rule.as_str(), t.submission.as_deref()),
                };
                let site = parse_site(&rules, host, rule, submission).map_err(|m| at(entry.span(), m))?;
                sites.push(site);
            }
            sites
        } else {
            let mut sites = Vec::new();
            for spec in &overrides.sites {
                let flag_error = |message| Error::Flag { flag: "--site", value: spec.clone(), message };
                let (host, rest) = spec
                    .split_once('=')
                    .ok_or_else(|| flag_error("expected HOST[:PORT]=RULE[,submission=HOST:PORT]".to_owned()))?;
                let (rule, submission) = match rest.split_once(',') {
                    None => (rest, None),
                    Some((rule, option)) => match option.split_once('=') {
                        Some(("submission", value)) => (rule, Some(value)),
                        _ => return Err(flag_error(format!("`{option}`: the only option is submission=HOST:PORT"))),
                    },
                };
                sites.push(parse_site(&rules, host, rule, submission).map_err(flag_error)?);
            }
            sites
        };
        if let Some(site) = sites.iter().find(|s| s.host == origin) {
            return Err(Error::Flag {
                flag: "--site",
                value: site.host.clone(),
                message: "is the proxy's own origin and cannot be a site".into(),
            });
        }

        let upstream_ca = if overrides.upstream_ca.is_empty() {
            raw.upstream_ca.iter().flatten().map(|p| base_dir.join(p.get_ref())).collect()
        } else {
            overrides.upstream_ca.clone()
        };

        let log = overrides.log.clone().or_else(|| raw.log.map(Spanned::into_inner));

        let leaf_cache_size = match raw.leaf_cache_size {
            Some(n) if *n.get_ref() == 0 => {
                return Err(at(n.span(), "must be at least 1".into()));
            }
            Some(n) => n.into_inner(),
            None => DEFAULT_LEAF_CACHE,
        };

        let trust_anchors = raw.trust_anchors.iter().flatten().map(|p| base_dir.join(p.get_ref())).collect();
        let lock_after_idle = match &raw.lock_after_idle {
            Some(value) => parse_duration(value.get_ref()).map_err(|m| at(value.span(), m))?,
            None => DEFAULT_LOCK_AFTER_IDLE,
        };
        let store_passphrase_file = raw.store_passphrase_file.as_ref().map(|p| base_dir.join(p.get_ref()));

        let revocation = match (&overrides.revocation, &raw.revocation) {
            (Some(value), _) => {
                value.parse().map_err(|message| Error::Flag { flag: "--revocation", value: value.clone(), message })?
            }
            (None, Some(value)) => value.get_ref().parse().map_err(|m| at(value.span(), m))?,
            (None, None) => RevocationMode::default(),
        };
        let pki_cache_bytes = match &raw.pki_cache_mb {
            Some(mb) if *mb.get_ref() == 0 => return Err(at(mb.span(), "must be at least 1".into())),
            Some(mb) => mb.get_ref().saturating_mul(1 << 20),
            None => DEFAULT_PKI_CACHE_MB << 20,
        };
        let upstream_timeout = match &raw.upstream_timeout {
            Some(value) => parse_duration(value.get_ref()).map_err(|m| at(value.span(), m))?,
            None => DEFAULT_UPSTREAM_TIMEOUT,
        };
        let pki_timeout = match &raw.pki_timeout {
            Some(value) => parse_duration(value.get_ref()).map_err(|m| at(value.span(), m))?,
            None => DEFAULT_PKI_TIMEOUT,
        };
        let mut directories = Vec::new();
        for entry in raw.directories.iter().flatten() {
            directories.push(parse_directory(entry.get_ref(), base_dir).map_err(|m| at(entry.span(), m))?);
        }

        let keyserver = match &raw.keyserver {
            Some(entry) => Some(parse_keyserver(entry.get_ref()).map_err(|m| at(entry.span(), m))?),
            None => None,
        };

        Ok(Self {
            dir: base_dir.to_path_buf(),
            listen,
            origin,
            sites: SiteTable::new(sites),
            upstream_ca,
            upstream_timeout,
            log,
            leaf_cache_size,
            trust_anchors,
            lock_after_idle,
            store_passphrase_file,
            compose: ComposeOptions {
                header_protection: raw.header_protection.unwrap_or(ComposeOptions::default().header_protection),
            },
            rules,
            revocation,
            pki_cache_bytes,
            pki_timeout,
            directories,
            keyserver,
        })
    }
}

fn parse_keyserver(entry: &KeyServerEntry) -> Result<KeyServerConfig, String> {
    use base64::Engine as _;
    let url = entry.url.trim().trim_end_matches('/').to_owned();
    if !url.starts_with("https://") || url.parse::<hyper::Uri>().is_err() {
        return Err(format!("keyserver url `{url}` must be https://HOST[:PORT]"));
    }
    let server_key = base64::engine::general_purpose::STANDARD
        .decode(entry.server_key.trim())
        .ok()
        .filter(|key| key.len() == 32)
        .ok_or("keyserver server_key must be the base64 key `smime-keyserver init` printed (32 bytes)")?;
    Ok(KeyServerConfig { url, server_key, account: entry.account.clone() })
}

fn parse_directory(entry: &DirectoryEntry, base_dir: &Path) -> Result<DirectoryConfig, String> {
    let url = entry.url.trim().to_owned();
    let secure = url.starts_with("ldaps://");
    if !secure && !url.starts_with("ldap://") {
        return Err(format!("directory url `{url}` must start with ldap:// or ldaps://"));
    }
    let starttls = entry.starttls.unwrap_or(false);
    if starttls && secure {
        return Err("starttls is for ldap:// URLs; an ldaps:// connection is TLS already".into());
    }
    let filter = entry.filter.clone().unwrap_or_else(|| DEFAULT_DIRECTORY_FILTER.to_owned());
    if !filter.contains("{address}") {
        return Err(format!("directory filter `{filter}` has no {{address}}"));
    }
    let bind = match (&entry.bind_dn, &entry.password_file) {
        (Some(dn), Some(file)) => Some((dn.clone(), base_dir.join(file))),
        (None, None) => None,
        (Some(_), None) => return Err("bind_dn needs password_file (a file holding the password)".into()),
        (None, Some(_)) => return Err("password_file needs bind_dn".into()),
    };
    if bind.is_some() && !secure && !starttls {
        return Err(format!(
            "a password would travel in clear to {url}: use ldaps:// or starttls = true, or bind anonymously"
        ));
    }
    Ok(DirectoryConfig { url, starttls, base: entry.base.clone(), filter, bind })
}

/// A human-readable duration: one or more `NUMBER UNIT` with unit `ms`, `s`, `m`, `h`
/// or `d`, e.g. `30m`, `1h30m`, `90s`, `500ms`. Zero is refused.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let invalid = || format!("`{text}` is not a duration such as \"30m\", \"1h30m\" or \"90s\"");
    let mut total = std::time::Duration::ZERO;
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(invalid());
    }
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(invalid)?;
        let number: u64 = rest[..digits].parse().map_err(|_| invalid())?;
        rest = &rest[digits..];
        let unit_len = rest.find(|c: char| c.is_ascii_digit()).unwrap_or(rest.len());
        let unit = match rest[..unit_len].trim() {
            "ms" => std::time::Duration::from_millis(1),
            "s" => std::time::Duration::from_secs(1),
            "m" | "min" => std::time::Duration::from_secs(60),
            "h" => std::time::Duration::from_secs(3600),
            "d" => std::time::Duration::from_secs(86400),
            _ => return Err(invalid()),
        };
        rest = &rest[unit_len..];
        let part = u32::try_from(number).ok().and_then(|n| unit.checked_mul(n)).ok_or_else(invalid)?;
        total = total.checked_add(part).ok_or_else(invalid)?;
    }
    if total.is_zero() {
        return Err("must be longer than zero".into());
    }
    Ok(total)
}

fn parse_listen(value: &str) -> Result<SocketAddr, String> {
    let addr: SocketAddr = value.parse().map_err(|_| "expected IP:PORT, e.g. 127.0.0.1:8080".to_owned())?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{} is not a loopback address; smime-proxy listens only on 127.0.0.1 or ::1 so that it is never an open proxy",
            addr.ip()
        ));
    }
    Ok(addr)
}

fn parse_origin(value: &str) -> Result<String, String> {
    let host = value.to_ascii_lowercase();
    if !rules::valid_host(&host) || host.parse::<std::net::IpAddr>().is_ok() {
        return Err(format!("`{value}` is not a host name"));
    }
    Ok(host)
}

fn parse_site(rules: &RuleSet, host_port: &str, rule_name: &str, submission: Option<&str>) -> Result<Site, String> {
    let (host, port) = rules::parse_host_port(host_port.trim())?;
    let rule = rules
        .get(rule_name.trim())
        .cloned()
        .ok_or_else(|| format!("unknown rule `{rule_name}` (known rules: {})", rules.names().join(", ")))?;
    if let Some(adapter) = rule.adapter.as_deref().filter(|name| crate::adapters::by_name(name).is_none()) {
        return Err(format!(
            "rule `{}` names the adapter `{adapter}`, which this build does not have (adapters: {})",
            rule.name,
            crate::adapters::names().join(", ")
        ));
    }
    let submission = match submission {
        None => None,
        Some(spec) => {
            let (host, port) = rules::parse_host_port(spec.trim()).map_err(|m| format!("submission: {m}"))?;
            if port == 443 && !spec.contains(':') {
                return Err(format!("submission `{spec}`: give the port (587 for STARTTLS, 465 for TLS)"));
            }
            Some((host, port))
        }
    };
    match (rule.delivery, &submission) {
        (DeliveryRoute::Smtp, None) => {
            return Err(format!(
                "rule `{}` sends mail over SMTP: give the site's submission server, e.g.                  `\"{host_port}\" = {{ rule = \"{}\", submission = \"mail.example:587\" }}` or                  `--site {host_port}={},submission=mail.example:587`",
                rule.name, rule.name, rule.name
            ));
        }
        (DeliveryRoute::Webmail, Some(_)) => {
            return Err(format!("rule `{}` sends through the webmail: it takes no submission server", rule.name));
        }
        _ => {}
    }
    Ok(Site { host, port, rule, submission })
}

/// A file error at `span`: 1-based line, and the key written at the start of that line.
fn file_error(text: &str, file: &Path, span: Range<usize>, message: String) -> Error {
    let start = span.start.min(text.len());
    let line = text[..start].matches('\n').count() + 1;
    let key = text
        .lines()
        .nth(line - 1)
        .and_then(|l| l.split_once('='))
        .map(|(k, _)| k.trim().trim_matches('"').to_owned())
        .filter(|k| !k.is_empty() && !k.starts_with('['));
    Error::ConfigFile { file: file.to_path_buf(), line, key, message }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, Error> {
        Config::parse(text, Path::new("config.toml"), Path::new("/conf"), &Overrides::default())
    }

    #[test]
    fn embedded_default_file_gives_the_defaults() {
        let config = parse(DEFAULT_CONFIG_TOML).unwrap();
        assert_eq!(config.listen.to_string(), DEFAULT_LISTEN);
        assert_eq!(config.origin, DEFAULT_ORIGIN);
        assert_eq!(config.sites.iter().count(), 0);
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = parse("origin = \"x.invalid\"\nlisten_addr = \"127.0.0.1:1\"\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 2"), "{text}");
        assert!(text.contains("listen_addr"), "{text}");
    }

    #[test]
    fn bad_value_names_key_and_line() {
        let err = parse("\n\nlisten = \"0.0.0.0:8080\"\n").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("line 3, key `listen`"), "{text}");
        assert!(text.contains("not a loopback"), "{text}");
    }

    #[test]
    fn unknown_rule_in_file_and_flag() {
        let err = parse("[sites]\n\"mail.example.org\" = \"gmail\"\n").unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
        assert!(err.to_string().contains("unknown rule `gmail`"), "{err}");
        let overrides = Overrides { sites: vec!["mail.example.org=nope".into()], ..Overrides::default() };
        let err = Config::from_overrides(&overrides).unwrap_err();
        assert!(err.to_string().contains("--site"), "{err}");
    }

    #[test]
    fn flags_override_the_file() {
        let text = "listen = \"127.0.0.1:9000\"\nupstream_ca = [\"up.pem\"]\n[sites]\n\"a.example\" = \"roundcube\"\n";
        let file_only = parse(text).unwrap();
        assert_eq!(file_only.listen.port(), 9000);
        assert_eq!(file_only.upstream_ca, vec![PathBuf::from("/conf/up.pem")]);
        assert!(file_only.sites.lookup("a.example", 443).is_some());

        let overrides = Overrides {
            listen: Some("[::1]:9001".into()),
            sites: vec!["b.example:8443=roundcube".into()],
            upstream_ca: vec!["/x.pem".into()],
            log: Some("debug".into()),
            revocation: Some("hard".into()),
        };
        let both = Config::parse(text, Path::new("c.toml"), Path::new("/conf"), &overrides).unwrap();
        assert_eq!(both.listen.to_string(), "[::1]:9001");
        assert_eq!((file_only.revocation, both.revocation), (RevocationMode::Soft, RevocationMode::Hard));
        assert!(both.sites.lookup("a.example", 443).is_none());
        assert!(both.sites.lookup("b.example", 8443).is_some());
        assert_eq!(both.upstream_ca, vec![PathBuf::from("/x.pem")]);
        assert_eq!(both.log.as_deref(), Some("debug"));
    }

    #[test]
    fn rules_dir_adds_and_overrides_rules() {
        let dir = tempfile::tempdir().unwrap();
        let bundled = crate::rules::RuleSet::bundled().unwrap();
        let text = include_str!("../../rewrite-rules/roundcube.toml");
        std::fs::write(dir.path().join("mine.toml"), text.replace("name = \"roundcube\"", "name = \"mine\"")).unwrap();
        std::fs::write(dir.path().join("rc.toml"), text.replace("sign = false", "sign = true")).unwrap();
        let conf = format!("rules_dir = \"{}\"\n[sites]\n\"a.example\" = \"mine\"\n", dir.path().display());
        let config = parse(&conf).unwrap();
        assert!(config.sites.lookup("a.example", 443).is_some());
        assert!(config.rules.get("roundcube").unwrap().controls.sign);
        assert!(!bundled.get("roundcube").unwrap().controls.sign);

        std::fs::write(dir.path().join("bad.toml"), "name = \"bad\"\nbogus = 1\n").unwrap();
        let err = parse(&conf).unwrap_err().to_string();
        assert!(err.contains("bad.toml, line 2") && err.contains("bogus"), "{err}");
        let err = parse("rules_dir = \"/nonexistent/rules\"\n").unwrap_err().to_string();
        assert!(err.contains("line 1, key `rules_dir`") && err.contains("cannot read"), "{err}");
    }

    #[test]
    fn key_and_certificate_keys() {
        let config = parse(DEFAULT_CONFIG_TOML).unwrap();
        assert_eq!(config.lock_after_idle, DEFAULT_LOCK_AFTER_IDLE);
        assert!(config.trust_anchors.is_empty() && config.store_passphrase_file.is_none());
        let text = "trust_anchors = [\"ca.pem\"]\nlock_after_idle = \"1h30m\"\nstore_passphrase_file = \"pw\"\n";
        let config = parse(text).unwrap();
        assert_eq!(config.trust_anchors, vec![PathBuf::from("/conf/ca.pem")]);
        assert_eq!(config.lock_after_idle, std::time::Duration::from_secs(5400));
        assert_eq!(config.store_passphrase_file, Some(PathBuf::from("/conf/pw")));
        assert!(config.compose.header_protection, "on by default");
        let off = Config::parse(
            "header_protection = false\n",
            Path::new("c.toml"),
            Path::new("/conf"),
            &Overrides::default(),
        );
        assert!(!off.unwrap().compose.header_protection);
        let err = parse("\nlock_after_idle = \"soon\"\n").unwrap_err().to_string();
        assert!(err.contains("line 2, key `lock_after_idle`") && err.contains("not a duration"), "{err}");
    }

    #[test]
    fn durations() {
        use std::time::Duration;
        assert_eq!(parse_duration("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_duration("200ms"), Ok(Duration::from_millis(200)));
        assert_eq!(parse_duration("1h 5s"), Ok(Duration::from_secs(3605)));
        for bad in ["", "30", "m", "5 years", "-1s", "99999999999h"] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
        assert_eq!(parse_duration("0s"), Err("must be longer than zero".into()));
    }

    #[test]
    fn non_loopback_listen_flag_is_refused() {
        for addr in ["0.0.0.0:8080", "192.168.1.2:8080", "[::]:8080"] {
            let overrides = Overrides { listen: Some(addr.into()), ..Overrides::default() };
            let err = Config::from_overrides(&overrides).unwrap_err();
            assert!(err.to_string().contains("not a loopback address"), "{err}");
        }
    }

    #[test]
    fn directories_and_revocation_are_checked() {
        let ok = parse(
            "revocation = \"off\"\npki_timeout = \"2s\"\npki_cache_mb = 8\n[[directories]]\nurl = \"ldaps://ldap.example\"\n\
             base = \"ou=people,dc=example\"\nbind_dn = \"cn=reader\"\npassword_file = \"pw\"\n\
             [[directories]]\nurl = \"ldap://other.example\"\nbase = \"dc=other\"\nstarttls = true\nfilter = \"(&(mail={address})(objectClass=person))\"\n",
        )
        .unwrap();
        assert_eq!(ok.revocation, RevocationMode::Off);
        assert_eq!((ok.pki_timeout.as_secs(), ok.pki_cache_bytes), (2, 8 << 20));
        assert_eq!(ok.directories.len(), 2);
        assert_eq!(ok.directories[0].bind, Some(("cn=reader".into(), PathBuf::from("/conf/pw"))));
        assert_eq!(ok.directories[0].filter, DEFAULT_DIRECTORY_FILTER);
        assert!(ok.directories[1].starttls);
        for (text, wanted) in [
            ("revocation = \"maybe\"", "not a revocation mode"),
            ("[[directories]]\nurl = \"http://x\"\nbase = \"b\"", "must start with ldap://"),
            (
                "[[directories]]\nurl = \"ldap://x\"\nbase = \"b\"\nbind_dn = \"cn=a\"\npassword_file = \"p\"",
                "in clear",
            ),
            ("[[directories]]\nurl = \"ldaps://x\"\nbase = \"b\"\nbind_dn = \"cn=a\"", "needs password_file"),
            ("[[directories]]\nurl = \"ldaps://x\"\nbase = \"b\"\nstarttls = true", "TLS already"),
            ("[[directories]]\nurl = \"ldap://x\"\nbase = \"b\"\nfilter = \"(mail=*)\"", "has no {address}"),
            ("pki_cache_mb = 0", "at least 1"),
        ] {
            let error = parse(text).unwrap_err().to_string();
            assert!(error.contains(wanted), "{text}: {error}");
        }
    }
}
