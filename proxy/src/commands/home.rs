//! The configuration directory (`--config-dir`, `$SMIME_PROXY_HOME`, or the platform's
//! config dir) and the label that names this machine's CA.

use std::path::PathBuf;

use anyhow::Context as _;

/// The directory to use: the one given, else the platform default.
pub fn config_dir(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    if let Some(dir) = given {
        return Ok(dir);
    }
    platform_config_dir()
        .map(|base| base.join("smime-proxy"))
        .context("cannot find a configuration directory: set --config-dir or SMIME_PROXY_HOME")
}

/// The user's home directory (`$HOME`, `%USERPROFILE%` on Windows).
pub fn user_home() -> Option<PathBuf> {
    std::env::home_dir().filter(|h| !h.as_os_str().is_empty())
}

/// `$XDG_CONFIG_HOME` or `~/.config` (Linux, BSD), `~/Library/Application Support`
/// (macOS), `%APPDATA%` (Windows).
fn platform_config_dir() -> Option<PathBuf> {
    let env = |name| std::env::var_os(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if cfg!(windows) {
        env("APPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library/Application Support"))
    } else {
        env("XDG_CONFIG_HOME").or_else(|| env("HOME").map(|h| h.join(".config")))
    }
}

/// The host name (or, failing that, the user name) shown in the CA's name.
pub fn ca_label() -> String {
    let hostname = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .or_else(|| std::env::var("HOSTNAME").ok());
    hostname
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .unwrap_or_else(|| "this machine".to_owned())
}
