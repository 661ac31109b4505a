//! Whole messages: the outer header fields (From, To, Cc, Subject, Date, Message-ID, ...)
//! stay outside, the body entity (its `Content-*` fields and body) is signed and/or
//! encrypted (RFC 8551 §3). Opening peels the layers again, outermost first, and sums
//! up the signature: a message is "signed" only when every signature layer covers the
//! whole message and has exactly one valid signer whose address is the From address.

use crate::algorithms::{ID_AUTH_ENVELOPED_DATA, ID_ENVELOPED_DATA, ID_SIGNED_DATA};
use crate::mime::{self, Assembled, Entity};
use crate::{
    Certificate, ContentCipher, DigestAlgorithm, EncryptOptions, Error, Identity, Result, SignOptions, SignatureStatus,
    SignerReport, VerifyOptions, decrypt_data, encrypt_data, sign_data, verify_signed_data,
};
use zeroize::Zeroizing;

/// How many S/MIME layers `open_message` peels at most.
const MAX_LAYERS: usize = 8;

/// Signs the body entity of `message`: `multipart/signed` (detached, the default) or
/// `application/pkcs7-mime; smime-type=signed-data` with `opaque`.
pub fn sign_message(message: &[u8], signer: &Identity, options: &SignOptions, opaque: bool) -> Result<Assembled> {
    protect_message(message, &Protection { sign: Some((signer, options)), encrypt: None, opaque })
}

/// Encrypts the body entity of `message` to `recipients`.
pub fn encrypt_message(message: &[u8], recipients: &[Certificate], options: &EncryptOptions) -> Result<Assembled> {
    protect_message(message, &Protection { sign: None, encrypt: Some((recipients, options)), opaque: false })
}

/// Signs (detached `multipart/signed`), then encrypts the signed entity.
pub fn sign_and_encrypt_message(
    message: &[u8],
    signer: &Identity,
    sign_options: &SignOptions,
    recipients: &[Certificate],
    encrypt_options: &EncryptOptions,
) -> Result<Assembled> {
    let protection =
        Protection { sign: Some((signer, sign_options)), encrypt: Some((recipients, encrypt_options)), opaque: false };
    protect_message(message, &protection)
}

/// What [`protect_entity`] does: sign, encrypt, or sign then encrypt.
#[derive(Debug, Clone, Copy)]
pub struct Protection<'a> {
    /// Sign with this identity.
    pub sign: Option<(&'a Identity, &'a SignOptions)>,
    /// Encrypt to these recipients.
    pub encrypt: Option<(&'a [Certificate], &'a EncryptOptions)>,
    /// Sign as opaque `signed-data` instead of `multipart/signed` (sign only).
    pub opaque: bool,
}

fn protect_message(message: &[u8], protection: &Protection<'_>) -> Result<Assembled> {
    let original = Entity::parse(message)?;
    let entity = Zeroizing::new(mime::body_entity(&original));
    protect_entity(mime::outer_header(&original), entity, protection)
}

/// Signs and/or encrypts a ready-made MIME entity (its header fields, CRLF, a blank line,
/// its body), written after `outer_header` (the message's outer fields, ending with
/// `MIME-Version`). Unlike the `*_message` functions, the entity keeps every field it
/// has: a caller doing header protection (RFC 9788) puts the protected fields there.
pub fn protect_entity(
    outer_header: Vec<u8>,
    entity: Zeroizing<Vec<u8>>,
    protection: &Protection<'_>,
) -> Result<Assembled> {
    match (protection.sign, protection.encrypt) {
        (Some((signer, options)), None) => wrap_signed(outer_header, entity, signer, options, protection.opaque),
        (None, Some((recipients, options))) => wrap_enveloped(outer_header, entity, recipients, options),
        (Some((signer, sign_options)), Some((recipients, encrypt_options))) => {
            let signed = Zeroizing::new(wrap_signed(Vec::new(), entity, signer, sign_options, false)?.to_vec());
            wrap_enveloped(outer_header, signed, recipients, encrypt_options)
        }
        (None, None) => Err(Error::NothingToDo),
    }
}

