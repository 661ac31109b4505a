//! SMTP submission (RFC 6409) of a finished S/MIME message, for webmails that cannot send
//! one unchanged (SOGo rebuilds every message it sends). Always TLS, verified with the
//! same roots as upstream HTTPS: implicit TLS on port 465 (RFC 8314), else STARTTLS,
//! which the server must offer (no plaintext fallback). `AUTH PLAIN` with the user's
//! webmail login, held in memory only. The message goes out byte for byte (dot-stuffed).
//!
//! Small on purpose: one client, one message, no pipelining, every reply checked, every
//! step bounded in time. [`parse_reply`] reads the server's (untrusted) replies.

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use rustls::ClientConfig;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncBufReadExt as _, AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use zeroize::Zeroizing;

/// Longest reply line read (RFC 5321 allows 512; servers are generous with text).
const MAX_LINE: usize = 4096;
/// Most lines in one reply.
const MAX_LINES: usize = 200;
/// Time allowed for each step (connect, each reply; the message data gets ten of these).
const STEP: Duration = Duration::from_secs(30);

/// Where a site's submission server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submission {
    /// Host name (also the name its certificate must carry).
    pub host: String,
    /// Port: 465 for implicit TLS, anything else (587) for STARTTLS.
    pub port: u16,
}

/// One message to submit.
#[derive(Debug)]
pub struct Envelope<'a> {
    /// The login (`AUTH PLAIN` authentication identity).
    pub user: &'a str,
    /// Its password.
    pub password: &'a str,
    /// `MAIL FROM`.
    pub from: &'a str,
    /// `RCPT TO`, one each.
    pub recipients: &'a [String],
    /// The message (CRLF line ends).
    pub message: &'a [u8],
}

/// Why a submission failed. Nothing was sent unless the server accepted the data.
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// No connection, TLS failure, or the connection broke.
    #[error("cannot talk to the submission server {server}: {reason}")]
    Connect {
        /// `host:port`.
        server: String,
        /// Why.
        reason: String,
    },
    /// A step took too long.
    #[error("the submission server {0} did not answer in time")]
    Timeout(String),
    /// The server answered something that is not an SMTP reply.
    #[error("the submission server sent something that is not SMTP: {0}")]
    Protocol(String),
    /// The server refused a step.
    #[error("the submission server refused {step}: {code} {text}")]
    Refused {
        /// What was asked.
        step: &'static str,
        /// The reply code.
        code: u16,
        /// The reply text.
        text: String,
    },
    /// The server does not offer what is required.
    #[error("the submission server {server} does not offer {what}; smime-proxy sends only over TLS with a login")]
    Unsupported {
        /// `host:port`.
        server: String,
        /// `STARTTLS`, `AUTH PLAIN`.
        what: &'static str,
    },
}

/// A server's reply: its code and lines of text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// The three-digit code.
    pub code: u16,
    /// The text of each line.
    pub lines: Vec<String>,
}

/// Parses one complete reply (`ddd-text` lines ending with a `ddd text` line, CRLF or
/// LF). `Ok(None)` when more lines are needed.
pub fn parse_reply(text: &[u8]) -> Result<Option<Reply>, String> {
    let mut code = None;
    let mut lines = Vec::new();
    for raw in text.split_inclusive(|b| *b == b'\n') {
        if !raw.ends_with(b"\n") {
            return Ok(None);
        }
        let line = raw.strip_suffix(b"\n").unwrap_or(raw);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = std::str::from_utf8(line).map_err(|_| "a reply line is not UTF-8".to_owned())?;
        let digits = line.get(..3).filter(|d| d.bytes().all(|b| b.is_ascii_digit()));
        let Some(this) = digits.and_then(|d| d.parse::<u16>().ok()).filter(|c| (200..600).contains(c)) else {
            return Err(format!("`{}` does not start with a reply code", line.chars().take(60).collect::<String>()));
        };
        if code.is_some_and(|c| c != this) {
            return Err("the lines of one reply have different codes".into());
        }
        code = Some(this);
        lines.push(line.get(4..).unwrap_or_default().to_owned());
        match line.as_bytes().get(3) {
            None | Some(b' ') => return Ok(Some(Reply { code: this, lines })),
            Some(b'-') => {}
            Some(_) => return Err("a reply code is followed by neither ` ` nor `-`".into()),
        }
    }
    Ok(None)
}

