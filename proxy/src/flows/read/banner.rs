//! The trust banner: what the proxy itself established about a message (encryption,
//! signer, From match, anchor, signing time, verdict), as escaped HTML for the top of
//! the view frame. Every line comes from the engine's verified facts, never from the
//! message's own text.

use smime_crypto::{Layer, SignatureStatus, SignatureSummary};

use crate::markup::escape;

/// How the banner looks overall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Valid signature (and, if encrypted, decrypted).
    Good,
    /// Readable but not signed, or a weak point worth a look.
    Neutral,
    /// Invalid signature, or the message cannot be read.
    Bad,
}

impl Tone {
    fn class(self) -> &'static str {
        match self {
            Tone::Good => "good",
            Tone::Neutral => "neutral",
            Tone::Bad => "bad",
        }
    }
}

/// The banner of an opened message; `revocation` is what the signer's revocation check
/// found, in one sentence.
pub fn opened(layers: &[Layer], signature: Option<&SignatureSummary>, revocation: Option<&str>) -> String {
    let mut lines = Vec::new();
    lines.push(encryption_line(layers));
    let tone = match signature {
        None => {
            lines.push("Not signed: the sender is not verified.".to_owned());
            Tone::Neutral
        }
        Some(summary) => {
            lines.extend(signature_lines(summary));
            lines.extend(revocation.map(str::to_owned));
            match (&summary.status, &summary.display_warning) {
                (SignatureStatus::Valid, None) => Tone::Good,
                // Valid, but what the webmail shows as the sender is not who signed.
                (SignatureStatus::Valid, Some(_)) => Tone::Neutral,
                _ => Tone::Bad,
            }
        }
    };
    let headline = match (signature.map(|s| &s.status), tone) {
        (Some(SignatureStatus::Valid), Tone::Neutral) => "Signature valid, but look at the sender",
        (Some(SignatureStatus::Valid), _) => "Signature valid",
        (Some(SignatureStatus::Invalid(_)), _) => "Signature INVALID",
        (None, _) => "Not signed",
    };
    render(tone, headline, &lines)
}

/// The banner of a message that could not be opened: `headline` and the lines after it
/// (plain text, escaped here).
pub fn failed(headline: &str, lines: &[String]) -> String {
    render(Tone::Bad, headline, lines)
}

/// The line on the encryption layers (the innermost decrypted one counts).
fn encryption_line(layers: &[Layer]) -> String {
    let encrypted = layers.iter().find_map(|l| match l {
        Layer::Encrypted { cipher, authenticated, legacy } => Some((*cipher, *authenticated, *legacy)),
        Layer::Signed { .. } => None,
    });
    match encrypted {
        None => "Not encrypted: this message was readable on its way to you.".to_owned(),
        Some((cipher, authenticated, legacy)) => {
            let mut line = format!("Encrypted to you ({cipher}");
            line.push_str(if authenticated {
                ", authenticated)."
            } else {
                ", not integrity-protected: remote content is blocked)."
            });
            if legacy {
                line.push_str(" The cipher is a legacy one: ask the sender to upgrade.");
            }
            line
        }
    }
}

fn signature_lines(summary: &SignatureSummary) -> Vec<String> {
    let mut lines = Vec::new();
    match &summary.signer {
        Some(signer) => {
            let address = signer.addresses.first().map_or("no address", String::as_str);
            lines.push(format!("Signed by {address} ({}).", signer.subject));
            if signer.addresses.len() > 1 {
                lines.push(format!("Certificate addresses: {}.", signer.addresses.join(", ")));
            }
            lines.push(if summary.from_matches {
                "The signer matches the From address.".to_owned()
            } else {
                "The signer does NOT match the From address.".to_owned()
            });
            if let Some(chain) = &signer.chain {
                lines.push(format!("Certificate chains to {}.", chain.anchor));
            }
            if let Some(at) = signer.signing_time {
                lines.push(format!("Signed at {}.", crate::timestamp::rfc3339(at)));
            }
        }
        None => lines.push("Signed by several signers: not shown as one sender.".to_owned()),
    }
    if let Some(warning) = &summary.display_warning {
        lines.push(format!("Warning: {warning}."));
    }
    if let SignatureStatus::Invalid(reason) = &summary.status {
        lines.push(format!("Invalid: {reason}"));
    }
    lines
}

