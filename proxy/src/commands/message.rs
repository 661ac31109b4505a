//! `smime-proxy message sign|encrypt|sign-encrypt|decrypt|verify|verify-form|verify-page`: the S/MIME engine on
//! whole RFC 5322 messages from files or stdin, for scripts and debugging. Output is
//! written only once the whole operation succeeded: never partial plaintext.

use crate::cli::{CipherArg, KeyTransportArg, MessageArgs, MessageCommand, VerifyFormArgs};
use anyhow::{Context, Result, anyhow, bail};
use smime_crypto::{
    Certificate, ContentCipher, EncryptOptions, Identity, KeyTransport, OpenOptions, Opened, PrivateKey, SignOptions,
    SignatureStatus, SignerReport, TrustOptions, VerifyOptions, load_certificates, pkcs12,
};
use smime_proxy::private_file::Durability;
use smime_proxy::store::{KeyStore, StoreError};
use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;
use zeroize::Zeroizing;

/// Runs one `message` command (`dir` holds the key store for `--from-store`).
pub fn run(dir: &Path, command: MessageCommand) -> Result<ExitCode> {
    match command {
        MessageCommand::Sign(args) => {
            let signer = signer_identity(dir, &args)?;
            let input = read_input(&args)?;
            let output = smime_crypto::sign_message(&input, &signer, &SignOptions::default(), args.opaque)?;
            write_output(&args, |out| output.write_to(out))?;
        }
        MessageCommand::Encrypt(args) => {
            let recipients = recipients(&args)?;
            let input = read_input(&args)?;
            let output = smime_crypto::encrypt_message(&input, &recipients, &encrypt_options(&args))?;
            write_output(&args, |out| output.write_to(out))?;
        }
        MessageCommand::SignEncrypt(args) => {
            let signer = signer_identity(dir, &args)?;
            let recipients = recipients(&args)?;
            let input = read_input(&args)?;
            let output = smime_crypto::sign_and_encrypt_message(
                &input,
                &signer,
                &SignOptions::default(),
                &recipients,
                &encrypt_options(&args),
            )?;
            write_output(&args, |out| output.write_to(out))?;
        }
        MessageCommand::Decrypt(args) => return decrypt(dir, &args),
        MessageCommand::Verify(args) => return verify(&args),
        MessageCommand::VerifyForm(args) => return verify_form(&args),
        MessageCommand::VerifyPage(args) => return verify_page(&args),
    }
    Ok(ExitCode::SUCCESS)
}

fn decrypt(dir: &Path, args: &MessageArgs) -> Result<ExitCode> {
    let identity = match &args.from_store {
        Some(address) => store_identity(dir, address, args)?,
        None => {
            let key = args
                .key
                .as_deref()
                .ok_or_else(|| anyhow!("decrypt needs the private key: --key KEY.pem|KEY.p12 or --from-store EMAIL"))?;
            load_identity(key, args.cert.as_deref(), "--cert", args.passphrase_file.as_deref())?
        }
    };
    let verify = verify_options(args)?;
    let input = read_input(args)?;
    let opened = smime_crypto::open_message(&input, &OpenOptions { identity: Some(&identity), verify })?;
    if !opened.was_encrypted() {
        bail!("the message is not encrypted");
    }
    if !args.trust.is_empty()
        && let Some(summary) = &opened.signature
    {
        report(summary.signer.as_ref(), &summary.status, &mut std::io::stderr())?;
        if let SignatureStatus::Invalid(reason) = &summary.status {
            bail!("the signature inside the message is not valid: {reason}");
        }
    }
    write_output(args, |out| out.write_all(&opened.message))?;
    Ok(ExitCode::SUCCESS)
}

