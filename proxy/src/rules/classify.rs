//! A compose request's body → which request it is (send, draft, upload, spell check),
//! the fields the rule names, the S/MIME choice posted by the injected controls, and the
//! body to forward with those control fields removed.

use bytes::Bytes;

use super::json_path::JsonPath;
use super::matcher::{Head, fields_match, head_matches};
use super::rule::{CONTROL_PREFIX, CONTROLS_FIELD, ComposeKind, ENCRYPT_FIELD, RequestRule, Rule, SIGN_FIELD};
use crate::form::{Form, json_text};

/// A classified compose request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeRequest {
    /// What it does.
    pub kind: ComposeKind,
    /// The fields the rule names (missing ones are empty).
    pub fields: ComposeFields,
    /// What the injected toggles posted; `None` when the request carried none of them
    /// (a page the proxy did not rewrite, or an XHR that does not post the form).
    pub smime: Option<SmimeChoice>,
    /// The CSRF token, from the rule's field or header.
    pub csrf_token: Option<String>,
}

/// The state of the Sign and Encrypt toggles as posted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmimeChoice {
    /// Sign was on.
    pub sign: bool,
    /// Encrypt was on.
    pub encrypt: bool,
}

/// The compose content of a request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ComposeFields {
    /// Sender (address or identity id).
    pub from: String,
    /// To, as posted.
    pub to: String,
    /// Cc, as posted.
    pub cc: String,
    /// Bcc, as posted.
    pub bcc: String,
    /// Subject.
    pub subject: String,
    /// Body text.
    pub body: String,
    /// Whether `body` is HTML.
    pub html: bool,
    /// Ids of attachments uploaded earlier.
    pub attachments: Vec<String>,
    /// The compose session id.
    pub compose_id: String,
    /// Files of an upload.
    pub uploads: Vec<Upload>,
    /// Text sent for spell checking.
    pub spellcheck_text: String,
    /// The attachment a remove request names.
    pub attachment_id: String,
    /// The folder for the sender's copy (empty: the default).
    pub sent_folder: String,
}

/// One file of an upload request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// File name as sent.
    pub name: String,
    /// Content type as sent (empty when none).
    pub content_type: String,
    /// The file's bytes (a slice of the request body).
    pub data: Bytes,
}

/// The result of looking at a candidate compose request's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    /// The request, when one of the rule's request entries matches.
    pub request: Option<ComposeRequest>,
    /// The body to forward: the original without the proxy's control fields.
    pub body: Bytes,
    /// Whether control fields were removed.
    pub stripped: bool,
    /// What the toggles posted, read whether or not an entry matched: a request that asks
    /// for S/MIME must never be forwarded just because no entry recognised it.
    pub smime: Option<SmimeChoice>,
    /// The body said it was JSON and is not a JSON object: whether it asks for S/MIME
    /// cannot be known.
    pub unreadable: bool,
}

impl Classified {
    /// True when Sign or Encrypt was on.
    pub fn wants_smime(&self) -> bool {
        self.smime.is_some_and(|s| s.sign || s.encrypt)
    }
}

/// Classifies a request whose head matched `candidates` (from
/// [`super::Match::ComposeRequest`]). `csrf_header` is the value of the rule's CSRF
/// header (`rule.csrf.header`), if sent.
pub fn classify(
    rule: &Rule,
    candidates: &[RequestRule],
    head: &Head<'_>,
    csrf_header: Option<&str>,
    body: Bytes,
) -> Classified {
    let Head { path, query, content_type, .. } = *head;
    let form = Form::parse(content_type, &body);
    let (sign, encrypt) = (form.get(SIGN_FIELD), form.get(ENCRYPT_FIELD));
    let on = |v: Option<&str>| v.is_some_and(|v| !v.is_empty() && v != "0");
    let posted = sign.is_some() || encrypt.is_some() || form.get(CONTROLS_FIELD).is_some();
    let smime = posted.then(|| SmimeChoice { sign: on(sign), encrypt: on(encrypt) });
    let entry =
        candidates.iter().filter(|r| head_matches(&r.request, head)).find(|r| fields_match(&r.form, |n| form.get(n)));
    let request = entry.map(|entry| {
        let captures = entry.request.path.captures(path).unwrap_or_default();
        // A field source: `{capture}`, a JSON path, or a field name.
        let lookup = |source: &str| -> Option<String> {
            if let Some(name) = source.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                return captures.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
            }
            if source.starts_with('$') {
                let path = JsonPath::parse(source).ok()?;
                return form.json().and_then(|doc| path.first(doc)).map(json_text);
            }
            form.get(source).map(str::to_owned)
        };
        let value = |name: &Option<String>| name.as_deref().and_then(lookup).unwrap_or_default();
        let form_or_query = |name: &Option<String>| {
            name.as_deref().and_then(|n| lookup(n).or_else(|| query.get(n).map(str::to_owned))).unwrap_or_default()
        };
        let f = &rule.fields;
        let mut fields = ComposeFields {
            from: value(&f.from),
            to: value(&Some(f.to.clone())),
            cc: value(&f.cc),
            bcc: value(&f.bcc),
            subject: value(&Some(f.subject.clone())),
            body: value(&Some(f.body.clone())),
            html: matches!(value(&f.html_flag).to_ascii_lowercase().as_str(), "1" | "true" | "on"),
            attachments: value(&f.attachments)
                .split(f.attachment_separator.as_str())
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect(),
            compose_id: form_or_query(if entry.compose_id.is_some() { &entry.compose_id } else { &f.compose_id }),
            uploads: Vec::new(),
            spellcheck_text: String::new(),
            attachment_id: form_or_query(&f.attachment_id),
            sent_folder: value(&f.sent_folder),
        };
        match entry.kind {
            ComposeKind::Upload => {
                fields.uploads = form
                    .fields()
                    .iter()
                    .filter(|x| x.filename.is_some() && f.upload_file.as_ref().is_none_or(|n| *n == x.name))
                    .map(|x| Upload {
                        name: x.filename.clone().unwrap_or_default(),
                        content_type: x.content_type.clone().unwrap_or_default(),
                        data: body.slice(x.data.clone()),
                    })
                    .collect();
            }
            ComposeKind::Spellcheck | ComposeKind::Convert => {
                fields.spellcheck_text = match (&f.spellcheck_text, form.is_form()) {
                    (Some(_), true) => value(&f.spellcheck_text),
                    _ => String::from_utf8_lossy(&body).into_owned(),
                };
            }
            ComposeKind::Send | ComposeKind::Draft | ComposeKind::Remove => {}
        }
        let csrf_token = rule
            .csrf
            .field
            .as_deref()
            .and_then(|n| form.get(n).or_else(|| query.get(n)))
            .or(csrf_header)
            .map(str::to_owned);
        ComposeRequest { kind: entry.kind, fields, smime, csrf_token }
    });
    let unreadable = form.is_unreadable();
    match form.without(&body, |name| name.starts_with(CONTROL_PREFIX)) {
        Some(stripped) => Classified { request, body: Bytes::from(stripped), stripped: true, smime, unreadable },
        None => Classified { request, body, stripped: false, smime, unreadable },
    }
}
