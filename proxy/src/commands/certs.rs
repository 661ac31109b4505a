//! `smime-proxy certs add|list|lookup|remove`: recipients' certificates in
//! `<config-dir>/certs/`, validated against `trust_anchors` from config.toml.

use std::path::Path;
use std::process::ExitCode;
use std::time::SystemTime;

use anyhow::{Context as _, Result, anyhow};
use smime_crypto::{TrustOptions, load_certificates};
use smime_proxy::store::{CertEntry, CertStore, check};
use smime_proxy::{Config, Overrides};

use crate::cli::CertsCommand;

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
            let trust = trust(dir)?;
            let candidates = store.lookup(&email, &trust, at.unwrap_or_else(SystemTime::now))?;
            if candidates.is_empty() {
                put(
                    out,
                    format_args!(
                        "no certificate for {email} in the store (add one with `smime-proxy certs add FILE.pem`)"
                    ),
                );
                super::emit(out)?;
                return Ok(ExitCode::FAILURE);
            }
            for candidate in &candidates {
                print_entry(out, &candidate.entry);
                match &candidate.verdict {
                    Ok(chain) => put(out, format_args!("  usable:      yes, trusted via {}", chain.anchor)),
                    Err(reason) => put(out, format_args!("  usable:      NO: {reason}{}", anchors_hint(&trust))),
                }
            }
            if candidates.iter().all(|c| c.verdict.is_err()) {
                super::emit(out)?;
                return Ok(ExitCode::FAILURE);
            }
        }
        CertsCommand::Remove { cert } => {
            for entry in store.remove(&cert)? {
                eprintln!("removed {} ({})", entry.summary.addresses.join(", "), entry.summary.fingerprint);
            }
        }
    }
    super::emit(out)?;
    Ok(ExitCode::SUCCESS)
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
        (_, Some(seen)) => put(
            out,
            format_args!("  source:      added {}; last seen in {} at {}", record.added_at, seen.message_id, seen.at),
        ),
        _ => put(out, format_args!("  source:      added {}", record.added_at)),
    }
}

/// Appends one line to the output.
fn put(out: &mut String, line: std::fmt::Arguments<'_>) {
    out.push_str(&line.to_string());
    out.push('\n');
}
