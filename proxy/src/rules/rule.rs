//! A loaded, valid rule: what the proxy knows about one webmail. Built only by
//! [`super::load`], so every selector parses, every template has its placeholders and
//! every required part is there.

use std::collections::BTreeMap;

use super::json_path::JsonPath;
use super::pattern::{PathPattern, ValuePattern};

/// The posted fields the proxy owns. Every field whose name starts with this is read by
/// the proxy and stripped from the request before it goes upstream.
pub const CONTROL_PREFIX: &str = "_smime_";
/// The Sign toggle's field (`1` when on, empty when off).
pub const SIGN_FIELD: &str = "_smime_sign";
/// The Encrypt toggle's field (`1` when on, empty when off).
pub const ENCRYPT_FIELD: &str = "_smime_encrypt";
/// A hidden field posted with the toggles: with it, a toggle that is not posted is off.
pub const CONTROLS_FIELD: &str = "_smime_controls";

/// One webmail's rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The name users give in `--site HOST=RULE` and `[sites]`.
    pub name: String,
    /// One line for humans.
    pub description: String,
    /// Where the rule came from (`bundled:roundcube.toml` or a file path), for messages.
    pub origin: String,
    /// Where the CSRF token travels.
    pub csrf: Csrf,
    /// The compose page (where the controls go).
    pub compose: PageMatch,
    /// The message views (read flow): pages and JSON answers that show a message.
    pub views: Vec<ViewPage>,
    /// The requests that open a compose answering a message (reply, forward).
    pub answers: Vec<AnswerPage>,
    /// The message list page, when the rule knows it.
    pub list: Option<PageMatch>,
    /// The S/MIME controls injected into the compose page.
    pub controls: Controls,
    /// Requests carrying compose content, first match wins.
    pub requests: Vec<RequestRule>,
    /// Which fields of those requests hold what.
    pub fields: Fields,
    /// The adapter for what a rule cannot declare (delivery, the page's expected
    /// answers); without one the proxy cannot sign or encrypt for this webmail.
    pub adapter: Option<String>,
    /// How a finished message leaves.
    pub delivery: DeliveryRoute,
    /// Hosts the webmail's pages load from that would carry compose text away (a cloud
    /// spell checker): while a site with this rule is configured, the proxy refuses them.
    pub blocked_hosts: Vec<String>,
    /// The login request, when the proxy needs the user's credentials (SMTP delivery).
    pub login: Option<LoginRequest>,
    /// Requests whose form fields leave the device encrypted (`[[encrypted_fields]]`).
    pub encrypted_fields: Vec<EncryptedFields>,
    /// Requests that get a signature over their fields (`[[signed_forms]]`).
    pub signed_forms: Vec<SignedForm>,
    /// Responses of the site whose body is S/MIME are opened and shown in a frame.
    pub smime_pages: bool,
}

impl Rule {
    /// The form field names all `[[encrypted_fields]]` entries name (edit forms fill
    /// them), each once, sorted.
    pub fn encrypted_field_names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.encrypted_fields.iter().flat_map(EncryptedFields::field_names).collect();
        names.sort_unstable();
        names.dedup();
        names
    }
}

/// A request whose fields the proxy signs: a detached CMS signature over their canonical
/// form (`flows::signed_forms`), armored, in one more field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedForm {
    /// Which requests.
    pub request: PageMatch,
    /// Body fields that must match too.
    pub form: BTreeMap<String, ValuePattern>,
    /// The field that carries the signature.
    pub field: String,
}

impl SignedForm {
    /// Whether a request whose head matched is one of these, by its body's fields.
    pub fn matches_body(&self, form: &crate::form::Form) -> bool {
        super::matcher::fields_match(&self.form, |name| form.get(name))
    }
}

