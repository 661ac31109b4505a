//! The wire format between the proxy and the key server: JSON bodies whose binary fields
//! are base64 (standard alphabet, padded). Every request names the protocol version `v`;
//! unknown fields are refused, so a typo or a newer client gets a clear error instead of a
//! silently ignored field.
//!
//! | method and path | request | answer |
//! |---|---|---|
//! | `POST /v1/register/start` | [`RegisterStart`] | [`RegisterStarted`] |
//! | `POST /v1/register/finish` | [`RegisterFinish`] | [`Session`] |
//! | `POST /v1/login/start` | [`LoginStart`] | [`LoginStarted`] |
//! | `POST /v1/login/finish` | [`LoginFinish`] | [`Session`] |
//! | `POST /v1/password/start` | [`PasswordStart`] | [`PasswordStarted`] |
//! | `POST /v1/password/finish` | [`PasswordFinish`] | [`EnvelopeStored`] |
//! | `PUT /v1/envelope` (device) | [`EnvelopeUpdate`] | [`EnvelopeStored`] |
//! | `GET /v1/devices` (device) | | [`Devices`] |
//! | `POST /v1/devices/revoke` (device) | [`Revoke`] | [`Devices`] |
//! | `GET /v1/audit` (device) | | [`Audit`] |
//!
//! A password change is a login (`/v1/login/start` with the current password, counted like
//! any) whose KE3 goes to `/v1/password/start` instead of `/v1/login/finish`, then a fresh
//! OPAQUE registration of the new password for the same account.
//!
//! Errors are [`Problem`] with a 4xx/5xx status. "(device)" requests are signed with the
//! device key (see [`crate::device`]).

use serde::{Deserialize, Serialize};

/// The protocol version this code speaks.
pub const VERSION: u32 = 1;
/// The largest request body a server reads.
pub const MAX_BODY: usize = 256 * 1024;

/// Base64 (standard, padded) for `Vec<u8>` fields.
pub mod b64 {
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer};

    /// Serializes bytes as base64.
    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&STANDARD.encode(bytes))
    }

    /// Deserializes base64 into bytes.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        let text = String::deserialize(d)?;
        STANDARD.decode(text.as_bytes()).map_err(|e| serde::de::Error::custom(format!("not base64: {e}")))
    }

    /// The same for `Option<Vec<u8>>`.
    pub mod option {
        use super::*;

        /// Serializes optional bytes as base64 or null.
        pub fn serialize<S: Serializer>(bytes: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
            match bytes {
                Some(b) => super::serialize(b, s),
                None => s.serialize_none(),
            }
        }

        /// Deserializes base64 or null.
        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
            Option::<String>::deserialize(d)?
                .map(|t| {
                    STANDARD.decode(t.as_bytes()).map_err(|e| serde::de::Error::custom(format!("not base64: {e}")))
                })
                .transpose()
        }
    }
}

/// A new device, announced when a login or registration completes.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceHello {
    /// The device's P-256 public key (SEC1, uncompressed), which signs its later requests.
    #[serde(with = "b64")]
    pub public_key: Vec<u8>,
    /// A name the user recognises in the device list (at most 100 characters).
    pub name: String,
}

/// Registration, step 1: the enrolment token and OPAQUE's RegistrationRequest.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterStart {
    /// Protocol version.
    pub v: u32,
    /// The one-time token `smime-keyserver enrol` printed.
    pub enrolment_token: String,
    /// OPAQUE RegistrationRequest.
    #[serde(with = "b64")]
    pub request: Vec<u8>,
}

/// The server's answer to [`RegisterStart`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RegisterStarted {
    /// The account's id (16 bytes), bound into the envelope.
    #[serde(with = "b64")]
    pub account_id: Vec<u8>,
    /// The account's e-mail address, as enrolled.
    pub email: String,
    /// OPAQUE RegistrationResponse.
    #[serde(with = "b64")]
    pub response: Vec<u8>,
}

/// Registration, step 2: OPAQUE's RegistrationUpload and the first envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterFinish {
    /// Protocol version.
    pub v: u32,
    /// The same enrolment token; it is used up by this request.
    pub enrolment_token: String,
    /// OPAQUE RegistrationUpload.
    #[serde(with = "b64")]
    pub upload: Vec<u8>,
    /// Envelope version 1.
    #[serde(with = "b64")]
    pub envelope: Vec<u8>,
    /// The registering device.
    pub device: DeviceHello,
}

/// Login, step 1 (KE1). Counted against the account's guess limit.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginStart {
    /// Protocol version.
    pub v: u32,
    /// The account's e-mail address.
    pub email: String,
    /// OPAQUE KE1 (CredentialRequest).
    #[serde(with = "b64")]
    pub ke1: Vec<u8>,
}

