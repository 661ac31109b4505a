//! One NSS database (`cert9.db`, the `sql:` format), changed with NSS's own `certutil`
//! (Debian's libnss3-tools): the CA is added under [`NICKNAME`] with the trust flags `C,,`
//! (a CA for TLS servers only, not for e-mail or code).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use super::{Action, CaCertificate, Outcome};

/// The name the CA has in every NSS database.
pub const NICKNAME: &str = "smime-proxy local CA";

/// Said when `certutil` is not on the PATH.
const CERTUTIL_MISSING: &str =
    "certutil not found: install libnss3-tools (Debian, Ubuntu) or nss-tools (Fedora), then run this again";

/// Applies `action` to the database in directory `db`. Install creates the database when
/// the directory has none (Chromium creates `~/.pki/nssdb` only on its first start).
pub(super) fn apply(action: Action, db: &Path, ca: CaCertificate<'_>) -> Outcome {
    let Some(certutil) = find_program("certutil") else { return Outcome::Skipped(CERTUTIL_MISSING.to_owned()) };
    let database = Database { certutil, db };
    let exists = db.join("cert9.db").is_file();
    if !exists && action != Action::Install {
        return if action == Action::Status { Outcome::NotTrusted } else { Outcome::WasAbsent };
    }
    let result = match action {
        Action::Status => database.current().map(|held| match held {
            Some(der) if der == ca.der => Outcome::Trusted,
            Some(_) => Outcome::OtherCa,
            None => Outcome::NotTrusted,
        }),
        Action::Install => (|| {
            if !exists {
                std::fs::create_dir_all(db).map_err(|e| format!("cannot create {}: {e}", db.display()))?;
                database.run(&["-N", "--empty-password"], None)?;
            }
            match database.current()? {
                Some(der) if der == ca.der => Ok(Outcome::AlreadyTrusted),
                Some(_) => {
                    database.remove_all()?;
                    database.run(&["-A", "-t", "C,,", "-n", NICKNAME], Some(ca.der))?;
                    Ok(Outcome::Replaced)
                }
                None => {
                    database.run(&["-A", "-t", "C,,", "-n", NICKNAME], Some(ca.der))?;
                    Ok(Outcome::Added)
                }
            }
        })(),
        Action::Uninstall => {
            database.remove_all().map(|removed| if removed { Outcome::Removed } else { Outcome::WasAbsent })
        }
    };
    result.unwrap_or_else(Outcome::Failed)
}

/// `certutil` on one database.
struct Database<'a> {
    certutil: PathBuf,
    db: &'a Path,
}

impl Database<'_> {
    /// The DER of the certificate held under [`NICKNAME`], if any.
    fn current(&self) -> Result<Option<Vec<u8>>, String> {
        match self.output(&["-L", "-n", NICKNAME, "-r"], None)? {
            found if found.status.success() && !found.stdout.is_empty() => Ok(Some(found.stdout)),
            // Not found, or the database cannot be read: listing it tells which.
            _ => self.run(&["-L"], None).map(|_| None),
        }
    }

    /// Deletes every certificate under [`NICKNAME`]; true when there was one.
    fn remove_all(&self) -> Result<bool, String> {
        let mut removed = false;
        while self.current()?.is_some() {
            self.run(&["-D", "-n", NICKNAME], None)?;
            removed = true;
        }
        Ok(removed)
    }

    /// Runs certutil with `args`; its error output becomes the error.
    fn run(&self, args: &[&str], input: Option<&[u8]>) -> Result<Vec<u8>, String> {
        let output = self.output(args, input)?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            let said = String::from_utf8_lossy(&output.stderr);
            Err(format!("certutil {} said: {}", args[0], said.trim()))
        }
    }

    fn output(&self, args: &[&str], input: Option<&[u8]>) -> Result<Output, String> {
        let mut child = Command::new(&self.certutil)
            .arg("-d")
            .arg(format!("sql:{}", self.db.display()))
            .args(args)
            .stdin(if input.is_some() { Stdio::piped() } else { Stdio::null() })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.certutil.display()))?;
        if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
            stdin.write_all(bytes).map_err(|e| format!("cannot give certutil the certificate: {e}"))?;
        }
        child.wait_with_output().map_err(|e| format!("certutil did not finish: {e}"))
    }
}

/// The first executable file called `name` on the PATH.
pub fn find_program(name: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?).map(|dir| dir.join(name)).find(|path| is_executable(path))
}

#[cfg(unix)]
fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt as _;
    path.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &Path) -> bool {
    path.is_file()
}
