//! One form field's value → armored S/MIME: a `text/plain` entity holding the value,
//! signed (`multipart/signed`, with the signer's address as `From` inside, so that the
//! signature is tied to a sender) when the rule asks, then encrypted to the rule's
//! recipients (EnvelopedData), armored with the label `CMS` (RFC 7468). The entity names
//! the site it was made for ([`SITE_FIELD`]): an edit form is filled only with a field of
//! its own site, so that a page cannot have the proxy decrypt other ciphertext (a mail, a
//! field of another site) into a form its scripts read.

use std::sync::Arc;

use smime_crypto::{
    Certificate, EncryptOptions, Identity, Protection, SignOptions, email_addresses, encrypt_data, protect_entity,
};
use zeroize::Zeroizing;

use crate::flows::Services;
use crate::flows::compose::recipients::{Recipient, certificates_for};
use crate::flows::compose::{algorithms_for, no_certificate_message};
use crate::rules::EncryptedFields;

/// The header field of a sealed entity naming the site (`https://host[:port]`) it was
/// made for.
pub(crate) const SITE_FIELD: &str = "X-Smime-Proxy-Site";

/// What the values of one request are sealed with.
#[derive(Debug)]
pub(super) struct Sealer {
    recipients: Vec<Certificate>,
    options: EncryptOptions,
    signer: Option<Arc<Identity>>,
    /// The site's origin, written into each entity.
    site: String,
}

impl Sealer {
    /// The recipients' certificates (the user's own for `to = "self"`, each address's
    /// validated one) and the signer of `entry`; why not, as one sentence, when any is
    /// missing (nothing is sent then).
    pub(super) async fn for_entry(services: &Services, entry: &EncryptedFields, site: &str) -> Result<Self, String> {
        let own = if entry.to_self || entry.sign {
            services.keys.identities().map_err(|e| format!("cannot encrypt this form: {e}."))?
        } else {
            Vec::new()
        };
        let mut recipients: Vec<Recipient> = Vec::new();
        if entry.to_self {
            for identity in &own {
                let address = email_addresses(&identity.certificate).into_iter().next().unwrap_or_default();
                recipients.push(Recipient { address, certificate: identity.certificate.clone(), capabilities: None });
            }
        }
        if !entry.to.is_empty() {
            let addresses: Vec<&str> = entry.to.iter().map(String::as_str).collect();
            let resolved = certificates_for(services.into(), &addresses)
                .await
                .map_err(|e| format!("the certificate store cannot be read: {e}."))?;
            if !resolved.missing.is_empty() {
                return Err(format!("cannot encrypt this form: {}", no_certificate_message(&resolved.missing)));
            }
            recipients.extend(resolved.recipients);
        }
        if recipients.is_empty() {
            return Err("cannot encrypt this form: the key store holds no certificate of yours.".into());
        }
        let options = algorithms_for(&recipients).options;
        Ok(Self {
            recipients: recipients.into_iter().map(|r| r.certificate).collect(),
            options,
            signer: if entry.sign { own.into_iter().next() } else { None },
            site: site.to_owned(),
        })
    }

    /// `value` sealed and armored (blocking: signing and encrypting).
    pub(super) fn seal(&self, value: &str) -> Result<String, String> {
        let mut entity = Zeroizing::new(Vec::with_capacity(value.len() + 128));
        if let Some(signer) = &self.signer {
            let from = email_addresses(&signer.certificate).into_iter().next().unwrap_or_default();
            entity.extend_from_slice(format!("From: <{from}>\r\n").as_bytes());
        }
        entity.extend_from_slice(format!("{SITE_FIELD}: {}\r\n", self.site).as_bytes());
        entity.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n");
        entity.extend_from_slice(value.as_bytes());
        let content = match &self.signer {
            Some(signer) => {
                let options = SignOptions::default();
                let protection = Protection { sign: Some((signer, &options)), encrypt: None, opaque: false };
                let signed =
                    protect_entity(Vec::new(), entity, &protection).map_err(|e| format!("signing failed: {e}."))?;
                Zeroizing::new(signed.to_vec())
            }
            None => entity,
        };
        let der =
            encrypt_data(&content, &self.recipients, &self.options).map_err(|e| format!("encryption failed: {e}."))?;
        Ok(smime_crypto::armor::armor(&der))
    }
}
