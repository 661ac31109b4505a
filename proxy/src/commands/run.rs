//! `smime-proxy run`: load the configuration, open the CA sealed, unlock the CA and the
//! key store with the store passphrase (passphrase file, or a prompt on a terminal; else
//! later on the own page, and until then the sites are refused), start the proxy, lock the
//! keys when idle or on SIGUSR1, stop on Ctrl-C (locking them). One run per configuration
//! directory (`run_lock`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use smime_ca::CaFiles;
use smime_proxy::run_lock::RunLock;
use smime_proxy::store::{CaStatus, CaVault, KeyRing, KeyStore, Opened, StoreError, unlock_all};
use smime_proxy::{Config, Overrides};
use tracing_subscriber::EnvFilter;

use super::home::ca_label;
use super::passphrase;
use crate::cli::RunArgs;

/// The intermediate is renewed from the passphrase file this long before it expires.
const RENEW_BEFORE: time::Duration = time::Duration::days(1);
/// The shortest wait between two renewals.
const RETRY_AFTER: time::Duration = time::Duration::hours(1);

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

    let mut lock = RunLock::acquire(dir)?;
    let ca =
        Arc::new(CaVault::sealed(CaFiles::new(dir), ca_label(), config.intercepted_names(), config.leaf_cache_size)?);
    let hint = format!(
        "unlock it on the proxy's page http://{}/ (or start smime-proxy run with --store-passphrase-file)",
        config.origin
    );
    let keys = Arc::new(KeyRing::new(KeyStore::new(dir), config.lock_after_idle, hint));
    let passphrase_file = store_passphrase_file.or(config.store_passphrase_file.clone());
    unlock_at_start(&config, &ca, &keys, passphrase_file.as_deref())?;

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let result = runtime.block_on(async {
        tokio::spawn(Arc::clone(&keys).lock_when_idle());
        if let Some(path) = passphrase_file {
            tokio::spawn(renew_from_file(Arc::clone(&ca), path));
        }
        lock_on_sigusr1(Arc::clone(&keys))?;
        let proxy = smime_proxy::start_with_keys(&config, Arc::clone(&ca), Arc::clone(&keys)).await?;
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

/// The CA and the keys, unlocked with the passphrase file when one is given (a wrong one
/// is an error), else after a prompt on a terminal (a new configuration directory asks to
/// choose the passphrase, twice; otherwise Enter skips; three tries), else left sealed:
/// the own page unlocks them, and until then the sites are refused.
fn unlock_at_start(
    config: &Config,
    ca: &CaVault,
    keys: &KeyRing,
    passphrase_file: Option<&Path>,
) -> anyhow::Result<()> {
    let stored = keys.status().stored;
    if let Some(path) = passphrase_file {
        let passphrase = passphrase::from_file(path, "--store-passphrase-file")?;
        return match unlock_all(ca, keys, &passphrase) {
            Ok(opened) => {
                report(&opened, ca);
                Ok(())
            }
            Err(StoreError::WrongStorePassphrase) => anyhow::bail!("wrong store passphrase in {}", path.display()),
            Err(StoreError::EmptyPassphrase) => anyhow::bail!("the store passphrase in {} is empty", path.display()),
            Err(other) => Err(other.into()),
        };
    }
    if passphrase::can_prompt() {
        let choosing = ca.status() == CaStatus::Missing && stored == 0;
        for _ in 0..3 {
            let passphrase = if choosing {
                passphrase::obtain_new(
                    None,
                    "--store-passphrase-file",
                    "store passphrase (it seals the local CA and your keys)",
                )?
            } else {
                passphrase::prompt(&format!(
                    "store passphrase (unlocks the local CA and {stored} key{}; Enter to skip and unlock later on http://{}/)",
                    if stored == 1 { "" } else { "s" },
                    config.origin
                ))?
            };
            if passphrase.is_empty() {
                break;
            }
            match unlock_all(ca, keys, &passphrase) {
                Ok(opened) => {
                    report(&opened, ca);
                    return Ok(());
                }
                Err(StoreError::WrongStorePassphrase) => eprintln!("wrong store passphrase"),
                Err(other) => return Err(other.into()),
            }
        }
    }
    eprintln!(
        "{}: the webmail sites are refused until you unlock on http://{}/ (through the proxy), \
         or start with --store-passphrase-file",
        if ca.status() == CaStatus::Missing {
            "no local CA yet: choose the store passphrase"
        } else {
            "the local CA is sealed"
        },
        config.origin
    );
    Ok(())
}

/// Tells the user what the passphrase opened.
fn report(opened: &Opened, ca: &CaVault) {
    if let Some(root) = ca.root() {
        if opened.ca.created {
            eprintln!(
                "created a new local CA \"{}\", its key sealed under the store passphrase; trust it from \
                 the proxy's page",
                root.common_name()
            );
        }
        if let Some(migration) = opened.ca.migrated {
            eprintln!(
                "sealed the local CA's key under the store passphrase and removed the clear ca-key.pem{}",
                if migration.reissued {
                    " (its certificate was re-issued with the same key: SPKI trust holds, trust stores \
                     holding the old ca.pem should import the new one)"
                } else {
                    ""
                }
            );
        }
    }
    if opened.keys > 0 {
        eprintln!("unlocked {n} key{}", if opened.keys == 1 { "" } else { "s" }, n = opened.keys);
    }
}

/// Renews the intermediate from the passphrase file a day before it expires, for as long
/// as the proxy runs (a file that no longer opens the CA is logged; the proxy then seals
/// itself when the intermediate expires).
async fn renew_from_file(ca: Arc<CaVault>, path: PathBuf) {
    loop {
        // At least an hour between tries: a file that stopped working is not hammered.
        let wait = match ca.authority().ready_until() {
            Some(until) => (until - RENEW_BEFORE - time::OffsetDateTime::now_utc()).max(RETRY_AFTER),
            None => RETRY_AFTER,
        };
        tokio::time::sleep(wait.try_into().unwrap_or(std::time::Duration::from_secs(3600))).await;
        let ca = Arc::clone(&ca);
        let path = path.clone();
        let renewed = tokio::task::spawn_blocking(move || {
            let passphrase = passphrase::from_file(&path, "--store-passphrase-file")?;
            ca.unlock(&passphrase).map_err(anyhow::Error::from)
        })
        .await;
        match renewed {
            Ok(Ok(_)) => tracing::info!("renewed the intermediate CA from the passphrase file"),
            Ok(Err(error)) => tracing::error!(error = format!("{error:#}"), "cannot renew the intermediate CA"),
            Err(error) => tracing::error!(%error, "cannot renew the intermediate CA"),
        }
    }
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
