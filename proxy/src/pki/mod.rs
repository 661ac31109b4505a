//! Online PKI for the flows: a certificate's missing issuers fetched from its AIA
//! caIssuers URLs, and its revocation status asked of its OCSP responder (first) or read
//! from its CRL, all cached on disk ([`PkiCache`]) and judged by the engine's pure
//! functions (`smime_crypto::check_ocsp_response`, `check_crl`). Fetches go direct, never
//! through the proxy ([`PlainClient`]).
//!
//! What a verdict allows depends on [`RevocationMode`]: revoked and unknown always refuse;
//! a source that cannot be reached (or answers something that does not verify) refuses
//! only in `hard` mode, and `soft` mode goes on with the reason shown; `off` asks nothing.

mod cache;

use std::time::{Duration, SystemTime};

use smime_crypto::{
    Certificate, CertificateProblem, EmbeddedRevocation, OcspQuery, Purpose, Revocation, RevocationPointers,
    TrustOptions, ValidatedChain, check_crl, check_ocsp_response, load_certificates, ocsp_request,
    validate_certificate,
};

pub(crate) use self::cache::PkiCache;
use crate::config::{Config, RevocationMode};
use crate::http::PlainClient;

/// Largest OCSP response read.
const MAX_OCSP: usize = 64 * 1024;
/// Largest issuer certificate (or certs-only bundle) read.
const MAX_ISSUER: usize = 1024 * 1024;
/// How many missing issuers are fetched, one level at a time.
const MAX_AIA_DEPTH: usize = 4;

/// How a status was learned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    /// An OCSP response (fetched or cached).
    Ocsp,
    /// A CRL (fetched or cached).
    Crl,
    /// An OCSP response the sender put into the signed message (RFC 5940).
    EmbeddedOcsp,
    /// A CRL the sender put into the signed message.
    EmbeddedCrl,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ocsp => "OCSP",
            Self::Crl => "CRL",
            Self::EmbeddedOcsp => "OCSP response in the message",
            Self::EmbeddedCrl => "CRL in the message",
        })
    }
}

/// What the revocation check of one certificate found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Checked {
    /// `revocation = "off"`.
    Off,
    /// The certificate names no OCSP responder and no CRL.
    NoSources,
    /// Not revoked, as of `as_of` (the response's or CRL's thisUpdate).
    Good { source: Source, as_of: SystemTime },
    /// Revoked.
    Revoked { source: Source, at: SystemTime, reason: Option<String> },
    /// The OCSP responder does not know the certificate.
    Unknown,
    /// No source gave a verdict: why, per source.
    Unavailable(Vec<String>),
}

impl Checked {
    /// One sentence for the banner and the compose notice.
    pub(crate) fn describe(&self) -> String {
        let at = |t: &SystemTime| crate::timestamp::rfc3339(*t);
        match self {
            Self::Off => "Revocation was not checked (revocation = \"off\").".into(),
            Self::NoSources => "Revocation not checked: the certificate names no OCSP responder or CRL.".into(),
            Self::Good { source, as_of } => format!("Not revoked ({source}, as of {}).", at(as_of)),
            Self::Revoked { source, at: when, reason } => format!(
                "REVOKED on {}{} ({source}).",
                at(when),
                reason.as_ref().map(|r| format!(", reason {r}")).unwrap_or_default()
            ),
            Self::Unknown => "The CA's OCSP responder does not know this certificate (status unknown).".into(),
            Self::Unavailable(reasons) => {
                format!("Revocation could not be checked: {}.", reasons.join("; "))
            }
        }
    }
}

/// Fetching, caching and judging, with the user's [`RevocationMode`].
#[derive(Debug, Clone)]
pub(crate) struct Pki {
    mode: RevocationMode,
    client: PlainClient,
    cache: PkiCache,
}

impl Pki {
    /// The service for `mode`, caching in `cache`, each fetch bounded by `timeout`.
    pub(crate) fn new(mode: RevocationMode, cache: PkiCache, timeout: Duration) -> Self {
        Self { mode, client: PlainClient::new(timeout), cache }
    }

    /// The service `config` asks for: its mode, the cache in `<config-dir>/cache/pki`.
    pub(crate) fn from_config(config: &Config) -> Self {
        let cache = PkiCache::new(config.dir.join("cache").join("pki"), config.pki_cache_bytes);
        Self::new(config.revocation, cache, config.pki_timeout)
    }

