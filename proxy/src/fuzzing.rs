//! Entry points for the fuzz targets in `fuzz/` (not an API): each runs one parser of
//! untrusted input the way the proxy does, so that a fuzzer can drive the private modules.
//! Each must return without panicking, whatever the input.

use std::sync::OnceLock;

use bytes::Bytes;

use crate::form::Form;
use crate::rewrite::JsonAnswer;
use crate::rules::{Head, Match, Query, RuleSet, ViewBody, classify, match_request};

/// Request body types the targets pick from with their first byte.
pub const CONTENT_TYPES: &[&str] =
    &["application/x-www-form-urlencoded", "multipart/form-data; boundary=XY", "application/json;charset=UTF-8"];

/// The bundled rules, parsed once.
fn rules() -> Option<&'static RuleSet> {
    static RULES: OnceLock<Option<RuleSet>> = OnceLock::new();
    RULES.get_or_init(|| RuleSet::bundled().ok()).as_ref()
}

/// A browser's request body of `content_type` (urlencoded, multipart, JSON): parsed, the
/// toggles read, the control fields stripped; what is left parses again.
pub fn form_body(content_type: &str, body: &[u8]) {
    let form = Form::parse(Some(content_type), body);
    let _ = (form.get("_smime_sign"), form.is_unreadable());
    if let Some(stripped) = form.without(body, |name| name.starts_with(crate::rules::CONTROL_PREFIX)) {
        let again = Form::parse(Some(content_type), &stripped);
        assert!(
            again.fields().iter().all(|f| !f.name.starts_with(crate::rules::CONTROL_PREFIX)),
            "a control field survived"
        );
    }
}

/// A compose request to each bundled rule: `METHOD PATH?QUERY`, the first line of `data`,
/// with the rest as a body of `content_type`.
pub fn compose_request(content_type: &str, data: &[u8]) {
    let Some(rules) = rules() else { return };
    let (line, body) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let line = String::from_utf8_lossy(line);
    let (method, target) = line.split_once(' ').unwrap_or(("POST", &line));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = Query::parse(query);
    for rule in rules.iter() {
        let head = Head { method, path, query: &query, content_type: Some(content_type) };
        if let Some(Match::ComposeRequest(candidates)) = match_request(rule, &head) {
            let _ = classify(rule, candidates, &head, None, Bytes::copy_from_slice(body));
        }
    }
}

/// A webmail's answer to each bundled JSON view: parsed, every message replaced, written
/// and parsed again.
pub fn json_answer(data: &[u8]) {
    let Some(rules) = rules() else { return };
    for rule in rules.iter() {
        for view in &rule.views {
            let ViewBody::Json(json) = &view.body else { continue };
            let Some(mut answer) = JsonAnswer::parse(data, json.envelope.as_ref()) else { continue };
            let count = answer.messages(&json.each).len();
            for index in 0..count.min(8) {
                answer.replace(json, index, "<iframe></iframe>", index % 2 == 0);
            }
            assert!(JsonAnswer::parse(&answer.to_bytes(), json.envelope.as_ref()).is_some(), "the rewrite is not JSON");
        }
    }
}

/// A server's SMTP reply text, and a message to dot-stuff.
pub fn smtp_reply(data: &[u8]) {
    let _ = crate::smtp::parse_reply(data);
    let stuffed = crate::smtp::dot_stuffed(data);
    assert!(stuffed.ends_with(b"\r\n.\r\n"), "the data does not end the message");
}

/// The raw message a reply or forward answers (the first byte picks which, and whether its
/// text counts as decrypted): threading fields, subject, and the quote, in text and HTML.
pub fn answered_message(data: &[u8]) {
    use crate::flows::original::{Inner, Original};
    use crate::rules::AnswerKind;
    let Some((&pick, raw)) = data.split_first() else { return };
    let kind = if pick & 1 == 0 { AnswerKind::Reply } else { AnswerKind::Forward };
    let inner = (pick & 2 != 0).then(|| Inner {
        subject: Some(String::from_utf8_lossy(raw).into_owned()),
        text: zeroize::Zeroizing::new(String::from_utf8_lossy(raw).into_owned()),
        ..Inner::default()
    });
    let original = Original::new(kind, raw, inner);
    let _ = (original.in_reply_to(), original.references(), original.subject_for("Re: [...]", "[...]"));
    let _ = original.quote(false);
    assert!(!original.quote(true).contains("<script"), "the quote's HTML carries markup of the message");
}

