//! Rule files (TOML) → [`Rule`], validated once: unknown keys, missing parts, CSS
//! selectors lol_html cannot parse, templates without their placeholders, URL templates
//! naming parameters the page does not carry, JSON paths that do not parse, path globs that
//! are not valid. Every error names the file, the line and
//! the reason. [`RuleSet`] holds the bundled rules plus a user directory that adds rules
//! or overrides them by name.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use serde::Deserialize;
use toml::Spanned;

use super::bundled::BUNDLED;
use super::json_path::JsonPath;
use super::pattern::{PathPattern, ValuePattern};
use super::rule::{
    AnswerKind, AnswerPage, ComposeKind, Controls, Csrf, DeliveryRoute, EncryptedFields, Fields, Insertion, JsonView,
    LoginRequest, PageMatch, Position, RequestRule, Rule, SignedForm, UrlTemplate, ViewBody, ViewPage,
};
use crate::Error;

/// The rules known to the proxy, by name.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    rules: BTreeMap<String, Arc<Rule>>,
}

impl RuleSet {
    /// The bundled rules (embedded in the binary).
    pub fn bundled() -> Result<Self, Error> {
        let mut set = Self::default();
        for (file, text) in BUNDLED {
            set.insert(parse_rule(text, &format!("{file} (bundled)"))?);
        }
        Ok(set)
    }

    /// The bundled rules plus every `*.toml` in `dir` (a rule with a bundled rule's name
    /// replaces it).
    pub fn bundled_and_dir(dir: &Path) -> Result<Self, Error> {
        let mut set = Self::bundled()?;
        for rule in load_dir(dir)? {
            set.insert(rule);
        }
        Ok(set)
    }

    /// Adds `rule`, replacing one of the same name.
    pub fn insert(&mut self, rule: Rule) {
        self.rules.insert(rule.name.clone(), Arc::new(rule));
    }

    /// The rule called `name`.
    pub fn get(&self, name: &str) -> Option<&Arc<Rule>> {
        self.rules.get(name)
    }

    /// All rules, by name.
    pub fn iter(&self) -> impl Iterator<Item = &Arc<Rule>> {
        self.rules.values()
    }

    /// The rule names, for error messages.
    pub fn names(&self) -> Vec<&str> {
        self.rules.keys().map(String::as_str).collect()
    }
}

/// Every `*.toml` rule file directly in `dir`, sorted by file name. Two files with the
/// same rule name are an error.
pub fn load_dir(dir: &Path) -> Result<Vec<Rule>, Error> {
    let read_error = |source| Error::ReadRules { path: dir.to_path_buf(), source };
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(read_error)?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml") && p.is_file())
        .collect();
    files.sort();
    let mut rules: Vec<Rule> = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).map_err(|source| Error::ReadRules { path: path.clone(), source })?;
        let rule = parse_rule(&text, &path.display().to_string())?;
        if let Some(other) = rules.iter().find(|r| r.name == rule.name) {
            return Err(Error::RuleFile {
                file: path.display().to_string(),
                line: 1,
                message: format!("rule `{}` is already defined in {}", rule.name, other.origin),
            });
        }
        rules.push(rule);
    }
    Ok(rules)
}