    /// [`validate_certificate`], completing a chain that lacks an intermediate from the
    /// certificates' caIssuers URLs (RFC 5280 §4.2.2.1), up to [`MAX_AIA_DEPTH`] levels.
    pub(crate) async fn validate(
        &self,
        certificate: &Certificate,
        presented: &[Certificate],
        purpose: Purpose,
        trust: &TrustOptions,
        at: SystemTime,
    ) -> Result<ValidatedChain, CertificateProblem> {
        let first = validate_certificate(certificate, presented, purpose, trust, at);
        if !matches!(first, Err(CertificateProblem::Untrusted(_))) {
            return first;
        }
        let mut extra: Vec<Certificate> = presented.to_vec();
        let mut current = certificate.clone();
        for _ in 0..MAX_AIA_DEPTH {
            let Some(issuers) = self.issuers_of(&current).await else { break };
            current = issuers[0].clone();
            extra.extend(issuers);
            if let Ok(chain) = validate_certificate(certificate, &extra, purpose, trust, at) {
                tracing::info!(levels = extra.len() - presented.len(), "completed a chain from caIssuers");
                return Ok(chain);
            }
        }
        first
    }

    /// The certificates at `certificate`'s first caIssuers URL that answers (cached).
    async fn issuers_of(&self, certificate: &Certificate) -> Option<Vec<Certificate>> {
        for url in RevocationPointers::of(certificate).ca_issuers {
            let bytes = match self.cache.get("issuer", url.as_bytes()) {
                Some(bytes) => bytes,
                None => match self.client.get(&url, MAX_ISSUER).await {
                    Ok(bytes) => bytes,
                    Err(error) => {
                        tracing::info!(%error, "caIssuers fetch failed");
                        continue;
                    }
                },
            };
            match load_certificates(&bytes) {
                Ok(certificates) => {
                    self.cache.put("issuer", url.as_bytes(), &bytes);
                    return Some(certificates);
                }
                Err(error) => tracing::info!(%url, %error, "caIssuers answer is not a certificate"),
            }
        }
        None
    }

    /// The revocation status of `certificate`, issued by `issuer`: OCSP where it names a
    /// responder, else (or when no responder answers usably) its CRLs.
    pub(crate) async fn check(&self, certificate: &Certificate, issuer: &Certificate) -> Checked {
        if self.mode == RevocationMode::Off {
            return Checked::Off;
        }
        let pointers = RevocationPointers::of(certificate);
        if pointers.is_empty() {
            return Checked::NoSources;
        }
        let started = std::time::Instant::now();
        let mut reasons = Vec::new();
        for url in &pointers.ocsp {
            match self.ocsp(url, certificate, issuer).await {
                Ok(checked) => {
                    tracing::info!(source = "OCSP", ms = started.elapsed().as_millis() as u64, "revocation checked");
                    return checked;
                }
                Err(reason) => reasons.push(reason),
            }
        }
        for url in &pointers.crl {
            match self.crl(url, certificate, issuer).await {
                Ok(checked) => {
                    tracing::info!(source = "CRL", ms = started.elapsed().as_millis() as u64, "revocation checked");
                    return checked;
                }
                Err(reason) => reasons.push(reason),
            }
        }
        tracing::warn!(sources = reasons.len(), "revocation could not be checked");
        Checked::Unavailable(reasons)
    }

    /// What the revocation data the sender embedded in a signed message says about
    /// `certificate`, when some of it verifies, covers it and is fresh now (then nothing
    /// needs to be fetched); `None` otherwise, or when checking is off.
    pub(crate) fn embedded(
        &self,
        certificate: &Certificate,
        issuer: &Certificate,
        embedded: &EmbeddedRevocation,
    ) -> Option<Checked> {
        if self.mode == RevocationMode::Off {
            return None;
        }
        let now = SystemTime::now();
        let query = OcspQuery { certificate, issuer, nonce: None };
        let ocsp = embedded.ocsp_responses.iter().find_map(|response| check_ocsp_response(response, &query, now).ok());
        if let Some(answer) = ocsp {
            return Some(from_status(Source::EmbeddedOcsp, answer.status, answer.this_update));
        }
        let crl = embedded.crls.iter().find_map(|crl| check_crl(certificate, issuer, crl, now).ok())?;
        Some(from_status(Source::EmbeddedCrl, crl.status, crl.this_update))
    }

    /// Why `checked` means the certificate must not be used now, or `None`.
    pub(crate) fn refusal(&self, checked: &Checked) -> Option<String> {
        match checked {
            Checked::Revoked { .. } | Checked::Unknown => Some(checked.describe()),
            Checked::Unavailable(_) if self.mode == RevocationMode::Hard => {
                Some(format!("{} (revocation = \"hard\")", checked.describe()))
            }
            _ => None,
        }
    }

