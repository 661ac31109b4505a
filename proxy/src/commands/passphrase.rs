//! Passphrases for the key store and PKCS#12 files: from a file named by a flag, else
//! from a no-echo prompt when standard input is a terminal, else a clear error. Never
//! from argv or the environment. Every passphrase is held in a wiping buffer.
//!
//! The prompt turns off echo on the terminal with `tcsetattr` (through `rustix`, no
//! unsafe code here) and restores it when reading ends, also on error. A Ctrl-C during
//! the prompt kills the process before the restore: `stty echo` (or `reset`) brings echo
//! back, as with every no-echo prompt.

use std::io::{BufRead as _, IsTerminal as _, Write as _};
use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};
use zeroize::Zeroizing;

/// The passphrase in `file`, else one asked for on the terminal with `label`; without a
/// file and without a terminal, an error naming `flag`.
pub fn obtain(file: Option<&Path>, flag: &str, label: &str) -> Result<Zeroizing<Vec<u8>>> {
    if let Some(path) = file {
        return from_file(path, flag);
    }
    if !can_prompt() {
        bail!("{label} needed: give {flag} FILE (there is no terminal to ask on)");
    }
    prompt(label)
}

/// Like [`obtain`], but a passphrase typed on the terminal is asked twice (it is being
/// set).
pub fn obtain_new(file: Option<&Path>, flag: &str, label: &str) -> Result<Zeroizing<Vec<u8>>> {
    if file.is_some() || !can_prompt() {
        return obtain(file, flag, label);
    }
    let first = prompt(&format!("new {label}"))?;
    let second = prompt(&format!("repeat the new {label}"))?;
    if first != second {
        bail!("the two passphrases differ");
    }
    Ok(first)
}

/// True when a passphrase can be asked for (standard input is a terminal).
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal()
}

/// The content of `path` without its final line break.
pub fn from_file(path: &Path, flag: &str) -> Result<Zeroizing<Vec<u8>>> {
    let mut data = Zeroizing::new(std::fs::read(path).map_err(|e| anyhow!("{flag} {}: {e}", path.display()))?);
    while data.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        data.pop();
    }
    Ok(data)
}

/// Asks on standard error, reads standard input with echo off.
pub fn prompt(label: &str) -> Result<Zeroizing<Vec<u8>>> {
    let stdin = std::io::stdin();
    let mut stderr = std::io::stderr();
    write!(stderr, "{label}: ")?;
    stderr.flush()?;
    let line = {
        let _quiet = EchoOff::new(&stdin)?;
        let mut line = Zeroizing::new(String::with_capacity(1024));
        stdin.lock().read_line(&mut line).context("reading the passphrase")?;
        line
    };
    let passphrase = line.trim_end_matches(['\n', '\r']);
    Ok(Zeroizing::new(passphrase.as_bytes().to_vec()))
}

/// Echo off on a terminal while it lives.
struct EchoOff<'a> {
    terminal: &'a std::io::Stdin,
    original: rustix::termios::Termios,
}

impl<'a> EchoOff<'a> {
    fn new(terminal: &'a std::io::Stdin) -> Result<Self> {
        use rustix::termios::{LocalModes, OptionalActions, tcgetattr, tcsetattr};
        let original = tcgetattr(terminal).context("cannot read the terminal settings")?;
        let mut quiet = original.clone();
        quiet.local_modes.remove(LocalModes::ECHO);
        quiet.local_modes.insert(LocalModes::ECHONL);
        tcsetattr(terminal, OptionalActions::Now, &quiet).context("cannot turn off echo")?;
        Ok(Self { terminal, original })
    }
}

impl Drop for EchoOff<'_> {
    fn drop(&mut self) {
        let _ = rustix::termios::tcsetattr(self.terminal, rustix::termios::OptionalActions::Now, &self.original);
    }
}

impl std::fmt::Debug for EchoOff<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EchoOff")
    }
}
