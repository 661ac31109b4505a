//! What the envelope carries: the private key (PKCS#8) and the certificate chain, as PEM,
//! in wiping buffers.

use der::EncodePem as _;
use der::pem::LineEnding;
use smime_crypto::{Identity, PrivateKey, load_certificates};
use zeroize::Zeroizing;

use crate::Error;

/// The identity as the envelope's payload.
pub fn encode(identity: &Identity) -> Result<Zeroizing<Vec<u8>>, Error> {
    let key = identity.key.to_pkcs8_der().map_err(|e| Error::Roam(format!("the key cannot be encoded: {e}")))?;
    let mut pem = Zeroizing::new(
        der::pem::encode_string("PRIVATE KEY", LineEnding::LF, &key)
            .map_err(|e| Error::Roam(format!("the key cannot be encoded: {e}")))?,
    );
    for certificate in std::iter::once(&identity.certificate).chain(&identity.chain) {
        let text = certificate
            .to_pem(LineEnding::LF)
            .map_err(|e| Error::Roam(format!("the certificate cannot be encoded: {e}")))?;
        pem.push_str(&text);
    }
    Ok(Zeroizing::new(pem.as_bytes().to_vec()))
}

/// The identity from an envelope's payload.
pub fn decode(payload: &[u8]) -> Result<Identity, Error> {
    let bad = |e: String| Error::Roam(format!("the key released by the key server cannot be read: {e}"));
    let text = std::str::from_utf8(payload).map_err(|_| bad("not PEM".into()))?;
    let key = PrivateKey::from_pem(text, None).map_err(|e| bad(e.to_string()))?;
    let mut certificates = load_certificates(payload).map_err(|e| bad(e.to_string()))?.into_iter();
    let certificate = certificates.next().ok_or_else(|| bad("no certificate".into()))?;
    Identity::new(key, certificate, certificates.collect()).map_err(|e| bad(e.to_string()))
}
