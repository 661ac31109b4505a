//! The HTTP API (see [`crate::wire`] for the table of routes). Handlers keep no state of
//! their own: everything lives in the [`Store`], so any replica can answer any request,
//! including the second step of a login another replica started.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use super::secrets::ServerSecrets;
use super::store::{DbError, PendingLogin, PendingPasswordChange, Store, now};
use crate::{audit, device, envelope, opaque, wire};

/// How long a login may take between KE1 and KE3.
const LOGIN_TTL_SECS: i64 = 60;

/// The guess limit: login starts per account name per window. A window in which the limit
/// was reached is followed by one twice as long (up to [`GuessLimit::GROWTH_CAP`] times the
/// window), until a login succeeds: an attacker's rate halves at every round.
#[derive(Debug, Clone, Copy)]
pub struct GuessLimit {
    /// Starts allowed per window.
    pub starts: i64,
    /// The window, in seconds.
    pub window_secs: i64,
}

impl GuessLimit {
    /// How far the window of a name that keeps reaching the limit grows: 64 times the
    /// window (16 hours at the default).
    pub const GROWTH_CAP: i64 = 64;

    /// The longest window a name can be given.
    pub fn longest_window(&self) -> i64 {
        self.window_secs.saturating_mul(Self::GROWTH_CAP)
    }
}

impl Default for GuessLimit {
    /// 5 starts per 15 minutes.
    fn default() -> Self {
        Self { starts: 5, window_secs: 15 * 60 }
    }
}

/// What every handler shares.
#[derive(Debug)]
pub struct App {
    /// The database.
    pub store: Store,
    /// The server secrets.
    pub secrets: ServerSecrets,
    /// The guess limit.
    pub limit: GuessLimit,
}

/// The router of the API.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/v1/register/start", post(register_start))
        .route("/v1/register/finish", post(register_finish))
        .route("/v1/login/start", post(login_start))
        .route("/v1/login/finish", post(login_finish))
        .route("/v1/password/start", post(password_start))
        .route("/v1/password/finish", post(password_finish))
        .route("/v1/envelope", put(envelope_update))
        .route("/v1/devices", get(devices))
        .route("/v1/devices/revoke", post(revoke))
        .route("/v1/audit", get(audit_log))
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "There is no such key-server endpoint.") })
        .layer(DefaultBodyLimit::max(wire::MAX_BODY))
        .with_state(app)
}

/// An error answer: a status and one sentence.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self { status, message: message.into() }
    }

    fn bad(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, axum::Json(wire::Problem { error: self.message })).into_response()
    }
}

impl From<DbError> for ApiError {
    fn from(e: DbError) -> Self {
        tracing::error!("{e}");
        Self::new(StatusCode::SERVICE_UNAVAILABLE, "The key server's database is not available; try again later.")
    }
}

impl From<crate::Error> for ApiError {
    fn from(e: crate::Error) -> Self {
        let status = match e {
            crate::Error::EnvelopeTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        };
        let mut message = e.to_string();
        if let Some(first) = message.get(..1) {
            message = first.to_uppercase() + &message[1..];
        }
        Self::new(status, message + ".")
    }
}

type Answer<T> = Result<axum::Json<T>, ApiError>;

/// Parses a JSON body of type `T` and checks its protocol version.
fn parse<T: DeserializeOwned + Versioned>(body: Result<Bytes, BytesRejection>) -> Result<T, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                e.status(),
                format!("The request is larger than the {} bytes a key server reads.", wire::MAX_BODY),
            )
        } else {
            ApiError::bad("The request body could not be read.")
        }
    })?;
    let parsed: T = serde_json::from_slice(&body)
        .map_err(|e| ApiError::bad(format!("The request is not valid for this endpoint: {e}.")))?;
    if parsed.version() != wire::VERSION {
        return Err(ApiError::bad(format!(
            "Protocol version {} is not supported; this key server speaks version {}.",
            parsed.version(),
            wire::VERSION
        )));
    }
    Ok(parsed)
}