/// A request whose named form fields the proxy replaces with armored S/MIME
/// (`-----BEGIN CMS-----`) before it leaves the device; pages of the site showing such
/// armor show it decrypted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptedFields {
    /// Which requests.
    pub request: PageMatch,
    /// Body fields that must match too (urlencoded, multipart or JSON bodies).
    pub form: BTreeMap<String, ValuePattern>,
    /// The fields: form field names (urlencoded, multipart, a JSON body's top-level keys)
    /// or JSON paths (`$...`) into a JSON body.
    pub fields: Vec<String>,
    /// Encrypted to the user's own certificates.
    pub to_self: bool,
    /// Encrypted to these addresses' certificates too.
    pub to: Vec<String>,
    /// Signed (with the user's first key) before it is encrypted.
    pub sign: bool,
    /// The pages that show or edit these fields: their armor is opened there (only there:
    /// such a page is read whole before it goes to the browser).
    pub pages: Vec<PageMatch>,
}

impl EncryptedFields {
    /// Whether a request whose head matched is one of these, by its body's fields.
    pub fn matches_body(&self, form: &crate::form::Form) -> bool {
        super::matcher::fields_match(&self.form, |name| form.get(name))
    }

    /// The fields named by form field name (not JSON path): those an edit form fills.
    pub fn field_names(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(String::as_str).filter(|f| !f.starts_with('$'))
    }
}

/// How a finished S/MIME message is sent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryRoute {
    /// Through the webmail's own functions (the adapter's `deliver`).
    #[default]
    Webmail,
    /// Submitted by the proxy to the site's SMTP server with the user's login; the
    /// adapter stores the sender's copy.
    Smtp,
}

/// The request that logs the user in, and where its body has the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginRequest {
    /// Which request.
    pub request: PageMatch,
    /// The user name's field (form field or top-level JSON key).
    pub user: String,
    /// The password's field.
    pub password: String,
}

/// Where a webmail expects its CSRF token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csrf {
    /// Form field (and query parameter) name, e.g. Roundcube's `_token`.
    pub field: Option<String>,
    /// Request header name for XHRs, e.g. Roundcube's `X-Roundcube-Request`.
    pub header: Option<String>,
}

/// Which requests load a page: method, path and query parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageMatch {
    /// Upper-case HTTP method.
    pub method: String,
    /// URL path.
    pub path: PathPattern,
    /// Query parameters that must match (others may be present).
    pub query: BTreeMap<String, ValuePattern>,
    /// The request's media type (`Content-Type` without parameters), when it matters.
    pub content_type: Option<String>,
}

/// A message view: how to find its raw message and what the read view replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewPage {
    /// Which requests load it.
    pub page: PageMatch,
    /// The raw message's URL, relative to the view's URL, with `{param}` placeholders
    /// filled from the view's query, its path captures or (JSON views) the message's
    /// values.
    pub raw_message: UrlTemplate,
    /// The webmail serves the raw message with LF line ends (restored to CRLF).
    pub raw_message_lf: bool,
    /// What the answer is and what of it the read view replaces.
    pub body: ViewBody,
}

impl ViewPage {
    /// The raw message's path and query for this view loaded at `path` with `query`;
    /// `values` are those of one message of a JSON answer. `None` when a placeholder has no
    /// value.
    pub fn raw_message_target(&self, path: &str, query: &super::Query, values: &[(String, String)]) -> Option<String> {
        raw_message_target(&self.page, &self.raw_message, path, query, values)
    }
}

/// What a compose answering a message does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnswerKind {
    /// A reply: threaded under the original, which is quoted.
    Reply,
    /// A forward: the original is included below the new text.
    Forward,
}

/// The request that opens a compose answering a message. The compose page itself follows
/// by a redirect whose `Location` carries the compose id (`[fields] compose_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerPage {
    /// Which requests open it.
    pub page: PageMatch,
    /// Reply or forward.
    pub kind: AnswerKind,
    /// The original's raw message URL, as for a view.
    pub raw_message: UrlTemplate,
    /// The webmail serves the raw message with LF line ends (restored to CRLF).
    pub raw_message_lf: bool,
}

