//! `smime-proxy generate man|completions DIR` (hidden): the man pages and the bash, zsh and
//! fish completions, made from the command line's own definition so that they never
//! disagree with it. packaging/build-deb.sh puts them into the .deb.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::CommandFactory as _;
use clap_complete::Shell;

use crate::cli::{Cli, GenerateCommand};

/// Runs one `generate` command.
pub fn run(command: GenerateCommand) -> anyhow::Result<ExitCode> {
    let mut cli = Cli::command();
    let written = match command {
        GenerateCommand::Man { dir } => {
            create(&dir)?;
            clap_mangen::generate_to(cli, &dir)
                .with_context(|| format!("cannot write the man pages into {}", dir.display()))?;
            dir
        }
        GenerateCommand::Completions { dir } => {
            create(&dir)?;
            for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
                clap_complete::generate_to(shell, &mut cli, "smime-proxy", &dir)
                    .with_context(|| format!("cannot write the {shell} completions into {}", dir.display()))?;
            }
            dir
        }
    };
    eprintln!("written into {}", written.display());
    Ok(ExitCode::SUCCESS)
}

fn create(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}
