//! Conformance of the S/MIME engine against the peers' test corpora (issue 9).
//!
//! Every corpus file with a stated verdict (Thunderbird/NSS, NSS interop, OpenSSL,
//! RFC 4134 via Bouncy Castle's copy, smime-rs, Bouncy Castle's SignedMailValidator set;
//! see `tests/data/corpora/README.md`) is one row of `conformance/cases.rs`: the operation
//! (open a message, decrypt or verify a raw CMS blob, with the named key, anchors, time
//! and SHA-1 policy) and the verdict its upstream states. Each row is run, its outcome
//! compared with the stated verdict; where our policy deliberately differs, the row is in
//! `conformance/deliberate.rs` with our own expected verdict and the reason, and the
//! outcome must match that instead. Anything else — a disagreement, an error where a
//! verdict was expected, a panic, a stale deliberate entry — fails the test, after a
//! summary table per source has been printed (`cargo test --test conformance -- --nocapture`).

#[path = "conformance/cases.rs"]
mod cases;
#[path = "conformance/deliberate.rs"]
mod deliberate;

use smime_crypto::{
    Identity, Layer, OpenOptions, PrivateKey, SignatureStatus, SignerReport, TrustOptions, VerifyOptions,
    load_certificates, open_message, pkcs12,
};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::SystemTime;

/// Where a corpus file comes from (one line of the summary each).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Source {
    Thunderbird,
    Nss,
    OpenSsl,
    Rfc4134,
    SmimeRs,
    BouncyCastle,
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Self::Thunderbird => "Thunderbird (comm-central)",
            Self::Nss => "NSS interop (nss)",
            Self::OpenSsl => "OpenSSL",
            Self::Rfc4134 => "RFC 4134 (bc-test-data)",
            Self::SmimeRs => "smime-rs",
            Self::BouncyCastle => "Bouncy Castle (bc-java)",
        }
    }

    /// The folder under `tests/data/corpora/`.
    fn dir(self) -> &'static str {
        match self {
            Self::Thunderbird => "comm-central",
            Self::Nss => "nss",
            Self::OpenSsl => "openssl",
            Self::Rfc4134 => "bc-test-data",
            Self::SmimeRs => "smime-rs",
            Self::BouncyCastle => "bc-java",
        }
    }
}

/// A private key with its certificate, by corpus path (relative to the source folder).
#[derive(Debug, Clone, Copy)]
pub enum Key {
    /// A PKCS#12 file and its password.
    P12(&'static str, &'static str),
    /// A PEM private key (PKCS#8/PKCS#1/SEC1) and a PEM certificate file (may be the same).
    Pem(&'static str, &'static str),
    /// A DER PKCS#8 key and a DER certificate.
    Der(&'static str, &'static str),
}

/// How signatures are checked in a row.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    /// Trust anchors (PEM or DER certificate files).
    pub anchors: &'static [&'static str],
    /// CRL files (DER or PEM).
    pub crls: &'static [&'static str],
    /// Validate as of this RFC 3339 time (None: now).
    pub at: Option<&'static str>,
    /// Accept SHA-1 signatures.
    pub allow_sha1: bool,
}

/// No anchors, now, SHA-1 refused.
pub const NO_TRUST: Policy = Policy { anchors: &[], crls: &[], at: None, allow_sha1: false };