impl AnswerPage {
    /// The original's raw message path and query, for this request at `path` with `query`.
    pub fn raw_message_target(&self, path: &str, query: &super::Query) -> Option<String> {
        raw_message_target(&self.page, &self.raw_message, path, query, &[])
    }
}

/// `template` filled from `values`, `page`'s path captures of `path`, and `query`.
fn raw_message_target(
    page: &PageMatch,
    template: &UrlTemplate,
    path: &str,
    query: &super::Query,
    values: &[(String, String)],
) -> Option<String> {
    let captures = page.path.captures(path).unwrap_or_default();
    template.fill(path, |name| {
        let found = values.iter().chain(&captures).find(|(n, _)| n == name).map(|(_, v)| v.clone());
        found.or_else(|| query.get(name).map(str::to_owned))
    })
}

/// The body of a view answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ViewBody {
    /// An HTML page: the content of the element `replace` (a CSS selector) is replaced.
    Html {
        /// CSS selector.
        replace: String,
    },
    /// A JSON answer holding one or more messages.
    Json(JsonView),
}

/// Where messages are in a JSON view answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonView {
    /// Text around the JSON (Horde: `/*-secure-` and `*/`).
    pub envelope: Option<(String, String)>,
    /// The messages in the answer.
    pub each: JsonPath,
    /// Values of a message for the raw message's URL: name → path within the message.
    pub values: BTreeMap<String, JsonPath>,
    /// The value (within the message) replaced by the read view.
    pub replace: JsonPath,
    /// The JSON that replaces it, `{frame}` in its strings standing for the frame's
    /// markup; `None`: the markup string itself.
    pub with: Option<String>,
}

/// A URL template: literal text and `{name}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlTemplate {
    /// The template as written.
    pub text: String,
    /// The placeholder names, in order of appearance.
    pub params: Vec<String>,
}

/// Where the Sign/Encrypt toggles and the status line go, and how they look.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Controls {
    /// Where the toggles go.
    pub at: Insertion,
    /// Markup of one toggle row: `{label}`, and `{input}` + `{id}` (the proxy's checkbox)
    /// or `{field}` (the field's name, for a control of the app's own kind).
    pub row: String,
    /// Class of the checkbox input (so that it looks native).
    pub input_class: String,
    /// Sign on by default.
    pub sign: bool,
    /// Encrypt on by default.
    pub encrypt: bool,
    /// Label of the Sign toggle.
    pub sign_label: String,
    /// Label of the Encrypt toggle.
    pub encrypt_label: String,
    /// Where the status line goes.
    pub status_at: Insertion,
    /// Markup around the status line with a `{status}` placeholder.
    pub status: String,
}

/// A place in a page: a CSS selector (the first matching element) and a position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insertion {
    /// CSS selector (checked with lol_html's parser).
    pub selector: String,
    /// Where, relative to the element.
    pub position: Position,
}

/// Where inserted markup goes relative to the selected element.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Position {
    /// Before its start tag.
    Before,
    /// After its end tag.
    After,
    /// As its first child.
    Prepend,
    /// As its last child.
    Append,
}

/// Which requests carry compose content and what kind they are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestRule {
    /// What the request does.
    pub kind: ComposeKind,
    /// Which requests: method, path, query.
    pub request: PageMatch,
    /// Body fields that must match too (urlencoded, multipart or JSON bodies).
    pub form: BTreeMap<String, ValuePattern>,
    /// Where this request has the compose id, when not where [`Fields::compose_id`] says.
    pub compose_id: Option<String>,
}

/// The kinds of compose requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ComposeKind {
    /// The message is sent.
    Send,
    /// The message is saved as a draft.
    Draft,
    /// An attachment is uploaded.
    Upload,
    /// The body is sent for spell checking.
    Spellcheck,
    /// An uploaded attachment is removed from the compose.
    Remove,
    /// The body is sent to be converted (plain text to HTML and back, when the editor
    /// is switched).
    Convert,
}

impl ComposeKind {
    /// The name used in rule files and reports.
    pub fn name(self) -> &'static str {
        match self {
            Self::Send => "send",
            Self::Draft => "draft",
            Self::Upload => "upload",
            Self::Spellcheck => "spellcheck",
            Self::Remove => "remove",
            Self::Convert => "convert",
        }
    }
}

