//! The message the proxy signs and encrypts, built from a compose's posted fields and the
//! attachments held on the device: outer header fields and the inner entity.
//!
//! With header protection (RFC 9788) the inner entity carries the real From, To, Cc,
//! Subject, Date and Message-ID, marked `hp="cipher"` (encrypted) or `hp="clear"` (signed
//! only), plus `HP-Outer` copies of what the outside shows; an encrypted message's outer
//! Subject is then `[...]`. Bcc recipients appear in no header.

use std::borrow::Cow;

use mail_builder::headers::Header as _;
use mail_builder::headers::HeaderType;
use mail_builder::headers::address::Address;
use mail_builder::headers::content_type::ContentType;
use mail_builder::headers::date::Date;
use mail_builder::headers::message_id::MessageId;
use mail_builder::headers::raw::Raw;
use mail_builder::headers::text::Text;
use mail_builder::mime::{BodyPart, MimePart};
use zeroize::Zeroizing;

use super::recipients::Mailbox;
use super::sessions::HeldFile;

/// The subject an encrypted message shows outside with header protection (RFC 9788 §5.2).
pub(crate) const HIDDEN_SUBJECT: &str = "[...]";

/// What a message is made of.
#[derive(Debug)]
pub(crate) struct Draft<'a> {
    pub(crate) from: &'a Mailbox,
    pub(crate) to: &'a [Mailbox],
    pub(crate) cc: &'a [Mailbox],
    pub(crate) subject: &'a str,
    /// The body: plain text, or HTML when `html`.
    pub(crate) body: &'a str,
    pub(crate) html: bool,
    pub(crate) attachments: &'a [std::sync::Arc<HeldFile>],
    /// Seconds since the Unix epoch.
    pub(crate) date: i64,
    /// Without angle brackets.
    pub(crate) message_id: &'a str,
    /// In-Reply-To and References of an answer (message ids with angle brackets).
    pub(crate) thread: Thread<'a>,
}

/// Where a message belongs in a conversation (RFC 5322 §3.6.4).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Thread<'a> {
    /// The message answered.
    pub(crate) in_reply_to: Option<&'a str>,
    /// The conversation's messages, oldest first.
    pub(crate) references: Option<&'a str>,
}

/// How much of the header travels inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HeaderProtection {
    /// Nothing: the inner entity has only its content fields.
    Off,
    /// Signed only: the fields inside are copies (`hp="clear"`).
    Clear,
    /// Encrypted: the real fields are inside (`hp="cipher"`), the outer Subject is hidden.
    Cipher,
}

/// A message ready for `smime_crypto::protect_entity`.
#[derive(Debug)]
pub(crate) struct Built {
    /// The outer header fields, ending with `MIME-Version: 1.0`.
    pub(crate) outer: Vec<u8>,
    /// The inner entity (header fields, blank line, body), wiped on drop.
    pub(crate) entity: Zeroizing<Vec<u8>>,
}

fn address(m: &Mailbox) -> Address<'_> {
    Address::new_address(m.name.as_deref(), m.address.as_str())
}

fn list(ms: &[Mailbox]) -> Address<'_> {
    Address::new_list(ms.iter().map(address).collect())
}

/// The header fields both sides show: From, To, Cc, Subject, Date, Message-ID, and an
/// answer's In-Reply-To and References.
fn fields<'a>(d: &'a Draft<'a>, subject: &'a str) -> Vec<(&'static str, HeaderType<'a>)> {
    let mut out = vec![("From", HeaderType::from(address(d.from)))];
    if !d.to.is_empty() {
        out.push(("To", list(d.to).into()));
    }
    if !d.cc.is_empty() {
        out.push(("Cc", list(d.cc).into()));
    }
    out.push(("Subject", Text::new(subject).into()));
    out.push(("Date", Date::new(d.date).into()));
    out.push(("Message-ID", MessageId::new(d.message_id).into()));
    if let Some(id) = d.thread.in_reply_to {
        out.push(("In-Reply-To", Raw::new(id).into()));
    }
    if let Some(ids) = d.thread.references {
        out.push(("References", Raw::new(ids).into()));
    }
    out
}