/// Each wrapper consumes its entity, so that a large message's plaintext copies are
/// wiped and freed as soon as the next layer no longer needs them.
fn wrap_signed(
    header: Vec<u8>,
    entity: Zeroizing<Vec<u8>>,
    signer: &Identity,
    options: &SignOptions,
    opaque: bool,
) -> Result<Assembled> {
    let der = sign_data(&entity, signer, options, !opaque)?;
    if opaque {
        drop(entity);
        Ok(mime::pkcs7_mime_entity(header, "signed-data", der))
    } else {
        Ok(mime::signed_entity(header, entity, der, micalg(options.digest)))
    }
}

fn wrap_enveloped(
    header: Vec<u8>,
    entity: Zeroizing<Vec<u8>>,
    recipients: &[Certificate],
    options: &EncryptOptions,
) -> Result<Assembled> {
    let der = encrypt_data(&entity, recipients, options)?;
    drop(entity);
    let smime_type = match options.cipher {
        ContentCipher::Aes128Gcm | ContentCipher::Aes256Gcm => "authEnveloped-data",
        _ => "enveloped-data",
    };
    Ok(mime::pkcs7_mime_entity(header, smime_type, der))
}

/// The `micalg` parameter for a digest (RFC 8551 §3.5.3.2).
fn micalg(digest: DigestAlgorithm) -> &'static str {
    match digest {
        DigestAlgorithm::Sha256 => "sha-256",
        DigestAlgorithm::Sha384 => "sha-384",
        DigestAlgorithm::Sha512 => "sha-512",
    }
}

/// How to open a message.
#[derive(Debug, Default)]
pub struct OpenOptions<'a> {
    /// The identity to decrypt with, if any.
    pub identity: Option<&'a Identity>,
    /// How signatures are verified.
    pub verify: VerifyOptions,
}

/// One S/MIME layer, outermost first.
#[derive(Debug, Clone)]
pub enum Layer {
    /// An EnvelopedData / AuthEnvelopedData layer that was decrypted.
    Encrypted {
        /// Content cipher name.
        cipher: &'static str,
        /// AuthEnvelopedData (integrity-protected content).
        authenticated: bool,
        /// A legacy cipher (3DES).
        legacy: bool,
    },
    /// A SignedData layer.
    Signed {
        /// multipart/signed (true) or opaque signed-data (false).
        detached: bool,
        /// One report per signer.
        signers: Vec<SignerReport>,
    },
}

/// The signature verdict of a whole message.
#[derive(Debug, Clone)]
pub struct SignatureSummary {
    /// Valid only for exactly one valid signer per layer, matching From.
    pub status: SignatureStatus,
    /// The signer of the outermost reported signature layer, when it has exactly one.
    pub signer: Option<SignerReport>,
    /// Whether one of the signer certificate's addresses is the From address.
    pub from_matches: bool,
    /// A display trick in From that a reader could fall for although the signature is
    /// valid: a display name that shows another address than the signer's.
    pub display_warning: Option<String>,
}

/// An opened message.
#[derive(Debug)]
pub struct Opened {
    /// The layers found, outermost first (empty: not S/MIME at the top level).
    pub layers: Vec<Layer>,
    /// The message's outer header fields followed by the innermost entity, wiped on drop.
    pub message: Zeroizing<Vec<u8>>,
    /// Where the innermost entity starts in `message`.
    content_start: usize,
    /// Present when the message has at least one signature layer.
    pub signature: Option<SignatureSummary>,
}

impl Opened {
    /// The innermost entity (its content fields and body).
    pub fn content(&self) -> &[u8] {
        &self.message[self.content_start..]
    }

    /// True when at least one layer was decrypted.
    pub fn was_encrypted(&self) -> bool {
        self.layers.iter().any(|l| matches!(l, Layer::Encrypted { .. }))
    }
}

