//! OPAQUE (RFC 9807) through opaque-ke 4: ristretto255, 3DH, SHA-512, Argon2id as the key
//! stretching function.
//!
//! This is the only module that names opaque-ke's types. opaque-ke is on the previous
//! RustCrypto generation (digest 0.10, rand_core 0.6, generic-array 0.14); the rest of the
//! crate is on the current one. Everything that leaves this module is bytes, so the two
//! generations never meet in a signature. A message that does not parse is
//! [`Error::Malformed`]; a wrong password (or an unknown account) is [`Error::WrongPassword`].
//!
//! Identifiers are OPAQUE's defaults (the two public keys) and every login binds
//! [`CONTEXT`], so a transcript of this service is worthless to any other.

use opaque_ke::errors::{InternalError, ProtocolError};
use opaque_ke::generic_array::{ArrayLength, GenericArray};
use opaque_ke::{
    CipherSuite, ClientLogin, ClientLoginFinishParameters, ClientRegistration, ClientRegistrationFinishParameters,
    CredentialFinalization, CredentialRequest, CredentialResponse, Identifiers, RegistrationRequest,
    RegistrationResponse, RegistrationUpload, ServerLogin, ServerLoginParameters, ServerRegistration, ServerSetup,
};
use rand_core_06::OsRng;
use zeroize::Zeroizing;

use crate::Error;

/// The context string bound into every login transcript.
pub const CONTEXT: &[u8] = b"smime-keyserver OPAQUE v1";

/// Argon2id memory cost (KiB) of the key stretching function: 64 MiB.
///
/// RFC 9807 recommends 2 GiB (p=4, t=1); that is more than a laptop next to a browser
/// should give a login, so this uses the project's sealing cost (the same as the local key
/// store's): 64 MiB, t=3, p=1, about a quarter of a second on one core. Changing it changes
/// every derived key: it is part of protocol version 1.
pub const KSF_MEMORY_KIB: u32 = 64 * 1024;
/// Argon2id passes.
pub const KSF_ITERATIONS: u32 = 3;
/// Argon2id lanes.
pub const KSF_PARALLELISM: u32 = 1;

/// The cipher suite: ristretto255 for the OPRF and the 3DH key exchange, SHA-512, Argon2id.
struct Suite;

impl CipherSuite for Suite {
    type OprfCs = opaque_ke::Ristretto255;
    type KeyExchange = opaque_ke::TripleDh<opaque_ke::Ristretto255, sha2_010::Sha512>;
    type Ksf = Argon2id;
}

/// Argon2id (argon2 0.6) with a zero salt, as RFC 9807 specifies for the KSF (the OPRF
/// output is already unique per user and password).
#[derive(Default)]
struct Argon2id;

impl opaque_ke::ksf::Ksf for Argon2id {
    fn hash<L: ArrayLength<u8>>(&self, input: GenericArray<u8, L>) -> Result<GenericArray<u8, L>, InternalError> {
        let params = argon2::Params::new(KSF_MEMORY_KIB, KSF_ITERATIONS, KSF_PARALLELISM, Some(L::to_usize()))
            .map_err(|_| InternalError::KsfError)?;
        let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut output = GenericArray::<u8, L>::default();
        argon.hash_password_into(&input, &[0; 16], &mut output).map_err(|_| InternalError::KsfError)?;
        Ok(output)
    }
}

fn malformed(what: &'static str) -> impl FnOnce(ProtocolError) -> Error {
    move |_| Error::Malformed(what)
}

fn server_parameters() -> ServerLoginParameters<'static, 'static> {
    ServerLoginParameters { context: Some(CONTEXT), identifiers: Identifiers::default() }
}

// ---------------------------------------------------------------------------------------
// Server side

/// The server's long-term OPAQUE secrets (OPRF seed, AKE key pair), parsed once.
pub struct ServerKeys(ServerSetup<Suite>);

impl std::fmt::Debug for ServerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ServerKeys(..)")
    }
}

impl ServerKeys {
    /// Fresh secrets.
    pub fn generate() -> Self {
        Self(ServerSetup::<Suite>::new(&mut OsRng))
    }

