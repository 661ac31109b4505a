//! `smime-proxy browser [chromium|firefox]`: a browser with a throw-away profile that goes
//! through the running proxy (its PAC file) and trusts the local CA in that profile's own
//! NSS database only, opened on the webmail (like mitmproxy's `browser.start`). The
//! profile lives in a temporary directory removed when the browser exits, or on Ctrl-C.

use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, anyhow, bail};
use smime_ca::CaFiles;
use smime_proxy::run_lock::{RunLock, RunLockError};
use smime_proxy::trust_stores::{self, CaCertificate, Outcome, find_program};
use smime_proxy::{Config, Overrides};

use crate::cli::{BrowserArgs, BrowserKind};

/// Runs the browser until it exits, then removes its profile.
pub fn run(dir: &Path, args: BrowserArgs) -> anyhow::Result<ExitCode> {
    let config = Config::load(dir, &Overrides::default())?;
    let listen = running_proxy(dir)?;
    let ca = super::ca::load(dir)?;
    let ca_path = CaFiles::new(dir).cert_path();
    let ca = CaCertificate { path: &ca_path, pem: ca.pem(), der: ca.der() };
    let program = match args.program {
        Some(program) => program,
        None => find_browser(args.browser)?,
    };
    let url = args.url.unwrap_or_else(|| start_url(&config));
    let pac = format!("http://{listen}/proxy.pac");

    let profile = tempfile::Builder::new()
        .prefix("smime-proxy-browser-")
        .tempdir()
        .context("cannot create the browser's temporary profile")?;
    let mut command = tokio::process::Command::new(&program);
    let setup = Setup { profile: profile.path(), pac: &pac, ca, headless: args.headless };
    match args.browser {
        BrowserKind::Chromium => chromium(&mut command, &setup)?,
        BrowserKind::Firefox => firefox(&mut command, &setup)?,
    }
    command.args(&args.browser_args).arg(&url).kill_on_drop(true);
    eprintln!(
        "starting {} through {pac} on {url}, with a throw-away profile in {} (removed when it exits)",
        program.display(),
        profile.path().display()
    );
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let status = runtime.block_on(async {
        let mut child = command.spawn().with_context(|| format!("cannot start {}", program.display()))?;
        tokio::select! {
            status = child.wait() => Ok(Some(status?)),
            _ = tokio::signal::ctrl_c() => {
                child.kill().await.ok();
                anyhow::Ok(None)
            }
        }
    })?;
    profile.close().context("cannot remove the browser's temporary profile")?;
    Ok(if status.is_some_and(|s| s.success()) { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}

/// The address of the `run` of this configuration directory (its lock file names it), or
/// why there is none: a browser without its proxy would find nothing.
fn running_proxy(dir: &Path) -> anyhow::Result<SocketAddr> {
    match RunLock::acquire(dir) {
        Err(RunLockError::Held { listen: Some(listen), .. })
            if TcpStream::connect_timeout(&listen, Duration::from_secs(2)).is_ok() =>
        {
            Ok(listen)
        }
        Err(RunLockError::Held { .. }) => {
            bail!("the smime-proxy run of {} does not answer yet: try again", dir.display())
        }
        Err(error @ RunLockError::Io { .. }) => Err(error.into()),
        Ok(_) => bail!("no smime-proxy runs with {}: start `smime-proxy run` first", dir.display()),
    }
}

/// The first configured webmail, else the proxy's own page.
fn start_url(config: &Config) -> String {
    match config.sites.iter().next() {
        Some(site) if site.port == 443 => format!("https://{}/", site.host),
        Some(site) => format!("https://{}:{}/", site.host, site.port),
        None => format!("https://{}/", config.origin),
    }
}

fn find_browser(kind: BrowserKind) -> anyhow::Result<PathBuf> {
    let names: &[&str] = match kind {
        BrowserKind::Chromium => &["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"],
        BrowserKind::Firefox => &["firefox", "firefox-esr"],
    };
    names
        .iter()
        .find_map(|name| find_program(name))
        .ok_or_else(|| anyhow!("none of {} is on the PATH: install one, or name it with --program", names.join(", ")))
}

/// Trusts the CA in the NSS database in `db`, or says why not.
fn trust(db: &Path, ca: CaCertificate<'_>) -> anyhow::Result<()> {
    match trust_stores::trust_in_nss_database(db, ca) {
        Outcome::Added | Outcome::AlreadyTrusted | Outcome::Replaced => Ok(()),
        Outcome::Skipped(why) | Outcome::Failed(why) | Outcome::Manual(why) => {
            bail!("cannot make the profile trust the CA: {why}")
        }
        other => bail!("cannot make the profile trust the CA: {other:?}"),
    }
}

/// What a browser's throw-away profile is made of.
struct Setup<'a> {
    /// The temporary directory holding the profile.
    profile: &'a Path,
    /// The proxy's PAC file URL.
    pac: &'a str,
    /// The CA the profile trusts.
    ca: CaCertificate<'a>,
    /// Without a window.
    headless: bool,
}

/// Chromium reads its certificates from `$HOME/.pki/nssdb`: the child gets a home of its
/// own in the profile, whose database holds only the local CA.
fn chromium(command: &mut tokio::process::Command, setup: &Setup<'_>) -> anyhow::Result<()> {
    let home = setup.profile.join("home");
    trust(&home.join(".pki/nssdb"), setup.ca)?;
    command.env("HOME", &home).args([
        format!("--user-data-dir={}", setup.profile.join("chromium").display()),
        format!("--proxy-pac-url={}", setup.pac),
        "--no-first-run".to_owned(),
        "--no-default-browser-check".to_owned(),
    ]);
    if setup.headless {
        command.arg("--headless");
    }
    Ok(())
}

/// Firefox: a profile whose `user.js` sets the PAC file and whose `cert9.db` holds the CA.
fn firefox(command: &mut tokio::process::Command, setup: &Setup<'_>) -> anyhow::Result<()> {
    let dir = setup.profile.join("firefox");
    trust(&dir, setup.ca)?;
    std::fs::write(dir.join("user.js"), firefox_prefs(setup.pac))
        .context("cannot write the Firefox profile's user.js")?;
    command.arg("-profile").arg(&dir).args(["-no-remote", "-new-instance"]);
    if setup.headless {
        command.arg("-headless");
    }
    Ok(())
}

/// The Firefox preferences of the throw-away profile: the PAC file, and no first-run pages.
fn firefox_prefs(pac: &str) -> String {
    let pac = serde_json::Value::from(pac);
    format!(
        "user_pref(\"network.proxy.type\", 2);\n\
         user_pref(\"network.proxy.autoconfig_url\", {pac});\n\
         user_pref(\"browser.shell.checkDefaultBrowser\", false);\n\
         user_pref(\"browser.aboutwelcome.enabled\", false);\n\
         user_pref(\"browser.startup.homepage_override.mstone\", \"ignore\");\n\
         user_pref(\"datareporting.policy.dataSubmissionEnabled\", false);\n\
         user_pref(\"toolkit.telemetry.reportingpolicy.firstRun\", false);\n"
    )
}