/// Parses and validates one rule file. `file` names it in errors.
pub fn parse_rule(text: &str, file: &str) -> Result<Rule, Error> {
    let at = |span: Range<usize>, message: String| Error::RuleFile {
        file: file.to_owned(),
        line: text[..span.start.min(text.len())].matches('\n').count() + 1,
        message,
    };
    let raw: RawRule =
        toml::from_str(text).map_err(|e| at(e.span().unwrap_or(0..0), e.message().trim_end().to_owned()))?;

    let name = raw.name.get_ref();
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') {
        return Err(at(raw.name.span(), format!("name `{name}`: use letters, digits, `-` and `_`")));
    }
    if raw.csrf.get_ref().field.is_none() && raw.csrf.get_ref().header.is_none() {
        return Err(at(raw.csrf.span(), "[csrf] needs `field`, `header` or both".into()));
    }

    let compose = raw.pages.compose.into_match("GET").map_err(|(s, m)| at(s, m))?;
    let list = raw.pages.list.map(|p| p.into_match("GET")).transpose().map_err(|(s, m)| at(s, m))?;
    let login = match raw.login {
        None => None,
        Some(l) => {
            let page = RawPage { method: l.method, path: l.path, query: l.query, content_type: l.content_type };
            let request = page.into_match("POST").map_err(|(s, m)| at(s, m))?;
            Some(LoginRequest { request, user: l.user, password: l.password })
        }
    };
    if raw.delivery == DeliveryRoute::Smtp && login.is_none() {
        return Err(at(0..0, "delivery = \"smtp\" needs a [login] section: the proxy sends as the user".into()));
    }
    let mut blocked_hosts = Vec::new();
    for host in raw.blocked_hosts {
        let name = host.get_ref().to_ascii_lowercase();
        if !super::sites::valid_host(&name) {
            return Err(at(host.span(), format!("blocked_hosts: `{}` is not a host name", host.get_ref())));
        }
        blocked_hosts.push(name);
    }
    let mut views = Vec::new();
    for view in raw.views {
        views.push(view_page(view).map_err(|(s, m)| at(s, m))?);
    }
    let mut encrypted_fields = Vec::new();
    for entry in raw.encrypted_fields {
        encrypted_fields.push(encrypted_fields_entry(entry).map_err(|(s, m)| at(s, m))?);
    }
    let mut signed_forms = Vec::new();
    for entry in raw.signed_forms {
        let page =
            RawPage { method: entry.method, path: entry.path, query: entry.query, content_type: entry.content_type };
        let request = page.into_match("POST").map_err(|(s, m)| at(s, m))?;
        let field = match entry.field {
            Some(raw) if raw.get_ref().is_empty() || raw.get_ref().contains(['"', '\r', '\n']) => {
                return Err(at(raw.span(), format!("field `{}`: a form field name", raw.get_ref())));
            }
            Some(raw) => raw.into_inner(),
            None => "smime_signature".to_owned(),
        };
        signed_forms.push(SignedForm { request, form: entry.form, field });
    }
    let mut answers = Vec::new();
    for answer in raw.answers {
        answers.push(answer_page(answer).map_err(|(s, m)| at(s, m))?);
    }

    let c = raw.controls;
    for (template, placeholders) in [(&c.row, &["{label}"][..]), (&c.status.html, &["{status}"][..])] {
        if let Some(missing) = placeholders.iter().find(|p| !template.get_ref().contains(**p)) {
            return Err(at(template.span(), format!("the template has no {missing} placeholder")));
        }
    }
    let row = c.row.get_ref();
    let own_checkbox = row.contains("{input}") && row.contains("{id}");
    if !own_checkbox && !row.contains("{field}") {
        return Err(at(
            c.row.span(),
            "the row needs {input} and {id} (a checkbox the proxy makes) or {field} (the field name, for an \
             app's own control)"
                .into(),
        ));
    }
    let controls = Controls {
        at: insertion(&c.selector, c.position).map_err(|m| at(c.selector.span(), m))?,
        row: c.row.into_inner(),
        input_class: c.input_class.unwrap_or_default(),
        sign: c.sign,
        encrypt: c.encrypt,
        sign_label: c.sign_label.unwrap_or_else(|| "Sign (S/MIME)".into()),
        encrypt_label: c.encrypt_label.unwrap_or_else(|| "Encrypt (S/MIME)".into()),
        status_at: insertion(&c.status.selector, c.status.position).map_err(|m| at(c.status.selector.span(), m))?,
        status: c.status.html.into_inner(),
    };

    let mut requests = Vec::new();
    for r in raw.requests {
        let compose_id = match r.compose_id {
            Some(source) => Some(field_source(&source).map_err(|m| at(source.span(), m))?),
            None => None,
        };
        requests.push(RequestRule {
            kind: r.kind,
            request: PageMatch {
                method: method(r.method, "POST").map_err(|(s, m)| at(s, m))?,
                path: path(r.path).map_err(|(s, m)| at(s, m))?,
                query: r.query,
                content_type: media_type(r.content_type).map_err(|(s, m)| at(s, m))?,
            },
            form: r.form,
            compose_id,
        });
    }
    if !requests.iter().any(|r| r.kind == ComposeKind::Send) {
        return Err(at(
            0..0,
            "no [[requests]] entry of kind \"send\": the proxy must know how a message is sent".into(),
        ));
    }

    let f = raw.fields;
    let captured: Vec<&str> = requests.iter().flat_map(|r| r.request.path.capture_names()).collect();
    let source = |raw: Option<Spanned<String>>| -> Result<Option<String>, Error> {
        let Some(raw) = raw else { return Ok(None) };
        let text = field_source(&raw).map_err(|m| at(raw.span(), m))?;
        if let Some(name) = capture_name(&text)
            && !captured.contains(&name)
        {
            return Err(at(raw.span(), format!("{{{name}}} is captured by no [[requests]] path")));
        }
        Ok(Some(text))
    };
    let required = |raw: Spanned<String>| -> Result<String, Error> {
        let span = raw.span();
        source(Some(raw))?.ok_or_else(|| at(span, "a field is required here".into()))
    };
    for r in &requests {
        if let Some(name) = r.compose_id.as_deref().and_then(capture_name)
            && !r.request.path.capture_names().contains(&name)
        {
            return Err(at(0..0, format!("compose_id {{{name}}}: the request's path captures no `{name}`")));
        }
    }
    let fields = Fields {
        from: source(f.from)?,
        to: required(f.to)?,
        cc: source(f.cc)?,
        bcc: source(f.bcc)?,
        subject: required(f.subject)?,
        body: required(f.body)?,
        html_flag: source(f.html_flag)?,
        attachments: source(f.attachments)?,
        attachment_separator: f.attachment_separator.unwrap_or_else(|| ",".into()),
        compose_id: source(f.compose_id)?,
        upload_file: source(f.upload_file)?,
        spellcheck_text: source(f.spellcheck_text)?,
        attachment_id: source(f.attachment_id)?,
        sent_folder: source(f.sent_folder)?,
        from_options: match &f.from_options {
            Some(raw) => Some(selector(raw).map_err(|m| at(raw.span(), m))?),
            None => None,
        },
    };

    Ok(Rule {
        name: raw.name.into_inner(),
        description: raw.description.unwrap_or_default(),
        origin: file.to_owned(),
        csrf: {
            let c = raw.csrf.into_inner();
            Csrf { field: c.field, header: c.header }
        },
        compose,
        views,
        answers,
        list,
        controls,
        requests,
        fields,
        adapter: raw.adapter,
        delivery: raw.delivery,
        login,
        blocked_hosts,
        encrypted_fields,
        signed_forms,
        smime_pages: raw.smime_pages,
    })
}

