//! HTML rewriting with lol_html: pure functions from page bytes to page bytes, no I/O.
//! The charset decides whether a page can be rewritten at all ([`PageCharset`]);
//! [`controls`] renders a rule's S/MIME controls, [`insert`] places markup.

mod charset;
mod controls;
mod html;

pub use charset::{PageCharset, is_html};
pub use controls::{ControlsState, controls};
pub use html::{Insert, RewriteError, insert};
