//! The command line (a stable contract: tests and users call it). Secrets never come
//! from argv: a prompt on a TTY or a `--passphrase-file`.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// A local intercepting HTTPS proxy that gives any webmail end-to-end S/MIME.
#[derive(Debug, Parser)]
#[command(name = "smime-proxy", version, about)]
pub struct Cli {
    /// Configuration directory (config.toml, local CA, key store).
    #[arg(long, global = true, env = "SMIME_PROXY_HOME", value_name = "DIR")]
    pub config_dir: Option<PathBuf>,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the configuration directory: a documented config.toml and a new local CA
    /// whose private key is sealed under the store passphrase. Existing files are kept.
    Init {
        /// File holding the store passphrase (else asked twice on a terminal). It seals the
        /// CA's key here and every key imported later.
        #[arg(long, value_name = "FILE")]
        store_passphrase_file: Option<PathBuf>,
    },
    /// Run the proxy (works without `init`: the store passphrase given at the first start,
    /// on the terminal, in --store-passphrase-file or on the own page, creates the CA).
    Run(RunArgs),
    /// The local CA.
    #[command(subcommand)]
    Ca(CaCommand),
    /// Run the S/MIME engine on a message file (for scripts and debugging).
    #[command(subcommand)]
    Message(MessageCommand),
    /// The user's private keys: the key store, encrypted at rest.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Recipients' certificates: the certificate store.
    #[command(subcommand)]
    Certs(CertsCommand),
    /// Rewrite rules (one TOML file per webmail).
    #[command(subcommand)]
    Rules(RulesCommand),
    /// Start a browser with a throw-away profile set up for the running proxy.
    ///
    /// The profile goes through the proxy (its PAC file), trusts its CA in the profile's own
    /// NSS database, and opens the first configured webmail (or the proxy's own page). It is
    /// removed when the browser exits.
    Browser(BrowserArgs),
    /// Write the man page or the shell completions into a directory (for packagers).
    #[command(hide = true, subcommand)]
    Generate(GenerateCommand),
}

/// `smime-proxy browser`.
#[derive(Debug, Args)]
pub struct BrowserArgs {
    /// The browser.
    #[arg(value_enum, default_value_t = BrowserKind::Chromium)]
    pub browser: BrowserKind,
    /// The page to open [default: the first site of config.toml, else the proxy's own page].
    #[arg(long, value_name = "URL")]
    pub url: Option<String>,
    /// The browser's program [default: the first of chromium, chromium-browser,
    /// google-chrome (or firefox, firefox-esr) on the PATH].
    #[arg(long, value_name = "PATH")]
    pub program: Option<PathBuf>,
    /// Run the browser without a window.
    #[arg(long)]
    pub headless: bool,
    /// More arguments for the browser, after `--` (e.g. `-- --no-sandbox`).
    #[arg(last = true, value_name = "BROWSER-ARGS")]
    pub browser_args: Vec<String>,
}

/// `smime-proxy browser chromium|firefox`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BrowserKind {
    /// Chromium or Google Chrome.
    Chromium,
    /// Firefox.
    Firefox,
}

/// `smime-proxy generate ...` (hidden: packaging/build-deb.sh calls it).
#[derive(Debug, Subcommand)]
pub enum GenerateCommand {
    /// `smime-proxy.1` and one page per subcommand (`smime-proxy-ca-install.1`, ...).
    Man {
        /// Output directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
    /// `smime-proxy.bash`, `_smime-proxy` (zsh) and `smime-proxy.fish`.
    Completions {
        /// Output directory.
        #[arg(value_name = "DIR")]
        dir: PathBuf,
    },
}

/// `smime-proxy rules ...`
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// Run every rule's fixtures against their golden files; exit non-zero on a failure.
    Test {
        /// Rules directory (NAME.toml + fixtures/NAME/) [default: ./rewrite-rules when it
        /// exists, else the bundled rules and fixtures].
        #[arg(value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Write the golden files from the actual results instead of comparing (also
        /// UPDATE_GOLDEN=1).
        #[arg(long, env = "UPDATE_GOLDEN", value_parser = clap::builder::FalseyValueParser::new())]
        bless: bool,
    },
}

