//! `smime-proxy certs add|list|lookup|fetch|remove|trust`: recipients' certificates in
//! `<config-dir>/certs/`, validated against the trust anchors (`trust_anchors` in
//! config.toml and `<config-dir>/trust/`).

use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context as _, Result, anyhow};
use smime_crypto::{TrustOptions, load_certificates};
use smime_proxy::store::{CertEntry, CertStore, CertSummary, check, is_ca};
use smime_proxy::{Config, Fetched, Overrides};
use std::path::PathBuf;

use crate::cli::{CertsCommand, TrustCommand};

/// Runs one `certs` command on the store of `dir`.
pub fn run(dir: &Path, command: CertsCommand) -> Result<ExitCode> {
    let store = CertStore::new(dir);
    let out = &mut String::new();
    match command {
        CertsCommand::Add { files } => {
            let trust = trust(dir)?;
            for file in &files {
                let data = std::fs::read(file).map_err(|e| anyhow!("{}: {e}", file.display()))?;
                let certificates = load_certificates(&data).with_context(|| format!("{}", file.display()))?;
                let (entry, added) = store.add(&certificates[0], SystemTime::now())?;
                let verb = if added { "added" } else { "already had" };
                eprintln!("{verb} {} ({})", entry.summary.addresses.join(", "), entry.summary.fingerprint);
                for address in &entry.summary.addresses {
                    if let Err(reason) = check(&entry.certificate, address, &trust, SystemTime::now()) {
                        eprintln!("warning: not usable for {address} now: {reason}{}", anchors_hint(&trust));
                    }
                }
            }
        }
        CertsCommand::List => {
            let entries = store.list()?;
            if entries.is_empty() {
                eprintln!("no certificates in {}", store.dir().display());
            }
            for entry in &entries {
                print_entry(out, entry);
            }
        }
        CertsCommand::Lookup { email, at } => {
            let config = Config::load(dir, &Overrides::default())?;
            let trust = config.trust()?;
            let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            // With --at: the offline verdict at that time; without: what a send would find
            // now (chains completed, revocation checked).
            let candidates: Vec<(CertEntry, Result<String, String>)> = match at {
                Some(at) => store
                    .lookup(&email, &trust, at)?
                    .into_iter()
                    .map(|c| {
                        let verdict = c.verdict.map(|chain| format!("yes, trusted via {}", chain.anchor));
                        (c.entry, verdict.map_err(|reason| format!("{reason}{}", anchors_hint(&trust))))
                    })
                    .collect(),
                None => runtime
                    .block_on(smime_proxy::check_stored(&config, &email))?
                    .into_iter()
                    .map(|(entry, verdict)| {
                        (entry, verdict.map_err(|reason| format!("{reason}{}", anchors_hint(&trust))))
                    })
                    .collect(),
            };
            if candidates.is_empty() {
                put(
                    out,
                    format_args!(
                        "no certificate for {email} in the store (add one with `smime-proxy certs add FILE.pem`)"
                    ),
                );
            }
            for (entry, verdict) in &candidates {
                print_entry(out, entry);
                match verdict {
                    Ok(yes) => put(out, format_args!("  usable:      {yes}")),
                    Err(reason) => put(out, format_args!("  usable:      NO: {reason}")),
                }
            }
            let mut usable = candidates.iter().any(|(_, verdict)| verdict.is_ok());
            // What a send would find next: the directories (asked, nothing stored).
            if !usable && !config.directories.is_empty() && at.is_none() {
                match runtime.block_on(smime_proxy::fetch_certificate(&config, &email, false))? {
                    Fetched::Usable { fingerprint, notice } => {
                        usable = true;
                        put(out, format_args!("a directory holds a usable certificate for {email} ({fingerprint})"));
                        put(
                            out,
                            format_args!("  (a send would use and remember it; `certs fetch {email}` stores it now)"),
                        );
                        if let Some(notice) = notice {
                            put(out, format_args!("  note: {notice}"));
                        }
                    }
                    Fetched::NotFound(reasons) => {
                        put(out, format_args!("the directories hold no usable certificate for {email}:"));
                        for reason in reasons {
                            put(out, format_args!("  {reason}"));
                        }
                    }
                }
            }
            if !usable {
                super::emit(out)?;
                return Ok(ExitCode::FAILURE);
            }
        }
        CertsCommand::Fetch { email } => {
            let config = Config::load(dir, &Overrides::default())?;
            let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            match runtime.block_on(smime_proxy::fetch_certificate(&config, &email, true))? {
                Fetched::Usable { fingerprint, notice } => {
                    put(out, format_args!("stored a usable certificate for {email} ({fingerprint})"));
                    if let Some(notice) = notice {
                        put(out, format_args!("  note: {notice}"));
                    }
                }
                Fetched::NotFound(reasons) => {
                    put(out, format_args!("no usable certificate for {email}:"));
                    for reason in reasons {
                        put(out, format_args!("  {reason}"));
                    }
                    super::emit(out)?;
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        CertsCommand::Trust(command) => trust_command(dir, command, out)?,
        CertsCommand::Remove { cert } => {
            for entry in store.remove(&cert)? {
                eprintln!("removed {} ({})", entry.summary.addresses.join(", "), entry.summary.fingerprint);
            }
        }
    }
    super::emit(out)?;
    Ok(ExitCode::SUCCESS)
}

/// `certs trust add|list|remove`.
fn trust_command(dir: &Path, command: TrustCommand, out: &mut String) -> Result<()> {
    let config = Config::load(dir, &Overrides::default())?;
    let summary = |certificate: &smime_crypto::Certificate| {
        CertSummary::of(certificate).ok_or_else(|| anyhow!("the certificate cannot be encoded"))
    };
    match command {
        TrustCommand::Add { files } => {
            let trust_dir = config.trust_dir();
            std::fs::create_dir_all(&trust_dir).with_context(|| format!("{}", trust_dir.display()))?;
            for file in &files {
                let data = std::fs::read(file).map_err(|e| anyhow!("{}: {e}", file.display()))?;
                for certificate in load_certificates(&data).with_context(|| format!("{}", file.display()))? {
                    let s = summary(&certificate)?;
                    if !is_ca(&certificate) {
                        return Err(anyhow!(
                            "{}: {} is not a CA certificate; a recipient's certificate goes into `certs add`",
                            file.display(),
                            s.subject
                        ));
                    }
                    let pem = der::EncodePem::to_pem(&certificate, der::pem::LineEnding::LF)
                        .map_err(|e| anyhow!("encode: {e}"))?;
                    let target = trust_dir.join(format!("{}.pem", s.fingerprint.hex()));
                    smime_proxy::private_file::write(&target, smime_proxy::private_file::Durability::Synced, |w| {
                        w.write_all(pem.as_bytes())
                    })
                    .with_context(|| format!("{}", target.display()))?;
                    eprintln!("trusting {} ({})", s.subject, s.fingerprint);
                }
            }
        }
        TrustCommand::List => {
            let from_dir = config.trust_dir_files();
            for path in config.trust_anchors.iter().chain(&from_dir) {
                let data = std::fs::read(path).map_err(|e| anyhow!("{}: {e}", path.display()))?;
                for certificate in load_certificates(&data).with_context(|| format!("{}", path.display()))? {
                    let s = summary(&certificate)?;
                    put(out, format_args!("{}", s.subject));
                    put(out, format_args!("  fingerprint: {}", s.fingerprint));
                    put(out, format_args!("  valid:       {}", s.validity()));
                    let how = if from_dir.contains(path) { "certs trust add" } else { "trust_anchors in config.toml" };
                    put(out, format_args!("  from:        {} ({how})", path.display()));
                }
            }
            if out.is_empty() {
                eprintln!("no trust anchors: add one with `smime-proxy certs trust add CA.pem`");
            }
        }
        TrustCommand::Remove { fingerprint } => {
            let wanted = fingerprint.replace(':', "").to_ascii_lowercase();
            if wanted.len() < 8 {
                return Err(anyhow!("give at least 8 hex digits of the fingerprint"));
            }
            let matching: Vec<PathBuf> = config
                .trust_dir_files()
                .into_iter()
                .filter(|p| p.file_stem().and_then(|s| s.to_str()).is_some_and(|s| s.starts_with(&wanted)))
                .collect();
            match matching.as_slice() {
                [one] => {
                    std::fs::remove_file(one).with_context(|| format!("{}", one.display()))?;
                    eprintln!("removed {}", one.display());
                }
                [] => return Err(anyhow!("no anchor added with `certs trust add` has the fingerprint {fingerprint}")),
                _ => return Err(anyhow!("{fingerprint} matches {} anchors: give more digits", matching.len())),
            }
        }
    }
    Ok(())
}

/// The trust anchors named in config.toml.
fn trust(dir: &Path) -> Result<TrustOptions> {
    Ok(Config::load(dir, &Overrides::default())?.trust()?)
}

fn anchors_hint(trust: &TrustOptions) -> &'static str {
    if trust.anchors.is_empty() { " (no trust_anchors are configured in config.toml)" } else { "" }
}

fn print_entry(out: &mut String, entry: &CertEntry) {
    let s = &entry.summary;
    put(out, format_args!("{}", s.addresses.join(", ")));
    put(out, format_args!("  subject:     {}", s.subject));
    put(out, format_args!("  issuer:      {}", s.issuer));
    put(out, format_args!("  valid:       {}", s.validity()));
    put(out, format_args!("  fingerprint: {}", s.fingerprint));
    let record = &entry.record;
    match (&record.source[..], &record.last_seen) {
        ("signature", Some(seen)) => {
            put(out, format_args!("  source:      learned from a verified message {} at {}", seen.message_id, seen.at))
        }
        (source, None) if source.starts_with("directory ") => {
            put(out, format_args!("  source:      fetched from {source} at {}", record.added_at))
        }
        (_, Some(seen)) => put(
            out,
            format_args!("  source:      added {}; last seen in {} at {}", record.added_at, seen.message_id, seen.at),
        ),
        _ => put(out, format_args!("  source:      added {}", record.added_at)),
    }
    if let Some(capabilities) = entry.capabilities() {
        put(out, format_args!("  announces:   {}", capabilities.names().join(", ")));
    }
}

/// Appends one line to the output.
fn put(out: &mut String, line: std::fmt::Arguments<'_>) {
    out.push_str(&line.to_string());
    out.push('\n');
}
