//! Keys and recipients' certificates on the own page: the stored keys and certificates
//! listed, `POST /api/keys/import` (a `.p12` upload with its passphrase and the store
//! passphrase, which the first import sets; the store is then unlocked with it) and
//! `POST /api/certs/add` (a recipient's certificate, PEM or DER). Both are
//! `multipart/form-data` and pass the same checks as every state-changing request
//! ([`super::guard`]): same origin, and the per-run token as a field of the form.
//! Passphrases are held in wiping buffers and never logged.

use std::sync::Arc;
use std::time::SystemTime;

use http_body_util::{BodyExt as _, Limited};
use hudsucker::Body;
use hudsucker::hyper::header::CONTENT_TYPE;
use hudsucker::hyper::{Request, Response, StatusCode};
use zeroize::Zeroizing;

use super::OwnOrigin;
use super::guard::{Refusal, check_same_origin, token_matches};
use super::keys::message_page;
use super::router::refused;
use crate::form::Form;
use crate::http::see_home;
use crate::markup::escape;
use crate::store::{CertSummary, StoreError, import_and_unlock, read_pkcs12};

/// Largest upload accepted: PKCS#12 files and certificates are a few kilobytes.
const MAX_UPLOAD: usize = 256 * 1024;

/// The fields of a checked upload, each in a wiping buffer.
struct Upload {
    fields: Vec<(String, Zeroizing<Vec<u8>>)>,
}

impl Upload {
    /// The bytes of field `name` (a file's content, or a value).
    fn take(&mut self, name: &str) -> Option<Zeroizing<Vec<u8>>> {
        let at = self.fields.iter().position(|(n, _)| n == name)?;
        Some(self.fields.swap_remove(at).1)
    }
}

impl OwnOrigin {
    /// The keys and certificates part of the home page: what is stored, and the forms
    /// that add to it.
    pub(super) fn import_section(&self) -> String {
        let store = self.keys.store();
        let keys = store.and_then(|s| s.list().ok()).unwrap_or_default();
        let first = keys.is_empty();
        let key_rows: String = keys.iter().map(|k| summary_row(&k.summary, &k.imported_at)).collect();
        let certs = self.certs.list().unwrap_or_default();
        let cert_rows: String = certs.iter().map(|c| summary_row(&c.summary, &c.record.source)).collect();
        let again = if first {
            "<p>This first import sets the key store passphrase (the one the local CA is sealed under, when it \
             exists): every key is sealed under it.</p>\n\
             <label>Store passphrase again <input type=\"password\" name=\"store_passphrase_again\" \
             autocomplete=\"new-password\" required></label>\n"
        } else {
            ""
        };
        format!(
            r#"<h3>Your keys</h3>
<table><tr><th>address</th><th>subject</th><th>valid</th><th>imported</th></tr>{key_rows}</table>
<form method="post" action="/api/keys/import" enctype="multipart/form-data" id="import-key">
<input type="hidden" name="token" value="{token}">
<label>PKCS#12 file (.p12, .pfx) <input type="file" name="p12" accept=".p12,.pfx" required></label>
<label>Its passphrase <input type="password" name="p12_passphrase" autocomplete="off"></label>
<label>Store passphrase <input type="password" name="store_passphrase" autocomplete="{autocomplete}" required></label>
{again}<button>Import</button>
</form>
<h3>Recipients' certificates</h3>
<table><tr><th>address</th><th>subject</th><th>valid</th><th>from</th></tr>{cert_rows}</table>
<form method="post" action="/api/certs/add" enctype="multipart/form-data" id="add-certificate">
<input type="hidden" name="token" value="{token}">
<label>Certificate (PEM or DER) <input type="file" name="certificate" required></label>
<button>Add</button>
</form>"#,
            token = self.token,
            autocomplete = if first { "new-password" } else { "current-password" },
        )
    }