/// `smime-proxy run`: each flag overrides the same key of config.toml.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Loopback address to listen on [default: 127.0.0.1:8080] (key `listen`).
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
    /// Intercept this webmail with this rule, e.g. `mail.example.org=roundcube`; a rule
    /// that sends over SMTP (sogo) also names the site's submission server:
    /// `sogo.example.org=sogo,submission=smtp.example.org:587`; `,encrypted_fields=true`
    /// applies the rule's [[encrypted_fields]] (off by default) (repeatable; replaces the
    /// `[sites]` table).
    #[arg(long = "site", value_name = "HOST[:PORT]=RULE[,submission=HOST:PORT][,encrypted_fields=true]")]
    pub sites: Vec<String>,
    /// Extra trust anchor for upstream TLS, PEM (repeatable; replaces `upstream_ca`).
    #[arg(long = "upstream-ca", value_name = "PEM")]
    pub upstream_ca: Vec<PathBuf>,
    /// Log filter, e.g. `info` or `debug` (RUST_LOG syntax; key `log`) [default: info].
    #[arg(long, value_name = "LEVEL")]
    pub log: Option<String>,
    /// Revocation checking of recipients and signers (key `revocation`): soft (revoked
    /// refuses, unreachable is shown), hard (unreachable refuses too), off [default: soft].
    #[arg(long, value_name = "MODE")]
    pub revocation: Option<String>,
    /// Unlock the key store at start with the passphrase in this file (key
    /// `store_passphrase_file`); otherwise asked on a terminal, or unlock on the own page.
    #[arg(long, value_name = "FILE")]
    pub store_passphrase_file: Option<PathBuf>,
}

/// `smime-proxy keys ...`
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Import a key and its certificate from a PKCS#12 file (OpenSSL 3 default or -legacy)
    /// into the key store, sealed under the store passphrase (set by the first import).
    Import {
        /// The PKCS#12 file (.p12, .pfx).
        #[arg(value_name = "FILE.p12")]
        file: PathBuf,
        /// File holding the PKCS#12 file's passphrase (otherwise asked on a terminal).
        #[arg(long, value_name = "FILE")]
        passphrase_file: Option<PathBuf>,
        /// File holding the key store passphrase (otherwise asked on a terminal).
        #[arg(long, value_name = "FILE")]
        store_passphrase_file: Option<PathBuf>,
    },
    /// List the stored keys: address, subject, issuer, validity, SHA-256 fingerprint.
    List,
    /// Remove a key, named by its SHA-256 fingerprint (or its first 8+ hex digits) or by
    /// its e-mail address.
    Remove {
        /// Fingerprint or e-mail address.
        #[arg(value_name = "FINGERPRINT|EMAIL")]
        key: String,
    },
    /// The roaming key server (config.toml `[keyserver]`): keep the key there, sealed on
    /// this machine, to unlock it on another one.
    #[command(subcommand)]
    Roam(RoamCommand),
}

