//! `smime-proxy keys import|list|remove`: the user's key store in `<config-dir>/keys/`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Result, anyhow};
use smime_ca::{CaFiles, CaState};
use smime_proxy::store::{KeyEntry, KeyStore, StoreError};
use zeroize::Zeroizing;

use super::passphrase;
use crate::cli::KeysCommand;

/// Runs one `keys` command on the store of `dir`.
pub fn run(dir: &Path, command: KeysCommand) -> Result<ExitCode> {
    let store = KeyStore::new(dir);
    let out = &mut String::new();
    match command {
        KeysCommand::Import { file, passphrase_file, store_passphrase_file } => {
            let data = Zeroizing::new(std::fs::read(&file).map_err(|e| anyhow!("{}: {e}", file.display()))?);
            let label = format!("passphrase of {}", file.display());
            let p12_passphrase = passphrase::obtain(passphrase_file.as_deref(), "--passphrase-file", &label)?;
            let flag = "--store-passphrase-file";
            // The CA's sealed key shares the store passphrase: once it exists, the first
            // key must be imported under the same one.
            let ca = CaFiles::new(dir);
            let ca_sealed = matches!(ca.state(), Ok(CaState::Sealed));
            let store_passphrase = if store.is_empty()? && !ca_sealed {
                passphrase::obtain_new(store_passphrase_file.as_deref(), flag, "key store passphrase")?
            } else {
                passphrase::obtain(store_passphrase_file.as_deref(), flag, "key store passphrase")?
            };
            if ca_sealed && store.is_empty()? {
                ca.unseal(&store_passphrase).map_err(|e| match e {
                    smime_ca::Error::WrongPassphrase => anyhow!(
                        "wrong store passphrase: it does not open the local CA, which was sealed under the \
                         store passphrase chosen when it was created"
                    ),
                    other => anyhow!(other),
                })?;
            }
            let imported = store.import_pkcs12(&data, &p12_passphrase, &store_passphrase).map_err(|e| match e {
                StoreError::WrongPkcs12Passphrase => {
                    anyhow!("wrong passphrase for the PKCS#12 file {} (or the file is damaged)", file.display())
                }
                StoreError::Crypto(other) => anyhow!("{}: {other}", file.display()),
                other => store_error(other),
            })?;
            drop((data, p12_passphrase, store_passphrase));
            let entry = &imported.entry;
            if imported.added {
                eprintln!(
                    "imported the key of {} ({}) into {}{}",
                    addresses(entry),
                    entry.summary.fingerprint,
                    store.dir().display(),
                    if imported.first { "; its passphrase is now the key store's" } else { "" }
                );
            } else {
                eprintln!("the key of {} ({}) is already in the store", addresses(entry), entry.summary.fingerprint);
            }
        }
        KeysCommand::List => {
            let entries = store.list()?;
            if entries.is_empty() {
                eprintln!("no keys in {} (import one with `smime-proxy keys import FILE.p12`)", store.dir().display());
            }
            for entry in &entries {
                print_entry(out, entry);
            }
        }
        KeysCommand::Remove { key } => {
            let entry = store.remove(&key)?;
            eprintln!("removed the key of {} ({})", addresses(&entry), entry.summary.fingerprint);
        }
    }
    super::emit(out)?;
    Ok(ExitCode::SUCCESS)
}

fn print_entry(out: &mut String, entry: &KeyEntry) {
    let s = &entry.summary;
    put(out, format_args!("{}", addresses(entry)));
    put(out, format_args!("  subject:     {}", s.subject));
    put(out, format_args!("  issuer:      {}", s.issuer));
    put(out, format_args!("  valid:       {}", s.validity()));
    put(out, format_args!("  fingerprint: {}", s.fingerprint));
    put(out, format_args!("  imported:    {}", entry.imported_at));
}

fn addresses(entry: &KeyEntry) -> String {
    if entry.summary.addresses.is_empty() { "(no address)".to_owned() } else { entry.summary.addresses.join(", ") }
}

/// A wrong store passphrase names the flag that gives it.
fn store_error(error: StoreError) -> anyhow::Error {
    match error {
        StoreError::WrongStorePassphrase => {
            anyhow!("wrong store passphrase (the one given when the first key was imported)")
        }
        other => other.into(),
    }
}

/// Appends one line to the output.
fn put(out: &mut String, line: std::fmt::Arguments<'_>) {
    out.push_str(&line.to_string());
    out.push('\n');
}
