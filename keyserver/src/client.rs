//! The client half, for the proxy: registration, login with key release, and the
//! device-signed requests (devices, revocation, audit log, envelope updates), over HTTPS
//! with the caller's verified rustls configuration.
//!
//! The client checks what a server cannot be trusted with: the server's OPAQUE public key
//! against the pinned one, the envelope's account binding and key commitment, and the
//! envelope version against the caller's high-water mark (a rolled-back envelope is
//! refused).

use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use hyper::{Method, Request, StatusCode};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Serialize;
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::device::{self, DeviceKey};
use crate::envelope::{self, Header};
use crate::opaque::{ClientOutcome, PendingLogin, PendingRegistration};
use crate::{Error, wire};

/// The largest answer the client reads.
const MAX_ANSWER: usize = 2 * envelope::MAX_LEN + 64 * 1024;
/// How long one request may take.
const TIMEOUT: Duration = Duration::from_secs(30);

/// A key server, as the proxy talks to it.
#[derive(Debug, Clone)]
pub struct KeyServer {
    url: String,
    pinned_key: Vec<u8>,
    http: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
}

/// A device logged in to an account: signs its requests; holds the export key so that it
/// can seal a new envelope. Wiped when dropped.
pub struct DeviceSession {
    server: KeyServer,
    key: DeviceKey,
    token: Zeroizing<String>,
    /// This device's id.
    pub device_id: String,
    /// The account's id.
    pub account_id: [u8; 16],
    /// The envelope version current at login (or after the last update).
    pub envelope_version: u64,
    export_key: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for DeviceSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceSession")
            .field("device_id", &self.device_id)
            .field("envelope_version", &self.envelope_version)
            .finish_non_exhaustive()
    }
}

/// A completed login.
#[derive(Debug)]
pub struct LoggedIn {
    /// The session, for device-signed requests.
    pub session: DeviceSession,
    /// The envelope's payload (the key material), when released.
    pub payload: Option<Zeroizing<Vec<u8>>>,
}