/// `message` dot-stuffed (RFC 5321 4.5.2) and ended with `CRLF.CRLF`.
pub fn dot_stuffed(message: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + 64);
    let mut line_start = true;
    for &byte in message {
        if line_start && byte == b'.' {
            out.push(b'.');
        }
        out.push(byte);
        line_start = byte == b'\n';
    }
    if !out.ends_with(b"\r\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

/// Submits `envelope` to `server`, TLS verified with `tls`.
pub async fn submit(server: &Submission, tls: Arc<ClientConfig>, envelope: &Envelope<'_>) -> Result<(), SmtpError> {
    // Checked before connecting: nothing goes out, not even the login, for an envelope
    // that could inject commands.
    for address in std::iter::once(envelope.from).chain(envelope.recipients.iter().map(String::as_str)) {
        if address.contains(['<', '>', '\r', '\n']) || !address.contains('@') {
            return Err(SmtpError::Protocol(format!("`{address}` is not an address to send to")));
        }
    }
    let name = format!("{}:{}", server.host, server.port);
    let connect_error = |reason: String| SmtpError::Connect { server: name.clone(), reason };
    let sni = ServerName::try_from(server.host.clone()).map_err(|e| connect_error(e.to_string()))?;
    let tcp = tokio::time::timeout(STEP, TcpStream::connect((server.host.as_str(), server.port)))
        .await
        .map_err(|_| SmtpError::Timeout(name.clone()))?
        .map_err(|e| connect_error(e.to_string()))?;
    let connector = TlsConnector::from(tls);
    if server.port == 465 {
        let stream = tokio::time::timeout(STEP, connector.connect(sni, tcp))
            .await
            .map_err(|_| SmtpError::Timeout(name.clone()))?
            .map_err(|e| connect_error(e.to_string()))?;
        let mut session = Session::new(stream, &name);
        session.expect("the greeting", 220).await?;
        let offered = session.ehlo().await?;
        return session.send(envelope, &offered).await;
    }
    let mut plain = Session::new(tcp, &name);
    plain.expect("the greeting", 220).await?;
    let offered = plain.ehlo().await?;
    if !offered.iter().any(|l| l.eq_ignore_ascii_case("STARTTLS")) {
        return Err(SmtpError::Unsupported { server: name, what: "STARTTLS" });
    }
    plain.command("STARTTLS", b"STARTTLS\r\n", 220).await?;
    // Anything the server sent after its reply would be injected before TLS.
    if !plain.stream.buffer().is_empty() {
        return Err(SmtpError::Protocol("data after the STARTTLS reply".into()));
    }
    let tcp = plain.stream.into_inner();
    let stream = tokio::time::timeout(STEP, connector.connect(sni, tcp))
        .await
        .map_err(|_| SmtpError::Timeout(name.clone()))?
        .map_err(|e| connect_error(e.to_string()))?;
    let mut session = Session::new(stream, &name);
    let offered = session.ehlo().await?;
    session.send(envelope, &offered).await
}

/// One SMTP connection.
struct Session<S> {
    stream: BufReader<S>,
    server: String,
}

impl<S: AsyncRead + AsyncWrite + Unpin> Session<S> {
    fn new(stream: S, server: &str) -> Self {
        Self { stream: BufReader::new(stream), server: server.to_owned() }
    }

    /// Reads one reply.
    async fn reply(&mut self) -> Result<Reply, SmtpError> {
        let mut text = Vec::new();
        for _ in 0..MAX_LINES {
            let mut line = Vec::new();
            let read =
                tokio::time::timeout(STEP, (&mut self.stream).take(MAX_LINE as u64).read_until(b'\n', &mut line))
                    .await
                    .map_err(|_| SmtpError::Timeout(self.server.clone()))?
                    .map_err(|e| SmtpError::Connect { server: self.server.clone(), reason: e.to_string() })?;
            if read == 0 {
                return Err(SmtpError::Connect { server: self.server.clone(), reason: "connection closed".into() });
            }
            if !line.ends_with(b"\n") {
                return Err(SmtpError::Protocol(format!("a reply line longer than {MAX_LINE} bytes")));
            }
            text.extend_from_slice(&line);
            if let Some(reply) = parse_reply(&text).map_err(SmtpError::Protocol)? {
                return Ok(reply);
            }
        }
        Err(SmtpError::Protocol(format!("a reply of more than {MAX_LINES} lines")))
    }

    async fn expect(&mut self, step: &'static str, code: u16) -> Result<Reply, SmtpError> {
        let reply = self.reply().await?;
        if reply.code != code {
            return Err(SmtpError::Refused { step, code: reply.code, text: reply.lines.join(" ") });
        }
        Ok(reply)
    }

    async fn write(&mut self, bytes: &[u8], time: Duration) -> Result<(), SmtpError> {
        let stream = self.stream.get_mut();
        tokio::time::timeout(time, async {
            stream.write_all(bytes).await?;
            stream.flush().await
        })
        .await
        .map_err(|_| SmtpError::Timeout(self.server.clone()))?
        .map_err(|e| SmtpError::Connect { server: self.server.clone(), reason: e.to_string() })
    }

    async fn command(&mut self, step: &'static str, line: &[u8], code: u16) -> Result<Reply, SmtpError> {
        self.write(line, STEP).await?;
        self.expect(step, code).await
    }

    /// `EHLO`; returns the extensions offered.
    async fn ehlo(&mut self) -> Result<Vec<String>, SmtpError> {
        let reply = self.command("EHLO", b"EHLO smime-proxy.invalid\r\n", 250).await?;
        Ok(reply.lines.into_iter().skip(1).collect())
    }

    /// Logs in and sends the message (after TLS and `EHLO`, which `offered` extensions).
    async fn send(&mut self, e: &Envelope<'_>, offered: &[String]) -> Result<(), SmtpError> {
        let plain = offered.iter().any(|l| {
            let mut words = l.split_whitespace();
            words.next().is_some_and(|w| w.eq_ignore_ascii_case("AUTH"))
                && words.any(|m| m.eq_ignore_ascii_case("PLAIN"))
        });
        if !plain {
            return Err(SmtpError::Unsupported { server: self.server.clone(), what: "AUTH PLAIN" });
        }
        let secret = Zeroizing::new(format!("\0{}\0{}", e.user, e.password));
        let line =
            Zeroizing::new(format!("AUTH PLAIN {}\r\n", base64::engine::general_purpose::STANDARD.encode(&*secret)));
        self.command("the login", line.as_bytes(), 235).await?;
        self.command("the sender", format!("MAIL FROM:<{}>\r\n", e.from).as_bytes(), 250).await?;
        for rcpt in e.recipients {
            self.write(format!("RCPT TO:<{rcpt}>\r\n").as_bytes(), STEP).await?;
            let reply = self.reply().await?;
            if !matches!(reply.code, 250 | 251) {
                return Err(SmtpError::Refused { step: "a recipient", code: reply.code, text: reply.lines.join(" ") });
            }
        }
        self.command("the message", b"DATA\r\n", 354).await?;
        self.write(&dot_stuffed(e.message), STEP * 10).await?;
        self.expect("the message", 250).await?;
        // The message is accepted; a failing QUIT changes nothing.
        let _ = self.write(b"QUIT\r\n", STEP).await;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio::io::AsyncBufRead;
    use tokio::net::TcpListener;

    /// A TLS server identity for `localhost` and a client configuration trusting it.
    fn tls_pair() -> (Arc<rustls::ServerConfig>, Arc<ClientConfig>) {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["localhost".to_owned()]).unwrap().self_signed(&key).unwrap();
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let server = rustls::ServerConfig::builder_with_provider(Arc::clone(&provider))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(
                vec![cert.der().clone()],
                PrivateKeyDer::from(PrivatePkcs8KeyDer::from(key.serialize_der())),
            )
            .unwrap();
        let mut roots = rustls::RootCertStore::empty();
        roots.add(CertificateDer::from(cert.der().to_vec())).unwrap();
        let client = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        (Arc::new(server), Arc::new(client))
    }

    /// What a scripted server saw: the commands, and the message data.
    #[derive(Debug, Default)]
    struct Seen {
        commands: Vec<String>,
        data: Vec<u8>,
    }

    async fn line<R: AsyncBufRead + Unpin>(r: &mut R) -> String {
        let mut l = String::new();
        let _ = r.read_line(&mut l).await;
        l.trim_end().to_owned()
    }

    /// A submission server on 127.0.0.1: STARTTLS (when `starttls`), AUTH PLAIN, and
    /// `rcpt_code` for every RCPT.
    async fn server(
        starttls: bool,
        rcpt_code: u16,
        tls: Arc<rustls::ServerConfig>,
    ) -> (u16, tokio::task::JoinHandle<Seen>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            let mut seen = Seen::default();
            let (tcp, _) = listener.accept().await.unwrap();
            let mut plain = BufReader::new(tcp);
            plain.get_mut().write_all(b"220 test ESMTP\r\n").await.unwrap();
            let ehlo = line(&mut plain).await;
            seen.commands.push(ehlo);
            let offer: &[u8] = if starttls {
                b"250-test\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n"
            } else {
                b"250-test\r\n250 AUTH PLAIN\r\n"
            };
            plain.get_mut().write_all(offer).await.unwrap();
            let next = line(&mut plain).await;
            seen.commands.push(next.clone());
            if next != "STARTTLS" {
                return seen;
            }
            plain.get_mut().write_all(b"220 go ahead\r\n").await.unwrap();
            let stream = tokio_rustls::TlsAcceptor::from(tls).accept(plain.into_inner()).await.unwrap();
            let mut s = BufReader::new(stream);
            loop {
                let command = line(&mut s).await;
                if command.is_empty() {
                    return seen;
                }
                seen.commands.push(command.clone());
                let reply: Vec<u8> = match command.split(' ').next().unwrap() {
                    "EHLO" => b"250-test\r\n250 AUTH PLAIN LOGIN\r\n".to_vec(),
                    "AUTH" => b"235 ok\r\n".to_vec(),
                    "MAIL" => b"250 ok\r\n".to_vec(),
                    "RCPT" => format!("{rcpt_code} rcpt\r\n").into_bytes(),
                    "DATA" => {
                        s.get_mut().write_all(b"354 go\r\n").await.unwrap();
                        loop {
                            let mut l = Vec::new();
                            s.read_until(b'\n', &mut l).await.unwrap();
                            if l == b".\r\n" {
                                break;
                            }
                            seen.data.extend_from_slice(&l);
                        }
                        b"250 queued\r\n".to_vec()
                    }
                    "QUIT" => {
                        let _ = s.get_mut().write_all(b"221 bye\r\n").await;
                        return seen;
                    }
                    _ => b"500 what\r\n".to_vec(),
                };
                s.get_mut().write_all(&reply).await.unwrap();
            }
        });
        (port, task)
    }

    fn envelope<'a>(recipients: &'a [String], message: &'a [u8]) -> Envelope<'a> {
        Envelope { user: "alice@example.test", password: "alicepass", from: "alice@example.test", recipients, message }
    }

    #[tokio::test]
    async fn submits_over_starttls_with_auth_plain_dot_stuffed() {
        let (server_tls, client_tls) = tls_pair();
        let (port, task) = server(true, 250, server_tls).await;
        let recipients = vec!["bob@example.test".to_owned(), "carol@example.test".to_owned()];
        let message = b"Subject: x\r\n\r\n.leading dot\r\nend\r\n";
        submit(&Submission { host: "localhost".into(), port }, client_tls, &envelope(&recipients, message))
            .await
            .unwrap();
        let seen = task.await.unwrap();
        let auth = base64::engine::general_purpose::STANDARD.encode("\0alice@example.test\0alicepass");
        assert_eq!(
            seen.commands,
            [
                "EHLO smime-proxy.invalid".to_owned(),
                "STARTTLS".into(),
                "EHLO smime-proxy.invalid".into(),
                format!("AUTH PLAIN {auth}"),
                "MAIL FROM:<alice@example.test>".into(),
                "RCPT TO:<bob@example.test>".into(),
                "RCPT TO:<carol@example.test>".into(),
                "DATA".into(),
                "QUIT".into(),
            ]
        );
        assert_eq!(seen.data, b"Subject: x\r\n\r\n..leading dot\r\nend\r\n");
    }

    #[tokio::test]
    async fn no_starttls_means_nothing_is_sent_and_the_password_never_leaves() {
        let (server_tls, client_tls) = tls_pair();
        let (port, task) = server(false, 250, server_tls).await;
        let recipients = vec!["bob@example.test".to_owned()];
        let err = submit(&Submission { host: "localhost".into(), port }, client_tls, &envelope(&recipients, b"x\r\n"))
            .await
            .unwrap_err();
        assert!(matches!(err, SmtpError::Unsupported { what: "STARTTLS", .. }), "{err}");
        let seen = task.await.unwrap();
        assert!(seen.commands.iter().all(|c| !c.starts_with("AUTH")), "{:?}", seen.commands);
    }

    #[tokio::test]
    async fn an_untrusted_certificate_is_refused() {
        let (server_tls, _) = tls_pair();
        let (_, other_client) = tls_pair();
        let (port, _task) = server(true, 250, server_tls).await;
        let recipients = vec!["bob@example.test".to_owned()];
        let err =
            submit(&Submission { host: "localhost".into(), port }, other_client, &envelope(&recipients, b"x\r\n"))
                .await
                .unwrap_err();
        assert!(matches!(err, SmtpError::Connect { .. }), "{err}");
        assert!(err.to_string().contains("certificate"), "{err}");
    }

    #[tokio::test]
    async fn an_address_that_could_inject_commands_stops_before_connecting() {
        let (_, client_tls) = tls_pair();
        // Nothing listens on port 9: an attempt to connect would be a Connect error.
        let recipients = vec!["bob@example.test>\r\nRCPT TO:<eve@example.test".to_owned()];
        let err =
            submit(&Submission { host: "localhost".into(), port: 9 }, client_tls, &envelope(&recipients, b"x\r\n"))
                .await
                .unwrap_err();
        assert!(matches!(err, SmtpError::Protocol(_)), "{err}");
    }

    #[tokio::test]
    async fn a_refused_recipient_stops_before_the_data() {
        let (server_tls, client_tls) = tls_pair();
        let (port, task) = server(true, 550, server_tls).await;
        let recipients = vec!["dave@example.test".to_owned()];
        let err = submit(&Submission { host: "localhost".into(), port }, client_tls, &envelope(&recipients, b"x\r\n"))
            .await
            .unwrap_err();
        assert!(err.to_string().contains("refused a recipient: 550"), "{err}");
        drop(err);
        let seen = task.await.unwrap();
        assert!(!seen.commands.iter().any(|c| c == "DATA") && seen.data.is_empty());
    }

    #[test]
    fn replies() {
        let r = parse_reply(b"250-mail.example.test\r\n250-STARTTLS\r\n250 AUTH PLAIN LOGIN\r\n").unwrap().unwrap();
        assert_eq!(r.code, 250);
        assert_eq!(r.lines, ["mail.example.test", "STARTTLS", "AUTH PLAIN LOGIN"]);
        assert_eq!(parse_reply(b"220 ready\n").unwrap().unwrap().lines, ["ready"]);
        assert_eq!(parse_reply(b"354\r\n").unwrap().unwrap().code, 354);
        assert_eq!(parse_reply(b"250-a\r\n").unwrap(), None);
        assert_eq!(parse_reply(b"250 a").unwrap(), None);
        assert!(parse_reply(b"hello\r\n").is_err());
        assert!(parse_reply(b"250-a\r\n251 b\r\n").is_err());
        assert!(parse_reply(b"250xa\r\n").is_err());
        assert!(parse_reply(b"999 no\r\n").is_err());
        assert!(parse_reply(b"25\r\n").is_err());
        assert!(parse_reply(b"250 \xff\r\n").is_err());
    }

    #[test]
    fn dot_stuffing() {
        assert_eq!(dot_stuffed(b".a\r\nb\r\n.\r\n"), b"..a\r\nb\r\n..\r\n.\r\n");
        assert_eq!(dot_stuffed(b"x"), b"x\r\n.\r\n");
    }
}
