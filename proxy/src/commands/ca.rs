//! `smime-proxy ca export`: the local CA certificate on standard output.

use std::io::Write as _;
use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use smime_ca::CaFiles;

use crate::cli::{CaCommand, ExportFormat};

/// Runs one `ca` command.
pub fn run(dir: &Path, command: CaCommand) -> anyhow::Result<ExitCode> {
    let CaCommand::Export { format } = command;
    let files = CaFiles::new(dir);
    if !files.cert_path().is_file() {
        anyhow::bail!("no local CA in {}: run `smime-proxy init` (or `smime-proxy run`) first", dir.display());
    }
    // The public certificate only: exporting never needs (nor touches) the sealed key.
    let ca = files.certificate()?;
    let bytes: Vec<u8> = match format {
        ExportFormat::Pem => ca.pem().as_bytes().to_vec(),
        ExportFormat::Der => ca.der().to_vec(),
        ExportFormat::SpkiSha256 => format!("{}\n", ca.spki_sha256()).into_bytes(),
    };
    std::io::stdout().write_all(&bytes).context("cannot write to standard output")?;
    Ok(ExitCode::SUCCESS)
}
