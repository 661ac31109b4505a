//! The operating system's store of trusted CAs: on Debian and Ubuntu a file in
//! `/usr/local/share/ca-certificates` and `update-ca-certificates`; on Fedora a file in
//! `/etc/pki/ca-trust/source/anchors` and `update-ca-trust`. macOS and Windows need an
//! administrator's confirmation, so the command is printed for the user to run. Every path
//! is taken under `root`, so that an image being built (or a test) is changed, not `/`.

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{Action, CaCertificate, Outcome, Report};

/// The anchor's file name in the store's source directory.
const ANCHOR_NAME: &str = "smime-proxy";

/// Applies `action` to the system store of the tree at `root`.
pub(super) fn apply(action: Action, root: &Path, ca: CaCertificate<'_>) -> Report {
    match Store::detect(root) {
        Some(store) => Report { store: store.name(), outcome: store.apply(action, ca) },
        None => Report { store: "system store".to_owned(), outcome: elsewhere(action, ca.path) },
    }
}

/// macOS and Windows: the command that does it; other systems: why nothing was done.
fn elsewhere(action: Action, ca: &Path) -> Outcome {
    let ca = ca.display();
    let command = match (cfg!(target_os = "macos"), cfg!(windows), action) {
        (_, _, Action::Status) => None,
        (true, _, Action::Install) => {
            Some(format!("sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain {ca}"))
        }
        (true, _, Action::Uninstall) => Some(format!("sudo security remove-trusted-cert -d {ca}")),
        (_, true, Action::Install) => Some(format!("certutil -addstore -f ROOT {ca}")),
        (_, true, Action::Uninstall) => Some(format!("certutil -delstore ROOT \"{}\"", super::NICKNAME)),
        _ => None,
    };
    command.map_or_else(
        || {
            Outcome::Skipped(
                "no known system store here (neither update-ca-certificates nor update-ca-trust)".to_owned(),
            )
        },
        Outcome::Manual,
    )
}

/// A Linux system store under a root.
struct Store {
    kind: Kind,
    root: PathBuf,
}

#[derive(Clone, Copy)]
enum Kind {
    /// Debian, Ubuntu: ca-certificates.
    Debian,
    /// Fedora, RHEL: ca-certificates with p11-kit's update-ca-trust.
    Fedora,
}

impl Store {
    fn detect(root: &Path) -> Option<Self> {
        let has = |path: &str| root.join(path).exists();
        let kind = if has("usr/sbin/update-ca-certificates") {
            Kind::Debian
        } else if has("usr/bin/update-ca-trust") {
            Kind::Fedora
        } else {
            return None;
        };
        Some(Self { kind, root: root.to_owned() })
    }

    fn name(&self) -> String {
        format!("system store {}", self.bundle().display())
    }

    /// The CA's file in the store's source directory.
    fn anchor(&self) -> PathBuf {
        self.root.join(match self.kind {
            Kind::Debian => format!("usr/local/share/ca-certificates/{ANCHOR_NAME}.crt"),
            Kind::Fedora => format!("etc/pki/ca-trust/source/anchors/{ANCHOR_NAME}.pem"),
        })
    }