fn encrypted_fields_entry(raw: RawEncryptedFields) -> Result<EncryptedFields, SpanError> {
    let page = RawPage { method: raw.method, path: raw.path, query: raw.query, content_type: raw.content_type };
    let request = page.into_match("POST")?;
    if raw.fields.get_ref().is_empty() {
        return Err((raw.fields.span(), "fields: name at least one form field or JSON path".into()));
    }
    let mut fields = Vec::new();
    for field in raw.fields.into_inner() {
        let text = field_source(&field).map_err(|m| (field.span(), m))?;
        if capture_name(&text).is_some() {
            return Err((field.span(), format!("fields: `{text}` is a path capture, not a form field")));
        }
        fields.push(text);
    }
    let (mut to_self, mut to) = (false, Vec::new());
    let span = raw.to.as_ref().map_or(0..0, Spanned::span);
    let named = match raw.to.map(Spanned::into_inner) {
        None => vec!["self".to_owned()],
        Some(RawTo::One(one)) => vec![one],
        Some(RawTo::Many(many)) => many,
    };
    for name in named {
        let address = name.trim();
        let plausible = address.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty() && domain.contains('.') && !address.contains(char::is_whitespace) && !domain.contains('@')
        });
        match address {
            "self" => to_self = true,
            _ if plausible => to.push(address.to_ascii_lowercase()),
            _ => return Err((span, format!("to: `{name}` is neither \"self\" nor an e-mail address"))),
        }
    }
    if !to_self && to.is_empty() {
        return Err((span, "to: name \"self\" or at least one address".into()));
    }
    let mut pages = Vec::new();
    for page in raw.pages {
        pages.push(page.into_match("GET")?);
    }
    Ok(EncryptedFields { request, form: raw.form, fields, to_self, to, sign: raw.sign, pages })
}

