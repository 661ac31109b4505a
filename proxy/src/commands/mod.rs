//! One module per command; `run` dispatches.

use crate::cli::{Cli, Command};
use std::process::ExitCode;

mod message;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Message(command) => message::run(command),
    }
}
