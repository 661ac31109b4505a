//! The key server: the HTTP API over TLS ([`api`]), its database ([`store`]) and the
//! secrets kept outside the database ([`secrets`]).

pub mod api;
pub mod secrets;
pub mod store;
mod tls;

pub use api::{App, GuessLimit};
pub use secrets::ServerSecrets;
pub use store::Store;
pub use tls::{serve, server_config};

/// Enrols `email`: creates its account (or renews the token of an unregistered one) and
/// returns the one-time enrolment token, valid `valid_days`.
pub async fn enrol(store: &Store, email: &str, valid_days: u32) -> Result<String, String> {
    let email = api::normalize_email(email);
    if !email.contains('@') || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{email:?} is not an e-mail address"));
    }
    let token = api::random_token();
    let id = api::hex(&rand::random::<[u8; 16]>());
    let expires = store::now() + i64::from(valid_days) * 86_400;
    if !store.enrol(&id, &email, &api::token_hash(&token), expires).await.map_err(|e| e.to_string())? {
        return Err(format!("{email} already has a registered account"));
    }
    Ok(token)
}