/// What a row does with its file.
#[derive(Debug, Clone, Copy)]
pub enum Op {
    /// `open_message` on an RFC 5322 message (decrypting with the key, if any).
    Open { key: Option<Key>, policy: Policy },
    /// `decrypt_data` on a raw (DER, BER or PEM) CMS EnvelopedData/AuthEnvelopedData.
    Decrypt { key: Key },
    /// `verify_signed_data` on a raw CMS SignedData, optionally with detached content.
    Verify { detached: Option<&'static str>, policy: Policy },
    /// `verify_signed_data` on a certs-only SignedData (no content, no signers).
    CertsOnly,
    /// `ber::to_der` on a ContentInfo(Data), whose content must then be the given file.
    DataContent { content: &'static str },
}

/// A verdict, stated by an upstream or expected by us.
#[derive(Debug, Clone, Copy)]
pub enum Verdict {
    /// Signed (and, if `encrypted`, decrypted); the message-level signature is valid and
    /// the signer has this address; the content contains `text`.
    Good { signer: &'static str, encrypted: bool, text: &'static str },
    /// The message-level signature is invalid, for a reason containing `reason`
    /// (case-insensitive; "" for any); encryption as stated; content contains `text`.
    Bad { reason: &'static str, encrypted: bool, text: &'static str },
    /// Every signature verifies cryptographically (signed attributes, message digest,
    /// signature value) — the upstream checks no certificate path or From; a signer
    /// address is checked when given.
    SignatureVerifies { signer: Option<&'static str>, text: &'static str },
    /// Decrypted, no signature reported; the content contains `text`.
    Decrypts { text: &'static str },
    /// Neither decrypted nor signed at the message level; the content does not contain `absent`.
    Unprotected { absent: &'static str },
    /// A clean error whose message contains `reason` (case-insensitive; "" for any).
    Error { reason: &'static str },
    /// Fails cleanly: an error or an invalid signature, never a valid one, never a panic.
    Fails,
    /// The structure parses (certs-only: this many certificates; data: the content matches).
    Parses { certificates: usize },
}

/// One corpus file run one way.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    pub source: Source,
    /// Path under the source folder.
    pub file: &'static str,
    /// Distinguishes runs of the same file ("default", "sha1-allowed", "Fran-ec", ...).
    pub variant: &'static str,
    pub op: Op,
    /// What the upstream (or the corpora README's own check) states.
    pub stated: Verdict,
}

/// What a row actually gave.
#[derive(Debug)]
enum Outcome {
    Done(Done),
    Error(String),
    Panic(String),
}

#[derive(Debug)]
struct Done {
    encrypted: bool,
    /// Every signer report, outermost layer first.
    signers: Vec<SignerReport>,
    /// The message-level verdict (open_message's summary; for raw CMS: one valid signer).
    summary: Option<(SignatureStatus, Vec<String>)>,
    content: Vec<u8>,
    certificates: usize,
}

fn data_path(source: Source, file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("data/corpora").join(source.dir()).join(file)
}

fn read(source: Source, file: &str) -> Vec<u8> {
    std::fs::read(data_path(source, file)).unwrap_or_else(|e| panic!("{}/{file}: {e}", source.dir()))
}

/// PEM-armoured CMS ("-----BEGIN CMS-----", "PKCS7") or base64 without armour → DER.
fn cms_bytes(data: Vec<u8>) -> Vec<u8> {
    if data.windows(11).any(|w| w == b"-----BEGIN ") {
        let text = String::from_utf8_lossy(&data);
        let start = text.find("-----BEGIN ").unwrap_or(0);
        if let Ok((_, der)) = pem_rfc7468::decode_vec(text[start..].trim_end().as_bytes()) {
            return der;
        }
    }
    // Base64 without armour (OpenSSL's test/pkcs7.pem): re-flow it into a PEM block.
    let text: Vec<u8> = data.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    if !text.is_empty() && text.iter().all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(b)) {
        let mut pem = String::from("-----BEGIN PKCS7-----\n");
        for line in text.chunks(64) {
            pem.push_str(&String::from_utf8_lossy(line));
            pem.push('\n');
        }
        pem.push_str("-----END PKCS7-----\n");
        if let Ok((_, der)) = pem_rfc7468::decode_vec(pem.as_bytes()) {
            return der;
        }
    }
    data
}

fn rfc3339(at: &str) -> SystemTime {
    time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).expect("valid RFC 3339 time").into()
}

fn identity(source: Source, key: Key) -> smime_crypto::Result<Identity> {
    match key {
        Key::P12(file, password) => pkcs12::read_identity(&read(source, file), password.as_bytes()),
        Key::Pem(key_file, cert_file) => {
            let text = String::from_utf8(read(source, key_file)).expect("PEM key is text");
            let key = PrivateKey::from_pem(&text, None)?;
            let mut certs = load_certificates(&read(source, cert_file))?;
            Identity::new(key, certs.remove(0), certs)
        }
        Key::Der(key_file, cert_file) => {
            let key = PrivateKey::from_pkcs8_der(&read(source, key_file))?;
            let mut certs = load_certificates(&read(source, cert_file))?;
            Identity::new(key, certs.remove(0), certs)
        }
    }
}

fn verify_options(source: Source, policy: &Policy) -> smime_crypto::Result<VerifyOptions> {
    let mut trust = TrustOptions::default();
    for anchor in policy.anchors {
        trust.anchors.extend(load_certificates(&read(source, anchor))?);
    }
    for crl in policy.crls {
        trust.crls.push(read(source, crl));
    }
    Ok(VerifyOptions { trust, at: policy.at.map(rfc3339), allow_sha1: policy.allow_sha1 })
}

fn run(case: &Case) -> Outcome {
    let case = *case;
    match std::panic::catch_unwind(move || execute(&case)) {
        Ok(Ok(done)) => Outcome::Done(done),
        Ok(Err(error)) => Outcome::Error(error.to_string()),
        Err(panic) => Outcome::Panic(
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default(),
        ),
    }
}

fn execute(case: &Case) -> smime_crypto::Result<Done> {
    let source = case.source;
    match case.op {
        Op::Open { key, policy } => {
            let message = read(source, case.file);
            let identity = key.map(|k| identity(source, k)).transpose()?;
            let verify = verify_options(source, &policy)?;
            let opened = open_message(&message, &OpenOptions { identity: identity.as_ref(), verify })?;
            let signers = opened
                .layers
                .iter()
                .flat_map(|l| match l {
                    Layer::Signed { signers, .. } => signers.clone(),
                    Layer::Encrypted { .. } => Vec::new(),
                })
                .collect();
            Ok(Done {
                encrypted: opened.was_encrypted(),
                signers,
                content: opened.content().to_vec(),
                summary: opened.signature.map(|s| (s.status, s.signer.map(|r| r.addresses).unwrap_or_default())),
                certificates: 0,
            })
        }
        Op::Decrypt { key } => {
            let cms = cms_bytes(read(source, case.file));
            let identity = identity(source, key)?;
            let decrypted = smime_crypto::decrypt_data(&cms, &identity)?;
            Ok(Done {
                encrypted: true,
                signers: Vec::new(),
                summary: None,
                content: decrypted.content.to_vec(),
                certificates: 0,
            })
        }
        Op::Verify { detached, policy } => {
            let detached = detached.map(|f| read(source, f));
            let options = verify_options(source, &policy)?;
            let verified =
                smime_crypto::verify_signed_data(&cms_bytes(read(source, case.file)), detached.as_deref(), &options)?;
            let summary = match verified.signers.as_slice() {
                [one] => Some((one.status.clone(), one.addresses.clone())),
                [] => None,
                many => Some((
                    many.iter()
                        .find(|s| s.status != SignatureStatus::Valid)
                        .map_or(SignatureStatus::Valid, |s| s.status.clone()),
                    Vec::new(),
                )),
            };
            Ok(Done {
                encrypted: false,
                signers: verified.signers,
                summary,
                content: verified.content,
                certificates: verified.certificates.len(),
            })
        }
        Op::CertsOnly => {
            let verified = smime_crypto::verify_signed_data(
                &cms_bytes(read(source, case.file)),
                Some(b""),
                &VerifyOptions::default(),
            )?;
            if !verified.signers.is_empty() {
                return Err(smime_crypto::Error::NotSmime("expected no signers".into()));
            }
            Ok(Done {
                encrypted: false,
                signers: Vec::new(),
                summary: None,
                content: Vec::new(),
                certificates: verified.certificates.len(),
            })
        }
        Op::DataContent { content } => {
            let der = smime_crypto::ber::to_der(&read(source, case.file))?;
            let expected = read(source, content);
            // ContentInfo ::= SEQUENCE { id-data, [0] EXPLICIT OCTET STRING }: the DER ends
            // with the OCTET STRING's value.
            if !der.ends_with(&expected) || der.len() > expected.len() + 32 {
                return Err(smime_crypto::Error::NotSmime("the Data content differs".into()));
            }
            Ok(Done { encrypted: false, signers: Vec::new(), summary: None, content: expected, certificates: 0 })
        }
    }
}

fn has(haystack: &[u8], needle: &str) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle.as_bytes())
}