    /// The bundle programs read, which the update command rebuilds from the sources.
    fn bundle(&self) -> PathBuf {
        self.root.join(match self.kind {
            Kind::Debian => "etc/ssl/certs/ca-certificates.crt",
            Kind::Fedora => "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        })
    }

    /// True when the bundle holds the CA.
    fn trusts(&self, ca: CaCertificate<'_>) -> bool {
        std::fs::read_to_string(self.bundle()).is_ok_and(|bundle| bundle.contains(ca.pem.trim()))
    }

    fn apply(&self, action: Action, ca: CaCertificate<'_>) -> Outcome {
        let anchor = self.anchor();
        let holds_ours = std::fs::read_to_string(&anchor).is_ok_and(|text| text.trim() == ca.pem.trim());
        let result = match action {
            Action::Status => return if self.trusts(ca) { Outcome::Trusted } else { Outcome::NotTrusted },
            Action::Install if holds_ours && self.trusts(ca) => return Outcome::AlreadyTrusted,
            Action::Uninstall if !anchor.exists() && !self.trusts(ca) => return Outcome::WasAbsent,
            Action::Install => write_anchor(&anchor, ca.pem).and_then(|()| self.update(action)),
            Action::Uninstall => match std::fs::remove_file(&anchor) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => self.update(action),
            },
        };
        match result {
            Ok(()) if action == Action::Install && self.trusts(ca) => Outcome::Added,
            Ok(()) if action == Action::Uninstall && !self.trusts(ca) => Outcome::Removed,
            Ok(()) => Outcome::Failed(format!("{} was updated but the bundle does not show it", anchor.display())),
            Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => Outcome::Manual(self.as_root(action, ca)),
            Err(e) => Outcome::Failed(e.to_string()),
        }
    }

    /// Rebuilds the bundle from the sources. Debian's tool forgets a removed local CA
    /// only when it starts afresh (`--fresh`: its links are made again from the sources).
    fn update(&self, action: Action) -> std::io::Result<()> {
        let mut command = match self.kind {
            Kind::Debian => {
                let mut command = Command::new(self.root.join("usr/sbin/update-ca-certificates"));
                if action == Action::Uninstall {
                    command.arg("--fresh");
                }
                if self.root != Path::new("/") {
                    for (flag, dir) in [
                        ("--certsconf", "etc/ca-certificates.conf"),
                        ("--certsdir", "usr/share/ca-certificates"),
                        ("--localcertsdir", "usr/local/share/ca-certificates"),
                        ("--etccertsdir", "etc/ssl/certs"),
                        ("--hooksdir", "etc/ca-certificates/update.d"),
                    ] {
                        command.arg(flag).arg(self.root.join(dir));
                    }
                }
                command
            }
            // update-ca-trust has no root option: another tree is updated by its own
            // update-ca-trust (in a chroot), which the user runs.
            Kind::Fedora if self.root != Path::new("/") => {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::Unsupported,
                    format!("run `update-ca-trust extract` inside {}", self.root.display()),
                ));
            }
            Kind::Fedora => {
                let mut command = Command::new("/usr/bin/update-ca-trust");
                command.arg("extract");
                command
            }
        };
        let output = command.output()?;
        if output.status.success() {
            Ok(())
        } else {
            let said = String::from_utf8_lossy(&output.stderr);
            Err(std::io::Error::other(format!("{:?} failed: {}", command.get_program(), said.trim())))
        }
    }

    /// The commands an administrator runs to do `action`.
    fn as_root(&self, action: Action, ca: CaCertificate<'_>) -> String {
        let update = match self.kind {
            Kind::Debian => "sudo update-ca-certificates",
            Kind::Fedora => "sudo update-ca-trust extract",
        };
        let anchor = self.anchor();
        match action {
            Action::Uninstall => format!("sudo rm -f {} && {update}", anchor.display()),
            _ => format!("sudo install -m 644 {} {} && {update}", ca.path.display(), anchor.display()),
        }
    }
}

/// Writes the CA's PEM where the update command takes it from (readable by everyone: it
/// is a certificate, and every program must read the bundle).
fn write_anchor(anchor: &Path, pem: &str) -> std::io::Result<()> {
    if let Some(dir) = anchor.parent() {
        std::fs::create_dir_all(dir)?;
    }
    std::fs::write(anchor, pem)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unknown_tree_is_skipped_with_the_reason() {
        let root = tempfile::tempdir().unwrap();
        let ca = CaCertificate { path: Path::new("/x/ca.pem"), pem: "PEM", der: b"DER" };
        let report = apply(Action::Install, root.path(), ca);
        if cfg!(target_os = "linux") {
            assert!(
                matches!(&report.outcome, Outcome::Skipped(why) if why.contains("update-ca-certificates")),
                "{report}"
            );
        }
    }
}
