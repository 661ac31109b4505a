//! HTTP pieces every other module builds on: responses of the proxy's own making with
//! their security headers (`response`), the verified upstream client for the proxy's own
//! requests (`upstream`), the content codings it can decode (`content_coding`), what a
//! Content-Type says (`content_type`), direct plain-HTTP fetches of public PKI data (`plain`),
//! and the page shown when an upstream cannot be reached (`error_page`). Depends on nothing of the
//! proxy but markup escaping.

mod content_coding;
mod content_type;
mod error_page;
mod plain;
mod response;
mod upstream;

pub(crate) use content_coding::decoded;
pub(crate) use content_type::is_smime;
pub(crate) use error_page::{bad_gateway, gateway_timeout, root_cause};
pub(crate) use plain::PlainClient;
pub(crate) use response::{download, html_response, respond, see_home, text_response};
pub use upstream::client_config;
pub(crate) use upstream::{FetchError, Fetched, UpstreamClient, session_headers, web_origin};
