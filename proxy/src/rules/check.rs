//! `smime-proxy rules test`: every fixture of every rule, compared with its golden files.
//!
//! A rule `NAME` has its fixtures in `fixtures/NAME/`, listed in `fixtures/NAME/fixtures.toml`:
//! `[[page]]` entries (a captured page + the URL it was loaded from) and `[[request]]`
//! entries (a raw HTTP request: request line, headers, blank line, body). Each fixture
//! `STEM.EXT` has a golden `STEM.expected.txt` (what the rule makes of it: page kind,
//! compose request kind and fields, the S/MIME choice, the body forwarded upstream) and,
//! for a page the rule rewrites, `STEM.expected.html` (the rewritten page).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use serde::Deserialize;

use super::bundled::BUNDLED_FIXTURES;
use super::classify::{Head, classify};
use super::diff::diff;
use super::matcher::{Match, Query, match_request};
use super::rule::Rule;
use crate::rewrite::{ControlsState, Insert, PageCharset, controls, insert};

/// Where fixture files come from.
#[derive(Debug, Clone)]
pub enum FixtureSource {
    /// `DIR/fixtures/` of a rules directory.
    Dir(PathBuf),
    /// The fixtures of the bundled rules, embedded in the binary.
    Bundled,
}

impl FixtureSource {
    fn read(&self, rel: &str) -> Result<Vec<u8>, String> {
        match self {
            Self::Dir(dir) => {
                let path = dir.join("fixtures").join(rel);
                std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))
            }
            Self::Bundled => BUNDLED_FIXTURES
                .iter()
                .find(|(p, _)| *p == rel)
                .map(|(_, bytes)| bytes.to_vec())
                .ok_or_else(|| format!("{rel} is not bundled")),
        }
    }

    fn write(&self, rel: &str, bytes: &[u8]) -> Result<(), String> {
        match self {
            Self::Dir(dir) => {
                let path = dir.join("fixtures").join(rel);
                std::fs::write(&path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
            }
            Self::Bundled => Err("bundled fixtures cannot be blessed: give the rules directory".into()),
        }
    }

    fn describe(&self, rel: &str) -> String {
        match self {
            Self::Dir(dir) => dir.join("fixtures").join(rel).display().to_string(),
            Self::Bundled => format!("{rel} (bundled)"),
        }
    }
}

/// The outcome of `rules test`.
#[derive(Debug, Default)]
pub struct CheckReport {
    /// One line per fixture (`ok`, `FAIL`, `blessed`), followed by diffs of failures.
    pub text: String,
    /// Fixtures that passed (or were blessed).
    pub passed: usize,
    /// Fixtures (or rules) that failed.
    pub failed: usize,
}

/// Runs every fixture of every rule. With `bless`, golden files are (re)written from the
/// actual results instead of compared.
pub fn check_rules<'a>(
    rules: impl IntoIterator<Item = &'a Arc<Rule>>,
    source: &FixtureSource,
    bless: bool,
) -> CheckReport {
    let mut report = CheckReport::default();
    for rule in rules {
        let manifest_rel = format!("{}/fixtures.toml", rule.name);
        let manifest = match source.read(&manifest_rel).and_then(|bytes| {
            toml::from_str::<Manifest>(&String::from_utf8_lossy(&bytes))
                .map_err(|e| format!("{}: {e}", source.describe(&manifest_rel)))
        }) {
            Ok(m) => m,
            Err(e) => {
                report.failed += 1;
                let _ = writeln!(report.text, "FAIL {}: no usable fixtures: {e}", rule.name);
                continue;
            }
        };
        if manifest.page.is_empty() && manifest.request.is_empty() {
            report.failed += 1;
            let _ = writeln!(report.text, "FAIL {}: {} lists no fixtures", rule.name, manifest_rel);
            continue;
        }
        let fixtures = manifest
            .page
            .iter()
            .map(|p| (p.file.as_str(), Some(p)))
            .chain(manifest.request.iter().map(|r| (r.file.as_str(), None)));
        for (file, page) in fixtures {
            let rel = format!("{}/{file}", rule.name);
            let outcome = source.read(&rel).and_then(|input| match page {
                Some(page) => Ok(run_page(rule, page, &input)),
                None => run_request(rule, &input),
            });
            let results = match outcome {
                Ok(results) => results,
                Err(e) => {
                    report.failed += 1;
                    let _ = writeln!(report.text, "FAIL {rel}: {e}");
                    continue;
                }
            };
            let stem = file.rsplit_once('.').map_or(file, |(s, _)| s);
            let mut problems = String::new();
            for (ext, actual) in results {
                let golden = format!("{}/{stem}.expected.{ext}", rule.name);
                if bless {
                    if let Err(e) = source.write(&golden, actual.as_bytes()) {
                        let _ = writeln!(problems, "{e}");
                    }
                    continue;
                }
                match source.read(&golden) {
                    Err(_) => {
                        let _ = writeln!(
                            problems,
                            "  missing golden file {} (create it with `smime-proxy rules test --bless DIR`)",
                            source.describe(&golden)
                        );
                    }
                    Ok(expected) => {
                        let d = diff(&String::from_utf8_lossy(&expected), &actual);
                        if !d.is_empty() {
                            let _ =
                                writeln!(problems, "  {} differs (- expected, + actual):", source.describe(&golden));
                            for line in d.lines() {
                                let _ = writeln!(problems, "    {line}");
                            }
                        }
                    }
                }
            }
            if problems.is_empty() {
                report.passed += 1;
                let _ = writeln!(report.text, "{} {rel}", if bless { "blessed" } else { "ok" });
            } else {
                report.failed += 1;
                let _ = write!(report.text, "FAIL {rel}\n{problems}");
            }
        }
    }
    let _ = writeln!(report.text, "{} passed, {} failed", report.passed, report.failed);
    report
}

