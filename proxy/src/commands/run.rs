//! `smime-proxy run`: load the configuration, load (or create) the CA, unlock the key
//! store (passphrase file, or a prompt on a terminal; else later on the own page), start
//! the proxy, lock the keys when idle or on SIGUSR1, stop on Ctrl-C (locking them). One run
//! per configuration directory (`run_lock`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use smime_ca::CaFiles;
use smime_proxy::run_lock::RunLock;
use smime_proxy::store::{KeyRing, KeyStore, StoreError};
use smime_proxy::{Config, Overrides};
use tracing_subscriber::EnvFilter;

use super::home::ca_label;
use super::passphrase;
use crate::cli::RunArgs;

/// Runs the proxy with configuration from `dir`.
pub fn run(dir: &Path, args: RunArgs) -> anyhow::Result<ExitCode> {
    let store_passphrase_file = args.store_passphrase_file;
    let overrides = Overrides {
        listen: args.listen,
        sites: args.sites,
        upstream_ca: args.upstream_ca,
        log: args.log,
        revocation: args.revocation,
    };
    let config = Config::load(dir, &overrides)?;
    init_logging(config.log.as_deref())?;

    let files = CaFiles::new(dir);
    let outcome = files.load_or_create(&ca_label())?;
    if outcome.created {
        eprintln!(
            "created a new local CA \"{}\" in {} (private key readable by you only); \
             trust it from http://{}/ through the proxy",
            outcome.ca.common_name(),
            files.cert_path().display(),
            config.origin
        );
    }
    let ca = Arc::new(outcome.ca);
    let mut lock = RunLock::acquire(dir)?;
    let keys = Arc::new(unlock_at_start(dir, &config, store_passphrase_file.or(config.store_passphrase_file.clone()))?);

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        tokio::spawn(Arc::clone(&keys).lock_when_idle());
        lock_on_sigusr1(Arc::clone(&keys))?;
        let proxy = smime_proxy::start_with_keys(&config, ca, Arc::clone(&keys)).await?;
        if let Err(error) = lock.record(proxy.local_addr()) {
            tracing::warn!(%error, "cannot record this run in its lock file");
        }
        eprintln!(
            "smime-proxy listening on {listen} (set up a browser: http://{listen}/; own pages: http://{}/)",
            config.origin,
            listen = proxy.local_addr()
        );
        tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
        tracing::info!("stopping");
        keys.lock();
        proxy.shutdown().await?;
        anyhow::Ok(())
    });
    // Whatever happened, no key outlives the run.
    keys.lock();
    result?;
    Ok(ExitCode::SUCCESS)
}

/// The key ring, unlocked with the passphrase file when one is given (a wrong one is an
/// error), else after a prompt when there is a terminal and keys to unlock (Enter skips;
/// three tries), else locked: the own page unlocks it.
fn unlock_at_start(dir: &Path, config: &Config, passphrase_file: Option<PathBuf>) -> anyhow::Result<KeyRing> {
    let store = KeyStore::new(dir);
    let stored = store.list()?.len();
    let hint = format!(
        "unlock it on the proxy's page http://{}/ (or start smime-proxy run with --store-passphrase-file)",
        config.origin
    );
    let keys = KeyRing::new(store, config.lock_after_idle, hint);
    if let Some(path) = passphrase_file {
        let passphrase = passphrase::from_file(&path, "--store-passphrase-file")?;
        if stored == 0 {
            eprintln!("the key store is empty: nothing to unlock (import a key with `smime-proxy keys import`)");
            return Ok(keys);
        }
        match keys.unlock(&passphrase) {
            Ok(n) => eprintln!("unlocked {n} key{}", if n == 1 { "" } else { "s" }),
            Err(StoreError::WrongStorePassphrase) => {
                anyhow::bail!("wrong store passphrase in {}", path.display())
            }
            Err(other) => return Err(other.into()),
        }
        return Ok(keys);
    }
    if stored == 0 || !passphrase::can_prompt() {
        return Ok(keys);
    }
    for _ in 0..3 {
        let passphrase = passphrase::prompt(&format!(
            "key store passphrase ({stored} key{}; Enter to skip and unlock later on http://{}/)",
            if stored == 1 { "" } else { "s" },
            config.origin
        ))?;
        if passphrase.is_empty() {
            break;
        }
        match keys.unlock(&passphrase) {
            Ok(n) => {
                eprintln!("unlocked {n} key{}", if n == 1 { "" } else { "s" });
                break;
            }
            Err(StoreError::WrongStorePassphrase) => eprintln!("wrong store passphrase"),
            Err(other) => return Err(other.into()),
        }
    }
    Ok(keys)
}

/// SIGUSR1 locks the key store (`kill -USR1 PID`).
fn lock_on_sigusr1(keys: Arc<KeyRing>) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut usr1 = signal(SignalKind::user_defined1()).context("cannot listen for SIGUSR1")?;
        tokio::spawn(async move {
            while usr1.recv().await.is_some() {
                let was = keys.lock();
                tracing::info!(was_unlocked = was, "SIGUSR1: key store locked");
            }
        });
    }
    #[cfg(not(unix))]
    drop(keys);
    Ok(())
}

/// `--log`/`log` wins over `RUST_LOG`, default `info`. hudsucker's own spans carry full
/// request URIs (query strings may hold tokens), so it is held at `warn` unless the filter
/// names it explicitly.
fn init_logging(configured: Option<&str>) -> anyhow::Result<()> {
    let mut filter = configured
        .map(str::to_owned)
        .or_else(|| std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "info".to_owned());
    if !filter.contains("hudsucker") {
        filter.push_str(",hudsucker=warn");
    }
    let filter = EnvFilter::try_new(&filter).with_context(|| format!("invalid log filter `{filter}`"))?;
    // Colours only on a terminal: a log file or pipe gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).init();
    Ok(())
}
