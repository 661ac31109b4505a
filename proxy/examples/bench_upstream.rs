//! Benchmark upstream for `bench/proxy-load.sh`: an HTTPS server on 127.0.0.1 that
//! answers every request with the same HTML page of about PAGE_BYTES, on keep-alive
//! connections: an inbox-like table, or the given page (e.g. Roundcube's captured compose
//! page) grown to that size with message rows before `</body>`. Its certificate (for
//! `localhost`) comes from a CA made at start and written to the given file.
//!
//! Usage: `bench_upstream PORT CA_PEM_OUT [PAGE_BYTES [PAGE_FILE]]`

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Response;
use hyper_util::rt::TokioIo;
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().unwrap_or_else(|| "9443".into()).parse()?;
    let ca_out = args.next().unwrap_or_else(|| "bench-upstream-ca.pem".into());
    let size: usize = args.next().unwrap_or_else(|| "102400".into()).parse()?;
    let template = match args.next() {
        Some(path) => std::fs::read_to_string(&path).map_err(|e| anyhow::anyhow!("{path}: {e}"))?,
        None => "<!doctype html><html><head><meta charset=\"utf-8\"><title>Inbox</title></head><body></body></html>\n"
            .to_owned(),
    };

    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name.push(DnType::CommonName, "bench upstream CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca_params.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca_params, ca_key);
    let leaf_key = KeyPair::generate()?;
    let leaf = CertificateParams::new(vec!["localhost".to_owned()])?.signed_by(&leaf_key, &issuer)?;
    std::fs::write(&ca_out, ca_cert.pem())?;

    let key = PrivateKeyDer::from(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let mut config =
        rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der().clone(), ca_cert.der().clone()], key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));

    let page = Bytes::from(make_page(&template, size));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    eprintln!("bench upstream on https://localhost:{port}/ ({} byte page)", page.len());
    loop {
        let (tcp, _) = listener.accept().await?;
        tcp.set_nodelay(true)?;
        let acceptor = acceptor.clone();
        let page = page.clone();
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else { return };
            let service = hyper::service::service_fn(move |_req| {
                let page = page.clone();
                async move { Response::builder().header("content-type", "text/html; charset=utf-8").body(Full::new(page)) }
            });
            let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), service).await;
        });
    }
}

/// `template` with a table of message rows before its `</body>`, about `size` bytes in all.
fn make_page(template: &str, size: usize) -> Vec<u8> {
    let at = template.rfind("</body>").unwrap_or(template.len());
    let mut rows = String::from("<table>\n");
    let mut i = 0;
    while template.len() + rows.len() + 40 < size {
        rows.push_str(&format!(
            "<tr><td><a href=\"/?_uid={i}\">Message {i}</a></td><td>alice@example.org</td><td>2026-11-24</td></tr>\n"
        ));
        i += 1;
    }
    rows.push_str("</table>\n");
    format!("{}{rows}{}", &template[..at], &template[at..]).into_bytes()
}
