//! Rules: what the proxy knows about one webmail, loaded from TOML rule files
//! (`rewrite-rules/`, documented in its README). [`parse_rule`] and [`RuleSet`] turn files into valid
//! [`Rule`]; [`match_request`] says which page or compose request a request is;
//! [`classify`] reads a compose request's body; [`check_rules`] runs the rules' fixtures
//! (`smime-proxy rules test`).

mod bundled;
mod check;
mod classify;
mod diff;
mod load;
mod matcher;
mod pattern;
mod rule;
mod sites;

pub use check::{CheckReport, FixtureSource, check_rules, default_dir};
pub use classify::{Classified, ComposeFields, ComposeRequest, Head, SmimeChoice, Upload, classify};
pub use load::{RuleSet, load_dir, parse_rule};
pub use matcher::{Match, Query, match_request};
pub use pattern::{PathPattern, ValuePattern};
pub use rule::{
    CONTROL_PREFIX, ComposeKind, Controls, Csrf, ENCRYPT_FIELD, Fields, Insertion, PageMatch, Position, RequestRule,
    Rule, SIGN_FIELD, UrlTemplate, ViewPage,
};
pub use sites::{Site, SiteTable, parse_host_port, split_host_port, valid_host};
