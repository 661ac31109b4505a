//! `smime-proxy init`: the configuration directory with a documented config.toml and a
//! new local CA. Existing files are kept, so running it twice is harmless.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use smime_ca::CaFiles;
use smime_proxy::config::DEFAULT_CONFIG_TOML;

use super::home::ca_label;

/// Runs `init` in `dir`.
pub fn run(dir: &Path) -> anyhow::Result<ExitCode> {
    let files = CaFiles::new(dir);
    let outcome = files.load_or_create(&ca_label())?;
    let config = dir.join("config.toml");
    if config.exists() {
        eprintln!("kept {}", config.display());
    } else {
        std::fs::write(&config, DEFAULT_CONFIG_TOML).with_context(|| format!("cannot write {}", config.display()))?;
        eprintln!("wrote {}", config.display());
    }
    if outcome.created {
        eprintln!(
            "created the local CA \"{}\": {} (private key {}, readable by you only)",
            outcome.ca.common_name(),
            files.cert_path().display(),
            files.key_path().display()
        );
    } else {
        eprintln!("kept the local CA {}", files.cert_path().display());
    }
    eprintln!("next: `smime-proxy run`, then open http://smime-proxy.invalid/ through the proxy to trust the CA");
    Ok(ExitCode::SUCCESS)
}