/// `fixtures/NAME/fixtures.toml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Manifest {
    /// Where the fixtures come from (free text).
    #[allow(dead_code, reason = "documentation for humans")]
    origin: Option<String>,
    #[serde(default)]
    page: Vec<PageFixture>,
    #[serde(default)]
    request: Vec<RequestFixture>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PageFixture {
    file: String,
    /// The URL (path and query) the page was loaded from.
    url: String,
    /// The response's Content-Type (default `text/html; charset=utf-8`).
    content_type: Option<String>,
    #[allow(dead_code, reason = "documentation for humans")]
    note: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RequestFixture {
    file: String,
    #[allow(dead_code, reason = "documentation for humans")]
    note: Option<String>,
}

/// A page fixture: its summary and, when rewritten, the page.
fn run_page(rule: &Rule, page: &PageFixture, input: &[u8]) -> Vec<(&'static str, String)> {
    let (path, raw_query) = page.url.split_once('?').unwrap_or((&page.url, ""));
    let query = Query::parse(raw_query);
    let charset = PageCharset::from_content_type(page.content_type.as_deref().unwrap_or("text/html; charset=utf-8"));
    let mut summary = format!("rule: {}\nrequest: GET {}\n", rule.name, page.url);
    let found = |selector: &str| {
        let probe = [Insert { selector: selector.to_owned(), position: super::Position::Prepend, html: String::new() }];
        insert(input, charset, &probe).map(|(_, n)| n == 1).unwrap_or(false)
    };
    let mut out = vec![];
    match match_request(rule, "GET", path, &query) {
        Some(Match::Compose) => {
            summary.push_str("match: compose page\n");
            let inserts = controls(rule, &ControlsState::defaults(rule));
            match insert(input, charset, &inserts) {
                Ok((html, placed)) => {
                    let _ = writeln!(summary, "controls placed: {placed} of {}", inserts.len());
                    out.push(("html", String::from_utf8_lossy(&html).into_owned()));
                }
                Err(e) => {
                    let _ = writeln!(summary, "rewrite failed: {e}");
                }
            }
        }
        Some(Match::View) => {
            summary.push_str("match: message view\n");
            if let Some(view) = &rule.view {
                let url = view.raw_message.fill(path, &query).unwrap_or_else(|| "(cannot be filled)".into());
                let _ = writeln!(summary, "raw message: {url}");
                let state = if found(&view.replace) { "found" } else { "NOT FOUND" };
                let _ = writeln!(summary, "replaced element: {} ({state})", view.replace);
            }
        }
        Some(other) => {
            let _ = writeln!(summary, "match: {}", other.name());
        }
        None => summary.push_str("match: none (passed through unchanged)\n"),
    }
    out.insert(0, ("txt", summary));
    out
}

/// A raw request fixture: its summary.
fn run_request(rule: &Rule, raw: &[u8]) -> Result<Vec<(&'static str, String)>, String> {
    let request = RawRequest::parse(raw)?;
    let (path, raw_query) = request.target.split_once('?').unwrap_or((&request.target, ""));
    let query = Query::parse(raw_query);
    let mut s = format!("rule: {}\nrequest: {} {}\n", rule.name, request.method, request.target);
    match match_request(rule, &request.method, path, &query) {
        Some(Match::ComposeRequest(candidates)) => {
            let head = Head {
                method: &request.method,
                path,
                query: &query,
                content_type: request.header("content-type"),
                csrf_header: rule.csrf.header.as_deref().and_then(|h| request.header(h)),
            };
            let result = classify(rule, candidates, &head, Bytes::copy_from_slice(request.body));
            match &result.request {
                None => s.push_str("match: compose request head, but no entry matches the body\n"),
                Some(c) => {
                    let f = &c.fields;
                    let _ = writeln!(s, "match: compose request\nkind: {}", c.kind.name());
                    for (name, value) in [
                        ("from", &f.from),
                        ("to", &f.to),
                        ("cc", &f.cc),
                        ("bcc", &f.bcc),
                        ("subject", &f.subject),
                        ("compose id", &f.compose_id),
                    ] {
                        let _ = writeln!(s, "{name}: {}", value.escape_debug());
                    }
                    let _ = writeln!(s, "html: {}", f.html);
                    let _ = writeln!(s, "body: {}", f.body.escape_debug());
                    let _ = writeln!(s, "attachments: {:?}", f.attachments);
                    for upload in &f.uploads {
                        let (name, kind, size) = (&upload.name, &upload.content_type, upload.data.len());
                        let _ = writeln!(s, "upload: {name} ({kind}, {size} bytes)");
                    }
                    if !f.spellcheck_text.is_empty() {
                        let _ = writeln!(s, "spellcheck text: {}", f.spellcheck_text.escape_debug());
                    }
                    let smime = c.smime.map_or_else(
                        || "not posted".to_owned(),
                        |x| format!("sign={} encrypt={}", on_off(x.sign), on_off(x.encrypt)),
                    );
                    let _ = writeln!(s, "smime: {smime}");
                    let _ = writeln!(s, "csrf token: {}", if c.csrf_token.is_some() { "present" } else { "absent" });
                }
            }
            let _ = writeln!(s, "control fields stripped: {}", if result.stripped { "yes" } else { "no" });
            let _ = writeln!(s, "forwarded body ({} bytes):", result.body.len());
            for line in String::from_utf8_lossy(&result.body).split('\n') {
                let _ = writeln!(s, "| {}", line.escape_debug());
            }
        }
        Some(other) => {
            let _ = writeln!(s, "match: {}", other.name());
        }
        None => s.push_str("match: none (passed through unchanged)\n"),
    }
    Ok(vec![("txt", s)])
}

fn on_off(on: bool) -> &'static str {
    if on { "on" } else { "off" }
}

