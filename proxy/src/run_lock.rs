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
        "another smime-proxy run uses {dir} ({holder}): {stop}, or give this one another --config-dir",
        dir = dir.display(),
        holder = holder.as_deref().unwrap_or("its PID is not recorded yet"),
        stop = match (unit, pid) {
            (Some(unit), _) => format!("it runs as the systemd user service {unit}: stop it with `systemctl --user stop {unit}`"),
            (None, Some(pid)) => format!("stop it first (kill {pid}, or `systemctl --user stop smime-proxy` if it runs as a service)"),
            (None, None) => "stop it first (or `systemctl --user stop smime-proxy` if it runs as a service)".to_owned(),
        },
    )]
    Held {
        /// The configuration directory.
        dir: PathBuf,
        /// What the holder recorded (`PID 1234, listening on 127.0.0.1:8080`).
        holder: Option<String>,
        /// Its PID, when recorded.
        pid: Option<u32>,
        /// The systemd unit it runs as, when it recorded one.
        unit: Option<String>,
        /// The address it listens on, when recorded.
        listen: Option<SocketAddr>,
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
        // The first run of a new configuration directory makes it (owner-only) to hold the lock.
        let mut builder = std::fs::DirBuilder::new();
        builder.recursive(true);
        std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
        builder.create(dir).map_err(|source| RunLockError::Io { path: path.clone(), source })?;
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
                let unit = field("unit=").map(str::to_owned);
                let listen = field("listen=").and_then(|l| l.parse().ok());
                Err(RunLockError::Held { dir: dir.to_owned(), holder, pid, unit, listen })
            }
            Err(TryLockError::Error(source)) => Err(io(source)),
        }
    }

    /// Records this process, the address it listens on and the systemd unit it runs as (if
    /// any), for a second `run` to name.
    pub fn record(&mut self, listen: SocketAddr) -> std::io::Result<()> {
        self.file.set_len(0)?;
        self.file.rewind()?;
        writeln!(self.file, "pid={}\nlisten={listen}", std::process::id())?;
        if let Some(unit) = systemd_unit() {
            writeln!(self.file, "unit={unit}")?;
        }
        self.file.flush()
    }
}

/// The systemd service this process runs as: systemd names each service's control group
/// after it (`0::/user.slice/.../app.slice/smime-proxy.service`) and gives the process an
/// `INVOCATION_ID`.
fn systemd_unit() -> Option<String> {
    std::env::var_os("INVOCATION_ID")?;
    service_of_cgroup(&std::fs::read_to_string("/proc/self/cgroup").ok()?)
}

/// The `*.service` that ends the unified (`0::`) control group path, if it is one.
fn service_of_cgroup(cgroup: &str) -> Option<String> {
    let path = cgroup.lines().find_map(|l| l.strip_prefix("0::"))?;
    let last = path.rsplit('/').next()?;
    (last.ends_with(".service") && last.len() > ".service".len()).then(|| last.to_owned())
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

    #[test]
    fn a_holder_that_is_a_systemd_service_is_stopped_with_systemctl() {
        let dir = tempfile::tempdir().unwrap();
        let _first = RunLock::acquire(dir.path()).unwrap();
        std::fs::write(dir.path().join(LOCK_FILE), "pid=4242\nlisten=127.0.0.1:8080\nunit=smime-proxy.service\n")
            .unwrap();
        let err = RunLock::acquire(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("(PID 4242, listening on 127.0.0.1:8080): it runs as the systemd user service smime-proxy.service: stop it with `systemctl --user stop smime-proxy.service`"),
            "{err}"
        );
    }

    #[test]
    fn the_service_is_read_from_the_control_group() {
        let user = "0::/user.slice/user-1000.slice/user@1000.service/app.slice/smime-proxy.service\n";
        assert_eq!(service_of_cgroup(user).as_deref(), Some("smime-proxy.service"));
        for other in
            ["0::/user.slice/user-1000.slice/session-2.scope\n", "", "garbage", "0::/.service", "1:name=x:/a.service"]
        {
            assert_eq!(service_of_cgroup(other), None, "{other:?}");
        }
    }
}