fn icontains(text: &str, needle: &str) -> bool {
    text.to_lowercase().contains(&needle.to_lowercase())
}

/// A signer whose signature value and digests verified: valid, or refused only by the
/// certificate checks that come after the signature check (path, validity, key usage).
fn signature_verified(report: &SignerReport) -> bool {
    match &report.status {
        SignatureStatus::Valid => true,
        SignatureStatus::Invalid(reason) => {
            (reason.starts_with("the signer's certificate ") && !reason.contains("not included"))
                || reason.starts_with("the signing time lies outside")
        }
    }
}

/// Compares an outcome with a verdict; `Err` says how they differ.
fn matches(verdict: &Verdict, outcome: &Outcome) -> Result<(), String> {
    let done = match (verdict, outcome) {
        (_, Outcome::Panic(message)) => return Err(format!("PANIC: {message}")),
        (Verdict::Error { reason }, Outcome::Error(message)) => {
            return if icontains(message, reason) { Ok(()) } else { Err(format!("error \"{message}\"")) };
        }
        (Verdict::Fails, Outcome::Error(_)) => return Ok(()),
        (_, Outcome::Error(message)) => return Err(format!("error \"{message}\"")),
        (_, Outcome::Done(done)) => done,
    };
    let status = |s: &Option<(SignatureStatus, Vec<String>)>| match s {
        None => "no signature".to_string(),
        Some((SignatureStatus::Valid, a)) => format!("valid by {}", a.join(",")),
        Some((SignatureStatus::Invalid(r), _)) => format!("invalid: {r}"),
    };
    let describe = || {
        format!(
            "{}{} ({} certificates)",
            if done.encrypted { "decrypted, " } else { "" },
            status(&done.summary),
            done.certificates
        )
    };
    let ok = match verdict {
        Verdict::Good { signer, encrypted, text } => {
            done.encrypted == *encrypted
                && has(&done.content, text)
                && matches!(&done.summary, Some((SignatureStatus::Valid, a)) if a.iter().any(|a| a.eq_ignore_ascii_case(signer)))
        }
        Verdict::Bad { reason, encrypted, text } => {
            done.encrypted == *encrypted
                && has(&done.content, text)
                && matches!(&done.summary, Some((SignatureStatus::Invalid(r), _)) if icontains(r, reason))
        }
        Verdict::SignatureVerifies { signer, text } => {
            !done.signers.is_empty()
                && done.signers.iter().all(signature_verified)
                && has(&done.content, text)
                && signer.is_none_or(|s| done.signers.iter().any(|r| r.addresses.iter().any(|a| a == s)))
        }
        Verdict::Decrypts { text } => done.encrypted && done.summary.is_none() && has(&done.content, text),
        Verdict::Unprotected { absent } => {
            !done.encrypted && done.summary.is_none() && (absent.is_empty() || !has(&done.content, absent))
        }
        Verdict::Error { .. } => false,
        Verdict::Fails => !matches!(done.summary, Some((SignatureStatus::Valid, _))) && !done.encrypted,
        Verdict::Parses { certificates } => done.certificates == *certificates,
    };
    if ok { Ok(()) } else { Err(describe()) }
}