    /// Parses [`ServerKeys::to_bytes`]'s output.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        ServerSetup::<Suite>::deserialize(bytes).map(Self).map_err(malformed("server secrets"))
    }

    /// The whole setup, serialized (secret: it holds the OPRF seed and the AKE private key).
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        Zeroizing::new(self.0.serialize().to_vec())
    }

    /// The server's AKE public key: what clients pin.
    pub fn public_key(&self) -> Vec<u8> {
        self.0.keypair().public().serialize().to_vec()
    }

    /// Registration, server step: answers a RegistrationRequest for `credential_id`.
    pub fn registration_response(&self, request: &[u8], credential_id: &[u8]) -> Result<Vec<u8>, Error> {
        let request = RegistrationRequest::<Suite>::deserialize(request).map_err(malformed("registration request"))?;
        let started = ServerRegistration::<Suite>::start(&self.0, request, credential_id)
            .map_err(malformed("registration request"))?;
        Ok(started.message.serialize().to_vec())
    }

    /// Login, server step 1 (KE1 in, KE2 out). `record` is `None` for an unknown account:
    /// the answer is then built from a dummy record and looks the same. Returns KE2 and the
    /// server's secret login state for [`ServerKeys::finish_login`].
    pub fn start_login(
        &self,
        record: Option<&[u8]>,
        ke1: &[u8],
        credential_id: &[u8],
    ) -> Result<(Vec<u8>, Zeroizing<Vec<u8>>), Error> {
        let record = record
            .map(ServerRegistration::<Suite>::deserialize)
            .transpose()
            .map_err(malformed("stored registration record"))?;
        let ke1 = CredentialRequest::<Suite>::deserialize(ke1).map_err(malformed("KE1 message"))?;
        let started = ServerLogin::start(&mut OsRng, &self.0, record, ke1, credential_id, server_parameters())
            .map_err(malformed("KE1 message"))?;
        Ok((started.message.serialize().to_vec(), Zeroizing::new(started.state.serialize().to_vec())))
    }
}

/// Whether `ke1` parses as a KE1 message (checked before a login start is counted, so
/// that garbage changes nothing).
pub fn check_ke1(ke1: &[u8]) -> Result<(), Error> {
    CredentialRequest::<Suite>::deserialize(ke1).map(|_| ()).map_err(malformed("KE1 message"))
}

/// Whether `request` parses as a RegistrationRequest (checked before a password change
/// uses up the login that authorises it).
pub fn check_registration_request(request: &[u8]) -> Result<(), Error> {
    RegistrationRequest::<Suite>::deserialize(request).map(|_| ()).map_err(malformed("registration request"))
}

/// Registration, server step 2: the record to store, from the client's upload.
pub fn registration_record(upload: &[u8]) -> Result<Vec<u8>, Error> {
    let upload = RegistrationUpload::<Suite>::deserialize(upload).map_err(malformed("registration upload"))?;
    Ok(ServerRegistration::<Suite>::finish(upload).serialize().to_vec())
}

/// Login, server step 2: checks KE3 against the state from [`ServerKeys::start_login`].
/// `Ok` means the client proved it knows the password.
pub fn finish_login(state: &[u8], ke3: &[u8]) -> Result<(), Error> {
    let state = ServerLogin::<Suite>::deserialize(state).map_err(malformed("login state"))?;
    let ke3 = CredentialFinalization::<Suite>::deserialize(ke3).map_err(malformed("KE3 message"))?;
    state.finish(ke3, server_parameters()).map(|_| ()).map_err(|_| Error::WrongPassword)
}

// ---------------------------------------------------------------------------------------
// Client side

/// What a client gets from a completed registration or login.
pub struct ClientOutcome {
    /// The message for the server: RegistrationUpload or KE3.
    pub message: Vec<u8>,
    /// OPAQUE's export key (64 bytes): the root of the envelope's wrapping key.
    pub export_key: Zeroizing<Vec<u8>>,
    /// The server's AKE public key, to compare with the pinned one.
    pub server_public_key: Vec<u8>,
}

impl std::fmt::Debug for ClientOutcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientOutcome").field("message_len", &self.message.len()).finish_non_exhaustive()
    }
}

/// A registration in progress on the client.
pub struct PendingRegistration(ClientRegistration<Suite>);

impl std::fmt::Debug for PendingRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingRegistration(..)")
    }
}

impl PendingRegistration {
    /// Registration, client step 1: the RegistrationRequest to send.
    pub fn start(password: &[u8]) -> Result<(Self, Vec<u8>), Error> {
        let started = ClientRegistration::<Suite>::start(&mut OsRng, password).map_err(malformed("password"))?;
        Ok((Self(started.state), started.message.serialize().to_vec()))
    }

    /// Registration, client step 2: from the RegistrationResponse, the upload and the
    /// export key. Runs the KSF.
    pub fn finish(self, password: &[u8], response: &[u8]) -> Result<ClientOutcome, Error> {
        let response =
            RegistrationResponse::<Suite>::deserialize(response).map_err(malformed("registration response"))?;
        let done = self
            .0
            .finish(&mut OsRng, password, response, ClientRegistrationFinishParameters::default())
            .map_err(malformed("registration response"))?;
        Ok(ClientOutcome {
            message: done.message.serialize().to_vec(),
            export_key: Zeroizing::new(done.export_key.to_vec()),
            server_public_key: done.server_s_pk.serialize().to_vec(),
        })
    }
}