/// Requests that carry a protocol version.
trait Versioned {
    fn version(&self) -> u32;
}

macro_rules! versioned {
    ($($t:ty),*) => { $(impl Versioned for $t { fn version(&self) -> u32 { self.v } })* };
}
versioned!(
    wire::RegisterStart,
    wire::RegisterFinish,
    wire::LoginStart,
    wire::LoginFinish,
    wire::PasswordStart,
    wire::PasswordFinish,
    wire::EnvelopeUpdate,
    wire::Revoke
);

pub(super) fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn account_id_bytes(id: &str) -> Vec<u8> {
    (0..id.len() / 2).filter_map(|i| u8::from_str_radix(id.get(2 * i..2 * i + 2)?, 16).ok()).collect()
}

/// The canonical form of an account name: trimmed, lower case.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub(super) fn random_token() -> String {
    URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>())
}

/// Appends an audit entry to the account's hash chain (retrying if another replica
/// appended at the same moment).
async fn log_event(app: &App, account_id: &str, event: &str, detail: &str) -> Result<(), ApiError> {
    for _ in 0..16 {
        let (seq, previous) = match app.store.audit_tail(account_id).await? {
            Some((seq, hash)) => (seq + 1, hash),
            None => (1, audit::GENESIS.to_vec()),
        };
        let at = now();
        let hash = audit::chain_hash(&previous, seq, at, event, detail);
        if app.store.append_audit(account_id, seq, at, event, detail, &hash).await? {
            return Ok(());
        }
    }
    Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "The audit log is busy; try again."))
}

fn check_device(hello: &wire::DeviceHello) -> Result<(), ApiError> {
    if !device::is_valid_public_key(&hello.public_key) {
        return Err(ApiError::bad("The device public key is not a P-256 point."));
    }
    if hello.name.trim().is_empty() || hello.name.chars().count() > 100 || hello.name.chars().any(char::is_control) {
        return Err(ApiError::bad("The device name must be 1 to 100 printable characters."));
    }
    Ok(())
}

/// Adds the device of a completed login or registration; returns (id, token).
async fn new_device(app: &App, account_id: &str, hello: &wire::DeviceHello) -> Result<(String, String), ApiError> {
    let id = hex(&rand::random::<[u8; 8]>());
    let token = random_token();
    app.store.add_device(&id, account_id, hello.name.trim(), &hello.public_key, &token_hash(&token)).await?;
    log_event(app, account_id, "device_add", &format!("{id} {}", hello.name.trim())).await?;
    Ok((id, token))
}

async fn register_start(
    State(app): State<Arc<App>>,
    body: Result<Bytes, BytesRejection>,
) -> Answer<wire::RegisterStarted> {
    let request: wire::RegisterStart = parse(body)?;
    let (id, email) = enrolment(&app, &request.enrolment_token).await?;
    let response = app.secrets.opaque.registration_response(&request.request, id.as_bytes())?;
    Ok(axum::Json(wire::RegisterStarted { account_id: account_id_bytes(&id), email, response }))
}

async fn enrolment(app: &App, token: &str) -> Result<(String, String), ApiError> {
    app.store.enrolment(&token_hash(token)).await?.ok_or_else(|| {
        ApiError::new(StatusCode::FORBIDDEN, "The enrolment token is not valid (unknown, already used or expired).")
    })
}

async fn register_finish(State(app): State<Arc<App>>, body: Result<Bytes, BytesRejection>) -> Answer<wire::Session> {
    let request: wire::RegisterFinish = parse(body)?;
    check_device(&request.device)?;
    let (id, _) = enrolment(&app, &request.enrolment_token).await?;
    let header = envelope::Header::parse(&request.envelope)?;
    if header.account_id.as_slice() != account_id_bytes(&id) || header.version != 1 {
        return Err(ApiError::bad("The first envelope must be version 1 of this account."));
    }
    let record = opaque::registration_record(&request.upload)?;
    if !app.store.register(&id, &token_hash(&request.enrolment_token), &record, &request.envelope).await? {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "The enrolment token was used by another request."));
    }
    log_event(&app, &id, "register", "envelope version 1").await?;
    let (device_id, device_token) = new_device(&app, &id, &request.device).await?;
    Ok(axum::Json(wire::Session {
        account_id: account_id_bytes(&id),
        device_id,
        device_token,
        envelope_version: 1,
        envelope: None,
    }))
}