/// Where compose requests hold what: a body field's name (a form field, or a top-level key
/// of a JSON body), a JSON path (`$.a.b`) into a JSON body, or `{name}` for a capture of
/// the request's path. The compose id and the attachment id are also looked up in the
/// query string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    /// Sender (address or identity id).
    pub from: Option<String>,
    /// To recipients.
    pub to: String,
    /// Cc recipients.
    pub cc: Option<String>,
    /// Bcc recipients.
    pub bcc: Option<String>,
    /// Subject.
    pub subject: String,
    /// Body text (plain or HTML).
    pub body: String,
    /// Whether the body is HTML (`1`, `true` or `on`).
    pub html_flag: Option<String>,
    /// Ids of attachments uploaded earlier.
    pub attachments: Option<String>,
    /// Separator between attachment ids.
    pub attachment_separator: String,
    /// The compose session id.
    pub compose_id: Option<String>,
    /// The file field of an upload request.
    pub upload_file: Option<String>,
    /// The text field of a spell-check request (without it the whole body is the text).
    pub spellcheck_text: Option<String>,
    /// The field of a remove request naming the attachment.
    pub attachment_id: Option<String>,
    /// The field naming the folder that keeps the sender's copy (default `Sent`).
    pub sent_folder: Option<String>,
    /// CSS selector of the compose page's sender options (`<option>`s whose value the
    /// form posts as `from` and whose text shows the address).
    pub from_options: Option<String>,
}

/// Characters left as they are in a filled URL template value (RFC 3986 unreserved).
const VALUE: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

impl UrlTemplate {
    /// The URL path and query of the raw message for a view at `path`: placeholders filled
    /// from `lookup` (percent-encoded). A template starting with `?` is relative to `path`
    /// itself, one starting with `/` is absolute, any other is relative to `path`'s
    /// directory (with `../` going up). `None` when a value is missing.
    pub fn fill(&self, path: &str, lookup: impl Fn(&str) -> Option<String>) -> Option<String> {
        let mut out = String::new();
        let mut rest = self.text.as_str();
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let close = after.find('}')?;
            let value = lookup(&after[..close])?;
            out.extend(percent_encoding::utf8_percent_encode(&value, VALUE));
            rest = &after[close + 1..];
        }
        out.push_str(rest);
        Some(resolve(path, &out))
    }
}

/// `relative` resolved against the request path `base`.
fn resolve(base: &str, relative: &str) -> String {
    if relative.starts_with('?') {
        return format!("{base}{relative}");
    }
    if relative.starts_with('/') {
        return relative.to_owned();
    }
    let mut dir: Vec<&str> = base.split('/').collect();
    dir.pop();
    let mut rest = relative;
    while let Some(up) = rest.strip_prefix("../") {
        if dir.len() > 1 {
            dir.pop();
        }
        rest = up;
    }
    let rest = rest.strip_prefix("./").unwrap_or(rest);
    format!("{}/{rest}", dir.join("/"))
}

#[cfg(test)]
mod tests {
    use super::resolve;

    #[test]
    fn templates_resolve_like_links() {
        assert_eq!(resolve("/", "?_action=viewsource"), "/?_action=viewsource");
        assert_eq!(resolve("/horde/imp/dynamic.php", "view.php?a=1"), "/horde/imp/view.php?a=1");
        assert_eq!(
            resolve("/horde/services/ajax.php/imp/showMessage", "../../../imp/view.php?a=1"),
            "/horde/imp/view.php?a=1"
        );
        assert_eq!(
            resolve("/SOGo/so/bob/Mail/0/folderINBOX/27/view", "export"),
            "/SOGo/so/bob/Mail/0/folderINBOX/27/export"
        );
        assert_eq!(resolve("/a", "../../../x"), "/x");
        assert_eq!(resolve("/a/b", "/c?d"), "/c?d");
    }
}
