//! smime-keyserver: the roaming key server of smime-proxy, and the client half the proxy
//! uses.
//!
//! A user's S/MIME key follows them to a second machine without the server ever seeing it
//! or the password: logins are OPAQUE (RFC 9807, [`opaque`]); the key travels as an
//! [`envelope`] sealed on the device under a key only a client that knows the password
//! can derive; the server releases the envelope only after a complete login, counts login
//! starts per account, and keeps a hash-chained [`audit`] log the user can read.
//!
//! Features: `client` (what the proxy links: [`client`], [`opaque`]'s client steps,
//! [`envelope`], [`wire`]) and `server` (axum, sqlx, the `smime-keyserver` binary).

pub mod audit;
#[cfg(feature = "client")]
pub mod client;
pub mod device;
pub mod envelope;
mod error;
pub mod opaque;
#[cfg(feature = "server")]
pub mod server;
pub mod wire;

pub use error::Error;