async fn login_start(State(app): State<Arc<App>>, body: Result<Bytes, BytesRejection>) -> Answer<wire::LoginStarted> {
    let request: wire::LoginStart = parse(body)?;
    let email = normalize_email(&request.email);
    if email.is_empty() || email.len() > 320 {
        return Err(ApiError::bad("The account name must be an e-mail address of at most 320 characters."));
    }
    opaque::check_ke1(&request.ke1)?;
    // Counted first, for every name, known or not: the same answer either way.
    let name_key = hex(&app.secrets.keyed_hash("throttle", email.as_bytes()));
    let count = app
        .store
        .count_login_start(&name_key, app.limit.window_secs, app.limit.starts, app.limit.longest_window())
        .await?;
    let starts = count.starts;
    if starts > app.limit.starts {
        let minutes = (count.window_start + count.window_len - now()).max(60) / 60;
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("Too many login attempts for this account; try again in {minutes} minutes."),
        ));
    }
    let account = app.store.account_by_email(&email).await?.filter(|a| a.record.is_some());
    let (record, credential_id, account_id) = match &account {
        Some(a) => (a.record.as_deref(), a.id.as_bytes().to_vec(), Some(a.id.clone())),
        // An unknown name gets a dummy record under a stable per-name credential id.
        None => (None, hex(&app.secrets.keyed_hash("unknown account", email.as_bytes())[..16]).into_bytes(), None),
    };
    let (ke2, state) = app.secrets.opaque.start_login(record, &request.ke1, &credential_id)?;
    let session = random_token();
    let state = app.secrets.seal_login_state(&session, &state);
    let record_hash = record.map(|r| hex(&Sha256::digest(r)));
    let expires = now() + LOGIN_TTL_SECS;
    app.store.save_login(&session, &PendingLogin { account_id, name_key, state, record_hash, expires }).await?;
    let guesses_left = u32::try_from(app.limit.starts - starts).unwrap_or(0);
    Ok(axum::Json(wire::LoginStarted { session, ke2, guesses_left }))
}

async fn login_finish(State(app): State<Arc<App>>, body: Result<Bytes, BytesRejection>) -> Answer<wire::Session> {
    let request: wire::LoginFinish = parse(body)?;
    check_device(&request.device)?;
    let account_id = complete_login(&app, &request.session, &request.ke3, "").await?;
    let (device_id, device_token) = new_device(&app, &account_id, &request.device).await?;
    let (version, body) = current_envelope(&app, &account_id).await?;
    let envelope = if request.release_envelope {
        log_event(&app, &account_id, "key_release", &format!("version {version} to device {device_id}")).await?;
        Some(body)
    } else {
        None
    };
    Ok(axum::Json(wire::Session {
        account_id: account_id_bytes(&account_id),
        device_id,
        device_token,
        envelope_version: u64::try_from(version).unwrap_or(0),
        envelope,
    }))
}

