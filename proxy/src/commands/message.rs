//! `smime-proxy message sign|encrypt|sign-encrypt|decrypt|verify`: the engine on files.

use crate::cli::MessageCommand;
use std::process::ExitCode;

/// Runs one `message` command.
pub fn run(command: MessageCommand) -> anyhow::Result<ExitCode> {
    let _ = command;
    anyhow::bail!("not implemented yet")
}
