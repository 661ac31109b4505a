//! Request → what it is for a rule: one of the rule's pages, a compose request, or
//! nothing. Only the request head (method, path, query, content type) is looked at here;
//! a compose request's body conditions are checked by [`super::classify`].

use std::collections::BTreeMap;

use super::pattern::ValuePattern;
use super::rule::{AnswerPage, EncryptedFields, LoginRequest, PageMatch, RequestRule, Rule, SignedForm, ViewPage};

/// The query string of a request, decoded (`+` is a space), first value of each name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    /// Parses a raw query string (without `?`).
    pub fn parse(raw: &str) -> Self {
        Self { pairs: crate::form::decode_pairs(raw.as_bytes()) }
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// What matching looks at of a request.
#[derive(Debug, Clone, Copy)]
pub struct Head<'a> {
    /// The method.
    pub method: &'a str,
    /// The path, without query.
    pub path: &'a str,
    /// The query.
    pub query: &'a Query,
    /// The `Content-Type` header.
    pub content_type: Option<&'a str>,
}

/// What a request is, for one rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match<'r> {
    /// It loads the compose page: the response gets the controls.
    Compose,
    /// It loads this message view.
    View(&'r ViewPage),
    /// It opens a compose answering a message (reply, forward).
    Answer(&'r AnswerPage),
    /// It loads the message list.
    List,
    /// It may carry compose content: these request rules match its head, in order; the
    /// body decides which one (if any) applies.
    ComposeRequest(&'r [RequestRule]),
    /// It logs the user in (the rule's `[login]`).
    Login(&'r LoginRequest),
}

impl Match<'_> {
    /// The page kind's name, for logs and reports.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Compose => "compose page",
            Self::View(_) => "message view",
            Self::Answer(_) => "answer",
            Self::List => "message list",
            Self::ComposeRequest(_) => "compose request",
            Self::Login(_) => "login",
        }
    }
}

/// What `head` is for `rule`. Compose requests are checked first (a send POST must never
/// be mistaken for a page), then the compose page, the answers, the views, the list.
pub fn match_request<'r>(rule: &'r Rule, head: &Head<'_>) -> Option<Match<'r>> {
    let first = rule.requests.iter().position(|r| head_matches(&r.request, head));
    if let Some(first) = first {
        return Some(Match::ComposeRequest(&rule.requests[first..]));
    }
    if let Some(login) = rule.login.as_ref().filter(|l| head_matches(&l.request, head)) {
        return Some(Match::Login(login));
    }
    if head_matches(&rule.compose, head) {
        return Some(Match::Compose);
    }
    if let Some(answer) = rule.answers.iter().find(|a| head_matches(&a.page, head)) {
        return Some(Match::Answer(answer));
    }
    if let Some(view) = rule.views.iter().find(|v| head_matches(&v.page, head)) {
        return Some(Match::View(view));
    }
    if rule.list.as_ref().is_some_and(|l| head_matches(l, head)) {
        return Some(Match::List);
    }
    None
}

/// The rule's `[[encrypted_fields]]` entries whose request head `head` matches, in order;
/// the body decides which one (if any) applies ([`EncryptedFields::matches_body`]).
pub fn encrypted_fields_for<'r>(rule: &'r Rule, head: &Head<'_>) -> Vec<&'r EncryptedFields> {
    rule.encrypted_fields.iter().filter(|entry| head_matches(&entry.request, head)).collect()
}

/// Whether `head` loads a page that shows or edits encrypted fields (an
/// `[[encrypted_fields]]` entry's `pages`).
pub fn shows_encrypted_fields(rule: &Rule, head: &Head<'_>) -> bool {
    rule.encrypted_fields.iter().flat_map(|entry| &entry.pages).any(|page| head_matches(page, head))
}

/// The rule's `[[signed_forms]]` entries whose request head `head` matches, in order.
pub fn signed_forms_for<'r>(rule: &'r Rule, head: &Head<'_>) -> Vec<&'r SignedForm> {
    rule.signed_forms.iter().filter(|entry| head_matches(&entry.request, head)).collect()
}

/// Whether `head` matches `page`.
pub fn head_matches(page: &PageMatch, head: &Head<'_>) -> bool {
    page.method.eq_ignore_ascii_case(head.method)
        && page.path.matches(head.path)
        && fields_match(&page.query, |n| head.query.get(n))
        && page.content_type.as_deref().is_none_or(|want| head.content_type.is_some_and(|got| essence(got) == want))
}

/// The media type of a `Content-Type` value, lower case, without parameters.
pub fn essence(content_type: &str) -> String {
    content_type.split(';').next().unwrap_or_default().trim().to_ascii_lowercase()
}

/// Whether every pattern matches the value `lookup` gives for its name.
pub fn fields_match<'v>(patterns: &BTreeMap<String, ValuePattern>, lookup: impl Fn(&str) -> Option<&'v str>) -> bool {
    patterns.iter().all(|(name, pattern)| pattern.matches(lookup(name)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::RuleSet;

    fn roundcube() -> std::sync::Arc<Rule> {
        RuleSet::bundled().unwrap().get("roundcube").unwrap().clone()
    }

    fn what(method: &str, url: &str) -> Option<&'static str> {
        let rule = roundcube();
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let query = Query::parse(query);
        match_request(&rule, &Head { method, path, query: &query, content_type: None }).map(|m| m.name())
    }

    #[test]
    fn roundcube_pages_from_the_captured_session() {
        assert_eq!(what("GET", "/?_task=mail&_action=compose&_id=2356372926b05238e773c2"), Some("compose page"));
        // The redirect to the page with `_id` is not the page itself.
        assert_eq!(what("GET", "/?_task=mail&_action=compose"), None);
        // A reply or forward opens with the original's uid, then redirects to the page.
        assert_eq!(what("GET", "/?_task=mail&_reply_uid=7&_mbox=INBOX&_action=compose"), Some("answer"));
        assert_eq!(what("GET", "/?_task=mail&_reply_uid=7&_mbox=INBOX&_all=all&_action=compose"), Some("answer"));
        assert_eq!(what("GET", "/?_task=mail&_forward_uid=7&_mbox=INBOX&_action=compose"), Some("answer"));
        assert_eq!(what("GET", "/?_task=mail&_mbox=INBOX&_uid=9&_action=show"), Some("message view"));
        assert_eq!(
            what("GET", "/?_task=mail&_caps=pdf%3D1&_uid=9&_mbox=INBOX&_framed=1&_action=preview"),
            Some("message view")
        );
        assert_eq!(what("GET", "/?_task=mail&_mbox=INBOX"), Some("message list"));
        assert_eq!(what("GET", "/?_task=mail&_action=list&_refresh=1&_mbox=INBOX&_remote=1"), Some("message list"));
        assert_eq!(what("POST", "/?_task=mail&_unlock=loading1&_framed=1"), Some("compose request"));
        assert_eq!(what("POST", "/?_task=mail&_remote=1&_from=compose&_id=1&_action=upload"), Some("compose request"));
        assert_eq!(what("GET", "/?_task=login"), None);
        assert_eq!(what("POST", "/?_task=login"), None);
        assert_eq!(what("GET", "/program/resources/blank.webp"), None);
    }

    #[test]
    fn query_decoding() {
        let q = Query::parse("a=1&b=x+y%2Cz&a=2&c");
        assert_eq!(q.get("a"), Some("1"));
        assert_eq!(q.get("b"), Some("x y,z"));
        assert_eq!(q.get("c"), Some(""));
        assert_eq!(q.get("d"), None);
    }
}
