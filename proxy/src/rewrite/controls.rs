//! The S/MIME controls of a compose page, rendered from a rule's templates: a Sign and
//! an Encrypt checkbox (posted with the form as `_smime_sign` / `_smime_encrypt`, read
//! and stripped by the proxy) and a status line. Plain markup, no script: the checkboxes
//! post with the webmail's own form, so the page's CSP is never in the way.

use super::html::Insert;
use crate::markup::escape;
use crate::rules::{ENCRYPT_FIELD, Rule, SIGN_FIELD};

/// What the controls show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControlsState {
    /// Sign is checked.
    pub sign: bool,
    /// Encrypt is checked.
    pub encrypt: bool,
    /// A message for the user (an error); the status line is hidden when there is none.
    pub status: Option<String>,
}

impl ControlsState {
    /// The rule's defaults, no status.
    pub fn defaults(rule: &Rule) -> Self {
        Self { sign: rule.controls.sign, encrypt: rule.controls.encrypt, status: None }
    }
}

/// The insertions that put `rule`'s controls, in `state`, into a compose page.
pub fn controls(rule: &Rule, state: &ControlsState) -> Vec<Insert> {
    let c = &rule.controls;
    let row = |id: &str, label: &str, field: &str, on: bool| {
        let input = format!(
            r#"<input type="checkbox" name="{field}" id="{id}" value="1" class="{class}"{checked}>"#,
            class = escape(&c.input_class),
            checked = if on { " checked" } else { "" },
        );
        c.row.replace("{id}", id).replace("{label}", &escape(label)).replace("{input}", &input)
    };
    let toggles = format!(
        r#"<div id="smime-proxy-controls" data-smime-proxy="{name}">{sign}{encrypt}</div>"#,
        name = escape(&rule.name),
        sign = row("smime-proxy-sign", &c.sign_label, SIGN_FIELD, state.sign),
        encrypt = row("smime-proxy-encrypt", &c.encrypt_label, ENCRYPT_FIELD, state.encrypt),
    );
    let text = state.status.as_deref().unwrap_or_default();
    let status = format!(
        r#"<div id="smime-proxy-status-box"{hidden}>{inner}</div>"#,
        hidden = if text.is_empty() { " hidden" } else { "" },
        inner = c.status.replace(
            "{status}",
            &format!(r#"<span id="smime-proxy-status" role="status" aria-live="polite">{}</span>"#, escape(text))
        ),
    );
    vec![
        Insert { selector: c.at.selector.clone(), position: c.at.position, html: toggles },
        Insert { selector: c.status_at.selector.clone(), position: c.status_at.position, html: status },
    ]
}