    async fn ocsp(&self, url: &str, certificate: &Certificate, issuer: &Certificate) -> Result<Checked, String> {
        let key = cache_key(url, certificate);
        let now = SystemTime::now();
        let cached = OcspQuery { certificate, issuer, nonce: None };
        if let Some(bytes) = self.cache.get("ocsp", &key)
            && let Ok(answer) = check_ocsp_response(&bytes, &cached, now)
        {
            return Ok(from_status(Source::Ocsp, answer.status, answer.this_update));
        }
        let nonce = crate::random::random_bytes(32).map_err(|e| e.to_string())?;
        let request = ocsp_request(certificate, issuer, Some(&nonce)).map_err(|e| e.to_string())?;
        let bytes = self
            .client
            .post(url, "application/ocsp-request", request, MAX_OCSP)
            .await
            .map_err(|e| format!("OCSP {e}"))?;
        let query = OcspQuery { certificate, issuer, nonce: Some(&nonce) };
        let answer = check_ocsp_response(&bytes, &query, SystemTime::now()).map_err(|e| format!("OCSP {url}: {e}"))?;
        if answer.next_update.is_some() {
            self.cache.put("ocsp", &key, &bytes);
        }
        Ok(from_status(Source::Ocsp, answer.status, answer.this_update))
    }

    async fn crl(&self, url: &str, certificate: &Certificate, issuer: &Certificate) -> Result<Checked, String> {
        let now = SystemTime::now();
        if let Some(bytes) = self.cache.get("crl", url.as_bytes()) {
            match check_crl(certificate, issuer, &bytes, now) {
                Ok(answer) => return Ok(from_status(Source::Crl, answer.status, answer.this_update)),
                Err(error) => tracing::debug!(%url, %error, "cached CRL not usable; fetching it again"),
            }
        }
        let bytes = self.client.get(url, self.crl_limit()).await.map_err(|e| format!("CRL {e}"))?;
        let answer = check_crl(certificate, issuer, &bytes, now).map_err(|e| format!("CRL {url}: {e}"))?;
        self.cache.put("crl", url.as_bytes(), &bytes);
        Ok(from_status(Source::Crl, answer.status, answer.this_update))
    }

    /// CRLs can be megabytes; at most the whole cache (and at least 1 MiB).
    fn crl_limit(&self) -> usize {
        usize::try_from(self.cache.cap()).unwrap_or(usize::MAX).max(1 << 20)
    }
}

/// Whatever the source, its answer as a [`Checked`].
fn from_status(source: Source, status: Revocation, as_of: SystemTime) -> Checked {
    match status {
        Revocation::Good => Checked::Good { source, as_of },
        Revocation::Revoked { at, reason } => Checked::Revoked { source, at, reason },
        Revocation::Unknown => Checked::Unknown,
    }
}

/// The OCSP cache key: responder and certificate.
fn cache_key(url: &str, certificate: &Certificate) -> Vec<u8> {
    use der::Encode as _;
    let mut key = url.as_bytes().to_vec();
    key.extend(certificate.to_der().unwrap_or_default());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pki(mode: RevocationMode) -> Pki {
        Pki::new(mode, PkiCache::new(std::env::temp_dir().join("unused"), 1), Duration::from_secs(1))
    }

    #[test]
    fn what_each_mode_allows() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_796_000_000);
        let good = Checked::Good { source: Source::Ocsp, as_of: now };
        let revoked = Checked::Revoked { source: Source::Crl, at: now, reason: Some("keyCompromise".into()) };
        let down = Checked::Unavailable(vec!["OCSP http://ocsp.example/: connection refused".into()]);
        for mode in [RevocationMode::Soft, RevocationMode::Hard, RevocationMode::Off] {
            let p = pki(mode);
            assert_eq!(p.refusal(&good), None);
            assert_eq!(p.refusal(&Checked::NoSources), None);
            assert!(p.refusal(&revoked).is_some_and(|r| r.contains("REVOKED") && r.contains("(CRL)")));
            assert!(p.refusal(&Checked::Unknown).is_some());
            assert_eq!(p.refusal(&down).is_some(), mode == RevocationMode::Hard);
        }
        assert_eq!(good.describe(), "Not revoked (OCSP, as of 2026-11-30T00:53:20Z).");
        assert_eq!(revoked.describe(), "REVOKED on 2026-11-30T00:53:20Z, reason keyCompromise (CRL).");
    }
}
