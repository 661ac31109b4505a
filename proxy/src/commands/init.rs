//! `smime-proxy init`: the configuration directory with a documented config.toml and a
//! new local CA, its key sealed under the store passphrase (chosen here: from
//! `--store-passphrase-file` or asked twice on a terminal). Existing files are kept, so
//! running it twice is harmless.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use smime_ca::{CaFiles, CaState, LocalCa};
use smime_proxy::config::DEFAULT_CONFIG_TOML;
use smime_proxy::store::{KeyStore, StoreError};

use super::home::ca_label;
use super::passphrase;

/// Runs `init` in `dir`.
pub fn run(dir: &Path, store_passphrase_file: Option<&Path>) -> anyhow::Result<ExitCode> {
    let files = CaFiles::new(dir);
    let created = create_ca_if_missing(dir, store_passphrase_file)?;
    let config = dir.join("config.toml");
    if config.exists() {
        eprintln!("kept {}", config.display());
    } else {
        std::fs::write(&config, DEFAULT_CONFIG_TOML).with_context(|| format!("cannot write {}", config.display()))?;
        eprintln!("wrote {}", config.display());
    }
    match created {
        Some(ca) => eprintln!(
            "created the local CA \"{}\": {} (private key {}, sealed under the store passphrase)",
            ca.certificate().common_name(),
            files.cert_path().display(),
            files.sealed_key_path().display()
        ),
        None => eprintln!("kept the local CA {}", files.cert_path().display()),
    }
    eprintln!("next: `smime-proxy run`, then open http://smime-proxy.invalid/ through the proxy to trust the CA");
    Ok(ExitCode::SUCCESS)
}

/// Creates the local CA of `dir`, sealed under the store passphrase (from
/// `store_passphrase_file`, else asked on a terminal: twice when it is new, once when keys
/// already hold it), when there is none; `None` when there is one.
pub(super) fn create_ca_if_missing(
    dir: &Path,
    store_passphrase_file: Option<&Path>,
) -> anyhow::Result<Option<LocalCa>> {
    let files = CaFiles::new(dir);
    if !matches!(files.state()?, CaState::Missing) {
        return Ok(None);
    }
    let flag = "--store-passphrase-file";
    let label = "store passphrase (it seals the local CA and your keys)";
    let store = KeyStore::new(dir);
    let passphrase = if store.is_empty()? {
        passphrase::obtain_new(store_passphrase_file, flag, label)?
    } else {
        passphrase::obtain(store_passphrase_file, flag, label)?
    };
    store.check_passphrase(&passphrase).map_err(|e| match e {
        StoreError::WrongStorePassphrase => anyhow::anyhow!("wrong store passphrase: it does not open the stored keys"),
        other => other.into(),
    })?;
    Ok(Some(files.create(&ca_label(), &passphrase)?))
}