/// `smime-proxy keys roam ...`
#[derive(Debug, Subcommand)]
pub enum RoamCommand {
    /// Upload a stored key, sealed under a new key-server password, with the one-time
    /// enrolment token the server's operator gave you.
    Register {
        /// The key server (default: `[keyserver] url` of config.toml).
        #[arg(long, value_name = "URL")]
        server: Option<String>,
        /// File holding the enrolment token (`smime-keyserver enrol EMAIL` printed it).
        #[arg(long, value_name = "FILE")]
        token_file: PathBuf,
        /// Which stored key: fingerprint or e-mail address (default: the only one).
        #[arg(long, value_name = "FINGERPRINT|EMAIL")]
        key: Option<String>,
        /// File holding the new key-server password (otherwise asked twice on a terminal).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// File holding the key store passphrase (otherwise asked on a terminal).
        #[arg(long, value_name = "FILE")]
        store_passphrase_file: Option<PathBuf>,
    },
    /// Publish a stored key (a renewed certificate, a new key imported with `keys import`)
    /// as the account's next envelope version: every proxy unlocks it from then on, and a
    /// proxy that has seen it refuses the older one.
    Publish {
        /// Which stored key: fingerprint or e-mail address (default: the only one).
        #[arg(long, value_name = "FINGERPRINT|EMAIL")]
        key: Option<String>,
        /// File holding the key store passphrase (otherwise asked on a terminal).
        #[arg(long, value_name = "FILE")]
        store_passphrase_file: Option<PathBuf>,
        #[command(flatten)]
        login: RoamLogin,
    },
    /// Change the key-server password: the old one stops working at once, the new one
    /// releases the same key. A wrong current password counts as a login attempt.
    Password {
        /// File holding the new key-server password (otherwise asked twice on a terminal).
        #[arg(long, value_name = "FILE")]
        new_password_file: Option<PathBuf>,
        #[command(flatten)]
        login: RoamLogin,
    },
    /// Revoke a device of the account (ids from `status`): its token stops working at once.
    /// A device that already received the key still has it: rotate the certificate too.
    Revoke {
        /// The device's id.
        device_id: String,
        #[command(flatten)]
        login: RoamLogin,
    },
    /// Log in (without releasing the key) and show the account: envelope version,
    /// devices, audit log.
    Status {
        #[command(flatten)]
        login: RoamLogin,
    },
}

/// How `keys roam publish|password|revoke|status` log in.
#[derive(Debug, Args)]
pub struct RoamLogin {
    /// The key server (default: `[keyserver] url` of config.toml).
    #[arg(long, value_name = "URL")]
    pub server: Option<String>,
    /// The account (default: `[keyserver] account`, or the only one registered here).
    #[arg(long, value_name = "EMAIL")]
    pub account: Option<String>,
    /// File holding the (current) key-server password (otherwise asked on a terminal).
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
}

/// `smime-proxy certs ...`
#[derive(Debug, Subcommand)]
pub enum CertsCommand {
    /// Add recipients' certificates (PEM or DER; the first certificate of each file).
    Add {
        /// Certificate files.
        #[arg(value_name = "FILE.pem|der", required = true)]
        files: Vec<PathBuf>,
    },
    /// List the stored certificates and where each came from.
    List,
    /// Show the certificates for an address and whether each can be encrypted to, or
    /// why not (trust anchors, EKU, validity, key usage, address); without a usable one,
    /// what the `[[directories]]` hold (nothing is stored). Exit 0 only when one is usable.
    Lookup {
        /// The recipient's address.
        #[arg(value_name = "EMAIL")]
        email: String,
        /// Validate as of this time instead of now (RFC 3339).
        #[arg(long, value_name = "RFC3339-TIME", value_parser = parse_time)]
        at: Option<std::time::SystemTime>,
    },
    /// Fetch a recipient's certificate from the `[[directories]]` of config.toml (LDAP),
    /// validate it and check its revocation as a send would, and remember it. Exit 0 only
    /// when a usable one was stored.
    Fetch {
        /// The recipient's address.
        #[arg(value_name = "EMAIL")]
        email: String,
    },
    /// Trust anchors for recipients' and signers' certificates (`trust_anchors`).
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Remove a certificate by fingerprint (or its first 8+ hex digits), or every
    /// certificate of an address.
    Remove {
        /// Fingerprint or e-mail address.
        #[arg(value_name = "FINGERPRINT|EMAIL")]
        cert: String,
    },
}