#[derive(Default)]
struct Tally {
    checked: usize,
    agreed: usize,
    deliberate: usize,
    failures: usize,
}

#[test]
fn corpora_conformance() {
    let cases = cases::all();
    let deliberate = deliberate::all();
    let mut used = vec![false; deliberate.len()];
    let mut tallies: BTreeMap<Source, Tally> = BTreeMap::new();
    let mut failures = Vec::new();
    let mut seen = std::collections::HashSet::new();

    for case in &cases {
        assert!(seen.insert((case.source, case.file, case.variant)), "duplicate row {} {}", case.file, case.variant);
        let outcome = run(case);
        let tally = tallies.entry(case.source).or_default();
        tally.checked += 1;
        let exception = deliberate.iter().position(|d| d.file == case.file && d.variant == case.variant);
        let stated = matches(&case.stated, &outcome);
        match (exception, stated) {
            (None, Ok(())) => tally.agreed += 1,
            (None, Err(got)) => {
                tally.failures += 1;
                failures.push(format!("{} [{}]: stated {:?}, got {got}", case.file, case.variant, case.stated));
            }
            (Some(i), Ok(())) => {
                used[i] = true;
                tally.failures += 1;
                failures.push(format!(
                    "{} [{}]: listed as a deliberate difference but agrees with the stated verdict; remove the entry",
                    case.file, case.variant
                ));
            }
            (Some(i), Err(_)) => {
                used[i] = true;
                match matches(&deliberate[i].ours, &outcome) {
                    Ok(()) => tally.deliberate += 1,
                    Err(got) => {
                        tally.failures += 1;
                        failures.push(format!(
                            "{} [{}]: deliberate difference expects {:?}, got {got}",
                            case.file, case.variant, deliberate[i].ours
                        ));
                    }
                }
            }
        }
    }
    for (entry, used) in deliberate.iter().zip(&used) {
        if !used {
            failures.push(format!("deliberate entry {} [{}] matches no row", entry.file, entry.variant));
        }
    }

    println!("\nConformance against the peers' corpora");
    println!("{:<28} {:>7} {:>7} {:>11} {:>9}", "source", "checked", "agreed", "deliberate", "failures");
    let mut total = Tally::default();
    for (source, tally) in &tallies {
        println!(
            "{:<28} {:>7} {:>7} {:>11} {:>9}",
            source.name(),
            tally.checked,
            tally.agreed,
            tally.deliberate,
            tally.failures
        );
        total.checked += tally.checked;
        total.agreed += tally.agreed;
        total.deliberate += tally.deliberate;
        total.failures += tally.failures;
    }
    println!("{:<28} {:>7} {:>7} {:>11} {:>9}", "total", total.checked, total.agreed, total.deliberate, total.failures);
    println!("\nDeliberate differences ({}):", deliberate.len());
    for entry in &deliberate {
        println!("  {} [{}]: {}", entry.file, entry.variant, entry.reason);
    }
    for failure in &failures {
        println!("FAIL {failure}");
    }
    assert!(failures.is_empty(), "{} conformance failures (see the list above)", failures.len());
}
