//! Load client for bench/keyserver-load.sh: registers the enrolled users, then runs
//! logins with key release against one or more replicas and prints logins/s and latency
//! percentiles, and, measured apart, the client's own OPAQUE + Argon2id time per login.
//!
//! Usage: keyserver_load CA.pem SERVER_KEY_B64 TOKENS_FILE LOGINS CONCURRENCY URL [URL...]
//! TOKENS_FILE has one `EMAIL TOKEN` line per enrolled user.
#![allow(clippy::unwrap_used, reason = "a benchmark tool: a failure ends the run")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject as _;
use smime_keyserver::client::KeyServer;
use smime_keyserver::opaque::{PendingLogin, PendingRegistration, ServerKeys, registration_record};

const PASSWORD: &[u8] = b"bench password, not a secret";

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    assert!(args.len() >= 6, "usage: keyserver_load CA.pem SERVER_KEY_B64 TOKENS_FILE LOGINS CONCURRENCY URL [URL...]");
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&args[0]).unwrap() {
        roots.add(cert.unwrap()).unwrap();
    }
    let tls = Arc::new(
        rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let key = base64::engine::general_purpose::STANDARD.decode(&args[1]).unwrap();
    let users: Vec<(String, String)> = std::fs::read_to_string(&args[2])
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once(' ').map(|(e, t)| (e.to_owned(), t.to_owned())))
        .collect();
    let logins: usize = args[3].parse().unwrap();
    let concurrency: usize = args[4].parse().unwrap();
    let servers: Vec<KeyServer> =
        args[5..].iter().map(|u| KeyServer::new(u, Arc::clone(&tls), key.clone()).unwrap()).collect();

    for (i, (_, token)) in users.iter().enumerate() {
        servers[i % servers.len()].register(token, PASSWORD, b"bench key material", "bench").await.unwrap();
    }

    let users = Arc::new(users);
    let servers = Arc::new(servers);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (users, servers, next) = (Arc::clone(&users), Arc::clone(&servers), Arc::clone(&next));
        tasks.push(tokio::spawn(async move {
            let mut times = Vec::new();
            loop {
                let n = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if n >= logins {
                    return times;
                }
                let (email, _) = &users[n % users.len()];
                let t = Instant::now();
                let done = servers[n % servers.len()].login(email, PASSWORD, "bench", 0, true).await.unwrap();
                assert!(done.payload.is_some());
                times.push(t.elapsed());
            }
        }));
    }
    let mut times: Vec<Duration> = Vec::new();
    for task in tasks {
        times.extend(task.await.unwrap());
    }
    let wall = started.elapsed();
    times.sort();
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize].as_secs_f64() * 1000.0;

    // The client's own share, without any server: OPAQUE's client steps (Argon2id) in process.
    let keys = ServerKeys::generate();
    let (pending, request) = PendingRegistration::start(PASSWORD).unwrap();
    let response = keys.registration_response(&request, b"bench").unwrap();
    let record = registration_record(&pending.finish(PASSWORD, &response).unwrap().message).unwrap();
    let mut client = Vec::new();
    for _ in 0..3 {
        let (pending, ke1) = PendingLogin::start(PASSWORD).unwrap();
        let (ke2, _) = keys.start_login(Some(&record), &ke1, b"bench").unwrap();
        let t = Instant::now();
        pending.finish(PASSWORD, &ke2).unwrap();
        client.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    client.sort_by(f64::total_cmp);
    println!(
        "logins={} concurrency={concurrency} replicas={} logins_per_s={:.1} p50_ms={:.1} p99_ms={:.1} client_argon2id_ms={:.1}",
        times.len(),
        servers.len(),
        times.len() as f64 / wall.as_secs_f64(),
        pct(0.5),
        pct(0.99),
        client[1],
    );
}