/// `smime-proxy certs trust ...`
#[derive(Debug, Subcommand)]
pub enum TrustCommand {
    /// Trust the CA certificates of these files (PEM or DER) for S/MIME: each is copied
    /// into `<config-dir>/trust/` and used with the `trust_anchors` of config.toml.
    Add {
        /// CA certificate files.
        #[arg(value_name = "FILE.pem|der", required = true)]
        files: Vec<PathBuf>,
    },
    /// List every trust anchor (config.toml's and `trust/`'s) with its fingerprint.
    List,
    /// Stop trusting the anchor in `trust/` with this fingerprint (or its first 8+ hex
    /// digits). Anchors named in config.toml are removed by editing the file.
    Remove {
        /// Fingerprint.
        #[arg(value_name = "FINGERPRINT")]
        fingerprint: String,
    },
}

/// `smime-proxy ca ...`
#[derive(Debug, Subcommand)]
pub enum CaCommand {
    /// Print the local CA certificate to standard output.
    Export {
        /// Output format.
        #[arg(long, value_enum, default_value_t = ExportFormat::Pem)]
        format: ExportFormat,
    },
    /// Trust the local CA in the system store and the browsers' NSS databases.
    ///
    /// The system store needs root (otherwise the command to run is printed); Chromium's
    /// database is ~/.pki/nssdb (created if missing), Firefox's are in each profile. One
    /// line per store; running it again changes nothing. Creates the CA if there is none
    /// (sealed under the store passphrase, chosen then, as `init` does).
    Install {
        #[command(flatten)]
        stores: TrustStoreArgs,
        /// File holding the store passphrase, when the CA is created here (else asked twice
        /// on a terminal).
        #[arg(long, value_name = "FILE")]
        store_passphrase_file: Option<PathBuf>,
    },
    /// Stop trusting the local CA in every store `install` knows.
    Uninstall(TrustStoreArgs),
    /// Tell, per store, whether the local CA is trusted there.
    Status(TrustStoreArgs),
}

/// Where `ca install|uninstall|status` look.
#[derive(Debug, Args)]
pub struct TrustStoreArgs {
    /// The root of the system tree whose store to change (an image being built) [default: /].
    #[arg(long, value_name = "DIR", default_value = "/")]
    pub system_root: PathBuf,
}

/// `ca export --format`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// PEM certificate.
    Pem,
    /// DER certificate (binary).
    Der,
    /// Base64 SHA-256 of the SubjectPublicKeyInfo (Chromium's
    /// `--ignore-certificate-errors-spki-list`).
    #[value(name = "spki-sha256")]
    SpkiSha256,
}

/// `smime-proxy message ...`
#[derive(Debug, Subcommand)]
pub enum MessageCommand {
    /// Sign a message (multipart/signed unless --opaque).
    Sign(MessageArgs),
    /// Encrypt a message to one or more recipients.
    Encrypt(MessageArgs),
    /// Sign, then encrypt.
    SignEncrypt(MessageArgs),
    /// Decrypt a message (and, with --trust, verify an inner signature).
    Decrypt(MessageArgs),
    /// Verify a signed message; exit 0 only for a valid signature.
    Verify(MessageArgs),
    /// Verify a signed form submission (a form body as a site stored it, with the
    /// signature field a rule's [[signed_forms]] added); exit 0 only for a valid
    /// signature. --out writes the canonical form that was signed.
    VerifyForm(VerifyFormArgs),
    /// Verify a signed record of a page (saved with "Save a signed record" on the proxy's
    /// own page; DER, or PEM with the CMS label): prints the page's URL, when it was
    /// received, the signer and the verdict; exit 0 only for a valid signature. --out
    /// writes the page's bytes.
    VerifyPage(MessageArgs),
}

