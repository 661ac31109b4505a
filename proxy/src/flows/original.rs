//! [`Original`]: what a reply or forward needs of the message it answers: the threading
//! fields (RFC 5322 §3.6.4), its real subject, sender and date (from inside, when header
//! protection hid them), and its text to quote. The read flow makes one when it opens the
//! original; the compose flow builds the answer with it.
//!
//! An encrypted original's text never goes into the webmail's page (its scripts could
//! send it anywhere): the compose shows the original in a frame of the proxy's origin, and
//! the quote is added to the answer when it is built, inside the encryption, only while
//! Encrypt is on.

use mail_parser::MessageParser;
use zeroize::Zeroizing;

use crate::markup::escape;
use crate::rules::AnswerKind;

/// Most message ids kept in a References field (RFC 5322 allows trimming the middle).
const MAX_REFERENCES: usize = 20;
/// Longest text of the original quoted in an answer.
const MAX_QUOTED: usize = 256 * 1024;

/// The message a compose answers.
#[derive(Debug)]
pub(crate) struct Original {
    /// Reply or forward.
    pub(crate) kind: AnswerKind,
    /// Its Message-ID, with angle brackets.
    pub(crate) message_id: Option<String>,
    /// Its References (or In-Reply-To), with angle brackets.
    pub(crate) references: Vec<String>,
    /// Whether it was encrypted: its text and real subject are then only the device's.
    pub(crate) encrypted: bool,
    /// Its subject (the real one from inside when the outside shows `[...]`).
    pub(crate) subject: Zeroizing<String>,
    /// Its sender, `Name <address>`.
    pub(crate) from: Zeroizing<String>,
    /// Its date, as written.
    pub(crate) date: String,
    /// Its text, as plain text.
    pub(crate) text: Zeroizing<String>,
}

impl Original {
    /// The original of raw message `raw` (its outer header), with `inner` the header fields
    /// and text of what was inside when it was encrypted.
    pub(crate) fn new(kind: AnswerKind, raw: &[u8], inner: Option<Inner>) -> Self {
        let parsed = MessageParser::default().parse_headers(raw);
        let outer = parsed.as_ref();
        let ids = |list: Option<&mail_parser::HeaderValue<'_>>| -> Vec<String> {
            match list {
                Some(mail_parser::HeaderValue::Text(id)) => vec![format!("<{id}>")],
                Some(mail_parser::HeaderValue::TextList(ids)) => ids.iter().map(|id| format!("<{id}>")).collect(),
                _ => Vec::new(),
            }
        };
        let mut references = ids(outer.map(|m| m.references()));
        if references.is_empty() {
            references = ids(outer.map(|m| m.in_reply_to()));
        }
        let message_id = outer.and_then(|m| m.message_id()).map(|id| format!("<{id}>"));
        let outer_subject = outer.and_then(|m| m.subject()).unwrap_or_default().to_owned();
        let outer_from = outer.and_then(|m| m.from()).map(mailboxes).unwrap_or_default();
        let outer_date = outer.and_then(|m| m.date()).map(|d| d.to_rfc822()).unwrap_or_default();
        let encrypted = inner.is_some();
        let inner = inner.unwrap_or_default();
        let pick = |inside: Option<String>, outside: String| Zeroizing::new(inside.unwrap_or(outside));
        Self {
            kind,
            message_id,
            references,
            encrypted,
            subject: pick(inner.subject, outer_subject),
            from: pick(inner.from, outer_from),
            date: inner.date.unwrap_or(outer_date),
            text: inner.text,
        }
    }

    /// The answer's In-Reply-To: the original's Message-ID (replies only).
    pub(crate) fn in_reply_to(&self) -> Option<&str> {
        (self.kind == AnswerKind::Reply).then_some(self.message_id.as_deref()).flatten()
    }

    /// The answer's References: the original's, then its Message-ID (the first and the
    /// latest ones when there are too many), space separated.
    pub(crate) fn references(&self) -> Option<String> {
        let mut all: Vec<&str> = self.references.iter().map(String::as_str).collect();
        all.extend(self.message_id.as_deref());
        if all.len() > MAX_REFERENCES {
            all.drain(1..all.len() - (MAX_REFERENCES - 1));
        }
        (!all.is_empty()).then(|| all.join(" "))
    }

    /// The subject the answer gets when the webmail could not see the original's:
    /// `posted` (e.g. "Re: [...]") with the hidden subject replaced by the real one.
    pub(crate) fn subject_for(&self, posted: &str, hidden: &str) -> Option<String> {
        (self.encrypted && posted.contains(hidden) && !self.subject.is_empty())
            .then(|| posted.replacen(hidden, &self.subject, 1))
    }

    /// The original's text as the answer quotes it: after "On DATE, FROM wrote:" with
    /// `> ` before each line (reply), or below a "Forwarded message" block (forward). In
    /// HTML when `html`.
    pub(crate) fn quote(&self, html: bool) -> Zeroizing<String> {
        let text = truncate(&self.text, MAX_QUOTED);
        let mut out = String::from("\r\n\r\n");
        match (self.kind, html) {
            (AnswerKind::Reply, false) => {
                out.push_str(&format!("On {}, {} wrote:\r\n", self.date, &*self.from));
                for line in text.lines() {
                    out.push_str(if line.starts_with('>') { ">" } else { "> " });
                    out.push_str(line);
                    out.push_str("\r\n");
                }
            }
            (AnswerKind::Forward, false) => {
                out.push_str("-------- Forwarded Message --------\r\n");
                out.push_str(&format!(
                    "Subject: {}\r\nDate: {}\r\nFrom: {}\r\n\r\n",
                    &*self.subject, self.date, &*self.from
                ));
                for line in text.lines() {
                    out.push_str(line);
                    out.push_str("\r\n");
                }
            }
            (kind, true) => {
                let lines: Vec<String> = text.lines().map(escape).collect();
                let lines = lines.join("<br>\r\n");
                out.push_str(&match kind {
                    AnswerKind::Reply => format!(
                        "<p>On {}, {} wrote:</p>\r\n<blockquote type=\"cite\">{lines}</blockquote>\r\n",
                        escape(&self.date),
                        escape(&self.from)
                    ),
                    AnswerKind::Forward => format!(
                        "<p>-------- Forwarded Message --------<br>\r\nSubject: {}<br>\r\nDate: {}<br>\r\nFrom: {}</p>\r\n\
                         <p>{lines}</p>\r\n",
                        escape(&self.subject),
                        escape(&self.date),
                        escape(&self.from)
                    ),
                });
            }
        }
        Zeroizing::new(out)
    }
}

