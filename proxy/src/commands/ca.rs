//! `smime-proxy ca export|install|uninstall|status`: the local CA certificate on standard
//! output, or trusted in (removed from, looked up in) the system and browser stores.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use smime_ca::{CaFiles, RootCertificate};
use smime_proxy::trust_stores::{self, Action, CaCertificate, Places};

use crate::cli::{CaCommand, ExportFormat};

/// Runs one `ca` command.
pub fn run(dir: &Path, command: CaCommand) -> anyhow::Result<ExitCode> {
    let (action, args) = match command {
        CaCommand::Export { format } => return export(dir, format),
        CaCommand::Install { stores, store_passphrase_file } => {
            if let Some(ca) = super::init::create_ca_if_missing(dir, store_passphrase_file.as_deref())? {
                let path = CaFiles::new(dir).cert_path();
                eprintln!("created a new local CA \"{}\" in {}", ca.certificate().common_name(), path.display());
            }
            (Action::Install, stores)
        }
        CaCommand::Uninstall(stores) => (Action::Uninstall, stores),
        CaCommand::Status(stores) => (Action::Status, stores),
    };
    let ca = load(dir)?;
    let home = super::home::user_home().context("cannot find the home directory: set HOME")?;
    let places = Places { home, system_root: args.system_root };
    let path = CaFiles::new(dir).cert_path();
    let certificate = CaCertificate { path: &path, pem: ca.pem(), der: ca.der() };
    let reports = trust_stores::apply(action, &places, certificate);
    let text: String = reports.iter().map(|r| format!("{r}\n")).collect();
    super::emit(&text)?;
    Ok(if reports.iter().any(trust_stores::Report::failed) { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}

/// The public certificate of `dir`'s CA, or how to make one: never its (sealed) key.
pub fn load(dir: &Path) -> anyhow::Result<RootCertificate> {
    let files = CaFiles::new(dir);
    if !files.cert_path().is_file() {
        anyhow::bail!("no local CA in {}: run `smime-proxy init` (or `smime-proxy run`) first", dir.display());
    }
    Ok(files.certificate()?)
}

fn export(dir: &Path, format: ExportFormat) -> anyhow::Result<ExitCode> {
    let ca = load(dir)?;
    let bytes: Vec<u8> = match format {
        ExportFormat::Pem => ca.pem().as_bytes().to_vec(),
        ExportFormat::Der => ca.der().to_vec(),
        ExportFormat::SpkiSha256 => format!("{}\n", ca.spki_sha256()).into_bytes(),
    };
    std::io::stdout().write_all(&bytes).context("cannot write to standard output")?;
    Ok(ExitCode::SUCCESS)
}
