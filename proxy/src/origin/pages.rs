//! The home page (like mitmproxy's mitm.it) and its stylesheet.

use super::OwnOrigin;
use crate::markup::escape;

/// The stylesheet (served as `/style.css`: the CSP allows no inline style).
pub(super) const STYLE_CSS: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:46em;margin:2em auto;padding:0 1em;color:#222}\
code,pre{background:#f3f3f3;padding:.1em .3em}pre{padding:.6em;overflow-x:auto}\
table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}\
.button{display:inline-block;padding:.4em 1em;border:1px solid #246;border-radius:4px;text-decoration:none}";

impl OwnOrigin {
    /// The home page. It embeds the per-run token in the settings form: only pages of
    /// this origin can read it.
    pub(super) fn home_page(&self) -> String {
        let sites = if self.sites.iter().next().is_none() {
            "<tr><td colspan=2>none yet: add <code>--site HOST=roundcube</code> or a <code>[sites]</code> entry</td></tr>".to_owned()
        } else {
            self.sites
                .iter()
                .map(|s| {
                    format!(
                        "<tr><td><code>{}</code></td><td>{}</td></tr>",
                        escape(&s.authority()),
                        escape(&s.rule.name)
                    )
                })
                .collect()
        };
        let root = self.ca.root();
        let rewriting = self.settings.rewriting();
        let (state, action, value) =
            if rewriting { ("on", "Pause rewriting", "off") } else { ("paused", "Resume rewriting", "on") };
        format!(
            r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>smime-proxy</title>
<meta name="viewport" content="width=device-width">
<link rel="stylesheet" href="/style.css"></head>
<body>
<h1>smime-proxy</h1>
<p>Your local S/MIME proxy is running. To use it, the browser must trust its local CA and send the
webmail through it.</p>

<h2>1. Download the local CA</h2>
<p><a class="button" href="/ca.pem" download>CA certificate (PEM)</a>
<a class="button" href="/ca.der" download>CA certificate (DER)</a></p>
<p>Certificate: <code>{cn}</code><br>SPKI SHA-256: <code>{spki}</code></p>
<p>This CA is unique to this machine. Its key is sealed under your store passphrase
(<code>ca-key.sealed</code>): a copy of the configuration directory signs nothing. While the
proxy runs, only an intermediate CA held in memory signs, and its name constraints limit it
to the sites listed below and this page, for a few days.</p>

<h2>2. Trust it</h2>
<p>On this machine, <code>smime-proxy ca install</code> does all of the below that applies
(the system store, Chromium's and every Firefox profile's certificate database); then restart
the browser. Or by hand:</p>
<h3>Firefox</h3>
<p>Settings → Privacy &amp; Security → Certificates → View Certificates → Authorities →
Import, choose <code>ca.pem</code>, tick “Trust this CA to identify websites”.</p>
<h3>Chromium, Chrome, Edge</h3>
<p>Settings → Privacy and security → Security → Manage certificates → Authorities → Import
(on Linux). On macOS and Windows they use the system store (below). For a throw-away
profile: <code>--ignore-certificate-errors-spki-list={spki}</code>.</p>
<h3>Debian, Ubuntu</h3>
<pre>sudo cp ca.pem /usr/local/share/ca-certificates/smime-proxy.crt
sudo update-ca-certificates</pre>
<h3>macOS</h3>
<pre>sudo security add-trusted-cert -d -r trustRoot -k /Library/Keychains/System.keychain ca.pem</pre>
<h3>Windows</h3>
<pre>certutil -addstore -user Root ca.der</pre>

<h2>3. Send the webmail through the proxy</h2>
<p>Either set the automatic proxy configuration URL to
<code>http://{listen}/proxy.pac</code> (it sends only the sites below and this page through
the proxy; the address answers without any proxy settings), or set an HTTP and HTTPS proxy
of <code>{listen}</code> for the browser.</p>

<h2>Status</h2>
<table>
<tr><th>version</th><td>{version}</td></tr>
<tr><th>listening on</th><td><code>{listen}</code></td></tr>
<tr><th>rewriting</th><td>{state}</td></tr>
</table>
{keys}
{import}
<h3>Intercepted sites</h3>
<table><tr><th>site</th><th>rule</th></tr>{sites}</table>
<p>Every other site is tunnelled untouched: the browser sees its real certificate.</p>
{records}
<form method="post" action="/api/rewriting">
<input type="hidden" name="token" value="{token}">
<button name="enabled" value="{value}">{action}</button>
</form>
</body></html>
"#,
            cn = root.as_ref().map_or_else(|| "(not created yet)".to_owned(), |r| escape(r.common_name())),
            spki = root.as_ref().map_or_else(String::new, |r| escape(&r.spki_sha256())),
            listen = self.listen,
            version = env!("CARGO_PKG_VERSION"),
            token = self.token,
            keys = self.keys_section() + &self.roam_section(),
            import = self.import_section(),
            records = self.records_section(),
        )
    }
}
