//! One module per command; `run` dispatches.

use crate::cli::{Cli, Command};
use std::process::ExitCode;

mod browser;
mod ca;
mod certs;
mod generate;
mod home;
mod init;
mod keys;
mod message;
mod passphrase;
mod rules;
mod run;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let dir = home::config_dir(cli.config_dir)?;
    match cli.command {
        Command::Init { store_passphrase_file } => init::run(&dir, store_passphrase_file.as_deref()),
        Command::Run(args) => run::run(&dir, args),
        Command::Ca(command) => ca::run(&dir, command),
        Command::Message(command) => message::run(&dir, command),
        Command::Rules(command) => rules::run(command),
        Command::Keys(command) => keys::run(&dir, command),
        Command::Certs(command) => certs::run(&dir, command),
        Command::Generate(command) => generate::run(command),
        Command::Browser(args) => browser::run(&dir, args),
    }
}

/// Writes a command's report to standard output; a reader that went away (`| head`) is
/// not an error.
fn emit(text: &str) -> anyhow::Result<()> {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