type SpanError = (Range<usize>, String);

fn method(raw: Option<Spanned<String>>, default: &str) -> Result<String, SpanError> {
    let Some(raw) = raw else { return Ok(default.to_owned()) };
    let upper = raw.get_ref().to_ascii_uppercase();
    if ["GET", "POST", "PUT", "PATCH", "DELETE"].contains(&upper.as_str()) {
        Ok(upper)
    } else {
        Err((raw.span(), format!("method `{}`: expected GET, POST, PUT, PATCH or DELETE", raw.get_ref())))
    }
}

/// The name in a `{name}` field source.
fn capture_name(source: &str) -> Option<&str> {
    source.strip_prefix('{')?.strip_suffix('}')
}

/// A field source: a field name, a JSON path (checked) or a `{capture}`.
fn field_source(raw: &Spanned<String>) -> Result<String, String> {
    let text = raw.get_ref();
    if text.starts_with('$') {
        JsonPath::parse(text)?;
    } else if text.starts_with('{') != text.ends_with('}') || text.is_empty() {
        return Err(format!("field `{text}`: a field name, a JSON path `$...` or a path capture `{{name}}`"));
    }
    Ok(text.clone())
}

fn json_path(raw: &Spanned<String>) -> Result<JsonPath, SpanError> {
    JsonPath::parse(raw.get_ref()).map_err(|m| (raw.span(), m))
}

fn media_type(raw: Option<Spanned<String>>) -> Result<Option<String>, SpanError> {
    let Some(raw) = raw else { return Ok(None) };
    let text = raw.get_ref().trim().to_ascii_lowercase();
    let valid = text.split_once('/').is_some_and(|(a, b)| !a.is_empty() && !b.is_empty() && !text.contains([';', ' ']));
    if valid {
        Ok(Some(text))
    } else {
        Err((raw.span(), format!("content_type `{}`: expected a media type like `application/json`", raw.get_ref())))
    }
}

fn answer_page(answer: RawAnswerPage) -> Result<AnswerPage, SpanError> {
    let page = PageMatch {
        method: method(answer.method, "GET")?,
        path: path(answer.path)?,
        query: answer.query,
        content_type: None,
    };
    let raw_message = url_template(&answer.raw_message, &page, &[]).map_err(|m| (answer.raw_message.span(), m))?;
    Ok(AnswerPage { page, kind: answer.kind, raw_message, raw_message_lf: answer.raw_message_lf })
}