/// A login in progress on the client.
pub struct PendingLogin(ClientLogin<Suite>);

impl std::fmt::Debug for PendingLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PendingLogin(..)")
    }
}

impl PendingLogin {
    /// Login, client step 1: KE1 to send.
    pub fn start(password: &[u8]) -> Result<(Self, Vec<u8>), Error> {
        let started = ClientLogin::<Suite>::start(&mut OsRng, password).map_err(malformed("password"))?;
        Ok((Self(started.state), started.message.serialize().to_vec()))
    }

    /// Login, client step 2: from KE2, KE3 and the export key. Runs the KSF. A wrong
    /// password or an unknown account is [`Error::WrongPassword`].
    pub fn finish(self, password: &[u8], ke2: &[u8]) -> Result<ClientOutcome, Error> {
        let ke2 = CredentialResponse::<Suite>::deserialize(ke2).map_err(malformed("KE2 message"))?;
        let parameters = ClientLoginFinishParameters::new(Some(CONTEXT), Identifiers::default(), None);
        let done = self.0.finish(&mut OsRng, password, ke2, parameters).map_err(|e| match e {
            ProtocolError::InvalidLoginError => Error::WrongPassword,
            _ => Error::Malformed("KE2 message"),
        })?;
        Ok(ClientOutcome {
            message: done.message.serialize().to_vec(),
            export_key: Zeroizing::new(done.export_key.to_vec()),
            server_public_key: done.server_s_pk.serialize().to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests: a failing unwrap is a failing test")]
    use super::*;

    fn register(keys: &ServerKeys, id: &[u8], password: &[u8]) -> (Vec<u8>, Zeroizing<Vec<u8>>) {
        let (pending, request) = PendingRegistration::start(password).unwrap();
        let response = keys.registration_response(&request, id).unwrap();
        let outcome = pending.finish(password, &response).unwrap();
        assert_eq!(outcome.server_public_key, keys.public_key());
        (registration_record(&outcome.message).unwrap(), outcome.export_key)
    }

    #[test]
    fn register_then_login_gives_the_same_export_key() {
        let keys = ServerKeys::from_bytes(&ServerKeys::generate().to_bytes()).unwrap();
        let (record, export_key) = register(&keys, b"alice", b"correct horse");

        let (pending, ke1) = PendingLogin::start(b"correct horse").unwrap();
        let (ke2, state) = keys.start_login(Some(&record), &ke1, b"alice").unwrap();
        let outcome = pending.finish(b"correct horse", &ke2).unwrap();
        assert_eq!(outcome.export_key, export_key);
        finish_login(&state, &outcome.message).unwrap();

        // A wrong password, and an unknown account (dummy record), look the same.
        let (pending, ke1) = PendingLogin::start(b"wrong").unwrap();
        let (ke2, _) = keys.start_login(Some(&record), &ke1, b"alice").unwrap();
        assert!(matches!(pending.finish(b"wrong", &ke2), Err(Error::WrongPassword)));
        let (pending, ke1) = PendingLogin::start(b"correct horse").unwrap();
        let (ke2, _) = keys.start_login(None, &ke1, b"nobody").unwrap();
        assert!(matches!(pending.finish(b"correct horse", &ke2), Err(Error::WrongPassword)));
    }

    #[test]
    fn malformed_messages_are_clear_errors() {
        let keys = ServerKeys::generate();
        assert!(matches!(keys.registration_response(b"junk", b"a"), Err(Error::Malformed(_))));
        assert!(matches!(keys.start_login(None, &[0xff; 96], b"a"), Err(Error::Malformed(_))));
        assert!(matches!(keys.start_login(Some(b"short"), &[0; 3], b"a"), Err(Error::Malformed(_))));
        assert!(matches!(registration_record(b""), Err(Error::Malformed(_))));
        assert!(matches!(check_registration_request(b"junk"), Err(Error::Malformed(_))));
        assert!(check_registration_request(&PendingRegistration::start(b"pw").unwrap().1).is_ok());
        assert!(matches!(finish_login(b"x", b"y"), Err(Error::Malformed(_))));
        assert!(ServerKeys::from_bytes(b"not a setup").is_err());
        let (pending, _) = PendingLogin::start(b"pw").unwrap();
        assert!(matches!(pending.finish(b"pw", b"junk"), Err(Error::Malformed(_))));
    }
}