fn verify(args: &MessageArgs) -> Result<ExitCode> {
    let identity = match args.key.as_deref() {
        Some(key) => Some(load_identity(key, args.cert.as_deref(), "--cert", args.passphrase_file.as_deref())?),
        None => None,
    };
    let verify = verify_options(args)?;
    let input = read_input(args)?;
    let opened: Opened = smime_crypto::open_message(&input, &OpenOptions { identity: identity.as_ref(), verify })?;
    let Some(summary) = &opened.signature else { bail!("the message is not signed") };
    report(summary.signer.as_ref(), &summary.status, &mut std::io::stdout())?;
    if summary.status != SignatureStatus::Valid {
        return Ok(ExitCode::FAILURE);
    }
    if args.output.is_some() {
        write_output(args, |out| out.write_all(&opened.message))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `message verify-form`: the canonical form of the stored body checked against the
/// detached signature in its signature field.
fn verify_form(args: &VerifyFormArgs) -> Result<ExitCode> {
    let verify = verify_options(&args.message)?;
    let input = read_input(&args.message)?;
    let (canonical, der) =
        smime_proxy::flows::signed_forms::signed_record(Some(&args.content_type), &input, &args.field)
            .map_err(|reason| anyhow!("{reason}"))?;
    let verified = smime_crypto::verify_signed_data(&der, Some(&canonical), &verify)?;
    let (signer, status) = single_signer(&verified);
    report(signer, &status, &mut std::io::stdout())?;
    if status != SignatureStatus::Valid {
        return Ok(ExitCode::FAILURE);
    }
    if args.message.output.is_some() {
        write_output(&args.message, |out| out.write_all(&canonical))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `message verify-page`: a page record's signature, then the URL and time it signs.
fn verify_page(args: &MessageArgs) -> Result<ExitCode> {
    let verify = verify_options(args)?;
    let input = read_input(args)?;
    let der = match std::str::from_utf8(&input).ok().filter(|text| text.contains(smime_crypto::armor::BEGIN)) {
        Some(text) => match smime_crypto::armor::find(text).as_slice() {
            [found] => found.der.clone().map_err(|reason| anyhow!("{reason}"))?,
            _ => bail!("the file does not hold exactly one CMS armor"),
        },
        None => input.to_vec(),
    };
    let record = smime_crypto::page_record::read_page_record(&der)?;
    let verified = smime_crypto::verify_signed_data(&der, None, &verify)?;
    let (signer, status) = single_signer(&verified);
    let mut out = std::io::stdout();
    writeln!(out, "URL: {}", record.url)?;
    writeln!(out, "Received at: {}", smime_proxy::timestamp::rfc3339(record.received))?;
    report(signer, &status, &mut out)?;
    if status != SignatureStatus::Valid {
        return Ok(ExitCode::FAILURE);
    }
    if args.output.is_some() {
        write_output(args, |out| out.write_all(&verified.content))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The one signer of a record and its verdict (another number of signers is INVALID).
fn single_signer(verified: &smime_crypto::Verified) -> (Option<&SignerReport>, SignatureStatus) {
    match verified.signers.as_slice() {
        [one] => (Some(one), one.status.clone()),
        many => (None, SignatureStatus::Invalid(format!("{} signers where exactly one is required", many.len()))),
    }
}

/// Prints the verdict: status, signer address and subject, signing time, anchor.
fn report(signer: Option<&SignerReport>, status: &SignatureStatus, out: &mut dyn Write) -> Result<()> {
    match status {
        SignatureStatus::Valid => writeln!(out, "Signature: valid")?,
        SignatureStatus::Invalid(reason) => writeln!(out, "Signature: INVALID: {reason}")?,
    }
    if let Some(signer) = signer {
        let addresses = if signer.addresses.is_empty() { "(none)".to_string() } else { signer.addresses.join(", ") };
        writeln!(out, "Signer: {addresses}")?;
        writeln!(out, "Subject: {}", signer.subject)?;
        if let Some(time) = signer.signing_time {
            writeln!(out, "Signed at: {}", smime_proxy::timestamp::rfc3339(time))?;
        }
        writeln!(out, "Algorithm: {} with {}", signer.algorithm, signer.digest)?;
        if let Some(chain) = &signer.chain {
            writeln!(out, "Trusted via: {}", chain.anchor)?;
        }
    }
    Ok(())
}

fn encrypt_options(args: &MessageArgs) -> EncryptOptions {
    EncryptOptions {
        cipher: match args.cipher {
            CipherArg::Aes128Cbc => ContentCipher::Aes128Cbc,
            CipherArg::Aes256Cbc => ContentCipher::Aes256Cbc,
            CipherArg::Aes128Gcm => ContentCipher::Aes128Gcm,
            CipherArg::Aes256Gcm => ContentCipher::Aes256Gcm,
        },
        key_transport: match args.key_transport {
            KeyTransportArg::RsaPkcs1 => KeyTransport::RsaPkcs1,
            KeyTransportArg::RsaOaep => KeyTransport::RsaOaep,
        },
        ..EncryptOptions::default()
    }
}

fn verify_options(args: &MessageArgs) -> Result<VerifyOptions> {
    let mut trust = TrustOptions::default();
    for path in &args.trust {
        trust.anchors.extend(read_certificates(path, "--trust")?);
    }
    for path in &args.crls {
        trust.crls.push(read_file(path, "--crl")?);
    }
    Ok(VerifyOptions { trust, at: args.at, ..VerifyOptions::default() })
}

fn recipients(args: &MessageArgs) -> Result<Vec<Certificate>> {
    if args.recipients.is_empty() {
        bail!("encrypting needs at least one --recipient CERT.pem");
    }
    let mut certificates = Vec::new();
    for path in &args.recipients {
        certificates.extend(read_certificates(path, "--recipient")?);
    }
    Ok(certificates)
}

fn signer_identity(dir: &Path, args: &MessageArgs) -> Result<Identity> {
    if let Some(address) = &args.from_store {
        return store_identity(dir, address, args);
    }
    let key = args
        .key
        .as_deref()
        .ok_or_else(|| anyhow!("signing needs the private key: --key KEY.pem|KEY.p12 or --from-store EMAIL"))?;
    load_identity(key, args.signer.as_deref(), "--signer", args.passphrase_file.as_deref())
}

/// `--from-store EMAIL`: the key store's key for `address`, unsealed with the store
/// passphrase (`--store-passphrase-file` or a prompt).
fn store_identity(dir: &Path, address: &str, args: &MessageArgs) -> Result<Identity> {
    let store = KeyStore::new(dir);
    let entry = store.find(address)?;
    let passphrase = super::passphrase::obtain(
        args.store_passphrase_file.as_deref(),
        "--store-passphrase-file",
        "key store passphrase",
    )
    .map_err(|e| anyhow!("the key store is locked: {e:#}"))?;
    store.open(&entry, &passphrase).map_err(|e| match e {
        StoreError::WrongStorePassphrase => anyhow!("wrong store passphrase"),
        other => other.into(),
    })
}

/// Loads a key (PEM or PKCS#12) and its certificate: from `cert` when given, else from
/// the PKCS#12 file or from certificate blocks in the key's own PEM file.
fn load_identity(key: &Path, cert: Option<&Path>, cert_flag: &str, passphrase_file: Option<&Path>) -> Result<Identity> {
    let data = Zeroizing::new(read_file(key, "--key")?);
    let passphrase = passphrase_file.map(read_passphrase).transpose()?;
    if is_pkcs12(key, &data) {
        let passphrase = passphrase.ok_or_else(|| {
            anyhow!("{} is a PKCS#12 file: give its passphrase with --passphrase-file", key.display())
        })?;
        let identity = pkcs12::read_identity(&data, &passphrase).with_context(|| format!("--key {}", key.display()))?;
        if let Some(cert) = cert {
            let expected = read_certificates(cert, cert_flag)?;
            if expected.first() != Some(&identity.certificate) {
                bail!("{cert_flag} {} is not the certificate inside {}", cert.display(), key.display());
            }
        }
        return Ok(identity);
    }
    let text = std::str::from_utf8(&data).map_err(|_| anyhow!("--key {}: neither PEM nor PKCS#12", key.display()))?;
    let private = PrivateKey::from_pem(text, passphrase.as_deref().map(|p| p.as_slice()))
        .with_context(|| format!("--key {}", key.display()))?;
    let mut certificates = match cert {
        Some(cert) => read_certificates(cert, cert_flag)?,
        None => load_certificates(&data).map_err(|_| {
            anyhow!("{cert_flag} CERT.pem is needed with a PEM key (the key file holds no certificate)")
        })?,
    };
    let leaf = certificates.remove(0);
    Ok(Identity::new(private, leaf, certificates)?)
}

fn is_pkcs12(path: &Path, data: &[u8]) -> bool {
    let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    matches!(extension.as_deref(), Some("p12" | "pfx")) || (data.first() == Some(&0x30) && !data.starts_with(b"-----"))
}

fn read_certificates(path: &Path, flag: &str) -> Result<Vec<Certificate>> {
    let data = read_file(path, flag)?;
    load_certificates(&data).with_context(|| format!("{flag} {}", path.display()))
}

/// The passphrase file's content without its final line break.
fn read_passphrase(path: &Path) -> Result<Zeroizing<Vec<u8>>> {
    let mut data = Zeroizing::new(read_file(path, "--passphrase-file")?);
    while data.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        data.pop();
    }
    Ok(data)
}

fn read_file(path: &Path, flag: &str) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| anyhow!("{flag} {}: {e}", path.display()))
}

fn read_input(args: &MessageArgs) -> Result<Zeroizing<Vec<u8>>> {
    let mut data = Zeroizing::new(Vec::new());
    match &args.input {
        Some(path) => *data = read_file(path, "--in")?,
        None => {
            std::io::stdin().read_to_end(&mut data).context("reading standard input")?;
        }
    }
    Ok(data)
}

/// Writes the result to `--out` (atomically, owner-only: it may be plaintext) or stdout. Callers only get here once the whole operation succeeded.
fn write_output(args: &MessageArgs, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let Some(path) = &args.output else {
        let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout().lock());
        write(&mut stdout)?;
        return Ok(stdout.flush()?);
    };
    smime_proxy::private_file::write(path, Durability::Buffered, write)
        .map_err(|error| anyhow!("--out {}: {error}", path.display()))
}