fn view_page(view: RawViewPage) -> Result<ViewPage, SpanError> {
    let page = PageMatch {
        method: method(view.method, "GET")?,
        path: path(view.path)?,
        query: view.query,
        content_type: media_type(view.content_type)?,
    };
    let body = match (view.replace, view.json) {
        (Some(replace), None) => ViewBody::Html { replace: selector(&replace).map_err(|m| (replace.span(), m))? },
        (None, Some(json)) => {
            let mut values = BTreeMap::new();
            for (name, raw) in &json.values {
                values.insert(name.clone(), json_path(raw)?);
            }
            let envelope = match json.envelope {
                None => None,
                Some(raw) => match raw.get_ref().as_slice() {
                    [open, close] => Some((open.clone(), close.clone())),
                    _ => {
                        return Err((
                            raw.span(),
                            "envelope: give the text before and after the JSON, e.g. [\"/*-secure-\", \"*/\"]".into(),
                        ));
                    }
                },
            };
            if let Some(with) = &json.with {
                let parsed: Result<serde_json::Value, _> = serde_json::from_str(with.get_ref());
                if parsed.is_err() || !with.get_ref().contains("{frame}") {
                    return Err((with.span(), "with: JSON with {frame} in a string".into()));
                }
            }
            ViewBody::Json(JsonView {
                envelope,
                each: match &json.each {
                    Some(raw) => json_path(raw)?,
                    None => JsonPath::parse("$").map_err(|m| (0..0, m))?,
                },
                values,
                replace: json_path(&json.replace)?,
                with: json.with.map(Spanned::into_inner),
            })
        }
        (Some(replace), Some(_)) => {
            return Err((replace.span(), "a view has `replace` (HTML) or [views.json], not both".into()));
        }
        (None, None) => {
            return Err((view.raw_message.span(), "a view needs `replace` (an HTML page) or [views.json]".into()));
        }
    };
    let json_values: Vec<&str> = match &body {
        ViewBody::Json(json) => json.values.keys().map(String::as_str).collect(),
        ViewBody::Html { .. } => Vec::new(),
    };
    let raw_message = url_template(&view.raw_message, &page, &json_values).map_err(|m| (view.raw_message.span(), m))?;
    Ok(ViewPage { page, raw_message, raw_message_lf: view.raw_message_lf, body })
}

fn path(raw: Option<Spanned<String>>) -> Result<PathPattern, SpanError> {
    match raw {
        None => Ok(PathPattern::Any),
        Some(raw) => PathPattern::parse(raw.get_ref()).map_err(|m| (raw.span(), m)),
    }
}

fn selector(raw: &Spanned<String>) -> Result<String, String> {
    raw.get_ref()
        .parse::<lol_html::Selector>()
        .map(|_| raw.get_ref().clone())
        .map_err(|e| format!("CSS selector `{}`: {e}", raw.get_ref()))
}

fn insertion(raw: &Spanned<String>, position: Position) -> Result<Insertion, String> {
    Ok(Insertion { selector: selector(raw)?, position })
}

fn url_template(raw: &Spanned<String>, page: &PageMatch, values: &[&str]) -> Result<UrlTemplate, String> {
    let text = raw.get_ref();
    let mut params = Vec::new();
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}').ok_or_else(|| format!("URL template `{text}`: `{{` without `}}`"))?;
        let name = &after[..close];
        let in_query = page.query.get(name).is_some_and(ValuePattern::requires_presence);
        if in_query || page.path.capture_names().contains(&name) || values.contains(&name) {
            params.push(name.to_owned());
        } else {
            return Err(format!(
                "URL template `{text}`: {{{name}}} is not a query parameter this page always has \
                 (add `{name} = \"*\"` to its query), a capture of its path or a value of [views.json]"
            ));
        }
        rest = &after[close + 1..];
    }
    if rest.contains('}') {
        return Err(format!("URL template `{text}`: `}}` without `{{`"));
    }
    Ok(UrlTemplate { text: text.clone(), params })
}