/// A raw HTTP/1 request as captured: request line, headers, blank line, body (line
/// breaks CRLF or LF).
struct RawRequest<'a> {
    method: String,
    /// Path and query (an absolute URL's scheme and authority removed).
    target: String,
    headers: Vec<(String, String)>,
    body: &'a [u8],
}

impl<'a> RawRequest<'a> {
    fn parse(raw: &'a [u8]) -> Result<Self, String> {
        let (head_end, body_start) = match (find(raw, b"\r\n\r\n"), find(raw, b"\n\n")) {
            (Some(c), Some(l)) if l < c => (l, l + 2),
            (Some(c), _) => (c, c + 4),
            (None, Some(l)) => (l, l + 2),
            (None, None) => (raw.len(), raw.len()),
        };
        let head = std::str::from_utf8(&raw[..head_end]).map_err(|_| "the request head is not UTF-8".to_owned())?;
        let mut lines = head.lines();
        let first = lines.next().unwrap_or_default();
        let mut parts = first.split_whitespace();
        let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
            return Err(format!("`{first}` is not a request line (METHOD URL [HTTP/1.1])"));
        };
        let target = match target.split_once("://") {
            Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]).to_owned(),
            None => target.to_owned(),
        };
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
            .collect();
        Ok(Self { method: method.to_ascii_uppercase(), target, headers, body: &raw[body_start..] })
    }

    fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(k, _)| *k == name).map(|(_, v)| v.as_str())
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The default directory for `rules test`: `rewrite-rules/` under the current directory
/// when it exists (running from the repository).
pub fn default_dir() -> Option<PathBuf> {
    let dir = Path::new("rewrite-rules");
    dir.is_dir().then(|| dir.to_path_buf())
}