    /// `POST /api/keys/import`: fields `token`, `p12` (the file), `p12_passphrase` (the
    /// file's), `store_passphrase` and, on the first import, `store_passphrase_again`.
    pub(super) async fn import_key(&self, req: Request<Body>) -> Response<Body> {
        let mut upload = match self.checked_upload(req).await {
            Ok(upload) => upload,
            Err(refusal) => return refusal,
        };
        let (Some(p12), Some(p12_passphrase), Some(store_passphrase)) =
            (upload.take("p12"), upload.take("p12_passphrase"), upload.take("store_passphrase"))
        else {
            return message_page(
                StatusCode::BAD_REQUEST,
                "The form needs the PKCS#12 file, its passphrase and the store passphrase.",
            );
        };
        let again = upload.take("store_passphrase_again");
        drop(upload);
        if let Some(refusal) =
            self.store_passphrase_refusal(&store_passphrase, again.as_ref().map(|a| a.as_slice()), "imported")
        {
            return refusal;
        }
        let (ca, keys) = (Arc::clone(&self.ca), Arc::clone(&self.keys));
        // Argon2id takes memory and time: off the executor.
        let result = tokio::task::spawn_blocking(move || {
            let identity = read_pkcs12(&p12, &p12_passphrase)?;
            import_and_unlock(&ca, &keys, &identity, &store_passphrase)
        })
        .await;
        match result {
            Ok(Ok(imported)) => {
                tracing::info!(fingerprint = %imported.entry.summary.fingerprint, added = imported.added, "key imported from the own page");
                see_home()
            }
            Ok(Err(error)) => {
                tracing::warn!(%error, "key import from the own page refused");
                let (status, message) = match error {
                    StoreError::WrongPkcs12Passphrase => (
                        StatusCode::BAD_REQUEST,
                        "Wrong passphrase for the PKCS#12 file (or the file is damaged). Nothing was imported."
                            .to_owned(),
                    ),
                    StoreError::WrongStorePassphrase => (
                        StatusCode::FORBIDDEN,
                        "Wrong store passphrase (the one that seals the local CA and your keys). Nothing was imported."
                            .to_owned(),
                    ),
                    StoreError::EmptyPassphrase => {
                        (StatusCode::BAD_REQUEST, "The store passphrase must not be empty.".to_owned())
                    }
                    StoreError::Crypto(e) => {
                        (StatusCode::BAD_REQUEST, format!("Not a PKCS#12 file smime-proxy can read: {e}"))
                    }
                    other => (StatusCode::INTERNAL_SERVER_ERROR, format!("The key cannot be imported: {other}")),
                };
                message_page(status, &message)
            }
            Err(_) => message_page(StatusCode::INTERNAL_SERVER_ERROR, "The key cannot be imported."),
        }
    }

    /// The refusal of a form that cannot set or use the store passphrase: this proxy has
    /// no key store, or this is the first key and the passphrase was not typed twice alike.
    /// `nothing` ends the sentence "Nothing was …".
    pub(super) fn store_passphrase_refusal(
        &self,
        passphrase: &[u8],
        again: Option<&[u8]>,
        nothing: &str,
    ) -> Option<Response<Body>> {
        let Some(store) = self.keys.store() else {
            return Some(message_page(StatusCode::CONFLICT, "This proxy runs without a key store."));
        };
        (store.is_empty().unwrap_or(false) && again != Some(passphrase)).then(|| {
            message_page(StatusCode::BAD_REQUEST, &format!("The two store passphrases differ. Nothing was {nothing}."))
        })
    }

    /// `POST /api/certs/add`: fields `token` and `certificate` (a file, PEM or DER; its
    /// first certificate is stored, as `smime-proxy certs add` does).
    pub(super) async fn add_certificate(&self, req: Request<Body>) -> Response<Body> {
        let mut upload = match self.checked_upload(req).await {
            Ok(upload) => upload,
            Err(refusal) => return refusal,
        };
        let Some(file) = upload.take("certificate") else {
            return message_page(StatusCode::BAD_REQUEST, "The form has no certificate file.");
        };
        let added = smime_crypto::load_certificates(&file)
            .map_err(StoreError::from)
            .and_then(|certificates| self.certs.add(&certificates[0], SystemTime::now()));
        match added {
            Ok((entry, added)) => {
                tracing::info!(fingerprint = %entry.summary.fingerprint, added, "certificate added from the own page");
                see_home()
            }
            Err(error) => message_page(StatusCode::BAD_REQUEST, &format!("The certificate was not added: {error}")),
        }
    }

    /// The fields of a `multipart/form-data` upload that passed the same-origin check and
    /// carries the per-run token; otherwise the refusal to send.
    async fn checked_upload(&self, req: Request<Body>) -> Result<Upload, Response<Body>> {
        let (parts, body) = req.into_parts();
        if check_same_origin(&parts.headers, &self.host).is_err() {
            return Err(refused(Refusal::CrossOrigin));
        }
        let Ok(collected) = Limited::new(body, MAX_UPLOAD).collect().await else {
            return Err(message_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "The file is too large for a key or a certificate.",
            ));
        };
        let body = Zeroizing::new(Vec::from(collected.to_bytes()));
        let content_type = parts.headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
        let mut form = Form::parse(content_type, &body);
        let upload = Upload {
            fields: form
                .fields()
                .iter()
                .map(|f| (f.name.clone(), Zeroizing::new(body[f.data.clone()].to_vec())))
                .collect(),
        };
        form.wipe();
        let token_ok = upload
            .fields
            .iter()
            .any(|(n, v)| n == "token" && std::str::from_utf8(v).is_ok_and(|given| token_matches(&self.token, given)));
        if token_ok { Ok(upload) } else { Err(refused(Refusal::BadToken)) }
    }
}

/// One table row: address, subject, validity, and `note` (when imported, where from).
fn summary_row(summary: &CertSummary, note: &str) -> String {
    format!(
        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
        escape(&summary.addresses.join(", ")),
        escape(&summary.subject),
        escape(&summary.validity()),
        escape(note)
    )
}