/// What was inside an encrypted original.
#[derive(Debug, Default)]
pub(crate) struct Inner {
    /// Its Subject, when it had one.
    pub(crate) subject: Option<String>,
    /// Its From.
    pub(crate) from: Option<String>,
    /// Its Date.
    pub(crate) date: Option<String>,
    /// Its text.
    pub(crate) text: Zeroizing<String>,
}

/// A From field's mailboxes as `Name <address>`, comma separated.
pub(crate) fn mailboxes(list: &mail_parser::Address<'_>) -> String {
    list.iter()
        .map(|a| match (a.name(), a.address()) {
            (Some(name), Some(address)) => format!("{name} <{address}>"),
            (None, Some(address)) => address.to_owned(),
            (Some(name), None) => name.to_owned(),
            (None, None) => String::new(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    const RAW: &[u8] = b"From: Alice <alice@example.test>\r\nTo: bob@example.test\r\nSubject: [...]\r\n\
        Date: Thu, 03 Dec 2026 10:00:00 +0000\r\nMessage-ID: <m2@example.test>\r\n\
        References: <m0@example.test> <m1@example.test>\r\n\r\nbody";

    fn encrypted(kind: AnswerKind) -> Original {
        let inner = Inner {
            subject: Some("Köln, 東京 & more".into()),
            from: Some("Alice <alice@example.test>".into()),
            date: Some("Thu, 3 Dec 2026 10:00:00 +0000".into()),
            text: Zeroizing::new("Hi Bob,\n> earlier\nsee <you>".into()),
        };
        Original::new(kind, RAW, Some(inner))
    }

    #[test]
    fn a_reply_is_threaded_under_the_original() {
        let original = encrypted(AnswerKind::Reply);
        assert_eq!(original.in_reply_to(), Some("<m2@example.test>"));
        assert_eq!(original.references().unwrap(), "<m0@example.test> <m1@example.test> <m2@example.test>");
        assert_eq!(encrypted(AnswerKind::Forward).in_reply_to(), None, "a forward is no reply");

        let mut long = encrypted(AnswerKind::Reply);
        long.references = (0..30).map(|i| format!("<r{i}@x>")).collect();
        let references = long.references().unwrap();
        assert_eq!(references.split(' ').count(), MAX_REFERENCES);
        assert!(references.starts_with("<r0@x> <r12@x>") && references.ends_with("<r29@x> <m2@example.test>"));
    }

    #[test]
    fn the_hidden_subject_becomes_the_real_one_only_for_an_encrypted_original() {
        let original = encrypted(AnswerKind::Reply);
        assert_eq!(original.subject_for("Re: [...]", "[...]").unwrap(), "Re: Köln, 東京 & more");
        assert_eq!(original.subject_for("Re: something else", "[...]"), None);
        let plain = Original::new(AnswerKind::Reply, RAW, None);
        assert_eq!(plain.subject_for("Re: [...]", "[...]"), None);
        assert_eq!(&*plain.subject, "[...]");
    }

    #[test]
    fn quotes_in_text_and_html() {
        let text = encrypted(AnswerKind::Reply).quote(false);
        assert!(text.contains("On Thu, 3 Dec 2026 10:00:00 +0000, Alice <alice@example.test> wrote:\r\n"), "{}", *text);
        assert!(text.contains("> Hi Bob,\r\n>> earlier\r\n> see <you>\r\n"), "{}", *text);
        let html = encrypted(AnswerKind::Reply).quote(true);
        assert!(
            html.contains("<blockquote type=\"cite\">Hi Bob,<br>\r\n&gt; earlier<br>\r\nsee &lt;you&gt;</blockquote>")
        );
        let forward = encrypted(AnswerKind::Forward).quote(false);
        assert!(forward.contains("Subject: Köln, 東京 & more\r\n"), "{}", *forward);
    }
}
