//! The S/MIME controls of a compose page, rendered from a rule's templates: a Sign and
//! an Encrypt checkbox (posted with the form as `_smime_sign` / `_smime_encrypt`, read
//! and stripped by the proxy) and a status line.
//!
//! The checkboxes post with the webmail's own form. A webmail's attachment uploads and
//! spell checks do not carry the form, so a small script also reports every change of
//! the toggles to the proxy ([`STATE_QUERY`], answered by the proxy, never forwarded):
//! that is how an upload made while Encrypt is on is kept on the device, and an upload
//! started while a report is on its way waits for it. Where a page's
//! CSP blocks the script, uploads go to the webmail as without the proxy, and a send
//! that needs them is refused (fail closed).

use super::html::Insert;
use crate::markup::escape;
use crate::markup::js_string;
use crate::rules::{CONTROLS_FIELD, ENCRYPT_FIELD, Rule, SIGN_FIELD};

/// The query of the toggles' state reports (`POST <page path>?_smime_proxy=state`, form
/// fields `_id`, `_smime_sign`, `_smime_encrypt`).
pub const STATE_QUERY: &str = "_smime_proxy=state";

/// What the controls show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ControlsState {
    /// Sign is checked.
    pub sign: bool,
    /// Encrypt is checked.
    pub encrypt: bool,
    /// A message for the user (an error); the status line is hidden when there is none.
    pub status: Option<String>,
    /// The compose's id, when known: the toggles then report their changes.
    pub compose_id: Option<String>,
    /// Markup shown under the status (the frame of the message a compose answers).
    pub frame: Option<String>,
}

impl ControlsState {
    /// The rule's defaults, no status.
    pub fn defaults(rule: &Rule) -> Self {
        Self { sign: rule.controls.sign, encrypt: rule.controls.encrypt, status: None, compose_id: None, frame: None }
    }
}

/// The script that reports each change of the toggles of compose `id` to the proxy.
///
/// While a report is on its way, a file chosen for upload waits for it (its `change`
/// event is held in the capture phase and dispatched again once the report is answered),
/// so that the proxy always knows Encrypt is on before the upload arrives; a file dropped
/// in that moment is refused with a word on the status line (a drop cannot be replayed).
fn report_script(id: &str) -> String {
    format!(
        "<script>(function(){{var c=document.getElementById(\"smime-proxy-controls\");if(!c||!window.fetch)return;\
         var pending=null;\
         c.addEventListener(\"change\",function(){{var b=new URLSearchParams();b.set(\"_id\",{id});\
         [\"sign\",\"encrypt\"].forEach(function(n){{var i=document.getElementById(\"smime-proxy-\"+n);\
         b.set(\"_smime_\"+n,i&&i.checked?\"1\":\"\")}});\
         var p=fetch(location.pathname+\"?{STATE_QUERY}\",{{method:\"POST\",body:b,credentials:\"same-origin\"}})\
         .catch(function(){{}});pending=p;p.then(function(){{if(pending===p)pending=null}})}});\
         function settled(f){{var p=pending;if(!p)return f();p.then(function(){{settled(f)}})}}\
         document.addEventListener(\"change\",function(e){{var t=e.target;\
         if(!pending||!t||t.type!==\"file\"||t.smimeProxyReplay)return;e.stopImmediatePropagation();\
         settled(function(){{t.smimeProxyReplay=true;t.dispatchEvent(new Event(\"change\",{{bubbles:true}}));\
         t.smimeProxyReplay=false}})}},true);\
         document.addEventListener(\"drop\",function(e){{if(!pending)return;e.preventDefault();e.stopImmediatePropagation();\
         var s=document.getElementById(\"smime-proxy-status\"),x=document.getElementById(\"smime-proxy-status-box\");\
         if(s)s.textContent=\"Drop the file again: smime-proxy was still taking note of Sign and Encrypt.\";\
         if(x)x.hidden=false}},true)}})();</script>",
        id = js_string(id)
    )
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
        c.row
            .replace("{id}", id)
            .replace("{label}", &escape(label))
            .replace("{input}", &input)
            .replace("{field}", field)
    };
    // Posted with the toggles: a form that carries it and no checked toggle means both
    // off (browsers post no field for an unchecked checkbox).
    let shown = format!(r#"<input type="hidden" name="{CONTROLS_FIELD}" value="1">"#);
    let toggles = format!(
        r#"<div id="smime-proxy-controls" data-smime-proxy="{name}">{shown}{sign}{encrypt}</div>{report}"#,
        name = escape(&rule.name),
        sign = row("smime-proxy-sign", &c.sign_label, SIGN_FIELD, state.sign),
        encrypt = row("smime-proxy-encrypt", &c.encrypt_label, ENCRYPT_FIELD, state.encrypt),
        report = state.compose_id.as_deref().map(report_script).unwrap_or_default(),
    );
    let text = state.status.as_deref().unwrap_or_default();
    let frame = state.frame.as_deref().unwrap_or_default();
    let status = format!(
        r#"<div id="smime-proxy-status-box"{hidden}>{inner}{frame}</div>"#,
        hidden = if text.is_empty() && frame.is_empty() { " hidden" } else { "" },
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
