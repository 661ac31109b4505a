//! The proxy auto-configuration file: only the intercepted sites and the own origin go
//! through the proxy; everything else is DIRECT.

use super::OwnOrigin;

impl OwnOrigin {
    /// The PAC script (JavaScript, as browsers expect).
    pub(super) fn pac(&self) -> String {
        let mut hosts: Vec<&str> =
            std::iter::once(self.host.as_str()).chain(self.sites.iter().map(|s| s.host.as_str())).collect();
        hosts.dedup();
        let list = hosts.iter().map(|h| format!("\"{h}\"")).collect::<Vec<_>>().join(", ");
        format!(
            "// smime-proxy: send the webmail sites and the proxy's own pages through the proxy.\n\
             function FindProxyForURL(url, host) {{\n\
             \x20 var hosts = [{list}];\n\
             \x20 host = host.toLowerCase();\n\
             \x20 for (var i = 0; i < hosts.length; i++) {{\n\
             \x20   if (host == hosts[i]) return \"PROXY {listen}\";\n\
             \x20 }}\n\
             \x20 return \"DIRECT\";\n\
             }}\n",
            listen = self.listen,
        )
    }
}