fn write_fields(fields: &[(&str, HeaderType<'_>)], out: &mut Vec<u8>) {
    for (name, value) in fields {
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b": ");
        value.write_header(out, name.len() + 2);
    }
}

/// Builds the outer header and the inner entity of `d`.
pub(crate) fn build(d: &Draft<'_>, protection: HeaderProtection) -> Built {
    let outer_subject = if protection == HeaderProtection::Cipher { HIDDEN_SUBJECT } else { d.subject };
    let outer_fields = fields(d, outer_subject);
    let mut outer = Vec::new();
    write_fields(&outer_fields, &mut outer);
    outer.extend_from_slice(b"MIME-Version: 1.0\r\n");

    let body_type = if d.html { "text/html" } else { "text/plain" };
    let mut body_ct = ContentType::new(body_type).attribute("charset", "utf-8");
    let mut entity = if d.attachments.is_empty() {
        None
    } else {
        let mut parts = vec![MimePart::new(body_ct.clone(), BodyPart::Text(Cow::Borrowed(d.body)))];
        for file in d.attachments {
            parts.push(
                MimePart::new(
                    ContentType::new(file.content_type.as_str()),
                    BodyPart::Binary(Cow::Borrowed(&file.data)),
                )
                .attachment(file.name.as_str()),
            );
        }
        Some(parts)
    };
    let hp = match protection {
        HeaderProtection::Off => None,
        HeaderProtection::Clear => Some("clear"),
        HeaderProtection::Cipher => Some("cipher"),
    };
    let top_ct = |ct: ContentType<'static>| match hp {
        Some(hp) => ct.attribute("hp", hp),
        None => ct,
    };
    let mut part = match entity.take() {
        Some(parts) => MimePart::new(top_ct(ContentType::new("multipart/mixed")), BodyPart::Multipart(parts)),
        None => {
            body_ct = top_ct(body_ct);
            MimePart::new(body_ct, BodyPart::Text(Cow::Borrowed(d.body)))
        }
    };
    if hp.is_some() {
        for (name, value) in fields(d, d.subject) {
            part = part.header(name, value);
        }
        for (name, value) in &outer_fields {
            let mut shown = Vec::new();
            value.write_header(&mut shown, name.len() + 2);
            let shown = String::from_utf8_lossy(&shown).trim_end().replace("\r\n", "");
            part = part.header("HP-Outer", Raw::new(format!("{name}: {shown}")));
        }
    }
    let mut bytes = Zeroizing::new(Vec::with_capacity(d.body.len() * 2 + 1024));
    part.write_part(&mut *bytes);
    Built { outer, entity: bytes }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn mb(name: Option<&str>, address: &str) -> Mailbox {
        Mailbox { name: name.map(str::to_owned), address: address.into() }
    }

    fn draft<'a>(from: &'a Mailbox, to: &'a [Mailbox], files: &'a [Arc<HeldFile>]) -> Draft<'a> {
        Draft {
            from,
            to,
            cc: &[],
            subject: "Quarterly numbers \u{e9}",
            body: "Hi Bob,\r\nsee attached.\r\n",
            html: false,
            attachments: files,
            date: 1_795_500_000,
            message_id: "abc123@example.test",
            thread: Thread::default(),
        }
    }

    #[test]
    fn cipher_hides_the_subject_outside_and_keeps_it_inside() {
        let from = mb(Some("Alice"), "alice@example.test");
        let to = [mb(None, "bob@example.test")];
        let files = [Arc::new(HeldFile {
            id: "1".into(),
            name: "n.bin".into(),
            content_type: "application/octet-stream".into(),
            data: vec![0, 1, 2].into(),
        })];
        let built = build(&draft(&from, &to, &files), HeaderProtection::Cipher);
        let outer = String::from_utf8(built.outer).unwrap();
        assert!(outer.contains("Subject: [...]\r\n"), "{outer}");
        assert!(outer.contains("From: \"Alice\" <alice@example.test>\r\n"), "{outer}");
        assert!(outer.ends_with("MIME-Version: 1.0\r\n"));
        assert!(!outer.contains("Quarterly"));
        let inner = String::from_utf8(built.entity.to_vec()).unwrap();
        assert!(inner.starts_with("Content-Type: multipart/mixed"), "{inner}");
        assert!(inner.contains("hp=\"cipher\"") || inner.contains("hp=cipher"), "{inner}");
        assert!(inner.contains("Subject: =?utf-8?"), "the real subject, encoded: {inner}");
        assert!(inner.contains("HP-Outer: Subject: [...]\r\n"), "{inner}");
        assert!(inner.contains("filename=\"n.bin\""), "{inner}");
        assert!(!inner.contains('\n') || !inner.replace("\r\n", "").contains('\n'), "CRLF only");
        let parsed = mail_parser::MessageParser::default().parse(inner.as_bytes()).unwrap();
        assert_eq!(parsed.subject(), Some("Quarterly numbers \u{e9}"));
        assert_eq!(parsed.attachments().next().unwrap().contents(), &[0, 1, 2]);
    }

    #[test]
    fn off_and_clear() {
        let from = mb(None, "alice@example.test");
        let to = [mb(None, "bob@example.test")];
        let built = build(&draft(&from, &to, &[]), HeaderProtection::Off);
        let inner = String::from_utf8(built.entity.to_vec()).unwrap();
        assert!(
            inner.starts_with("Content-Type: text/plain; charset=\"utf-8\"")
                || inner.starts_with("Content-Type: text/plain; charset=utf-8"),
            "{inner}"
        );
        assert!(!inner.contains("Subject:") && !inner.contains("HP-Outer"));
        assert!(String::from_utf8(built.outer).unwrap().contains("Subject: =?utf-8?"));
        let clear = build(&draft(&from, &to, &[]), HeaderProtection::Clear);
        let inner = String::from_utf8(clear.entity.to_vec()).unwrap();
        assert!(inner.contains("hp=\"clear\"") || inner.contains("hp=clear"), "{inner}");
        assert!(inner.contains("HP-Outer: Subject: =?utf-8?"), "{inner}");
    }
}