/// The file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Spanned<String>,
    description: Option<String>,
    csrf: Spanned<RawCsrf>,
    pages: RawPages,
    controls: RawControls,
    #[serde(default)]
    views: Vec<RawViewPage>,
    #[serde(default)]
    answers: Vec<RawAnswerPage>,
    #[serde(default)]
    requests: Vec<RawRequest>,
    fields: RawFields,
    adapter: Option<String>,
    #[serde(default)]
    delivery: DeliveryRoute,
    login: Option<RawLogin>,
    #[serde(default)]
    blocked_hosts: Vec<Spanned<String>>,
    #[serde(default)]
    encrypted_fields: Vec<RawEncryptedFields>,
    #[serde(default)]
    signed_forms: Vec<RawSignedForm>,
    #[serde(default)]
    smime_pages: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignedForm {
    method: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    #[serde(default)]
    query: BTreeMap<String, ValuePattern>,
    content_type: Option<Spanned<String>>,
    #[serde(default)]
    form: BTreeMap<String, ValuePattern>,
    field: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEncryptedFields {
    method: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    #[serde(default)]
    query: BTreeMap<String, ValuePattern>,
    content_type: Option<Spanned<String>>,
    #[serde(default)]
    form: BTreeMap<String, ValuePattern>,
    fields: Spanned<Vec<Spanned<String>>>,
    to: Option<Spanned<RawTo>>,
    #[serde(default)]
    sign: bool,
    #[serde(default)]
    pages: Vec<RawPage>,
}

/// `to = "self"` or `to = ["self", "bob@example.test"]`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawTo {
    One(String),
    Many(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogin {
    method: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    #[serde(default)]
    query: BTreeMap<String, ValuePattern>,
    content_type: Option<Spanned<String>>,
    user: String,
    password: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCsrf {
    field: Option<String>,
    header: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPages {
    compose: RawPage,
    list: Option<RawPage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPage {
    method: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    #[serde(default)]
    query: BTreeMap<String, ValuePattern>,
    content_type: Option<Spanned<String>>,
}

impl RawPage {
    fn into_match(self, default_method: &str) -> Result<PageMatch, SpanError> {
        Ok(PageMatch {
            method: method(self.method, default_method)?,
            path: path(self.path)?,
            query: self.query,
            content_type: media_type(self.content_type)?,
        })
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawViewPage {
    method: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    #[serde(default)]
    query: BTreeMap<String, ValuePattern>,
    content_type: Option<Spanned<String>>,
    raw_message: Spanned<String>,
    #[serde(default)]
    raw_message_lf: bool,
    replace: Option<Spanned<String>>,
    json: Option<RawJsonView>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAnswerPage {
    method: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    #[serde(default)]
    query: BTreeMap<String, ValuePattern>,
    kind: AnswerKind,
    raw_message: Spanned<String>,
    #[serde(default)]
    raw_message_lf: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawJsonView {
    envelope: Option<Spanned<Vec<String>>>,
    each: Option<Spanned<String>>,
    #[serde(default)]
    values: BTreeMap<String, Spanned<String>>,
    replace: Spanned<String>,
    with: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawControls {
    selector: Spanned<String>,
    position: Position,
    row: Spanned<String>,
    input_class: Option<String>,
    #[serde(default)]
    sign: bool,
    #[serde(default)]
    encrypt: bool,
    sign_label: Option<String>,
    encrypt_label: Option<String>,
    status: RawStatus,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStatus {
    selector: Spanned<String>,
    position: Position,
    html: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRequest {
    kind: ComposeKind,
    method: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    #[serde(default)]
    query: BTreeMap<String, ValuePattern>,
    content_type: Option<Spanned<String>>,
    #[serde(default)]
    form: BTreeMap<String, ValuePattern>,
    compose_id: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFields {
    from: Option<Spanned<String>>,
    to: Spanned<String>,
    cc: Option<Spanned<String>>,
    bcc: Option<Spanned<String>>,
    subject: Spanned<String>,
    body: Spanned<String>,
    html_flag: Option<Spanned<String>>,
    attachments: Option<Spanned<String>>,
    attachment_separator: Option<String>,
    compose_id: Option<Spanned<String>>,
    upload_file: Option<Spanned<String>>,
    spellcheck_text: Option<Spanned<String>>,
    attachment_id: Option<Spanned<String>>,
    sent_folder: Option<Spanned<String>>,
    from_options: Option<Spanned<String>>,
}
