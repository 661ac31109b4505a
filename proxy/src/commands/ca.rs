//! `smime-proxy ca export|install|uninstall|status`: the local CA certificate on standard
//! output, or trusted in (removed from, looked up in) the system and browser stores.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use smime_ca::{CaFiles, LocalCa};
use smime_proxy::trust_stores::{self, Action, CaCertificate, Places};

use crate::cli::{CaCommand, ExportFormat};

/// Runs one `ca` command.
pub fn run(dir: &Path, command: CaCommand) -> anyhow::Result<ExitCode> {
    let (action, args) = match command {
        CaCommand::Export { format } => return export(dir, format),
        CaCommand::Install(args) => (Action::Install, args),
        CaCommand::Uninstall(args) => (Action::Uninstall, args),
        CaCommand::Status(args) => (Action::Status, args),
    };
    let ca = if action == Action::Install { load_or_create(dir)? } else { load(dir)? };
    let home = super::home::user_home().context("cannot find the home directory: set HOME")?;
    let places = Places { home, system_root: args.system_root };
    let path = CaFiles::new(dir).cert_path();
    let certificate = CaCertificate { path: &path, pem: ca.cert_pem(), der: ca.cert_der() };
    let reports = trust_stores::apply(action, &places, certificate);
    let text: String = reports.iter().map(|r| format!("{r}\n")).collect();
    super::emit(&text)?;
    Ok(if reports.iter().any(trust_stores::Report::failed) { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The CA of `dir`, or how to make one.
pub fn load(dir: &Path) -> anyhow::Result<LocalCa> {
    let files = CaFiles::new(dir);
    if !files.exists() {
        anyhow::bail!("no local CA in {}: run `smime-proxy init` (or `smime-proxy run`) first", dir.display());
    }
    Ok(files.load()?)
}

/// The CA of `dir`, created first when there is none (as `init` and `run` do), so that
/// `ca install` can be the first command.
fn load_or_create(dir: &Path) -> anyhow::Result<LocalCa> {
    let files = CaFiles::new(dir);
    let outcome = files.load_or_create(&super::home::ca_label())?;
    if outcome.created {
        eprintln!("created a new local CA \"{}\" in {}", outcome.ca.common_name(), files.cert_path().display());
    }
    Ok(outcome.ca)
}

fn export(dir: &Path, format: ExportFormat) -> anyhow::Result<ExitCode> {
    let ca = load(dir)?;
    let bytes: Vec<u8> = match format {
        ExportFormat::Pem => ca.cert_pem().as_bytes().to_vec(),
        ExportFormat::Der => ca.cert_der().to_vec(),
        ExportFormat::SpkiSha256 => format!("{}\n", ca.spki_sha256()).into_bytes(),
    };
    std::io::stdout().write_all(&bytes).context("cannot write to standard output")?;
    Ok(ExitCode::SUCCESS)
}
