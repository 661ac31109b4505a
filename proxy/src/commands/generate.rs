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
            for shell in [Shell::Zsh, Shell::Fish] {
                clap_complete::generate_to(shell, &mut cli, "smime-proxy", &dir)
                    .with_context(|| format!("cannot write the {shell} completions into {}", dir.display()))?;
            }
            let path = dir.join("smime-proxy.bash");
            std::fs::write(&path, bash_completions(&mut cli))
                .with_context(|| format!("cannot write {}", path.display()))?;
            dir
        }
    };
    eprintln!("written into {}", written.display());
    Ok(ExitCode::SUCCESS)
}

fn create(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))
}

/// The bash completions. clap_complete spells the state of a subcommand of a hyphenated
/// program two ways (`smime__proxy__subcmd__ca` where it is set, `smime__subcmd__proxy__subcmd__ca`
/// where it is matched), so nothing after the first word completes (clap-rs/clap#6421):
/// the matched spelling is made the set one.
fn bash_completions(cli: &mut clap::Command) -> String {
    let mut script = Vec::new();
    clap_complete::generate(Shell::Bash, cli, "smime-proxy", &mut script);
    String::from_utf8_lossy(&script).replace("smime__subcmd__proxy", "smime__proxy")
}
