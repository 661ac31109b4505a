//! The roaming key server, client side: the user's key kept on a `smime-keyserver` so that
//! it follows them to another machine, without the server ever seeing the key or the
//! password (OPAQUE; the envelope is sealed here, see the `smime-keyserver` crate).
//!
//! ```text
//! keys roam register ─▶ KeyStore::open ─▶ payload::encode ─▶ KeyServer::register ─▶ roam.json
//! unlock form / keys roam status ─▶ KeyServer::login (release) ─▶ payload::decode
//!                                    ─▶ KeyRing::unlock_with (memory only, wiped like local keys)
//!                                    └▶ import_and_unlock (only with "keep a local copy")
//! keys roam publish ─▶ KeyStore::open ─▶ KeyServer::login ─▶ DeviceSession::replace_payload
//! keys roam password ─▶ KeyServer::change_password (re-registration + re-sealed envelope)
//! ```
//!
//! `roam.json` in the configuration directory keeps, per account, the highest envelope
//! version this machine has seen (a server that serves an older one is refused). Keys
//! released by the server are never written to disk unless the user asks for a local
//! copy, which is sealed in the key store like an imported key.

mod account;
mod payload;
mod state;

pub use account::{
    Released, Report, change_password, connect, device_name, publish, register, release, revoke, status,
};
pub use payload::{decode, encode};
pub use state::{AccountState, RoamState};

/// A key-server time (Unix seconds) for people: RFC 3339, UTC.
pub fn when(unix_seconds: i64) -> String {
    let at = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(unix_seconds).unwrap_or(0));
    crate::timestamp::rfc3339(at)
}
