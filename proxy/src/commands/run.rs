//! `smime-proxy run`: load the configuration, load (or create) the CA, start the proxy,
//! stop on Ctrl-C.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context as _;
use smime_ca::CaFiles;
use smime_proxy::{Config, Overrides};
use tracing_subscriber::EnvFilter;

use super::home::ca_label;
use crate::cli::RunArgs;

/// Runs the proxy with configuration from `dir`.
pub fn run(dir: &Path, args: RunArgs) -> anyhow::Result<ExitCode> {
    let overrides = Overrides { listen: args.listen, sites: args.sites, upstream_ca: args.upstream_ca, log: args.log };
    let config = Config::load(dir, &overrides)?;
    init_logging(config.log.as_deref())?;

    let files = CaFiles::new(dir);
    let outcome = files.load_or_create(&ca_label())?;
    if outcome.created {
        eprintln!(
            "created a new local CA \"{}\" in {} (private key readable by you only); \
             trust it from http://{}/ through the proxy",
            outcome.ca.common_name(),
            files.cert_path().display(),
            config.origin
        );
    }
    let ca = Arc::new(outcome.ca);

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let proxy = smime_proxy::start(&config, ca).await?;
        eprintln!("smime-proxy listening on {} (own pages: http://{}/)", proxy.local_addr(), config.origin);
        tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
        tracing::info!("stopping");
        proxy.shutdown().await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// `--log`/`log` wins over `RUST_LOG`, default `info`. hudsucker's own spans carry full
/// request URIs (query strings may hold tokens), so it is held at `warn` unless the filter
/// names it explicitly.
fn init_logging(configured: Option<&str>) -> anyhow::Result<()> {
    let mut filter = configured
        .map(str::to_owned)
        .or_else(|| std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "info".to_owned());
    if !filter.contains("hudsucker") {
        filter.push_str(",hudsucker=warn");
    }
    let filter = EnvFilter::try_new(&filter).with_context(|| format!("invalid log filter `{filter}`"))?;
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    Ok(())
}