/// Peels every S/MIME layer of `message` (decrypting with `options.identity`, verifying
/// signatures), up to a fixed nesting depth. Only layers that cover the whole entity are
/// peeled: a signed part inside an unsigned `multipart/mixed` leaves the message unsigned.
pub fn open_message(message: &[u8], options: &OpenOptions<'_>) -> Result<Opened> {
    let top = Entity::parse(message)?;
    let mut layers = Vec::new();
    let mut inner: Option<Zeroizing<Vec<u8>>> = None;
    // The outer From fields, or else the first inside the layers (e.g. a signed message
    // that was encrypted by a tool that wrote no outer header).
    let from_fields = |entity: &Entity<'_>| -> Vec<String> { entity.fields_named("From").map(|f| f.value()).collect() };
    let mut from = from_fields(&top);
    loop {
        let data: &[u8] = inner.as_deref().map_or(message, |v| v.as_slice());
        let entity = match Entity::parse(data) {
            Ok(entity) => entity,
            // Content that is no MIME entity (e.g. `openssl cms -encrypt` of a text file):
            // header-less, so text/plain by default (RFC 2045 §5.2); nothing more to peel.
            Err(_) if inner.is_some() => {
                let mut entity = Zeroizing::new(Vec::with_capacity(data.len() + 2));
                entity.extend_from_slice(b"\r\n");
                entity.extend_from_slice(data);
                inner = Some(entity);
                break;
            }
            Err(error) => return Err(error),
        };
        if from.is_empty() {
            from = from_fields(&entity);
        }
        let Some((layer, content)) = peel(&entity, options)? else { break };
        if layers.len() == MAX_LAYERS {
            return Err(Error::TooDeep);
        }
        layers.push(layer);
        inner = Some(content);
    }
    let mut readable = Zeroizing::new(mime::outer_header(&top));
    let content_start = readable.len();
    match inner {
        Some(content) => readable.extend_from_slice(&content),
        None => readable.extend_from_slice(&mime::body_entity(&top)),
    }
    let date =
        top.field("Date").and_then(|f| mail_parser::DateTime::parse_rfc822(&f.value())).map(|d| d.to_timestamp());
    let from: Vec<&str> = from.iter().map(String::as_str).collect();
    let signature = summarize(&layers, &from, date);
    Ok(Opened { layers, message: readable, content_start, signature })
}

/// Peels one layer off `entity`, or returns `None` when it is not S/MIME.
fn peel(entity: &Entity<'_>, options: &OpenOptions<'_>) -> Result<Option<(Layer, Zeroizing<Vec<u8>>)>> {
    let content_type = entity.content_type();
    if content_type.mime_type == "multipart/signed" {
        return peel_detached(entity, &content_type, options).map(Some);
    }
    if !is_pkcs7_mime(entity, &content_type) {
        return Ok(None);
    }
    let cms = entity.decoded_body()?;
    let kind = content_info_type(&cms)?;
    if kind == ID_SIGNED_DATA {
        let verified = verify_signed_data(&cms, None, &options.verify)?;
        let layer = Layer::Signed { detached: false, signers: verified.signers };
        Ok(Some((layer, Zeroizing::new(verified.content))))
    } else if kind == ID_ENVELOPED_DATA || kind == ID_AUTH_ENVELOPED_DATA {
        let identity = options.identity.ok_or(Error::KeyRequired)?;
        let decrypted = decrypt_data(&cms, identity)?;
        let layer = Layer::Encrypted {
            cipher: decrypted.cipher,
            authenticated: decrypted.authenticated,
            legacy: decrypted.legacy,
        };
        Ok(Some((layer, decrypted.content)))
    } else {
        Err(Error::Unsupported { what: "CMS content type", oid: kind.to_string() })
    }
}

/// `multipart/signed`: verify the exact bytes of the first part; when that fails, once
/// more in CRLF canonical form (mail stored with bare LF line ends).
fn peel_detached(
    entity: &Entity<'_>,
    content_type: &mime::ContentType,
    options: &OpenOptions<'_>,
) -> Result<(Layer, Zeroizing<Vec<u8>>)> {
    let boundary =
        content_type.param("boundary").ok_or_else(|| Error::Mime("multipart/signed without a boundary".into()))?;
    let parts = mime::split_multipart(entity.body, boundary)?;
    let [signed, signature] = parts.as_slice() else {
        return Err(Error::Mime(format!("multipart/signed has {} parts instead of two", parts.len())));
    };
    let cms = Entity::parse(signature)?.decoded_body()?;
    let mut verified = verify_signed_data(&cms, Some(signed), &options.verify)?;
    let canonical = mime::canonicalize_crlf(signed);
    if !all_valid(&verified.signers) && *canonical != **signed {
        // Keep the canonical reading when it fixes the digest, even if the signer then
        // fails for another reason (an expired or untrusted certificate is the verdict).
        let retried = verify_signed_data(&cms, Some(&canonical), &options.verify)?;
        if all_valid(&retried.signers) || (!digests_match(&verified.signers) && digests_match(&retried.signers)) {
            verified = retried;
        }
    }
    // The verified bytes (canonical when only the canonical form verified) become the content.
    Ok((Layer::Signed { detached: true, signers: verified.signers }, Zeroizing::new(verified.content)))
}

