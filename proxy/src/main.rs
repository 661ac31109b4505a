//! `smime-proxy`: a local intercepting HTTPS proxy that gives any webmail end-to-end
//! S/MIME. `main` parses the command line, runs one command, and turns its error into one
//! clear sentence and a non-zero exit code.

use clap::Parser;
use std::process::ExitCode;

mod cli;
mod commands;

fn main() -> ExitCode {
    // The cleanup routine starts here: no core dump of this process can hold a key.
    if let Err(problem) = smime_proxy::cleanup::disable_core_dumps() {
        eprintln!("smime-proxy: warning: {problem}");
    }
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("smime-proxy: {}", sentence(&error));
            ExitCode::FAILURE
        }
    }
}

/// `error` and its causes in one line, leaving out a cause its message already says
/// (many errors name their cause: "PATH: No space left on device").
fn sentence(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
}
