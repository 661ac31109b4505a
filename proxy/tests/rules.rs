//! Rules: `smime-proxy rules test` (pass, a broken fixture's diff, invalid rules), the
//! captured Roundcube send request classified and stripped, and the same through the
//! running proxy.
#![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use smime_proxy::rules::{ComposeKind, Head, Match, Query, RuleSet, SmimeChoice, classify, match_request, parse_rule};
use support::*;

fn repo_rules() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../rewrite-rules")
}

fn rules_test(dir: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_smime-proxy"))
        .args(["rules", "test"])
        .args(extra)
        .arg(dir)
        .env_remove("UPDATE_GOLDEN")
        .output()
        .unwrap()
}

/// A copy of the repository's rewrite-rules/ in a temporary directory.
fn copy_rules() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap();
    let src = repo_rules();
    for entry in std::fs::read_dir(&src).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            std::fs::copy(&path, tmp.path().join(path.file_name().unwrap())).unwrap();
        }
    }
    for rule in std::fs::read_dir(src.join("fixtures")).unwrap() {
        let rule = rule.unwrap().path();
        let fixtures = tmp.path().join("fixtures").join(rule.file_name().unwrap());
        std::fs::create_dir_all(&fixtures).unwrap();
        for entry in std::fs::read_dir(&rule).unwrap() {
            let path = entry.unwrap().path();
            std::fs::copy(&path, fixtures.join(path.file_name().unwrap())).unwrap();
        }
    }
    tmp
}

