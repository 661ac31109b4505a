//! Rules: what the proxy knows about one webmail, loaded from TOML rule files
//! (`rewrite-rules/`, documented in its README). [`parse_rule`] and [`RuleSet`] turn files into valid
//! [`Rule`]; [`match_request`] says which page or compose request a request is;
//! [`classify`] reads a compose request's body. Rules are data: they
//! depend on nothing of the proxy but the form decoders.

mod bundled;
mod classify;
mod json_path;
mod load;
mod matcher;
mod pattern;
mod rule;
mod sites;

pub(crate) use bundled::BUNDLED_FIXTURES;
pub use classify::{Classified, ComposeFields, ComposeRequest, SmimeChoice, Upload, classify};
pub use json_path::JsonPath;
pub use load::{RuleSet, load_dir, parse_rule};
pub use matcher::{
    Head, Match, Query, encrypted_fields_for, essence, match_request, shows_encrypted_fields, signed_forms_for,
};
pub use pattern::{Captures, PathPattern, Segment, ValuePattern, Wildcard};
pub use rule::{
    AnswerKind, AnswerPage, CONTROL_PREFIX, CONTROLS_FIELD, ComposeKind, Controls, Csrf, DeliveryRoute, ENCRYPT_FIELD,
    EncryptedFields, Fields, Insertion, JsonView, LoginRequest, PageMatch, Position, RequestRule, Rule, SIGN_FIELD,
    SignedForm, UrlTemplate, ViewBody, ViewPage,
};
pub use sites::{Site, SiteTable, parse_host_port, split_host_port, valid_host};
