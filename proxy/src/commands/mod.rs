//! One module per command; `run` dispatches.

use crate::cli::{Cli, Command};
use std::process::ExitCode;

mod ca;
mod home;
mod init;
mod message;
mod rules;
mod run;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let dir = home::config_dir(cli.config_dir)?;
    match cli.command {
        Command::Init => init::run(&dir),
        Command::Run(args) => run::run(&dir, args),
        Command::Ca(command) => ca::run(&dir, command),
        Command::Message(command) => message::run(command),
        Command::Rules(command) => rules::run(command),
    }
}