/// No signer failed on the message digest, i.e. these were the bytes that were signed.
fn digests_match(signers: &[SignerReport]) -> bool {
    !signers.iter().any(|s| matches!(&s.status, SignatureStatus::Invalid(r) if r == crate::verify::DIGEST_MISMATCH))
}

fn all_valid(signers: &[SignerReport]) -> bool {
    !signers.is_empty() && signers.iter().all(|s| s.status == SignatureStatus::Valid)
}

/// `application/pkcs7-mime` (and the old `x-` form, and `.p7m` octet streams).
fn is_pkcs7_mime(entity: &Entity<'_>, content_type: &mime::ContentType) -> bool {
    match content_type.mime_type.as_str() {
        "application/pkcs7-mime" | "application/x-pkcs7-mime" => true,
        "application/octet-stream" => {
            let disposition = entity.field("Content-Disposition").map(|f| mime::ContentType::parse(&f.value()));
            [content_type.param("name"), disposition.as_ref().and_then(|d| d.param("filename"))]
                .into_iter()
                .flatten()
                .any(|n| n.to_ascii_lowercase().ends_with(".p7m"))
        }
        _ => false,
    }
}

/// The contentType OID of a BER or DER ContentInfo, read without parsing the rest.
fn content_info_type(cms: &[u8]) -> Result<der::asn1::ObjectIdentifier> {
    let not_cms = || Error::malformed("CMS ContentInfo", "it does not start with SEQUENCE { OBJECT IDENTIFIER ... }");
    let (&tag, rest) = cms.split_first().ok_or_else(not_cms)?;
    let (&first_len, rest) = rest.split_first().ok_or_else(not_cms)?;
    let skip = match first_len {
        0x80 => 0,
        n if n < 0x80 => 0,
        n => usize::from(n & 0x7f),
    };
    let rest = rest.get(skip..).ok_or_else(not_cms)?;
    match (tag, rest) {
        (0x30, [0x06, len, oid @ ..]) if usize::from(*len) <= oid.len() && *len < 0x80 => {
            der::asn1::ObjectIdentifier::from_bytes(&oid[..usize::from(*len)]).map_err(|_| not_cms())
        }
        _ => Err(not_cms()),
    }
}