impl KeyServer {
    /// A client for the server at `url` (`https://host:port`), trusting `tls`'s roots and
    /// pinning the server's OPAQUE public key `pinned_key`.
    pub fn new(url: &str, tls: Arc<rustls::ClientConfig>, pinned_key: Vec<u8>) -> Result<Self, Error> {
        let url = url.trim_end_matches('/').to_owned();
        if !url.starts_with("https://") || url.parse::<hyper::Uri>().is_err() {
            return Err(Error::Transport { url, reason: "the URL must be https://HOST[:PORT]".into() });
        }
        let mut tls = (*tls).clone();
        // hyper-rustls announces the protocols it speaks itself.
        tls.alpn_protocols.clear();
        let connector =
            hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls).https_only().enable_http1().build();
        let http = Client::builder(TokioExecutor::new()).build(connector);
        Ok(Self { url, pinned_key, http })
    }

    /// The server's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Registers with a one-time enrolment token: OPAQUE registration, then envelope
    /// version 1 sealing `payload`. Returns the enrolled e-mail address and the session.
    pub async fn register(
        &self,
        enrolment_token: &str,
        password: &[u8],
        payload: &[u8],
        device_name: &str,
    ) -> Result<(String, DeviceSession), Error> {
        let (pending, request) = PendingRegistration::start(password)?;
        let started: wire::RegisterStarted = self
            .call(
                Method::POST,
                "/v1/register/start",
                &wire::RegisterStart { v: wire::VERSION, enrolment_token: enrolment_token.into(), request },
                None,
            )
            .await?;
        let account_id = account_id(&started.account_id)?;
        let response = started.response;
        let outcome = stretch(password, move |pw| pending.finish(pw, &response)).await?;
        self.check_pin(&outcome.server_public_key)?;
        let envelope = envelope::seal(Header { version: 1, account_id }, &outcome.export_key, payload)?;
        let key = DeviceKey::generate();
        let device = wire::DeviceHello { public_key: key.public_key(), name: device_name.into() };
        let finish = wire::RegisterFinish {
            v: wire::VERSION,
            enrolment_token: enrolment_token.into(),
            upload: outcome.message,
            envelope,
            device,
        };
        let session: wire::Session = self.call(Method::POST, "/v1/register/finish", &finish, None).await?;
        Ok((started.email, self.session(session, key, outcome.export_key)?))
    }

    /// Logs in as `email`. With `release`, the server hands out the envelope and its
    /// payload is returned, after checking it against the account and `min_version`.
    pub async fn login(
        &self,
        email: &str,
        password: &[u8],
        device_name: &str,
        min_version: u64,
        release: bool,
    ) -> Result<LoggedIn, Error> {
        let (session, outcome) = self.prove_password(email, password).await?;
        let key = DeviceKey::generate();
        let device = wire::DeviceHello { public_key: key.public_key(), name: device_name.into() };
        let finish =
            wire::LoginFinish { v: wire::VERSION, session, ke3: outcome.message, device, release_envelope: release };
        let mut answer: wire::Session = self.call(Method::POST, "/v1/login/finish", &finish, None).await?;
        let sealed = answer.envelope.take();
        let session = self.session(answer, key, outcome.export_key)?;
        let payload = match sealed {
            Some(sealed) => {
                let (header, payload) = envelope::open(&sealed, &session.export_key, &session.account_id, min_version)?;
                if header.version != session.envelope_version {
                    return Err(Error::EnvelopeRefused("its version is not the one the server announced"));
                }
                Some(payload)
            }
            None if release => return Err(Error::EnvelopeRefused("the server released no envelope")),
            None => None,
        };
        Ok(LoggedIn { session, payload })
    }

    /// Changes the password of `email`: a login with `current` (counted like any; a wrong
    /// one is [`Error::LoginRefused`]) authorises a fresh OPAQUE registration of `new`, and
    /// the key is re-sealed under it as the next envelope version (refusing an envelope
    /// older than `min_version`). The server swaps record and envelope together: the old
    /// password works until then, only the new one after. Returns the new version.
    pub async fn change_password(
        &self,
        email: &str,
        current: &[u8],
        new: &[u8],
        min_version: u64,
    ) -> Result<u64, Error> {
        let (session, outcome) = self.prove_password(email, current).await?;
        let (registration, request) = PendingRegistration::start(new)?;
        let start = wire::PasswordStart { v: wire::VERSION, session, ke3: outcome.message, request };
        let started: wire::PasswordStarted = self.call(Method::POST, "/v1/password/start", &start, None).await?;
        let account_id = account_id(&started.account_id)?;
        let (header, payload) = envelope::open(&started.envelope, &outcome.export_key, &account_id, min_version)?;
        if header.version != started.envelope_version {
            return Err(Error::EnvelopeRefused("its version is not the one the server announced"));
        }
        let response = started.response;
        let registered = stretch(new, move |pw| registration.finish(pw, &response)).await?;
        self.check_pin(&registered.server_public_key)?;
        let next = Header { version: header.version + 1, account_id };
        let finish = wire::PasswordFinish {
            v: wire::VERSION,
            ticket: started.ticket,
            upload: registered.message,
            envelope: envelope::seal(next, &registered.export_key, &payload)?,
        };
        let stored: wire::EnvelopeStored = self.call(Method::POST, "/v1/password/finish", &finish, None).await?;
        Ok(stored.envelope_version)
    }

    /// The first half of every login: KE1 (counted by the server), KE2 checked with the
    /// password and against the pinned key. Returns the server's session and the outcome
    /// (KE3 to send, the export key).
    async fn prove_password(&self, email: &str, password: &[u8]) -> Result<(String, ClientOutcome), Error> {
        let (pending, ke1) = PendingLogin::start(password)?;
        let started: wire::LoginStarted = self
            .call(
                Method::POST,
                "/v1/login/start",
                &wire::LoginStart { v: wire::VERSION, email: email.into(), ke1 },
                None,
            )
            .await?;
        let ke2 = started.ke2;
        let outcome = match stretch(password, move |pw| pending.finish(pw, &ke2)).await {
            Err(Error::WrongPassword) => return Err(Error::LoginRefused { guesses_left: started.guesses_left }),
            other => other?,
        };
        self.check_pin(&outcome.server_public_key)?;
        Ok((started.session, outcome))
    }

    fn check_pin(&self, server_key: &[u8]) -> Result<(), Error> {
        if crate::envelope::ct_eq(server_key, &self.pinned_key) { Ok(()) } else { Err(Error::ServerKeyMismatch) }
    }

    fn session(
        &self,
        answer: wire::Session,
        key: DeviceKey,
        export_key: Zeroizing<Vec<u8>>,
    ) -> Result<DeviceSession, Error> {
        Ok(DeviceSession {
            server: self.clone(),
            key,
            token: Zeroizing::new(answer.device_token),
            device_id: answer.device_id,
            account_id: account_id(&answer.account_id)?,
            envelope_version: answer.envelope_version,
            export_key,
        })
    }

    async fn call<T: DeserializeOwned>(
        &self,
        method: Method,
        path: &str,
        body: &impl Serialize,
        signer: Option<&DeviceSession>,
    ) -> Result<T, Error> {
        let transport = |reason: String| Error::Transport { url: self.url.clone(), reason };
        let body = if method == Method::GET {
            Vec::new()
        } else {
            serde_json::to_vec(body).map_err(|e| transport(e.to_string()))?
        };
        let mut request = Request::builder()
            .method(method.clone())
            .uri(format!("{}{path}", self.url))
            .header("content-type", "application/json");
        if let Some(session) = signer {
            let time = unix_now();
            let signature = session.key.sign(method.as_str(), path, time, &body);
            request = request
                .header(device::TOKEN_HEADER, session.token.as_str())
                .header(device::TIME_HEADER, time.to_string())
                .header(device::SIGNATURE_HEADER, STANDARD.encode(signature));
        }
        let request = request.body(Full::new(Bytes::from(body))).map_err(|e| transport(e.to_string()))?;
        let response = tokio::time::timeout(TIMEOUT, self.http.request(request))
            .await
            .map_err(|_| transport("no answer within 30 seconds".into()))?
            .map_err(|e| transport(error_chain(&e)))?;
        let status = response.status();
        let body = tokio::time::timeout(TIMEOUT, Limited::new(response.into_body(), MAX_ANSWER).collect())
            .await
            .map_err(|_| transport("the answer did not arrive within 30 seconds".into()))?
            .map_err(|e| transport(format!("the answer could not be read: {e}")))?
            .to_bytes();
        if status.is_success() {
            return serde_json::from_slice(&body)
                .map_err(|e| transport(format!("the answer is not what this client expects: {e}")));
        }
        let message = serde_json::from_slice::<wire::Problem>(&body)
            .map(|p| p.error)
            .unwrap_or_else(|_| format!("HTTP {}", status.as_u16()));
        Err(Error::Server { status: status.as_u16(), message })
    }
}