#[test]
fn repository_rules_pass_their_fixtures() {
    let out = rules_test(&repo_rules(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("ok roundcube/compose.html"), "{stdout}");
    assert!(stdout.contains("ok roundcube/send-request-raw.txt"), "{stdout}");
    assert!(stdout.contains(" 0 failed"), "{stdout}");
}

#[test]
fn a_broken_fixture_fails_with_a_readable_diff() {
    let tmp = copy_rules();
    let golden = tmp.path().join("fixtures/roundcube/send-request-raw.expected.txt");
    let text = std::fs::read_to_string(&golden).unwrap();
    std::fs::write(&golden, text.replace("smime: sign=on encrypt=on", "smime: sign=on encrypt=off")).unwrap();
    let html = tmp.path().join("fixtures/roundcube/compose.expected.html");
    let text = std::fs::read_to_string(&html).unwrap();
    std::fs::write(&html, text.replace("Encrypt (S/MIME)", "Encrypt")).unwrap();

    let out = rules_test(tmp.path(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("FAIL roundcube/send-request-raw.txt"), "{stdout}");
    assert!(stdout.contains("send-request-raw.expected.txt differs (- expected, + actual)"), "{stdout}");
    assert!(stdout.contains("- smime: sign=on encrypt=off\n    + smime: sign=on encrypt=on"), "{stdout}");
    // Context lines around the change, not the whole file.
    assert!(stdout.contains("  attachments: [\"11795498873054675200\"]"), "{stdout}");
    assert!(stdout.contains("FAIL roundcube/compose.html"), "{stdout}");
    assert!(stdout.contains("+ \t\t\t<h2 id=\"aria-label-composeoptions\""), "{stdout}");
    assert!(stdout.contains("ok roundcube/login.html"), "{stdout}");
    assert!(stdout.contains("ok horde/smime-preview.json") && stdout.contains("ok sogo/send-smime-request-raw.txt"));
    assert!(stdout.contains("44 passed, 2 failed"), "{stdout}");

    // --bless rewrites the goldens from the actual results; then everything passes.
    assert!(rules_test(tmp.path(), &["--bless"]).status.success());
    assert!(rules_test(tmp.path(), &[]).status.success());
}

#[test]
fn a_rule_change_that_loses_an_encrypted_field_fails() {
    let tmp = copy_rules();
    let rule = tmp.path().join("roundcube.toml");
    let text = std::fs::read_to_string(&rule).unwrap();
    let broken = text
        .replace(r#"fields = ["_notes", "_phone[]"]"#, r#"fields = ["_note", "_phone[]"]"#)
        .replace(r#"_action = ["show", "edit"]"#, r#"_action = ["show"]"#);
    assert_ne!(broken, text, "the bundled rule still has the entry this test changes");
    std::fs::write(&rule, broken).unwrap();

    let out = rules_test(tmp.path(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    // The save request: the notes would leave the device as typed.
    assert!(stdout.contains("FAIL roundcube/contact-save-request-raw.txt"), "{stdout}");
    assert!(stdout.contains("-   _notes: 1 in the body, 1 with a value to seal"), "{stdout}");
    // The edit page: its armor would no longer be opened.
    assert!(stdout.contains("FAIL roundcube/contact-edit.html"), "{stdout}");
    assert!(stdout.contains("- armor 0: edit field: filled with the plaintext"), "{stdout}");
    assert!(stdout.contains("ok roundcube/contact-show.html"), "{stdout}");
}

#[test]
fn a_signed_form_fixture_shows_the_canonical_form() {
    let tmp = tempfile::tempdir().unwrap();
    let rule = "name = \"shop\"\n[csrf]\nfield = \"_token\"\n[pages.compose]\npath = \"/compose\"\n[controls]\nselector = \"#none\"\n\
                position = \"after\"\nrow = \"{label}{input}{id}\"\n[controls.status]\nselector = \"#none\"\n\
                position = \"after\"\nhtml = \"{status}\"\n[[requests]]\nkind = \"send\"\npath = \"/send\"\n\
                [fields]\nto = \"_to\"\nsubject = \"_subject\"\nbody = \"_body\"\n\
                [[signed_forms]]\npath = \"/order\"\n";
    std::fs::write(tmp.path().join("shop.toml"), rule).unwrap();
    let fixtures = tmp.path().join("fixtures/shop");
    std::fs::create_dir_all(&fixtures).unwrap();
    std::fs::write(fixtures.join("fixtures.toml"), "[[request]]\nfile = \"order-request-raw.txt\"\n").unwrap();
    let order = "POST /order HTTP/1.1\r\ncontent-type: application/x-www-form-urlencoded\r\n\r\nqty=2&item=book";
    std::fs::write(fixtures.join("order-request-raw.txt"), order).unwrap();

    assert!(rules_test(tmp.path(), &["--bless"]).status.success());
    let golden = std::fs::read_to_string(fixtures.join("order-request-raw.expected.txt")).unwrap();
    assert!(
        golden.contains("signed form: signature in field smime_signature\ncanonical form: item=book&qty=2\n"),
        "{golden}"
    );
    assert!(rules_test(tmp.path(), &[]).status.success());
}

#[test]
fn a_missing_golden_file_is_a_failure() {
    let tmp = copy_rules();
    std::fs::remove_file(tmp.path().join("fixtures/roundcube/login.expected.txt")).unwrap();
    let out = rules_test(tmp.path(), &[]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout.contains("missing golden file") && stdout.contains("--bless"), "{stdout}");
}

const ROUNDCUBE: &str = include_str!("../../rewrite-rules/roundcube.toml");

fn rule_error(text: &str) -> String {
    parse_rule(text, "rules/x.toml").unwrap_err().to_string()
}

fn line_of(text: &str, needle: &str) -> usize {
    text[..text.find(needle).unwrap()].matches('\n').count() + 1
}

#[test]
fn invalid_rules_name_file_line_and_reason() {
    // A CSS selector lol_html cannot parse.
    let bad = ROUNDCUBE.replace(r##"selector = "#aria-label-composeoptions""##, r##"selector = "#a[[b""##);
    let err = rule_error(&bad);
    let line = line_of(&bad, "#a[[b");
    assert!(err.starts_with(&format!("rules/x.toml, line {line}: CSS selector `#a[[b`")), "{err}");

    // An unknown key.
    let bad = ROUNDCUBE.replace("input_class = ", "input_klass = ");
    let err = rule_error(&bad);
    assert!(
        err.starts_with(&format!("rules/x.toml, line {}: unknown field `input_klass`", line_of(&bad, "input_klass"))),
        "{err}"
    );

    // A missing required field.
    let bad = ROUNDCUBE.replace("subject = \"_subject\"\n", "");
    let err = rule_error(&bad);
    assert!(err.starts_with("rules/x.toml, line ") && err.contains("missing field `subject`"), "{err}");

    // A template without its placeholder; a URL template naming a parameter the page lacks.
    let bad = ROUNDCUBE.replace("{input}</div></div>'''", "</div></div>'''");
    assert!(rule_error(&bad).contains("the row needs {input} and {id}"), "{}", rule_error(&bad));
    let bad = ROUNDCUBE.replace("&_mbox={_mbox}", "&_mbox={_folder}");
    let err = rule_error(&bad);
    assert!(err.contains(&format!("line {}", line_of(&bad, "raw_message"))) && err.contains("{_folder}"), "{err}");
    // The same for an answer's original; and an answer kind that does not exist.
    let bad = ROUNDCUBE.replace("_uid={_reply_uid}", "_uid={_nope}");
    let err = rule_error(&bad);
    assert!(err.contains(&format!("line {}", line_of(&bad, "{_nope}"))) && err.contains("{_nope}"), "{err}");
    let bad = ROUNDCUBE.replace("kind = \"forward\"", "kind = \"bounce\"");
    let err = rule_error(&bad);
    assert!(err.contains("unknown variant `bounce`, expected `reply` or `forward`"), "{err}");

    // Bad path globs, JSON paths, views and sources: file, line and reason.
    let horde = std::fs::read_to_string(repo_rules().join("horde.toml")).unwrap();
    let sogo = std::fs::read_to_string(repo_rules().join("sogo.toml")).unwrap();
    for (text, from, to, reason) in [
        (
            &horde,
            "path = \"/**/services/ajax.php/imp/sendMessage\"",
            "path = \"/**/a/**/sendMessage\"",
            "at most one `**`",
        ),
        (&horde, "each = \"$.tasks['imp:message'][*]\"", "each = \"$.tasks.imp:message\"", "use ['key']"),
        (&horde, "replace = \"$.data.msgtext\"", "replace = \"data.msgtext\"", "must start with `$`"),
        (&horde, "replace = \"div.messageBody\"", "replace = \"div..x\"", "CSS selector"),
        (&horde, "buid={buid}&id=0&mailbox={mbox}", "buid={buid}&id=0&mailbox={box}", "{box} is not a query parameter"),
        (&sogo, "/folder{folder}/{uid}/view\"", "/folder{folder}/{folder}/view\"", "appears twice"),
        (&sogo, "compose_id = \"{draft}\"", "compose_id = \"{drafts}\"", "captured by no [[requests]] path"),
        (&sogo, "content_type = \"multipart/form-data\"", "content_type = \"multipart\"", "expected a media type"),
        (&sogo, "</style>{frame}\"}'''", "</style>\"}'''", "JSON with {frame} in a string"),
        (&sogo, "delivery = \"smtp\"", "delivery = \"carrier-pigeon\"", "unknown variant `carrier-pigeon`"),
        (
            &sogo,
            "[login]\npath = \"/SOGo/connect\"\nuser = \"userName\"\npassword = \"password\"\n",
            "",
            "needs a [login] section",
        ),
    ] {
        assert!(text.contains(from), "{from}");
        let bad = text.replace(from, to);
        let err = rule_error(&bad);
        assert!(err.starts_with("rules/x.toml, line ") && err.contains(reason), "{from} → {to}: {err}");
        if !to.is_empty() && !reason.contains("[login]") {
            let line = line_of(&bad, to.lines().next().unwrap());
            assert!(err.starts_with(&format!("rules/x.toml, line {line}:")), "{from} → {to}: line {line}: {err}");
        }
    }

    // Encrypted fields: bad recipients, fields and keys name the line.
    for (from, to, reason) in [
        ("to = \"self\"", "to = \"me\"", "`me` is neither \"self\" nor an e-mail address"),
        ("to = \"self\"", "to = [\"bob@example.test\", \"bob\"]", "`bob` is neither"),
        ("to = \"self\"", "to = []", "name \"self\" or at least one address"),
        ("fields = [\"_notes\", \"_phone[]\"]", "fields = []", "name at least one form field"),
        ("fields = [\"_notes\", \"_phone[]\"]", "fields = [\"$.a..b\"]", "JSON path"),
        ("fields = [\"_notes\", \"_phone[]\"]", "fields = [\"{id}\"]", "a path capture, not a form field"),
        ("to = \"self\"", "to = \"self\"\nsing = true", "unknown field `sing`"),
    ] {
        assert!(ROUNDCUBE.contains(from), "{from}");
        let bad = ROUNDCUBE.replace(from, to);
        let err = rule_error(&bad);
        let line = line_of(&bad, to.lines().last().unwrap());
        assert!(err.starts_with(&format!("rules/x.toml, line {line}:")) && err.contains(reason), "{to}: {err}");
    }
    let bad = format!("{ROUNDCUBE}\n[[signed_forms]]\nquery = {{ _task = \"settings\" }}\nfield = \"\"\n");
    let err = rule_error(&bad);
    assert!(err.starts_with(&format!("rules/x.toml, line {}:", line_of(&bad, "field = \"\""))), "{err}");
    assert!(err.contains("a form field name"), "{err}");
    let bad = ROUNDCUBE.replace("adapter = \"roundcube\"\n", "adapter = \"roundcube\"\nsmime_pages = \"yes\"\n");
    let err = rule_error(&bad);
    assert!(err.starts_with(&format!("rules/x.toml, line {}:", line_of(&bad, "smime_pages"))), "{err}");
    assert!(err.contains("invalid type"), "{err}");

    // No send request.
    let bad = ROUNDCUBE.replace("kind = \"send\"", "kind = \"upload\"");
    assert!(rule_error(&bad).contains("no [[requests]] entry of kind \"send\""));
    let bad = ROUNDCUBE.replace("kind = \"send\"", "kind = \"sned\"");
    assert!(rule_error(&bad).contains("unknown variant `sned`"), "{}", rule_error(&bad));
}

#[test]
fn an_invalid_rule_fails_rules_test_with_file_and_line() {
    let tmp = copy_rules();
    let path = tmp.path().join("roundcube.toml");
    std::fs::write(&path, ROUNDCUBE.replace("position = \"after\"", "position = \"afterwards\"")).unwrap();
    let out = rules_test(tmp.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    let line = line_of(ROUNDCUBE, "position = \"after\"");
    assert!(stderr.contains(&format!("roundcube.toml, line {line}: unknown variant `afterwards`")), "{stderr}");
}

#[test]
fn captured_send_request_is_classified_and_stripped() {
    let raw = std::fs::read(repo_rules().join("fixtures/roundcube/send-request-raw.txt")).unwrap();
    let split = raw.windows(2).position(|w| w == b"\n\n").unwrap();
    let body = Bytes::copy_from_slice(&raw[split + 2..]);
    let rules = RuleSet::bundled().unwrap();
    let rule = rules.get("roundcube").unwrap();
    let query = Query::parse("_task=mail&_unlock=loading1795498873680&_framed=1");
    let head =
        Head { method: "POST", path: "/", query: &query, content_type: Some("application/x-www-form-urlencoded") };
    let Some(Match::ComposeRequest(candidates)) = match_request(rule, &head) else {
        panic!("the send POST is a compose request")
    };
    let out = classify(rule, candidates, &head, None, body.clone());
    let request = out.request.unwrap();
    assert_eq!(request.kind, ComposeKind::Send);
    assert_eq!(request.smime, Some(SmimeChoice { sign: true, encrypt: true }));
    assert_eq!(request.csrf_token.as_deref(), Some("eIa1dIxHY9rmPVltJe2voUrqPyiQ742g"));
    let f = &request.fields;
    assert_eq!((f.from.as_str(), f.to.as_str(), f.cc.as_str(), f.bcc.as_str()), ("1", "bob@example.test,", "", ""));
    assert_eq!(f.subject, "via mitm proxy with smime flags");
    assert_eq!(f.body, "body sent through the intercepting proxy");
    assert!(!f.html);
    assert_eq!(f.attachments, vec!["11795498873054675200".to_owned()]);
    assert_eq!(f.compose_id, "16575293196b0523792e1f1");
    assert!(out.stripped);
    let expected = String::from_utf8_lossy(&body).replace("&_smime_sign=1&_smime_encrypt=1", "");
    assert_eq!(String::from_utf8_lossy(&out.body), expected);
}

fn post(path: &str, content_type: &str, body: &'static [u8]) -> Request<Full<Bytes>> {
    Request::post(path).header("content-type", content_type).body(Full::new(Bytes::from_static(body))).unwrap()
}

#[tokio::test]
async fn the_proxy_strips_control_fields_before_upstream() {
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let upstream = Upstream::start(&pki).await;
    let proxy = TestProxy::start(&[upstream.by_name()], vec![pki.write_ca(dir.path())]).await;
    let roots = proxy.local_ca_roots();

    // Send (urlencoded) with the controls off: the upstream `/echo` route returns the body
    // it received, without the control fields.
    let body = b"_token=t&_task=mail&_action=send&_to=bob%40example.test&_smime_sign=&_smime_encrypt=&_message=hi";
    let req = post("/echo?_task=mail&_framed=1", "application/x-www-form-urlencoded", body);
    let res = https_via_proxy(proxy.addr(), &upstream.by_name(), &roots, req).await.unwrap();
    assert_eq!(res.status, 200);
    assert_eq!(res.text(), "_token=t&_task=mail&_action=send&_to=bob%40example.test&_message=hi");

    // Upload (multipart) with a control field (off): the part is removed.
    let body = b"--B\r\nContent-Disposition: form-data; name=\"_smime_encrypt\"\r\n\r\n\r\n--B\r\n\
Content-Disposition: form-data; name=\"_attachments[]\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B--\r\n";
    let req = post("/echo?_task=mail&_action=upload&_id=1", "multipart/form-data; boundary=B", body);
    let res = https_via_proxy(proxy.addr(), &upstream.by_name(), &roots, req).await.unwrap();
    assert_eq!(
        res.text(),
        "--B\r\nContent-Disposition: form-data; name=\"_attachments[]\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B--\r\n"
    );

    // Fail closed: with Sign or Encrypt on, a send the compose flow cannot complete (here:
    // no sender known, no key) is answered in the page's own way, and nothing goes up.
    for body in [
        &b"_token=t&_task=mail&_action=send&_to=bob%40example.test&_smime_sign=1&_smime_encrypt=&_message=hi"[..],
        b"_token=t&_task=mail&_action=send&_to=bob%40example.test&_smime_sign=&_smime_encrypt=1&_message=SECRET",
    ] {
        let req = post("/echo?_task=mail&_framed=1", "application/x-www-form-urlencoded", body);
        let res = https_via_proxy(proxy.addr(), &upstream.by_name(), &roots, req).await.unwrap();
        assert_eq!(res.status, 200);
        let text = res.text();
        assert!(text.contains("display_message(") && text.contains("\"error\""), "{text}");
        assert!(text.contains("Not sent") && !text.contains("bob%40example") && !text.contains("SECRET"), "{text}");
    }
    let body = b"--B\r\nContent-Disposition: form-data; name=\"_smime_encrypt\"\r\n\r\n1\r\n--B\r\n\
Content-Disposition: form-data; name=\"_attachments[]\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B--\r\n";
    let req = post("/echo?_task=mail&_action=upload&_id=1", "multipart/form-data; boundary=B", body);
    let res = https_via_proxy(proxy.addr(), &upstream.by_name(), &roots, req).await.unwrap();
    assert_eq!(res.status, 200);
    let text = res.text();
    assert!(text.contains("add2attachment_list") && text.contains("kept on this device"), "{text}");
    assert!(!text.contains("hello"), "an attachment added with Encrypt on does not reach the server: {text}");

    // A request on a compose path that no entry recognises: still never forwarded with
    // S/MIME asked for; with the toggles off it goes up stripped.
    let body = b"_token=t&_task=mail&_action=autosave&_smime_encrypt=1&_message=SECRET";
    let req = post("/echo?_task=mail", "application/x-www-form-urlencoded", body);
    let res = https_via_proxy(proxy.addr(), &upstream.by_name(), &roots, req).await.unwrap();
    assert_eq!(res.status, 501);
    assert!(!res.text().contains("SECRET"));
    let body = b"_token=t&_task=mail&_action=autosave&_smime_encrypt=&_message=hi";
    let req = post("/echo?_task=mail", "application/x-www-form-urlencoded", body);
    let res = https_via_proxy(proxy.addr(), &upstream.by_name(), &roots, req).await.unwrap();
    assert_eq!(res.text(), "_token=t&_task=mail&_action=autosave&_message=hi");

    // Not a compose request: the body goes up untouched, `_smime_` fields and all.
    let body = b"_task=login&_smime_sign=1";
    let req = post("/echo?_task=login", "application/x-www-form-urlencoded", body);
    let res = https_via_proxy(proxy.addr(), &upstream.by_name(), &roots, req).await.unwrap();
    assert_eq!(res.text(), "_task=login&_smime_sign=1");
}

#[tokio::test]
async fn only_compose_pages_get_the_controls() {
    let dir = tempfile::tempdir().unwrap();
    let pki = UpstreamPki::new("Upstream Test CA");
    let upstream = Upstream::start(&pki).await;
    let proxy = TestProxy::start(&[upstream.by_name()], vec![pki.write_ca(dir.path())]).await;
    let roots = proxy.local_ca_roots();
    for (path, rewritten) in [
        (format!("/page{COMPOSE}"), true),
        ("/page".to_owned(), false),
        ("/page?_task=mail&_mbox=INBOX".to_owned(), false),
        ("/page?_task=mail&_action=show&_uid=1&_mbox=INBOX".to_owned(), false),
    ] {
        let res = https_via_proxy(proxy.addr(), &upstream.by_name(), &roots, get(&path)).await.unwrap();
        assert_eq!(res.text().contains(MARKER), rewritten, "{path}");
        if !rewritten {
            assert_eq!(res.text(), PAGE, "{path}");
        }
    }
}

/// IMP (like any form) posts no field for an unchecked checkbox: the hidden field posted
/// with the toggles says they were there, so both unchecked means both off (not "ask the
/// last known choice").
#[test]
fn unchecked_toggles_posted_with_the_form_mean_off() {
    let rules = RuleSet::bundled().unwrap();
    let rule = rules.get("horde").unwrap();
    let query = Query::parse("");
    let head = Head {
        method: "POST",
        path: "/horde/services/ajax.php/imp/sendMessage",
        query: &query,
        content_type: Some("application/x-www-form-urlencoded"),
    };
    let Some(Match::ComposeRequest(candidates)) = match_request(rule, &head) else { panic!("a send") };
    let classify_body =
        |body: &'static str| classify(rule, candidates, &head, None, Bytes::from_static(body.as_bytes()));
    let off = classify_body("composeCache=c&_smime_controls=1&to=bob%40example.test&subject=s&message=m&token=t");
    assert_eq!(off.request.unwrap().smime, Some(SmimeChoice { sign: false, encrypt: false }));
    assert!(off.stripped && !String::from_utf8_lossy(&off.body).contains("_smime"));
    let sign = classify_body("composeCache=c&_smime_controls=1&_smime_sign=1&to=b%40e.test&subject=s&message=m");
    assert_eq!(sign.request.unwrap().smime, Some(SmimeChoice { sign: true, encrypt: false }));
    let page_without_controls = classify_body("composeCache=c&to=b%40e.test&subject=s&message=m");
    assert_eq!(page_without_controls.request.unwrap().smime, None);
}