/// A posted address list (`To`, `Cc`, `Bcc` of a compose form): every mailbox it gives
/// is a plausible address, and a list that parses parses again from its addresses.
pub fn address_list(text: &str) {
    use crate::flows::compose::recipients::parse_list;
    let Ok(list) = parse_list(text) else { return };
    let again: Vec<&str> = list.iter().map(|m| m.address.as_str()).collect();
    let reparsed = parse_list(&again.join(", ")).expect("the addresses of a parsed list parse again");
    assert_eq!(reparsed.len(), list.len(), "the same number of mailboxes");
}

/// A certificate file as users and directories give them: PEM in any layout, DER,
/// PKCS#7 certs-only.
pub fn certificate_file(data: &[u8]) {
    let _ = smime_crypto::load_certificates(data);
}

/// The local CA's certificate file (`<config-dir>/ca.pem`), as `run` and `ca export` read it.
pub fn ca_certificate(data: &[u8]) {
    let _ = smime_ca::RootCertificate::from_pem(&String::from_utf8_lossy(data), std::path::Path::new("ca.pem"));
}

/// A rule file (TOML, CSS selectors, path globs, JSON paths, URL templates).
pub fn rule_file(text: &str) {
    let _ = crate::rules::parse_rule(text, "fuzz.toml");
}

/// A page that may hold armored S/MIME (`-----BEGIN CMS-----`): its lines joined, its
/// blocks found in their contexts and replaced; plaintext goes only where a field is
/// edited, the page is still read the same way afterwards.
pub fn armored_page(page: &[u8]) {
    use crate::rewrite::{ArmorContext, ArmorReplacement, PageCharset, find_armor, join_broken_lines, replace_armor};
    const PLAINTEXT: &str = "FUZZ-PLAINTEXT";
    let joined = join_broken_lines(page);
    let fields = ["_notes", "_phone[]"];
    let Ok(found) = find_armor(&joined, PageCharset::Undeclared, &fields) else { return };
    let edits = found.iter().filter(|f| f.context == ArmorContext::Edit).count();
    let replacements = found
        .iter()
        .map(|f| match f.context {
            ArmorContext::Edit => ArmorReplacement::Plaintext(zeroize::Zeroizing::new(PLAINTEXT.to_owned())),
            ArmorContext::Display => ArmorReplacement::Markup("<i>frame</i>".to_owned()),
        })
        .collect();
    let Ok(out) = replace_armor(&joined, PageCharset::Undeclared, &fields, replacements) else { return };
    let before = memchr::memmem::find_iter(&joined, PLAINTEXT.as_bytes()).count();
    let after = memchr::memmem::find_iter(&out, PLAINTEXT.as_bytes()).count();
    assert!(after <= before + edits, "plaintext went where no field is edited");
}

/// A form body (the first byte of `data` picks urlencoded, multipart or JSON) whose fields
/// `_notes`, `_phone[]` and `$.notes` are sealed: what comes out holds no named field's
/// value that is neither empty, armor nor sealed.
pub fn sealed_form(content_type: &str, body: &[u8]) {
    const SEALED: &str = "SEALED";
    let fields = ["_notes".to_owned(), "_phone[]".to_owned(), "$.notes".to_owned()];
    let Ok(Some(out)) = crate::flows::fields::seal_body(Some(content_type), body, &fields, &|_| Ok(SEALED.into()))
    else {
        return;
    };
    let again = Form::parse(Some(content_type), &out);
    for field in again.fields().iter().filter(|f| f.filename.is_none() && fields.contains(&f.name)) {
        let value = field.value.as_str();
        assert!(
            value.is_empty() || value == SEALED || smime_crypto::armor::is_armored(value),
            "a named field left unsealed: {value:?}"
        );
    }
}

