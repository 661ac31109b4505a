//! The server secrets: OPAQUE's ServerSetup (OPRF seed and AKE key pair) and a pepper,
//! kept in a 0600 file outside the database.
//!
//! Why outside: with the OPRF seed, a copy of the database would let its holder test
//! password guesses offline (one Argon2id run each); without it the stored records answer
//! nothing. Every replica reads the same file; the database never sees it.

use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::Path;

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::opaque::ServerKeys;

/// The secrets a server process holds in memory.
#[derive(Debug)]
pub struct ServerSecrets {
    /// OPAQUE's server setup.
    pub opaque: ServerKeys,
    pepper: Zeroizing<[u8; 32]>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretsFile {
    format: u32,
    opaque_server_setup: String,
    pepper: String,
}

impl ServerSecrets {
    /// Fresh secrets.
    pub fn generate() -> Self {
        Self { opaque: ServerKeys::generate(), pepper: Zeroizing::new(rand::random()) }
    }

    /// Writes a new secrets file at `path` (mode 0600); refuses to overwrite one.
    pub fn create(path: &Path) -> Result<Self, String> {
        let secrets = Self::generate();
        let file = SecretsFile {
            format: 1,
            opaque_server_setup: STANDARD.encode(secrets.opaque.to_bytes().as_slice()),
            pepper: STANDARD.encode(secrets.pepper.as_ref()),
        };
        let text = Zeroizing::new(serde_json::to_string_pretty(&file).map_err(|e| e.to_string())?);
        let mut out = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| format!("cannot create the secrets file {}: {e}", path.display()))?;
        out.write_all(text.as_bytes()).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        Ok(secrets)
    }

    /// Reads the secrets file; refuses one that others than the owner can read.
    pub fn load(path: &Path) -> Result<Self, String> {
        let meta = std::fs::metadata(path).map_err(|e| {
            format!("cannot read the server secrets {} ({e}); run `smime-keyserver init` first", path.display())
        })?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(format!(
                "the server secrets file {} is readable by others; `chmod 600` it (and consider the secrets leaked)",
                path.display()
            ));
        }
        let text =
            Zeroizing::new(std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?);
        let bad = |what: &str| format!("the server secrets file {} is damaged ({what})", path.display());
        let file: SecretsFile = serde_json::from_str(&text).map_err(|e| bad(&e.to_string()))?;
        if file.format != 1 {
            return Err(bad("unknown format"));
        }
        let setup = Zeroizing::new(STANDARD.decode(file.opaque_server_setup).map_err(|_| bad("not base64"))?);
        let pepper = Zeroizing::new(STANDARD.decode(file.pepper).map_err(|_| bad("not base64"))?);
        let pepper: [u8; 32] = pepper.as_slice().try_into().map_err(|_| bad("pepper length"))?;
        let opaque = ServerKeys::from_bytes(&setup).map_err(|_| bad("OPAQUE setup"))?;
        Ok(Self { opaque, pepper: Zeroizing::new(pepper) })
    }

    /// A keyed hash (hex) of `value` under the pepper, for `purpose`: names in the throttle
    /// table, credential ids of unknown accounts.
    pub fn keyed_hash(&self, purpose: &str, value: &[u8]) -> Vec<u8> {
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(self.pepper.as_ref()) else {
            unreachable!("HMAC takes a key of any length");
        };
        mac.update(purpose.as_bytes());
        mac.update(&[0]);
        mac.update(value);
        mac.finalize().into_bytes().to_vec()
    }

    /// Seals a server login state for its 60 seconds in the database (AES-256-GCM under a
    /// key from the pepper, bound to the session id), so that the database alone holds
    /// nothing of a login in progress.
    pub fn seal_login_state(&self, session: &str, state: &[u8]) -> Vec<u8> {
        let nonce: [u8; 12] = rand::random();
        let sealed = match self
            .login_state_cipher()
            .encrypt(&Nonce::from(nonce), Payload { msg: state, aad: session.as_bytes() })
        {
            Ok(sealed) => sealed,
            Err(_) => unreachable!("AES-GCM encryption of a small buffer cannot fail"),
        };
        [nonce.as_slice(), &sealed].concat()
    }

    /// Opens [`ServerSecrets::seal_login_state`]'s output; `None` if it was altered.
    pub fn open_login_state(&self, session: &str, sealed: &[u8]) -> Option<Zeroizing<Vec<u8>>> {
        let (nonce, body) = sealed.split_at_checked(12)?;
        let nonce = Nonce::try_from(nonce).ok()?;
        self.login_state_cipher()
            .decrypt(&nonce, Payload { msg: body, aad: session.as_bytes() })
            .ok()
            .map(Zeroizing::new)
    }

    fn login_state_cipher(&self) -> Aes256Gcm {
        let key = Zeroizing::new(self.keyed_hash("login-state key", b""));
        match Aes256Gcm::new_from_slice(&key) {
            Ok(cipher) => cipher,
            Err(_) => unreachable!("an HMAC-SHA256 output is an AES-256 key"),
        }
    }
}