/// The server's answer to [`LoginStart`]; the same shape for unknown names.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LoginStarted {
    /// Names the server's login state for step 2; valid once, for 60 seconds.
    pub session: String,
    /// OPAQUE KE2 (CredentialResponse).
    #[serde(with = "b64")]
    pub ke2: Vec<u8>,
    /// Login starts left in the current window, after this one.
    pub guesses_left: u32,
}

/// Login, step 2 (KE3), with the new device and whether to release the envelope.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginFinish {
    /// Protocol version.
    pub v: u32,
    /// From [`LoginStarted::session`].
    pub session: String,
    /// OPAQUE KE3 (CredentialFinalization).
    #[serde(with = "b64")]
    pub ke3: Vec<u8>,
    /// The device this login creates.
    pub device: DeviceHello,
    /// Whether the answer carries the envelope (a key release, logged as such).
    pub release_envelope: bool,
}

/// A completed login or registration: the device's token, and the envelope if released.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Session {
    /// The account's id (16 bytes).
    #[serde(with = "b64")]
    pub account_id: Vec<u8>,
    /// The new device's id.
    pub device_id: String,
    /// The device token (sent with device-signed requests).
    pub device_token: String,
    /// The current envelope version.
    pub envelope_version: u64,
    /// The envelope, when released.
    #[serde(with = "b64::option", default)]
    pub envelope: Option<Vec<u8>>,
}

/// Password change, step 1: KE3 of a login started with the current password (it is
/// verified here, and the login used up), and OPAQUE's RegistrationRequest for the new one.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordStart {
    /// Protocol version.
    pub v: u32,
    /// From [`LoginStarted::session`].
    pub session: String,
    /// OPAQUE KE3 (CredentialFinalization) for the current password.
    #[serde(with = "b64")]
    pub ke3: Vec<u8>,
    /// OPAQUE RegistrationRequest for the new password.
    #[serde(with = "b64")]
    pub request: Vec<u8>,
}

/// The server's answer to [`PasswordStart`]: what the client needs to seal the current
/// key under the new password.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct PasswordStarted {
    /// Authorises [`PasswordFinish`]; valid once, for 60 seconds.
    pub ticket: String,
    /// The account's id (16 bytes).
    #[serde(with = "b64")]
    pub account_id: Vec<u8>,
    /// OPAQUE RegistrationResponse for the new password.
    #[serde(with = "b64")]
    pub response: Vec<u8>,
    /// The current envelope (sealed under the current password).
    #[serde(with = "b64")]
    pub envelope: Vec<u8>,
    /// Its version; the change stores this + 1.
    pub envelope_version: u64,
}

/// Password change, step 2: the new registration and the key sealed under it. The record
/// and the envelope are replaced together, or not at all.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordFinish {
    /// Protocol version.
    pub v: u32,
    /// From [`PasswordStarted::ticket`].
    pub ticket: String,
    /// OPAQUE RegistrationUpload for the new password.
    #[serde(with = "b64")]
    pub upload: Vec<u8>,
    /// The envelope, version [`PasswordStarted::envelope_version`] + 1, sealed under the
    /// new password's export key.
    #[serde(with = "b64")]
    pub envelope: Vec<u8>,
}

/// A new envelope (certificate rotated, key replaced, password changed).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvelopeUpdate {
    /// Protocol version.
    pub v: u32,
    /// The envelope, whose header version is the stored version + 1.
    #[serde(with = "b64")]
    pub envelope: Vec<u8>,
}

/// The answer to [`EnvelopeUpdate`].
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct EnvelopeStored {
    /// The version now stored.
    pub envelope_version: u64,
}

/// A device of the account.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Device {
    /// Its id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// When it was added (Unix seconds).
    pub created: i64,
    /// When it last made a request (Unix seconds).
    pub last_seen: i64,
    /// When it was revoked, if it was.
    pub revoked: Option<i64>,
    /// Whether this is the device making the request.
    pub current: bool,
}

/// The account's devices.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Devices {
    /// Newest first.
    pub devices: Vec<Device>,
}

/// Revoke a device: its token stops working at once.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Revoke {
    /// Protocol version.
    pub v: u32,
    /// The device's id.
    pub device_id: String,
}

/// One audit-log entry; `hash` chains it to the previous one (see [`crate::audit`]).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct AuditEntry {
    /// 1, 2, 3, … per account.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// `register`, `login`, `key_release`, `envelope_update`, `password_change`, `device_add`,
    /// `device_revoke`, `login_failed`.
    pub event: String,
    /// The device id or version it concerns.
    pub detail: String,
    /// SHA-256 over the previous hash and this entry.
    #[serde(with = "b64")]
    pub hash: Vec<u8>,
}

/// The account's audit log, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Audit {
    /// The entries.
    pub entries: Vec<AuditEntry>,
}

/// An error answer: one sentence for the user.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Problem {
    /// What went wrong.
    pub error: String,
}
