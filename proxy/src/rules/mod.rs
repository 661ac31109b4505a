//! Rules: what the proxy does for one webmail. For now a rule is a name (chosen per site
//! with `--site HOST=RULE`) and the HTML it injects; the later rule engine adds TOML rule
//! files, selectors and compose/read flows behind the same [`Rule`] type.

mod bundled;
mod sites;

pub use bundled::{Rule, bundled, bundled_names};
pub use sites::{Site, SiteTable, parse_host_port, split_host_port, valid_host};