/// Options of `message verify-form`.
#[derive(Debug, Args)]
pub struct VerifyFormArgs {
    /// The body's content type.
    #[arg(long, value_name = "TYPE", default_value = "application/x-www-form-urlencoded")]
    pub content_type: String,
    /// The field holding the signature.
    #[arg(long, value_name = "NAME", default_value = "smime_signature")]
    pub field: String,
    /// --in, --out, --trust, --crl and --at as for the other commands.
    #[command(flatten)]
    pub message: MessageArgs,
}

/// Options shared by the `message` commands; each command says which it needs.
#[derive(Debug, Args)]
pub struct MessageArgs {
    /// Input message (default: standard input).
    #[arg(long = "in", value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// Output file (default: standard output).
    #[arg(long = "out", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Recipient certificate, PEM or DER (repeatable).
    #[arg(long = "recipient", value_name = "CERT.pem")]
    pub recipients: Vec<PathBuf>,
    /// Signer certificate (with --key), PEM or DER.
    #[arg(long, value_name = "CERT.pem")]
    pub signer: Option<PathBuf>,
    /// Private key: PEM (PKCS#8, PKCS#1, SEC1, encrypted PKCS#8) or PKCS#12.
    #[arg(long, value_name = "KEY.pem|KEY.p12", conflicts_with = "from_store")]
    pub key: Option<PathBuf>,
    /// Take the private key and certificate for this address from the key store instead
    /// of --key (needs the store passphrase).
    #[arg(long, value_name = "EMAIL")]
    pub from_store: Option<String>,
    /// File holding the key store passphrase (with --from-store; otherwise asked on a
    /// terminal).
    #[arg(long, value_name = "FILE", requires = "from_store")]
    pub store_passphrase_file: Option<PathBuf>,
    /// Certificate of the decrypting identity (with --key).
    #[arg(long, value_name = "CERT.pem")]
    pub cert: Option<PathBuf>,
    /// File holding the passphrase of an encrypted key or PKCS#12 file.
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Trust anchor, PEM (repeatable).
    #[arg(long = "trust", value_name = "CA.pem")]
    pub trust: Vec<PathBuf>,
    /// Certificate revocation list, PEM or DER (repeatable).
    #[arg(long = "crl", value_name = "CRL.pem")]
    pub crls: Vec<PathBuf>,
    /// Content cipher.
    #[arg(long, value_enum, default_value_t = CipherArg::Aes256Cbc)]
    pub cipher: CipherArg,
    /// Key transport for RSA recipients.
    #[arg(long, value_enum, default_value_t = KeyTransportArg::RsaPkcs1)]
    pub key_transport: KeyTransportArg,
    /// Sign as opaque application/pkcs7-mime signed-data instead of multipart/signed.
    #[arg(long)]
    pub opaque: bool,
    /// Verify as of this time instead of now (RFC 3339, e.g. 2026-01-26T15:00:00Z), to
    /// check an old but correct signature whose certificate has expired since.
    #[arg(long, value_name = "RFC3339-TIME", value_parser = parse_time)]
    pub at: Option<std::time::SystemTime>,
}

/// `--at`: an RFC 3339 date-time with an offset.
fn parse_time(value: &str) -> Result<std::time::SystemTime, String> {
    time::OffsetDateTime::parse(value, &time::format_description::well_known::Rfc3339)
        .map(Into::into)
        .map_err(|e| format!("not an RFC 3339 time such as 2026-01-26T15:00:00Z ({e})"))
}

/// `--cipher`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CipherArg {
    /// AES-128-CBC (EnvelopedData).
    Aes128Cbc,
    /// AES-256-CBC (EnvelopedData).
    Aes256Cbc,
    /// AES-128-GCM (AuthEnvelopedData).
    Aes128Gcm,
    /// AES-256-GCM (AuthEnvelopedData).
    Aes256Gcm,
}

/// `--key-transport`.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KeyTransportArg {
    /// RSAES-PKCS1-v1_5.
    RsaPkcs1,
    /// RSAES-OAEP (SHA-256).
    RsaOaep,
}
