//! HTML rewriting with lol_html: pure functions from page bytes to page bytes, no I/O.
//! The charset decides whether a page can be rewritten at all ([`PageCharset`]);
//! [`controls`] renders a rule's S/MIME controls, [`insert`] places markup,
//! [`replace_content`] swaps an element's content (the read view).

mod charset;
mod controls;
mod html;
mod replace;

pub use charset::{PageCharset, is_html};
pub use controls::{ControlsState, controls};
pub use html::{Insert, RewriteError, insert};
pub use replace::replace_content;
