//! `smime-proxy rules test [DIR]`: load the rules of DIR (or the bundled ones), run their
//! fixtures, print one line per fixture and a diff per failure.

use std::process::ExitCode;

use smime_proxy::fixtures::{FixtureSource, check_rules, default_dir};
use smime_proxy::rules::{RuleSet, load_dir};

use crate::cli::RulesCommand;

/// Runs a `rules` command.
pub fn run(command: RulesCommand) -> anyhow::Result<ExitCode> {
    let RulesCommand::Test { dir, bless } = command;
    let (rules, source) = match dir.or_else(default_dir) {
        Some(dir) => {
            let mut set = RuleSet::default();
            for rule in load_dir(&dir)? {
                set.insert(rule);
            }
            if set.iter().next().is_none() {
                anyhow::bail!("no rule files (*.toml) in {}", dir.display());
            }
            (set, FixtureSource::Dir(dir))
        }
        None => (RuleSet::bundled()?, FixtureSource::Bundled),
    };
    let report = check_rules(rules.iter(), &source, bless);
    print!("{}", report.text);
    Ok(if report.failed == 0 { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
