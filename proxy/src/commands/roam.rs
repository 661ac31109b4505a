//! `smime-proxy keys roam register|publish|password|revoke|status`: the user's key on the
//! roaming key server.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, Result, anyhow};
use smime_crypto::Identity;
use smime_keyserver::client::KeyServer;
use smime_proxy::config::KeyServerConfig;
use smime_proxy::store::KeyStore;
use smime_proxy::{Config, Overrides, roam};
use zeroize::Zeroizing;

use super::passphrase;
use crate::cli::{RoamCommand, RoamLogin};

/// Runs one `keys roam` command.
pub fn run(dir: &Path, command: RoamCommand) -> Result<ExitCode> {
    let config = Config::load(dir, &Overrides::default())?;
    let keyserver = config.keyserver.clone().ok_or_else(|| {
        anyhow!(
            "no key server configured: add a [keyserver] section (url, server_key) to {}",
            dir.join("config.toml").display()
        )
    })?;
    let tls = smime_proxy::client_config(&config.upstream_ca)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    match command {
        RoamCommand::Register { server, token_file, key, password_file, store_passphrase_file } => {
            let server = roam::connect(&keyserver, tls, server.as_deref())?;
            let token = std::fs::read_to_string(&token_file)
                .with_context(|| format!("cannot read the enrolment token {}", token_file.display()))?;
            let identity = stored_identity(dir, key, store_passphrase_file.as_deref())?;
            let password =
                passphrase::obtain_new(password_file.as_deref(), "--password-file", "new key-server password")?;
            let account = runtime.block_on(roam::register(&server, dir, token.trim(), &password, &identity))?;
            eprintln!(
                "registered the key of {account} on {}; unlock it on another machine with the key-server password",
                server.url()
            );
        }
        RoamCommand::Publish { key, store_passphrase_file, login } => {
            let identity = stored_identity(dir, key, store_passphrase_file.as_deref())?;
            let (server, account, password) = log_in_parts(dir, &keyserver, tls, login, "key-server password")?;
            let version = runtime.block_on(roam::publish(&server, dir, &account, &password, &identity))?;
            eprintln!(
                "published the key of {} as envelope version {version} of {account}; other machines unlock it from now on",
                identity.certificate.tbs_certificate().subject()
            );
        }
        RoamCommand::Password { new_password_file, login } => {
            let (server, account, current) = log_in_parts(dir, &keyserver, tls, login, "current key-server password")?;
            let new =
                passphrase::obtain_new(new_password_file.as_deref(), "--new-password-file", "new key-server password")?;
            let version = runtime.block_on(roam::change_password(&server, dir, &account, &current, &new))?;
            eprintln!(
                "changed the key-server password of {account} (envelope version {version}); the old password no longer works"
            );
        }
        RoamCommand::Revoke { device_id, login } => {
            let (server, account, password) = log_in_parts(dir, &keyserver, tls, login, "key-server password")?;
            runtime.block_on(roam::revoke(&server, &account, &password, &device_id))?;
            eprintln!("revoked device {device_id} of {account}");
        }
        RoamCommand::Status { login } => {
            let (server, account, password) = log_in_parts(dir, &keyserver, tls, login, "key-server password")?;
            let report = runtime.block_on(roam::status(&server, &account, &password))?;
            let high_water = roam::RoamState::load(dir)?.high_water(server.url(), &account);
            let mut out = format!(
                "account:          {account}\nserver:           {}\nenvelope version: {} (highest seen here: {high_water})\n\ndevices:\n",
                server.url(),
                report.envelope_version,
            );
            for device in &report.devices {
                let state = match device.revoked {
                    Some(at) => format!("revoked {}", roam::when(at)),
                    None => format!("last seen {}", roam::when(device.last_seen)),
                };
                out.push_str(&format!(
                    "  {}  {}  added {}, {state}{}\n",
                    device.id,
                    device.name,
                    roam::when(device.created),
                    if device.current { " (this login)" } else { "" }
                ));
            }
            out.push_str("\naudit log (hash chain verified), newest first:\n");
            for entry in report.audit.iter().rev() {
                out.push_str(&format!("  {}  {:<16} {}\n", roam::when(entry.at), entry.event, entry.detail));
            }
            super::emit(&out)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// The stored key `key` names (default: the only one), opened with the store passphrase.
fn stored_identity(dir: &Path, key: Option<String>, store_passphrase_file: Option<&Path>) -> Result<Identity> {
    let store = KeyStore::new(dir);
    let entry = match key {
        Some(query) => store.find(&query)?,
        None => match store.list()?.as_slice() {
            [only] => only.clone(),
            [] => {
                return Err(anyhow!("the key store is empty: import a key first (`smime-proxy keys import FILE.p12`)"));
            }
            _ => return Err(anyhow!("the key store holds several keys: name one with --key FINGERPRINT|EMAIL")),
        },
    };
    let store_passphrase =
        passphrase::obtain(store_passphrase_file, "--store-passphrase-file", "key store passphrase")?;
    store.open(&entry, &store_passphrase).map_err(super::keys::store_error)
}

/// The server, the account and the password (asked as `prompt` on a terminal) a
/// `publish`, `password`, `revoke` or `status` logs in with.
fn log_in_parts(
    dir: &Path,
    keyserver: &KeyServerConfig,
    tls: std::sync::Arc<rustls::ClientConfig>,
    login: RoamLogin,
    prompt: &str,
) -> Result<(KeyServer, String, Zeroizing<Vec<u8>>)> {
    let server = roam::connect(keyserver, tls, login.server.as_deref())?;
    let account = account_name(dir, keyserver, login.account)?;
    let password = passphrase::obtain(login.password_file.as_deref(), "--password-file", prompt)?;
    Ok((server, account, password))
}

/// The account to use: the flag, the configured one, or the only one registered here.
fn account_name(dir: &Path, keyserver: &KeyServerConfig, flag: Option<String>) -> Result<String> {
    if let Some(account) = flag.or_else(|| keyserver.account.clone()) {
        return Ok(account);
    }
    let state = roam::RoamState::load(dir)?;
    match state.accounts.keys().collect::<Vec<_>>().as_slice() {
        [only] => Ok((*only).clone()),
        _ => Err(anyhow!("name the account with --account EMAIL (or `account` in [keyserver] of config.toml)")),
    }
}