impl DeviceSession {
    /// The account's devices.
    pub async fn devices(&self) -> Result<wire::Devices, Error> {
        self.server.call(Method::GET, "/v1/devices", &(), Some(self)).await
    }

    /// Revokes a device (its token stops working at once).
    pub async fn revoke(&self, device_id: &str) -> Result<wire::Devices, Error> {
        self.server
            .call(
                Method::POST,
                "/v1/devices/revoke",
                &wire::Revoke { v: wire::VERSION, device_id: device_id.into() },
                Some(self),
            )
            .await
    }

    /// The account's audit log; refused if its hash chain is broken.
    pub async fn audit(&self) -> Result<wire::Audit, Error> {
        let audit: wire::Audit = self.server.call(Method::GET, "/v1/audit", &(), Some(self)).await?;
        if !crate::audit::chain_is_intact(&audit.entries) {
            return Err(Error::BrokenAuditChain);
        }
        Ok(audit)
    }

    /// Seals `payload` as the next envelope version and stores it (a rotated certificate,
    /// a replaced key). Returns the new version.
    pub async fn replace_payload(&mut self, payload: &[u8]) -> Result<u64, Error> {
        let version = self.envelope_version + 1;
        let sealed = envelope::seal(Header { version, account_id: self.account_id }, &self.export_key, payload)?;
        self.put_envelope(sealed).await
    }

    /// Stores an already sealed envelope (tests use it to try what a client would not).
    pub async fn put_envelope(&mut self, sealed: Vec<u8>) -> Result<u64, Error> {
        let stored: wire::EnvelopeStored = self
            .server
            .call(Method::PUT, "/v1/envelope", &wire::EnvelopeUpdate { v: wire::VERSION, envelope: sealed }, Some(self))
            .await?;
        self.envelope_version = stored.envelope_version;
        Ok(stored.envelope_version)
    }
}

/// Runs an OPAQUE client step (which runs Argon2id, a quarter of a second) off the async
/// threads.
async fn stretch<T: Send + 'static>(
    password: &[u8],
    step: impl FnOnce(&[u8]) -> Result<T, Error> + Send + 'static,
) -> Result<T, Error> {
    let password = Zeroizing::new(password.to_vec());
    tokio::task::spawn_blocking(move || step(&password))
        .await
        .map_err(|_| Error::Malformed("client step (it was interrupted)"))?
}

fn account_id(bytes: &[u8]) -> Result<[u8; 16], Error> {
    bytes.try_into().map_err(|_| Error::BadEnvelope("the server sent an account id that is not 16 bytes"))
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// Whether an error is the server's answer with this status.
pub fn is_status(error: &Error, status: StatusCode) -> bool {
    matches!(error, Error::Server { status: s, .. } if *s == status.as_u16())
}