/// Sums up the signature layers (see the module docs), as Thunderbird does:
/// - an outermost signature directly over an encryption layer is a transport signature
///   (e.g. added by a gateway; it vouches for ciphertext) and is not reported (bug 1806161);
/// - the From address is matched against the outermost signer, the sender; a message with
///   several From fields, or a From with several mailboxes, is never valid for any of them,
///   and a display name showing another address than the signer's is a warning (the
///   "Johnny, you are fired" display tricks, USENIX Security 2019);
/// - a signing time more than an hour away from the parsed Date header (`date`, Unix
///   seconds) makes the signature invalid (no check without a readable Date).
fn summarize(layers: &[Layer], from: &[&str], date: Option<i64>) -> Option<SignatureSummary> {
    let transport = usize::from(matches!(layers, [Layer::Signed { .. }, Layer::Encrypted { .. }, ..]));
    let signed: Vec<&Vec<SignerReport>> = layers[transport..]
        .iter()
        .filter_map(|l| match l {
            Layer::Signed { signers, .. } => Some(signers),
            Layer::Encrypted { .. } => None,
        })
        .collect();
    let outermost = signed.first()?;
    let signer = match outermost.as_slice() {
        [one] => Some(one.clone()),
        _ => None,
    };
    let mailboxes = from.first().map(|value| mailboxes(value)).unwrap_or_default();
    let from_address = match mailboxes.as_slice() {
        [(_, address)] => Some(address.clone()),
        _ => None,
    };
    let from_matches = match (&signer, &from_address) {
        (Some(s), Some(addr)) => s.addresses.iter().any(|a| a.eq_ignore_ascii_case(addr)),
        _ => false,
    };
    let display_warning = match (&signer, mailboxes.as_slice()) {
        (Some(s), [(Some(name), _)]) => addresses_in(name)
            .into_iter()
            .find(|shown| !s.addresses.iter().any(|a| a.eq_ignore_ascii_case(shown)))
            .map(|shown| {
                format!(
                    "the sender's name shows the address {shown}, but the message is signed by {}",
                    s.addresses.first().map_or("a certificate without an address", String::as_str)
                )
            }),
        _ => None,
    };
    let mut status = SignatureStatus::Valid;
    if from.len() > 1 {
        status = SignatureStatus::Invalid(format!(
            "the message has {} From fields (RFC 5322 allows one): a reader may be shown any of them",
            from.len()
        ));
    } else if mailboxes.len() > 1 {
        status = SignatureStatus::Invalid(format!(
            "the From field names {} mailboxes ({}): one signature cannot vouch for all of them",
            mailboxes.len(),
            mailboxes.iter().map(|(_, a)| a.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    for signers in signed.iter().filter(|_| status == SignatureStatus::Valid) {
        let problem = match signers.as_slice() {
            [one] => match &one.status {
                SignatureStatus::Valid => None,
                SignatureStatus::Invalid(reason) => Some(reason.clone()),
            },
            many => Some(format!("the message has {} signers where exactly one is required", many.len())),
        };
        let problem = problem.or_else(|| signers.iter().find_map(|s| date_mismatch(s.signing_time, date?)));
        if let Some(reason) = problem {
            status = SignatureStatus::Invalid(reason);
            break;
        }
    }
    if status == SignatureStatus::Valid && !from_matches {
        let reason = match (&from_address, &signer) {
            (None, _) => "the message has no From address to match the signer against".to_string(),
            (Some(addr), Some(s)) => format!(
                "the signer's certificate is for {}, not for the From address {addr}",
                if s.addresses.is_empty() { "no e-mail address".to_string() } else { s.addresses.join(", ") }
            ),
            (Some(_), None) => "the signer is unknown".to_string(),
        };
        status = SignatureStatus::Invalid(reason);
    }
    Some(SignatureSummary { status, signer, from_matches, display_warning })
}

/// Thunderbird's tolerance between signingTime and the Date header.
const MAX_DATE_SKEW_SECONDS: u64 = 60 * 60;

/// Why a signing time does not fit the message's Date (Unix seconds), if it does not.
fn date_mismatch(signing_time: Option<std::time::SystemTime>, date: i64) -> Option<String> {
    let signed = i64::try_from(signing_time?.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs()).ok()?;
    (signed.abs_diff(date) > MAX_DATE_SKEW_SECONDS)
        .then(|| "the signing time is more than an hour away from the message's Date header".to_string())
}

/// The mailboxes of a From field value as (display name, address), groups flattened,
/// read by mail-parser as a header would be.
fn mailboxes(value: &str) -> Vec<(Option<String>, String)> {
    let raw = format!("From: {}\r\n\r\n", value.replace(['\r', '\n'], " "));
    let Some(message) = mail_parser::MessageParser::default().parse_headers(raw.as_bytes()) else { return Vec::new() };
    let Some(from) = message.from() else { return Vec::new() };
    from.iter()
        .filter_map(|mailbox| {
            let address = mailbox.address()?.trim();
            address.contains('@').then(|| {
                (mailbox.name().map(str::trim).filter(|n| !n.is_empty()).map(str::to_owned), address.to_owned())
            })
        })
        .collect()
}

/// Address-like words (`local@domain.tld`) in a display name.
fn addresses_in(name: &str) -> Vec<String> {
    name.split(|c: char| c.is_whitespace() || "<>\"'(),;[]:".contains(c))
        .filter(|word| word.split_once('@').is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.')))
        .map(|word| word.trim_end_matches('.').to_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_content_type_of_der_and_ber() {
        let der = [0x30, 0x0b, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
        assert_eq!(content_info_type(&der).expect("der"), ID_SIGNED_DATA);
        let ber = [0x30, 0x80, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x03, 0, 0];
        assert_eq!(content_info_type(&ber).expect("ber"), ID_ENVELOPED_DATA);
        for bad in [&[][..], &[0x30], &[0x30, 0x84], &[0x31, 0x03, 0x06, 0x01, 0x01], &[0x30, 0x05, 0x06, 0x09]] {
            assert!(content_info_type(bad).is_err());
        }
    }

    fn signed_by(address: &str, valid: bool, signing_time: i64) -> Layer {
        let report = SignerReport {
            status: if valid { SignatureStatus::Valid } else { SignatureStatus::Invalid("bad".into()) },
            certificate: None,
            subject: String::new(),
            addresses: vec![address.to_string()],
            signing_time: Some(std::time::UNIX_EPOCH + std::time::Duration::from_secs(signing_time.unsigned_abs())),
            digest: String::new(),
            algorithm: String::new(),
            chain: None,
            embedded_revocation: Default::default(),
            capabilities: None,
        };
        Layer::Signed { detached: false, signers: vec![report] }
    }

    const ENCRYPTED: Layer = Layer::Encrypted { cipher: "AES-256-CBC", authenticated: false, legacy: false };

    #[test]
    fn issue_9_summary_follows_thunderbird() {
        let t: i64 = 1_769_438_407; // 2026-01-26T14:40:07Z
        // Re-signed by Dave: the outer signer is the sender matched against From.
        let nested = [signed_by("dave@x", true, t), signed_by("alice@x", true, t)];
        let summary = summarize(&nested, &["Dave <dave@x>"], Some(t)).expect("signed");
        assert_eq!(summary.status, SignatureStatus::Valid);
        assert_eq!(summary.signer.expect("signer").addresses, ["dave@x"]);
        // A bad outermost signature over an envelope is a transport signature: ignored...
        let transport = [signed_by("mta@x", false, t), ENCRYPTED, signed_by("alice@x", true, t)];
        let summary = summarize(&transport, &["alice@x"], None).expect("inner signature");
        assert_eq!(summary.status, SignatureStatus::Valid);
        assert!(summarize(&transport[..2], &["alice@x"], None).is_none());
        // ...but not when it is deeper, nor when the encryption is not its direct child.
        let deeper = [signed_by("dave@x", true, t), signed_by("alice@x", false, t), ENCRYPTED];
        assert_ne!(summarize(&deeper, &["dave@x"], None).expect("signed").status, SignatureStatus::Valid);
        // Date more than an hour from the signing time (alice.future.dsig...): invalid.
        let one = [signed_by("alice@x", true, t)];
        assert_eq!(summarize(&one, &["alice@x"], Some(t + 3600)).expect("signed").status, SignatureStatus::Valid);
        let late = summarize(&one, &["alice@x"], Some(t + 6 * 3600)).expect("signed");
        assert!(matches!(late.status, SignatureStatus::Invalid(r) if r.contains("Date")));
    }

    #[test]
    fn finds_the_from_mailboxes() {
        let address = |value: &str| mailboxes(value).into_iter().map(|(_, a)| a).collect::<Vec<_>>();
        assert_eq!(address("Alice <alice@example.test>"), ["alice@example.test"]);
        assert_eq!(address("alice@example.test"), ["alice@example.test"]);
        assert_eq!(address("\"a <b>\" <c@d>"), ["c@d"]);
        assert!(address("undisclosed").is_empty());
        assert_eq!(address("a@x.example, b@y.example"), ["a@x.example", "b@y.example"]);
        assert_eq!(address("Team: a@x.example, b@y.example;"), ["a@x.example", "b@y.example"]);
    }

    #[test]
    fn sender_display_tricks_are_never_plainly_valid() {
        let eve = [signed_by("eve@corp.example", true, 0)];
        let summary = |from: &[&str]| summarize(&eve, from, None).expect("signed");
        let plain = summary(&["Eve <eve@corp.example>"]);
        assert_eq!((plain.status, plain.display_warning), (SignatureStatus::Valid, None));
        let own = summary(&["\"Eve (eve@corp.example)\" <eve@corp.example>"]);
        assert_eq!(own.display_warning, None, "the signer's own address in the name is fine");

        let shown = summary(&["\"manager@corp.example\" <eve@corp.example>"]);
        assert_eq!(shown.status, SignatureStatus::Valid, "the signature itself is eve's and correct");
        let warning = shown.display_warning.expect("flagged");
        assert!(warning.contains("manager@corp.example") && warning.contains("eve@corp.example"), "{warning}");

        let two_mailboxes = summary(&["eve@corp.example, manager@corp.example"]);
        assert!(matches!(two_mailboxes.status, SignatureStatus::Invalid(r) if r.contains("2 mailboxes")));
        let two_fields = summary(&["eve@corp.example", "manager@corp.example"]);
        assert!(matches!(two_fields.status, SignatureStatus::Invalid(r) if r.contains("2 From fields")));
        let none = summary(&[]);
        assert!(matches!(none.status, SignatureStatus::Invalid(r) if r.contains("no From address")));
    }
}