fn render(tone: Tone, headline: &str, lines: &[String]) -> String {
    let mut html = format!(
        "<header class=\"smime-banner {}\" role=\"status\"><p class=\"by\">smime-proxy</p><h1>{}</h1><ul>",
        tone.class(),
        escape(headline)
    );
    for line in lines {
        html.push_str("<li>");
        html.push_str(&escape(line));
        html.push_str("</li>");
    }
    html.push_str("</ul></header>\n");
    html
}

#[cfg(test)]
mod tests {
    use super::*;
    use smime_crypto::SignerReport;

    fn signer(status: SignatureStatus) -> SignerReport {
        SignerReport {
            status,
            certificate: None,
            subject: "CN=Alice <x>".into(),
            addresses: vec!["alice@example.test".into()],
            signing_time: Some(std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000)),
            digest: "SHA-256".into(),
            algorithm: "RSA PKCS#1 v1.5".into(),
            chain: None,
            embedded_revocation: Default::default(),
            capabilities: None,
        }
    }

    fn summary(status: SignatureStatus, from_matches: bool) -> SignatureSummary {
        SignatureSummary { status: status.clone(), signer: Some(signer(status)), from_matches, display_warning: None }
    }

    #[test]
    fn valid_signed_and_encrypted() {
        let layers = [Layer::Encrypted { cipher: "AES-256-GCM", authenticated: true, legacy: false }];
        let html = opened(
            &layers,
            Some(&summary(SignatureStatus::Valid, true)),
            Some("Not revoked (OCSP, as of 2026-12-04T10:00:00Z)."),
        );
        assert!(html.contains("class=\"smime-banner good\""));
        assert!(html.contains("Signature valid"));
        assert!(html.contains("Encrypted to you (AES-256-GCM, authenticated)."));
        assert!(html.contains("Signed by alice@example.test (CN=Alice &lt;x&gt;)."), "escaped: {html}");
        assert!(html.contains("matches the From"));
        assert!(html.contains("Signed at 2023-11-14T22:13:20Z."));
        assert!(html.contains("<li>Not revoked (OCSP, as of 2026-12-04T10:00:00Z).</li>"));
    }

    #[test]
    fn a_display_name_showing_another_address_is_not_plainly_good() {
        let mut spoofed = summary(SignatureStatus::Valid, true);
        spoofed.display_warning = Some(
            "the sender's name shows the address boss@example.test, but the message is signed by alice@example.test"
                .into(),
        );
        let html = opened(&[], Some(&spoofed), None);
        assert!(html.contains("class=\"smime-banner neutral\""), "{html}");
        assert!(html.contains("Signature valid, but look at the sender"));
        assert!(
            html.contains("Warning: the sender&#39;s name shows the address boss@example.test")
                || html.contains("Warning: the sender"),
            "{html}"
        );
        assert!(html.contains("Signed by alice@example.test"), "the signer's own address is always shown");
    }

    #[test]
    fn invalid_with_reason_and_cbc_warning() {
        let layers = [Layer::Encrypted { cipher: "AES-128-CBC", authenticated: false, legacy: false }];
        let bad = SignatureStatus::Invalid("the message digest does not match".into());
        let html = opened(&layers, Some(&summary(bad, false)), None);
        assert!(html.contains("smime-banner bad") && html.contains("Signature INVALID"));
        assert!(html.contains("not integrity-protected: remote content is blocked"));
        assert!(html.contains("does NOT match the From"));
        assert!(html.contains("Invalid: the message digest does not match"));
    }

    #[test]
    fn unsigned_and_failures() {
        let layers = [Layer::Encrypted { cipher: "DES-EDE3-CBC", authenticated: false, legacy: true }];
        let html = opened(&layers, None, None);
        assert!(html.contains("smime-banner neutral") && html.contains("Not signed") && html.contains("legacy"));
        let html = failed("Not for your key", &["<b>".into()]);
        assert!(html.contains("smime-banner bad") && html.contains("&lt;b&gt;"));
    }
}
