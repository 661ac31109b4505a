//! The checks every state-changing request to the own origin must pass: it comes from a
//! page of the own origin (Sec-Fetch-Site, Origin, Referer) and carries the per-run token
//! that only pages of the own origin can read (no CORS, so other origins cannot fetch the
//! page that embeds it).

use hudsucker::hyper::header::{self, HeaderMap};

/// Why a state-changing request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Refusal {
    /// The request comes from another origin, or its origin cannot be established.
    CrossOrigin,
    /// The token is missing or wrong.
    BadToken,
}

/// Accepts only requests whose `Sec-Fetch-Site` (when sent) is `same-origin` and whose
/// `Origin` (or, when absent, `Referer`) is `http://host` or `https://host`. A request
/// with neither `Origin` nor `Referer` is refused: browsers send `Origin` on every POST.
pub(super) fn check_same_origin(headers: &HeaderMap, host: &str) -> Result<(), Refusal> {
    let text = |name| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text(header::HeaderName::from_static("sec-fetch-site"))
        && site != "same-origin"
    {
        return Err(Refusal::CrossOrigin);
    }
    let ours = |origin: &str| {
        origin
            .strip_prefix("https://")
            .or_else(|| origin.strip_prefix("http://"))
            .is_some_and(|rest| rest.eq_ignore_ascii_case(host))
    };
    match (text(header::ORIGIN), text(header::REFERER)) {
        (Some(origin), _) if ours(origin) => Ok(()),
        (None, Some(referer)) => {
            let origin_part = referer.splitn(4, '/').take(3).collect::<Vec<_>>().join("/");
            if ours(&origin_part) { Ok(()) } else { Err(Refusal::CrossOrigin) }
        }
        _ => Err(Refusal::CrossOrigin),
    }
}

/// Constant-time comparison of the expected token with the one given (the length of the
/// expected token is not secret: it is always 64 hex digits).
pub(super) fn token_matches(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The value of `name` in an `application/x-www-form-urlencoded` body. Values are
/// returned raw (not percent-decoded): the fields we read are hex and fixed words.
pub(super) fn form_field<'a>(body: &'a str, name: &str) -> Option<&'a str> {
    body.split('&').filter_map(|pair| pair.split_once('=')).find(|(key, _)| *key == name).map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hudsucker::hyper::header::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.insert(*k, HeaderValue::from_static(v));
        }
        map
    }

    const HOST: &str = "smime-proxy.invalid";

    #[test]
    fn same_origin_is_accepted() {
        for h in [
            headers(&[("origin", "https://smime-proxy.invalid")]),
            headers(&[("origin", "http://smime-proxy.invalid"), ("sec-fetch-site", "same-origin")]),
            headers(&[("referer", "https://smime-proxy.invalid/?x")]),
        ] {
            assert_eq!(check_same_origin(&h, HOST), Ok(()), "{h:?}");
        }
    }

    #[test]
    fn other_origins_are_refused() {
        for h in [
            headers(&[]),
            headers(&[("origin", "null")]),
            headers(&[("origin", "https://evil.example")]),
            headers(&[("origin", "https://smime-proxy.invalid.evil.example")]),
            headers(&[("referer", "https://evil.example/smime-proxy.invalid/")]),
            headers(&[("origin", "https://smime-proxy.invalid"), ("sec-fetch-site", "cross-site")]),
            headers(&[("origin", "https://smime-proxy.invalid:8443")]),
        ] {
            assert_eq!(check_same_origin(&h, HOST), Err(Refusal::CrossOrigin), "{h:?}");
        }
    }

    #[test]
    fn tokens_and_forms() {
        assert!(token_matches("abcd", "abcd"));
        assert!(!token_matches("abcd", "abce"));
        assert!(!token_matches("abcd", "abc"));
        assert_eq!(form_field("token=ab&enabled=off", "enabled"), Some("off"));
        assert_eq!(form_field("token=ab", "enabled"), None);
    }
}
