//! The MITM core on hudsucker: the listener and builder ([`start`]), the one
//! `HttpHandler` that only dispatches (`handler`), verified upstream TLS (`upstream`),
//! page rewriting of intercepted HTML (`page`) and the upstream error page (`error_page`).

mod error_page;
mod handler;
mod page;
mod server;
mod upstream;

pub use server::{RunningProxy, start, start_with_keys};
pub use upstream::client_config;
pub(crate) use upstream::{FetchError, Fetched, UpstreamClient, session_headers, web_origin};