/// Completes the login `session` started: takes its state (once), checks KE3, and checks
/// that the account's registration record is still the one the login started with (a
/// login begun before a password change cannot finish with the old password after it).
/// Resets the guess count and logs `login` with `detail`. Returns the account id.
async fn complete_login(app: &App, session: &str, ke3: &[u8], detail: &str) -> Result<String, ApiError> {
    let failed = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "The login failed: the password is wrong or the account does not exist.",
        )
    };
    let pending = app.store.take_login(session).await?.filter(|p| p.expires >= now()).ok_or_else(|| {
        ApiError::new(StatusCode::UNAUTHORIZED, "The login session is unknown or expired; start the login again.")
    })?;
    let state = app.secrets.open_login_state(session, &pending.state).ok_or_else(failed)?;
    let Some(account_id) = pending.account_id else {
        return Err(failed());
    };
    if let Err(e) = opaque::finish_login(&state, ke3) {
        log_event(app, &account_id, "login_failed", "KE3 did not verify").await?;
        return Err(match e {
            crate::Error::Malformed(_) => e.into(),
            _ => failed(),
        });
    }
    let current = app.store.record(&account_id).await?.map(|r| hex(&Sha256::digest(r)));
    if current.is_none() || current != pending.record_hash {
        log_event(app, &account_id, "login_failed", "the password changed during the login").await?;
        return Err(failed());
    }
    app.store.reset_login_starts(&pending.name_key).await?;
    log_event(app, &account_id, "login", detail).await?;
    Ok(account_id)
}

async fn current_envelope(app: &App, account_id: &str) -> Result<(i64, Vec<u8>), ApiError> {
    app.store
        .envelope(account_id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::CONFLICT, "The account has no envelope."))
}

/// `POST /v1/password/start`: a complete login with the current password authorises one
/// re-registration; the answer carries the current envelope to re-seal (a key release,
/// logged as such) and a single-use ticket.
async fn password_start(
    State(app): State<Arc<App>>,
    body: Result<Bytes, BytesRejection>,
) -> Answer<wire::PasswordStarted> {
    let request: wire::PasswordStart = parse(body)?;
    // Checked before the login is used up, so that a malformed request changes nothing.
    opaque::check_registration_request(&request.request)?;
    let account_id = complete_login(&app, &request.session, &request.ke3, "for a password change").await?;
    let response = app.secrets.opaque.registration_response(&request.request, account_id.as_bytes())?;
    let (version, envelope) = current_envelope(&app, &account_id).await?;
    let ticket = random_token();
    let pending = PendingPasswordChange {
        account_id: account_id.clone(),
        envelope_version: version,
        expires: now() + LOGIN_TTL_SECS,
    };
    app.store.save_password_change(&token_hash(&ticket), &pending).await?;
    log_event(&app, &account_id, "key_release", &format!("version {version} for a password change")).await?;
    Ok(axum::Json(wire::PasswordStarted {
        ticket,
        account_id: account_id_bytes(&account_id),
        response,
        envelope,
        envelope_version: u64::try_from(version).unwrap_or(0),
    }))
}

/// `POST /v1/password/finish`: the new record and the re-sealed envelope replace the old
/// ones in one transaction; until then the old password works, afterwards only the new one.
async fn password_finish(
    State(app): State<Arc<App>>,
    body: Result<Bytes, BytesRejection>,
) -> Answer<wire::EnvelopeStored> {
    let request: wire::PasswordFinish = parse(body)?;
    let header = envelope::Header::parse(&request.envelope)?;
    let record = opaque::registration_record(&request.upload)?;
    let pending =
        app.store.take_password_change(&token_hash(&request.ticket)).await?.filter(|p| p.expires >= now()).ok_or_else(
            || {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "The password-change ticket is unknown, used or expired; log in with the current password again.",
                )
            },
        )?;
    let version = pending.envelope_version + 1;
    if header.account_id.as_slice() != account_id_bytes(&pending.account_id)
        || i64::try_from(header.version).ok() != Some(version)
    {
        return Err(ApiError::bad(format!(
            "The new envelope must be version {version} of this account; the password was not changed."
        )));
    }
    if !app.store.change_password(&pending.account_id, &record, version, &request.envelope).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "The envelope changed meanwhile (another device updated it); the password was not changed.",
        ));
    }
    log_event(&app, &pending.account_id, "password_change", &format!("envelope version {version}")).await?;
    Ok(axum::Json(wire::EnvelopeStored { envelope_version: header.version }))
}

