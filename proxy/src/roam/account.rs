//! The account on the key server: register the user's key, release it with the password,
//! and read what the server says about the account (devices, audit log).

use std::path::Path;

use smime_crypto::Identity;
use smime_keyserver::client::{DeviceSession, KeyServer};
use smime_keyserver::wire::{AuditEntry, Device};

use super::payload;
use super::state::RoamState;
use crate::Error;
use crate::config::KeyServerConfig;

/// What the server says about the account, for the page and `keys roam status`.
#[derive(Debug, Clone)]
pub struct Report {
    /// The account name.
    pub account: String,
    /// The envelope version current on the server.
    pub envelope_version: u64,
    /// The account's devices, newest first.
    pub devices: Vec<Device>,
    /// The audit log, oldest first (its hash chain checked).
    pub audit: Vec<AuditEntry>,
}

/// A key released by the server, and the report.
#[derive(Debug)]
pub struct Released {
    /// The user's identities (one per envelope; wiped when dropped).
    pub identity: Identity,
    /// The account.
    pub report: Report,
}

/// A client for the configured key server, over verified TLS (system and webpki roots plus
/// `upstream_ca`), pinning its OPAQUE key. `url` overrides the configured URL.
pub fn connect(
    config: &KeyServerConfig,
    tls: std::sync::Arc<rustls::ClientConfig>,
    url: Option<&str>,
) -> Result<KeyServer, Error> {
    Ok(KeyServer::new(url.unwrap_or(&config.url), tls, config.server_key.clone())?)
}

/// This machine's name in the account's device list.
pub fn device_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname").unwrap_or_default();
    let host = host.trim();
    if host.is_empty() { "smime-proxy".to_owned() } else { format!("smime-proxy on {host}") }
}

/// Registers `identity` with the one-time enrolment token; records the account in
/// `roam.json` under `dir`. Returns the account name the server enrolled.
pub async fn register(
    server: &KeyServer,
    dir: &Path,
    enrolment_token: &str,
    password: &[u8],
    identity: &Identity,
) -> Result<String, Error> {
    let payload = payload::encode(identity)?;
    let (account, session) = server.register(enrolment_token, password, &payload, &device_name()).await?;
    RoamState::record(dir, server.url(), &account, &hex(&session.account_id), session.envelope_version)?;
    Ok(account)
}

/// Logs in as `account` and, with `release`, takes the key out of its envelope (refusing
/// one older than this machine has seen). Updates `roam.json`.
pub async fn release(server: &KeyServer, dir: &Path, account: &str, password: &[u8]) -> Result<Released, Error> {
    let account = account.trim().to_lowercase();
    let high_water = RoamState::load(dir)?.high_water(server.url(), &account);
    let logged_in = server.login(&account, password, &device_name(), high_water, true).await?;
    let payload = logged_in.payload.ok_or_else(|| Error::Roam("the key server released no key".into()))?;
    let identity = payload::decode(&payload)?;
    let session = logged_in.session;
    RoamState::record(dir, server.url(), &account, &hex(&session.account_id), session.envelope_version)?;
    let report = report(&session, &account).await?;
    Ok(Released { identity, report })
}

/// Publishes `identity` (a rotated certificate, a new key imported here) as the account's
/// next envelope version, after a login with `password`. Refused when the server offers an
/// envelope older than this machine has seen. Returns the new version.
pub async fn publish(
    server: &KeyServer,
    dir: &Path,
    account: &str,
    password: &[u8],
    identity: &Identity,
) -> Result<u64, Error> {
    let account = account.trim().to_lowercase();
    let payload = payload::encode(identity)?;
    let high_water = RoamState::load(dir)?.high_water(server.url(), &account);
    let mut session = server.login(&account, password, &device_name(), high_water, false).await?.session;
    if session.envelope_version < high_water {
        return Err(
            smime_keyserver::Error::EnvelopeRolledBack { got: session.envelope_version, seen: high_water }.into()
        );
    }
    let version = session.replace_payload(&payload).await?;
    RoamState::record(dir, server.url(), &account, &hex(&session.account_id), version)?;
    Ok(version)
}

/// Changes the key-server password of `account` from `current` to `new`: a new OPAQUE
/// registration and the key re-sealed under it as the next envelope version, swapped in
/// together by the server. Returns the new version.
pub async fn change_password(
    server: &KeyServer,
    dir: &Path,
    account: &str,
    current: &[u8],
    new: &[u8],
) -> Result<u64, Error> {
    let account = account.trim().to_lowercase();
    let state = RoamState::load(dir)?;
    let version = server.change_password(&account, current, new, state.high_water(server.url(), &account)).await?;
    if let Some(known) = state.accounts.get(&account).filter(|a| a.server == server.url()) {
        RoamState::record(dir, server.url(), &account, &known.account_id, version)?;
    }
    Ok(version)
}

/// Logs in without releasing the key, for the report alone.
pub async fn status(server: &KeyServer, account: &str, password: &[u8]) -> Result<Report, Error> {
    let account = account.trim().to_lowercase();
    let logged_in = server.login(&account, password, &device_name(), 0, false).await?;
    report(&logged_in.session, &account).await
}

/// Logs in without releasing the key and revokes `device_id` (a lost or stolen device).
pub async fn revoke(server: &KeyServer, account: &str, password: &[u8], device_id: &str) -> Result<(), Error> {
    let account = account.trim().to_lowercase();
    let logged_in = server.login(&account, password, &device_name(), 0, false).await?;
    logged_in.session.revoke(device_id).await?;
    Ok(())
}

async fn report(session: &DeviceSession, account: &str) -> Result<Report, Error> {
    Ok(Report {
        account: account.to_owned(),
        envelope_version: session.envelope_version,
        devices: session.devices().await?.devices,
        audit: session.audit().await?.entries,
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