/// A webmail's HTML page after a byte that picks a bundled rule and what is done with it
/// (its compose controls inserted and its sender options read in the same pass, or each HTML
/// view's message area replaced by a frame or the frame put before it), then the response's
/// `Content-Type` line; an
/// inserted piece is in the page once. One rule and one rewrite per run, so that a run costs
/// one rewrite, not all of them.
pub fn webmail_page(data: &[u8]) {
    use crate::rewrite::{ControlsState, PageCharset, controls, insert_reading, replace_content};
    let Some(rules) = rules() else { return };
    let Some((&pick, data)) = data.split_first() else { return };
    let Some(rule) = rules.iter().nth(usize::from(pick) % rules.iter().count()) else { return };
    let (line, page) = match data.iter().position(|b| *b == b'\n') {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &b""[..]),
    };
    let charset = PageCharset::from_content_type(&String::from_utf8_lossy(line));
    let _ = crate::rewrite::is_html(&String::from_utf8_lossy(line));
    if pick & 0x80 == 0 {
        let state = ControlsState { compose_id: Some("fuzz".into()), ..ControlsState::defaults(rule) };
        let inserts = controls(rule, &state);
        if let Ok(rewritten) = insert_reading(page, charset, &inserts, rule.fields.from_options.as_deref()) {
            assert!(rewritten.placed <= inserts.len(), "more insertions placed than asked for");
        }
    } else {
        for view in &rule.views {
            if let ViewBody::Html { replace } = &view.body {
                let _ = replace_content(page, charset, replace, "<iframe></iframe>", pick & 0x40 != 0);
            }
        }
    }
}

/// What a webmail answers the adapters' own requests (the first byte picks): Roundcube's
/// import and search answers, Horde's IMP answers and compose page, SOGo's draft answer
/// and the request path its sent folder is derived from.
pub fn adapter_answer(data: &[u8]) {
    use crate::adapters::{horde, roundcube, sogo};
    let Some((&pick, body)) = data.split_first() else { return };
    match pick % 4 {
        0 => {
            let _ = roundcube::error_shown(body);
            let _ = roundcube::listed_uids(body);
        }
        1 => {
            let _ = horde::parse_answer(body, "fuzz");
        }
        2 => {
            if let Some(id) = horde::compose_cache(body) {
                assert!(id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'), "{id:?}");
            }
        }
        _ => {
            let _ = sogo::draft_uid(body);
            let _ = sogo::sent_folder_url(&String::from_utf8_lossy(body), "Sent");
        }
    }
}

/// A decrypted message's entity, rendered for the view frame: no active or loading
/// element survives the sanitiser (text that looks like one is escaped).
pub fn view_content(entity: &[u8]) {
    let content = crate::flows::read::render_content(entity);
    let html = content.html.to_ascii_lowercase();
    for tag in ["<script", "<iframe", "<frame", "<object", "<embed", "<form", "<link", "<meta", "<base", "<svg"] {
        assert!(!html.contains(tag), "{tag} survived the sanitiser");
    }
}

/// A private key file (`keys import` of PEM, encrypted or not, and PKCS#8 DER); the
/// first byte picks the passphrase.
pub fn private_key(data: &[u8]) {
    let Some((&pick, key)) = data.split_first() else { return };
    let passphrase: Option<&[u8]> = match pick % 3 {
        0 => None,
        1 => Some(b"test"),
        _ => Some(b""),
    };
    if let Ok(text) = std::str::from_utf8(key) {
        let _ = smime_crypto::PrivateKey::from_pem(text, passphrase);
    }
    let _ = smime_crypto::PrivateKey::from_pkcs8_der(key);
}

/// A request to the proxy's own origin, as a page of another origin can shape it: its
/// `Origin`, `Referer` and `Sec-Fetch-*` (the first lines, `name: value`, up to a blank
/// line) and its form body (the rest), through the same-origin, token and frame checks,
/// and the form fields read.
pub fn own_origin_request(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let headers = head
        .lines()
        .filter_map(|line| line.split_once(':'))
        .filter_map(|(name, value)| {
            let name = hudsucker::hyper::header::HeaderName::from_bytes(name.trim().as_bytes()).ok()?;
            Some((name, hudsucker::hyper::header::HeaderValue::from_str(value.trim()).ok()?))
        })
        .collect();
    crate::origin::fuzz_request(&headers, body.as_bytes());
}

/// A form body's canonical form for signing (the first byte of `data` picks the content
/// type) and a stored record's signature field: never a panic; the canonical form of a
/// body is the same with or without an added signature field.
pub fn canonical_form(content_type: &str, body: &[u8]) {
    use crate::flows::signed_forms::{canonical_form, signed_record};
    let _ = signed_record(Some(content_type), body, "smime_signature");
    let Ok(canonical) = canonical_form(Some(content_type), body, "sig") else { return };
    let form = Form::parse(Some(content_type), body);
    if form.get("sig").is_some() {
        return;
    }
    if let Some(signed) = form.with_field(body, "sig", "S") {
        let again = canonical_form(Some(content_type), &signed, "sig");
        assert_eq!(again.as_deref(), Ok(canonical.as_slice()), "the added field changed the canonical form");
    }
}
