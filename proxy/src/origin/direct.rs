//! The listen address answering as a web server (`http://127.0.0.1:PORT/`): what a browser
//! that is not set up yet can load. The PAC file (so that "automatic proxy configuration"
//! can point here), the CA certificate, and a setup page that finds out, with two probe
//! images, whether this browser already goes through the proxy and trusts its CA, and says
//! the next step. Nothing here changes state: the key store and the settings are only on
//! the own origin's home page. Requests must name the listen address in `Host` (a page
//! that rebinds its DNS name to 127.0.0.1 gets nothing).

use hudsucker::Body;
use hudsucker::hyper::header::{self, HeaderValue};
use hudsucker::hyper::{Method, Request, Response, StatusCode};

use super::OwnOrigin;
use crate::http::{html_response, text_response};
use crate::markup::escape;

/// A 1×1 transparent GIF: the probe the setup page loads through the proxy.
pub(super) const PROBE_GIF: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;";

impl OwnOrigin {
    /// Whether `authority` (`host:port` of a request) names the listen address itself:
    /// its IP, or `localhost`, with its port.
    pub fn is_listen_address(&self, authority: &str) -> bool {
        let (host, port) = crate::rules::split_host_port(authority);
        let loopback_name = host.eq_ignore_ascii_case("localhost") && self.listen.ip().is_loopback();
        port.and_then(|p| p.parse::<u16>().ok()) == Some(self.listen.port())
            && (loopback_name || host.parse().ok() == Some(self.listen.ip()))
    }

    /// Answers a request made to the listen address as a web server.
    pub fn serve_direct(&self, req: &Request<Body>) -> Response<Body> {
        let host = req.headers().get(header::HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
        if !self.is_listen_address(host) {
            tracing::info!("refused a direct request naming another host");
            return text_response(StatusCode::MISDIRECTED_REQUEST, "this address serves only its own name\n");
        }
        let path = req.uri().path();
        tracing::info!(method = %req.method(), path_len = path.len(), "direct request");
        if let Some(res) = self.public_file(req.method(), path) {
            return res;
        }
        match (req.method(), path) {
            (&Method::GET | &Method::HEAD, "/") => {
                let mut res = html_response(StatusCode::OK, self.setup_page());
                // The two probes are the page's only loads; its script is the inline one.
                let csp = format!(
                    "default-src 'none'; style-src 'self'; img-src http://{h} https://{h}; script-src {hash}; \
                     form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
                    h = self.host,
                    hash = script_hash(),
                );
                if let Ok(value) = HeaderValue::from_str(&csp) {
                    res.headers_mut().insert(header::CONTENT_SECURITY_POLICY, value);
                }
                res
            }
            (_, "/") => text_response(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n"),
            _ => text_response(
                StatusCode::NOT_FOUND,
                "not here: the key store and the settings are on the proxy's own page, through the proxy\n",
            ),
        }
    }

    /// The setup page of the listen address.
    fn setup_page(&self) -> String {
        format!(include_str!("setup.html"), listen = self.listen, host = escape(&self.host), script = SETUP_SCRIPT,)
    }
}

/// Loads `http://HOST/probe.gif` (answers only through the proxy) and then
/// `https://HOST/probe.gif` (loads only when the proxy's CA is trusted), and shows the
/// step the result calls for.
const SETUP_SCRIPT: &str = "(function(){var h=document.documentElement.dataset.origin;\
function probe(u,ok,no){var i=new Image();i.onload=ok;i.onerror=no;i.src=u+'?'+Date.now()}\
function show(id){document.getElementById('checking').hidden=true;document.getElementById(id).hidden=false}\
probe('http://'+h+'/probe.gif',function(){probe('https://'+h+'/probe.gif',function(){show('ready')},\
function(){show('no-ca')})},function(){show('no-proxy')})})();";

/// `'sha256-…'` of [`SETUP_SCRIPT`], for the page's Content-Security-Policy.
fn script_hash() -> String {
    use base64::Engine as _;
    use sha2::Digest as _;
    format!("'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(SETUP_SCRIPT)))
}
