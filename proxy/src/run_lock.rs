//! One `smime-proxy run` per configuration directory. `<config-dir>/run.lock` is held with
//! an exclusive advisory lock for as long as the process lives (the kernel drops it when the
//! process ends, however it ends), and names the holder's PID and listen address, so that a
//! second `run` (or a `systemctl --user` unit next to a hand-started one) stops with a
//! message that says which process to stop.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read as _, Seek as _, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// The lock file's name in the configuration directory.
pub const LOCK_FILE: &str = "run.lock";

/// The held lock; released when dropped (or when the process ends).
#[derive(Debug)]
pub struct RunLock {
    file: File,
}

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum RunLockError {
    /// Another process holds it.
    #[error(
        "another smime-proxy run uses {dir} ({holder}): stop it first (kill {pid_hint}, or \
         `systemctl --user stop smime-proxy` if it runs as a service), or give this one another --config-dir",
        dir = dir.display(),
        holder = holder.as_deref().unwrap_or("its PID is not recorded yet"),
        pid_hint = pid.map_or_else(|| "it".to_owned(), |p| p.to_string()),
    )]
    Held {
        /// The configuration directory.
        dir: PathBuf,
        /// What the holder recorded (`PID 1234, listening on 127.0.0.1:8080`).
        holder: Option<String>,
        /// Its PID, when recorded.
        pid: Option<u32>,
    },
    /// The file could not be opened or locked.
    #[error("cannot lock {}: {source}", path.display())]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
}

impl RunLock {
    /// Takes the lock of configuration directory `dir`, or says who holds it.
    pub fn acquire(dir: &Path) -> Result<Self, RunLockError> {
        let path = dir.join(LOCK_FILE);
        let io = |source| RunLockError::Io { path: path.clone(), source };
        let mut options = OpenOptions::new();
        options.read(true).write(true).create(true).truncate(false);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&path).map_err(io)?;
        match file.try_lock() {
            Ok(()) => Ok(Self { file }),
            Err(TryLockError::WouldBlock) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                let field = |name: &str| text.lines().find_map(|l| l.strip_prefix(name)).map(str::trim);
                let pid = field("pid=").and_then(|p| p.parse().ok());
                let holder = match (pid, field("listen=")) {
                    (Some(pid), Some(listen)) => Some(format!("PID {pid}, listening on {listen}")),
                    (Some(pid), None) => Some(format!("PID {pid}")),
                    _ => None,
                };
                Err(RunLockError::Held { dir: dir.to_owned(), holder, pid })
            }
            Err(TryLockError::Error(source)) => Err(io(source)),
        }
    }

    /// Records this process and the address it listens on, for a second `run` to name.
    pub fn record(&mut self, listen: SocketAddr) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        writeln!(self.file, "pid={}\nlisten={listen}", std::process::id())?;
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_on_the_same_directory_names_the_first() {
        let dir = tempfile::tempdir().unwrap();
        let mut first = RunLock::acquire(dir.path()).unwrap();
        let err = RunLock::acquire(dir.path()).unwrap_err();
        assert!(err.to_string().contains("its PID is not recorded yet"), "{err}");
        first.record("127.0.0.1:8080".parse().unwrap()).unwrap();
        let err = RunLock::acquire(dir.path()).unwrap_err().to_string();
        let pid = std::process::id();
        assert!(
            err.contains(&format!("PID {pid}, listening on 127.0.0.1:8080")) && err.contains(&format!("kill {pid}")),
            "{err}"
        );
        drop(first);
        RunLock::acquire(dir.path()).expect("free again once the first is dropped");
    }
}
