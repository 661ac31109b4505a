//! Shared support for the cross-crate integration tests in `tests/tests/`: the throwaway
//! test PKI (made by `tests/pki/generate.sh`) and a small runner for the `openssl` CLI,
//! the peer every interop test checks against; [`peers`] for NSS and GnuPG.

pub mod peers;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

/// The test PKI directory, generated once per test process (see `tests/pki/generate.sh`
/// for its contents).
pub fn pki() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temporary directory");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("pki/generate.sh");
        let status = Command::new("bash").arg(&script).arg(dir.path()).status().expect("run generate.sh");
        assert!(status.success(), "tests/pki/generate.sh failed");
        dir
    })
    .path()
}

/// A file of the test PKI, e.g. `pki_file("alice.pem")`.
pub fn pki_file(name: &str) -> PathBuf {
    pki().join(name)
}

/// Reads a file of the test PKI.
pub fn pki_bytes(name: &str) -> Vec<u8> {
    std::fs::read(pki_file(name)).unwrap_or_else(|e| panic!("read {name}: {e}"))
}

/// The result of one `openssl` run.
#[derive(Debug)]
pub struct Output {
    /// Exit status was zero.
    pub success: bool,
    /// The exit code, if the process exited normally.
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error, as text.
    pub stderr: String,
}

/// Runs `openssl ARGS` with `stdin` as input.
pub fn openssl(args: &[&str], stdin: &[u8]) -> Output {
    run(Command::new("openssl").args(args), stdin)
}

/// Runs `command` with `stdin` as its input and collects what it prints.
pub fn run(command: &mut Command, stdin: &[u8]) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {:?}: {e}", command.get_program()));
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for the child");
    let _ = writer.join();
    Output {
        success: out.status.success(),
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into(),
    }
}

/// Runs `openssl ARGS` and panics with its stderr unless it succeeds.
pub fn openssl_ok(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    let out = openssl(args, stdin);
    assert!(out.success, "openssl {} failed: {}", args.join(" "), out.stderr);
    out.stdout
}

/// A small RFC 5322 test message with CRLF line endings, dated now (a signature made
/// now must be within an hour of the Date field to be valid).
pub fn sample_message(from: &str, to: &str, body: &str) -> Vec<u8> {
    let date = time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc2822)
        .expect("the current time formats as RFC 2822");
    format!(
        "From: {from}\r\nTo: {to}\r\nSubject: test message\r\nDate: {date}\r\n\
         Message-ID: <test-1@example.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    )
    .into_bytes()
}

/// A DER TLV with a single-byte `tag` around `content` (short or long length form), for
/// tests that build or rearrange ASN.1 by hand.
pub fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let len = content.len();
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len.to_be_bytes().into_iter().skip_while(|b| *b == 0).collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}
