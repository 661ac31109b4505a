//! The other S/MIME implementations the interop tests check against, besides OpenSSL:
//! NSS's `cmsutil` (Thunderbird's engine; Debian `libnss3-tools`) and GnuPG's `gpgsm`.
//! Each holds one identity of the test PKI in a database of its own that trusts the
//! test CA. Both take and give raw DER CMS.
//!
//! A machine without the tools skips these tests with a message, unless
//! `SMIME_PEERS_REQUIRED` is set (CI sets it: there a missing peer is a failure).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::{Output, openssl_ok, pki_file, run};

/// Whether `program` can be run; panics when it cannot and `SMIME_PEERS_REQUIRED` is set.
pub fn available(program: &str) -> bool {
    let found = Command::new(program).arg("--version").output().is_ok();
    if !found {
        assert!(
            std::env::var_os("SMIME_PEERS_REQUIRED").is_none(),
            "{program} is required (SMIME_PEERS_REQUIRED is set): apt-get install libnss3-tools gpgsm"
        );
        eprintln!("skipped: {program} is not installed (apt-get install libnss3-tools gpgsm)");
    }
    found
}

fn path(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `name`'s key and certificate as PKCS#12 with password "test" in 3DES/SHA-1 PBE, which
/// both peers read (gpgsm 2.2 cannot read OpenSSL 3's default PBES2).
fn legacy_p12(name: &str, dir: &Path) -> PathBuf {
    let out = dir.join(format!("{name}.p12"));
    let (key, cert) = (pki_file(&format!("{name}.key")), pki_file(&format!("{name}.pem")));
    #[rustfmt::skip]
    openssl_ok(&["pkcs12", "-export", "-inkey", &path(&key), "-in", &path(&cert), "-name", name,
        "-passout", "pass:test", "-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1",
        "-out", &path(&out)], b"");
    out
}

fn succeeded(what: &str, out: Output) -> Output {
    assert!(out.success, "{what} failed: {}", out.stderr);
    out
}

/// An NSS database holding one identity of the test PKI (nickname = its name).
#[derive(Debug)]
pub struct Nss {
    dir: tempfile::TempDir,
    nickname: String,
}

impl Nss {
    /// A database trusting the test CA, with `name`'s key ("alice", "bob").
    pub fn with_identity(name: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        let db = format!("sql:{}", path(dir.path()));
        let ca = path(&pki_file("ca.pem"));
        let certutil = |args: &[&str]| succeeded("certutil", run(Command::new("certutil").args(args), b""));
        certutil(&["-N", "-d", &db, "--empty-password"]);
        certutil(&["-A", "-d", &db, "-n", "smime-proxy Test CA", "-t", "C,C,C", "-i", &ca]);
        let p12 = path(&legacy_p12(name, dir.path()));
        succeeded("pk12util", run(Command::new("pk12util").args(["-i", &p12, "-d", &db, "-W", "test", "-K", ""]), b""));
        Self { dir, nickname: name.to_owned() }
    }

    fn cmsutil(&self, args: &[&str], input: &[u8]) -> Output {
        let db = format!("sql:{}", path(self.dir.path()));
        run(Command::new("cmsutil").args(args).args(["-d", &db, "-p", ""]), input)
    }

    /// `cmsutil -D`: the content of a DER EnvelopedData, or NSS's error.
    pub fn decrypt(&self, cms: &[u8]) -> Result<Vec<u8>, String> {
        let out = self.cmsutil(&["-D"], cms);
        if out.success { Ok(out.stdout) } else { Err(out.stderr) }
    }

    /// `cmsutil -D -n -h 1 -c CONTENT` of a detached DER SignedData: NSS's verdict on its
    /// first signer (`GoodSignature` when valid; cmsutil exits 0 either way), or all it said.
    pub fn verify_detached(&self, signature: &[u8], content: &[u8]) -> String {
        let file = self.dir.path().join("content");
        std::fs::write(&file, content).expect("write content");
        let out = self.cmsutil(&["-D", "-n", "-h", "1", "-c", &path(&file)], signature);
        let text = String::from_utf8_lossy(&out.stdout).into_owned() + &out.stderr;
        match text.split_once("signer0.status=") {
            Some((_, rest)) => rest.split([';', '\n']).next().unwrap_or_default().trim().to_owned(),
            None => text,
        }
    }

    /// `cmsutil -S -G -P`: `content` signed by this identity, with signing time and the
    /// SMIMECapabilities NSS announces, as an opaque DER SignedData.
    pub fn sign(&self, content: &[u8]) -> Vec<u8> {
        succeeded("cmsutil -S", self.cmsutil(&["-S", "-N", &self.nickname, "-G", "-P"], content)).stdout
    }
}

/// A GnuPG home holding one identity of the test PKI; its gpg-agent is stopped on drop.
#[derive(Debug)]
pub struct Gpgsm {
    home: tempfile::TempDir,
}

impl Gpgsm {
    /// A home trusting the test CA (no CRL checks, no dirmngr), with `name`'s key.
    pub fn with_identity(name: &str) -> Self {
        let home = tempfile::tempdir().expect("temporary directory");
        let dir = home.path();
        let write = |file: &str, text: &str| std::fs::write(dir.join(file), text).expect("write gpgsm set-up");
        write("gpgsm.conf", "disable-crl-checks\ndisable-dirmngr\n");
        write("gpg-agent.conf", "allow-loopback-pinentry\n");
        let ca = path(&pki_file("ca.pem"));
        let sha1 = String::from_utf8(openssl_ok(&["x509", "-in", &ca, "-noout", "-fingerprint", "-sha1"], b""))
            .expect("fingerprint");
        let fingerprint = sha1.trim().rsplit('=').next().expect("fingerprint").to_owned();
        write("trustlist.txt", &format!("{fingerprint} S relax\n"));
        let p12 = path(&legacy_p12(name, dir));
        let gpgsm = Self { home };
        succeeded("gpgsm --import CA", gpgsm.gpgsm(&["--import", &ca], b""));
        succeeded("gpgsm --import p12", gpgsm.with_passphrase(&["--import", &p12], |out| out.success));
        gpgsm
    }

    fn gpgsm(&self, args: &[&str], stdin: &[u8]) -> Output {
        let mut command = Command::new("gpgsm");
        command.env("GNUPGHOME", self.home.path()).args(["--batch", "--pinentry-mode", "loopback"]);
        run(command.args(["--passphrase-fd", "0"]).args(args), stdin)
    }

    /// `gpgsm ARGS` given the passphrase "test" on fd 0, tried up to three times until
    /// `done`: under load, gpgsm 2.2 with a freshly started agent now and then decrypts a
    /// PKCS#12 with a passphrase it did not get ("decryption failed; trying charset ...").
    fn with_passphrase(&self, args: &[&str], done: impl Fn(&Output) -> bool) -> Output {
        let mut out = self.gpgsm(args, b"test\n");
        for _ in 0..2 {
            if done(&out) || !out.stderr.contains("decryption failed") {
                break;
            }
            out = self.gpgsm(args, b"test\n");
        }
        out
    }

    /// `gpgsm --decrypt` of a DER EnvelopedData: its content, or gpgsm's error. Judged by
    /// the DECRYPTION_OKAY status: gpgsm also exits 2 after decrypting when it met another
    /// recipient first whose certificate it does not have.
    pub fn decrypt(&self, cms: &[u8]) -> Result<Vec<u8>, String> {
        let (file, plain) = (self.home.path().join("message.der"), self.home.path().join("decrypted"));
        std::fs::write(&file, cms).expect("write message");
        let _ = std::fs::remove_file(&plain);
        let args = ["--status-fd", "2", "--output", &path(&plain), "--decrypt", &path(&file)];
        let out = self.with_passphrase(&args, |out| out.stderr.contains("[GNUPG:] DECRYPTION_OKAY"));
        match std::fs::read(&plain) {
            Ok(content) if out.stderr.contains("[GNUPG:] DECRYPTION_OKAY") => Ok(content),
            _ => Err(out.stderr),
        }
    }

    /// `gpgsm --verify` of a detached DER SignedData: whether gpgsm reports a good
    /// signature by a fully trusted certificate, with its status lines.
    pub fn verify_detached(&self, signature: &[u8], content: &[u8]) -> (bool, String) {
        let (sig, data) = (self.home.path().join("signature.der"), self.home.path().join("content"));
        std::fs::write(&sig, signature).expect("write signature");
        std::fs::write(&data, content).expect("write content");
        let out = self.gpgsm(&["--status-fd", "1", "--verify", &path(&sig), &path(&data)], b"");
        let status = String::from_utf8_lossy(&out.stdout).into_owned();
        let good = out.success && status.contains("[GNUPG:] GOODSIG") && status.contains("TRUST_FULLY");
        (good, status + &out.stderr)
    }

    /// `gpgsm --sign`: `content` signed by this identity as an opaque DER SignedData.
    pub fn sign(&self, content: &[u8]) -> Vec<u8> {
        let file = self.home.path().join("to-sign");
        std::fs::write(&file, content).expect("write content");
        succeeded("gpgsm --sign", self.with_passphrase(&["--sign", &path(&file)], |out| out.success)).stdout
    }
}

impl Drop for Gpgsm {
    fn drop(&mut self) {
        let _ = Command::new("gpgconf").env("GNUPGHOME", self.home.path()).args(["--kill", "all"]).output();
    }
}
