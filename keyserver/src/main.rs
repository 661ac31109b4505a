//! `smime-keyserver`: the roaming key server's command line.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use clap::{Parser, Subcommand};
use smime_keyserver::server::{self, App, GuessLimit, ServerSecrets, Store};

/// The roaming key server of smime-proxy: OPAQUE logins; keys sealed on the device.
#[derive(Debug, Parser)]
#[command(name = "smime-keyserver", version)]
struct Cli {
    /// The data directory: the SQLite database and, by default, the secrets file.
    #[arg(long, env = "SMIME_KEYSERVER_HOME", global = true)]
    data_dir: Option<PathBuf>,
    /// The server secrets file (default: DATA_DIR/server-secrets.json). Every replica
    /// needs the same one; it never goes into the database.
    #[arg(long, env = "SMIME_KEYSERVER_SECRETS", global = true)]
    secrets_file: Option<PathBuf>,
    /// `postgres://…` to use PostgreSQL (default: SQLite in the data directory). Put a
    /// password in the environment variable, not on the command line.
    #[arg(long, env = "SMIME_KEYSERVER_DATABASE", global = true)]
    database: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the server secrets (0600) and print the OPAQUE public key clients pin.
    Init,
    /// Print a one-time enrolment token for EMAIL (there is no open registration).
    Enrol {
        /// The user's e-mail address.
        email: String,
        /// Days the token stays valid.
        #[arg(long, default_value_t = 7)]
        valid_days: u32,
    },
    /// Serve the API over TLS.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8443")]
        listen: SocketAddr,
        /// The TLS certificate chain (PEM).
        #[arg(long)]
        tls_cert: PathBuf,
        /// The TLS private key (PEM).
        #[arg(long)]
        tls_key: PathBuf,
        /// Login starts allowed per account name per window.
        #[arg(long, default_value_t = GuessLimit::default().starts)]
        guess_limit: i64,
        /// The guess-limit window, in seconds; after a window in which the limit was
        /// reached, the next is twice as long (up to 64 times this), until a login succeeds.
        #[arg(long, default_value_t = GuessLimit::default().window_secs)]
        guess_window_secs: i64,
    },
}

impl Cli {
    fn data_dir(&self) -> Result<PathBuf, String> {
        if let Some(dir) = &self.data_dir {
            return Ok(dir.clone());
        }
        let base = std::env::var_os("XDG_DATA_HOME")
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .ok_or("no data directory: pass --data-dir or set SMIME_KEYSERVER_HOME")?;
        Ok(base.join("smime-keyserver"))
    }

    fn secrets_path(&self) -> Result<PathBuf, String> {
        match &self.secrets_file {
            Some(path) => Ok(path.clone()),
            None => Ok(self.data_dir()?.join("server-secrets.json")),
        }
    }

    async fn store(&self) -> Result<Store, String> {
        let url = match &self.database {
            Some(url) => url.clone(),
            None => {
                let dir = self.data_dir()?;
                std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
                format!("sqlite://{}?mode=rwc", dir.join("keyserver.sqlite").display())
            }
        };
        Store::connect(&url).await.map_err(|e| e.to_string())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smime-keyserver: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    match &cli.command {
        Command::Init => {
            let path = cli.secrets_path()?;
            if let Some(dir) = path.parent() {
                std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            let secrets = ServerSecrets::create(&path)?;
            eprintln!(
                "Wrote the server secrets to {} (mode 0600); back it up apart from the database.",
                path.display()
            );
            eprintln!("Clients pin this OPAQUE public key (config.toml, [keyserver] server_key):");
            println!("{}", STANDARD.encode(secrets.opaque.public_key()));
            Ok(())
        }
        Command::Enrol { email, valid_days } => {
            let store = cli.store().await?;
            let token = server::enrol(&store, email, *valid_days).await?;
            eprintln!("One-time enrolment token for {email}, valid {valid_days} days (give it to the user privately):");
            println!("{token}");
            Ok(())
        }
        Command::Serve { listen, tls_cert, tls_key, guess_limit, guess_window_secs } => {
            if *guess_limit < 1 || *guess_window_secs < 1 {
                return Err("--guess-limit and --guess-window-secs must be at least 1".into());
            }
            let secrets = ServerSecrets::load(&cli.secrets_path()?)?;
            let tls = server::server_config(tls_cert, tls_key)?;
            let store = cli.store().await?;
            let listener =
                tokio::net::TcpListener::bind(listen).await.map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            let public_key = STANDARD.encode(secrets.opaque.public_key());
            let limit = GuessLimit { starts: *guess_limit, window_secs: *guess_window_secs };
            let app = Arc::new(App { store, secrets, limit });
            tracing::info!(%listen, server_key = %public_key, "smime-keyserver serving");
            let shutdown = async {
                let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(term) => term,
                    Err(_) => return std::future::pending().await,
                };
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            };
            server::serve(listener, tls, app, shutdown).await;
            Ok(())
        }
    }
}
