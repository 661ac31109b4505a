//! [`CaKey`]: an ECDSA P-256 signing key for the root and the intermediate, held by
//! aws-lc-rs (whose key memory is cleansed when freed), so that dropping it wipes it.
//! rcgen's own `KeyPair` keeps a copy of the PKCS#8 in a plain `Vec` that is never wiped.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair as _};
use rcgen::{PKCS_ECDSA_P256_SHA256, PublicKeyData, SignatureAlgorithm, SigningKey};
use zeroize::Zeroizing;

use crate::Error;

/// A P-256 key that signs certificates; wiped from memory when dropped.
pub(crate) struct CaKey {
    pair: EcdsaKeyPair,
    public: Vec<u8>,
}

impl CaKey {
    /// A fresh key from the system random generator.
    pub(crate) fn generate() -> Result<Self, Error> {
        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_ASN1_SIGNING).map_err(|_| Error::Random)?;
        Ok(Self::from_pair(pair))
    }

    /// The key of a DER PKCS#8 `PrivateKeyInfo`; `None` when it is not a P-256 key.
    pub(crate) fn from_pkcs8(der: &[u8]) -> Option<Self> {
        EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, der).ok().map(Self::from_pair)
    }

    /// The key as DER PKCS#8, in a wiping buffer (for sealing).
    pub(crate) fn to_pkcs8(&self) -> Result<Zeroizing<Vec<u8>>, Error> {
        let document = self.pair.to_pkcs8v1().map_err(|_| Error::Random)?;
        Ok(Zeroizing::new(document.as_ref().to_vec()))
    }

    fn from_pair(pair: EcdsaKeyPair) -> Self {
        let public = pair.public_key().as_ref().to_vec();
        Self { pair, public }
    }
}

impl PublicKeyData for CaKey {
    fn der_bytes(&self) -> &[u8] {
        &self.public
    }

    fn algorithm(&self) -> &'static SignatureAlgorithm {
        &PKCS_ECDSA_P256_SHA256
    }
}

impl SigningKey for CaKey {
    fn sign(&self, msg: &[u8]) -> Result<Vec<u8>, rcgen::Error> {
        let signature = self.pair.sign(&SystemRandom::new(), msg).map_err(|_| rcgen::Error::RingUnspecified)?;
        Ok(signature.as_ref().to_vec())
    }
}

impl std::fmt::Debug for CaKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CaKey([secret])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs8_round_trip_keeps_the_public_key() {
        let key = CaKey::generate().unwrap();
        let again = CaKey::from_pkcs8(&key.to_pkcs8().unwrap()).unwrap();
        assert_eq!(again.der_bytes(), key.der_bytes());
        assert!(CaKey::from_pkcs8(b"not a key").is_none());
        assert!(!format!("{key:?}").contains("PRIVATE"));
    }
}