/// The device a signed request comes from: (account id, device id).
async fn authenticate(
    app: &App,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(String, String), ApiError> {
    let denied =
        |why: &str| ApiError::new(StatusCode::UNAUTHORIZED, format!("The device is not authenticated: {why}."));
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let token = header(device::TOKEN_HEADER).ok_or_else(|| denied("no device token"))?;
    let time: i64 =
        header(device::TIME_HEADER).and_then(|t| t.parse().ok()).ok_or_else(|| denied("no request time"))?;
    let signature =
        header(device::SIGNATURE_HEADER).and_then(|s| STANDARD.decode(s).ok()).ok_or_else(|| denied("no signature"))?;
    if (now() - time).abs() > device::MAX_SKEW_SECS {
        return Err(denied("the request time is too far from the server's clock"));
    }
    let found = app
        .store
        .device_by_token(&token_hash(token))
        .await?
        .ok_or_else(|| denied("the token is unknown or the device was revoked"))?;
    if !device::verify(&found.public_key, method.as_str(), uri.path(), time, body, &signature) {
        return Err(denied("the signature does not verify"));
    }
    Ok((found.account_id, found.id))
}

fn raw(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        ApiError::new(e.status(), format!("The request body could not be read (at most {} bytes).", wire::MAX_BODY))
    })
}

async fn envelope_update(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer<wire::EnvelopeStored> {
    let body = raw(body)?;
    let (account_id, device_id) = authenticate(&app, &method, &uri, &headers, &body).await?;
    let request: wire::EnvelopeUpdate = parse(Ok(body))?;
    let header = envelope::Header::parse(&request.envelope)?;
    if header.account_id.as_slice() != account_id_bytes(&account_id) {
        return Err(ApiError::bad("The envelope belongs to another account."));
    }
    let version = i64::try_from(header.version).map_err(|_| ApiError::bad("The envelope version is out of range."))?;
    if !app.store.replace_envelope(&account_id, version, &request.envelope).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "The envelope version must be the stored version plus one (another device may have updated it).",
        ));
    }
    log_event(&app, &account_id, "envelope_update", &format!("version {version} from device {device_id}")).await?;
    Ok(axum::Json(wire::EnvelopeStored { envelope_version: header.version }))
}

async fn device_list(app: &App, account_id: &str, current: &str) -> Result<wire::Devices, ApiError> {
    let devices = app
        .store
        .devices(account_id)
        .await?
        .into_iter()
        .map(|(id, name, created, last_seen, revoked)| wire::Device {
            current: id == current,
            id,
            name,
            created,
            last_seen,
            revoked,
        })
        .collect();
    Ok(wire::Devices { devices })
}

async fn devices(State(app): State<Arc<App>>, method: Method, uri: Uri, headers: HeaderMap) -> Answer<wire::Devices> {
    let (account_id, device_id) = authenticate(&app, &method, &uri, &headers, b"").await?;
    Ok(axum::Json(device_list(&app, &account_id, &device_id).await?))
}

async fn revoke(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Answer<wire::Devices> {
    let body = raw(body)?;
    let (account_id, device_id) = authenticate(&app, &method, &uri, &headers, &body).await?;
    let request: wire::Revoke = parse(Ok(body))?;
    if !app.store.revoke_device(&account_id, &request.device_id).await? {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "The account has no such device, or it is already revoked."));
    }
    log_event(&app, &account_id, "device_revoke", &format!("{} by device {device_id}", request.device_id)).await?;
    Ok(axum::Json(device_list(&app, &account_id, &device_id).await?))
}

async fn audit_log(State(app): State<Arc<App>>, method: Method, uri: Uri, headers: HeaderMap) -> Answer<wire::Audit> {
    let (account_id, _) = authenticate(&app, &method, &uri, &headers, b"").await?;
    let entries = app
        .store
        .audit(&account_id)
        .await?
        .into_iter()
        .map(|(seq, at, event, detail, hash)| wire::AuditEntry { seq, at, event, detail, hash })
        .collect();
    Ok(axum::Json(wire::Audit { entries }))
}
